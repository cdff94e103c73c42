"""The ledger's refusals. Each carries a stable ``code``, a sentence and the data to act on."""
from decimal import Decimal

from wms.errors import DomainError

from .quantities import decimal_text


class MovementInvalid(DomainError):
    """Input that cannot be a movement; ``errors`` maps fields to messages as DRF does."""

    status = 400
    code = "validation_error"

    def __init__(self, errors: dict[str, list[str]]):
        field, messages = next(iter(errors.items()))
        super().__init__(f"Invalid input in '{field}': {messages[0]}", errors=errors)


class InactiveProduct(DomainError):
    status = 400
    code = "inactive_product"

    def __init__(self, *, product_id: int, sku: str):
        super().__init__(f"Product {sku} is inactive; it takes no new movements.", product=product_id)


class InactiveLocation(DomainError):
    status = 400
    code = "inactive_location"

    def __init__(self, *, location_id: int, label: str):
        super().__init__(f"Location {label} is inactive; it takes no new movements.", location=location_id)


class InsufficientStock(DomainError):
    """A movement would take a product below zero at a location."""

    status = 409
    code = "insufficient_stock"

    def __init__(self, *, product_id: int, sku: str, location_id: int, label: str, available: Decimal, requested: Decimal):
        super().__init__(
            f"Only {decimal_text(available)} on hand of {sku} at {label}; {decimal_text(requested)} requested.",
            product=product_id,
            location=location_id,
            available=decimal_text(available),
            requested=decimal_text(requested),
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
