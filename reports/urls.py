from django.urls import path, re_path

from . import api, finance_api

urlpatterns = [
    path("reports/stock/", api.StockReportView.as_view(), name="stock-report"),
    path("reports/stock/chart/", api.StockChartView.as_view(), name="stock-chart"),
    path("reports/expiry/", api.ExpiryReportView.as_view(), name="expiry-report"),
    path("reports/valuation/", finance_api.ValuationReportView.as_view(), name="valuation-report"),
    path("reports/flows/", finance_api.FlowsReportView.as_view(), name="flows-report"),
    path("reports/turnover/", finance_api.TurnoverReportView.as_view(), name="turnover-report"),
    path("reports/slow-stock/", finance_api.SlowStockReportView.as_view(), name="slow-stock-report"),
    path("reports/exports/", finance_api.ExportListView.as_view(), name="report-exports"),
    re_path(r"^reports/exports/(?P<id>[0-9]+)/$", finance_api.ExportDetailView.as_view(), name="report-export"),
    re_path(r"^reports/exports/(?P<id>[0-9]+)/download/$", finance_api.ExportDownloadView.as_view(), name="report-export-download"),
    # Beside the lot it traces (as history/ puts a record's history beside it).
    re_path(r"^lots/(?P<id>[0-9]+)/trace/$", api.LotTraceView.as_view(), name="lot-trace"),
]
