"""Database triggers that keep catalog changes from rewriting the ledger's history.

Once a movement refers to a product, its unit is frozen (a new unit would rescale every quantity
in its history); once a movement refers to a location, as ``location`` or ``to_location``, its
warehouse is frozen (a new warehouse would relocate its history). Setting the same value again is
no change. The triggers refuse the change whoever asks (the ORM, ``QuerySet.update()``, raw SQL,
the shell); the API and admin check first and answer with a clear refusal (``catalog/services.py``).
Each check is an indexed probe: the movement indexes lead with ``product_id``, ``location_id`` and
``to_location_id``.

They live here, not in the catalog's migrations, because the ledger depends on the catalog and
not the reverse. The refusal is an integrity error on both databases (PostgreSQL SQLSTATE 23001
``restrict_violation``, SQLite ``RAISE(ABORT)``), with a message naming the frozen column.

On SQLite, a migration that rebuilds ``catalog_product`` or ``catalog_location`` (most field and
constraint changes do) drops their triggers with the old table, and one that rebuilds
``ledger_movement`` fails while these triggers refer to it: such a migration must drop these
triggers first (``SQLITE_DROP``) and create them again after (``SQLITE_CREATE``).
"""
from django.db import migrations

from common.triggers import by_vendor

POSTGRES_CREATE = """
CREATE FUNCTION catalog_product_refuse_unit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_movement WHERE product_id = OLD.id) THEN
        RAISE EXCEPTION 'catalog_product.unit is frozen for product %: movements in the ledger refer to it, and a new unit would rescale its history', OLD.sku
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER catalog_product_unit_frozen
    BEFORE UPDATE OF unit ON catalog_product
    FOR EACH ROW WHEN (OLD.unit IS DISTINCT FROM NEW.unit)
    EXECUTE FUNCTION catalog_product_refuse_unit_change();

CREATE FUNCTION catalog_location_refuse_warehouse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_movement WHERE location_id = OLD.id)
       OR EXISTS (SELECT 1 FROM ledger_movement WHERE to_location_id = OLD.id) THEN
        RAISE EXCEPTION 'catalog_location.warehouse_id is frozen for location % (id %): movements in the ledger refer to it, and a new warehouse would relocate its history', OLD.code, OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER catalog_location_warehouse_frozen
    BEFORE UPDATE OF warehouse_id ON catalog_location
    FOR EACH ROW WHEN (OLD.warehouse_id IS DISTINCT FROM NEW.warehouse_id)
    EXECUTE FUNCTION catalog_location_refuse_warehouse_change();
"""
POSTGRES_DROP = """
DROP TRIGGER catalog_location_warehouse_frozen ON catalog_location;
DROP FUNCTION catalog_location_refuse_warehouse_change();
DROP TRIGGER catalog_product_unit_frozen ON catalog_product;
DROP FUNCTION catalog_product_refuse_unit_change();
"""
SQLITE_CREATE = [
    """CREATE TRIGGER catalog_product_unit_frozen BEFORE UPDATE OF unit ON catalog_product
       FOR EACH ROW WHEN OLD.unit IS NOT NEW.unit
            AND EXISTS (SELECT 1 FROM ledger_movement WHERE product_id = OLD.id)
       BEGIN SELECT RAISE(ABORT, 'catalog_product.unit is frozen: movements in the ledger refer to this product, and a new unit would rescale its history'); END""",
    """CREATE TRIGGER catalog_location_warehouse_frozen BEFORE UPDATE OF warehouse_id ON catalog_location
       FOR EACH ROW WHEN OLD.warehouse_id IS NOT NEW.warehouse_id
            AND (EXISTS (SELECT 1 FROM ledger_movement WHERE location_id = OLD.id)
                 OR EXISTS (SELECT 1 FROM ledger_movement WHERE to_location_id = OLD.id))
       BEGIN SELECT RAISE(ABORT, 'catalog_location.warehouse_id is frozen: movements in the ledger refer to this location, and a new warehouse would relocate its history'); END""",
]
SQLITE_DROP = ["DROP TRIGGER catalog_location_warehouse_frozen", "DROP TRIGGER catalog_product_unit_frozen"]


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_backdating_and_recorded_time")]
    operations = [by_vendor(create={"postgresql": [POSTGRES_CREATE], "sqlite": SQLITE_CREATE}, drop={"postgresql": [POSTGRES_DROP], "sqlite": SQLITE_DROP})]
