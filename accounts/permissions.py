from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions, reading included: a GET needs ``view_<model>``.

    DRF's own class lets any authenticated user read; here a role sees only what its group allows.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            # The view does not offer this method: let it answer 405 rather than 403.
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class HasPermission(permissions.BasePermission):
    """An authenticated user holding every permission in ``required`` (set by ``for_perms``)."""

    required: tuple[str, ...] = ()

    @classmethod
    def for_perms(cls, *perms: str) -> type["HasPermission"]:
        return type(f"Has_{'_'.join(p.replace('.', '_') for p in perms)}", (cls,), {"required": perms})

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(self.required))
