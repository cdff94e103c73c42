"""Grant the catalog permissions to the roles: managers change it, every role reads it."""
from django.db import migrations

from accounts.roles import grant, revoke

VIEW = ["view_category", "view_product", "view_warehouse", "view_location"]
GRANTS = {
    "manager": VIEW + [
        "add_category", "change_category",
        "add_product", "change_product",
        "add_warehouse", "change_warehouse",
        "add_location", "change_location",
    ],
    "clerk": VIEW,
    "auditor": VIEW,
    "finance": VIEW,
}


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "catalog"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "catalog"),
        )
    ]
