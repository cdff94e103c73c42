from django.apps import AppConfig


class ProjectionsConfig(AppConfig):
    name = "projections"
    verbose_name = "Stock projections"

    def ready(self):
        from ledger.signals import movements_committed

        from .tasks import schedule_catch_up

        movements_committed.connect(schedule_catch_up, dispatch_uid="projections.schedule_catch_up")
