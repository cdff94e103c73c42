"""What the scenarios share: sizes, the database, the bench users, the posting pools and the
running product server."""
import random
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .db import Server
from .movements import Pair
from .sizes import Sizes

MOVEMENTS = "/api/v1/movements/"


@dataclass
class Bench:
    sizes: Sizes
    work: Path  # this run's scratch folder: pool files, server logs
    server: Server
    dbname: str
    env: dict[str, str]  # production settings for the servers this run starts
    redis_url: str
    rng: random.Random
    clerk: object = None
    clerk_token: str = ""
    auditor_token: str = ""
    products: list[int] = field(default_factory=list)
    locations: list[int] = field(default_factory=list)
    pool: list[Pair] = field(default_factory=list)  # well stocked: issues and transfers succeed
    pool_path: Path | None = None
    # Just after the pool's stock was posted (it is dated before this): a business time at which
    # every pool product-location has its stock and none of the loads' movements yet.
    pool_stocked_at: datetime | None = None
    hot: list[Pair] = field(default_factory=list)  # little stock: the contention scenario
    hot_path: Path | None = None
    app_url: str = ""  # the product under gunicorn
    app_pid: int = 0  # its master
    details: dict = field(default_factory=dict)  # per scenario, for the JSON

    @contextmanager
    def connection(self, *, autocommit: bool = True):
        """A psycopg2 connection of its own to the bench database, closed afterwards."""
        with closing(self.server.connect(self.dbname, autocommit=autocommit)) as connection:
            yield connection
