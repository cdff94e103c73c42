"""Recording an anchor: read the ledger's head, sign it (when a key is set), keep it."""
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.selectors import ledger_head

from . import signing
from .errors import NothingToAnchor
from .models import Anchor, AnchorSource


@dataclass(frozen=True, slots=True)
class Anchored:
    anchor: Anchor
    created: bool  # False: the head had not moved since ``anchor``, which attests it already


def anchor_record(*, source: AnchorSource, user=None) -> Anchored:
    """Attest the ledger's head now. A head anchored before is not anchored again (the earlier
    anchor is returned): every later anchor pins everything before it, and a repeated request or a
    quiet day adds no row. An empty ledger has nothing to attest (``NothingToAnchor``).

    Anchoring writes nothing to the ledger and takes none of its locks: the head row is read as
    committed, and every position up to it is there to read (``ledger.selectors.ledger_head``)."""
    head = ledger_head()
    if head.position == 0:
        raise NothingToAnchor()
    existing = Anchor.objects.filter(position=head.position).first()
    if existing is not None:
        return Anchored(existing, created=False)
    anchored_at = timezone.now()
    signed = signing.sign(signing.message(
        position=head.position, hash=head.hash, recorded_at=head.recorded_at, anchored_at=anchored_at,
    ))
    try:
        with transaction.atomic():
            anchor = Anchor.objects.create(
                position=head.position, hash=head.hash, recorded_at=head.recorded_at, anchored_at=anchored_at,
                source=source, requested_by=user,
                signature=signed.signature if signed else "", public_key=signed.public_key if signed else "",
            )
    except IntegrityError:  # anchored at the same moment by another request: that anchor attests it
        return Anchored(Anchor.objects.get(position=head.position), created=False)
    return Anchored(anchor, created=True)
