from django.apps import AppConfig


class ValuationConfig(AppConfig):
    name = "valuation"
    verbose_name = "Valuation"

    def ready(self):
        from ledger.signals import movements_committed

        from .tasks import schedule_catch_up

        movements_committed.connect(schedule_catch_up, dispatch_uid="valuation.schedule_catch_up")
