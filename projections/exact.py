"""Exact decimal arithmetic in the projections' SQL, on both databases.

PostgreSQL's ``numeric`` is exact. SQLite has no decimal type: it adds decimals as floating point
(ten receipts of 0.1 less an issue of 1 leave -1.1e-16, a row that should be zero). On SQLite the
projections therefore sum and add through Python functions registered on each connection, which
work in ``Decimal`` and refuse (an error the catch-up reports in /stock/status/) a total that SQLite
could not store exactly: more than 15 significant digits. Sums on the way (a total of receipts
before their reversals are taken off) are kept exact, as text, whatever their size; only what is
stored is held to the 15 digits.
"""
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection

from catalog.models import MONEY

SQLITE_DIGITS = 15  # significant digits SQLite keeps of a decimal
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY["decimal_places"])


@dataclass(frozen=True)
class Arithmetic:
    """How one database writes the projections' arithmetic."""

    sum: Callable[[str], str]  # an aggregate sum of an expression
    add: Callable[[str, str], str]  # one total plus another
    subtract: Callable[[str, str], str]  # one total less another
    value: Callable[[str, str], str]  # a receipt's value: quantity times unit cost, to the ten-thousandth
    stored: Callable[[str], str]  # a total about to be stored: refused if the database cannot hold it exactly


POSTGRESQL = Arithmetic(
    sum=lambda e: f"SUM({e})",
    add=lambda a, b: f"{a} + {b}",
    subtract=lambda a, b: f"{a} - {b}",
    value=lambda quantity, cost: f"round({quantity} * {cost}, {MONEY['decimal_places']})",
    stored=lambda e: e,
)
SQLITE = Arithmetic(
    sum=lambda e: f"exact_sum({e})",
    add=lambda a, b: f"exact_add({a}, {b})",
    subtract=lambda a, b: f"exact_subtract({a}, {b})",
    value=lambda quantity, cost: f"exact_value({quantity}, {cost})",
    stored=lambda e: f"exact_stored({e})",
)


def arithmetic() -> Arithmetic:
    return SQLITE if connection.vendor == "sqlite" else POSTGRESQL


def _decimal(value) -> Decimal:
    """A value as SQLite hands it over (null is zero): an integer, a float holding a decimal of at
    most 15 significant digits (its shortest repr is that decimal), or text."""
    if value is None:
        return Decimal(0)
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


# SQLite reports any exception of a Python function with a fixed message ("string or blob too
# big" for an OverflowError); the reason is kept here for ``explain``.
_refused = threading.local()


def _storable(total: Decimal) -> str:
    if len(total.normalize().as_tuple().digits) > SQLITE_DIGITS:
        _refused.reason = f"a total of {total} has more than {SQLITE_DIGITS} significant digits, the most SQLite stores exactly"
        raise OverflowError(_refused.reason)
    return str(total)


def explain(error: Exception) -> str:
    """What a database error says, with the reason an exact function refused, if one did."""
    reason, _refused.reason = getattr(_refused, "reason", None), None
    return f"{error}: {reason}" if reason else str(error)


class _ExactSum:
    def __init__(self):
        self.total: Decimal | None = None

    def step(self, value):
        if value is not None:
            self.total = _decimal(value) + (Decimal(0) if self.total is None else self.total)

    def finalize(self):
        return None if self.total is None else str(self.total)


def _exact_add(a, b):
    return str(_decimal(a) + _decimal(b))


def _exact_subtract(a, b):
    return str(_decimal(a) - _decimal(b))


def _exact_value(quantity, cost):
    if quantity is None or cost is None:
        return None
    return str((_decimal(quantity) * _decimal(cost)).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP))


def _exact_stored(total):
    return None if total is None else _storable(_decimal(total))


def register(sender, connection, **_signal_kwargs) -> None:
    """``connection_created`` receiver: give each new SQLite connection the exact functions."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_aggregate("exact_sum", 1, _ExactSum)
    raw.create_function("exact_add", 2, _exact_add, deterministic=True)
    raw.create_function("exact_subtract", 2, _exact_subtract, deterministic=True)
    raw.create_function("exact_value", 2, _exact_value, deterministic=True)
    raw.create_function("exact_stored", 1, _exact_stored, deterministic=True)
