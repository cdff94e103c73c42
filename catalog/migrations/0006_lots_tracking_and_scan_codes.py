"""Lots (batches with expiry) and how each product is tracked; a product's lead time and pack size
(for purchase suggestions); a location's barcode (for scanning). Lots are granted to the roles.

The generation triggers on products and locations are dropped first and made again last: a
product's tracking is now something posting remembers, and on SQLite adding these columns rebuilds
both tables, which drops their triggers with them.
"""
import common.text
import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models

from accounts.roles import grant, revoke
from common import triggers

WATCHED_BEFORE = {"catalog_product": ("sku", "is_active"), "catalog_location": ("code", "is_active", "warehouse_id")}
WATCHED = {"catalog_product": ("sku", "is_active", "tracking"), "catalog_location": ("code", "is_active", "warehouse_id")}
GRANTS = {
    "manager": ["view_lot", "add_lot", "change_lot"],
    "clerk": ["view_lot", "add_lot"],
    "auditor": ["view_lot"],
    "finance": ["view_lot"],
}


def _reversed(operation: migrations.RunPython) -> migrations.RunPython:
    return migrations.RunPython(operation.reverse_code, operation.code)


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0005_readable_text'),
        ('accounts', '0001_roles'),
    ]

    operations = [
        _reversed(triggers.generation_triggers("catalog", WATCHED_BEFORE)),
        migrations.CreateModel(
            name='Lot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=64, validators=[common.text.ReadableText()])),
                ('expires_on', models.DateField(blank=True, help_text='The last day it may be used.', null=True)),
                ('manufactured_on', models.DateField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['product_id', 'expires_on', 'code'],
            },
        ),
        migrations.AddField(
            model_name='location',
            name='barcode',
            field=models.CharField(blank=True, help_text="What a scanner reads off the bin's label.", max_length=64, null=True, unique=True, validators=[common.text.ReadableText()]),
        ),
        migrations.AddField(
            model_name='product',
            name='lead_time_days',
            field=models.PositiveIntegerField(default=7, help_text='Days from ordering to receiving it.', validators=[django.core.validators.MaxValueValidator(3650)]),
        ),
        migrations.AddField(
            model_name='product',
            name='pack_size',
            field=models.DecimalField(decimal_places=3, default=Decimal('1'), help_text='It is ordered in multiples of this.', max_digits=18, validators=[django.core.validators.MinValueValidator(Decimal('0.001')), django.core.validators.MaxValueValidator(Decimal('999999999999.999'))]),
        ),
        migrations.AddField(
            model_name='product',
            name='tracking',
            field=models.CharField(choices=[('none', 'none'), ('lot', 'by lot')], default='none', help_text='By lot: every movement names a lot (an issue naming none takes the first-expiring).', max_length=8),
        ),
        migrations.AddConstraint(
            model_name='location',
            constraint=models.CheckConstraint(condition=models.Q(('barcode', ''), _negated=True), name='location_barcode_not_empty'),
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.CheckConstraint(condition=models.Q(('tracking__in', ['none', 'lot'])), name='product_tracking_known'),
        ),
        migrations.AddConstraint(
            model_name='product',
            constraint=models.CheckConstraint(condition=models.Q(('pack_size__gt', 0)), name='product_pack_size_positive'),
        ),
        migrations.AddField(
            model_name='lot',
            name='product',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='lots', to='catalog.product'),
        ),
        migrations.AddIndex(
            model_name='lot',
            index=models.Index(fields=['expires_on'], name='lot_expires_on'),
        ),
        migrations.AddConstraint(
            model_name='lot',
            constraint=models.UniqueConstraint(fields=('product', 'code'), name='lot_unique_code_in_product'),
        ),
        migrations.AddConstraint(
            model_name='lot',
            constraint=models.CheckConstraint(condition=models.Q(('code', ''), _negated=True), name='lot_code_not_empty'),
        ),
        migrations.AddConstraint(
            model_name='lot',
            constraint=models.CheckConstraint(condition=models.Q(('manufactured_on__isnull', True), ('expires_on__isnull', True), ('manufactured_on__lte', models.F('expires_on')), _connector='OR'), name='lot_made_before_it_expires'),
        ),
        triggers.generation_triggers("catalog", WATCHED),
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "catalog"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "catalog"),
        ),
    ]
