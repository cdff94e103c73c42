"""Reads of the catalog that more than one place needs."""
from .models import Category


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
