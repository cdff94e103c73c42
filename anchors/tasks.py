"""Celery tasks of the anchors: thin wrappers around the service."""
from celery import shared_task

from .errors import NothingToAnchor
from .models import AnchorSource
from .services import anchor_record


@shared_task(name="anchors.anchor_ledger")
def anchor_ledger() -> str:
    """Attest the head at the end of the day (the beat's entry); an empty ledger is left alone."""
    try:
        anchored = anchor_record(source=AnchorSource.SCHEDULE)
    except NothingToAnchor as refusal:
        return refusal.message
    return str(anchored.anchor) if anchored.created else f"unchanged since {anchored.anchor}"
