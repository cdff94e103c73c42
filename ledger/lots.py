"""Lots on the posting path: which lot each movement of a lot-tracked product moves.

A receipt or count names its lot by code and makes it if the product has none of that code yet
(with the dates it gives; dates that differ from a lot's own are refused). An issue or transfer may
name its lot; one that names none is allocated first-expiring-first: the product's lots at the
location that have stock, have not expired by the movement's business date, in order of expiry
(a lot without one last), then of first receipt. ``fefo_candidates`` reads them before the guard
rows are locked, so that their rows are locked with the rest; the allocation itself is made against
the locked balances (``services``). A lot has expired after its ``expires_on``; naming an expired
lot in an issue or transfer is refused unless the movement says why (its ``reason``).

Nothing here is read for a product without tracking: its postings cost what they did.
"""
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from catalog.models import Lot
from catalog.selectors import CatalogFacts

from .closes import books_zone
from .errors import LotDatesDiffer, LotExpired, MovementInvalid, RecordNotFound
from .models import Movement, MovementKind, StockLevel
from .parsing import LOT_DATES

_MAKES_LOTS = (MovementKind.RECEIPT, MovementKind.COUNT)
_TAKES_LOTS = (MovementKind.ISSUE, MovementKind.TRANSFER)


@dataclass(frozen=True, slots=True)
class LotFacts:
    id: int
    code: str
    expires_on: date | None
    manufactured_on: date | None = None

    def expired_on(self, day: date) -> bool:
        return self.expires_on is not None and day > self.expires_on


def business_day(at: datetime) -> date:
    """The books' date of a business time: what a lot's expiry is compared with."""
    return at.astimezone(books_zone()).date()


def refuse_misplaced(movement, product_id: int, facts: CatalogFacts) -> None:
    """A lot is named for a lot-tracked product, always on a receipt or count; never otherwise."""
    product = facts.products[product_id]
    if not product.tracked:
        given = [field for field in ("lot", *LOT_DATES) if getattr(movement, field)]
        if given:
            message = f"Product {product.sku} is not tracked by lot."
            raise MovementInvalid({field: [message] for field in given})
    elif movement.lot is None and movement.kind in _MAKES_LOTS:
        raise MovementInvalid({"lot": [f"Product {product.sku} is tracked by lot: name the lot."]})


def no_such_lot(movement, product_id: int, facts: CatalogFacts) -> RecordNotFound:
    return RecordNotFound({"lot": [RecordNotFound.NO_LOT.format(lot=movement.lot, sku=facts.products[product_id].sku)]})


def named_lots(wanted: Iterable[tuple[int, object]]) -> dict[tuple[int, str], LotFacts]:
    """The lots named, by (product, code); those a receipt or count names that are not there yet are
    made, with the dates it gives (an issue's or transfer's unknown lot is simply absent).

    ``wanted`` pairs each product with the movement naming a lot of it. Making a lot is part of the
    posting's transaction: refused postings leave none behind, and two postings making the same lot
    at once make it once (the unique (product, code) key, ``ON CONFLICT DO NOTHING``)."""
    wanted = list(wanted)
    found = _read({(product, movement.lot) for product, movement in wanted})
    missing = {}
    for product, movement in wanted:
        key = (product, movement.lot)
        if key not in found and key not in missing and movement.kind in _MAKES_LOTS:
            missing[key] = movement
    if missing:
        _make(missing)
        found.update(_read(set(missing)))
    return found


def refuse_wrong_lot(movement, product_id: int, lot: LotFacts, occurred_at: datetime, facts: CatalogFacts) -> None:
    """Dates given for an existing lot must be its own; an expired lot leaves only with a reason."""
    sku = facts.products[product_id].sku
    for field in LOT_DATES:
        given = getattr(movement, field)
        recorded = getattr(lot, field)
        if given is not None and given != recorded:
            raise LotDatesDiffer(lot_id=lot.id, code=lot.code, sku=sku, field=field, recorded=recorded, given=given)
    if movement.kind in _TAKES_LOTS and not movement.reason and lot.expired_on(business_day(occurred_at)):
        raise LotExpired(lot_id=lot.id, code=lot.code, sku=sku, expires_on=lot.expires_on)


def fefo_candidates(
    product_id: int, location_id: int, occurred_at: datetime, *, arriving: Iterable[LotFacts] = (),
) -> tuple[LotFacts, ...]:
    """The lots an issue or transfer naming none may take from, in the order to take them: with
    stock at the location, or ``arriving`` there earlier in the same posting, not expired on its
    business date, first-expiring first (no expiry last), then first received. Read without locks:
    the balances that count are the locked ones."""
    day = business_day(occurred_at)
    stock, lot, ledger = StockLevel._meta.db_table, Lot._meta.db_table, Movement._meta.db_table
    sql = (
        f"SELECT l.id, l.code, l.expires_on FROM {stock} s JOIN {lot} l ON l.id = s.lot_id "
        f"WHERE s.product_id = %s AND s.location_id = %s AND s.lot_id IS NOT NULL AND s.quantity > 0 "
        f"AND (l.expires_on IS NULL OR l.expires_on >= %s) "
        f"ORDER BY l.expires_on IS NULL, l.expires_on, "
        f"(SELECT min(m.position) FROM {ledger} m WHERE m.lot_id = l.id), l.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [product_id, location_id, connection.ops.adapt_datefield_value(day)])
        found = [LotFacts(pk, code, _date(expires)) for pk, code, expires in cursor.fetchall()]
    known = {candidate.id for candidate in found}
    for candidate in arriving:  # received after every lot already there: last among equal expiries
        if candidate.id not in known and not candidate.expired_on(day):
            known.add(candidate.id)
            found.append(candidate)
    # sorted() is stable: first received stays first among lots of one expiry
    return tuple(sorted(found, key=lambda candidate: (candidate.expires_on is None, candidate.expires_on or day)))


def _read(keys: set[tuple[int, str]]) -> dict[tuple[int, str], LotFacts]:
    if not keys:
        return {}
    by_product: dict[int, list[str]] = {}
    for product, code in keys:
        by_product.setdefault(product, []).append(code)
    found = {}
    for product, codes in by_product.items():
        for pk, code, expires, made in Lot.objects.filter(product_id=product, code__in=codes).values_list(
            "pk", "code", "expires_on", "manufactured_on"
        ):
            found[(product, code)] = LotFacts(pk, code, expires, made)
    return found


def _make(missing: dict[tuple[int, str], object]) -> None:
    table = Lot._meta.db_table
    adapt = connection.ops.adapt_datefield_value
    rows, params = [], []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    for (product, code), movement in missing.items():
        rows.append("(%s, %s, %s, %s, %s)")
        params += [product, code, adapt(movement.expires_on), adapt(movement.manufactured_on), now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product_id, code, expires_on, manufactured_on, created_at) VALUES {', '.join(rows)} "
            f"ON CONFLICT (product_id, code) DO NOTHING",
            params,
        )


def _date(value) -> date | None:
    """A date read by raw SQL: SQLite gives text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
