"""/healthz and /readyz in process (the database's outage is tests/reliability's: it stops a
PostgreSQL of its own)."""
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_looking_at_anything(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database_its_migrations_and_the_ledger_head(client):
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "migrations": True, "ledger_head": True, "redis": True,
    }
    assert body["checks"]["redis"]["required"] is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # it migrates: the ledger's rows come back after
def test_a_migration_not_applied_makes_the_process_not_ready_and_says_which(client):
    graph = MigrationLoader(connection).graph
    [last] = [name for app, name in graph.leaf_nodes() if app == "ledger"]
    [before_last] = [parent.key[1] for parent in graph.node_map[("ledger", last)].parents if parent.key[0] == "ledger"]
    # Migrating the ledger back also unapplies the migrations that depend on its last (valuation's, say).
    unapplied = {f"{migration.app_label}.{migration.name}"
                 for migration, _ in MigrationExecutor(connection).migration_plan([("ledger", before_last)])}
    call_command("migrate", "ledger", before_last, verbosity=0)
    try:
        response = client.get("/readyz")
    finally:
        call_command("migrate", verbosity=0)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    check = body["checks"]["migrations"]
    assert (check["ok"], check["required"]) == (False, True)
    count, names = check["detail"].split(" not applied: ")
    assert int(count) == len(unapplied)
    named = names.split(", ")
    assert named[0] == f"ledger.{last}" and set(named) <= unapplied and len(named) == min(5, len(unapplied))


def test_probes_answer_any_host_over_plain_http(client, settings):
    """An orchestrator probes by the pod's address over plain HTTP; clients get the host check and
    the HTTPS redirect as before."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["stock.example.com"]
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path, HTTP_HOST="10.1.2.3:8000").status_code == 200, path
    assert client.get("/api/v1/", HTTP_HOST="10.1.2.3:8000").status_code == 400
    assert client.get("/api/v1/", HTTP_HOST="stock.example.com").status_code == 301
