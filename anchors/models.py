"""Anchors: the ledger's head (position, hash, recorded time) attested at a moment, kept for good.

An anchor is never updated or deleted: the ORM refuses, admin is read-only, and on the database a
trigger refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL). Each position is anchored at most
once (``anchor_position_once``): the head has not moved since an anchor of it, so a second one
would attest nothing new.
"""
from django.conf import settings
from django.db import models

from ledger.models import ImmutableError

IMMUTABLE = "Anchors are append-only: an attested head is never changed or removed."


class AnchorSource(models.TextChoices):
    SCHEDULE = "schedule", "the end-of-day schedule"
    COMMAND = "command", "manage.py anchor_ledger"
    API = "api", "a request in the API"


class AnchorQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableError(IMMUTABLE)

    def delete(self):
        raise ImmutableError(IMMUTABLE)


class Anchor(models.Model):
    """The head at ``anchored_at``, signed (``anchors.signing``) when a key is set."""

    position = models.BigIntegerField(help_text="The head's position: the last event it attests.")
    hash = models.CharField(max_length=64, help_text="The chain link of the event at ``position``.")
    recorded_at = models.DateTimeField(help_text="When the event at ``position`` was recorded.")
    anchored_at = models.DateTimeField(help_text="When the head was read and attested.")
    source = models.CharField(max_length=16, choices=AnchorSource.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The user who asked, for an anchor requested in the API.",
    )
    signature = models.CharField(
        max_length=88, blank=True, help_text="Ed25519 signature of the signed message, base64; empty: unsigned."
    )
    public_key = models.CharField(
        max_length=44, blank=True, help_text="The signing key's public half (32 bytes, base64); empty: unsigned."
    )

    objects = AnchorQuerySet.as_manager()

    class Meta:
        get_latest_by = "position"
        constraints = [models.UniqueConstraint(fields=["position"], name="anchor_position_once")]

    def __str__(self) -> str:
        signed = "signed" if self.signature else "unsigned"
        return f"head #{self.position} {self.hash[:12]} at {self.anchored_at:%Y-%m-%d %H:%M:%S}, {signed}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError(IMMUTABLE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(IMMUTABLE)
