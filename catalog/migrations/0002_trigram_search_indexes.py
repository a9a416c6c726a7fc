"""Trigram indexes for the catalog search on PostgreSQL.

The portal searches product name, code and brand and the Item ID with `icontains`,
which PostgreSQL runs as `UPPER(col::text) LIKE UPPER('%q%')`: a sequential scan
unless a trigram index on that very expression exists. SQLite (development) has no
such index type and keeps scanning, which is fine at demo sizes.
"""

from django.db import migrations

INDEXES = [
    ("catalog_product_name_trgm", "catalog_product", "name"),
    ("catalog_product_code_trgm", "catalog_product", "code"),
    ("catalog_product_brand_trgm", "catalog_product", "brand"),
    ("catalog_item_item_id_trgm", "catalog_item", "item_id"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
