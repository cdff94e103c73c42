"""Changes to the catalog that the ledger constrains.

Once a movement refers to a product, its unit is frozen (a new unit would rescale every quantity
in its history), and so is its tracking (its history would be without lots, or its lots without a
history); once a movement refers to a location (as ``location`` or ``to_location``), its
warehouse is frozen (a new warehouse would relocate its history). The database refuses both,
whoever asks (triggers in ``ledger/migrations/0005_catalog_history_guard.py``); the checks here
come first, so that the API and admin answer with a clear refusal rather than a database error.

The catalog does not import the ledger: it asks through the reverse relations that the ledger's
foreign keys declare (``product.movements``, ``location.movements``, ``location.movements_in``).
"""
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction

from .errors import HistoryProtected
from .models import Location, Product

# The fields of each model that the ledger's history depends on.
FROZEN_FIELDS = {Product: ("unit", "tracking"), Location: ("warehouse",)}


def referred_to_by_ledger(*, record: Product | Location) -> bool:
    """Whether any movement refers to the (saved) product or location; each check is one indexed probe."""
    if record.pk is None:
        return False
    if isinstance(record, Product):
        return record.movements.exists()
    return record.movements.exists() or record.movements_in.exists()


def frozen_fields(*, record) -> tuple[str, ...]:
    """The fields of ``record`` that may no longer change because movements refer to it."""
    fields = FROZEN_FIELDS.get(type(record), ())
    return fields if fields and referred_to_by_ledger(record=record) else ()


def refuse_history_rewrite(*, record, changes: Mapping[str, Any]) -> None:
    """Raise ``HistoryProtected`` if ``changes`` (field name: cleaned value, as a serializer or a
    form hands them over) give a frozen field of the saved ``record`` a new value. Compared with
    the stored row, not with ``record`` (which a form may already have changed); the same value
    again is no change."""
    model = type(record)
    asked = [field for field in FROZEN_FIELDS.get(model, ()) if field in changes]
    if record.pk is None or not asked:
        return
    stored = model.objects.filter(pk=record.pk).first()
    if stored is None:
        return
    for field in asked:
        new = getattr(changes[field], "pk", changes[field])  # a foreign key arrives as the related record
        if getattr(stored, model._meta.get_field(field).attname) == new or not referred_to_by_ledger(record=stored):
            continue
        if isinstance(stored, Product):
            raise HistoryProtected.product_field(field=field, product_id=stored.pk, sku=stored.sku)
        raise HistoryProtected.location_warehouse(location_id=stored.pk, label=str(stored))


@contextmanager
def history_guarded(*, record, changes: Mapping[str, Any]) -> Iterator[None]:
    """Check ``changes`` before the write in the ``with`` block, and run the write in a savepoint:
    if a movement referring to ``record`` commits between the check and the write, the database's
    trigger refuses the write, and the answer is the same ``HistoryProtected``, not a database error."""
    refuse_history_rewrite(record=record, changes=changes)
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        refuse_history_rewrite(record=record, changes=changes)
        raise
