"""Applying the ledger to the projections: catch up incrementally, or rebuild from the start.

Both lock the projection's checkpoint row first, so two workers (or a worker and a rebuild)
take turns: the second sees the first's checkpoint and applies only what is left, never
counting an event twice. Positions are gap-free and become visible in order (see
``ledger.store``), so "everything after my checkpoint up to the head" is never missing an event.
"""
import logging
import time

from django.db import DatabaseError, connection, transaction

from ledger.selectors import head_position

from . import exact, rebuild
from .definitions import PROJECTIONS, Projection
from .models import Checkpoint

logger = logging.getLogger(__name__)

CATCH_UP_CHUNK = 50_000  # events per transaction: bounded work, bounded lock time


def _locked_checkpoint(projection: Projection) -> Checkpoint:
    return Checkpoint.objects.select_for_update().get(pk=projection.name)


def _apply(projection: Projection, *, after: int, upto: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(projection.upsert_sql(), {"after": after, "upto": upto})


def projection_catch_up(projection: Projection, *, chunk: int = CATCH_UP_CHUNK) -> int:
    """Apply every committed event past the checkpoint; return how many were applied. Each
    transaction records how long the catch-up has taken so far (the operator's metric)."""
    applied = 0
    started = time.monotonic()
    while True:
        with transaction.atomic():
            checkpoint = _locked_checkpoint(projection)
            head = head_position()
            upto = min(head, checkpoint.position + chunk)
            if upto <= checkpoint.position:
                return applied
            _apply(projection, after=checkpoint.position, upto=upto)
            applied += upto - checkpoint.position
            checkpoint.applied(upto, seconds=time.monotonic() - started)
        if upto == head:  # caught up with the head as read; later postings queue their own run
            return applied


def projections_catch_up() -> dict[str, int | str]:
    """Catch every projection up, each on its own: one that fails (its error is kept on its
    checkpoint and shown by ``projections_status``) holds back none of the others."""
    results: dict[str, int | str] = {}
    for projection in PROJECTIONS:
        try:
            results[projection.name] = projection_catch_up(projection)
        except DatabaseError as error:
            reason = exact.explain(error)
            logger.error("projection %s could not catch up: %s", projection.name, reason)
            Checkpoint.failed(projection.name, reason)
            results[projection.name] = f"failed: {reason}"
    return results


def projection_rebuild(projection: Projection) -> int:
    """Refill the projection from the first event, set-based, in one transaction (see
    ``rebuild``): readers see the previous rows until the commit, then the new ones, never a
    half-built table. Returns the number of events replayed.
    """
    with transaction.atomic():
        checkpoint = _locked_checkpoint(projection)
        started = time.monotonic()
        head = head_position()
        rebuild.refill(projection, upto=head)
        checkpoint.rebuilt(head, seconds=time.monotonic() - started)
    return head


def projections_rebuild() -> dict[str, int]:
    """Rebuild every projection. On PostgreSQL all of them in one transaction, from one read of the
    ledger (``rebuild.refill_all``); elsewhere one after the other."""
    if connection.vendor != "postgresql":
        return {projection.name: projection_rebuild(projection) for projection in PROJECTIONS}
    with transaction.atomic():
        checkpoints = [_locked_checkpoint(projection) for projection in PROJECTIONS]  # always in this order
        started = time.monotonic()
        head = head_position()
        rebuild.refill_all(PROJECTIONS, upto=head)
        for checkpoint in checkpoints:
            checkpoint.rebuilt(head, seconds=time.monotonic() - started)
    return {projection.name: head for projection in PROJECTIONS}

