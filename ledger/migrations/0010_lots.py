"""Lots in the ledger: a movement names its lot (and, when split across lots, the first event of
its posting); a guard row is per product, location and lot; each event marks the canonical form
its link covers (empty on the events before). A product's tracking is frozen once movements refer
to it, as its unit is (the database refuses, whoever asks).

On SQLite the catalog's migration before this one rebuilds the product and location tables, which
drops the triggers ``0005_catalog_history_guard`` made on them: they are made again here.
"""
import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from common.triggers import by_vendor

GUARD = importlib.import_module("ledger.migrations.0005_catalog_history_guard")

POSTGRES_CREATE = """
CREATE FUNCTION catalog_product_refuse_tracking_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_movement WHERE product_id = OLD.id) THEN
        RAISE EXCEPTION 'catalog_product.tracking is frozen for product %: movements in the ledger refer to it, and a new tracking would leave its history without lots or its lots without a history', OLD.sku
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER catalog_product_tracking_frozen
    BEFORE UPDATE OF tracking ON catalog_product
    FOR EACH ROW WHEN (OLD.tracking IS DISTINCT FROM NEW.tracking)
    EXECUTE FUNCTION catalog_product_refuse_tracking_change();
"""
POSTGRES_DROP = """
DROP TRIGGER catalog_product_tracking_frozen ON catalog_product;
DROP FUNCTION catalog_product_refuse_tracking_change();
"""
SQLITE_TRACKING = """CREATE TRIGGER catalog_product_tracking_frozen BEFORE UPDATE OF tracking ON catalog_product
   FOR EACH ROW WHEN OLD.tracking IS NOT NEW.tracking
        AND EXISTS (SELECT 1 FROM ledger_movement WHERE product_id = OLD.id)
   BEGIN SELECT RAISE(ABORT, 'catalog_product.tracking is frozen: movements in the ledger refer to this product'); END"""
SQLITE_CREATE = [
    "DROP TRIGGER IF EXISTS catalog_product_unit_frozen", "DROP TRIGGER IF EXISTS catalog_location_warehouse_frozen",
    *GUARD.SQLITE_CREATE, SQLITE_TRACKING,
]
# Undone, the schema changes rebuild ledger_movement on SQLite, which fails while triggers refer to
# it: all three go first, and the two of 0005 come back last (the first operation's reverse).
SQLITE_DROP = ["DROP TRIGGER catalog_product_tracking_frozen", *GUARD.SQLITE_DROP]


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0006_lots_tracking_and_scan_codes'),
        ('ledger', '0009_period_close_permissions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        by_vendor(create={}, drop={"sqlite": GUARD.SQLITE_CREATE}),
        migrations.RemoveConstraint(
            model_name='stocklevel',
            name='stocklevel_unique_product_location',
        ),
        migrations.AddField(
            model_name='movement',
            name='allocation',
            field=models.ForeignKey(blank=True, db_index=False, help_text='The first event of the posting this one was split from: an issue or transfer allocated across several lots is one event per lot, each naming the first (and reversed together).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='allocated', to='ledger.movement'),
        ),
        migrations.AddField(
            model_name='movement',
            name='chain_format',
            field=models.PositiveSmallIntegerField(blank=True, help_text='The canonical form its chain link covers (``ledger.chain``); empty for events written before forms were marked.', null=True),
        ),
        migrations.AddField(
            model_name='movement',
            name='lot',
            field=models.ForeignKey(blank=True, db_index=False, help_text='The lot moved, for a lot-tracked product (the same lot at both legs of a transfer).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='movements', to='catalog.lot'),
        ),
        migrations.AddField(
            model_name='stocklevel',
            name='lot',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.lot'),
        ),
        migrations.AddIndex(
            model_name='movement',
            index=models.Index(condition=models.Q(('lot__isnull', False)), fields=['lot', 'position'], name='movement_lot_pos'),
        ),
        migrations.AddIndex(
            model_name='movement',
            index=models.Index(condition=models.Q(('allocation__isnull', False)), fields=['allocation'], name='movement_allocation'),
        ),
        migrations.AddConstraint(
            model_name='stocklevel',
            constraint=models.UniqueConstraint(condition=models.Q(('lot__isnull', True)), fields=('product', 'location'), name='stocklevel_unique_product_location'),
        ),
        migrations.AddConstraint(
            model_name='stocklevel',
            constraint=models.UniqueConstraint(condition=models.Q(('lot__isnull', False)), fields=('product', 'location', 'lot'), name='stocklevel_unique_lot'),
        ),
        by_vendor(
            create={"postgresql": [POSTGRES_CREATE], "sqlite": SQLITE_CREATE},
            drop={"postgresql": [POSTGRES_DROP], "sqlite": SQLITE_DROP},
        ),
    ]
