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
