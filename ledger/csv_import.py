"""Importing movements from a CSV file, with the same rules as the API.

Columns (a header row names them; order is free): ``kind``, ``sku``, ``location`` or
``from_location`` and ``to_location`` as ``WAREHOUSE/CODE``, ``quantity``, ``counted_quantity``,
``unit_cost``, ``occurred_at``, ``reference``, ``reason``, ``idempotency_key`` (optional).

Every row is checked before anything is posted; bad rows are all reported with their line
numbers. A row without a key gets ``csv-<file digest>-<line>``, so importing the same file again
posts nothing twice.
"""
import csv
import hashlib
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import transaction

from catalog.models import Location, Product
from wms.errors import DomainError

from .errors import MovementInvalid
from .requests import MovementRequest, parse_movement
from .services import MAX_BATCH, movements_post

LOCATION_COLUMNS = ("location", "from_location", "to_location")
KNOWN_COLUMNS = {
    "kind", "sku", *LOCATION_COLUMNS, "quantity", "counted_quantity", "unit_cost",
    "occurred_at", "reference", "reason", "idempotency_key",
}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} bad row(s); nothing was imported")
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    rows: int
    posted: int
    replayed: int


def _messages(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())


def read_requests(path: str) -> list[tuple[int, MovementRequest]]:
    """Parse and check every row; raise ``ImportRefused`` listing each bad one."""
    with open(path, "rb") as raw:
        digest = hashlib.sha256(raw.read()).hexdigest()[:16]
    products = dict(Product.objects.values_list("sku", "pk"))
    locations = {f"{wh}/{code}": pk for pk, wh, code in Location.objects.values_list("pk", "warehouse__code", "code")}
    requests, errors = [], []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        unknown = set(reader.fieldnames or []) - KNOWN_COLUMNS
        if not reader.fieldnames or unknown:
            raise ImportRefused([RowError(1, f"unknown or missing columns: {sorted(unknown) or 'no header'}")])
        for row in reader:
            line = reader.line_num
            try:
                requests.append((line, _request(row, line, digest, products, locations)))
            except MovementInvalid as exc:
                errors.append(RowError(line, _messages(exc.extra["errors"])))
    if errors:
        raise ImportRefused(errors)
    return requests


def _request(row: dict, line: int, digest: str, products: dict, locations: dict) -> MovementRequest:
    data = {k: v.strip() for k, v in row.items() if k and v is not None and v.strip() != ""}
    errors = {}
    sku = data.pop("sku", None)
    if sku is not None:
        if sku not in products:
            errors["sku"] = [f"No product with SKU {sku!r}."]
        data["product"] = products.get(sku, 0)
    for column in LOCATION_COLUMNS:
        if column in data:
            label = data[column]
            if label not in locations:
                errors[column] = [f"No location {label!r} (write WAREHOUSE/CODE)."]
            data[column] = locations.get(label, 0)
    data.setdefault("idempotency_key", f"csv-{digest}-{line}")
    try:
        request = parse_movement(data)
    except MovementInvalid as exc:
        errors = {**exc.extra["errors"], **errors}
    if errors:
        raise MovementInvalid({("sku" if k == "product" else k): v for k, v in errors.items()})
    return request


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def movements_import(*, user, path: str, batch_size: int = 1000, commit_every_batch: bool = False) -> ImportResult:
    """Post a CSV file's movements in order, in batches.

    By default the whole file is one transaction: all rows or none. ``commit_every_batch`` commits
    each batch instead (for very large files, so clerks are not held up); rerun the unchanged file
    to finish after a failure.
    """
    requests = read_requests(path)
    batch_size = max(1, min(batch_size, MAX_BATCH))
    posted = replayed = 0
    with nullcontext() if commit_every_batch else transaction.atomic():
        for chunk in _chunks(requests, batch_size):
            try:
                results = movements_post(user=user, requests=[r for _, r in chunk])
            except DomainError as exc:
                item = exc.extra.get("item", 0)
                raise ImportRefused([RowError(chunk[item][0], exc.message)]) from exc
            replayed += sum(r.replayed for r in results)
            posted += sum(not r.replayed for r in results)
    return ImportResult(rows=len(requests), posted=posted, replayed=replayed)

