"""Reading master-data history: events of every tracked model as one list, each with the fields
it changed, before and after.

An event row is a snapshot (the row after the change; before it, for a delete). An update's
"before" is the object's previous snapshot (its insert, its ``baseline``, or its last update), so
each change reads as before -> after with only the fields that changed; an insert (or baseline)
has every field's after, a delete every field's before.

The list is one query over the tables together (a ``UNION`` of the few columns that order and
filter), newest first; a page is then read per table, two queries each (its rows, and the previous
snapshots of its updates).
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import F, OuterRef, Subquery, Value
from rest_framework.fields import DateTimeField

from .models import (
    BASELINE, CategoryEvent, LocationEvent, LotEvent, ProductEvent, TokenEvent, UserEvent, UserGroupEvent, WarehouseEvent,
)


@dataclass(frozen=True)
class Tracked:
    """A kind of record the history covers: its event model, and which column is its object's id."""

    name: str
    events: type[models.Model]
    object_field: str  # the event's column naming the object (for memberships and tokens: the user)

    @property
    def fields(self) -> list[models.Field]:
        """The snapshot's fields, as the tracked model has them (its id is the object's)."""
        model = self.events.pgh_tracked_model._meta
        tracked = {f.name for f in model.fields} - {model.pk.name}
        return [f for f in self.events._meta.fields if f.name in tracked]


TRACKED = {t.name: t for t in (
    Tracked("category", CategoryEvent, "pgh_obj_id"),
    Tracked("product", ProductEvent, "pgh_obj_id"),
    Tracked("warehouse", WarehouseEvent, "pgh_obj_id"),
    Tracked("location", LocationEvent, "pgh_obj_id"),
    Tracked("lot", LotEvent, "pgh_obj_id"),
    Tracked("user", UserEvent, "pgh_obj_id"),
    Tracked("role", UserGroupEvent, "user_id"),
    Tracked("token", TokenEvent, "user_id"),
)}
EVENTS = ("insert", "update", "delete", BASELINE)


@dataclass(frozen=True)
class Change:
    model: str
    id: int
    event: str
    object_id: int
    at: datetime
    context: dict | None
    context_id: object
    changes: dict[str, dict]


def _plain(value):
    """A snapshot's value as JSON carries it: decimals as strings, times in ISO 8601 UTC."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return DateTimeField().to_representation(value)
    return value


def _snapshot(tracked: Tracked, row) -> dict:
    return {f.name: _plain(getattr(row, f.attname)) for f in tracked.fields}


def _changes(event: str, before: dict | None, after: dict | None) -> dict[str, dict]:
    if event == "update":
        if before is None:  # no earlier snapshot: every field, its before unknown
            return {name: {"before": None, "after": value} for name, value in after.items()}
        return {name: {"before": before[name], "after": after[name]} for name in after if before[name] != after[name]}
    if event == "delete":
        return {name: {"before": value, "after": None} for name, value in before.items()}
    return {name: {"before": None, "after": value} for name, value in after.items()}


def history_events(
    *, model: str | None = None, object_id: int | None = None, user: int | None = None,
    event: str | None = None, after: datetime | None = None, before: datetime | None = None,
) -> models.QuerySet:
    """The events that match, newest first, as rows of (``model``, ``id``, ``at``): page it, then
    read the page with ``history_page``. ``user`` is who made the change (the context's user)."""
    parts = []
    for tracked in ([TRACKED[model]] if model else TRACKED.values()):
        events = tracked.events.objects.all()
        if object_id is not None:
            events = events.filter(**{tracked.object_field: object_id})
        if user is not None:
            events = events.filter(pgh_context__user=user)
        if event is not None:
            events = events.filter(pgh_label=event)
        if after is not None:
            events = events.filter(pgh_created_at__gte=after)
        if before is not None:
            events = events.filter(pgh_created_at__lt=before)
        parts.append(events.order_by().values(kind=Value(tracked.name), event_id=F("pgh_id"), at=F("pgh_created_at")))
    first, *rest = parts
    return (first.union(*rest, all=True) if rest else first).order_by("-at", "-event_id", "kind")


def history_page(rows) -> list[Change]:
    """The changes of a page of ``history_events``, in its order."""
    wanted: dict[str, list[int]] = {}
    for row in rows:
        wanted.setdefault(row["kind"], []).append(row["event_id"])
    found = {}
    for name, ids in wanted.items():
        tracked = TRACKED[name]
        events = list(tracked.events.objects.filter(pgh_id__in=ids).annotate(previous=Subquery(
            tracked.events.objects.filter(
                **{tracked.object_field: OuterRef(tracked.object_field)}, pgh_id__lt=OuterRef("pgh_id"),
            ).order_by("-pgh_id").values("pgh_id")[:1]
        )))
        wanted_before = [e.previous for e in events if e.pgh_label == "update" and e.previous is not None]
        previous = {e.pgh_id: _snapshot(tracked, e) for e in tracked.events.objects.filter(pgh_id__in=wanted_before)}
        for e in events:
            snapshot = _snapshot(tracked, e)
            before, after = {
                "update": (previous.get(e.previous), snapshot),
                "delete": (snapshot, None),
            }.get(e.pgh_label, (None, snapshot))
            found[name, e.pgh_id] = Change(
                model=name, id=e.pgh_id, event=e.pgh_label, object_id=getattr(e, tracked.object_field),
                at=e.pgh_created_at, context=e.pgh_context, context_id=e.pgh_context_id,
                changes=_changes(e.pgh_label, before, after),
            )
    return [found[row["kind"], row["event_id"]] for row in rows]


def record_known(*, model: str, object_id: int) -> bool:
    """Whether the record exists, or once did (it has history)."""
    tracked = TRACKED[model]
    return (
        tracked.events.pgh_tracked_model.objects.filter(pk=object_id).exists()
        or tracked.events.objects.filter(**{tracked.object_field: object_id}).exists()
    )


def object_history(*, model: str, object_id: int) -> list[Change]:
    """Every change of one object, newest first (for its admin page)."""
    return history_page(list(history_events(model=model, object_id=object_id)))
