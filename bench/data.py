"""What every scenario stands on: the catalog, the bench users, and stock for the posting pools.

The catalog is bulk-created (it is not what is measured). Stock is posted through the product's
own batch service, like every movement in the ledger, never written behind its back; the
ceilings' scratch balances get the same stock in plain SQL.
"""
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.roles import AUDITOR, CLERK
from catalog.models import Category, Location, Product, Warehouse
from ledger.parsing import parse_movement
from ledger.services import MAX_BATCH, movements_post

from . import sql
from .context import Bench
from .movements import write_pool

POOL_STOCK = 1_000_000  # per pool pair and location: no issue or transfer of the load runs short
HOT_STOCK = 10  # per hot pair: the contention load soon runs short


def load_catalog(bench: Bench) -> None:
    sizes = bench.sizes
    warehouses = Warehouse.objects.bulk_create(
        Warehouse(code=f"WH{w}", name=f"Warehouse {w}") for w in range(1, sizes.warehouses + 1)
    )
    locations = Location.objects.bulk_create(
        Location(warehouse=warehouse, code=f"A-{i:03d}")
        for warehouse in warehouses for i in range(1, sizes.locations_per_warehouse + 1)
    )
    category = Category.objects.create(name="Bench")
    products = Product.objects.bulk_create(
        (Product(sku=f"SKU-{i:06d}", name=f"Product {i}", category=category, unit_price=Decimal("2.5"))
         for i in range(1, sizes.products + 1)),
        batch_size=2_000,
    )
    bench.products = [p.pk for p in products]
    bench.locations = [loc.pk for loc in locations]


def _user(username: str, role: str) -> tuple[User, str]:
    user = User.objects.create_user(username)  # no password: it signs in with its token only
    user.groups.add(Group.objects.get(name=role))
    return user, Token.objects.create(user=user).key


def create_users(bench: Bench) -> None:
    bench.clerk, bench.clerk_token = _user("bench-clerk", CLERK)
    _, bench.auditor_token = _user("bench-auditor", AUDITOR)


def post_in_batches(user, bodies) -> int:
    """Post API bodies through the batch service, ``MAX_BATCH`` at a time; return how many."""
    posted, batch = 0, []
    for body in bodies:
        batch.append(parse_movement(body))
        if len(batch) == MAX_BATCH:
            posted += len(movements_post(user=user, movements=batch))
            batch = []
    if batch:
        posted += len(movements_post(user=user, movements=batch))
    return posted


def _receipts(pairs, quantity: int):
    for product, location, other in pairs:
        for at in {location, other}:
            yield {"kind": "receipt", "product": product, "location": at, "quantity": str(quantity),
                   "unit_cost": "2.40"}


def stock_pools(bench: Bench) -> None:
    """Choose the pools (distinct products), stock them in the ledger and in the scratch balances."""
    sizes, rng = bench.sizes, bench.rng
    chosen = rng.sample(bench.products, sizes.pool_products + sizes.hot_pairs)
    bench.pool = [(p, *rng.sample(bench.locations, 2)) for p in chosen[: sizes.pool_products]]
    hot_locations = [rng.choice(bench.locations) for _ in range(sizes.hot_pairs)]
    # One location each (receipts and issues only, no transfers): the pool line repeats it.
    bench.hot = [(p, location, location) for p, location in zip(chosen[sizes.pool_products :], hot_locations)]
    bench.pool_path = write_pool(bench.work / "pool.txt", bench.pool)
    bench.hot_path = write_pool(bench.work / "hot.txt", bench.hot)
    post_in_batches(bench.clerk, _receipts(bench.pool, POOL_STOCK))
    bench.pool_stocked_at = timezone.now()  # after the stock's business time (its posting's "now")
    post_in_batches(bench.clerk, _receipts(bench.hot, HOT_STOCK))
    with bench.connection() as connection, connection.cursor() as cursor:
        cursor.execute(sql.SCRATCH_TABLES)
        cursor.executemany(
            sql.STOCK_BALANCE, [(r["product"], r["location"], r["quantity"]) for r in _receipts(bench.pool, POOL_STOCK)]
        )
