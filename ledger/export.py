"""The ledger as JSON lines, for auditors who verify it with tools of their own.

The first line says what the export holds: ``{"format": "wms-ledger-export/2", "after": N,
"previous_hash": H, "upto": M}``, where ``previous_hash`` is the link before the first event
exported (``chain.GENESIS`` from the start). Then one line per event, in position order: every
field the chain covers (``chain.CHAINED_FIELDS``), written so that no value loses anything
(decimals and times as strings: times in UTC with microseconds), and its ``hash``.
``verifier/verify_export.py`` checks such a file with the standard library alone.
"""
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal

from . import chain
from .models import Movement
from .selectors import head_position

FORMAT = "wms-ledger-export/2"  # /2: each event carries its chain format, lot and allocation
EXPORT_CHUNK = 5000


def _value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def export_lines(*, after: int = 0, upto: int | None = None) -> Iterator[str]:
    """The export of positions (after, upto] (up to the head by default), line by line."""
    upto = head_position() if upto is None else upto
    previous = chain.GENESIS if after == 0 else Movement.objects.values_list("hash", flat=True).get(position=after)
    yield json.dumps({"format": FORMAT, "after": after, "previous_hash": previous, "upto": upto}) + "\n"
    rows = (
        Movement.objects.filter(position__gt=after, position__lte=upto).order_by("position")
        .values_list(*chain.CHAINED_FIELDS, "hash").iterator(chunk_size=EXPORT_CHUNK)
    )
    names = (*chain.CHAINED_FIELDS, "hash")
    for row in rows:
        yield json.dumps(dict(zip(names, map(_value, row))), ensure_ascii=False) + "\n"
