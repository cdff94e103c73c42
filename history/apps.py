from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class HistoryConfig(AppConfig):
    name = "history"
    verbose_name = "Master-data history"

    def ready(self):
        from . import context, sqlite

        connection_created.connect(context.sqlite_connection_created, dispatch_uid="history-sqlite-context")

        # PostgreSQL's triggers come with the migrations (django-pgtrigger); SQLite's are made
        # from the same event models after every migrate, so that one list of fields serves both.
        post_migrate.connect(sqlite.install_on_migrate, sender=self, dispatch_uid="history-sqlite-triggers")
