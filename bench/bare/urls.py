from django.urls import path

from .views import BareMovementView

urlpatterns = [path("bare/movements/", BareMovementView.as_view())]
