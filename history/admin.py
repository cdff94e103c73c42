"""History in admin: read-only lists of every change for auditors, and each catalog record's change
page ends with its own history (who, when, through what, before -> after)."""
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html, format_html_join

from catalog.models import Category, Location, Product, Warehouse
from common.admin import ReadOnlyAdmin

from .models import EVENT_MODELS
from .selectors import TRACKED, history_page, object_history

_NAME = {t.events: t.name for t in TRACKED.values()}


def _who(change) -> str:
    context = change.context
    if context is None:
        return "outside the application (raw SQL)"
    if context.get("command"):
        return f"command {context['command']}"
    who = context.get("username") or "anonymous"
    request_id = f" (request {context['request_id']})" if context.get("request_id") else ""
    return f"{who}: {context.get('method', '')} {context.get('path', '')}{request_id}"


def _value(value) -> str:
    return "—" if value is None else str(value)


def _changes_html(change):
    return format_html_join(
        "", "<div><b>{}</b>: {} → {}</div>",
        ((name, _value(values["before"]), _value(values["after"])) for name, values in change.changes.items()),
    )


def history_table(changes) -> str:
    if not changes:
        return "No changes recorded."
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((change.at.strftime("%Y-%m-%d %H:%M:%S UTC"), change.event, _who(change), _changes_html(change)) for change in changes),
    )
    return format_html(
        '<table class="history"><thead><tr><th>When</th><th>Event</th><th>Who, through what</th>'
        "<th>Before → after</th></tr></thead><tbody>{}</tbody></table>", rows,
    )


class ShowsHistory:
    """Mixed into a catalog record's admin: its change page ends with the record's history, for
    whoever may read history."""

    history_model = ""

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and self._reads_history(request):
            fieldsets.append(("History", {"fields": ["change_history"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly + ("change_history",) if obj is not None and self._reads_history(request) else readonly

    @admin.display(description="Changes, newest first")
    def change_history(self, obj) -> str:
        return history_table(object_history(model=self.history_model, object_id=obj.pk))

    @staticmethod
    def _reads_history(request) -> bool:
        return request.user.has_perms(f"history.view_{m._meta.model_name}" for m in EVENT_MODELS)


for model, name in ((Category, "category"), (Product, "product"), (Warehouse, "warehouse"), (Location, "location")):
    registered = type(admin.site._registry[model])
    admin.site.unregister(model)
    admin.site.register(model, type(registered.__name__, (ShowsHistory, registered), {"history_model": name}))


class EventChangeList(ChangeList):
    """A page of events, each with its change (before -> after) read once for the whole page."""

    def get_results(self, request):
        super().get_results(request)
        name = _NAME[self.model]
        changes = history_page([{"kind": name, "event_id": event.pgh_id} for event in self.result_list])
        for event, change in zip(self.result_list, changes):
            event.change = change


class EventAdmin(ReadOnlyAdmin):
    """An event model's rows, to read: never added, changed or deleted here (nor anywhere)."""

    refusal = "History is append-only: it records changes and is never changed itself."
    list_display = ("pgh_created_at", "pgh_label", "record", "who", "changes")
    list_filter = ("pgh_label",)
    date_hierarchy = "pgh_created_at"
    ordering = ("-pgh_created_at", "-pgh_id")

    def get_changelist(self, request, **kwargs):
        return EventChangeList

    @admin.display(description="record")
    def record(self, event) -> int:
        return event.change.object_id

    @admin.display(description="who, through what")
    def who(self, event) -> str:
        return _who(event.change)

    @admin.display(description="before → after")
    def changes(self, event) -> str:
        return _changes_html(event.change)


for event_model in EVENT_MODELS:
    admin.site.register(event_model, EventAdmin)
