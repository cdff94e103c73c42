from django.urls import path

from . import api

urlpatterns = [
    path("reports/stock/", api.StockReportView.as_view(), name="stock-report"),
    path("reports/stock/chart/", api.StockChartView.as_view(), name="stock-chart"),
]
