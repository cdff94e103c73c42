"""The accepted domain of the posting API's inputs, as Hypothesis strategies with an oracle.

Every strategy here draws a ``Value``: what goes into the JSON body (``raw``) and what the API must
make of it (``verdict``), worked out independently of the product's parser:

- ``OK``: inside the accepted domain; the API must take it, and ``value`` is what it must store;
- ``BAD``: outside it; the API must refuse the request with 400 naming the field;
- ``EITHER``: a spelling the domain leaves open (an exponent, a JSON number, padding, an ISO form
  other than the usual one): refusing it (400 naming the field) and taking it are both right, but
  nothing may answer 5xx. When taken, ``value`` is what it means, if that is known.

The domain (issue 9, item 4):

- ``occurred_at``: ISO 8601 with a zone; any offset Python accepts (under 24 h); the instant must
  lie in [1970-01-01T00:00:00Z, now + 5 minutes]; impossible dates and times are refused;
- ``quantity`` > 0 and ``counted_quantity`` >= 0, both <= 999,999,999,999.999 with at most 3
  decimals; ``unit_cost`` >= 0 and <= 999,999,999.9999 with at most 4 decimals;
- ``reference`` (<= 64 characters) without control characters or unpaired surrogates; ``reason``
  (<= 1000 characters) without NUL or unpaired surrogates.
"""
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from hypothesis import strategies as st

OK, BAD, EITHER = "ok", "bad", "either"

QUANTITY_MAX = Decimal("999999999999.999")
COST_MAX = Decimal("999999999.9999")
QUANTITY_PLACES, COST_PLACES = 3, 4
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(minutes=5)
CLOCK_MARGIN = timedelta(seconds=30)  # instants this close to the future bound may go either way
MAX_REFERENCE, MAX_REASON = 64, 1000


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()  # the key is left out of the body


@dataclass(frozen=True)
class Value:
    raw: object
    verdict: str
    value: object = None
    note: str = ""  # why, for a person reading a falsifying example

    @property
    def present(self) -> bool:
        return self.raw is not ABSENT

    @property
    def given(self) -> bool:
        """Present and not null: null counts as absent for the posting API's optional fields."""
        return self.raw is not ABSENT and self.raw is not None


def absent() -> Value:
    return Value(ABSENT, OK, None, "absent")


def over_the_wire(raw):
    """What the server decodes from what the test sends (``json.dumps`` escapes surrogates, and a
    pair of escaped surrogates decodes as one character)."""
    return json.loads(json.dumps(raw))


# ---------------------------------------------------------------- decimals

_CANONICAL_DECIMAL = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")


def _decimal_verdict(number: Decimal, *, places: int, maximum: Decimal, allow_zero: bool) -> str:
    if not number.is_finite() or number < 0 or number > maximum:
        return BAD
    if number == 0 and not allow_zero:
        return BAD
    if number != number.quantize(Decimal(1).scaleb(-places)):
        return BAD
    return OK


def classify_decimal(raw, *, places: int, maximum: Decimal, allow_zero: bool) -> Value:
    """A decimal field's raw JSON value against the domain."""
    if raw is None:
        return Value(None, OK, None, "null")
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        return Value(raw, BAD, None, "not a number")
    text = raw if isinstance(raw, str) else repr(raw)
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return Value(raw, BAD, None, "not a number")
    verdict = _decimal_verdict(number, places=places, maximum=maximum, allow_zero=allow_zero)
    if verdict == BAD:
        return Value(raw, BAD, None, "outside the domain")
    match = _CANONICAL_DECIMAL.fullmatch(raw) if isinstance(raw, str) else None
    canonical = match is not None and len((match.group(2) or ".")[1:]) <= places
    value = number.quantize(Decimal(1).scaleb(-places))
    return Value(raw, OK if canonical else EITHER, value, "" if canonical else "unusual spelling")


def decimal_values(*, places: int, maximum: Decimal, allow_zero: bool, valid_only: bool = False):
    """Decimals over the domain and beyond it."""
    quantum = Decimal(1).scaleb(-places)
    smallest = Decimal(0) if allow_zero else quantum

    def plain(number: Decimal) -> str:
        return format(number, "f")

    inside = st.one_of(
        st.decimals(min_value=smallest, max_value=maximum, places=places).map(plain),
        st.decimals(min_value=smallest, max_value=Decimal(1000), places=places).map(plain),
        st.sampled_from([smallest, quantum, Decimal("0.1"), Decimal(1), maximum, maximum - quantum]).map(plain),
    )
    classify = lambda raw: classify_decimal(raw, places=places, maximum=maximum, allow_zero=allow_zero)  # noqa: E731
    if valid_only:
        return inside.map(classify)
    edges = st.sampled_from([
        plain(maximum + quantum), plain(maximum + 1), str(10**12), str(10**15), str(10**15 - 1), str(10**17),
        str(10**18 - 1), str(10**18), str(10**30), plain(quantum / 10), "1." + "0" * places + "1",
        plain(-quantum), "-1", "-0", "0", "-0.0", "0.000", "+5", " 5 ", "5.", ".5", "007", "1.50000",
        "1e3", "1E+2", "1e-3", "2.5e1", "1e12", "1e13", "1e15", "1e18", "1e999999", "1e-999999", "-1e3",
        "0e5", "NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "", " ", "abc", "1,5", "1.2.3",
        "0x10", "--1", "1e", "e3", ".", "-", "1_000", "١٢", "²", "5\x00", "9" * 40, "9" * 1000, "1" + "0" * 4300,
        "0." + "0" * 1000 + "1",
    ])
    huge = st.integers(min_value=13, max_value=400).map(lambda n: "9" * n)
    exponent = st.tuples(st.integers(-999, 999), st.integers(-30, 30)).map(lambda t: f"{t[0]}e{t[1]}")
    numbers = st.one_of(
        st.integers(min_value=-(10**20), max_value=10**20),
        st.sampled_from([0, 1, 10**12, 10**12 - 1, 2**63, -1]),
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e20, max_value=1e20),
    )
    wrong = st.sampled_from([True, False, [], {}, ["1"], {"value": "1"}, None])
    return st.one_of(inside, inside, edges, huge, exponent, numbers, wrong).map(classify)


def quantity_values(valid_only: bool = False):
    return decimal_values(places=QUANTITY_PLACES, maximum=QUANTITY_MAX, allow_zero=False, valid_only=valid_only)


def counted_values(valid_only: bool = False):
    return decimal_values(places=QUANTITY_PLACES, maximum=QUANTITY_MAX, allow_zero=True, valid_only=valid_only)


def cost_values(valid_only: bool = False):
    return decimal_values(places=COST_PLACES, maximum=COST_MAX, allow_zero=True, valid_only=valid_only)


# ---------------------------------------------------------------- times


def _now() -> datetime:
    return datetime.now(UTC)


def _range_verdict(instant: datetime, now: datetime) -> str:
    if instant < EARLIEST or instant > now + FUTURE_TOLERANCE + CLOCK_MARGIN:
        return BAD
    if instant > now + FUTURE_TOLERANCE - CLOCK_MARGIN:
        return EITHER
    return OK


def _offset_text(sign: str, hours: int, minutes: int) -> str:
    return f"{sign}{hours:02d}:{minutes:02d}"


@st.composite
def _structured_times(draw, now: datetime):
    """A date, a time and a zone, each part drawn inside and beyond its range."""
    year = draw(st.one_of(
        st.sampled_from([1, 2, 999, 1969, 1970, 1971, 2000, 2024, now.year, now.year + 1, 9998, 9999]),
        st.integers(1, 9999),
    ))
    month = draw(st.one_of(st.integers(1, 12), st.sampled_from([0, 13, 99])))
    day = draw(st.one_of(st.integers(1, 28), st.sampled_from([29, 30, 31]), st.sampled_from([0, 32, 99])))
    hour = draw(st.one_of(st.integers(0, 23), st.sampled_from([24, 25, 99])))
    minute = draw(st.one_of(st.integers(0, 59), st.sampled_from([60, 99])))
    second = draw(st.one_of(st.integers(0, 59), st.sampled_from([60, 61, 99])))
    fraction = draw(st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=6).map(lambda d: "." + d)))
    sign = draw(st.sampled_from("+-"))
    zone_hours = draw(st.one_of(st.integers(0, 23), st.sampled_from([14, 15, 16, 23, 24, 25, 99])))
    zone_minutes = draw(st.one_of(st.integers(0, 59), st.sampled_from([0, 59, 60, 99])))
    zone = draw(st.one_of(
        st.just("Z"), st.just("+00:00"), st.just(_offset_text(sign, zone_hours, zone_minutes)),
        st.sampled_from(["", "+0100", "+01", "-0530"]),
    ))
    separator = draw(st.sampled_from(["T", "T", "T", " "]))
    text = f"{year:04d}-{month:02d}-{day:02d}{separator}{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"

    if (hour == 24 and minute == second == 0 and not fraction.strip(".0")) or second == 60:
        return Value(text, EITHER, None, "24:00 or a leap second")
    try:
        naive = datetime(year, month, day, hour, minute, second, int((fraction[1:] or "0").ljust(6, "0")))
    except ValueError:
        return Value(text, BAD, None, "an impossible date or time")
    if zone == "":
        return Value(text, BAD, None, "no zone")
    if zone == "Z":
        offset = timedelta(0)
    else:
        digits = zone[1:].replace(":", "")
        offset_hours, offset_minutes = int(digits[:2]), int(digits[2:] or 0)
        if offset_hours >= 24 or offset_minutes >= 60:
            return Value(text, BAD, None, "an impossible offset")
        offset = timedelta(hours=offset_hours, minutes=offset_minutes) * (-1 if zone[0] == "-" else 1)
    try:
        instant = naive.replace(tzinfo=timezone(offset)).astimezone(UTC)
    except OverflowError:
        return Value(text, BAD, None, "an instant outside the calendar")
    verdict = _range_verdict(instant, now)
    if verdict == OK and (separator != "T" or zone in ("+0100", "+01", "-0530")):
        verdict = EITHER
    return Value(text, verdict, instant, "" if verdict == OK else "near a bound or an unusual spelling")


@st.composite
def _relative_times(draw, now: datetime):
    """Instants around now and around the bounds, written in any offset Python accepts."""
    instant = draw(st.one_of(
        st.sampled_from([
            EARLIEST, EARLIEST - timedelta(microseconds=1), EARLIEST + timedelta(seconds=1),
            now - timedelta(days=3650), now - timedelta(days=1), now - timedelta(seconds=1), now,
            now + timedelta(minutes=4), now + timedelta(minutes=6), now + timedelta(hours=1),
            now + timedelta(days=1), now + timedelta(days=36500),
        ]),
        st.datetimes(min_value=datetime(1970, 1, 1), max_value=now.replace(tzinfo=None)).map(lambda d: d.replace(tzinfo=UTC)),
    ))
    minutes = draw(st.one_of(st.integers(-(24 * 60 - 1), 24 * 60 - 1), st.sampled_from([0, 60, -60, 14 * 60, 959, -959, 960, -960, 1439, -1439])))
    zone = timezone(timedelta(minutes=minutes))
    try:
        text = instant.astimezone(zone).isoformat()
    except OverflowError:
        return Value(instant.isoformat(), _range_verdict(instant, now), instant)
    return Value(text, _range_verdict(instant, now), instant)


def _fixed_times(now: datetime):
    oddities = {
        "": BAD, "now": BAD, "today": BAD, "yesterday": BAD, "2026-11-25": BAD, "09:30": BAD, "09:30:00Z": BAD,
        "2026-11-25T09:30": BAD, "2024-01-01T12:99:00Z": BAD, "2026-02-30T10:00:00Z": BAD,
        "2024-01-01T25:00:00Z": BAD, "2023-02-29T00:00:00Z": BAD, "2024-02-29T00:00:00Z": OK,
        "0001-01-01T00:00:00+01:00": BAD, "0001-01-01T00:00:00Z": BAD, "0000-01-01T00:00:00Z": BAD,
        "9999-12-31T23:59:59-23:59": BAD, "9999-12-31T23:59:59.999999Z": BAD, "10000-01-01T00:00:00Z": BAD,
        "-0001-01-01T00:00:00Z": BAD, "1970-01-01T00:00:00Z": OK, "1970-01-01T00:00:00+00:01": BAD,
        "1969-12-31T23:59:59.999999Z": BAD, "1970-01-01T00:00:00-23:59": OK, "2026-01-01T00:00:00+24:00": BAD,
        "2026-01-01T00:00:00+16:00": OK, "2026-01-01T00:00:00-16:00": OK, "2026-01-01T00:00:00+15:59": OK,
        "2026-01-01T00:00:00+99:99": BAD, "2026-01-01T00:00:00Z\x00": BAD, "2026-01-01T00:00:00Z\n": BAD, "2026-01-01T00:00:00+01:00\x00junk": BAD, "\x002026-01-01T00:00:00Z": BAD,
        "2026-01-01T00:00:00\ud800Z": BAD, "2026-01-01T00:00:00ZZ": BAD, "2026-01-01T00:00:00 Z": EITHER,
        "2026-W01-1T10:00:00Z": EITHER, "20260101T100000Z": EITHER, "2026-01-01T10:00Z": EITHER,
        "2026-01-01T10:00:00.1234567Z": EITHER, "2026-01-01T10:00:00,5Z": EITHER, "２０２６-01-01T10:00:00Z": EITHER,
        "2026-01-01t10:00:00z": EITHER, "2026-01-01T10:00:00+01:00:30": EITHER, "2026-001T10:00:00Z": EITHER,
        "2026-01-01T10:00:00" + "0" * 5000 + "Z": BAD,
    }

    def value(text: str) -> Value:
        verdict = oddities[text]
        if verdict == OK:
            instant = datetime.fromisoformat(text).astimezone(UTC)
            if _range_verdict(instant, now) != OK:  # only if this test runs before 2026
                return Value(text, BAD if instant < EARLIEST else EITHER, instant)
            return Value(text, OK, instant)
        return Value(text, verdict, None, "a hand-picked oddity")

    return st.sampled_from(sorted(oddities)).map(value)


@st.composite
def time_values(draw, *, valid_only: bool = False):
    """``occurred_at`` over the domain and beyond it (or, ``valid_only``, inside it)."""
    now = _now()
    if valid_only:
        instant = draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=(now - timedelta(seconds=1)).replace(tzinfo=None)))
        minutes = draw(st.integers(-(24 * 60 - 1), 24 * 60 - 1))
        text = instant.replace(tzinfo=UTC).astimezone(timezone(timedelta(minutes=minutes))).isoformat()
        return Value(text, OK, instant.replace(tzinfo=UTC))
    wrong = st.sampled_from([0, 1_700_000_000, 1.5, True, [], {}, ["2026-01-01T00:00:00Z"]]).map(
        lambda raw: Value(raw, BAD, None, "not a string")
    )
    return draw(st.one_of(
        _structured_times(now), _structured_times(now), _relative_times(now), _fixed_times(now), wrong,
        st.just(Value(None, OK, None, "null: now")),
    ))


# ---------------------------------------------------------------- text


def _has_unpaired_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def classify_text(raw, *, limit: int, no_controls: bool) -> Value:
    if raw is None:
        return Value(None, OK, "", "null")
    if not isinstance(raw, str):
        return Value(raw, BAD, None, "not a string")
    received = over_the_wire(raw)
    if "\x00" in received or _has_unpaired_surrogate(received):
        return Value(raw, BAD, None, "NUL or an unpaired surrogate")
    if no_controls and any(unicodedata.category(c) == "Cc" for c in received):
        return Value(raw, BAD, None, "a control character")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in received):
        # The domain lets a reason carry other control characters; refusing them is no harm.
        return Value(raw, EITHER, received, "a control character other than a line break")
    if len(received) > limit:
        if len(received.strip()) <= limit:
            return Value(raw, EITHER, received.strip(), "too long until stripped")
        return Value(raw, BAD, None, "too long")
    return Value(raw, OK, received)


_ODD_CHARACTERS = [
    "\x00", "\ud800", "\udfff", "\udc00", "\ud83d", "\ud83d\ude00", "\x01", "\x1f", "\x7f", "\x85", "\x9f",
    "\n", "\r", "\t", "\u2028", "\u200b", "\ufeff", "\uffff", "😀", "\U0010ffff", "é", "中", " ", "\u00a0",
]


@st.composite
def text_values(draw, *, limit: int, no_controls: bool, valid_only: bool = False):
    classify = lambda raw: classify_text(raw, limit=limit, no_controls=no_controls)  # noqa: E731
    if valid_only:
        alphabet = st.characters(exclude_categories=("Cc", "Cs"))
        return classify(draw(st.text(alphabet, max_size=min(limit, 80))))
    plain = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=limit + 5)
    odd = st.lists(st.one_of(st.sampled_from(_ODD_CHARACTERS), st.text(max_size=5)), max_size=12).map("".join)
    sized = st.tuples(
        st.sampled_from([limit - 1, limit, limit + 1, 2 * limit, 10 * limit]),
        st.sampled_from(["a", "é", "中", "😀", " ", "\x00", "\ud800"]),
        st.sampled_from(["", " ", "  ", "x"]),
    ).map(lambda t: t[1] * t[0] + t[2])
    wrong = st.sampled_from([0, 1.5, True, [], {}, ["PO-1"], {"a": 1}])
    return classify(draw(st.one_of(plain, odd, odd, sized, wrong, st.just(None))))


def reference_values(valid_only: bool = False):
    return text_values(limit=MAX_REFERENCE, no_controls=True, valid_only=valid_only)


def reason_values(valid_only: bool = False):
    return text_values(limit=MAX_REASON, no_controls=False, valid_only=valid_only)


# ---------------------------------------------------------------- ids


def id_values(existing: list[int], missing: int, *, valid_only: bool = False):
    """Ids of products or locations: existing ones, missing ones, and things that are no id."""
    good = st.sampled_from(existing).map(lambda pk: Value(pk, OK, pk))
    if valid_only:
        return good
    strings = st.sampled_from(existing).map(lambda pk: Value(str(pk), EITHER, pk, "an id as a string"))
    bad = st.sampled_from([
        missing, 0, -1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, "abc", "", " ", "1.0", 1.0, 1.5, True, False, [],
        {}, [existing[0]], "²", "-1", "0x1", "1e3", "\x00",
    ]).map(lambda raw: Value(raw, BAD, None, "no such id, or no id"))
    padded = st.sampled_from(existing).map(lambda pk: Value(f" {pk} ", EITHER, pk, "padded"))
    unicode_digits = st.sampled_from(["١", "١٢", "１"]).map(lambda raw: Value(raw, EITHER, int(raw), "non-ASCII digits"))
    return st.one_of(good, good, good, strings, bad, padded, unicode_digits)


# ---------------------------------------------------------------- whole movements


@dataclass
class Body:
    """A generated request body and what the oracle knows of it."""

    fields: dict[str, Value]
    kind: str | None  # the kind, if it is a postable one
    extra_bad: set[str] = field(default_factory=set)  # fields named by rules across fields
    not_a_dict: object = None  # a body that is not an object (sent instead of ``fields``)

    def json(self):
        if self.not_a_dict is not None:
            return self.not_a_dict
        return {name: value.raw for name, value in self.fields.items() if value.present}

    @property
    def bad(self) -> set[str]:
        if self.not_a_dict is not None:
            return {"non_field_errors"}
        return {name for name, value in self.fields.items() if value.verdict == BAD} | self.extra_bad

    @property
    def either(self) -> set[str]:
        return {name for name, value in self.fields.items() if value.verdict == EITHER}

    def value(self, name: str):
        value = self.fields.get(name)
        return None if value is None or not value.given else value.value


LOCATION_FIELDS = {"receipt": ("location",), "issue": ("location",), "count": ("location",),
                   "transfer": ("from_location", "to_location")}
AMOUNT_FIELD = {"receipt": "quantity", "issue": "quantity", "transfer": "quantity", "count": "counted_quantity"}
ALLOWED = {
    kind: {"kind", "product", "occurred_at", "reference", "reason", "idempotency_key", *LOCATION_FIELDS[kind],
           AMOUNT_FIELD[kind], *(("unit_cost",) if kind == "receipt" else ())}
    for kind in LOCATION_FIELDS
}
STRANGERS = ["unit_cost", "location", "from_location", "to_location", "quantity", "counted_quantity", "foo",
             "reverses", "id", "position", "user", "balances", "delta", "Kind", ""]


def _optional(strategy, probability_absent=0.5):
    return st.one_of(st.just(absent()), strategy) if probability_absent else strategy


@st.composite
def movement_bodies(draw, *, products: list[int], locations: list[int], missing: int, valid_only: bool = False):
    """One movement for ``POST movements/`` (or a batch item), over the domain and beyond it."""
    if not valid_only and draw(st.integers(0, 40)) == 0:
        return Body({}, None, not_a_dict=draw(st.sampled_from([[], [1], "receipt", 5, True])))
    kind_value = draw(st.sampled_from(["receipt", "issue", "transfer", "count"]).map(lambda k: Value(k, OK, k)))
    if not valid_only and draw(st.integers(0, 15)) == 0:
        kind_value = draw(st.sampled_from(["reversal", "RECEIPT", "", " receipt", 1, None, ["receipt"]]).map(
            lambda k: Value(k, BAD, None, "no postable kind")))
    kind = kind_value.value
    shape = kind or draw(st.sampled_from(sorted(LOCATION_FIELDS)))
    fields = {"kind": kind_value}
    ids = lambda pool: id_values(pool, missing, valid_only=valid_only)  # noqa: E731
    fields["product"] = draw(ids(products))
    if valid_only and shape == "transfer":  # two different locations
        source, target = draw(st.lists(st.sampled_from(locations), min_size=2, max_size=2, unique=True))
        fields["from_location"], fields["to_location"] = Value(source, OK, source), Value(target, OK, target)
    else:
        for name in LOCATION_FIELDS[shape]:
            fields[name] = draw(ids(locations))
    amount = AMOUNT_FIELD[shape]
    fields[amount] = draw((counted_values if amount == "counted_quantity" else quantity_values)(valid_only))
    if shape == "receipt":
        fields["unit_cost"] = draw(_optional(cost_values(valid_only)))
    fields["occurred_at"] = draw(_optional(time_values(valid_only=valid_only)))
    fields["reference"] = draw(_optional(reference_values(valid_only)))
    fields["reason"] = draw(_optional(reason_values(valid_only)))
    if not valid_only:
        for name in draw(st.lists(st.sampled_from(STRANGERS), max_size=2, unique=True)):
            if name not in ALLOWED[shape]:
                fields[name] = draw(st.sampled_from([1, "x", None, []]).map(
                    lambda raw: Value(raw, EITHER if raw is None else BAD, None, "a field this kind does not take")))
        for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=1)):
            if name not in ALLOWED[shape]:
                fields[name] = absent()
            elif name != "kind":
                fields[name] = draw(st.sampled_from([absent(), Value(None, OK, None, "null")]))
    body = Body(fields, kind)
    if kind is None:
        return body
    for name in ("product", *LOCATION_FIELDS[kind], amount):  # required
        if not fields[name].given:
            fields[name] = Value(fields[name].raw, BAD, None, "required")
    if kind == "transfer":
        source, target = fields["from_location"], fields["to_location"]
        if source.given and target.given and source.verdict != BAD and source.value is not None and source.value == target.value:
            body.extra_bad.add("to_location")
    return body
