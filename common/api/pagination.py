"""Pages for every list, read strictly: ``page_size`` from 1 to ``MAX_PAGE_SIZE`` (more is a 400,
not a shorter page a client could take for the whole list), a ``page`` that is no page number and
a ``cursor`` the list did not give out are 400s naming the parameter; an empty value is not given."""
from base64 import b64decode
from binascii import Error as Base64Error
from urllib import parse

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from common.ids import MAX_ID

from .parsers import refuse_repeated

MAX_PAGE_SIZE = 1000
PAGE_SIZE_INVALID = "Must be a whole number from 1 to {maximum}."
PAGE_INVALID = "Must be a page number (1, 2, ...) or 'last'."
CURSOR_INVALID = "Not a cursor this list gave out: follow the 'next' and 'previous' links as they are."


def _query_value(request, name: str) -> str | None:
    """The one value of a query parameter; None if it is absent or empty."""
    refuse_repeated(request.query_params, {name})
    return request.query_params.get(name) or None


def _whole_number(text: str, maximum: int) -> int | None:
    """``text`` as a number from 1 to ``maximum`` written in ASCII digits, or None."""
    if not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0")
    if not significant or len(significant) > len(str(maximum)):
        return None
    number = int(significant)
    return number if number <= maximum else None


class StrictPageSize:
    """``?page_size=`` from 1 to ``max_page_size``; DRF's own reads junk as the default and clamps."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        raw = _query_value(request, self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _whole_number(raw, self.max_page_size)
        if size is None:
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_INVALID.format(maximum=self.max_page_size)]})
        return size


class PageNumberPagination(StrictPageSize, pagination.PageNumberPagination):
    """Catalog and stock lists: ``?page=`` (a number, or ``last``) and ``?page_size=``; a page past
    the last is 404 ``not_found``."""

    page_size = 50
    page_query_description = "A page number (1, 2, ...) or `last`. Past the last page: 404. Anything else: 400."
    page_size_query_description = (
        f"Results per page, 1 to {MAX_PAGE_SIZE} (default 50). Anything else, a larger number included, is a 400."
    )

    def get_page_number(self, request, paginator):
        raw = _query_value(request, self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        if not (raw.isascii() and raw.isdigit() and raw.strip("0")):
            raise ValidationError({self.page_query_param: [PAGE_INVALID]})
        return raw  # a number past the last page: the paginator's 404


class CursorPagination(StrictPageSize, pagination.CursorPagination):
    """Cursor pages (the ledger): a cursor is only ever one this list gave out in a ``next`` or
    ``previous`` link; DRF's own answers junk with a 404 and passes a forged position to the query."""

    page_size_query_description = (
        f"Results per page, 1 to {MAX_PAGE_SIZE}. Anything else, a larger number included, is a 400."
    )
    cursor_query_description = "The `next` or `previous` link's cursor, as given; anything else is a 400."

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        encoded = _query_value(request, self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
        except (Base64Error, UnicodeError, ValueError):
            raise self._invalid() from None
        if not set(tokens) <= {"o", "r", "p"} or any(len(values) != 1 for values in tokens.values()):
            raise self._invalid()
        offset = tokens.get("o", ["0"])[0]
        if not (offset.isascii() and offset.isdigit() and len(offset) <= 9 and int(offset) <= self.offset_cutoff):
            raise self._invalid()
        reverse = tokens.get("r", ["0"])[0]
        if reverse not in ("0", "1"):
            raise self._invalid()
        position = tokens.get("p", [None])[0]
        if position is not None:
            position = self._position(position)
        return pagination.Cursor(offset=int(offset), reverse=reverse == "1", position=position)

    def _position(self, raw: str) -> str:
        """A position of the ordering field, as DRF writes it (``str`` of the value)."""
        field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(raw)
        except DjangoValidationError:
            raise self._invalid() from None
        if value is None or (isinstance(field, models.IntegerField) and not (raw.isascii() and 0 <= value <= MAX_ID)):
            raise self._invalid()
        return str(value)

    def _invalid(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [CURSOR_INVALID]})
