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


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_manager_permissions"), ("common", "0001_initial")]
    operations = [triggers.generation_triggers("catalog", TABLES)]
