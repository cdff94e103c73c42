"""The catalog's refusals. Each carries a stable ``code``, a sentence and the data to act on."""
from common.errors import DomainError


class HistoryProtected(DomainError):
    """A change to a catalog field that the ledger's history depends on (once movements refer to
    the record, a new unit would rescale its history and a new warehouse would relocate it)."""

    status = 409
    code = "history_protected"

    PRODUCT_FIELD = {
        "unit": "Product {sku} has movements in the ledger; its unit cannot change (it would rescale its history).",
        "tracking": (
            "Product {sku} has movements in the ledger; its tracking cannot change "
            "(its history would be without lots, or its lots without a history)."
        ),
    }
    LOCATION_WAREHOUSE = (
        "Location {label} has movements in the ledger; its warehouse cannot change (it would relocate its history)."
    )

    def __init__(self, detail: str, *, field: str, **extra):
        super().__init__(detail, field=field, errors={field: [detail]}, **extra)

    @property
    def field(self) -> str:
        return self.extra["field"]

    @classmethod
    def product_field(cls, *, field: str, product_id: int, sku: str) -> "HistoryProtected":
        return cls(cls.PRODUCT_FIELD[field].format(sku=sku), field=field, product=product_id)

    @classmethod
    def location_warehouse(cls, *, location_id: int, label: str) -> "HistoryProtected":
        return cls(cls.LOCATION_WAREHOUSE.format(label=label), field="warehouse", location=location_id)
