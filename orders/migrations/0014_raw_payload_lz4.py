"""Platform orders' raw payloads compressed with lz4 on PostgreSQL (when the server has it).

A Shopify order's payload is about 3 KB of JSON, over PostgreSQL's 2 KB threshold, so
every pulled order is compressed on the way in; the default method (pglz) made that a
large part of writing a page of orders. lz4 compresses such payloads several times
faster. Only rows written afterwards are compressed with it;
reading is the same either way. A server built without lz4 keeps pglz.
"""

from django.db import migrations


def _has_lz4(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    return bool(row and row[0])


def use_lz4(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql" and _has_lz4(schema_editor):
        schema_editor.execute('ALTER TABLE "orders_platformorder" ALTER COLUMN "raw" SET COMPRESSION lz4')


def use_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "orders_platformorder" ALTER COLUMN "raw" SET COMPRESSION default')


class Migration(migrations.Migration):
    dependencies = [("orders", "0013_status_counts")]

    operations = [migrations.RunPython(use_lz4, use_default, elidable=False)]
