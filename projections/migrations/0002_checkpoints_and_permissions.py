"""One checkpoint row per projection (at position 0), and the roles' permission to read stock."""
from django.db import migrations

from accounts.roles import grant, revoke

PROJECTIONS = ("stock_by_product_location", "stock_by_product", "stock_by_location")
READ_STOCK = ["view_productlocationstock", "view_productstock", "view_locationstock", "view_checkpoint"]
GRANTS = {role: READ_STOCK for role in ("clerk", "auditor", "finance", "manager")}


def create_checkpoints(apps, schema_editor):
    Checkpoint = apps.get_model("projections", "Checkpoint")
    for name in PROJECTIONS:
        Checkpoint.objects.get_or_create(name=name)


def delete_checkpoints(apps, schema_editor):
    apps.get_model("projections", "Checkpoint").objects.filter(name__in=PROJECTIONS).delete()


class Migration(migrations.Migration):
    dependencies = [("projections", "0001_initial"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(create_checkpoints, delete_checkpoints),
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "projections"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "projections"),
        ),
    ]
