"""Closing the books through a date, and reopening them: the rules, the chain of closes, and the
check every posting makes.

Business dates. The ledger keeps times in UTC; the books keep dates in their time zone, Django's
``TIME_ZONE``. "Closed through D" means no movement may be dated before the start of D+1 there:
``closed_before``, stored with the close, so a later change of zone leaves past closes as they
were. A close through today or later is refused: it would refuse the postings of today.

Rules. The latest row is the state: after it, nothing may be dated before its ``closed_before``.
A close goes forward only, through a later date than the one the books are closed through
(``period_already_closed``). A reopening (its own permission) goes back to an earlier date, as a
new row with a reason; never by the person who made the latest close (four eyes).

The chain. Each row's ``hash`` is ``ledger.chain``'s link (``sha256(previous + "\\n" +
canonical)``) over ``CHAINED_FIELDS``, each written as ``ledger.chain`` writes it, the date
``through`` as ISO 8601 (``2026-10-31``); the first row's previous link is ``GENESIS``. A row also
carries the ledger's head (position and link) when it was recorded, so each close attests what the
books held when they were closed. ``closes_verify`` recomputes all of it.

Enforcement. Recording a close takes the ledger head's lock, the lock every posting takes last, and
copies the cutoff onto the head row (``store.lock_head``, ``store.set_closed_before``). A posting
reads the head's cutoff as it takes that lock, so it sees every close committed before it, including
one that committed while the posting was between its checks and its commit: it appends nothing
dated inside and is refused (``store.ClosedBefore``). Before it locks anything, posting checks the
latest close as this process remembers it (``common.generations``: no read on the normal path), so
the usual refusal comes first and cheaply; the head is what makes it certain.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from typing import Protocol

from django.db import connection, transaction
from django.utils import timezone

from common.generations import Generation
from common.ids import MAX_ID

from . import chain, store
from .errors import CloseInvalid, PeriodAlreadyClosed, PeriodClosed, PeriodNotClosed, ReopenByCloser
from .models import CloseAction, LedgerHead, Movement, PeriodClose

CHAINED_FIELDS = (
    "sequence", "action", "through", "closed_before", "head_position", "head_hash", "user_id", "recorded_at", "reason",
)

# Any change to the closes moves this on (database triggers, migration 0008).
close_changes = Generation("period_close")


def books_zone():
    """The books' time zone: business dates are days there."""
    return timezone.get_default_timezone()


def day_after_starts(through: date) -> datetime:
    """The start of the day after ``through`` in the books' time zone, in UTC."""
    return datetime.combine(through + timedelta(days=1), time.min, tzinfo=books_zone()).astimezone(dt_timezone.utc)


def close_link(previous: str, close: PeriodClose) -> str:
    """The chain link of ``close`` after the link ``previous`` (``GENESIS`` for the first row)."""
    return chain.link(previous, [getattr(close, field) for field in CHAINED_FIELDS])


def latest_close(*, fresh: bool = False) -> PeriodClose | None:
    """The latest close or reopening, which says what is closed; None if the books never were.
    Remembered per process until the closes change anywhere (``fresh``: read it now)."""
    if not fresh:
        close_changes.current()
        if "latest" in close_changes.memo:
            return close_changes.memo["latest"]
    latest = PeriodClose.objects.select_related("user").order_by("-sequence").first()
    if not fresh:
        close_changes.memo["latest"] = latest
    return latest


class Dated(Protocol):
    """What the check reads of a movement to post (posting's ``_Intent``): its index in the list
    posted and its business time."""

    index: int
    occurred_at: datetime


def refuse_closed(movements: Sequence[Dated], *, batch: bool) -> None:
    """Refuse (``PeriodClosed``, naming the item in a batch) the first movement dated inside the
    closed period. Checked against the close this process remembers; read afresh before refusing,
    so a reopening made elsewhere a moment ago is not refused for."""
    remembered = latest_close()
    if remembered is None or all(movement.occurred_at >= remembered.closed_before for movement in movements):
        return
    close = latest_close(fresh=True)
    if close is None:
        return
    for movement in movements:
        if movement.occurred_at < close.closed_before:
            raise closed_refusal(close, movement, batch=batch)


def refusal_under_lock(movement: Dated, *, batch: bool) -> PeriodClosed:
    """The refusal of a movement the head held back (``store.ClosedBefore``): the close that did, read
    now (it is committed: the head's lock is held). This process's memory of the closes was behind:
    it is dropped."""
    close_changes.forget()
    close = latest_close(fresh=True)
    if close is None or movement.occurred_at >= close.closed_before:
        raise RuntimeError("The ledger head's closed_before disagrees with the latest period close; run verify_ledger.")
    return closed_refusal(close, movement, batch=batch)


def closed_refusal(close: PeriodClose, movement: Dated, *, batch: bool) -> PeriodClosed:
    refusal = PeriodClosed(close=close, occurred_at=movement.occurred_at)
    return refusal.for_item(movement.index) if batch else refusal


def period_close(*, user, through: date, reason: str) -> PeriodClose:
    """Close the books through ``through``: later than they are closed through, before today."""

    def refuse(latest: PeriodClose | None) -> None:
        if latest is not None and through <= latest.through:
            raise PeriodAlreadyClosed(close=latest)

    return _record(user=user, action=CloseAction.CLOSE, through=through, reason=reason, refuse=refuse)


def period_reopen(*, user, through: date, reason: str) -> PeriodClose:
    """Reopen the books back to ``through`` (closed through it afterwards), earlier than they are
    closed through; never by the person who made the latest close."""

    def refuse(latest: PeriodClose | None) -> None:
        if latest is None or through >= latest.through:
            raise PeriodNotClosed(close=latest)
        last_close = latest if latest.action == CloseAction.CLOSE else (
            PeriodClose.objects.select_related("user").filter(action=CloseAction.CLOSE).order_by("-sequence").first()
        )
        if last_close.user_id == user.pk:
            raise ReopenByCloser(close=last_close)

    return _record(user=user, action=CloseAction.REOPEN, through=through, reason=reason, refuse=refuse)


@transaction.atomic
def _record(*, user, action: str, through: date, reason: str, refuse) -> PeriodClose:
    """Append one row to the closes under the head's lock: checked against the latest row (read
    under the lock, so two closes at once are checked one after the other), chained on it, and
    copied onto the head."""
    today = timezone.localdate(timezone.now(), books_zone())
    if through >= today:
        raise CloseInvalid({"through": [f"Must be a date before today ({today.isoformat()}) in the books' time zone."]})
    if not reason.strip():
        raise CloseInvalid({"reason": ["Say why."]})
    head_position, head_hash = store.lock_head()
    latest = latest_close(fresh=True)
    refuse(latest)
    close = PeriodClose(
        sequence=latest.sequence + 1 if latest else 1, action=action, through=through,
        closed_before=day_after_starts(through), head_position=head_position, head_hash=head_hash,
        user=user, recorded_at=timezone.now(), reason=reason,
    )
    close.hash = close_link(latest.hash if latest else chain.GENESIS, close)
    close.save(force_insert=True)
    store.set_closed_before(close.closed_before)
    close_changes.forget()
    return close


# ---------------------------------------------------------------------------------------------
# Verification

# What a report's ``problem_code`` may say.
CLOSE_MISSING = "close_missing"  # a sequence number with no row (or a row out of order)
CLOSE_BROKEN_LINK = "close_broken_link"  # a row whose content or predecessor does not match its hash
CLOSE_HEAD_MISMATCH = "close_head_mismatch"  # the ledger's link at the row's head position is not the one it attests
CLOSE_CUTOFF_MISMATCH = "close_cutoff_mismatch"  # the ledger head's cutoff is not the latest close's
DATED_INSIDE_CLOSE = "dated_inside_close"  # a movement recorded after a close is dated inside it
CLOSE_PROBLEM_CODES = (CLOSE_MISSING, CLOSE_BROKEN_LINK, CLOSE_HEAD_MISMATCH, CLOSE_CUTOFF_MISMATCH, DATED_INSIDE_CLOSE)


@dataclass(frozen=True)
class CloseChainReport:
    """What ``closes_verify`` found: intact with the number of rows, or the first row in sequence
    order where something is wrong, and what."""

    intact: bool
    closes: int
    first_broken_sequence: int | None = None
    problem: str | None = None
    problem_code: str | None = None

    def __str__(self) -> str:
        if self.intact:
            return f"closes intact, {self.closes} recorded"
        return f"closes BROKEN at close {self.first_broken_sequence}: {self.problem}"


def closes_verify() -> CloseChainReport:
    """Recompute the chain of closes from ``GENESIS``; check that each row's head is the ledger's
    (the event at its position carries its link), that the ledger head's cutoff is the latest
    close's, and that every close was kept: no movement recorded after it (and before the next row)
    is dated before its cutoff. The rows and the head's cutoff are read in one statement, so a close
    committing meanwhile is seen in both or in neither."""
    head_cutoff, closes = _closes_with_head_cutoff()
    links = dict(Movement.objects.filter(position__in={c.head_position for c in closes}).values_list("position", "hash"))
    links[0] = chain.GENESIS
    previous = chain.GENESIS
    for expected, close in enumerate(closes, start=1):
        if close.sequence != expected:
            return _broken(len(closes), expected, CLOSE_MISSING, f"close {expected} is missing")
        link = close_link(previous, close)
        if link != close.hash:
            return _broken(len(closes), expected, CLOSE_BROKEN_LINK, "the close's content or its predecessor does not match its stored hash")
        if links.get(close.head_position) != close.head_hash:
            return _broken(
                len(closes), expected, CLOSE_HEAD_MISMATCH,
                f"it attests the ledger's link {close.head_hash} at position {close.head_position}, which the ledger does not hold",
            )
        previous = link
    latest_cutoff = closes[-1].closed_before if closes else None
    if head_cutoff != latest_cutoff:
        at = closes[-1].sequence if closes else 0
        return _broken(len(closes), at, CLOSE_CUTOFF_MISMATCH, "the ledger head's closed_before is not the latest close's")
    if closes and (breach := _first_dated_inside(upto=closes[-1].sequence)):
        sequence, position = breach
        return _broken(
            len(closes), sequence, DATED_INSIDE_CLOSE,
            f"movement {position}, recorded after this row, is dated before its cutoff {closes[sequence - 1].closed_before.isoformat()}",
        )
    return CloseChainReport(True, len(closes))


# Each row's cutoff holds from its head position to the next row's: the first movement in that
# range dated before it, over every row, in one statement. Each range is read by the key (both
# bounds), so every movement after the first close is read once.
_DATED_INSIDE_SQL = f"""
    SELECT c.sequence, min(m.position) FROM (
        SELECT sequence, head_position, closed_before, lead(head_position) OVER (ORDER BY sequence) AS next_position
          FROM {PeriodClose._meta.db_table}
    ) c
    JOIN {Movement._meta.db_table} m ON m.position > c.head_position
         AND m.position <= coalesce(c.next_position, {MAX_ID}) AND m.occurred_at < c.closed_before
    WHERE c.sequence <= %s
    GROUP BY c.sequence ORDER BY min(m.position) LIMIT 1
"""


def _first_dated_inside(*, upto: int) -> tuple[int, int] | None:
    """(close sequence, movement position) of the first movement dated inside a close recorded
    before it, among the rows verified (``upto``: a close recorded meanwhile is the next walk's)."""
    with connection.cursor() as cursor:
        cursor.execute(_DATED_INSIDE_SQL, [upto])
        return cursor.fetchone()


def _broken(count: int, sequence: int, code: str, problem: str) -> CloseChainReport:
    return CloseChainReport(False, count, sequence, problem, code)


def _closes_with_head_cutoff() -> tuple[datetime | None, list[PeriodClose]]:
    """The head's cutoff and every close in sequence order, from one statement (one snapshot)."""
    fields = [PeriodClose._meta.get_field(name.removesuffix("_id")) for name in (*CHAINED_FIELDS, "hash")]
    columns = ", ".join(f"c.{field.column}" for field in fields)
    sql = (
        f"SELECT h.closed_before, {columns} FROM {LedgerHead._meta.db_table} h "
        f"LEFT JOIN {PeriodClose._meta.db_table} c ON TRUE WHERE h.id = 1 ORDER BY c.sequence"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    closes = [
        PeriodClose(**{field.attname: _from_db(field, value) for field, value in zip(fields, row[1:])})
        for row in rows if row[1] is not None
    ]
    return store.datetime_from_db(rows[0][0]), closes


def _from_db(field, value):
    """A value read by raw SQL as the model holds it (SQLite gives dates and times as text)."""
    if field.get_internal_type() == "DateTimeField":
        return store.datetime_from_db(value)
    return field.to_python(value)
