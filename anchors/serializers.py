"""How anchors look in the API: what the verifier's ``--anchor`` reads."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import signing
from .models import Anchor

_UNSIGNED = ("signature", "public_key")


class AnchorSerializer(serializers.ModelSerializer):
    """An attested head. ``signature`` and ``public_key`` are null when it is unsigned; ``message``
    is the exact text the signature covers (``anchors.signing``), rebuilt from the fields."""

    signature = serializers.CharField(allow_null=True, help_text="Ed25519 signature of `message`, base64; null: unsigned.")
    public_key = serializers.CharField(allow_null=True, help_text="The signing key's public half, base64; null: unsigned.")
    message = serializers.SerializerMethodField()

    class Meta:
        model = Anchor
        fields = [
            "id", "position", "hash", "recorded_at", "anchored_at", "source", "requested_by", "signature", "public_key",
            "message",
        ]

    @extend_schema_field(serializers.CharField(help_text=f"`{signing.MESSAGE_FORMAT}|POSITION|HASH|RECORDED_AT_US|ANCHORED_AT_US`, ASCII."))
    def get_message(self, anchor: Anchor) -> str:
        return signing.message(
            position=anchor.position, hash=anchor.hash, recorded_at=anchor.recorded_at, anchored_at=anchor.anchored_at,
        ).decode("ascii")

    def to_representation(self, anchor: Anchor) -> dict:
        data = super().to_representation(anchor)
        for name in _UNSIGNED:
            data[name] = data[name] or None
        return data


class SigningKeySerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(choices=["Ed25519"])
    public_key = serializers.CharField(help_text="The 32-byte public key, standard base64: the verifier's `--public-key`.")
    message_format = serializers.CharField(help_text="The signed message's version (its first field).")
