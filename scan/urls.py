from django.contrib.auth.views import LogoutView
from django.urls import path

from . import views

app_name = "scan"

urlpatterns = [
    path("", views.scan_page, name="page"),
    path("login/", views.ScanLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="scan:login"), name="logout"),
    path("codes/", views.codes, name="codes"),
    path("labels/", views.labels, name="labels"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
