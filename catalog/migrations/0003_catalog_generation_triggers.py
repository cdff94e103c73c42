"""Any change to what posting checks of products, locations and warehouses moves the ``catalog``
generation on, so every process drops the catalog facts it remembers within a second
(``common.generations``), whatever made the change."""
from django.db import migrations

from common import triggers

TABLES = {
    "catalog_product": ("sku", "is_active"),
    "catalog_location": ("code", "is_active", "warehouse_id"),
    "catalog_warehouse": ("code", "is_active"),
}


def create(apps, schema_editor):
    for table, columns in TABLES.items():
        for statement in triggers.create(schema_editor.connection.vendor, table, "catalog", update_of=columns):
            schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    for table in TABLES:
        for statement in triggers.drop(schema_editor.connection.vendor, table, "catalog"):
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_manager_permissions"), ("common", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
