#!/usr/bin/env python3
"""Verify an export of the stock ledger without trusting the application that wrote it.

Standard library only: no Django, no database. Reads a JSON-lines export (``manage.py
export_ledger`` or ``GET /api/v1/ledger/export/``), recomputes every link of the hash chain as
``ledger/chain.py`` documents it, and says where it first breaks; with ``--expect POSITION:HASH``
(a head saved earlier, from ``GET /api/v1/ledger/head/``) it also proves the export extends that
head (a truncated or rewritten tail fails); with ``--anchor FILE --public-key KEY`` (an anchor as
``GET /api/v1/anchors/{id}/`` publishes it, and the key you hold) it checks the anchor's Ed25519
signature, then that the export holds the anchored position with the anchored hash and recorded
time (a history rewritten before a signed head fails, even re-chained); with ``--stock-position P``
or ``--stock-at TIME`` it prints stock per product and location from the events alone, to compare
with the application's.

    python3 verify_export.py ledger.jsonl [--expect 120:3f5a...] [--anchor anchor.json --public-key 11qY...]
                                          [--stock-position 100 | --stock-at 2026-12-31T23:59:59Z]

Exit 0 when everything checked holds, 1 otherwise; the findings are printed as JSON.

The canonical form (ledger/chain.py): the chained fields of the event's format in order, joined by
``|``. An event with no ``chain_format`` (written before lots; every event of a ``/1`` export) covers
the legacy fields; format 2 covers ``chain_format``, the legacy fields, ``lot_id`` and
``allocation_id``. Null is ``~``;
integers in decimal; decimals normalized (``10.500`` -> ``10.5``, no exponent, ``-0`` -> ``0``);
times as whole microseconds since 1970-01-01T00:00:00Z; text as its length in characters, ``:``,
then the text. ``link = sha256(previous_link + "\\n" + canonical)`` in hex, from 64 zeros.

An anchor's signed message (anchors/signing.py) is the ASCII text
``wms-ledger-anchor/1|POSITION|HASH|RECORDED_AT_US|ANCHORED_AT_US`` (times in whole microseconds
since 1970-01-01T00:00:00Z); the signature and the public key are standard base64.
"""
import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal

FORMATS = ("wms-ledger-export/1", "wms-ledger-export/2")
GENESIS = "0" * 64
FIELDS = (
    "position", "kind", "product_id", "location_id", "to_location_id", "quantity", "delta", "balance_after",
    "to_balance_after", "counted_quantity", "expected_quantity", "unit_cost", "occurred_at", "recorded_at",
    "user_id", "reference", "reason", "idempotency_key", "reverses_id",
)
FIELDS_BY_FORMAT = {None: FIELDS, 2: ("chain_format", *FIELDS, "lot_id", "allocation_id")}
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
    fields = FIELDS_BY_FORMAT.get(event.get("chain_format"))
    if fields is None:
        raise ValueError(f"unknown chain format {event.get('chain_format')!r}")
    return "|".join(canonical_value(name, event[name]) for name in fields)


def link(previous: str, event: dict) -> str:
    return hashlib.sha256(f"{previous}\n{canonical(event)}".encode()).hexdigest()


def microseconds(text: str) -> int:
    return int(canonical_value("recorded_at", text))


# ---------------------------------------------------------------------------------------------
# Ed25519 verification (RFC 8032, section 5.1.7), with the reference arithmetic of its section 6:
# points in extended coordinates (X, Y, Z, T) on the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2
# over GF(2^255 - 19). Verify only: no secret is handled here, so constant time does not matter.

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493  # the base point's order
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(p: tuple, q: tuple) -> tuple:
    a, b = (p[1] - p[0]) * (q[1] - q[0]) % _P, (p[1] + p[0]) * (q[1] + q[0]) % _P
    c, d = 2 * p[3] * q[3] * _D % _P, 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % _P, g * h % _P, f * g % _P, e * h % _P


def _multiply(scalar: int, point: tuple) -> tuple:
    result = (0, 1, 1, 0)  # the neutral element
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point, scalar = _add(point, point), scalar >> 1
    return result


def _same_point(p: tuple, q: tuple) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    return _P - x if (x & 1) != sign else x


def _decompress(encoded: bytes) -> tuple | None:
    y = int.from_bytes(encoded, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_BASE = _decompress((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``: [S]B = R + [k]A."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _decompress(public_key), _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % _L
    return _same_point(_multiply(s, _BASE), _add(r, _multiply(k, a)))


ANCHOR_FORMAT = "wms-ledger-anchor/1"


def anchor_message(anchor: dict) -> bytes:
    """The bytes an anchor's signature covers, rebuilt from its fields (never taken from it)."""
    if type(anchor["position"]) is not int:
        raise TypeError(f"its position {anchor['position']!r} is not a whole number")
    fields = (ANCHOR_FORMAT, anchor["position"], anchor["hash"], microseconds(anchor["recorded_at"]),
              microseconds(anchor["anchored_at"]))
    return "|".join(map(str, fields)).encode("ascii")


def anchor_signature_problem(anchor: dict, public_key: str) -> str | None:
    """Why the anchor is not signed by ``public_key`` (base64), or None: its signature verifies."""
    try:
        key = base64.b64decode(public_key, validate=True)
        signature = base64.b64decode(anchor["signature"] or "", validate=True)
        message = anchor_message(anchor)
    except (KeyError, TypeError, ValueError, binascii.Error, UnicodeError) as error:
        return f"the anchor or the public key is unreadable: {error}"
    if len(key) != 32:
        return f"the public key is {len(key)} bytes, not an Ed25519 key's 32"
    if not signature:
        return "the anchor is unsigned"
    if not ed25519_verify(key, message, signature):
        named = anchor.get("public_key")
        other = f" (the anchor names another key, {named})" if named and named != public_key else ""
        return f"the anchor's signature does not verify with the public key given{other}: it was not signed so"
    return None


def verify(lines, *, expect: tuple[int, str] | None = None, anchor: dict | None = None,
           stock_position: int | None = None, stock_at: datetime | None = None) -> dict:
    """Walk the export; return the findings (``intact`` and, if not, the first broken line). An
    ``anchor`` (its signature checked already) must be held by the export as it says."""
    report: dict = {"intact": False, "events": 0}
    lines = iter(lines)
    try:
        header = json.loads(next(lines))
    except (StopIteration, ValueError):
        return {**report, "problem": "line 1: not an export header"}
    if header.get("format") not in FORMATS:
        return {**report, "problem": f"line 1: format {header.get('format')!r}, not one of {', '.join(FORMATS)}"}
    previous, position = header["previous_hash"], header["after"]
    link_at_expect = GENESIS if expect is not None and expect[0] == 0 else None
    anchored_event = None
    stock: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for number, line in enumerate(lines, start=2):
        try:
            event = json.loads(line)
            missing = [name for name in (*FIELDS_BY_FORMAT.get(event.get("chain_format"), FIELDS), "hash") if name not in event]
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
        if anchor is not None and position == anchor["position"]:
            anchored_event = event
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
    if anchor is not None and report["intact"]:
        problem = anchored_problem(anchor, anchored_event, after=header["after"], last=position)
        if problem:
            report.update(intact=False, problem=problem)
        else:
            report["anchor"] = {"position": anchor["position"], "hash": anchor["hash"], "anchored_at": anchor["anchored_at"]}
    if stock_position is not None or stock_at is not None:
        report["stock"] = [
            {"product": product, "location": location, "quantity": decimal_text(quantity)}
            for (product, location), quantity in sorted(stock.items()) if quantity
        ]
    return report


def anchored_problem(anchor: dict, event: dict | None, *, after: int, last: int) -> str | None:
    """Why the export does not hold the anchored head (the chain through it verified), or None."""
    position = anchor["position"]
    if event is None:
        if position <= after:
            return f"the export starts after position {after}, past the anchored position {position}: export from before it"
        return f"the export ends at position {last}, before the anchored head at {position}: its tail is missing"
    if event["hash"] != anchor["hash"]:
        return (f"position {position} carries {event['hash']}, not the anchored {anchor['hash']}: the ledger was "
                f"rewritten after it was anchored")
    if microseconds(event["recorded_at"]) != microseconds(anchor["recorded_at"]):
        return f"position {position} was recorded at {event['recorded_at']}, not at the anchored {anchor['recorded_at']}"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", help="the JSON-lines export (- for standard input)")
    parser.add_argument("--expect", metavar="POSITION:HASH", help="a head saved earlier: the export must extend it")
    parser.add_argument("--anchor", metavar="FILE", help="an anchor as the API publishes it (JSON): signed by --public-key, "
                        "and held by the export")
    parser.add_argument("--public-key", metavar="KEY", help="the anchors' Ed25519 public key, base64 (GET anchors/key/)")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--stock-position", type=int, metavar="P", help="stock per product and location up to position P")
    when.add_argument("--stock-at", metavar="TIME", help="stock as of a business time (ISO 8601 with a zone)")
    options = parser.parse_args(argv)
    expect = None
    if options.expect:
        position, _, hash_ = options.expect.partition(":")
        expect = (int(position), hash_.lower())
    if (options.anchor is None) != (options.public_key is None):
        parser.error("--anchor and --public-key go together")
    anchor = None
    if options.anchor:
        with open(options.anchor, encoding="utf-8") as file:
            try:
                anchor = json.load(file)
            except ValueError as error:
                anchor, problem = None, f"the anchor file is not JSON: {error}"
        if anchor is not None:
            problem = anchor_signature_problem(anchor, options.public_key)
        if problem:
            print(json.dumps({"intact": False, "events": 0, "problem": problem}, indent=2))
            return 1
    stock_at = parse_time(options.stock_at) if options.stock_at else None
    with (sys.stdin if options.export == "-" else open(options.export, encoding="utf-8")) as lines:
        report = verify(lines, expect=expect, anchor=anchor, stock_position=options.stock_position, stock_at=stock_at)
    print(json.dumps(report, indent=2))
    return 0 if report["intact"] else 1


if __name__ == "__main__":
    sys.exit(main())
