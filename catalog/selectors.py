"""Reads of the catalog that more than one place needs."""
from django.db import connection

from .models import Category, Location, Product, Warehouse


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


def catalog_facts(product_ids, location_ids) -> tuple[dict[int, tuple[str, bool]], dict[int, tuple[str, bool]]]:
    """What posting checks, in one query: {product id: (sku, active)} and
    {location id: ("WAREHOUSE/CODE", active)}. Ids not in the catalog are absent."""
    product_ids, location_ids = list(product_ids) or [0], list(location_ids) or [0]
    sql = (
        f"SELECT 'p', id, sku, is_active FROM {Product._meta.db_table} "
        f"WHERE id IN ({', '.join(['%s'] * len(product_ids))}) "
        f"UNION ALL "
        f"SELECT 'l', l.id, w.code || '/' || l.code, l.is_active FROM {Location._meta.db_table} l "
        f"JOIN {Warehouse._meta.db_table} w ON w.id = l.warehouse_id "
        f"WHERE l.id IN ({', '.join(['%s'] * len(location_ids))})"
    )
    products, locations = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*product_ids, *location_ids])
        for kind, pk, label, active in cursor.fetchall():
            (products if kind == "p" else locations)[pk] = (label, bool(active))
    return products, locations
