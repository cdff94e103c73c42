"""Who reads the anchors and who may ask for one. Reading: auditors, finance and managers (a head
attested is there to be checked by whoever answers for the books). Asking for one: auditors and
managers; it writes nothing to the ledger, so it is no clerk's posting."""
from django.db import migrations

from accounts.roles import grant, revoke

GRANTS = {
    "auditor": ["view_anchor", "add_anchor"],
    "finance": ["view_anchor"],
    "manager": ["view_anchor", "add_anchor"],
}


class Migration(migrations.Migration):
    dependencies = [("anchors", "0001_initial"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "anchors"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "anchors"),
        )
    ]
