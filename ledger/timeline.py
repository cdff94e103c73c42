"""On-hand stock of one product-location over business time, as far back as a posting needs it.

A movement says what happened at its business time (``occurred_at``), which may lie before
movements already recorded (a late delivery note, a count entered the next morning). Stock as of a
business time is the sum of every movement dated at or before it, so a backdated movement changes
the balance at every business time from its date on. Posting checks its legs against all of those
balances, not only today's: this is what it reads them from.
"""
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple


class StockChange(NamedTuple):
    """One movement's change to one key's stock, at its business time."""

    at: datetime
    change: Decimal


class Balance(NamedTuple):
    """The stock of one key from business time ``at`` on (until the next change)."""

    at: datetime
    quantity: Decimal


class StockTimeline:
    """The balance from ``start`` on: ``opening`` covers every movement dated at or before
    ``start``; ``changes`` are the movements dated after it, in time order.

    A posting that is not backdated needs no history: its timeline starts at the latest business
    time of the product-location (or at None, for one that never had stock) with no changes.
    """

    def __init__(self, start: datetime | None, opening: Decimal, changes: Sequence[StockChange] = ()):
        self.start = start
        self.opening = opening
        self._times = [at for at, _ in changes]
        self._changes = [change for _, change in changes]
        self.current = opening + sum(self._changes, Decimal(0))

    @property
    def latest(self) -> datetime | None:
        return self._times[-1] if self._times else self.start

    def _is_latest(self, at: datetime) -> bool:
        return self.latest is None or at >= self.latest

    def balance_at(self, at: datetime) -> Decimal:
        """Stock as of business time ``at`` (every movement dated at or before it)."""
        if self._is_latest(at):
            return self.current
        self._check_covers(at)
        return self.opening + sum(self._changes[:bisect_right(self._times, at)], Decimal(0))

    def balances_from(self, at: datetime) -> Iterator[Balance]:
        """The balance at ``at``, then after each later movement, with the time it holds from."""
        if self._is_latest(at):
            yield Balance(at, self.current)
            return
        self._check_covers(at)
        first_later = bisect_right(self._times, at)
        balance = self.opening + sum(self._changes[:first_later], Decimal(0))
        yield Balance(at, balance)
        for when, change in zip(self._times[first_later:], self._changes[first_later:]):
            balance += change
            yield Balance(when, balance)

    def lowest_from(self, at: datetime) -> Balance:
        """The lowest balance at any business time from ``at`` on, and the first time it holds."""
        if self._is_latest(at):  # the common case: nothing dated later
            return Balance(at, self.current)
        return min(self.balances_from(at), key=lambda balance: balance.quantity)

    def highest_from(self, at: datetime) -> Decimal:
        """The highest balance at any business time from ``at`` on."""
        if self._is_latest(at):
            return self.current
        return max(balance.quantity for balance in self.balances_from(at))

    def add(self, at: datetime, change: Decimal) -> None:
        """Record a movement of ``change`` at business time ``at``."""
        if self._is_latest(at):
            self._times.append(at)
            self._changes.append(change)
        else:
            self._check_covers(at)
            index = bisect_right(self._times, at)
            self._times.insert(index, at)
            self._changes.insert(index, change)
        self.current += change

    def _check_covers(self, at: datetime) -> None:
        if self.start is not None and at < self.start:
            raise ValueError(f"this timeline starts at {self.start.isoformat()}, after {at.isoformat()}")

