from django.urls import path, re_path

from . import api

urlpatterns = [
    path("reports/stock/", api.StockReportView.as_view(), name="stock-report"),
    path("reports/stock/chart/", api.StockChartView.as_view(), name="stock-chart"),
    path("reports/expiry/", api.ExpiryReportView.as_view(), name="expiry-report"),
    # Beside the lot it traces (as history/ puts a record's history beside it).
    re_path(r"^lots/(?P<id>[0-9]+)/trace/$", api.LotTraceView.as_view(), name="lot-trace"),
]
