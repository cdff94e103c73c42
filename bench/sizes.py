"""How big each run is. The default is the issue's; --quick keeps the whole run well under a
minute (so the test suite can run it); --large loads the 10,000,000-event ledger."""
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Sizes:
    warehouses: int = 4
    locations_per_warehouse: int = 50
    products: int = 10_000
    pool_products: int = 1_000  # products the HTTP load posts to, each stocked at two locations
    hot_pairs: int = 5  # product-locations the contention load fights over
    events: int = 1_000_000  # ledger loaded through the product's bulk path
    batch_events: int = 100_000  # posted over HTTP, 1,000 per request
    batch_clients: int = 2
    as_of_queries: int = 1_000
    valuation_product_events: int = 100_000  # the product whose backdated receipt is re-valued (scenario 5b)
    duration: int = 15  # seconds of each timed load (wrk counts whole seconds)
    warmup: int = 2  # seconds of load before each timed one, not counted


DEFAULT = Sizes()
QUICK = Sizes(
    locations_per_warehouse=5, products=1_000, pool_products=100, events=20_000,
    batch_events=4_000, as_of_queries=100, valuation_product_events=5_000, duration=2, warmup=1,
)
LARGE = replace(DEFAULT, events=10_000_000)
