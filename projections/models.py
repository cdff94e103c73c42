"""Read models derived from the ledger. They can be thrown away and rebuilt at any time.

Their foreign keys are not enforced by the database (``db_constraint=False``): a projection
refers to the catalog for joins only, and a rebuild must be free to empty and refill it.
"""
from django.db import models

from catalog.models import MONEY, QUANTITY, Location, Lot, Product
from common.models import ReadSideCheckpoint

# Totals over many rows: every on-hand fits QUANTITY, but a product's total over its locations, a
# location's over its products and the receipts of all time need more room (on PostgreSQL; SQLite
# keeps 15 significant digits of any decimal, see ``exact``).
TOTAL_QUANTITY = {"max_digits": 32, "decimal_places": QUANTITY["decimal_places"]}
TOTAL_MONEY = {"max_digits": 38, "decimal_places": MONEY["decimal_places"]}
# A stock's value, worked out when read: up to 10^29 units (a total) at up to 10^9 a unit.
VALUE = {"max_digits": 42, "decimal_places": MONEY["decimal_places"]}


def _product():
    # No index of its own: the unique (product, location) leads with it.
    return models.ForeignKey(Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False)


def _location():
    # No index of its own: (location, product) leads with it.
    return models.ForeignKey(Location, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False)


class Checkpoint(ReadSideCheckpoint):
    """How far one projection has applied the ledger."""


class ProductLocationStock(models.Model):
    """On hand per product and location."""

    product = _product()
    location = _location()
    quantity = models.DecimalField(**QUANTITY, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], name="pls_unique_product_location"),
        ]
        indexes = [models.Index(fields=["location", "product"], name="pls_location_product")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.quantity}"


class LotStock(models.Model):
    """On hand per product, location and lot: only lot-tracked products have rows here (per product
    and per location cover every product)."""

    product = _product()
    location = _location()
    lot = models.ForeignKey(Lot, on_delete=models.DO_NOTHING, db_constraint=False, related_name="stock", db_index=False)
    quantity = models.DecimalField(**QUANTITY, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "location", "lot"], name="lotstock_unique_key"),
        ]
        indexes = [models.Index(fields=["lot", "location"], name="lotstock_lot_location")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id} lot {self.lot_id}: {self.quantity}"


class ProductStock(models.Model):
    """On hand per product over all locations, and what its receipts cost (for valuation)."""

    product = models.OneToOneField(Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="stock")
    quantity = models.DecimalField(**TOTAL_QUANTITY, default=0)
    received_quantity = models.DecimalField(
        **TOTAL_QUANTITY, default=0, help_text="Quantity of receipts that carried a unit cost, net of their reversals."
    )
    received_value = models.DecimalField(
        **TOTAL_MONEY, default=0, help_text="Their value, each receipt's rounded to the ten-thousandth."
    )

    def __str__(self) -> str:
        return f"{self.product_id}: {self.quantity}"


class LocationStock(models.Model):
    """On hand per location over all products."""

    location = models.OneToOneField(Location, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    quantity = models.DecimalField(**TOTAL_QUANTITY, default=0)

    def __str__(self) -> str:
        return f"{self.location_id}: {self.quantity}"
