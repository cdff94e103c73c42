"""Reports keep no state of their own: they are worked out of the ledger when asked. The one model
here has no table; it owns the permission to read them, which roles are granted in a migration."""
from django.conf import settings
from django.db import models


class StockReport(models.Model):
    """No table: the holder of ``reports.view_stock_report`` (the stock report and its chart)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_stock_report", "Can read the stock report and the stock-over-time chart")]


class FinanceReport(models.Model):
    """No table: the holder of ``reports.view_finance_report`` (valuation, flows, turnover, slow stock, their exports)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_finance_report", "Can read the finance reports and export them")]


class ExportJob(models.Model):
    """A finance report written to a CSV or XLSX file by a worker (``tasks.export_report``): who
    asked, for what, how far it is (``done`` of ``total`` lines), the file (kept in the database, so
    any worker's file is any web process's) or why it failed."""

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    report = models.CharField(max_length=16)
    format = models.CharField(max_length=8)
    parameters = models.JSONField(default=dict, help_text="The report's query parameters, as given.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Lines to write, once the report is worked out.")
    error = models.TextField(blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content = models.BinaryField(null=True, blank=True, editable=False)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"export {self.pk}: {self.report}.{self.format} {self.state}"
