"""Any change to users, groups, permissions or tokens moves the ``auth`` generation on, so every
process drops the credentials it remembers within a second (``common.generations``), whatever made
the change. A user's last login is not a change of credentials: auth_user triggers on the columns
that are."""
from django.db import migrations

from common import triggers

TABLES = {
    "auth_user": ("username", "password", "is_active", "is_staff", "is_superuser"),
    "auth_group": (),
    "auth_permission": (),
    "auth_user_groups": (),
    "auth_user_user_permissions": (),
    "auth_group_permissions": (),
    "authtoken_token": (),
}


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_roles"),
        ("common", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]
    operations = [triggers.generation_triggers("auth", TABLES)]
