"""The scanning page's server side, on either database: who may open and post from it, the codes it
resolves scans from (offline too), its service worker and manifest, and the printable labels."""
import json

import pytest
from django.test import Client

from tests.factories import LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_sends_a_stranger_to_the_login():
    response = Client().get("/scan/")
    assert response.status_code == 302 and response["Location"].startswith("/scan/login/")


def test_a_clerk_gets_the_page_with_a_csrf_cookie_and_no_refusal(clerk):
    response = _session(clerk).get("/scan/")
    assert response.status_code == 200
    assert 'data-can-post="true"' in response.text and "cannot-post" not in response.text
    assert "csrftoken" in response.cookies


def test_an_auditor_is_told_why_they_cannot_post(auditor):
    response = _session(auditor).get("/scan/")
    assert 'data-can-post="false"' in response.text
    assert "who may not post stock movements: only clerks may" in response.text


def test_a_session_posts_with_its_csrf_token_and_an_idempotency_key(clerk, bins):
    product = ProductFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    token = client.get("/scan/").cookies["csrftoken"].value
    body = json.dumps({"kind": "receipt", "product": product.pk, "location": bins[0].pk, "quantity": "1"})
    headers = {"HTTP_X_CSRFTOKEN": token, "HTTP_IDEMPOTENCY_KEY": "5f0c7a52-3b4e-4a8e-9a31-0f1e2d3c4b5a"}
    first = client.post("/api/v1/movements/", body, content_type="application/json", **headers)
    again = client.post("/api/v1/movements/", body, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    without = client.post("/api/v1/movements/", body, content_type="application/json")
    assert without.status_code == 403  # no CSRF token: the session alone posts nothing


def test_codes_resolve_locations_by_barcode_and_code_and_products_by_barcode_and_sku(clerk, warehouse):
    labelled = LocationFactory(warehouse=warehouse, code="A-01", barcode="LOC-0001")
    LocationFactory(warehouse=warehouse, code="OLD", is_active=False)
    product = ProductFactory(sku="BOLT-M8", barcode="4006381333931")
    data = _session(clerk).get("/scan/codes/").json()
    assert data["locations"] == [{"id": labelled.pk, "label": "MAIN/A-01", "codes": ["LOC-0001", "MAIN/A-01"]}]
    assert [p["codes"] for p in data["products"] if p["id"] == product.pk] == [["4006381333931", "BOLT-M8"]]


def test_labels_are_code128_svg_of_each_locations_and_products_code(clerk, warehouse):
    LocationFactory(warehouse=warehouse, code="A-01", barcode="LOC-0001")
    LocationFactory(warehouse=warehouse, code="B-01")
    ProductFactory(sku="NUT-M8", barcode=None)
    text = _session(clerk).get("/scan/labels/").text
    assert text.count("<svg") == 3
    for code in ("LOC-0001", "MAIN/B-01", "NUT-M8"):
        assert f'aria-label="Code 128 barcode {code}"' in text


def test_the_service_worker_caches_the_shell_from_its_own_scope_and_the_manifest_installs(clerk):
    worker = Client().get("/scan/sw.js")
    assert worker["Content-Type"].startswith("text/javascript")
    assert '"/scan/"' in worker.text and "zxing_reader.wasm" in worker.text and "/api/" not in worker.text.split("const SHELL")[1].split(";")[0]
    manifest = Client().get("/scan/manifest.webmanifest").json()
    assert manifest["start_url"] == manifest["scope"] == "/scan/" and manifest["display"] == "standalone"
