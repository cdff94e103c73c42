"""Anchors over HTTP: the attested heads, newest first; a request to attest the head now; the key."""
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from common.api.schema import error_response, id_integer
from common.ids import MAX_ID

from . import selectors, signing
from .errors import SigningKeyNotSet
from .models import AnchorSource
from .serializers import AnchorSerializer, SigningKeySerializer
from .services import anchor_record

ANCHOR_ID = OpenApiParameter("id", id_integer(MAX_ID), OpenApiParameter.PATH, description="The anchor's id.")
# Signed with RFC 8032's first test key (section 7.1), so that the example verifies as it stands.
_EXAMPLE = {
    "id": 7, "position": 120, "hash": "3f5a9c0e1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a",
    "recorded_at": "2026-11-30T17:42:10.201337Z", "anchored_at": "2026-11-30T23:55:00.004211Z", "source": "schedule",
    "requested_by": None,
    "signature": "CYqsgooK0QloEmoTWcYulkji/EgU/wcPaX5Vum4N3gzoHHxxA/G5agw7tgrK0j3ltw1zkwKujU0/gBeBOIMWBA==",
    "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    "message": "wms-ledger-anchor/1|120|3f5a9c0e1b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a|1796060530201337|1796082900004211",
}


@extend_schema_view(
    list=extend_schema(examples=[OpenApiExample("anchored", _EXAMPLE, response_only=True)]),  # spectacular pages it
    retrieve=extend_schema(parameters=[ANCHOR_ID], examples=[OpenApiExample("anchored", _EXAMPLE, response_only=True)]),
)
class AnchorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The ledger's head as attested at the end of each day and on request, newest first; never
    changed. Save one and check it later with ``verifier/verify_export.py --anchor``."""

    queryset = selectors.anchors_newest_first()
    serializer_class = AnchorSerializer
    filter_backends = []
    lookup_value_regex = "[0-9]+"

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(AnchorSerializer, description="The head, attested now."),
            200: OpenApiResponse(AnchorSerializer, description="The head has not moved since this anchor, which attests it already."),
            409: error_response("nothing_to_anchor", description="The ledger is empty."),
        },
        examples=[OpenApiExample("anchored", {**_EXAMPLE, "source": "api", "requested_by": 3}, response_only=True, status_codes=["201", "200"])],
    )
    def create(self, request):
        """Attest the ledger's head now (auditors and managers). Nothing is written to the ledger."""
        anchored = anchor_record(source=AnchorSource.API, user=request.user)
        return Response(
            AnchorSerializer(anchored.anchor).data, status=status.HTTP_201_CREATED if anchored.created else status.HTTP_200_OK,
        )

    @extend_schema(
        responses={
            200: SigningKeySerializer,
            404: error_response("signing_key_not_set", description="No signing key is set: anchors are unsigned."),
        },
        examples=[OpenApiExample("key", {"algorithm": "Ed25519", "public_key": _EXAMPLE["public_key"], "message_format": signing.MESSAGE_FORMAT}, response_only=True)],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def key(self, request):
        """The public key anchors are signed with: keep a copy of your own, out of the operator's reach."""
        key = signing.signing_key()
        if key is None:
            raise SigningKeyNotSet()
        return Response({"algorithm": "Ed25519", "public_key": signing.public_key_text(key), "message_format": signing.MESSAGE_FORMAT})
