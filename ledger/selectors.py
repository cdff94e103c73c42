"""Reads of the ledger that other code builds on. The head is read here and nowhere else (the
posting path takes and moves it in ``store``, under its lock)."""
from .models import LedgerHead


def ledger_head() -> LedgerHead:
    """The last position handed out, its chain link and its recorded time. Positions become
    visible in order (the head stays locked until its posting commits), so every position up to
    this one is there to read."""
    return LedgerHead.objects.get(pk=1)


def head_position() -> int:
    return LedgerHead.objects.values_list("position", flat=True).get(pk=1)
