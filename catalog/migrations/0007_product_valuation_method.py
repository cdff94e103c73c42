"""A product's valuation method. On SQLite adding the column rebuilds the products' table, which
drops its triggers with it: the generation triggers are dropped first and made again last (as
0006 does)."""
import catalog.models
from django.db import migrations, models

from common import triggers

WATCHED = {"catalog_product": ("sku", "is_active", "tracking"), "catalog_location": ("code", "is_active", "warehouse_id")}
GENERATION_TRIGGERS = triggers.generation_triggers("catalog", WATCHED)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0006_lots_tracking_and_scan_codes'),
    ]

    operations = [
        migrations.RunPython(GENERATION_TRIGGERS.reverse_code, GENERATION_TRIGGERS.code),  # dropped
        migrations.AddField(
            model_name='product',
            name='valuation_method',
            field=models.CharField(choices=[('average', 'moving weighted average'), ('fifo', 'FIFO')], default=catalog.models.default_valuation_method, help_text='How its stock is valued: moving weighted average or FIFO, per warehouse. A change re-values its whole history.', max_length=8),
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.CheckConstraint(condition=models.Q(('valuation_method__in', ['average', 'fifo'])), name='product_valuation_method_known'),
        ),
        GENERATION_TRIGGERS,
    ]
