"""The product's settings (same middleware, database, production mode), with only the bare
endpoint routed."""
from wms.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.bare.urls"
