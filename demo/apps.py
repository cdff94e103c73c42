from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for the embedded default (``seed_demo``): users, a catalog and a first day of
    movements, made through each app's own services. Nothing else imports it."""

    name = "demo"
