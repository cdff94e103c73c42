from django.apps import AppConfig


class ProjectionsConfig(AppConfig):
    name = "projections"
    verbose_name = "Stock projections"

    def ready(self):
        from django.db.backends.signals import connection_created

        from ledger.signals import movements_committed

        from .exact import register
        from .tasks import schedule_catch_up

        movements_committed.connect(schedule_catch_up, dispatch_uid="projections.schedule_catch_up")
        connection_created.connect(register, dispatch_uid="projections.exact_arithmetic")
