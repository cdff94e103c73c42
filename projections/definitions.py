"""Each projection is one SQL query over a range of ledger positions.

The same query serves the three uses, so they cannot disagree: catching up adds the range
(after, upto] to the stored rows, a rebuild fills an empty table from (0, head], and verification
compares the stored rows with (0, checkpoint]. The SQL is portable (PostgreSQL and SQLite).
"""
from dataclasses import dataclass

from django.db.models import Model

from ledger.models import Movement

from .models import LocationStock, ProductLocationStock, ProductStock

LEDGER = Movement._meta.db_table
RANGE = "m.position > %(after)s AND m.position <= %(upto)s"

# Every leg of every movement in the range: (product, location, signed change).
LEGS = f"""
    SELECT m.product_id AS product_id, m.location_id AS location_id, m.delta AS change
      FROM {LEDGER} m WHERE {RANGE}
    UNION ALL
    SELECT m.product_id, m.to_location_id, -m.delta
      FROM {LEDGER} m WHERE {RANGE} AND m.to_location_id IS NOT NULL
"""


@dataclass(frozen=True)
class Projection:
    name: str
    model: type[Model]
    keys: tuple[str, ...]
    values: tuple[str, ...]
    select: str  # yields keys then values, grouped by keys, for positions in (after, upto]

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def insert_sql(self, table: str) -> str:
        """Fill an empty ``table`` (of this projection's shape) with the range's totals."""
        return f"INSERT INTO {table} ({', '.join(self.keys + self.values)}) {self.select}"

    def upsert_sql(self) -> str:
        """Add the range's totals to the stored rows (creating missing ones)."""
        columns = ", ".join(self.keys + self.values)
        additions = ", ".join(f"{v} = {self.table}.{v} + excluded.{v}" for v in self.values)
        return (
            f"INSERT INTO {self.table} ({columns}) {self.select} "
            f"ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET {additions}"
        )


PRODUCT_LOCATION = Projection(
    name="stock_by_product_location",
    model=ProductLocationStock,
    keys=("product_id", "location_id"),
    values=("quantity",),
    select=f"SELECT product_id, location_id, SUM(change) FROM ({LEGS}) legs WHERE true GROUP BY product_id, location_id",
)

LOCATION = Projection(
    name="stock_by_location",
    model=LocationStock,
    keys=("location_id",),
    values=("quantity",),
    select=f"SELECT location_id, SUM(change) FROM ({LEGS}) legs WHERE true GROUP BY location_id",
)

# A transfer (or its reversal) nets to zero for the product; receipts carrying a unit cost, net
# of their reversals, give the average cost used to value stock. Each sum reads only the rows it
# is about (FILTER), and a reversal looks up its original by key (joining the ledger to itself
# would read it twice).
_COSTED_RECEIPT = "m.kind = 'receipt' AND m.unit_cost IS NOT NULL"


def _net_of_reversals(expression: str) -> str:
    original = expression.replace("m.", "o.")
    return (
        f"coalesce(SUM({expression}) FILTER (WHERE {_COSTED_RECEIPT}), 0) - coalesce(SUM("
        f"(SELECT {original} FROM {LEDGER} o WHERE o.position = m.reverses_id"
        f" AND o.kind = 'receipt' AND o.unit_cost IS NOT NULL)) FILTER (WHERE m.kind = 'reversal'), 0)"
    )


PRODUCT = Projection(
    name="stock_by_product",
    model=ProductStock,
    keys=("product_id",),
    values=("quantity", "received_quantity", "received_value"),
    select=f"""
        SELECT m.product_id,
               coalesce(SUM(m.delta) FILTER (WHERE m.to_location_id IS NULL), 0),
               {_net_of_reversals("m.quantity")},
               {_net_of_reversals("m.quantity * m.unit_cost")}
          FROM {LEDGER} m
         WHERE {RANGE}
         GROUP BY m.product_id
    """,
)

PROJECTIONS = (PRODUCT_LOCATION, PRODUCT, LOCATION)
