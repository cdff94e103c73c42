"""The movements the HTTP and SQL loads post, drawn at random from a pool of product-locations.

A pool line is (product, location, other location of the same product); transfers go between
the two. ``wrk/post.lua`` draws the same mix in Lua (wrk cannot call Python): keep them in step.
"""
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

Pair = tuple[int, int, int]  # (product, location, other location)


@dataclass(frozen=True)
class Mix:
    """Percentages of receipts and issues; transfers take the rest."""

    receipt: int
    issue: int


STEADY = Mix(receipt=40, issue=40)  # and 20% transfers: over well-stocked pairs, all succeed
CONTENDED = Mix(receipt=40, issue=60)  # over a few pairs with little stock: many issues refused


def random_movement(rng: random.Random, pool: list[Pair], mix: Mix) -> dict:
    """One API body, like the Lua script's."""
    product, location, other = rng.choice(pool)
    roll = rng.randint(1, 100)
    if roll <= mix.receipt:
        return {"kind": "receipt", "product": product, "location": location,
                "quantity": str(rng.randint(1, 5)), "unit_cost": "2.40"}
    if roll <= mix.receipt + mix.issue:
        return {"kind": "issue", "product": product, "location": location, "quantity": str(rng.randint(1, 5))}
    if rng.random() < 0.5:
        location, other = other, location
    return {"kind": "transfer", "product": product, "from_location": location, "to_location": other,
            "quantity": str(rng.randint(1, 3))}


def source_leg(body: dict) -> tuple[int, int, Decimal]:
    """(product, location, signed change) at the location a movement is checked against."""
    quantity = Decimal(body["quantity"])
    if body["kind"] == "receipt":
        return body["product"], body["location"], quantity
    return body["product"], body.get("location") or body["from_location"], -quantity


def write_pool(path: Path, pool: list[Pair]) -> Path:
    path.write_text("".join(f"{p} {a} {b}\n" for p, a, b in pool))
    return path
