"""Backdating is checked against each product-location's latest business time (kept on its guard
row), and recorded times are taken from the head, so they never decrease along positions.
The new columns are filled from the ledger as it stands."""

from django.conf import settings
from django.db import migrations, models


FILL_LAST_OCCURRED = """
UPDATE ledger_stocklevel SET last_occurred_at = (
    SELECT max(t) FROM (
        SELECT max(m.occurred_at) AS t FROM ledger_movement m
         WHERE m.product_id = ledger_stocklevel.product_id AND m.location_id = ledger_stocklevel.location_id
        UNION ALL
        SELECT max(m.occurred_at) FROM ledger_movement m
         WHERE m.product_id = ledger_stocklevel.product_id AND m.to_location_id = ledger_stocklevel.location_id
    ) legs
)
"""
FILL_RECORDED = "UPDATE ledger_ledgerhead SET recorded_at = (SELECT max(recorded_at) FROM ledger_movement)"


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0002_manager_permissions'),
        ('ledger', '0003_role_permissions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='movement',
            name='movement_product_occurred',
        ),
        migrations.AddField(
            model_name='ledgerhead',
            name='recorded_at',
            field=models.DateTimeField(blank=True, help_text='When the last event was recorded: recorded times never decrease along positions.', null=True),
        ),
        migrations.AddField(
            model_name='stocklevel',
            name='last_occurred_at',
            field=models.DateTimeField(blank=True, help_text='The latest business time of any movement here: a posting dated at or after it is not backdated.', null=True),
        ),
        migrations.RunSQL([FILL_LAST_OCCURRED, FILL_RECORDED], migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name='movement',
            index=models.Index(fields=['product', 'location', 'occurred_at'], name='movement_prod_loc_occurred'),
        ),
        migrations.AddIndex(
            model_name='movement',
            index=models.Index(condition=models.Q(('to_location__isnull', False)), fields=['product', 'to_location', 'occurred_at'], name='movement_prod_toloc_occurred'),
        ),
    ]
