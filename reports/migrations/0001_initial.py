"""The stock report's permission holder (no table)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
    ]

    operations = [
        migrations.CreateModel(
            name='StockReport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ],
            options={
                'permissions': [('view_stock_report', 'Can read the stock report and the stock-over-time chart')],
                'managed': False,
                'default_permissions': (),
            },
        ),
    ]
