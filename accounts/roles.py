"""The roles are Django groups. Each app grants its own permissions to them in a data migration.

``grant`` and ``revoke`` take the migration's historical ``apps`` so they keep working however the
live models change later.
"""
CLERK = "clerk"
AUDITOR = "auditor"
FINANCE = "finance"
MANAGER = "manager"
ROLES = (CLERK, AUDITOR, FINANCE, MANAGER)

ROLE_DESCRIPTIONS = {
    CLERK: "posts stock movements",
    AUDITOR: "reads and replays the whole ledger, posts nothing",
    FINANCE: "reads stock and what it is worth, closes the books through a date",
    MANAGER: "manages the catalog and the locations, reopens a closed period (not their own close)",
}


def _permissions(apps, app_label: str, codenames: list[str]):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; make sure they exist now.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True  # historical app configs lack it; create_permissions needs it
    create_permissions(app_config, apps=apps, verbosity=0)
    Permission = apps.get_model("auth", "Permission")
    found = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
    missing = set(codenames) - {p.codename for p in found}
    if missing:
        raise LookupError(f"{app_label} has no permissions {sorted(missing)}")
    return found


def grant(apps, grants: dict[str, list[str]], app_label: str) -> None:
    """Give each role (group name) the listed permission codenames of ``app_label``."""
    Group = apps.get_model("auth", "Group")
    for role, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*_permissions(apps, app_label, codenames))


def revoke(apps, grants: dict[str, list[str]], app_label: str) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in grants.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
