"""Ids as clients send them: whole decimal numbers (ASCII digits) within what a database key holds."""
import django_filters
from django import forms

MAX_ID = 2**63 - 1  # the largest bigint: a larger number is no id, and SQLite cannot even compare it


class IdField(forms.IntegerField):
    """A whole number from 0 to ``MAX_ID``, written in ASCII digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdFilter(django_filters.NumberFilter):
    """A filter on an id or a position: ``IdField`` instead of NumberFilter's decimal (which takes
    1e300 and passes it to the database)."""

    field_class = IdField
