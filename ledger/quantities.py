"""Decimal quantities and money: the accepted domain, parsing client input, reading database
values, writing text.

The domain keeps every value within 15 significant digits (12 whole digits and 3 decimals for a
quantity, 9 and 4 for a unit cost), so that each stored value is exact on both databases: SQLite
keeps 15 significant digits of a decimal, PostgreSQL all of them. An on-hand quantity is bounded
the same way; sums over many rows live in projections whose columns (and, on SQLite, exact
arithmetic) are sized for them.
"""
from decimal import Decimal, InvalidOperation

# Precision and bounds are declared once, with the catalog's columns: a movement's quantity, a
# count and an on-hand balance are at most MAX_QUANTITY; a unit cost at most MAX_UNIT_COST.
from catalog.models import MAX_QUANTITY, MONEY, QUANTITY  # noqa: F401
from catalog.models import MAX_UNIT_MONEY as MAX_UNIT_COST  # noqa: F401

QUANTITY_PLACES = QUANTITY["decimal_places"]
MONEY_PLACES = MONEY["decimal_places"]
_QUANTUM = Decimal(1).scaleb(-QUANTITY_PLACES)


def decimal_text(value: Decimal) -> str:
    """Plain text without trailing zeros or exponent: ``Decimal("10.500")`` -> ``"10.5"``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("0", "-0") else text


def from_db(value) -> Decimal:
    """A quantity read by raw SQL: PostgreSQL gives Decimal; SQLite may give int or float."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(_QUANTUM)


NOT_A_NUMBER = 'A valid number is required (a decimal string such as "12.5").'


def parse_decimal(raw, *, places: int, allow_zero: bool, maximum: Decimal) -> Decimal:
    """A client's non-negative decimal (string or JSON number) up to ``maximum``; raises ValueError
    with a message for a person."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise ValueError(NOT_A_NUMBER)
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(NOT_A_NUMBER) from None
    if not value.is_finite():
        raise ValueError(NOT_A_NUMBER)
    if abs(value) > maximum:
        raise ValueError(f"Must be at most {decimal_text(maximum)}.")
    if value.as_tuple().exponent < -places and value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"Ensure that there are no more than {places} decimal places.")
    if value < 0:
        raise ValueError("Must not be negative." if allow_zero else "Must be greater than zero.")
    if value == 0 and not allow_zero:
        raise ValueError("Must be greater than zero.")
    return abs(value.quantize(Decimal(1).scaleb(-places)))  # abs: "-0" is zero, not a negative zero
