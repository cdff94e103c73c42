"""Purchasing lists for finance and managers: both read the runs and forecasts; auditors read them
too (they read everything). Runs are the nightly task's and the ``forecast_run`` command's."""
from django.db import migrations

from accounts.roles import grant, revoke

VIEW = ["view_forecastrun", "view_forecast"]
GRANTS = {"finance": VIEW, "manager": VIEW, "auditor": VIEW}


class Migration(migrations.Migration):
    dependencies = [("forecasts", "0001_initial"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "forecasts"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "forecasts"),
        )
    ]
