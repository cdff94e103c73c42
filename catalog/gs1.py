"""GS1 element strings as a scanner hands them over, read with biip: what a receipt or issue may
give instead of separate fields.

A scan is ``AI``-prefixed fields one after another (GS1 General Specifications, section 3): with or
without the symbology identifier the scanner puts in front (``]C1`` GS1-128, ``]d2`` DataMatrix,
``]Q3`` QR, ``]e0`` DataBar), a variable-length field ended by FNC1, which
scanners send as the group separator (``\\x1d``), or written as people read a label, each AI in
parentheses: ``(01)09506000134352(17)261130(10)ABC123``. Of what a label carries, posting uses:

- (01) the GTIN, required, its check digit verified; ``product_for_gtin`` finds its product;
- (10) the lot, (17) the expiry date, (11) the production date (``YYMMDD``; a day of ``00`` is
  the last day of that month; the century is the one that puts the year within 49 years back and
  50 ahead, as the specification says);
- (37) the count of trade items.

Other AIs that GS1 defines (a serial number, a best-before date, ...) are read, checked and left
out; an AI it does not define is refused. Any refusal is ``GS1Invalid`` (400 ``gs1_invalid``,
``errors.gs1``) saying what is wrong and where.
"""
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.symbology import GS1Symbology, SymbologyIdentifier

from common.errors import DomainError

from .models import Product

SEPARATOR = "\x1d"  # FNC1 as scanners send it: ASCII group separator
_HRI = re.compile(r"(?:\(\d{2,4}\)[^()]+)+")  # "(AI)data(AI)data..."
_HRI_FIELD = re.compile(r"\((\d{2,4})\)([^()]+)")
_DATE_AIS = {"11": "manufactured_on", "17": "expires_on"}
GTIN_AI, LOT_AI, COUNT_AI = "01", "10", "37"


class GS1Invalid(DomainError):
    """A scanned GS1 element string that cannot be read; ``errors.gs1`` says what is wrong."""

    status = 400
    code = "gs1_invalid"

    EMPTY = "The GS1 element string is empty."
    SYMBOLOGY = "{identifier!r} is not a symbology that carries GS1 element strings (use ]C1, ]e0, ]d2 or ]Q3)."
    PARENTHESES = "Malformed parentheses: write each field as (AI)data, e.g. (01)09506000134352(10)ABC123."
    UNKNOWN_AI = "No GS1 Application Identifier at {at!r} (character {offset})."
    FORMAT = "AI ({ai}) {title}: {value!r} does not match its format {format}."
    DATE = "AI ({ai}) {title}: {value!r} is not a date that can be (YYMMDD)."
    CHECK_DIGIT = "AI (01) GTIN {gtin}: bad check digit {got}, expected {expected}."
    REPEATED = "AI ({ai}) is given twice with different values ({first!r}, {second!r})."
    NO_GTIN = "No GTIN: the string has no AI (01)."

    def __init__(self, detail: str, **extra):
        super().__init__(detail, errors={"gs1": [detail]}, **extra)


class GTINAmbiguous(DomainError):
    """Two products' barcodes are one GTIN written at different lengths (``0012345678905`` and
    ``012345678905``): the catalog must say which product a scan means."""

    status = 409
    code = "gtin_ambiguous"
    MESSAGE = "GTIN {gtin} is the barcode of more than one product ({skus}); keep it on one."

    def __init__(self, *, gtin: str, products: list[Product]):
        detail = self.MESSAGE.format(gtin=gtin, skus=", ".join(p.sku for p in products))
        super().__init__(detail, errors={"gs1": [detail]}, gtin=gtin, products=[p.pk for p in products])


@dataclass(frozen=True, slots=True)
class GS1Scan:
    """What a scan carries for posting: the GTIN (14 digits) and, where the label has them, the lot,
    its dates and a count."""

    gtin: str
    lot: str | None = None
    expires_on: date | None = None
    manufactured_on: date | None = None
    count: Decimal | None = None


def parse_gs1(text: str) -> GS1Scan:
    """The fields of a scanned GS1 element string (see the module); ``GS1Invalid`` if malformed."""
    values: dict[str, str] = {}
    dates: dict[str, date] = {}
    for element in _elements(_without_symbology(text.strip())):
        ai = element.ai.ai
        if values.setdefault(ai, element.value) != element.value:
            raise GS1Invalid(GS1Invalid.REPEATED.format(ai=ai, first=values[ai], second=element.value))
        if element.gtin_error is not None:  # N14 by its pattern: only the check digit can be wrong
            expected = gs1_standard_check_digit(element.value[:-1])
            raise GS1Invalid(GS1Invalid.CHECK_DIGIT.format(gtin=element.value, got=element.value[-1], expected=expected))
        if ai in _DATE_AIS:
            dates[_DATE_AIS[ai]] = element.date
    if GTIN_AI not in values:
        raise GS1Invalid(GS1Invalid.NO_GTIN)
    count = values.get(COUNT_AI)
    return GS1Scan(gtin=values[GTIN_AI], lot=values.get(LOT_AI), count=None if count is None else Decimal(count), **dates)


def product_for_gtin(gtin: str) -> Product | None:
    """The product whose barcode is this GTIN, written as GTIN-14, -13, -12 or -8 (the same number
    with fewer leading zeros); none if no product has it."""
    gtin = gtin.zfill(14)
    written = {gtin[14 - length:] for length in (14, 13, 12, 8) if gtin[:14 - length].strip("0") == ""}
    products = list(Product.objects.filter(barcode__in=written).order_by("pk"))
    if len(products) > 1:
        raise GTINAmbiguous(gtin=gtin, products=products)
    return products[0] if products else None


def _without_symbology(text: str) -> str:
    if not text:
        raise GS1Invalid(GS1Invalid.EMPTY)
    if not text.startswith("]"):
        return text
    try:
        identifier = SymbologyIdentifier.extract(text) if len(text) >= 3 else None
    except ParseError:
        identifier = None
    if identifier is None or identifier.gs1_symbology not in GS1Symbology.with_gs1_messages():
        raise GS1Invalid(GS1Invalid.SYMBOLOGY.format(identifier=text[:3]))
    return text[len(identifier):]


def _elements(data: str) -> list[GS1ElementString]:
    """The element strings of ``data``, in either form, each checked against its AI's format."""
    if data.startswith("("):
        data = "".join(data.split())  # a label's text may space its fields apart
        if not _HRI.fullmatch(data):
            raise GS1Invalid(GS1Invalid.PARENTHESES)
        elements = []
        for match in _HRI_FIELD.finditer(data):
            ai, value = match.groups()
            if _ai(ai, offset=match.start()).ai != ai:  # "(123)..." is no AI, though it begins with (12)
                raise GS1Invalid(GS1Invalid.UNKNOWN_AI.format(at=match.group(0)[:12], offset=match.start() + 1))
            elements.append(_element(ai + value, offset=match.start(), whole=True))
        return elements
    elements, offset = [], 0
    while offset < len(data):
        if data[offset] == SEPARATOR:  # FNC1 may open the data and follow any field
            offset += 1
            continue
        element = _element(data[offset:], offset=offset, whole=False)
        elements.append(element)
        offset += len(element)
    return elements


def _element(rest: str, *, offset: int, whole: bool) -> GS1ElementString:
    """The element string at the start of ``rest`` (with ``whole``, all of it), or why not."""
    ai = _ai(rest, offset=offset)
    try:
        return GS1ElementString.parse(rest) if whole else GS1ElementString.extract(rest)
    except ParseError:
        value = rest[len(ai):].split(SEPARATOR, 1)[0]
        if ai.ai in _DATE_AIS and re.fullmatch(r"\d{6}", value[:6]):
            message = GS1Invalid.DATE.format(ai=ai.ai, title=ai.data_title, value=value[:6])
        else:
            message = GS1Invalid.FORMAT.format(ai=ai.ai, title=ai.data_title, value=value, format=ai.format)
        raise GS1Invalid(message) from None


def _ai(rest: str, *, offset: int) -> GS1ApplicationIdentifier:
    """The AI that ``rest`` begins with (GS1's AIs are prefix-free), or ``GS1Invalid`` if none."""
    try:
        return GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        raise GS1Invalid(GS1Invalid.UNKNOWN_AI.format(at=rest[:12], offset=offset + 1)) from None
