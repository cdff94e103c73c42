from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("movements", api.MovementViewSet)
router.register("ledger/closes", api.PeriodCloseViewSet)

urlpatterns = [
    path("ledger/head/", api.LedgerHeadView.as_view(), name="ledger-head"),
    path("ledger/verify/", api.LedgerVerifyView.as_view(), name="ledger-verify"),
    path("ledger/export/", api.LedgerExportView.as_view(), name="ledger-export"),
    *router.urls,
]
