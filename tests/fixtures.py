"""Shared fixtures: a user and an authenticated API client per role."""
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import AUDITOR, CLERK, FINANCE, MANAGER

from .factories import UserFactory


def _client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def clerk(db):
    return UserFactory(roles=[CLERK])


@pytest.fixture
def auditor(db):
    return UserFactory(roles=[AUDITOR])


@pytest.fixture
def finance(db):
    return UserFactory(roles=[FINANCE])


@pytest.fixture
def manager(db):
    return UserFactory(roles=[MANAGER])


@pytest.fixture
def anonymous_client():
    return APIClient()


@pytest.fixture
def clerk_client(clerk):
    return _client_for(clerk)


@pytest.fixture
def auditor_client(auditor):
    return _client_for(auditor)


@pytest.fixture
def finance_client(finance):
    return _client_for(finance)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def client_for():
    return _client_for


@pytest.fixture
def warehouse(db):
    from .factories import WarehouseFactory

    return WarehouseFactory(code="MAIN")


@pytest.fixture
def bins(warehouse):
    """Three active locations in one warehouse."""
    from .factories import LocationFactory

    return [LocationFactory(warehouse=warehouse, code=code) for code in ("A-01", "A-02", "B-01")]


@pytest.fixture
def product(db):
    from .factories import ProductFactory

    return ProductFactory(sku="BOLT-M8")


@pytest.fixture
def post(clerk):
    """Post movements through the service as the clerk: ``post(kind=..., ...)`` or ``post([...])``."""
    from ledger.parsing import parse_movement
    from ledger.services import movement_post, movements_post

    def _post(items=None, *, user=None, key=None, **fields):
        user = user or clerk
        if items is not None:
            return movements_post(user=user, movements=[parse_movement(i) for i in items])
        return movement_post(user=user, movement=parse_movement(fields, idempotency_key=key)).movement

    return _post


@pytest.fixture
def first_history_check_misses(monkeypatch):
    """The catalog's history check before a write misses the first time (as it would a movement
    committed just after it), so the database's trigger is what refuses; returns its calls."""
    from catalog import services

    check = services.refuse_history_rewrite
    calls = []

    def first_check_misses(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            check(**kwargs)

    monkeypatch.setattr(services, "refuse_history_rewrite", first_check_misses)
    return calls
