from django.apps import AppConfig


class ScanConfig(AppConfig):
    """The clerks' scanning page (/scan/): a small installable web app over the posting API."""

    name = "scan"
    verbose_name = "Scanning"
