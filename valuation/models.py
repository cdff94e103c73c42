"""The valuation projection: derived from the ledger (``engine``), thrown away and rebuilt at will.

Foreign keys are not enforced by the database (``db_constraint=False``), as in ``projections``:
the rows refer to the catalog and the ledger for joins only.
"""
from django.db import models

from catalog.models import MONEY, QUANTITY, Location, Lot, Product, ValuationMethod, Warehouse
from common.models import ReadSideCheckpoint
from ledger.models import Movement

# A value: up to 10^12 units at up to 10^9 a unit, to the ten-thousandth.
VALUE = {"max_digits": 26, "decimal_places": MONEY["decimal_places"]}


def _key(model, **kwargs):
    return models.ForeignKey(model, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False, **kwargs)


class ValuationCheckpoint(ReadSideCheckpoint):
    """How far the valuation has applied the ledger (the projections' ``Checkpoint``, for this one)."""


class ProductValuation(models.Model):
    """A product's valuation state: the method it was valued by, the last movement applied (in
    business order), its last known unit cost and the next layer's order; its quantity and value."""

    product = models.OneToOneField(Product, on_delete=models.DO_NOTHING, db_constraint=False, primary_key=True, related_name="valuation")
    method = models.CharField(max_length=8, choices=ValuationMethod.choices)
    last_occurred_at = models.DateTimeField(null=True, blank=True)
    last_position = models.BigIntegerField(default=0)
    last_cost = models.DecimalField(**MONEY, null=True, blank=True)
    next_seq = models.BigIntegerField(default=1)
    quantity = models.DecimalField(max_digits=32, decimal_places=QUANTITY["decimal_places"], default=0)
    value = models.DecimalField(**VALUE, default=0)
    recomputed_at = models.DateTimeField(null=True, blank=True, help_text="When a backdated movement or a change of method last re-valued it.")
    recompute_seconds = models.FloatField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.product_id}: {self.value} ({self.method})"


class CostLayer(models.Model):
    """What is left of one receipt (or count gain) in one warehouse, FIFO; an average's pool is one
    row per warehouse (``seq`` 0) with its quantity and value."""

    product = _key(Product)
    warehouse = _key(Warehouse)
    seq = models.BigIntegerField(help_text="Order of arrival among the product's layers (0: an average's pool).")
    source = _key(Movement, null=True, blank=True, help_text="The movement that brought it (FIFO).")
    received_at = models.DateTimeField(null=True, blank=True)
    unit_cost = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    quantity = models.DecimalField(max_digits=32, decimal_places=QUANTITY["decimal_places"])
    value = models.DecimalField(**VALUE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "warehouse", "seq"], name="costlayer_unique_key")]
        indexes = [models.Index(fields=["warehouse", "product"], name="costlayer_warehouse_product")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id} #{self.seq}: {self.quantity} = {self.value}"


class CostEntry(models.Model):
    """What one leg of one movement did to the value of its product's stock (``engine.Entry``)."""

    movement = _key(Movement)
    product = _key(Product)
    warehouse = _key(Warehouse)
    location = _key(Location)
    lot = _key(Lot, null=True, blank=True)
    occurred_at = models.DateTimeField()
    flow = models.CharField(max_length=16, help_text="receipt, issue, transfer or count: the movement's kind, a reversal's original's.")
    reversal = models.BooleanField(default=False)
    quantity = models.DecimalField(**QUANTITY, help_text="Signed: into the warehouse positive.")
    value = models.DecimalField(**VALUE, help_text="Signed change of the warehouse's value.")
    cogs = models.DecimalField(**VALUE, default=0, help_text="Cost of the goods issued (an issue's; its reversal's negated).")
    unit_cost = models.DecimalField(**MONEY, null=True, blank=True)
    flagged = models.BooleanField(default=False, help_text="Valued at the last known cost (a receipt without one), or at none.")
    pieces = models.JSONField(default=list, help_text="The layers it added or took, for its reversal.")

    class Meta:
        indexes = [
            models.Index(fields=["product", "occurred_at", "movement"], name="costentry_product_occurred"),
            models.Index(fields=["movement"], name="costentry_movement"),
            models.Index(fields=["occurred_at"], name="costentry_occurred"),
        ]

    def __str__(self) -> str:
        return f"#{self.movement_id} {self.flow} {self.product_id}@{self.location_id}: {self.value}"


class Backdating(models.Model):
    """A movement that went in before later ones of its product (in business time), and re-valued
    the product from then on: as of a position before it, the stored entries do not say what the
    books said then, so that product is replayed (``selectors``)."""

    product = _key(Product)
    position = models.BigIntegerField()
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["position"], name="backdating_position")]
