"""A trigram index for the order list's search by recipient on PostgreSQL.

The list finds the recipient anywhere in the name (`icontains`, which PostgreSQL runs as
`UPPER(recipient_name::text) LIKE UPPER('%q%')`). Without an index on that expression a
search reads every order of the distributor; with it the search's arms are all index
conditions and PostgreSQL ORs their answers (orders/selectors.py, `_search`). SQLite
(development) has no such index type and keeps scanning, which is fine at its sizes.
"""

from django.db import migrations

NAME = "orders_order_recipient_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+), created by catalog's migration 0002 too.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "orders_order" USING gin ((UPPER("recipient_name"::text)) gin_trgm_ops)'
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("orders", "0011_paid_quote"), ("catalog", "0002_trigram_search_indexes")]

    operations = [migrations.RunPython(create, drop)]
