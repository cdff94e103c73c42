#!/usr/bin/env python3
"""Verify an export of the stock ledger without trusting the application that wrote it.

Standard library only: no Django, no database. Reads a JSON-lines export (``manage.py
export_ledger`` or ``GET /api/v1/ledger/export/``), recomputes every link of the hash chain as
``ledger/chain.py`` documents it, and says where it first breaks; with ``--expect POSITION:HASH``
(a head saved earlier, from ``GET /api/v1/ledger/head/``) it also proves the export extends that
head (a truncated or rewritten tail fails); with ``--stock-position P`` or ``--stock-at TIME`` it
prints stock per product and location from the events alone, to compare with the application's.

    python3 verify_export.py ledger.jsonl [--expect 120:3f5a...] [--stock-position 100 | --stock-at 2026-12-31T23:59:59Z]

Exit 0 when everything checked holds, 1 otherwise; the findings are printed as JSON.

The canonical form (ledger/chain.py): the chained fields in order, joined by ``|``; null is ``~``;
integers in decimal; decimals normalized (``10.500`` -> ``10.5``, no exponent, ``-0`` -> ``0``);
times as whole microseconds since 1970-01-01T00:00:00Z; text as its length in characters, ``:``,
then the text. ``link = sha256(previous_link + "\\n" + canonical)`` in hex, from 64 zeros.
"""
import argparse
import hashlib
import json
import sys
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal

FORMAT = "wms-ledger-export/1"
GENESIS = "0" * 64
FIELDS = (
    "position", "kind", "product_id", "location_id", "to_location_id", "quantity", "delta", "balance_after",
    "to_balance_after", "counted_quantity", "expected_quantity", "unit_cost", "occurred_at", "recorded_at",
    "user_id", "reference", "reason", "idempotency_key", "reverses_id",
)
DECIMALS = {"quantity", "delta", "balance_after", "to_balance_after", "counted_quantity", "expected_quantity", "unit_cost"}
TIMES = {"occurred_at", "recorded_at"}
TEXTS = {"kind", "reference", "reason", "idempotency_key"}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("0", "-0") else text


def canonical_value(name: str, value) -> str:
    if value is None:
        return "~"
    if name in TEXTS:
        return f"{len(value)}:{value}"
    if name in DECIMALS:
        return decimal_text(Decimal(value))
    if name in TIMES:
        delta = parse_time(value) - EPOCH
        return str((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    return str(int(value))


def canonical(event: dict) -> str:
    return "|".join(canonical_value(name, event[name]) for name in FIELDS)


def link(previous: str, event: dict) -> str:
    return hashlib.sha256(f"{previous}\n{canonical(event)}".encode()).hexdigest()


def verify(lines, *, expect: tuple[int, str] | None = None, stock_position: int | None = None,
           stock_at: datetime | None = None) -> dict:
    """Walk the export; return the findings (``intact`` and, if not, the first broken line)."""
    report: dict = {"intact": False, "events": 0}
    lines = iter(lines)
    try:
        header = json.loads(next(lines))
    except (StopIteration, ValueError):
        return {**report, "problem": "line 1: not an export header"}
    if header.get("format") != FORMAT:
        return {**report, "problem": f"line 1: format {header.get('format')!r}, not {FORMAT!r}"}
    previous, position = header["previous_hash"], header["after"]
    link_at_expect = GENESIS if expect is not None and expect[0] == 0 else None
    stock: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for number, line in enumerate(lines, start=2):
        try:
            event = json.loads(line)
            missing = [name for name in (*FIELDS, "hash") if name not in event]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            computed = link(previous, event)
        except (ValueError, TypeError, ArithmeticError) as error:
            return {**report, "first_broken_line": number, "problem": f"line {number}: unreadable event: {error}"}
        if event["position"] != position + 1:
            return {**report, "first_broken_line": number,
                    "problem": f"line {number}: position {event['position']} follows {position}: events are missing"}
        if computed != event["hash"]:
            return {**report, "first_broken_line": number,
                    "problem": f"line {number}: position {event['position']}: its hash does not match its content "
                               f"and the link before it"}
        previous, position = computed, event["position"]
        report["events"] += 1
        if expect is not None and position == expect[0]:
            link_at_expect = computed
        if (stock_position is not None and position <= stock_position) or (
                stock_at is not None and parse_time(event["occurred_at"]) <= stock_at):
            stock[(event["product_id"], event["location_id"])] += Decimal(event["delta"])
            if event["to_location_id"] is not None:
                stock[(event["product_id"], event["to_location_id"])] -= Decimal(event["delta"])
    report.update(intact=True, last_position=position, last_hash=previous)
    if expect is not None:
        if link_at_expect is None:
            report.update(intact=False, problem=f"the export ends at position {position}, before the saved head at "
                                                f"{expect[0]}: its tail is missing")
        elif link_at_expect != expect[1]:
            report.update(intact=False, problem=f"position {expect[0]} carries {link_at_expect}, not the saved "
                                                f"head's {expect[1]}: the ledger was rewritten")
    if stock_position is not None or stock_at is not None:
        report["stock"] = [
            {"product": product, "location": location, "quantity": decimal_text(quantity)}
            for (product, location), quantity in sorted(stock.items()) if quantity
        ]
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", help="the JSON-lines export (- for standard input)")
    parser.add_argument("--expect", metavar="POSITION:HASH", help="a head saved earlier: the export must extend it")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--stock-position", type=int, metavar="P", help="stock per product and location up to position P")
    when.add_argument("--stock-at", metavar="TIME", help="stock as of a business time (ISO 8601 with a zone)")
    options = parser.parse_args(argv)
    expect = None
    if options.expect:
        position, _, hash_ = options.expect.partition(":")
        expect = (int(position), hash_.lower())
    stock_at = parse_time(options.stock_at) if options.stock_at else None
    with (sys.stdin if options.export == "-" else open(options.export, encoding="utf-8")) as lines:
        report = verify(lines, expect=expect, stock_position=options.stock_position, stock_at=stock_at)
    print(json.dumps(report, indent=2))
    return 0 if report["intact"] else 1


if __name__ == "__main__":
    sys.exit(main())
