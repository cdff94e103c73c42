"""The OpenAPI schema documents every answer an operation can give, with the one error body and an
example of each code, and every example in it is valid against its schema and, for a request,
accepted by the server (on ``seed_demo``'s data, as the schemathesis run sends them).
"""
import copy
import re
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from common.api import errors as api_errors
from common.api.schema import ERROR_CODES, ERROR_EXAMPLES
from common.errors import DomainError
from ledger.parsing import FIELDS_BY_KIND, REQUIRED_BY_KIND

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "put", "post", "patch", "delete")
EVERY_OPERATION = {"401", "403", "406", "414", "429", "431", "500", "503"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def resolve(schema, node: dict) -> dict:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = schema["components"][kind][name]
    return node


def codes_of(schema, response: dict) -> set[str]:
    """The codes a response's examples show."""
    content = resolve(schema, response)["content"]["application/json"]
    return {example["value"]["code"] for example in content.get("examples", {}).values()}


# ---------------------------------------------------------------- what each operation answers


def test_every_operation_documents_the_errors_it_can_give(schema):
    for label, operation in operations(schema):
        responses = operation["responses"]
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        expected = set(EVERY_OPERATION)
        if "requestBody" in operation or query:
            expected.add("400")
        if "{" in label or "page" in query:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"413", "415"}
        assert expected <= set(responses), f"{label} lacks {sorted(expected - set(responses))}"
        for status, response in responses.items():
            if status >= "400":
                content = resolve(schema, response)["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (label, status)
                assert content.get("examples"), f"{label} {status}: no example"


@pytest.mark.parametrize(("label", "status", "codes"), [
    ("POST /api/v1/movements/", "409", {"insufficient_stock", "on_hand_limit", "period_closed", "lot_expired", "lot_dates_differ"}),
    ("POST /api/v1/movements/batch/", "409", {"insufficient_stock", "on_hand_limit", "period_closed", "lot_expired", "lot_dates_differ"}),
    ("POST /api/v1/movements/{position}/reverse/", "409",
     {"insufficient_stock", "on_hand_limit", "already_reversed", "reversal_not_allowed", "reversal_before_original", "period_closed"}),
    ("POST /api/v1/ledger/closes/", "409", {"period_already_closed"}),
    ("POST /api/v1/ledger/closes/reopen/", "409", {"period_not_closed", "reopen_by_closer"}),
    ("POST /api/v1/movements/", "422", {"idempotency_key_reused"}),
    ("POST /api/v1/movements/batch/", "422", {"idempotency_key_reused"}),
    ("POST /api/v1/movements/{position}/reverse/", "422", {"idempotency_key_reused"}),
    ("POST /api/v1/movements/", "400", {"validation_error", "malformed_request", "inactive_product", "inactive_location"}),
    ("POST /api/v1/movements/", "404", {"not_found"}),
    ("POST /api/v1/movements/batch/", "404", {"not_found"}),
    ("POST /api/v1/movements/{position}/reverse/", "404", {"not_found"}),
    ("GET /api/v1/stock/as-of/", "404", {"not_found"}),
    ("POST /api/v1/products/", "404", {"not_found"}),
    ("POST /api/v1/products/", "409", {"already_exists"}),
    ("POST /api/v1/warehouses/", "409", {"already_exists"}),
    ("PUT /api/v1/categories/{id}/", "409", {"already_exists"}),
    ("PUT /api/v1/products/{id}/", "409", {"already_exists", "history_protected"}),
    ("PATCH /api/v1/products/{id}/", "409", {"already_exists", "history_protected"}),
    ("PUT /api/v1/locations/{id}/", "409", {"already_exists", "history_protected"}),
    ("PATCH /api/v1/locations/{id}/", "409", {"already_exists", "history_protected"}),
])
def test_an_operation_names_its_own_codes_with_an_example_of_each(schema, label, status, codes):
    operation = dict(operations(schema))[label]
    assert codes_of(schema, operation["responses"][status]) == codes
    assert all(f"`{code}`" in resolve(schema, operation["responses"][status])["description"] for code in codes)


def test_only_writes_answer_409_and_only_postings_422(schema):
    conflicting = {label for label, operation in operations(schema) if "409" in operation["responses"]}
    writes = {label for label, _ in operations(schema) if label.split()[0] in ("POST", "PUT", "PATCH")}
    # Correcting a lot's dates conflicts with nothing: its product and code, its key, are fixed.
    # Starting an export conflicts with nothing either (a new job, the ledger untouched); fetching
    # its file before the worker has written it conflicts with the job's state (409 export_not_ready).
    assert conflicting == writes - {"PATCH /api/v1/lots/{id}/", "POST /api/v1/reports/exports/"} | {
        "GET /api/v1/reports/exports/{id}/download/"}
    keyed = {label for label, operation in operations(schema) if "422" in operation["responses"]}
    assert keyed == {"POST /api/v1/movements/", "POST /api/v1/movements/batch/", "POST /api/v1/movements/{position}/reverse/"}


def test_postings_document_the_replay_header(schema):
    for label in ("POST /api/v1/movements/", "POST /api/v1/movements/batch/", "POST /api/v1/movements/{position}/reverse/"):
        operation = dict(operations(schema))[label]
        assert operation["responses"]["201"]["headers"]["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}
        assert "Idempotency-Key" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}


def test_refusals_document_their_headers(schema):
    responses = schema["components"]["responses"]
    assert responses["Unauthorized"]["headers"]["WWW-Authenticate"]["required"] is True
    assert responses["Throttled"]["headers"]["Retry-After"]["required"] is True
    assert responses["ServiceUnavailable"]["headers"]["Retry-After"]["required"] is True


def test_request_bodies_are_json(schema):
    for label, operation in operations(schema):
        if "requestBody" in operation:
            assert set(operation["requestBody"]["content"]) == {"application/json"}, label


# ---------------------------------------------------------------- the error body


def _all_subclasses(cls):
    for subclass in cls.__subclasses__():
        yield subclass
        yield from _all_subclasses(subclass)


def test_the_error_code_enum_names_every_code_the_api_sends(schema):
    sent = {error.code for error in _all_subclasses(DomainError)}
    sent |= set(api_errors._CODES.values()) | set(api_errors._STATUS_CODES.values())
    sent |= {"validation_error", api_errors.DatabaseUnavailable.default_code, "request_too_large", "server_error"}
    enum = set(resolve(schema, schema["components"]["schemas"]["Error"]["properties"]["code"])["enum"])
    assert enum == set(ERROR_CODES)
    assert sent <= enum, sorted(sent - enum)


def test_every_code_has_an_example_of_its_own(schema):
    for code, (status, _, body) in ERROR_EXAMPLES.items():
        assert body["code"] == code and 400 <= status < 600


# ---------------------------------------------------------------- every example is valid


def _json_schema(node):
    """OpenAPI 3.0's schema dialect as JSON Schema: ``nullable`` becomes a type that admits null."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items() if key not in ("discriminator", "example")}
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


def _validator(schema, media: dict):
    components = _json_schema(copy.deepcopy(schema["components"]))
    return jsonschema.Draft202012Validator({**_json_schema(media["schema"]), "components": components})


def _examples(schema):
    """(where, media type object, example value) for every example in the schema."""
    for label, operation in operations(schema):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            for name, example in media.get("examples", {}).items():
                yield f"{label} request {name}", media, example["value"]
        for status, response in operation["responses"].items():
            for media in resolve(schema, response).get("content", {}).values():
                for name, example in media.get("examples", {}).items():
                    yield f"{label} {status} {name}", media, example["value"]


def test_every_example_is_valid_against_its_schema(schema):
    seen = 0
    for where, media, value in _examples(schema):
        errors = [error.message for error in _validator(schema, media).iter_errors(value)]
        assert not errors, f"{where}: {errors[:3]}"
        seen += 1
    assert seen > 50


@pytest.mark.django_db(transaction=True, reset_sequences=True, serialized_rollback=True)
def test_every_request_example_is_accepted_on_the_demo_data(schema):
    """seed_demo's catalog (its ids from 1, as on a fresh database), then each posting's examples in
    the schema's order, as the clerk."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user__username='clerk').key}")
    posted = []
    for label, operation in operations(schema):
        if "requestBody" not in operation or not label.startswith("POST /api/v1/movements/"):
            continue
        for name, example in operation["requestBody"]["content"]["application/json"].get("examples", {}).items():
            path = label.split(" ", 1)[1].replace("{position}", str(posted[-1] if posted else 1))
            response = client.post(path, example["value"], format="json")
            assert response.status_code == 201, (label, name, response.json())
            body = response.json()
            posted += [m["position"] for m in body["movements"]] if "movements" in body else [body["position"]]
    assert len(posted) >= 6


# ---------------------------------------------------------------- inputs as the API reads them


def test_a_movement_is_one_closed_object_per_kind(schema):
    components = schema["components"]["schemas"]
    choice = components["MovementInputRequest"]
    assert choice["discriminator"]["propertyName"] == "kind"
    assert set(choice["discriminator"]["mapping"]) == {str(kind) for kind in FIELDS_BY_KIND}
    for kind, fields in FIELDS_BY_KIND.items():
        variant = resolve(schema, {"$ref": choice["discriminator"]["mapping"][str(kind)]})
        assert variant["additionalProperties"] is False
        assert set(variant["properties"]) == set(fields), kind
        scanned = {"product", "quantity"} if "gs1" in fields else set()  # a GS1 string may give them instead
        assert set(variant["required"]) == {"kind", *REQUIRED_BY_KIND[kind]} - scanned, kind


def test_a_quantity_is_a_positive_decimal_within_the_ledgers_bounds(schema):
    quantity = schema["components"]["schemas"]["ReceiptMovementInputRequest"]["properties"]["quantity"]
    pattern = re.compile(quantity["pattern"])
    assert [bool(pattern.search(v)) for v in ("0.001", "10.5", "999999999999.999")] == [True, True, True]
    assert [bool(pattern.search(v)) for v in ("0", "0.000", "-1", "", "1000000000000", "0.0001", "1e3")] == [False] * 7


def test_a_list_takes_an_empty_query_value_as_not_given(schema):
    for label, operation in operations(schema):
        if label.startswith("GET") and "page_size" in {p["name"] for p in operation.get("parameters", [])}:
            for parameter in operation["parameters"]:
                if parameter["in"] == "query":
                    assert parameter.get("allowEmptyValue") is True, (label, parameter["name"])


# ---------------------------------------------------------------- path parameters, as the README names them


def test_a_movement_is_addressed_by_its_position_in_the_schema_and_the_readme(schema):
    paths = set(schema["paths"])
    assert {"/api/v1/movements/{position}/", "/api/v1/movements/{position}/reverse/"} <= paths
    assert not any(path.startswith("/api/v1/movements/{id}") for path in paths)
    readme = (ROOT / "README.md").read_text()
    assert "movements/{position}/" in readme and "movements/{position}/reverse/" in readme
    assert not re.search(r"movements/\{id\}", readme)


def test_a_posting_body_is_required_where_the_server_requires_one(schema):
    """Without it a client (and schemathesis) may send no body, which the server refuses."""
    paths = schema["paths"]
    assert paths["/api/v1/movements/"]["post"]["requestBody"]["required"] is True
    assert paths["/api/v1/movements/batch/"]["post"]["requestBody"]["required"] is True
    assert not paths["/api/v1/movements/{position}/reverse/"]["post"]["requestBody"].get("required")
