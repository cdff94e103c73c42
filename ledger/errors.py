"""The ledger's refusals. Each carries a stable ``code``, a sentence and the data to act on."""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from common import errors as common_errors
from common.errors import DomainError

from .quantities import decimal_text


class MovementInvalid(DomainError):
    """Input that cannot be a movement; ``errors`` maps fields to messages as DRF does."""

    status = 400
    code = "validation_error"

    def __init__(self, errors: dict[str, list[str]]):
        field, messages = next(iter(errors.items()))
        super().__init__(f"Invalid input in '{field}': {messages[0]}", errors=errors)


class RecordNotFound(common_errors.RecordNotFound):
    """The movement to reverse, the product or location to post to or replay is not there."""

    NO_MOVEMENT = "No movement {movement} in the ledger."
    NO_PRODUCT = "No product with id {product}."
    NO_LOCATION = "No location with id {location}."
    NO_LOT = "No lot {lot!r} of product {sku}."
    NO_LOT_ID = "No lot with id {lot} of product {product}."


class InactiveProduct(DomainError):
    status = 400
    code = "inactive_product"

    def __init__(self, *, product_id: int, sku: str):
        super().__init__(f"Product {sku} is inactive; it takes no new movements.", product=product_id)


class InactiveLocation(DomainError):
    status = 400
    code = "inactive_location"

    def __init__(self, *, location_id: int, label: str):
        super().__init__(
            f"Location {label} is inactive (or its warehouse is); it takes no new movements.", location=location_id
        )


@dataclass(frozen=True, slots=True)
class Shortage:
    """Stock a movement would take that is not there: on hand now, or (for a backdated movement)
    at ``at``, a business time from its date on where the balance would go negative."""

    product: int
    sku: str
    location: int
    label: str  # "WAREHOUSE/CODE"
    available: Decimal
    requested: Decimal
    at: datetime | None = None
    item: int | None = None  # in a batch: the movement's index
    lot: int | None = None  # the lot named; None for an untracked product or stock allocated first-expiring-first
    lot_code: str | None = None
    unexpired_lots: bool = False  # what was there to allocate: the product's lots there that had not expired

    def sentence(self) -> str:
        where = f"{self.sku}{f' lot {self.lot_code}' if self.lot_code else ''} at {self.label}"
        if self.unexpired_lots:
            where += " in lots not expired"
        when = f"on hand of {where}" if self.at is None else f"of {where} as of {self.at.isoformat()}"
        return f"Only {decimal_text(self.available)} {when}; {decimal_text(self.requested)} requested."

    def as_dict(self) -> dict:
        data = {
            "product": self.product, "location": self.location,
            "available": decimal_text(self.available), "requested": decimal_text(self.requested),
        }
        if self.at is not None:
            data["at"] = self.at.isoformat()
        if self.lot is not None:
            data["lot"], data["lot_code"] = self.lot, self.lot_code
        if self.item is not None:
            data["item"] = self.item
        return data


class InsufficientStock(DomainError):
    """Movements would take stock below zero: every shortage, in posting order. The first is
    also spelled out at the top level (and names its batch item), so a client that handles one
    shortage need not read the list."""

    status = 409
    code = "insufficient_stock"

    def __init__(self, shortages: list[Shortage]):
        first = shortages[0]
        top = {key: value for key, value in first.as_dict().items() if key != "item"}
        super().__init__(first.sentence(), **top, shortages=[shortage.as_dict() for shortage in shortages])
        self.shortages = shortages
        if first.item is not None:
            self.for_item(first.item)


class OnHandLimit(DomainError):
    """A movement would take an on-hand quantity past what the ledger holds exactly."""

    status = 409
    code = "on_hand_limit"

    def __init__(self, *, product_id: int, sku: str, location_id: int, label: str, limit: Decimal):
        super().__init__(
            f"On hand of {sku} at {label} would exceed {decimal_text(limit)}, the most the ledger holds.",
            product=product_id,
            location=location_id,
            limit=decimal_text(limit),
        )


class LotExpired(DomainError):
    """An issue or transfer names a lot that has expired by its business date, and says not why."""

    status = 409
    code = "lot_expired"

    def __init__(self, *, lot_id: int, code: str, sku: str, expires_on: date):
        super().__init__(
            f"Lot {code} of {sku} expired on {expires_on.isoformat()}; to move it anyway (to scrap it, say), "
            "give the reason.",
            lot=lot_id, lot_code=code, expires_on=expires_on.isoformat(),
        )


class LotDatesDiffer(DomainError):
    """A receipt or count gives a lot a date other than the one the lot already has."""

    status = 409
    code = "lot_dates_differ"

    def __init__(self, *, lot_id: int, code: str, sku: str, field: str, recorded: date | None, given: date):
        recorded_text = recorded.isoformat() if recorded else "none"
        super().__init__(
            f"Lot {code} of {sku} has {field} {recorded_text}, not {given.isoformat()}; correct the lot first if it is wrong.",
            lot=lot_id, lot_code=code, field=field, recorded=recorded.isoformat() if recorded else None,
            given=given.isoformat(),
        )


class AlreadyReversed(DomainError):
    status = 409
    code = "already_reversed"

    def __init__(self, *, movement_id: int, reversed_by: int | None):
        super().__init__(
            f"Movement {movement_id} has already been reversed.", movement=movement_id, reversed_by=reversed_by
        )


class ReversalNotAllowed(DomainError):
    status = 409
    code = "reversal_not_allowed"

    def __init__(self, *, movement_id: int):
        super().__init__(
            f"Movement {movement_id} is itself a reversal; post the original movement again instead.",
            movement=movement_id,
        )


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"

    def __init__(self, *, key: str, movement_id: int):
        super().__init__(
            f"Idempotency key {key!r} was already used for movement {movement_id} with a different body.",
            idempotency_key=key,
            movement=movement_id,
        )


class ReversalBeforeOriginal(DomainError):
    """A reversal dated before the movement it reverses: valid input, but the ledger's history refuses it."""

    status = 409
    code = "reversal_before_original"
    MESSAGE = "A reversal cannot be dated before the movement it reverses ({occurred_at})."

    def __init__(self, *, movement_id: int, occurred_at: str):
        message = self.MESSAGE.format(occurred_at=occurred_at)
        super().__init__(message, movement=movement_id, errors={"occurred_at": [message]})


def close_facts(close) -> dict:
    """What a refusal says of a period close (``ledger.models.PeriodClose``): enough to find it and
    the person who made it."""
    return {
        "id": close.sequence, "action": close.action, "through": close.through.isoformat(),
        "closed_before": close.closed_before.isoformat(), "user": close.user_id, "username": close.user.get_username(),
        "recorded_at": close.recorded_at.isoformat(),
    }


def _naming(close) -> str:
    verb = "closed" if close.action == "close" else "reopened"
    return f"{close.action} {close.sequence}, {verb} by {close.user.get_username()} at {close.recorded_at.isoformat()}"


class CloseInvalid(MovementInvalid):
    """Input that cannot be a close or a reopening; ``errors`` maps fields to messages."""


class PeriodClosed(DomainError):
    """A movement dated inside the closed period: on or before the date the books are closed through."""

    status = 409
    code = "period_closed"
    MESSAGE = "The books are closed through {through} ({naming}); no movement may be dated {occurred_at}."

    def __init__(self, *, close, occurred_at: datetime):
        super().__init__(
            self.MESSAGE.format(through=close.through.isoformat(), naming=_naming(close), occurred_at=occurred_at.isoformat()),
            close=close_facts(close), occurred_at=occurred_at.isoformat(),
        )


class PeriodAlreadyClosed(DomainError):
    """A close through a date the books are already closed through: closing only moves forward."""

    status = 409
    code = "period_already_closed"
    MESSAGE = "The books are already closed through {through} ({naming}); a new close must be through a later date."

    def __init__(self, *, close):
        super().__init__(self.MESSAGE.format(through=close.through.isoformat(), naming=_naming(close)), close=close_facts(close))


class PeriodNotClosed(DomainError):
    """A reopening back to a date that is not before the date the books are closed through."""

    status = 409
    code = "period_not_closed"
    NOTHING = "The books are not closed; there is nothing to reopen."
    MESSAGE = "The books are closed through {through} ({naming}); a reopening goes back to an earlier date."

    def __init__(self, *, close):
        if close is None:
            super().__init__(self.NOTHING)
        else:
            super().__init__(self.MESSAGE.format(through=close.through.isoformat(), naming=_naming(close)), close=close_facts(close))


class ReopenByCloser(DomainError):
    """Four eyes: the person who made a close does not reopen it."""

    status = 409
    code = "reopen_by_closer"
    MESSAGE = "The latest close is your own ({naming}); another person who may reopen periods must reopen it."

    def __init__(self, *, close):
        super().__init__(self.MESSAGE.format(naming=_naming(close)), close=close_facts(close))
