"""What makes cached credentials stale: users, tokens, group membership and permissions."""
from django.contrib.auth.models import Group, User
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authtoken.models import Token

from .authentication import credentials


def connect() -> None:
    for model in (User, Group, Token):
        post_save.connect(credentials.forget, sender=model, dispatch_uid=f"auth-cache-save-{model.__name__}")
        post_delete.connect(credentials.forget, sender=model, dispatch_uid=f"auth-cache-delete-{model.__name__}")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(credentials.forget, sender=through, dispatch_uid=f"auth-cache-m2m-{through.__name__}")
