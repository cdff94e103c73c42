"""What every app shares in the database: the generation counters (see ``common.generations``), and
the shape of a read side's checkpoint."""
from django.db import models
from django.utils import timezone


class Generation(models.Model):
    """A counter that database triggers move on whenever what it names changes (``auth``: users,
    groups, permissions, tokens; ``catalog``: products, warehouses, locations), whoever changes it:
    admin, the API, the shell, ``QuerySet.update()`` or raw SQL. It moves in the changing
    transaction, so other processes see it move only once the change is committed."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class ReadSideCheckpoint(models.Model):
    """How far a read side built from the ledger (a stock projection, the valuation) has applied
    it, and how its last catch-up, rebuild or failure went: each read side's table of these."""

    name = models.CharField(max_length=64, primary_key=True)
    position = models.BigIntegerField(default=0, help_text="Ledger position applied up to (inclusive).")
    events_applied = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the last catch-up failed (empty once one succeeds).")
    failed_at = models.DateTimeField(null=True, blank=True)
    catch_up_seconds = models.FloatField(null=True, blank=True, help_text="How long the last catch-up that applied events took.")
    rebuild_seconds = models.FloatField(null=True, blank=True, help_text="How long the last rebuild took.")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"

    def applied(self, upto: int, *, seconds: float) -> None:
        """A catch-up's transaction applied the events up to ``upto``; ``seconds`` since it began."""
        self.events_applied += upto - self.position
        self.position = upto
        self.updated_at = timezone.now()
        self.error, self.failed_at = "", None
        self.catch_up_seconds = seconds
        self.save()

    def rebuilt(self, head: int, *, seconds: float) -> None:
        """A rebuild replayed the events up to ``head`` in ``seconds``."""
        self.position = self.events_applied = head
        self.updated_at = self.rebuilt_at = timezone.now()
        self.error, self.failed_at = "", None
        self.rebuild_seconds = seconds
        self.save()

    @classmethod
    def failed(cls, name: str, reason: str) -> None:
        """Keep why a catch-up failed, outside its rolled-back transaction."""
        cls.objects.filter(pk=name).update(error=reason[:2000], failed_at=timezone.now())
