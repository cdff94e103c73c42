from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog and locations"

    def ready(self):
        from .models import Location, Product, Warehouse
        from .selectors import catalog_changes

        for model in (Product, Location, Warehouse):
            post_save.connect(catalog_changes.forget, sender=model, dispatch_uid=f"catalog-changes-save-{model.__name__}")
            post_delete.connect(catalog_changes.forget, sender=model, dispatch_uid=f"catalog-changes-delete-{model.__name__}")
