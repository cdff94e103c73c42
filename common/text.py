"""Text a person reads: valid Unicode (no unpaired surrogates) and no control characters.

One line (a code, a SKU, a name) holds none at all; long text (a specification, an address)
may hold tabs and line breaks. Whitespace around a value, a tab or line break included (a
scanner's Enter), is trimmed, as forms and DRF trim it; any other control character is refused
wherever it stands, also at an end, where Python's ``str.strip`` would silently drop some of them
(U+001C to U+001F).
"""
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

CONTROL_CHARACTER = "Contains the control character {codepoint}."
UNPAIRED_SURROGATE = "Contains an unpaired surrogate: not valid Unicode text."

_LINE_BREAKS = "\t\n\r"
# What trimming may take off the ends: whitespace that is no control character, and tab and line breaks.
_TRIMMED = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and (unicodedata.category(c) != "Cc" or c in _LINE_BREAKS)
)


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is no readable text (the first problem), or None. Checked before trimming."""
    allowed = _LINE_BREAKS if multiline else ""
    for character in value.strip(_TRIMMED):
        category = unicodedata.category(character)
        if category == "Cs":
            return UNPAIRED_SURROGATE
        if category == "Cc" and character not in allowed:
            return CONTROL_CHARACTER.format(codepoint=f"U+{ord(character):04X}")
    return None


@deconstructible
class ReadableText:
    """Validator: ``text_problem`` as a ``ValidationError`` (for a model field or a form)."""

    code = "unreadable_text"

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        if isinstance(value, str):
            problem = text_problem(value, multiline=self.multiline)
            if problem:
                raise ValidationError(problem, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, ReadableText) and other.multiline == self.multiline
