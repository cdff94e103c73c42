"""The generation counters, and on PostgreSQL the trigger function that moves them."""
from django.db import migrations, models

from common import triggers

GENERATIONS = ("auth", "catalog")


def create_counters(apps, schema_editor):
    Generation = apps.get_model("common", "Generation")
    for name in GENERATIONS:
        Generation.objects.get_or_create(name=name)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(triggers.POSTGRES_FUNCTION, params=None)


def drop_counters(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(triggers.POSTGRES_DROP_FUNCTION, params=None)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Generation",
            fields=[
                ("name", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_counters, drop_counters),
    ]
