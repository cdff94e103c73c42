"""Reports keep no state of their own: they are worked out of the ledger when asked. The one model
here has no table; it owns the permission to read them, which roles are granted in a migration."""
from django.db import models


class StockReport(models.Model):
    """No table: the holder of ``reports.view_stock_report`` (the stock report and its chart)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_stock_report", "Can read the stock report and the stock-over-time chart")]
