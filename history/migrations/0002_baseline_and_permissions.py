"""Rows that existed before tracking began get one ``baseline`` event each (so their first change
has a before); auditors and managers may read the history."""
from django.db import migrations

from accounts.roles import grant, revoke

TRACKED = {  # event model: the tracked table
    "CategoryEvent": "catalog_category",
    "ProductEvent": "catalog_product",
    "WarehouseEvent": "catalog_warehouse",
    "LocationEvent": "catalog_location",
    "UserEvent": "auth_user",
    "UserGroupEvent": "auth_user_groups",
    "TokenEvent": "authtoken_token",
}
VIEW = [f"view_{name.lower()}" for name in TRACKED]
GRANTS = {"auditor": VIEW, "manager": VIEW}


def baseline(apps, schema_editor):
    # Now, as each database's triggers write it (SQLite: as Django writes a time there).
    now = "NOW()" if schema_editor.connection.vendor == "postgresql" else "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
    for name, table in TRACKED.items():
        model = apps.get_model("history", name)
        copied = [f.column for f in model._meta.fields if not f.name.startswith("pgh_")]
        targets, sources = list(copied), list(copied)
        if any(f.name == "pgh_obj" for f in model._meta.fields):
            targets.append("pgh_obj_id")
            sources.append("id")
        quoted = lambda columns: ", ".join(f'"{c}"' for c in columns)  # noqa: E731
        schema_editor.execute(
            f'INSERT INTO "{model._meta.db_table}" ({quoted(targets)}, "pgh_created_at", "pgh_label") '
            f"SELECT {quoted(sources)}, {now}, 'baseline' FROM \"{table}\"",
            params=None,
        )


class Migration(migrations.Migration):
    dependencies = [("history", "0001_initial"), ("accounts", "0001_roles")]
    operations = [
        migrations.RunPython(baseline, migrations.RunPython.noop),
        migrations.RunPython(
            lambda apps, schema_editor: grant(apps, GRANTS, "history"),
            lambda apps, schema_editor: revoke(apps, GRANTS, "history"),
        ),
    ]
