"""Every change to master data, append-only: one event table per tracked model, written by triggers.

django-pghistory makes each event model from the model it tracks (the same fields) and a
django-pgtrigger trigger per operation that copies the row into it, so a change is recorded
whatever makes it: the API, admin, a command, ``QuerySet.update()`` or raw SQL. An event row holds
the whole row after the change (before it, for a delete), its label (``insert``, ``update``,
``delete``, or ``baseline`` for a row that existed when tracking began), the time, the tracked
object's id, and the context (who, through what: ``history.context``) as JSON on the row itself,
so that no shared row can be rewritten later.

The tracked models are proxies here, so the triggers' migrations are this app's: the catalog and
accounts know nothing of their history. The reference to the tracked object has no database
constraint and never cascades: an event outlives what it describes.

PostgreSQL refuses an update or delete of an event (pghistory's ``append_only`` trigger); SQLite
gets the same triggers, recording and refusing, from ``history.sqlite``; the ORM refuses here.
"""
import pghistory
from django.contrib.auth.models import User
from django.db import models
from pghistory.models import EventQuerySet
from rest_framework.authtoken.models import Token

from catalog.models import Category, Location, Lot, Product, Warehouse

REFUSAL = "Master-data history is append-only: its rows are never changed or deleted."
BASELINE = "baseline"


class AppendOnlyError(Exception):
    """Raised by the ORM for an attempt to change or delete history (the database refuses too)."""


class AppendOnlyQuerySet(EventQuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(REFUSAL)

    def delete(self):
        raise AppendOnlyError(REFUSAL)

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(REFUSAL)


class Event(pghistory.models.Event):
    """An event row. Triggers write them; the application only reads them."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        raise AppendOnlyError(REFUSAL)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(REFUSAL)


def _rows():
    """Fresh trackers for each model (a tracker keeps the fields of the model it is set up for)."""
    return pghistory.InsertEvent("insert"), pghistory.UpdateEvent("update"), pghistory.DeleteEvent("delete")


def _rows_added_and_removed():
    return pghistory.InsertEvent("insert"), pghistory.DeleteEvent("delete")


def _events(tracked: type[models.Model], *trackers, name: str, **options) -> type[models.Model]:
    """The (abstract) event model of ``tracked``: context as JSON on each row, append-only,
    indexed by time for the ranges (the object's id is indexed as a foreign key)."""
    return pghistory.create_event_model(
        tracked, *trackers, model_name=name, app_label="history", base_model=Event,
        context_field=pghistory.ContextJSONField(), append_only=True,
        meta={"indexes": [models.Index(fields=["pgh_created_at"], name=f"{name.lower()}_created")]},
        **options,
    )


def _tracked(model: type[models.Model]) -> type[models.Model]:
    """A proxy of ``model`` in this app, so that its triggers' migrations are this app's."""
    meta = type("Meta", (), {"proxy": True, "app_label": "history", "verbose_name": model._meta.verbose_name})
    return type(f"Tracked{model.__name__}", (model,), {"__module__": __name__, "Meta": meta})


TrackedCategory = _tracked(Category)
TrackedProduct = _tracked(Product)
TrackedWarehouse = _tracked(Warehouse)
TrackedLocation = _tracked(Location)
TrackedLot = _tracked(Lot)
# A user's roles are their groups; is_active, is_staff and is_superuser are the rest of what they
# may do. The password (and the last login) are not history.
TrackedUser = _tracked(User)


class TrackedUserGroup(User.groups.through):
    class Meta:
        proxy = True
        app_label = "history"
        verbose_name = "role membership"


class TrackedToken(Token):
    class Meta:
        proxy = True
        app_label = "history"
        verbose_name = "API token"


class CategoryEvent(_events(TrackedCategory, *_rows(), name="CategoryEvent")):
    pass


class ProductEvent(_events(TrackedProduct, *_rows(), name="ProductEvent")):
    pass


class WarehouseEvent(_events(TrackedWarehouse, *_rows(), name="WarehouseEvent")):
    pass


class LocationEvent(_events(TrackedLocation, *_rows(), name="LocationEvent")):
    pass


class LotEvent(_events(TrackedLot, *_rows(), name="LotEvent")):
    pass


class UserEvent(_events(
    TrackedUser, *_rows(), fields=["username", "is_active", "is_staff", "is_superuser"], name="UserEvent",
)):
    pass


# Membership rows are added and removed, never changed; the user is the object they are history of.
class UserGroupEvent(_events(
    TrackedUserGroup, *_rows_added_and_removed(), fields=["user", "group"], obj_field=None, name="UserGroupEvent",
)):
    pass


# A token's key is its primary key: it is never copied (nor a hash of it). A user has one token, so
# the user and the token's creation time say which token was created or deleted (a rotation is a
# delete and an insert in one context).
class TokenEvent(_events(
    TrackedToken, *_rows_added_and_removed(), fields=["user", "created"], obj_field=None, name="TokenEvent",
)):
    pass


EVENT_MODELS = (
    CategoryEvent, ProductEvent, WarehouseEvent, LocationEvent, LotEvent, UserEvent, UserGroupEvent, TokenEvent,
)
