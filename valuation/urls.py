from django.urls import path, re_path

from . import api

urlpatterns = [
    path("valuation/", api.ValuationView.as_view(), name="valuation"),
    path("valuation/entries/", api.CostEntryList.as_view(), name="valuation-entries"),
    path("valuation/status/", api.ValuationStatusView.as_view(), name="valuation-status"),
    # Beside the product it values (as reports/ puts a lot's trace beside the lot).
    re_path(r"^products/(?P<id>[0-9]+)/cost-layers/$", api.ProductCostLayersView.as_view(), name="product-cost-layers"),
]
