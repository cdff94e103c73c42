from django.urls import path, re_path

from . import api

urlpatterns = [
    path("history/", api.HistoryListView.as_view(), name="history-list"),
    *(
        re_path(rf"^{plural}/(?P<id>[0-9]+)/history/$", api.RecordHistoryView.as_view(model_name=name), name=f"{name}-history")
        for plural, name in (("categories", "category"), ("products", "product"), ("warehouses", "warehouse"), ("locations", "location"))
    ),
]
