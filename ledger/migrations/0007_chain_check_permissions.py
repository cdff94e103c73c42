"""Auditors and managers read the record of chain checks (admin's list)."""
from django.db import migrations

from accounts.roles import grant, revoke

GRANTS = {"auditor": ["view_chaincheck"], "manager": ["view_chaincheck"]}


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_chain_checks"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "ledger"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "ledger"),
        )
    ]
