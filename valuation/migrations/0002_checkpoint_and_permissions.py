from django.db import migrations

from accounts.roles import grant, revoke

READ = ["view_costentry", "view_costlayer", "view_productvaluation"]
GRANTS = {"finance": READ, "manager": READ}


def create_checkpoint(apps, schema_editor):
    """From position 0: the first catch-up values the whole ledger."""
    apps.get_model("valuation", "ValuationCheckpoint").objects.get_or_create(name="valuation")


def delete_checkpoint(apps, schema_editor):
    apps.get_model("valuation", "ValuationCheckpoint").objects.filter(name="valuation").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("valuation", "0001_initial"),
        ("accounts", "0001_roles"),
    ]

    operations = [
        migrations.RunPython(create_checkpoint, delete_checkpoint),
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "valuation"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "valuation"),
        ),
    ]
