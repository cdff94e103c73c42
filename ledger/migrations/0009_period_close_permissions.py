"""Finance closes the books (they are finance's); managers reopen them, which takes a second person
(never one's own close); auditors, finance and managers read the record of closes. Clerks do none
of it."""
from django.db import migrations

from accounts.roles import grant, revoke

GRANTS = {
    "finance": ["close_period", "view_periodclose"],
    "manager": ["reopen_period", "view_periodclose"],
    "auditor": ["view_periodclose"],
}


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_period_close"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "ledger"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "ledger"),
        )
    ]
