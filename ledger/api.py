"""The ledger over HTTP. Views parse, call a service or selector, and shape the answer."""
import time

from django.http import StreamingHttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasPermission
from catalog.models import LOT_CODE, MAX_LOT
from common.api.pagination import CursorPagination
from common.api.parsers import refuse_repeated
from common.api.schema import (
    closed_input,
    decimal_string,
    error_response,
    id_integer,
    list_input,
    printable_text,
    variants,
)
from common.ids import MAX_ID

from . import metrics, serializers
from .closes import period_close, period_reopen
from .errors import MovementInvalid, RecordNotFound
from .export import export_lines
from .filters import MovementFilter
from .models import Movement, PeriodClose
from .parsing import (
    FIELDS_BY_KIND,
    MAX_GS1,
    MAX_KEY,
    REQUIRED_BY_KIND,
    keyed_batch,
    parse_id,
    parse_idempotency_key,
    parse_movement,
    parse_reversal,
)
from .quantities import MAX_QUANTITY, MAX_UNIT_COST, MONEY_PLACES, QUANTITY_PLACES
from .selectors import ledger_head
from .services import MAX_BATCH, movement_post, movements_post
from .verification import chain_check

# What the schema says of postings (common/api/schema.py): the header key, the replay header, and the
# input exactly as ledger.parsing reads it (one closed object per kind, each value's domain).
_PRINTABLE_KEY = r"^[ -~\u00a1-\u00ac\u00ae-\u00ff]{0,%d}$"  # printable Latin-1 (a header's characters); empty is no key
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "maxLength": MAX_KEY, "pattern": _PRINTABLE_KEY % MAX_KEY},
    OpenApiParameter.HEADER,
    description="One key per intended movement (a UUID). A retry with the same key and body returns the "
    "original response with `Idempotent-Replayed: true`; the same key with another body is a 422.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed", {"type": "string", "enum": ["true"]}, OpenApiParameter.HEADER, response=[201],
    description="`true` when the answer is the original one, replayed for a retried `Idempotency-Key`: nothing was posted.",
)
POSITION = OpenApiParameter(
    "position", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, OpenApiParameter.PATH,
    description="The movement's position in the ledger (gap-free from 1), which is also its `id`.",
)
_INPUT_SCHEMAS = {
    "product": id_integer(MAX_ID), "location": id_integer(MAX_ID), "from_location": id_integer(MAX_ID),
    "to_location": id_integer(MAX_ID),
    "quantity": decimal_string(MAX_QUANTITY, QUANTITY_PLACES, zero=False),
    "counted_quantity": decimal_string(MAX_QUANTITY, QUANTITY_PLACES),
    "unit_cost": decimal_string(MAX_UNIT_COST, MONEY_PLACES),
    "occurred_at": {
        "type": "string", "format": "date-time", "pattern": r"^(?:197[1-9]|19[89][0-9]|20[01][0-9]|202[0-5])-",
        "description": "Business time, ISO 8601 with a zone; defaults to now. The API takes any time from "
        "1970-01-01T00:00:00Z to 5 minutes after now; a schema cannot say \"now\", so the pattern admits the years "
        "1971 to 2025, which are always inside that range.",
    },
    "reference": {"type": "string", "maxLength": 64, "pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"},
    "lot": {"type": "string", "minLength": 1, "maxLength": MAX_LOT, "pattern": f"^{LOT_CODE.pattern}$"},
    "gs1": {"type": "string", "minLength": 1, "maxLength": MAX_GS1, "pattern": r"^[\x1d -~]+$"},
    "reason": {"type": "string", "maxLength": 1000, "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"},
    "idempotency_key": {
        **printable_text(MAX_KEY),
        "description": "For batch items: printable text (no control, format or unassigned characters). Single posts "
        "and batches under one key use the Idempotency-Key header.",
    },
}
# A receipt or issue may give its product and quantity in a scanned GS1 string instead.
_SCANNABLE = {"product", "quantity"}
MOVEMENT_INPUT = variants(
    serializers.MovementInputSerializer, discriminator="kind", component_name="MovementInput",
    fields=FIELDS_BY_KIND,
    required={
        kind: [field for field in fields if not ("gs1" in FIELDS_BY_KIND[kind] and field in _SCANNABLE)]
        for kind, fields in REQUIRED_BY_KIND.items()
    },
    schemas=_INPUT_SCHEMAS,
)
# Ids in the examples are those seed_demo creates (BOLT-M8 is product 1, MAIN/RECV location 1,
# MAIN/A-01 location 2, MAIN/A-02 location 3), so that each example posts on the demo data.
_MOVEMENT_EXAMPLE = {
    "id": 10, "position": 10, "kind": "receipt", "product": 1, "location": 1, "to_location": None,
    "quantity": "10.000", "delta": "10.000", "counted_quantity": None, "expected_quantity": None,
    "unit_cost": "0.0800", "occurred_at": "2026-11-25T09:30:00Z", "recorded_at": "2026-11-25T09:30:01.204518Z",
    "user": 2, "reference": "PO-1004", "reason": "", "idempotency_key": "5f0c6a1e-9d1b-4a7e-8c1f-2b3d4e5f6a7b",
    "reverses": None, "reversed_by": None, "lot": None, "lot_code": None, "allocation": None,
    "hash": "bc3fc027e152c04fe91666d96e14cb88c5bb38d9a3c4ef9ce7dea7e9d46b675b",
    "balances": [{"location": 1, "quantity": "510.000"}],
}


def _fefo_event(position: int, lot: int, code: str, quantity: str, balance: str) -> dict:
    return {
        **_MOVEMENT_EXAMPLE, "id": position, "position": position, "kind": "issue", "product": 4, "location": 2,
        "quantity": quantity, "delta": f"-{quantity}", "unit_cost": None, "reference": "SO-80", "lot": lot,
        "lot_code": code, "allocation": 20, "idempotency_key": "so-80-line-1" if position == 20 else f"part:5d0e…:{position - 20}",
        "balances": [{"location": 2, "quantity": balance}],
    }


_FEFO_EVENTS = [_fefo_event(20, 7, "L-2311", "6.000", "0.000"), _fefo_event(21, 9, "L-2402", "4.000", "14.000")]
_POSTING_ERRORS = {
    400: error_response("validation_error", "malformed_request", "inactive_product", "inactive_location",
                        description="Invalid input (`errors` names each field; in a batch, `item` names the movement)."),
    409: error_response("insufficient_stock", "on_hand_limit", "period_closed", "lot_expired", "lot_dates_differ",
                        description="Valid, but the ledger refuses it: stock would go below zero, or past the limit, "
                        "a movement is dated inside a closed period, names a lot expired by then without a reason, "
                        "or gives a lot other dates than its own."),
    404: error_response("not_found", description="No such product or location (`errors` names the field; in a batch, `item` the movement)."),
    422: error_response("idempotency_key_reused", description="The `Idempotency-Key` was used before with another body."),
}


class LedgerCursorPagination(CursorPagination):
    """The ledger in position order; stable while new events arrive."""

    ordering = "position"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def _header_key(request) -> str | None:
    errors: dict = {}
    key = parse_idempotency_key(request.headers.get("Idempotency-Key"), errors, field="Idempotency-Key")
    if errors:
        raise MovementInvalid(errors)
    return key


def _posted_response(posted: list, body) -> Response:
    replayed = all(p.replayed for p in posted)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    response = Response(body, status=status.HTTP_201_CREATED, headers=headers)
    # For the request's log line (common.logging): the positions written, first and last.
    written = [p.movement.position for p in posted if not p.replayed]
    response.log_context = {"positions": [written[0], written[-1]], "posted": len(written)} if written else {"posted": 0}
    return response


# The posting actions, as the metrics name them.
POSTING_ENDPOINTS = {"create": "movement", "batch": "batch", "reverse": "reversal"}


@extend_schema_view(retrieve=extend_schema(parameters=[POSITION]))
class MovementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The stock ledger: every movement ever posted, in order. Nothing here is changed or deleted."""

    queryset = Movement.objects.select_related("reversed_by", "lot")
    serializer_class = serializers.MovementSerializer
    pagination_class = LedgerCursorPagination
    filterset_class = MovementFilter
    filter_backends = [DjangoFilterBackend]

    def dispatch(self, request, *args, **kwargs):
        started = time.perf_counter()
        response = super().dispatch(request, *args, **kwargs)
        endpoint = POSTING_ENDPOINTS.get(getattr(self, "action", None))
        if endpoint is not None:
            metrics.POSTING_DURATION.labels(endpoint).observe(time.perf_counter() - started)
        return response

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if getattr(self, "action", None) in POSTING_ENDPOINTS:
            metrics.POSTING_REFUSALS.labels(response.data.get("code", "unknown")).inc()
        return response

    @extend_schema(
        request=MOVEMENT_INPUT,
        responses={
            201: OpenApiResponse(serializers.PostedSerializer, description="Posted (or replayed: see `Idempotent-Replayed`)."),
            **_POSTING_ERRORS,
        },
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        examples=[
            OpenApiExample("receipt", {"kind": "receipt", "product": 1, "location": 1, "quantity": "10", "unit_cost": "0.08", "reference": "PO-1004"}, request_only=True),
            OpenApiExample("issue", {"kind": "issue", "product": 1, "location": 2, "quantity": "4", "reference": "SO-79"}, request_only=True),
            OpenApiExample("transfer", {"kind": "transfer", "product": 1, "from_location": 2, "to_location": 3, "quantity": "2"}, request_only=True),
            OpenApiExample("count", {"kind": "count", "product": 1, "location": 3, "counted_quantity": "1", "reason": "cycle count"}, request_only=True),
            OpenApiExample("receipt posted", _MOVEMENT_EXAMPLE, response_only=True, status_codes=["201"]),
            OpenApiExample("issue split across two lots", {**_FEFO_EVENTS[0], "allocated": _FEFO_EVENTS}, response_only=True, status_codes=["201"]),
        ],
    )
    def create(self, request):
        """Post one movement; the answer carries its position and the resulting balance(s)."""
        posted = movement_post(user=request.user, movement=parse_movement(request.data, idempotency_key=_header_key(request)))
        return _posted_response([posted], serializers.PostedSerializer(posted).data)

    @extend_schema(
        request=list_input(
            "BatchInput", "movements", MOVEMENT_INPUT, min_items=1, max_items=MAX_BATCH,
            doc=f"1 to {MAX_BATCH} movements, posted all or nothing.",
        ),
        responses={
            201: OpenApiResponse(serializers.BatchOutputSerializer, description="Posted (or replayed: see `Idempotent-Replayed`)."),
            **_POSTING_ERRORS,
        },
        examples=[
            OpenApiExample("put away", {"movements": [
                {"kind": "receipt", "product": 2, "location": 1, "quantity": "100", "unit_cost": "0.025", "reference": "PO-1005", "idempotency_key": "PO-1005:1"},
                {"kind": "transfer", "product": 2, "from_location": 1, "to_location": 3, "quantity": "100", "reference": "PUT-2", "idempotency_key": "PUT-2:1"},
            ]}, request_only=True),
            OpenApiExample("put away posted", {"movements": [_MOVEMENT_EXAMPLE]}, response_only=True, status_codes=["201"]),
        ],
        parameters=[IDEMPOTENT_REPLAYED, OpenApiParameter(
            "Idempotency-Key", {"type": "string", "maxLength": MAX_KEY - 5, "pattern": _PRINTABLE_KEY % (MAX_KEY - 5)},
            OpenApiParameter.HEADER,
            description="One key for the whole batch (items are then keyed `KEY:0`, `KEY:1`, ...; they must not carry "
            "their own `idempotency_key`). A retry of the same batch returns the original response with "
            "`Idempotent-Replayed: true`; the same key with another batch is a 422.",
        )],
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Post a list of movements atomically (all or nothing); an error names the failing ``item``."""
        header_key = _header_key(request)
        items = request.data.get("movements") if isinstance(request.data, dict) else None
        if not isinstance(items, list):
            raise MovementInvalid({"movements": ["Expected a list of movements."]})
        parsed = []
        for item, data in enumerate(items):
            try:
                parsed.append(parse_movement(data))
            except MovementInvalid as exc:
                raise exc.for_item(item)
        if header_key and parsed:
            parsed = keyed_batch(parsed, header_key)
        posted = movements_post(user=request.user, movements=parsed)
        body = {"movements": serializers.PostedSerializer(posted, many=True).data}
        return _posted_response(posted, body)

    @extend_schema(
        request=closed_input(
            serializers.MovementInputSerializer, ["occurred_at", "reference", "reason", "idempotency_key"],
            component_name="ReversalInput", schemas=_INPUT_SCHEMAS,
            doc="What a reversal may carry besides the movement it reverses (the path's). Every field is optional; so is the body.",
        ),
        responses={
            201: OpenApiResponse(serializers.PostedSerializer, description="The reversal, posted (or replayed: see `Idempotent-Replayed`)."),
            400: _POSTING_ERRORS[400],
            404: error_response("not_found", description="No movement at this position."),
            409: error_response(
                "insufficient_stock", "on_hand_limit", "already_reversed", "reversal_not_allowed", "reversal_before_original",
                "period_closed",
                description="Valid, but the ledger refuses it: already reversed, itself a reversal, dated before its "
                "original or inside a closed period, or stock would go below zero.",
            ),
            422: _POSTING_ERRORS[422],
        },
        parameters=[POSITION, IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        examples=[
            OpenApiExample("wrong bin", {"reason": "posted to the wrong bin", "reference": "RMA-12"}, request_only=True),
            OpenApiExample("reversal posted", {
                **_MOVEMENT_EXAMPLE, "id": 11, "position": 11, "kind": "reversal", "delta": "-10.000",
                "reference": "RMA-12", "reason": "posted to the wrong bin", "reverses": 10,
                "idempotency_key": "8d2e4f60-1a3b-4c5d-9e7f-0a1b2c3d4e5f",
                "hash": "4a6c1f0e9b8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29181706f5e4d3c2b1a090",
                "balances": [{"location": 1, "quantity": "500.000"}],
            }, response_only=True, status_codes=["201"]),
        ],
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """Post the reversal of a movement: the same legs with the opposite sign, pointing at it."""
        errors: dict = {}
        movement_id = parse_id(pk, errors, "reverses")
        if errors:  # no id at all (abc, -1, past any key): no such movement, as for GET movements/{id}/
            raise RecordNotFound({"reverses": [RecordNotFound.NO_MOVEMENT.format(movement=pk)]})
        data = request.data if request.data else {}
        reversal = parse_reversal(data, movement_id=movement_id, idempotency_key=_header_key(request))
        posted = movement_post(user=request.user, movement=reversal)
        return _posted_response([posted], serializers.PostedSerializer(posted).data)


class LedgerHeadView(APIView):
    """The ledger's head: its last position and hash. Publish it; a rewritten tail changes it."""

    permission_classes = [HasPermission.for_perms("ledger.view_movement")]

    @extend_schema(responses=serializers.HeadSerializer)
    def get(self, request):
        head = ledger_head()
        return Response({"position": head.position, "hash": head.hash})


class LedgerExportView(APIView):
    """The ledger as JSON lines for auditors, streamed: a header (format, range, the link before
    it), then every event of the range with its hash. ``verifier/verify_export.py`` checks it with
    the standard library alone; ``manage.py export_ledger`` writes the same."""

    permission_classes = [HasPermission.for_perms("ledger.verify_ledger")]

    @extend_schema(
        parameters=[serializers.ExportQuerySerializer],
        responses={(200, "application/x-ndjson"): OpenApiResponse(
            {"type": "string"}, description="One JSON object per line: the header, then the events in position order.",
        )},
    )
    def get(self, request):
        refuse_repeated(request.query_params, {"after", "upto"})
        query = serializers.ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return StreamingHttpResponse(export_lines(**query.validated_data), content_type="application/x-ndjson")


class LedgerVerifyView(APIView):
    """Walk the hash chain over every row (auditors): intact with N events and the head hash, or the
    first broken position and what is wrong there. With ``?expect=POSITION:HASH``, a head saved
    earlier from ``ledger/head/``, the answer also says whether today's ledger extends it (200 either
    way: the answer is data)."""

    permission_classes = [HasPermission.for_perms("ledger.verify_ledger")]

    @extend_schema(parameters=[serializers.VerifyQuerySerializer], responses=serializers.ChainReportSerializer)
    def get(self, request):
        refuse_repeated(request.query_params, {"expect"})
        query = serializers.VerifyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(chain_check(expect=query.validated_data.get("expect")).as_dict())


CLOSE_ID = OpenApiParameter(
    "id", id_integer(MAX_ID), OpenApiParameter.PATH,
    description="The close's place in the chain of closes (from 1).",
)
_CLOSE_EXAMPLE = {
    "id": 3, "action": "close", "through": "2026-10-31", "closed_before": "2026-11-01T00:00:00Z",
    "head_position": 1204, "head_hash": "bc3fc027e152c04fe91666d96e14cb88c5bb38d9a3c4ef9ce7dea7e9d46b675b",
    "user": 5, "recorded_at": "2026-11-03T08:15:02.118203Z", "reason": "October closed after the stock count",
    "hash": "7d1e0c5b2a4f3e6d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d",
}


def _close_input(request) -> dict:
    query = serializers.CloseInputSerializer(data=request.data)
    query.is_valid(raise_exception=True)
    return query.validated_data


@extend_schema_view(
    list=extend_schema(description="Every close and reopening of the books, newest (the one in force) first."),
    retrieve=extend_schema(parameters=[CLOSE_ID]),
)
class PeriodCloseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Closing the books through a date (finance) and reopening them (managers, never their own
    close): an append-only record with a chain of its own. Nothing here is changed or deleted."""

    queryset = PeriodClose.objects.order_by("-sequence")  # newest, the one in force, first; pages as the catalog's
    serializer_class = serializers.PeriodCloseSerializer
    filter_backends = []  # a short list, newest first: nothing to filter or order by
    lookup_url_kwarg = "id"  # the answer's ``id`` (the row's sequence)
    # What each action needs; reading needs view_periodclose.
    PERMISSIONS = {"create": "ledger.close_period", "reopen": "ledger.reopen_period"}

    def get_permissions(self):
        return [HasPermission.for_perms(self.PERMISSIONS.get(self.action, "ledger.view_periodclose"))()]

    @extend_schema(
        request=serializers.CloseInputSerializer,
        responses={
            201: OpenApiResponse(serializers.PeriodCloseSerializer, description="Closed: no movement may be dated on or before `through`."),
            409: error_response("period_already_closed", description="The books are already closed through that date or a later one."),
        },
        examples=[
            OpenApiExample("October", {"through": "2026-10-31", "reason": "October closed after the stock count"}, request_only=True),
            OpenApiExample("closed", _CLOSE_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    def create(self, request):
        """Close the books through a date (finance): afterwards no movement may be dated on or before it."""
        close = period_close(user=request.user, **_close_input(request))
        return Response(serializers.PeriodCloseSerializer(close).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.CloseInputSerializer,
        responses={
            201: OpenApiResponse(serializers.PeriodCloseSerializer, description="Reopened: the books are closed through `through`."),
            409: error_response(
                "period_not_closed", "reopen_by_closer",
                description="The books are not closed past that date, or the latest close is your own (four eyes).",
            ),
        },
        examples=[
            OpenApiExample("back to September", {"through": "2026-09-30", "reason": "late supplier credit for October"}, request_only=True),
            OpenApiExample("reopened", {
                **_CLOSE_EXAMPLE, "id": 4, "action": "reopen", "through": "2026-09-30", "closed_before": "2026-10-01T00:00:00Z",
                "user": 7, "reason": "late supplier credit for October",
            }, response_only=True, status_codes=["201"]),
        ],
    )
    @action(detail=False, methods=["post"])
    def reopen(self, request):
        """Reopen the books back to an earlier date (managers), recorded as a new row; never by the person
        who made the latest close."""
        close = period_reopen(user=request.user, **_close_input(request))
        return Response(serializers.PeriodCloseSerializer(close).data, status=status.HTTP_201_CREATED)
