"""Password guessing is limited on the login page and the token endpoint, per client address and per attempted
username, in one budget; over the limit the answer is a 429 that says when to try again and nothing about the
account. Run on the process's memory and, where REDIS_URL is set (CI's second run), on Redis."""

import os
import re
import uuid
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from reviews.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 - the factories' test password

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle-test"}}
BACKENDS = [pytest.param(LOCMEM, id="locmem")]
if os.environ.get("REDIS_URL"):
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "KEY_PREFIX": "sieve-throttle-test",
    }
    BACKENDS.append(pytest.param({"default": redis}, id="redis"))


@pytest.fixture(params=BACKENDS)
def limited(request):
    """The auth rate at 3 a minute, on the backend under test, and a tag for this test's addresses and
    usernames (its account is `u<tag>`): counts left in Redis by an earlier run or test do not matter, and
    nothing is cleared (in Redis that could empty the Celery broker's database)."""
    tag = uuid.uuid4().hex[:8]
    UserFactory(username=f"u{tag}")
    rest = {**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": {"auth": "3/min"}}
    with override_settings(CACHES=request.param, REST_FRAMEWORK=rest):
        yield tag


def address(tag: str) -> str:
    return f"10.{int(tag[:2], 16)}.{int(tag[2:4], 16)}.{int(tag[4:6], 16)}"


def login(ip: str, username: str, password: str = "wrong") -> Any:  # noqa: S107 - a wrong one
    return Client(REMOTE_ADDR=ip).post(reverse("login"), {"username": username, "password": password})


def test_login_page_refuses_the_fourth_attempt_from_one_address(limited):
    ip = address(limited)
    for n in range(3):
        response = login(ip, f"someone{n}-{limited}")
        assert (
            response.status_code == 200 and "Please enter a correct username and password" in response.content.decode()
        )
    refused = login(ip, f"someone-else-{limited}")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert re.search(r"Too many login attempts\. Try again in \d+ seconds?\.", page), page
    assert int(refused["Retry-After"]) >= 1
    assert 'name="username"' in page  # the form is there to try again later
    # Even the right password is not checked over the limit.
    assert login(ip, f"u{limited}", PASSWORD).status_code == 429
    # Another address is not affected.
    assert login(address(limited[::-1]), f"u{limited}", PASSWORD).status_code == 302


def test_login_page_limits_one_username_across_addresses(limited):
    for n in range(3):
        assert login(f"10.9.{n}.{int(limited[:2], 16)}", f"u{limited}").status_code == 200
    assert login("10.9.200.1", f"U{limited.upper()}").status_code == 429  # usernames count case-insensitively
    assert login("10.9.200.2", f"dave-{limited}").status_code == 200


def test_the_limit_does_not_tell_which_accounts_exist(limited):
    """An existing and a made-up username are limited alike, with the same page."""
    pages: dict[str, str] = {}
    for name in (f"u{limited}", f"n{limited}"):
        for n in range(3):
            assert login(f"10.8.{n}.{len(pages)}", name).status_code == 200
        refused = login(f"10.8.100.{len(pages)}", name)
        assert refused.status_code == 429
        pages[name] = re.sub(r"[A-Za-z0-9]{64}", "TOKEN", refused.content.decode().replace(name, "X"))
    assert len(set(pages.values())) == 1


def test_token_endpoint_and_login_page_share_the_address_budget(limited):
    ip = address(limited)
    api = APIClient(REMOTE_ADDR=ip)
    assert api.post("/api/v1/auth/token/", {"username": f"u{limited}", "password": "wrong"}).status_code == 400
    assert login(ip, f"a-{limited}").status_code == 200
    assert login(ip, f"b-{limited}").status_code == 200
    refused = api.post("/api/v1/auth/token/", {"username": f"u{limited}", "password": PASSWORD})
    assert refused.status_code == 429
    assert re.search(r"available in \d+ seconds?", refused.json()["detail"]), refused.json()
    assert "Retry-After" in refused


def test_token_endpoint_limits_one_username_across_addresses(limited):
    for n in range(3):
        response = APIClient(REMOTE_ADDR=f"10.7.{n}.1").post(
            "/api/v1/auth/token/", {"username": f"erin{limited}", "password": "x"}
        )
        assert response.status_code == 400
    refused = APIClient(REMOTE_ADDR="10.7.9.9").post(
        "/api/v1/auth/token/", {"username": f"ERIN{limited}", "password": "x"}
    )
    assert refused.status_code == 429


def test_the_suite_default_rate_is_high_enough_for_other_tests(cast):
    """Other tests log in freely: the test settings' rate is far above what a test does."""
    cache.clear()
    for _ in range(30):
        assert login("10.6.6.6", "carol").status_code == 200
