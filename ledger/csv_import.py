"""Importing movements from a CSV file, with the same rules as the API.

The file is UTF-8 text (a byte-order mark is allowed). Its first line is a header naming the
columns, in any order, each at most once: ``kind``, ``sku``, ``location`` or ``from_location`` and
``to_location`` as ``WAREHOUSE/CODE``, ``quantity``, ``counted_quantity``, ``unit_cost``,
``occurred_at``, ``reference``, ``reason``, ``idempotency_key`` (optional), and for products tracked
by lot ``lot``, ``expires_on`` and ``manufactured_on`` (dates, YYYY-MM-DD; an issue or transfer
with no lot is allocated first-expiring-first, as over the API). Every row has exactly
as many values as the header has columns (quote a value that holds a comma); blank lines are
skipped. Every row is checked before anything is posted, and every bad row is reported with its
line; a file that cannot be read as CSV is refused with the line where reading stopped.

Modes. By default the whole file is one posting: all rows or none. It is checked, planned and
applied to the guard rows before the ledger head is locked, and the head is held only to append,
so other clerks keep posting meanwhile. ``commit_every_batch`` commits each batch of ``batch_size``
rows on its own instead (for files too large to post at once); a refusal then keeps the batches
before it.

Row keys. Each movement is posted under an idempotency key, so posting a row twice is a replay,
not a second movement. A row's ``idempotency_key`` value, when given, is its key: that gives full
control (use, say, the ERP's document line id). Otherwise the key is built from the import's name
(the file's base name unless ``import_id`` says otherwise), the row's own content (normalized: the
product and location it names, quantities as numbers, the time in UTC, reference, reason) and, for
identical rows, how many times the same content came before it in the file::

    csv:<import name, first 48 characters>:<32 hex of SHA-256(import name, content)>:<occurrence>

So a row keeps its key when other rows of the file are fixed, added or removed; two identical
rows are two movements; and two files with different names never share a key.

Resuming after a failure: fix the bad rows and rerun the same file (the same name, or the same
``import_id``). Rows already committed are answered from the ledger ("already in the ledger"),
the rest are posted. Do not edit rows that were already imported: an edited row is a new movement
(correct a posted movement by reversing it), and neither rename the file nor change the import
name between runs, since either gives every row a new key.
"""
import codecs
import csv
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timezone

from catalog.models import Location, Product
from common.errors import DomainError

from .errors import MovementInvalid
from .parsing import LOT_DATES, NewMovement, parse_movement
from .quantities import decimal_text
from .services import MAX_BATCH, movements_post

LOCATION_COLUMNS = ("location", "from_location", "to_location")
KNOWN_COLUMNS = {
    "kind", "sku", *LOCATION_COLUMNS, "quantity", "counted_quantity", "unit_cost",
    "occurred_at", "reference", "reason", "idempotency_key", "lot", *LOT_DATES,
}
KEY_PREFIX = "csv"
KEY_LABEL = 48  # characters of the import name shown in a key; the digest covers all of it
KEY_DIGEST = 32  # hex characters of SHA-256: 128 bits

ROWS_REFUSED = "{count} bad row(s); nothing was imported."
FILE_REFUSED = "The file cannot be imported; nothing was imported."


@dataclass(frozen=True)
class RowError:
    """What is wrong, and on which line of the file (None: the file as a whole)."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class ImportRefused(Exception):
    """The file, or rows of it, cannot be imported; ``errors`` say where and why."""

    def __init__(self, errors: list[RowError], *, summary: str | None = None):
        super().__init__(summary or ROWS_REFUSED.format(count=len(errors)))
        self.errors = errors

    @classmethod
    def file(cls, message: str, *, line: int | None = None) -> "ImportRefused":
        """The file cannot be read as CSV movements at all."""
        return cls([RowError(line, message)], summary=FILE_REFUSED)


@dataclass(frozen=True)
class ImportResult:
    rows: int
    posted: int
    replayed: int


def _messages(errors: dict) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())


def import_name(path: str, import_id: str | None = None) -> str:
    """The name that row keys are built from: ``import_id``, or else the file's base name."""
    name = os.path.basename(os.path.normpath(path)) if import_id is None else import_id
    if not name.strip() or not name.isprintable():
        raise ImportRefused.file(f"An import name is printable text, not {name!r}.")
    return name


def read_movements(path: str, *, import_id: str | None = None) -> list[tuple[int, NewMovement]]:
    """Parse and check every row, keyed; return (line, movement) pairs in file order, or raise
    ``ImportRefused`` listing each bad row."""
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), strict=True)
    name = import_name(path, import_id)
    columns = _columns(reader)
    products = dict(Product.objects.values_list("sku", "pk"))
    locations = {f"{wh}/{code}": pk for pk, wh, code in Location.objects.values_list("pk", "warehouse__code", "code")}
    movements, errors = [], []
    occurrences: Counter[str] = Counter()
    key_lines: dict[str, int] = {}
    for line, cells in _records(reader, errors):
        if len(cells) != len(columns):
            errors.append(RowError(line, _width_message(len(cells), len(columns))))
            continue
        try:
            movement = _movement_of_row(dict(zip(columns, cells)), products, locations)
        except MovementInvalid as exc:
            errors.append(RowError(line, _messages(exc.extra["errors"])))
            continue
        if movement.idempotency_key is None:
            content = _content(movement)
            occurrences[content] += 1
            movement = replace(movement, idempotency_key=row_key(name, content, occurrences[content]))
        first = key_lines.setdefault(movement.idempotency_key, line)
        if first != line:
            used = f"idempotency_key: {movement.idempotency_key!r} is already used on line {first}."
            errors.append(RowError(line, used))
            continue
        movements.append((line, movement))
    if errors:
        raise ImportRefused(errors)
    if not movements:
        raise ImportRefused.file("No movements: the file has a header but no rows.", line=2)
    return movements


def _read_text(path: str) -> str:
    """The file's text; refuse, with the line, a file that is not UTF-8 text."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise ImportRefused.file(f"No file {path!r}.") from None
    except IsADirectoryError:
        raise ImportRefused.file(f"{path!r} is a directory, not a CSV file.") from None
    except OSError as exc:
        raise ImportRefused.file(f"Cannot read {path!r}: {exc.strerror or exc}.") from None
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        raise ImportRefused.file(
            f"Not UTF-8 text: byte 0x{data[offset]:02X} at byte offset {offset} cannot be decoded "
            "(save the file as CSV UTF-8).",
            line=data.count(b"\n", 0, offset) + 1,
        ) from None
    nul = text.find("\0")
    if nul != -1:
        raise ImportRefused.file(
            "A NUL character: this is not a CSV text file (UTF-16? save it as CSV UTF-8).",
            line=text.count("\n", 0, nul) + 1,
        )
    return text


def _columns(reader) -> list[str]:
    """The header's column names; refuse an empty file and empty, unknown or repeated columns."""
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused.file("The file is empty; its first line must name the columns.", line=1) from None
    except csv.Error as exc:
        raise ImportRefused.file(f"Malformed CSV: {exc}.", line=1) from None
    columns = [name.strip() for name in header]
    if not any(columns):
        raise ImportRefused.file("No header: the first line must name the columns.", line=1)
    problems = []
    if "" in columns:
        problems.append(f"column {columns.index('') + 1} has no name")
    unknown = [name for name in columns if name and name not in KNOWN_COLUMNS]
    if unknown:
        known = ", ".join(sorted(KNOWN_COLUMNS))
        problems.append(f"unknown column(s) {', '.join(map(repr, unknown))} (known: {known})")
    repeated = sorted(name for name, count in Counter(columns).items() if name and count > 1)
    if repeated:
        problems.append(f"column(s) named more than once: {', '.join(map(repr, repeated))}")
    if problems:
        raise ImportRefused.file(f"Bad header: {'; '.join(problems)}.", line=1)
    return columns


def _records(reader, errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the line it starts on. Malformed CSV ends the reading with an
    error in ``errors`` (past it, where one value ends and the next begins is a guess)."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            hint = " (a quote opened here is never closed)" if "end of data" in str(exc) else ""
            errors.append(RowError(line, f"Malformed CSV: {exc}{hint}."))
            return
        if any(cell.strip() for cell in cells):
            yield line, cells


def _width_message(values: int, columns: int) -> str:
    more = "more" if values > columns else "fewer"
    return (
        f"{values} values but the header has {columns} columns ({more} than it names; "
        "quote a value that holds a comma)."
    )


def _movement_of_row(row: dict, products: dict, locations: dict) -> NewMovement:
    data = {k: v.strip() for k, v in row.items() if v.strip() != ""}
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
    try:
        movement = parse_movement(data)
    except MovementInvalid as exc:
        errors = {**exc.extra["errors"], **errors}
    if errors:
        raise MovementInvalid({("sku" if k == "product" else k): v for k, v in errors.items()})
    if movement.occurred_at is not None:  # one instant, one text: the key and the fingerprint agree
        movement = replace(movement, occurred_at=movement.occurred_at.astimezone(timezone.utc))
    return movement


def _content(movement: NewMovement) -> str:
    """What a row asks, normalized: equal for rows that ask the same, however they are written."""
    return json.dumps(
        [
            movement.kind, movement.product, movement.location, movement.to_location,
            *(None if v is None else decimal_text(v)
              for v in (movement.quantity, movement.counted_quantity, movement.unit_cost)),
            movement.occurred_at.isoformat() if movement.occurred_at else None,
            movement.reference, movement.reason,
            # a row naming no lot keeps the key it had before lots
            *([movement.lot, *(str(day) if day else None for day in (movement.expires_on, movement.manufactured_on))]
              if movement.lot or movement.expires_on or movement.manufactured_on else []),
        ],
        separators=(",", ":"),
    )


def row_key(name: str, content: str, occurrence: int) -> str:
    """The idempotency key of the ``occurrence``-th row (from 1) with ``content`` in import ``name``."""
    digest = hashlib.sha256(json.dumps([name, content]).encode()).hexdigest()[:KEY_DIGEST]
    return f"{KEY_PREFIX}:{name[:KEY_LABEL]}:{digest}:{occurrence}"  # at most 86 + digits <= MAX_KEY


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def movements_import(
    *, user, path: str, import_id: str | None = None, batch_size: int = 1000, commit_every_batch: bool = False,
) -> ImportResult:
    """Post a CSV file's movements in order: the whole file at once (all or none), or with
    ``commit_every_batch`` each batch of ``batch_size`` rows in its own transaction. Rerun the
    file to resume after a failure (see the module's docstring)."""
    movements = read_movements(path, import_id=import_id)
    if commit_every_batch:
        batches = list(_chunks(movements, max(1, min(batch_size, MAX_BATCH))))
    else:
        batches = [movements]
    posted = replayed = 0
    for batch in batches:
        try:
            # One call per batch: the service checks, plans and locks the guard rows first and
            # holds the ledger head only to append. max_batch=None: the file's size is ours to choose.
            results = movements_post(user=user, movements=[r for _, r in batch], max_batch=None)
        except DomainError as exc:
            error = RowError(batch[exc.extra.get("item", 0)][0], exc.message)
            raise ImportRefused([error], summary=_refused_from(batch[0][0], posted, replayed)) from exc
        replayed += sum(r.replayed for r in results)
        posted += sum(not r.replayed for r in results)
    return ImportResult(rows=len(movements), posted=posted, replayed=replayed)


def _refused_from(line: int, posted: int, replayed: int) -> str:
    """The summary of a refusal in the batch that starts on ``line``."""
    if not posted + replayed:
        return ROWS_REFUSED.format(count=1)
    return (
        f"1 bad row(s); the {posted + replayed} rows before line {line} are in the ledger ({posted} posted now, "
        f"{replayed} already there), none from line {line} on. Fix the bad row and rerun the same file to resume."
    )
