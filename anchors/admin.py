from django.contrib import admin

from ledger.admin import ReadOnlyAdmin

from .models import Anchor


@admin.register(Anchor)
class AnchorAdmin(ReadOnlyAdmin):
    """Every attested head (the end-of-day schedule's, ``anchor_ledger``'s, the API's)."""

    refusal = "An anchor attests the ledger's head at a moment; it is never changed."
    list_display = ("position", "hash", "recorded_at", "anchored_at", "source", "requested_by", "signed")
    list_filter = ("source",)
    list_select_related = ("requested_by",)
    date_hierarchy = "anchored_at"

    @admin.display(boolean=True)
    def signed(self, anchor: Anchor) -> bool:
        return bool(anchor.signature)
