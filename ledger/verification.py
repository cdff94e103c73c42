"""Walk the hash chain and say whether the ledger is intact, or where it first breaks."""
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from django.db import connection, transaction

from . import chain
from .models import LedgerHead, Movement


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    events: int
    head_position: int
    head_hash: str
    first_broken_position: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        if self.intact:
            return f"intact, {self.events} events, head hash {self.head_hash}"
        return f"BROKEN at position {self.first_broken_position}: {self.problem}"


def ledger_head() -> LedgerHead:
    return LedgerHead.objects.get(pk=1)


def ledger_verify(*, chunk_size: int = 20_000) -> ChainReport:
    """Recompute every link in position order (streamed) and compare with the stored ones.

    The head is read first: appends are serialized by its lock, so every event up to its
    position has committed, and events appended meanwhile lie beyond it and are left out.
    """
    head = ledger_head()
    previous, expected_position = chain.GENESIS, 1

    def broken(position: int, problem: str) -> ChainReport:
        return ChainReport(False, expected_position - 1, head.position, head.hash, position, problem)

    for position, canonical_text, stored in _canonical_rows(head.position, chunk_size):
        if position != expected_position:
            return broken(expected_position, f"event at position {expected_position} is missing")
        previous = chain.link_text(previous, canonical_text)
        if previous != stored:
            return broken(position, "the event's content or its predecessor does not match its stored hash")
        expected_position += 1
    if expected_position - 1 != head.position:
        return broken(expected_position, f"the head says {head.position} events, the table ends at {expected_position - 1}")
    if previous != head.hash:
        return broken(head.position, "the head's hash does not match the last event's")
    return ChainReport(True, head.position, head.position, head.hash)


def _canonical_rows(upto: int, chunk_size: int) -> Iterator[tuple[int, str, str]]:
    """(position, canonical text, stored hash) in position order. PostgreSQL writes the canonical
    text itself (streamed from a server-side cursor); elsewhere Python does."""
    if connection.vendor != "postgresql":
        rows = (
            Movement.objects.filter(position__lte=upto).order_by("position")
            .values_list(*chain.CHAINED_FIELDS, "hash").iterator(chunk_size=chunk_size)
        )
        for row in rows:
            yield row[0], chain.canonical(row[:-1]), row[-1]
        return
    sql = (
        f"SELECT m.position, {chain.canonical_sql(Movement)}, m.hash FROM {Movement._meta.db_table} m "
        f"WHERE m.position <= %s ORDER BY m.position"
    )
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, [upto])
        while rows := cursor.fetchmany(chunk_size):
            yield from rows
