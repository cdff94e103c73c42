"""Master-data history for auditors (and managers): every change, or one record's, newest first."""
from django.db import models
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound

from accounts.permissions import HasPermission
from common.api.parsers import refuse_repeated
from common.api.schema import AutoSchema
from common.ids import MAX_ID

from .selectors import TRACKED, history_events, history_page, record_known
from .serializers import ChangeSerializer, HistoryQuerySerializer, RecordHistoryQuerySerializer

READ_HISTORY = tuple(f"history.view_{t.events._meta.model_name}" for t in TRACKED.values())


def _query(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The query string's filters, validated (a repeated one is a 400, an empty one not given)."""
    refuse_repeated(request.query_params, set(serializer_class().fields))
    query = serializer_class(data={name: value for name, value in request.query_params.items() if value != ""})
    query.is_valid(raise_exception=True)
    return query.validated_data


def _query_parameters(serializer_class: type[serializers.Serializer]) -> list[OpenApiParameter]:
    """The query serializer's fields as the schema's query parameters, each optional."""
    parameters = []
    for name, field in serializer_class().fields.items():
        if isinstance(field, serializers.ChoiceField):
            schema = {"type": "string", "enum": list(field.choices)}
        elif isinstance(field, serializers.IntegerField):
            schema = {"type": "integer", "minimum": field.min_value, "maximum": field.max_value}
        else:
            schema = {"type": "string", "format": "date-time"}
        parameters.append(OpenApiParameter(name, schema, description=str(field.help_text or "")))
    return parameters


class HistorySchema(AutoSchema):
    """The history's filters are a list's: an empty value is not given (``allowEmptyValue``), as
    the list filters' are (``common.api.schema``)."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if parameter["in"] == "query":
                parameter["allowEmptyValue"] = True
        return operation


class HistoryView(generics.ListAPIView):
    """A page of changes, newest first (``history``: which)."""

    permission_classes = [HasPermission.for_perms(*READ_HISTORY)]
    serializer_class = ChangeSerializer
    filter_backends = []
    schema = HistorySchema()

    def history(self) -> models.QuerySet:
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.history())
        return self.get_paginated_response(self.get_serializer(history_page(page), many=True).data)


@extend_schema(parameters=_query_parameters(HistoryQuerySerializer))
class HistoryListView(HistoryView):
    """Every recorded change to products, categories, warehouses, locations, users (their flags and
    roles) and API tokens: who, when, through what, and each field before and after."""

    def history(self) -> models.QuerySet:
        return history_events(**_query(self.request, HistoryQuerySerializer))


@extend_schema(parameters=[
    *_query_parameters(RecordHistoryQuerySerializer),
    OpenApiParameter("id", {"type": "integer", "minimum": 0, "maximum": MAX_ID}, OpenApiParameter.PATH, description="The record's id."),
])
class RecordHistoryView(HistoryView):
    """One record's changes, newest first; a deleted record's history stays readable."""

    model_name = ""

    def history(self) -> models.QuerySet:
        object_id = int(self.kwargs["id"])
        if object_id > MAX_ID or not record_known(model=self.model_name, object_id=object_id):
            raise NotFound()
        return history_events(model=self.model_name, object_id=object_id, **_query(self.request, RecordHistoryQuerySerializer))
