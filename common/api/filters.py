"""Query parameters read strictly, for every list: a value a list cannot use, or a parameter it reads
given more than once, is a 400 ``validation_error`` naming the parameter, never silently ignored.

An empty value means the parameter was not given (as a browsable-API form sends it). Parameters no
list reads (a client's cache-buster such as ``_=1712345678``) are left alone.
"""
import django_filters
from django import forms
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from django_filters.widgets import BooleanWidget as _BooleanSelect
from rest_framework import filters, serializers
from rest_framework.exceptions import ValidationError

from common.ids import IdFilter

from .parsers import refuse_repeated

BOOLEAN_EXPECTED = "Must be true or false (also 1 or 0, yes or no, on or off)."
ORDERING_UNKNOWN = "Cannot order by {terms}; use {fields}, each optionally prefixed with '-'."


# What DRF's BooleanField reads as true or false (compared in lower case).
_BOOLEANS = {
    **{value: True for value in serializers.BooleanField.TRUE_VALUES if isinstance(value, str)},
    **{value: False for value in serializers.BooleanField.FALSE_VALUES if isinstance(value, str)},
}


class _BooleanWidget(_BooleanSelect):
    """Renders Unknown / Yes / No, and hands the field what the client sent, so that the field
    (not the widget) decides what is a boolean."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)

    def render(self, name, value, attrs=None, renderer=None):
        if isinstance(value, str):
            value = _BOOLEANS.get(value.lower(), value)
        return super().render(name, value, attrs, renderer)


class StrictBooleanField(forms.Field):
    """true or false as DRF's BooleanField reads them (case-insensitive ``true/false``, ``1/0``,
    ``yes/no``, ``on/off``, ``t/f``, ``y/n``); empty is not given; anything else is refused."""

    widget = _BooleanWidget
    default_error_messages = {"invalid": BOOLEAN_EXPECTED}

    def to_python(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        try:
            return _BOOLEANS[str(value).lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class BooleanFilter(django_filters.BooleanFilter):
    """django-filter's BooleanFilter, which reads junk (``maybe``) as "not given": refused instead."""

    field_class = StrictBooleanField


class _SingleValuedForm(forms.Form):
    """A filter form that refuses a parameter given more than once (a filter reads one value)."""

    def clean(self):
        cleaned = super().clean()
        single = {  # the parameter each field reads, unless its widget reads several (none does yet)
            self.add_prefix(name): name for name, field in self.fields.items()
            if not getattr(field.widget, "allow_multiple_selected", False) and not isinstance(field.widget, forms.MultiWidget)
        }
        try:
            refuse_repeated(self.data, set(single))
        except ValidationError as exc:
            for parameter, messages in exc.detail.items():
                self.add_error(single[parameter], [str(message) for message in messages])
        return cleaned


def _strict(spec: dict) -> dict:
    if spec["filter_class"] is django_filters.BooleanFilter:
        return {**spec, "filter_class": BooleanFilter}
    if spec["filter_class"] is django_filters.ModelChoiceFilter:
        return {"filter_class": IdFilter}
    return spec


class FilterSet(django_filters.FilterSet):
    """The base of every list's filters: booleans read strictly (also those generated from a
    model's BooleanField); a related record by its id, so that one that does not exist matches
    nothing (an empty page) rather than being refused as an invalid choice; a parameter given
    twice refused."""

    FILTER_DEFAULTS = {field: _strict(spec) for field, spec in FILTER_FOR_DBFIELD_DEFAULTS.items()}

    def get_form_class(self):
        form_class = super().get_form_class()
        return type(form_class.__name__, (_SingleValuedForm, form_class), {})


class OrderingFilter(filters.OrderingFilter):
    """DRF's OrderingFilter, which drops a field it does not offer (``ordering=password``) and orders
    by the default instead: refused, naming ``ordering`` and the fields offered."""

    ordering_description = (
        "Comma-separated fields to order by, each optionally prefixed with `-` (descending). "
        "A field the list does not offer is a 400 naming `ordering`."
    )

    def get_ordering(self, request, queryset, view):
        refuse_repeated(request.query_params, {self.ordering_param})
        return super().get_ordering(request, queryset, view)

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        if len(valid) != len(fields):
            offered = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
            unknown = [term for term in fields if term not in valid]
            message = ORDERING_UNKNOWN.format(
                terms=", ".join(repr(term) for term in unknown), fields=", ".join(offered)
            )
            raise ValidationError({self.ordering_param: [message]})
        return valid


class SearchFilter(filters.SearchFilter):
    """DRF's SearchFilter, with its refusal (a NUL) and a repeated ``search`` naming the parameter."""

    def get_search_terms(self, request):
        refuse_repeated(request.query_params, {self.search_param})
        try:
            return super().get_search_terms(request)
        except ValidationError as exc:
            raise ValidationError({self.search_param: exc.detail}) from None
