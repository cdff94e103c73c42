"""Auditors, finance and managers read the stock report and chart; clerks post, and do not."""
from django.db import migrations

from accounts.roles import grant, revoke

GRANTS = {role: ["view_stock_report"] for role in ("auditor", "finance", "manager")}


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "reports"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "reports"),
        )
    ]
