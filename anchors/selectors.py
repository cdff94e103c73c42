"""Reads of the anchors."""
from django.db.models import QuerySet

from .models import Anchor


def anchors_newest_first() -> QuerySet[Anchor]:
    return Anchor.objects.order_by("-position")
