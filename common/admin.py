"""Admin pieces every app shares."""
import logging

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.log import log_response

logger = logging.getLogger(__name__)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows to read, never to change. An add, change or delete attempted anyway (a stale form, a
    bookmarked URL) is a 403 page that says why, and one log line with the reason (admin's own
    refusal, ``PermissionDenied``, would log a traceback)."""

    refusal = "These rows are read-only."

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            return super().add_view(request, form_url, extra_context)
        return self._refuse(request, "add", None)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and object_id is not None and self.has_view_permission(request):
            return self._refuse(request, "change", object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if not self.has_view_permission(request):
            return super().delete_view(request, object_id, extra_context)
        return self._refuse(request, "delete", object_id)

    def _refuse(self, request, attempt: str, object_id: str | None):
        opts = self.opts
        if object_id is None:
            back, back_label = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), f"Back to the {opts.verbose_name_plural}"
        else:
            back, back_label = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=(object_id,)), f"Back to the {opts.verbose_name}"
        context = {
            **self.admin_site.each_context(request),
            "opts": opts, "title": f"Cannot {attempt}", "refusal": self.refusal, "back": back, "back_label": back_label,
        }
        response = TemplateResponse(request, "admin/refused.html", context, status=403)
        # Logged here, with the reason, and marked as logged: Django then adds no "Forbidden" line.
        log_response(
            "admin refused to %s %s %s for %s: %s", attempt, opts.model_name, object_id or "", request.user.get_username(),
            self.refusal, response=response, request=request, logger=logger,
        )
        return response
