"""The base of the domain errors: a machine-readable code, a sentence, the data a client needs.

Services raise these; the API's exception handler turns them into the one error body
(``{"code", "detail", ...extra}``) with ``status``. They know nothing of HTTP beyond the number.
"""
from typing import Any


class DomainError(Exception):
    """A refusal by a domain rule; the subclasses name the rule."""

    status = 400
    code = "invalid"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.message = detail  # the refusal itself, without the item prefix ``for_item`` adds
        self.detail = detail
        self.extra = extra

    def for_item(self, item: int) -> "DomainError":
        """Name the batch item (0-based) this refusal is about."""
        self.detail = f"Item {item}: {self.detail}"
        self.extra["item"] = item
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.extra}


class RecordNotFound(DomainError):
    """A record the request names is not there. ``errors`` maps where the request named it to a
    message, as validation errors do."""

    status = 404
    code = "not_found"

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(next(iter(errors.values()))[0], errors=errors)


class AlreadyExists(DomainError):
    """A record with the same natural key (a SKU, a code) is already there."""

    status = 409
    code = "already_exists"

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(next(iter(errors.values()))[0], errors=errors)
