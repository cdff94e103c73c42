"""Walk the hash chain and say whether the ledger is intact, or where it first breaks."""
from dataclasses import asdict, dataclass

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
    rows = (
        Movement.objects.filter(position__lte=head.position)
        .order_by("position")
        .values_list(*chain.CHAINED_FIELDS, "hash")
        .iterator(chunk_size=chunk_size)
    )
    previous, expected_position = chain.GENESIS, 1

    def broken(position: int, problem: str) -> ChainReport:
        return ChainReport(False, expected_position - 1, head.position, head.hash, position, problem)

    for row in rows:
        position, stored = row[0], row[-1]
        if position != expected_position:
            return broken(expected_position, f"event at position {expected_position} is missing")
        previous = chain.link(previous, row[:-1])
        if previous != stored:
            return broken(position, "the event's content or its predecessor does not match its stored hash")
        expected_position += 1
    if expected_position - 1 != head.position:
        return broken(expected_position, f"the head says {head.position} events, the table ends at {expected_position - 1}")
    if previous != head.hash:
        return broken(head.position, "the head's hash does not match the last event's")
    return ChainReport(True, head.position, head.position, head.hash)
