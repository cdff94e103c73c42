import json

from django.core.management.base import BaseCommand, CommandError

from anchors.errors import NothingToAnchor
from anchors.models import AnchorSource
from anchors.serializers import AnchorSerializer
from anchors.services import anchor_record


class Command(BaseCommand):
    help = (
        "Attest the ledger's head now (position, hash, recorded time), signed when WMS_ANCHOR_SIGNING_KEY is "
        "set; a head anchored before is not anchored again. Prints the anchor as the API publishes it (the "
        "verifier's --anchor file)."
    )

    def handle(self, *args, **options):
        try:
            anchored = anchor_record(source=AnchorSource.COMMAND)
        except NothingToAnchor as refusal:
            raise CommandError(refusal.message) from None
        if not anchored.created:
            self.stderr.write(f"The head has not moved since anchor {anchored.anchor.pk}, which attests it already.")
        self.stdout.write(json.dumps(AnchorSerializer(anchored.anchor).data, indent=2))
