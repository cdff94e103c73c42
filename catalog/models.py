"""The catalog (categories, products) and where stock lives (warehouses, their locations).

Products and locations that a movement refers to are never deleted (the ledger protects them);
they are deactivated, and the ledger refuses new movements for inactive ones.
"""
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from common.text import ReadableText

QUANTITY = {"max_digits": 18, "decimal_places": 3}
MONEY = {"max_digits": 18, "decimal_places": 4}
# The accepted domain keeps every stored value within 15 significant digits, which both databases
# store exactly (SQLite keeps 15 of any decimal): 12 whole digits for a quantity, 9 for money a unit.
MAX_QUANTITY = Decimal("999999999999.999")
MAX_UNIT_MONEY = Decimal("999999999.9999")


class Category(models.Model):
    """A node of the category tree."""

    name = models.CharField(max_length=120, validators=[ReadableText()])
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="category_unique_root_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    CYCLE_MESSAGE = "A category cannot be its own ancestor."
    ROOT_NAME_TAKEN = "A top-level category with this name already exists."

    def would_be_own_ancestor(self, parent: "Category | None") -> bool:
        """Whether placing this (saved) category under ``parent`` would close a loop in the tree."""
        node = parent
        while node is not None:
            if node.pk == self.pk:
                return True
            node = node.parent
        return False

    def clean(self) -> None:
        if self.pk and self.would_be_own_ancestor(self.parent):
            raise ValidationError({"parent": self.CYCLE_MESSAGE})


class UnitOfMeasure(models.TextChoices):
    EACH = "ea", "each"
    BOX = "box", "box"
    PALLET = "pal", "pallet"
    KILOGRAM = "kg", "kilogram"
    GRAM = "g", "gram"
    LITRE = "l", "litre"
    MILLILITRE = "ml", "millilitre"
    METRE = "m", "metre"
    SQUARE_METRE = "m2", "square metre"


class Tracking(models.TextChoices):
    """How a product's stock is told apart: not at all, or by lot (batch) with its expiry."""

    NONE = "none", "none"
    LOT = "lot", "by lot"


class ValuationMethod(models.TextChoices):
    """How a product's stock is valued from its receipts' costs (``valuation``)."""

    AVERAGE = "average", "moving weighted average"
    FIFO = "fifo", "FIFO"


def default_valuation_method() -> str:
    """A new product's method: ``WMS_VALUATION_METHOD`` (settings). Stored on the product, so a later
    change of the setting re-values no product's past; changing a product's own method does."""
    from django.conf import settings

    return settings.VALUATION_METHOD


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64, unique=True, validators=[ReadableText()])
    name = models.CharField(max_length=200, validators=[ReadableText()])
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    unit = models.CharField(max_length=8, choices=UnitOfMeasure.choices, default=UnitOfMeasure.EACH)
    specification = models.TextField(blank=True, validators=[ReadableText(multiline=True)])
    barcode = models.CharField(max_length=64, null=True, blank=True, unique=True, validators=[ReadableText()])
    unit_price = models.DecimalField(
        **MONEY, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_UNIT_MONEY)],
    )
    reorder_point = models.DecimalField(
        **QUANTITY, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_QUANTITY)],
    )
    tracking = models.CharField(
        max_length=8, choices=Tracking.choices, default=Tracking.NONE,
        help_text="By lot: every movement names a lot (an issue naming none takes the first-expiring).",
    )
    lead_time_days = models.PositiveIntegerField(
        default=7, validators=[MaxValueValidator(3650)], help_text="Days from ordering to receiving it."
    )
    pack_size = models.DecimalField(
        **QUANTITY, default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(MAX_QUANTITY)],
        help_text="It is ordered in multiples of this.",
    )
    valuation_method = models.CharField(
        max_length=8, choices=ValuationMethod.choices, default=default_valuation_method,
        help_text="How its stock is valued: moving weighted average or FIFO, per warehouse. A change re-values its whole history.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=Q(reorder_point__gte=0), name="product_reorder_not_negative"),
            models.CheckConstraint(condition=~Q(barcode=""), name="product_barcode_not_empty"),
            models.CheckConstraint(
                condition=Q(tracking__in=[t.value for t in Tracking]), name="product_tracking_known"
            ),
            models.CheckConstraint(condition=Q(pack_size__gt=0), name="product_pack_size_positive"),
            models.CheckConstraint(
                condition=Q(valuation_method__in=[m.value for m in ValuationMethod]), name="product_valuation_method_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Warehouse(models.Model):
    code = models.CharField(max_length=32, unique=True, validators=[ReadableText()])
    name = models.CharField(max_length=200, validators=[ReadableText()])
    address = models.TextField(blank=True, validators=[ReadableText(multiline=True)])
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Location(models.Model):
    """A bin (or zone) inside one warehouse; its code is unique within that warehouse."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=64, validators=[ReadableText()])
    name = models.CharField(max_length=200, blank=True, validators=[ReadableText()])
    barcode = models.CharField(
        max_length=64, null=True, blank=True, unique=True, validators=[ReadableText()],
        help_text="What a scanner reads off the bin's label.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["warehouse__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "code"], name="location_unique_code_in_warehouse"),
            models.CheckConstraint(condition=~Q(barcode=""), name="location_barcode_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"


MAX_LOT = 64
# The codes a lot may have: printable ASCII (what a GS1 label's AI 10 can carry, and more), no spaces
# around. The API's lot fields and every movement naming a lot read them by this.
LOT_CODE = re.compile(rf"[!-~](?:[ -~]{{0,{MAX_LOT - 2}}}[!-~])?")
LOT_CODE_RULE = f"A lot code is 1 to {MAX_LOT} printable ASCII characters, without spaces around them."


class Lot(models.Model):
    """A lot (batch) of one lot-tracked product: its code is unique within the product. Made by the
    first receipt (or count) that names it, or beforehand through the API and admin; never deleted
    once a movement names it (the ledger protects it)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots", db_index=False)
    code = models.CharField(max_length=MAX_LOT, validators=[ReadableText()])
    expires_on = models.DateField(null=True, blank=True, help_text="The last day it may be used.")
    manufactured_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["product_id", "expires_on", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="lot_unique_code_in_product"),
            models.CheckConstraint(condition=~Q(code=""), name="lot_code_not_empty"),
            models.CheckConstraint(
                condition=Q(manufactured_on__isnull=True) | Q(expires_on__isnull=True)
                | Q(manufactured_on__lte=F("expires_on")),
                name="lot_made_before_it_expires",
            ),
        ]
        indexes = [models.Index(fields=["expires_on"], name="lot_expires_on")]

    def __str__(self) -> str:
        return f"{self.product.sku} lot {self.code}"

    def expired_on(self, day) -> bool:
        """Whether it may no longer be used on ``day``: after its expiry date."""
        return self.expires_on is not None and day > self.expires_on
