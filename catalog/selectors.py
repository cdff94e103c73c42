"""Reads of the catalog that more than one place needs."""
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection

from common.generations import Generation

from .models import Category, Location, Product, Tracking, Warehouse


def category_with_descendants(category_id: int) -> list[int]:
    """The id and every descendant id of a category (the tree is small: read it once)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, pending = [], [category_id]
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(children.get(node, []))
    return found


# Posting checks products and locations on every movement; they change rarely. Any change to a
# product, location or warehouse moves this on (database triggers, see the migrations).
catalog_changes = Generation("catalog")


class ProductFacts(NamedTuple):
    sku: str
    active: bool
    tracked: bool = False  # by lot: every movement names a lot


class LocationFacts(NamedTuple):
    label: str  # "WAREHOUSE/CODE"
    active: bool  # the location and its warehouse both


@dataclass(frozen=True, slots=True)
class CatalogFacts:
    """What posting checks of the products and locations it touches, by id; ids not in the
    catalog are absent."""

    products: dict[int, ProductFacts]
    locations: dict[int, LocationFacts]


# A catalog of at most this many products and locations is read whole at a process's first miss
# (after each change, and in each new worker): one query instead of one per posting of a product
# the process has not seen yet, in a few megabytes.
WHOLE_CATALOG = 20_000
_WHOLE = ("whole",)  # in the memo: the whole catalog was read (or found too large) since the last change


def catalog_facts(product_ids: Iterable[int], location_ids: Iterable[int]) -> CatalogFacts:
    """The facts of these products and locations. Remembered per process (a small catalog is
    read whole at the first miss); the rest read in one query."""
    catalog_changes.current()
    memo = catalog_changes.memo
    product_ids, location_ids = list(product_ids), list(location_ids)

    def missing() -> tuple[list[int], list[int]]:
        return [pk for pk in product_ids if ("p", pk) not in memo], [pk for pk in location_ids if ("l", pk) not in memo]

    products, locations = missing()
    if (products or locations) and _WHOLE not in memo:
        memo[_WHOLE] = True
        _remember(memo, _read_whole_catalog())
        products, locations = missing()
    if products or locations:
        _remember(memo, _read_catalog(products, locations))
    return CatalogFacts(
        products={pk: memo[("p", pk)] for pk in product_ids if ("p", pk) in memo},
        locations={pk: memo[("l", pk)] for pk in location_ids if ("l", pk) in memo},
    )


def _remember(memo: dict, rows: list[tuple]) -> None:
    for kind, pk, label, active, tracking in rows:
        memo[(kind, pk)] = (
            ProductFacts(label, bool(active), tracking == Tracking.LOT) if kind == "p" else LocationFacts(label, bool(active))
        )


IDS_PER_QUERY = 10_000  # SQLite takes at most 32,766 parameters in one statement


def _facts_sql(products_where: str, locations_where: str) -> str:
    return (
        f"SELECT 'p', id, sku, is_active, tracking FROM {Product._meta.db_table} {products_where} "
        f"UNION ALL "
        f"SELECT 'l', l.id, w.code || '/' || l.code, l.is_active AND w.is_active, NULL FROM {Location._meta.db_table} l "
        f"JOIN {Warehouse._meta.db_table} w ON w.id = l.warehouse_id {locations_where}"
    )


def _read_whole_catalog() -> list[tuple]:
    """Every product's and location's facts, if there are at most ``WHOLE_CATALOG`` of them (counted
    no further than that, so a large catalog costs a bounded count at each change)."""
    counted = " + ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {model._meta.db_table} LIMIT {WHOLE_CATALOG + 1}) AS rows)"
        for model in (Product, Location)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counted}")
        if cursor.fetchone()[0] > WHOLE_CATALOG:
            return []
        cursor.execute(_facts_sql("", ""))
        return cursor.fetchall()


def _read_catalog(product_ids: list[int], location_ids: list[int]) -> list[tuple]:
    rows = []
    for start in range(0, max(len(product_ids), len(location_ids)), IDS_PER_QUERY):
        products = product_ids[start:start + IDS_PER_QUERY] or [0]
        locations = location_ids[start:start + IDS_PER_QUERY] or [0]
        sql = _facts_sql(
            f"WHERE id IN ({', '.join(['%s'] * len(products))})", f"WHERE l.id IN ({', '.join(['%s'] * len(locations))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*products, *locations])
            rows += cursor.fetchall()
    return rows
