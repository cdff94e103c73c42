"""The ceilings' own tables and statements, in plain SQL.

The posting ceilings write to scratch tables shaped like the product's guard rows, head and
events (``bench_balance``, ``bench_head``, ``bench_event``), so they never disturb the ledger
that the product's scenarios check afterwards. The statements are shared by the psycopg2 ceiling
and the bare DRF endpoint, so both ceilings do the same work.
"""

SCRATCH_TABLES = """
CREATE TABLE bench_balance (
    product_id bigint NOT NULL,
    location_id bigint NOT NULL,
    quantity numeric(18, 3) NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (product_id, location_id)
);
CREATE TABLE bench_head (id integer PRIMARY KEY, position bigint NOT NULL);
INSERT INTO bench_head VALUES (1, 0);
CREATE TABLE bench_event (
    id bigserial PRIMARY KEY,
    position bigint UNIQUE,
    product_id bigint NOT NULL,
    location_id bigint NOT NULL,
    delta numeric(18, 3) NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
"""

STOCK_BALANCE = """
INSERT INTO bench_balance (product_id, location_id, quantity) VALUES (%s, %s, %s)
ON CONFLICT (product_id, location_id) DO UPDATE SET quantity = excluded.quantity
"""

# The check-and-change of one guard row: no row back means not enough stock.
UPDATE_BALANCE = """
UPDATE bench_balance SET quantity = quantity + %(delta)s
 WHERE product_id = %(product)s AND location_id = %(location)s AND quantity + %(delta)s >= 0
RETURNING quantity
"""
TAKE_HEAD = "UPDATE bench_head SET position = position + 1 WHERE id = 1 RETURNING position"
INSERT_EVENT = """
INSERT INTO bench_event (position, product_id, location_id, delta)
VALUES (%(position)s, %(product)s, %(location)s, %(delta)s)
"""
