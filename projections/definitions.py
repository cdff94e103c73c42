"""Each projection is one SQL query over a range of ledger positions.

The same query serves the three uses, so they cannot disagree: catching up adds the range
(after, upto] to the stored rows, a rebuild fills an empty table from (0, head], and verification
compares the stored rows with (0, checkpoint]. The SQL is portable (PostgreSQL and SQLite), and
its arithmetic exact on both (``exact``): each query is written for the database in use.
"""
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model

from ledger.legs import KEY_FIELDS, legs_of_totals_sql, legs_sql, product_change_sql
from ledger.models import Movement

from .exact import POSTGRESQL, Arithmetic, arithmetic
from .models import LocationStock, LotStock, ProductLocationStock, ProductStock

LEDGER = Movement._meta.db_table
RANGE = "m.position > %(after)s AND m.position <= %(upto)s"
LEGS = legs_sql(LEDGER, RANGE)  # every leg of every movement in the range: (product_id, location_id, lot_id, change)
LOT_LEGS = legs_sql(LEDGER, f"{RANGE} AND m.lot_id IS NOT NULL")  # those of lot-tracked products


@dataclass(frozen=True)
class Projection:
    name: str
    model: type[Model]
    keys: tuple[str, ...]
    values: tuple[str, ...]
    # Given the database's arithmetic: a query yielding keys then values, grouped by keys, for
    # the positions in (after, upto].
    query: Callable[[Arithmetic], str]

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def select_sql(self) -> str:
        return self.query(arithmetic())

    def insert_sql(self, table: str) -> str:
        """Fill an empty ``table`` (of this projection's shape) with the range's totals."""
        return f"INSERT INTO {table} ({', '.join(self.keys + self.values)}) {self.select_sql()}"

    def upsert_sql(self) -> str:
        """Add the range's totals to the stored rows (creating missing ones)."""
        a = arithmetic()
        columns = ", ".join(self.keys + self.values)
        additions = ", ".join(f"{v} = {a.stored(a.add(f'{self.table}.{v}', f'excluded.{v}'))}" for v in self.values)
        # "WHERE true": without a WHERE of its own, SQLite would read the SELECT's ON CONFLICT as a join's ON.
        return (
            f"INSERT INTO {self.table} ({columns}) SELECT * FROM ({self.select_sql()}) totals WHERE true "
            f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {additions}"
        )

    def rollup_sql(self, totals: str) -> str:
        """This projection's rows summed from ``totals``, a table of ``TOTALS_SQL``'s rows (PostgreSQL)."""
        keys, values = ", ".join(self.keys), ", ".join(f"sum({value})" for value in self.values)
        present = " AND ".join(f"{key} IS NOT NULL" for key in self.keys)
        return f"SELECT {keys}, {values} FROM {totals} WHERE {present} GROUP BY {keys}"


PRODUCT_LOCATION = Projection(
    name="stock_by_product_location",
    model=ProductLocationStock,
    keys=("product_id", "location_id"),
    values=("quantity",),
    query=lambda a: f"SELECT product_id, location_id, {a.stored(a.sum('change'))} FROM ({LEGS}) legs GROUP BY product_id, location_id",
)

LOT = Projection(
    name="stock_by_lot",
    model=LotStock,
    keys=("product_id", "location_id", "lot_id"),
    values=("quantity",),
    query=lambda a: (
        f"SELECT product_id, location_id, lot_id, {a.stored(a.sum('change'))} FROM ({LOT_LEGS}) legs "
        f"GROUP BY product_id, location_id, lot_id"
    ),
)

LOCATION = Projection(
    name="stock_by_location",
    model=LocationStock,
    keys=("location_id",),
    values=("quantity",),
    query=lambda a: f"SELECT location_id, {a.stored(a.sum('change'))} FROM ({LEGS}) legs GROUP BY location_id",
)

# A transfer (or its reversal) nets to zero for the product; receipts carrying a unit cost, net
# of their reversals, give the average cost used to value stock. Each receipt's value is rounded
# to the ten-thousandth on its own, so a total is the same however the range is cut into
# catch-ups. Each sum reads only the rows it is about (FILTER), and a reversal looks up its
# original by key (joining the ledger to itself would read it twice).
_COSTED_RECEIPT = "m.kind = 'receipt' AND m.unit_cost IS NOT NULL"


def _of_original(expression: str) -> str:
    """``expression`` (over ``m``) of the costed receipt that reversal ``m`` reverses, else NULL."""
    original = expression.replace("m.", "o.")
    return (
        f"(SELECT {original} FROM {LEDGER} o WHERE o.position = m.reverses_id"
        f" AND o.kind = 'receipt' AND o.unit_cost IS NOT NULL)"
    )


def _net_of_reversals(a: Arithmetic, expression: str) -> str:
    received = f"coalesce({a.sum(expression)} FILTER (WHERE {_COSTED_RECEIPT}), 0)"
    reversed_ = f"coalesce({a.sum(_of_original(expression))} FILTER (WHERE m.kind = 'reversal'), 0)"
    return a.stored(a.subtract(received, reversed_))


PRODUCT = Projection(
    name="stock_by_product",
    model=ProductStock,
    keys=("product_id",),
    values=("quantity", "received_quantity", "received_value"),
    query=lambda a: f"""
        SELECT m.product_id,
               {a.stored(f"coalesce({a.sum(product_change_sql())}, 0)")},
               {_net_of_reversals(a, "m.quantity")},
               {_net_of_reversals(a, a.value("m.quantity", "m.unit_cost"))}
          FROM {LEDGER} m
         WHERE {RANGE}
         GROUP BY m.product_id
    """,
)

PROJECTIONS = (PRODUCT_LOCATION, PRODUCT, LOCATION, LOT)

# A rebuild on PostgreSQL reads the ledger once for every projection: its movements summed per
# key fields (their delta, and what PRODUCT sums of receipts), split into legs (what PRODUCT sums
# rides on a movement's first leg), summed per product, location and lot into a table that each
# projection sums its own rows from (``rollup_sql``: far fewer rows than the ledger).
_MOVEMENT_TOTALS = f"""
    SELECT {", ".join(KEY_FIELDS)}, sum(m.delta) AS delta,
           {_net_of_reversals(POSTGRESQL, "m.quantity")} AS received_quantity,
           {_net_of_reversals(POSTGRESQL, POSTGRESQL.value("m.quantity", "m.unit_cost"))} AS received_value
      FROM {LEDGER} m
     WHERE {RANGE}
     GROUP BY {", ".join(KEY_FIELDS)}
"""
TOTALS_SQL = f"""
    SELECT product_id, location_id, lot_id, sum(change) AS quantity,
           sum(received_quantity) AS received_quantity, sum(received_value) AS received_value
      FROM ({legs_of_totals_sql(f"({_MOVEMENT_TOTALS})", carried=("received_quantity", "received_value"))}) legs
     GROUP BY product_id, location_id, lot_id
"""
