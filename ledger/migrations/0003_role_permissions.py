"""Clerks post; auditors read and verify; finance and managers read the ledger."""
from django.db import migrations

from accounts.roles import grant, revoke

GRANTS = {
    "clerk": ["add_movement", "view_movement", "view_stocklevel"],
    "auditor": ["view_movement", "view_stocklevel", "verify_ledger"],
    "finance": ["view_movement", "view_stocklevel"],
    "manager": ["view_movement", "view_stocklevel"],
}


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_head_and_append_only"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "ledger"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "ledger"),
        )
    ]
