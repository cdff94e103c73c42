"""Guessing is slowed down: refused tokens per client are throttled, failed logins lock out."""
import time
from unittest import mock

import pytest
from axes.utils import reset as axes_reset
from django.conf import settings
from django.test import RequestFactory, override_settings
from django_redis.cache import RedisCache
from rest_framework.authtoken.models import Token

from accounts.throttling import UnknownTokenThrottle, client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
ALLOWED = UnknownTokenThrottle().num_requests  # refused tokens a client may send per window
FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT


def _guess(client, address="10.0.0.1", token="not-a-token", **extra):
    return client.get(URL, HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=address, **extra)


def _exhaust(client, address="10.0.0.1"):
    for _ in range(ALLOWED):
        assert _guess(client, address).status_code == 401


def test_a_client_sending_too_many_unknown_tokens_is_throttled(anonymous_client):
    _exhaust(anonymous_client)
    response = _guess(anonymous_client)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert body["detail"].startswith(UnknownTokenThrottle.detail)
    assert 1 <= int(response["Retry-After"]) <= 60


def test_an_inactive_users_token_counts_as_refused(anonymous_client, clerk):
    token, _ = Token.objects.get_or_create(user=clerk)
    clerk.is_active = False
    clerk.save()
    for _ in range(ALLOWED):
        assert _guess(anonymous_client, token=token.key).status_code == 401
    assert _guess(anonymous_client, token=token.key).status_code == 429


def test_another_client_is_not_throttled(anonymous_client):
    _exhaust(anonymous_client, "10.0.0.1")
    assert _guess(anonymous_client, "10.0.0.1").status_code == 429
    assert _guess(anonymous_client, "10.0.0.2").status_code == 401


def test_a_valid_token_from_a_throttled_client_still_works(anonymous_client, clerk_client):
    _exhaust(anonymous_client)
    assert _guess(anonymous_client).status_code == 429
    assert clerk_client.get(URL, REMOTE_ADDR="10.0.0.1").status_code == 200


def test_a_valid_token_never_touches_the_throttle(clerk_client):
    assert clerk_client.get(URL).status_code == 200
    with mock.patch("accounts.throttling.UnknownTokenThrottle", side_effect=AssertionError("throttle used")):
        for _ in range(3):
            assert clerk_client.get(URL).status_code == 200


def test_the_client_may_try_again_once_its_window_has_passed(anonymous_client):
    _exhaust(anonymous_client)
    assert _guess(anonymous_client).status_code == 429
    later = time.time() + 61
    with mock.patch.object(UnknownTokenThrottle, "timer", mock.Mock(return_value=later)):
        assert _guess(anonymous_client).status_code == 401


def test_a_forwarded_address_is_ignored_without_a_proxy_in_front(anonymous_client):
    """Otherwise a client would pick a new address for every guess."""
    for n in range(ALLOWED):
        assert _guess(anonymous_client, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 401
    assert _guess(anonymous_client, HTTP_X_FORWARDED_FOR="192.0.2.250").status_code == 429


def test_behind_one_proxy_the_client_is_the_address_the_proxy_saw():
    request = RequestFactory().get(URL, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "10.9.9.9"
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        assert client_ip(request) == "203.0.113.7"
        spoofed = RequestFactory().get(URL, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="not-an-address")
        assert client_ip(spoofed) == "10.9.9.9"


@pytest.mark.parametrize("ignore_exceptions", [False, True], ids=["raising", "ignoring"])
def test_the_throttle_fails_open_when_redis_is_down(anonymous_client, ignore_exceptions):
    nobody_listens = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"IGNORE_EXCEPTIONS": ignore_exceptions}})
    with mock.patch.object(UnknownTokenThrottle, "cache", nobody_listens):
        for _ in range(ALLOWED + 5):
            response = _guess(anonymous_client)
            assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")


@pytest.mark.parametrize("url", ["/admin/login/", "/api-auth/login/"])
def test_a_login_is_locked_after_too_many_bad_passwords_even_with_the_right_one(client, url):
    user = UserFactory(username="lockme", is_staff=True)
    for _ in range(FAILURE_LIMIT - 1):
        assert client.post(url, {"username": "lockme", "password": "wrong"}).status_code == 200
    assert client.post(url, {"username": "lockme", "password": "wrong"}).status_code == 429
    assert client.post(url, {"username": "lockme", "password": "secret-pass-123"}).status_code == 429
    assert "_auth_user_id" not in client.session

    axes_reset(username=user.username)
    assert client.post(url, {"username": "lockme", "password": "secret-pass-123"}).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_lockout_holds_one_address_and_one_username_only(client):
    UserFactory(username="lockme", is_staff=True)
    UserFactory(username="other", is_staff=True)
    for _ in range(FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "lockme", "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    assert client.post("/admin/login/", {"username": "lockme", "password": "secret-pass-123"},
                       REMOTE_ADDR="10.0.0.1").status_code == 429
    assert client.post("/admin/login/", {"username": "other", "password": "secret-pass-123"},
                       REMOTE_ADDR="10.0.0.1").status_code == 302
    client.logout()
    assert client.post("/admin/login/", {"username": "lockme", "password": "secret-pass-123"},
                       REMOTE_ADDR="10.0.0.2").status_code == 302


def test_a_few_bad_passwords_before_a_good_one_are_forgotten(client):
    UserFactory(username="typo", is_staff=True)
    for _ in range(FAILURE_LIMIT - 1):
        client.post("/admin/login/", {"username": "typo", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "typo", "password": "secret-pass-123"}).status_code == 302
    client.logout()
    assert client.post("/admin/login/", {"username": "typo", "password": "wrong"}).status_code == 200
