"""Walk the hash chain over every row of the ledger and say whether it is intact, or where it first
breaks; and, given a head an auditor saved earlier, whether today's ledger extends it. The chain of
period closes is verified with it (``closes.closes_verify``)."""
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from . import chain
from .closes import CloseChainReport, closes_verify
from .models import ChainCheck, LedgerHead, Movement
from .selectors import ledger_head

# What a report's ``problem_code`` may say, in the order the walk looks for them.
ROW_BEFORE_START = "row_before_start"  # a row at position 0 or below
MISSING_POSITION = "missing_position"  # a position up to the head with no row
BROKEN_LINK = "broken_link"  # a row whose content or predecessor does not match its stored hash
HEAD_MISMATCH = "head_mismatch"  # the head's hash is not the last event's
ROW_BEYOND_HEAD = "row_beyond_head"  # a row past the head's position: no posting wrote it
PROBLEM_CODES = (ROW_BEFORE_START, MISSING_POSITION, BROKEN_LINK, HEAD_MISMATCH, ROW_BEYOND_HEAD)

SAVED_HEAD_PATTERN = r"^[0-9]{1,18}:[0-9a-fA-F]{64}$"
SAVED_HEAD_FORMAT = "POSITION:HASH, a head saved earlier from ledger/head/ (e.g. 120:3f5a...; 64 hex digits)"


@dataclass(frozen=True)
class SavedHead:
    """A head (position and hash) an auditor saved earlier from ``GET ledger/head/``."""

    position: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> "SavedHead":
        """``POSITION:HASH``; ValueError, with a sentence for a person, if it is not that."""
        text = text.strip()
        if not re.fullmatch(SAVED_HEAD_PATTERN, text):
            raise ValueError(f"Expected {SAVED_HEAD_FORMAT}; got {text[:100]!r}.")
        position, hash_ = text.split(":")
        return cls(int(position), hash_.lower())

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"


@dataclass(frozen=True)
class ExtensionReport:
    """Whether today's ledger extends a saved head: the chain verifies from genesis through the saved
    position, and the event there carries the saved hash."""

    position: int
    hash: str
    extends: bool
    problem: str | None = None

    def __str__(self) -> str:
        if self.extends:
            return f"extends the saved head at position {self.position}"
        return f"does NOT extend the saved head at position {self.position}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    """``intact``: the movements' chain and the closes' both; the other fields are the movements'."""

    intact: bool
    events: int
    head_position: int
    head_hash: str
    first_broken_position: int | None = None
    problem: str | None = None
    problem_code: str | None = None
    expected_head: ExtensionReport | None = None
    closes: CloseChainReport = CloseChainReport(True, 0)

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        if self.first_broken_position is None:
            text = f"intact, {self.events} events, head hash {self.head_hash}"
        else:
            text = f"BROKEN at position {self.first_broken_position}: {self.problem}"
        if self.expected_head is not None:
            text = f"{text}; {self.expected_head}"
        return f"{text}; {self.closes}"


def chain_check(*, expect: SavedHead | None = None) -> ChainReport:
    """Verify the chain (``ledger_verify``) and keep what was found as a ``ChainCheck``: the API,
    ``verify_ledger`` and the nightly task all verify this way."""
    started = timezone.now()
    report = ledger_verify(expect=expect)
    ChainCheck.objects.create(
        checked_at=started, intact=report.intact, events=report.events, head_position=report.head_position,
        head_hash=report.head_hash, first_broken_position=report.first_broken_position,
        problem_code=report.problem_code or report.closes.problem_code or "",
    )
    return report


def ledger_verify(*, expect: SavedHead | None = None, chunk_size: int = 20_000) -> ChainReport:
    """Recompute every link over every row of the table, in position order (streamed), compare with
    the stored ones and with the head; with ``expect``, also say whether the ledger extends it.

    Postings may commit while the walk runs, so the walk reads the head only *after* streaming the
    rows. The stream is one statement, so it sees the rows of one moment; postings are atomic,
    serialized by the head's lock and become visible in position order, so at that moment the rows
    postings wrote are positions 1..K and the head says K. The head never goes back, so the head
    read afterwards says H >= K:

    - a row the stream saw beyond H was written by no posting: it is reported (``row_beyond_head``);
    - a position up to H that the stream did not reach (H > K) was posted meanwhile; those rows,
      committed before H was visible, are read in a second, short pass and chained on, so the head
      is compared with the link at its own position;
    - a gap before a row the stream saw at or below H, or a bad link at or below H, cannot come from
      postings, which fill positions in order.

    Reading the head first instead would either leave the rows beyond it unread (a row planted there
    goes unseen) or mistake an event posted during the walk for a planted one. Unlike reading both
    in one REPEATABLE READ snapshot, this holds inside any transaction a caller already has open. A
    row planted after the stream began is left to the next verification.
    """
    walk = _Walk(expect)
    with _rows(chunk_size) as rows:
        walk.feed(rows)
    head = ledger_head()
    stray = None  # a row the first pass saw beyond the head, after a gap
    if walk.stop is not None and walk.stop[0] == "gap" and walk.stop[1] > head.position:
        stray, walk.stop = walk.stop[1], None
    verified = walk.next - 1
    if walk.stop is None and verified < head.position:
        with _rows(chunk_size, after=verified, upto=head.position) as rows:
            walk.feed(rows)
    return _report(walk, head, stray, expect, closes_verify())


class _Walk:
    """The chain recomputed row by row from genesis until a row does not follow: ``next`` is the
    position expected next, ``previous`` the link before it, ``stop`` what stopped the walk, if
    anything (``("gap", row position)`` or ``("link", position)``)."""

    def __init__(self, expect: SavedHead | None):
        self.previous, self.next = chain.GENESIS, 1
        self.stop: tuple[str, int] | None = None
        self._expect_at = None if expect is None else expect.position
        # The verified link at the saved position, once the walk has passed it.
        self.link_at_expect = chain.GENESIS if self._expect_at == 0 else None

    def feed(self, rows: Iterable[tuple[int, str, str]]) -> None:
        rows = iter(rows)
        if self.link_at_expect is None and self._expect_at is not None and self.next <= self._expect_at:
            # Split the stream at the saved position (islice: no test in the loop for it).
            self._run(islice(rows, self._expect_at - self.next + 1))
            if self.stop is not None or self.next <= self._expect_at:
                return
            self.link_at_expect = self.previous
        self._run(rows)

    def _run(self, rows: Iterator[tuple[int, str, str]]) -> None:
        if self.stop is not None:
            return
        previous, expected, link_text = self.previous, self.next, chain.link_text
        for position, canonical_text, stored in rows:
            if position != expected:
                self.stop = ("gap", position)
                break
            link = link_text(previous, canonical_text)
            if link != stored:
                self.stop = ("link", position)
                break
            previous = link
            expected += 1
        self.previous, self.next = previous, expected


def _report(
    walk: _Walk, head: LedgerHead, stray: int | None, expect: SavedHead | None, closes: CloseChainReport,
) -> ChainReport:
    """The first problem in position order (see ``ledger_verify`` for why each one is certain)."""
    verified, at = walk.next - 1, head.position
    kind, row = walk.stop if walk.stop is not None else (None, None)
    if verified > at:
        problem = _beyond(at + 1, at)
    elif kind == "link":
        if row > at:
            problem = _beyond(row, at)
        else:
            problem = (row, BROKEN_LINK, "the event's content or its predecessor does not match its stored hash")
    elif kind == "gap" and row < walk.next:
        problem = (row, ROW_BEFORE_START, f"a row at position {row} lies before the first position, 1")
    elif kind == "gap" or verified < at:
        problem = (walk.next, MISSING_POSITION, f"event at position {walk.next} is missing; the head is at {at}")
    elif walk.previous != head.hash:
        problem = (at, HEAD_MISMATCH, "the head's hash does not match the last event's")
    elif stray is not None:
        problem = _beyond(stray, at)
    else:
        problem = None
    events = min(verified, at)
    extension = None if expect is None else _extension(expect, walk.link_at_expect, head, problem)
    if problem is None:
        return ChainReport(closes.intact, events, at, head.hash, expected_head=extension, closes=closes)
    position, code, sentence = problem
    return ChainReport(False, events, at, head.hash, position, sentence, code, extension, closes)


def _beyond(position: int, at: int) -> tuple[int, str, str]:
    return position, ROW_BEYOND_HEAD, f"a row at position {position} lies beyond the head at {at}; no posting wrote it"


def _extension(expect: SavedHead, link: str | None, head: LedgerHead, problem) -> ExtensionReport:
    def no(reason: str) -> ExtensionReport:
        return ExtensionReport(expect.position, expect.hash, False, reason)

    if expect.position > head.position:
        return no(f"its position is beyond today's head at {head.position}")
    if link is None:
        return no(f"the chain does not verify through position {expect.position}: it breaks at {problem[0]}")
    if link != expect.hash:
        return no(
            f"the chain's hash at position {expect.position} is {link}, not the saved {expect.hash}: "
            f"the ledger was rewritten at or before that position"
        )
    return ExtensionReport(expect.position, expect.hash, True)


@contextmanager
def _rows(chunk_size: int, *, after: int | None = None, upto: int | None = None):
    """(position, canonical text, stored hash) in position order, of every row or of those in
    (after, upto]. PostgreSQL writes the canonical text itself (streamed from a server-side cursor
    in one statement); elsewhere Python does."""
    if connection.vendor != "postgresql":
        rows = Movement.objects.order_by("position")
        if after is not None:
            rows = rows.filter(position__gt=after, position__lte=upto)
        values = rows.values_list(*chain.CHAINED_FIELDS, "hash").iterator(chunk_size=chunk_size)
        try:
            yield ((row[0], chain.event_canonical(row[:-1]), row[-1]) for row in values)
        finally:
            values.close()  # a walk that stops early leaves no cursor open
        return
    where, params = ("", []) if after is None else ("WHERE m.position > %s AND m.position <= %s", [after, upto])
    sql = (
        f"SELECT m.position, {chain.canonical_sql(Movement)}, m.hash FROM {Movement._meta.db_table} m "
        f"{where} ORDER BY m.position"
    )
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        yield _fetched(cursor, chunk_size)


def _fetched(cursor, chunk_size: int) -> Iterator[tuple[int, str, str]]:
    while rows := cursor.fetchmany(chunk_size):
        yield from rows
