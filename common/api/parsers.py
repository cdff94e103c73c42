"""Request parsing that refuses what it cannot read with a 400, never a 500."""
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

REPEATED = "Given more than once; send it once."


def refuse_repeated(data, names=None) -> None:
    """A form body or query string (a ``QueryDict``) that gives a field more than once: a 400
    naming each such field (of ``names``, if given), rather than letting the last one win."""
    lists = getattr(data, "lists", None)
    if lists is None:
        return
    repeated = {name: [REPEATED] for name, values in lists() if len(values) > 1 and (names is None or name in names)}
    if repeated:
        raise ValidationError(repeated)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a document nested deeper than Python's decoder recurses is malformed input."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


class FormParser(parsers.FormParser):
    """DRF's form parser; a field given more than once is refused, naming it."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_repeated(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser; a field (or file) given more than once is refused, naming it."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        refuse_repeated(parsed.data)
        refuse_repeated(parsed.files)
        both = set(parsed.data) & set(parsed.files)
        if both:
            raise ValidationError({name: [REPEATED] for name in sorted(both)})
        return parsed
