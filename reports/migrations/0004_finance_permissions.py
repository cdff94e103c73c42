"""Finance and managers read the finance reports and export them; clerks and auditors do not."""
from django.db import migrations

from accounts.roles import grant, revoke

GRANTS = {role: ["view_finance_report"] for role in ("finance", "manager")}


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_finance_reports_and_exports"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "reports"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "reports"),
        )
    ]
