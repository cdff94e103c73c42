"""All row locking of the write side, in one place.

Posting locks, in this order and nowhere else:
1. the guard rows (``StockLevel``) of every product-location it touches, sorted by
   (product, location), so two postings never wait on each other in a cycle;
2. the ledger head, last, just before inserting: positions are handed out in commit order, so a
   reader that remembers "the last position I applied" can never skip a late-committing event.
The SQL is portable between PostgreSQL and SQLite (3.35+: RETURNING, ON CONFLICT).
"""
from decimal import Decimal

from django.db import connection

from .models import LedgerHead, StockLevel
from .quantities import from_db

_STOCK = StockLevel._meta.db_table
_HEAD = LedgerHead._meta.db_table

Key = tuple[int, int]  # (product id, location id)


def lock_stock_levels(keys: set[Key]) -> dict[Key, tuple[int, Decimal]]:
    """Lock (creating at zero where missing) the guard rows; return {key: (row id, on hand)}.

    One statement: an upsert that rewrites each row to itself takes its row lock and returns the
    committed quantity, for new and existing rows alike.
    """
    ordered = sorted(keys)
    values = ", ".join(["(%s, %s, 0)"] * len(ordered))
    params = [part for key in ordered for part in key]
    sql = (
        f"INSERT INTO {_STOCK} (product_id, location_id, quantity) VALUES {values} "
        f"ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = {_STOCK}.quantity "
        f"RETURNING id, product_id, location_id, quantity"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {(product, location): (pk, from_db(quantity)) for pk, product, location, quantity in rows}


def write_stock_levels(changed: dict[int, Decimal]) -> None:
    """Store new on-hand quantities for guard rows locked by ``lock_stock_levels``."""
    if not changed:
        return
    StockLevel.objects.bulk_update(
        [StockLevel(pk=pk, quantity=quantity) for pk, quantity in changed.items()], ["quantity"]
    )


def advance_head(count: int) -> tuple[int, str]:
    """Take the head's lock and reserve ``count`` positions; return (last position before, its hash)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_HEAD} SET position = position + %s WHERE id = 1 RETURNING position, hash", [count]
        )
        position, previous_hash = cursor.fetchone()
    return position - count, previous_hash


def seal_head(last_hash: str) -> None:
    """Record the chain link of the last event appended (the head is still locked by us)."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_HEAD} SET hash = %s WHERE id = 1", [last_hash])
