"""The ledger: immutable stock movements, the guard rows that keep stock from going negative,
and the head that hands out gap-free positions and extends the hash chain.

``Movement`` rows are never updated or deleted (the ORM refuses, admin is read-only, and on the
database a trigger refuses UPDATE, DELETE and TRUNCATE). A mistake is fixed by a reversal.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalog.models import MONEY, QUANTITY, Location, Lot, Product

from .legs import route


class ImmutableError(Exception):
    """Raised when code tries to change or remove a ledger row."""


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "receipt"
    ISSUE = "issue", "issue"
    TRANSFER = "transfer", "transfer"
    COUNT = "count", "count-adjust"
    REVERSAL = "reversal", "reversal"


class MovementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError("Ledger movements are append-only; post a reversal instead.")

    def delete(self):
        raise ImmutableError("Ledger movements are append-only; post a reversal instead.")


class Movement(models.Model):
    """One immutable stock movement.

    Stock changes by ``delta`` at ``location`` and, for a transfer (or its reversal), by ``-delta``
    at ``to_location``: every kind is one or two legs of that shape (``ledger.legs``). ``quantity`` is the magnitude
    moved (for a count, the size of the difference). ``balance_after`` and ``to_balance_after``
    are the on-hand quantities the posting left, so a retried request gets the same answer.
    """

    # The position is the key: handed out gap-free by the head, in commit order (see ``store``).
    position = models.BigIntegerField(primary_key=True, editable=False, help_text="Gap-free order in the ledger.")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    # The foreign keys' own indexes are left out: the composite indexes below lead with these
    # columns, and every index costs each posting an insert.
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements", db_index=False)
    to_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="movements_in", db_index=False
    )
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="movements", db_index=False,
        help_text="The lot moved, for a lot-tracked product (the same lot at both legs of a transfer).",
    )
    quantity = models.DecimalField(**QUANTITY)
    delta = models.DecimalField(**QUANTITY, help_text="Signed change at location.")
    balance_after = models.DecimalField(**QUANTITY)
    to_balance_after = models.DecimalField(**QUANTITY, null=True, blank=True)
    counted_quantity = models.DecimalField(**QUANTITY, null=True, blank=True)
    expected_quantity = models.DecimalField(**QUANTITY, null=True, blank=True)
    unit_cost = models.DecimalField(**MONEY, null=True, blank=True)
    occurred_at = models.DateTimeField(help_text="Business time of the movement.")
    recorded_at = models.DateTimeField(help_text="When the ledger recorded it.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="movements", db_index=False
    )
    reference = models.CharField(max_length=64, blank=True, help_text="Document number.")
    reason = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=128)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request that posted it.")
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    allocation = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="allocated", db_index=False,
        help_text="The first event of the posting this one was split from: an issue or transfer allocated across "
        "several lots is one event per lot, each naming the first (and reversed together).",
    )
    chain_format = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="The canonical form its chain link covers (``ledger.chain``); empty for events written before forms were marked.",
    )
    hash = models.CharField(max_length=64, help_text="SHA-256 chain link over this event and the previous link.")

    objects = MovementQuerySet.as_manager()

    class Meta:
        ordering = ["position"]
        permissions = [("verify_ledger", "Can verify the ledger's hash chain")]
        constraints = [
            models.UniqueConstraint(fields=["user", "idempotency_key"], name="movement_idempotency_per_user"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="movement_quantity_not_negative"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="movement_balance_not_negative"),
            models.CheckConstraint(
                condition=Q(to_location__isnull=True) | ~Q(to_location=F("location")),
                name="movement_transfer_between_two_locations",
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False) | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="movement_reversal_points_at_original",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in MovementKind]), name="movement_kind_known"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "location", "position"], name="movement_product_loc_pos"),
            models.Index(
                fields=["product", "to_location", "position"], name="movement_product_toloc_pos",
                condition=Q(to_location__isnull=False),
            ),
            # What a backdated posting reads (a product-location's movements after a business time),
            # and as-of by business time.
            models.Index(fields=["product", "location", "occurred_at"], name="movement_prod_loc_occurred"),
            models.Index(
                fields=["product", "to_location", "occurred_at"], name="movement_prod_toloc_occurred",
                condition=Q(to_location__isnull=False),
            ),
            models.Index(fields=["location", "position"], name="movement_location_pos"),
            models.Index(
                fields=["to_location", "position"], name="movement_to_location_pos", condition=Q(to_location__isnull=False)
            ),
            # A lot's trace and the order lots were first received in; only lot-tracked events carry one.
            models.Index(fields=["lot", "position"], name="movement_lot_pos", condition=Q(lot__isnull=False)),
            models.Index(fields=["allocation"], name="movement_allocation", condition=Q(allocation__isnull=False)),
            models.Index(fields=["occurred_at"], name="movement_occurred"),
            models.Index(fields=["reference"], name="movement_reference"),
        ]

    def __str__(self) -> str:
        """'#12 transfer BOLT-M8 MAIN/RECV → MAIN/A-01 1500', '#13 issue BOLT-M8 MAIN/A-01 -120'. Stock
        leaves the leg whose change is negative, so the reversal of a transfer reads the other way
        round. Reads the product and locations: select them with the movement (admin does)."""
        kind = f"reversal of #{self.reverses_id}" if self.reverses_id else self.get_kind_display()
        source, target = route(self)
        if source is None or target is None:
            legs = f"{self.location} {self.delta.normalize():+f}"
        else:
            legs = f"{getattr(self, source.location)} → {getattr(self, target.location)} {self.quantity.normalize():f}"
        return f"#{self.position} {kind} {self.product.sku} {legs}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("Ledger movements are append-only; post a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Ledger movements are append-only; post a reversal instead.")



class StockLevel(models.Model):
    """The write side's guard: on-hand quantity per product-location (and lot, for a lot-tracked
    product: one row per lot there), locked while posting.

    Changed only by the posting service, in the same transaction as the movement it guards;
    the database refuses a negative quantity even if the code were wrong.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    quantity = models.DecimalField(**QUANTITY, default=0)
    last_occurred_at = models.DateTimeField(
        null=True, blank=True,
        help_text="The latest business time of any movement here: a posting dated at or after it is not backdated.",
    )

    class Meta:
        constraints = [
            # Two partial keys, as NULL is distinct from NULL in a unique index: an upsert names the one it means.
            models.UniqueConstraint(
                fields=["product", "location"], condition=Q(lot__isnull=True), name="stocklevel_unique_product_location",
            ),
            models.UniqueConstraint(
                fields=["product", "location", "lot"], condition=Q(lot__isnull=False), name="stocklevel_unique_lot",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stocklevel_quantity_not_negative"),
        ]

    def __str__(self) -> str:
        lot = f" lot {self.lot.code}" if self.lot_id else ""
        return f"{self.product.sku}{lot} at {self.location}: {self.quantity.normalize():f}"


class LedgerHead(models.Model):
    """The one row that serializes appends: the last position handed out and the last chain link."""

    position = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last event was recorded: recorded times never decrease along positions."
    )
    closed_before = models.DateTimeField(
        null=True, blank=True,
        help_text="No movement may be dated before this (the latest period close's); kept here because every "
        "posting locks this row last, so it reads the value a close committed (see ``ledger.closes``).",
    )

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="ledgerhead_single_row")]

    def __str__(self) -> str:
        return f"head #{self.position} {self.hash[:12]}"


class ChainCheck(models.Model):
    """One walk of the hash chain and what it found, kept (append-only) for auditors and operators:
    the latest is a metric (``/metrics``), the list is the record of who could have noticed what."""

    checked_at = models.DateTimeField()
    intact = models.BooleanField()
    events = models.BigIntegerField(help_text="Events verified.")
    head_position = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    first_broken_position = models.BigIntegerField(null=True, blank=True)
    problem_code = models.CharField(max_length=32, blank=True)

    class Meta:
        get_latest_by = "checked_at"
        indexes = [models.Index(fields=["checked_at"], name="chaincheck_checked_at")]

    def __str__(self) -> str:
        found = "intact" if self.intact else f"broken at {self.first_broken_position} ({self.problem_code})"
        return f"{self.checked_at:%Y-%m-%d %H:%M} {found}, {self.events} events"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("A chain check is a record; it is never changed.")
        super().save(*args, **kwargs)


_CLOSE_IS_RECORD = "A period close is a record; reopen with a new one instead."


class PeriodCloseQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError(_CLOSE_IS_RECORD)

    def delete(self):
        raise ImmutableError(_CLOSE_IS_RECORD)


class CloseAction(models.TextChoices):
    CLOSE = "close", "close"
    REOPEN = "reopen", "reopen"


class PeriodClose(models.Model):
    """One event in the record of closing the books: a close through a date, or a reopening back to
    an earlier date. Never changed or removed (the ORM refuses, admin is read-only, database
    triggers refuse UPDATE and DELETE); a chain of its own links the rows (``ledger.closes``).

    After the latest row, no movement may be dated before ``closed_before``: the start of the day
    after ``through`` in the books' time zone (stored, so a later change of zone leaves it as it was).
    """

    sequence = models.BigIntegerField(primary_key=True, editable=False, help_text="Gap-free order of the closes, from 1.")
    action = models.CharField(max_length=8, choices=CloseAction.choices)
    through = models.DateField(help_text="The books are closed through this business date, inclusive, after this row.")
    closed_before = models.DateTimeField(help_text="The start of the day after ``through``, in the books' time zone.")
    head_position = models.BigIntegerField(help_text="The ledger's head when this was recorded.")
    head_hash = models.CharField(max_length=64, help_text="The ledger's chain link at ``head_position``.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="period_closes")
    recorded_at = models.DateTimeField()
    reason = models.TextField()
    hash = models.CharField(max_length=64, help_text="SHA-256 chain link over this row and the previous close's link.")

    objects = PeriodCloseQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        permissions = [
            ("close_period", "Can close the books through a date"),
            ("reopen_period", "Can reopen a closed period (never one's own close)"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=[a.value for a in CloseAction]), name="periodclose_action_known"),
            models.CheckConstraint(condition=~Q(reason=""), name="periodclose_reason_given"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} through {self.through.isoformat()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError(_CLOSE_IS_RECORD)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(_CLOSE_IS_RECORD)
