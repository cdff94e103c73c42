from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User


@admin.display(description="roles")
def roles(user: User) -> str:
    return ", ".join(group.name for group in user.groups.all())


admin.site.unregister(User)


@admin.register(User)
class RoleAwareUserAdmin(UserAdmin):
    """Django's user admin, showing and filtering by role (group)."""

    list_display = ("username", "email", "first_name", "last_name", roles, "is_active", "is_staff")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")
