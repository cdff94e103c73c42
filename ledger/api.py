"""The ledger over HTTP. Views parse, call a service or selector, and shape the answer."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, pagination, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasPermission

from . import serializers
from .errors import MovementInvalid
from .filters import MovementFilter
from .models import Movement
from .requests import keyed_batch, parse_id, parse_idempotency_key, parse_movement, parse_reversal
from .services import movement_post, movements_post
from .verification import ledger_head, ledger_verify

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER,
    description="One key per intended movement (a UUID). A retry with the same key and body returns the "
    "original response with `Idempotent-Replayed: true`; the same key with another body is a 422.",
)


class LedgerCursorPagination(pagination.CursorPagination):
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
    return Response(body, status=status.HTTP_201_CREATED, headers=headers)


class MovementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The stock ledger: every movement ever posted, in order. Nothing here is changed or deleted."""

    queryset = Movement.objects.select_related("reversed_by")
    serializer_class = serializers.MovementSerializer
    pagination_class = LedgerCursorPagination
    filterset_class = MovementFilter
    filter_backends = [DjangoFilterBackend]

    @extend_schema(
        request=serializers.MovementInputSerializer,
        responses={201: serializers.MovementSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("receipt", {"kind": "receipt", "product": 12, "location": 3, "quantity": "10", "unit_cost": "2.40", "reference": "PO-1001"}, request_only=True),
            OpenApiExample("issue", {"kind": "issue", "product": 12, "location": 3, "quantity": "4", "reference": "SO-77"}, request_only=True),
            OpenApiExample("transfer", {"kind": "transfer", "product": 12, "from_location": 3, "to_location": 8, "quantity": "2"}, request_only=True),
            OpenApiExample("count", {"kind": "count", "product": 12, "location": 8, "counted_quantity": "1"}, request_only=True),
        ],
    )
    def create(self, request):
        """Post one movement; the answer carries its position and the resulting balance(s)."""
        posted = movement_post(user=request.user, request=parse_movement(request.data, idempotency_key=_header_key(request)))
        return _posted_response([posted], serializers.MovementSerializer(posted.movement).data)

    @extend_schema(
        request=serializers.BatchInputSerializer,
        responses={201: serializers.BatchOutputSerializer},
        parameters=[OpenApiParameter(
            "Idempotency-Key", str, OpenApiParameter.HEADER,
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
        posted = movements_post(user=request.user, requests=parsed)
        body = {"movements": serializers.MovementSerializer([p.movement for p in posted], many=True).data}
        return _posted_response(posted, body)

    @extend_schema(
        request=serializers.ReversalInputSerializer,
        responses={201: serializers.MovementSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """Post the reversal of a movement: the same legs with the opposite sign, pointing at it."""
        errors: dict = {}
        movement_id = parse_id(pk, errors, "reverses")
        if errors:
            raise MovementInvalid(errors)
        data = request.data if request.data else {}
        reversal = parse_reversal(data, movement_id=movement_id, idempotency_key=_header_key(request))
        posted = movement_post(user=request.user, request=reversal)
        return _posted_response([posted], serializers.MovementSerializer(posted.movement).data)


class LedgerHeadView(APIView):
    """The ledger's head: its last position and hash. Publish it; a rewritten tail changes it."""

    permission_classes = [HasPermission.for_perms("ledger.view_movement")]

    @extend_schema(responses=serializers.HeadSerializer)
    def get(self, request):
        head = ledger_head()
        return Response({"position": head.position, "hash": head.hash})


class LedgerVerifyView(APIView):
    """Walk the hash chain over every row (auditors): intact with N events and the head hash, or the
    first broken position and what is wrong there. With ``?expect=POSITION:HASH``, a head saved
    earlier from ``ledger/head/``, the answer also says whether today's ledger extends it (200 either
    way: the answer is data)."""

    permission_classes = [HasPermission.for_perms("ledger.verify_ledger")]

    @extend_schema(parameters=[serializers.VerifyQuerySerializer], responses=serializers.ChainReportSerializer)
    def get(self, request):
        query = serializers.VerifyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(ledger_verify(expect=query.validated_data.get("expect")).as_dict())
