"""Sessions and password guessing: a session ends on logout (its cookie then opens no page, htmx endpoint or API
call); a password change ends the user's other sessions, keeps the one that made it and revokes the API token;
the login page, the token endpoint and the sign-up form answer the same for a username that exists and one that
does not, below and over the guessing limit, and Django runs the password hasher for an unknown username too."""

import re
import uuid
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.hashers import get_hasher
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings

from reviews.models import Membership
from reviews.tests.factories import MembershipFactory, ReviewFactory, UserFactory
from tests.security.urls_walk import patterns

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 - the factories' test password
NEW_PASSWORD = "a different horse entirely"  # noqa: S105 - test account only
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "security-sessions"}}


@pytest.fixture
def member():
    user = UserFactory(username=f"m{uuid.uuid4().hex[:8]}")
    review = ReviewFactory(created_by=user)
    MembershipFactory(review=review, user=user, role=Membership.Role.OWNER)
    return user, review


def logged_in(user: Any, ip: str = "10.0.0.1") -> Client:
    """A browser that logged in through the login page (a real session, not force_login)."""
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def with_cookie(client: Client) -> Client:
    """Another browser holding a copy of the session cookie (as one who stole it would)."""
    copy = Client()
    copy.cookies["sessionid"] = client.cookies["sessionid"].value
    return copy


def shut_out(client: Client, review: Any) -> list[str]:
    """What the client can still reach: a page, an htmx partial and the API with the session."""
    reached = []
    page = client.get(reverse("reviews:detail", args=[review.pk]))
    if page.status_code != 302 or "/accounts/login/" not in page["Location"]:
        reached.append(f"page {page.status_code}")
    htmx = client.get(reverse("screening:mine", args=[review.pk, "title_abstract"]), HTTP_HX_REQUEST="true")
    if htmx.status_code < 300 or (htmx.status_code == 302 and "/accounts/login/" not in htmx["Location"]):
        reached.append(f"htmx {htmx.status_code}")
    api = client.get(reverse("api-review-detail", args=[review.pk]))
    if api.status_code not in (401, 403):
        reached.append(f"api {api.status_code}")
    return reached


def test_the_helpers_see_a_live_session(member):
    user, review = member
    client = logged_in(user)
    assert len(shut_out(client, review)) == 3  # a live session reaches all three
    assert len(shut_out(with_cookie(client), review)) == 3


def test_logout_ends_the_session_for_pages_htmx_and_the_api(member):
    user, review = member
    client = logged_in(user)
    stolen = with_cookie(client)
    assert client.post(reverse("logout")).status_code == 302
    assert shut_out(client, review) == []
    assert shut_out(stolen, review) == []  # the old cookie is dead on the server, not only in the browser


def test_logout_is_a_post(member):
    user, review = member
    client = logged_in(user)
    assert client.get(reverse("logout")).status_code == 405  # a link or an <img> cannot log anyone out
    assert len(shut_out(client, review)) == 3


def test_a_password_change_ends_other_sessions_and_revokes_the_token_but_keeps_this_one(member):
    user, review = member
    here, elsewhere = logged_in(user, "10.0.0.2"), logged_in(user, "10.0.0.3")
    token = Token.objects.create(user=user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(reverse("api-review-detail", args=[review.pk])).status_code == 200
    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert len(shut_out(here, review)) == 3  # update_session_auth_hash kept the session that changed it
    assert shut_out(elsewhere, review) == []
    assert api.get(reverse("api-review-detail", args=[review.pk])).status_code == 401
    assert not Token.objects.filter(user=user).exists()
    fresh = Client().post(reverse("api-token"), {"username": user.username, "password": NEW_PASSWORD})
    assert fresh.status_code == 200 and fresh.json()["token"] != token.key


def test_a_refused_password_change_keeps_everything(member):
    user, review = member
    here, elsewhere = logged_in(user, "10.0.0.4"), logged_in(user, "10.0.0.5")
    Token.objects.create(user=user)
    wrong = {"old_password": "not it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert here.post(reverse("password_change"), wrong).status_code == 200
    assert len(shut_out(elsewhere, review)) == 3 and Token.objects.filter(user=user).exists()


# --- guessing: the same answer for a username that exists and one that does not -------------------------------


@pytest.fixture
def limited():
    """The auth rate at 3 a minute on a fresh cache, and an existing account."""
    rest = {**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": {"auth": "3/min"}}
    with override_settings(CACHES=LOCMEM, REST_FRAMEWORK=rest):
        from django.core.cache import cache

        cache.clear()  # the process's memory only (LOCMEM), never a shared Redis
        yield UserFactory(username=f"u{uuid.uuid4().hex[:8]}")


def same(response: Any) -> tuple[int, str, dict[str, str]]:
    """Status, body and headers, without what differs per request (CSRF token, cookies, the name typed)."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    text = re.sub(r'"X-CSRFToken": "[^"]*"', "", text)  # the htmx headers on <body>
    text = re.sub(r'value="[^"]*"', 'value=""', text)  # the username echoed back into its input
    text = re.sub(r"\d+ seconds?", "N seconds", text)  # the wait counts down between the two runs
    varying = ("Set-Cookie", "Date", "Content-Length", "Retry-After")
    headers = {k: v for k, v in response.headers.items() if k not in varying}
    return response.status_code, text, headers


def attempts(path: str, ip: str, username: str, n: int, api: bool = False) -> list[Any]:
    client = Client(REMOTE_ADDR=ip)
    data = {"username": username, "password": "wrong"}
    return [client.post(path, data, content_type="application/json") if api else client.post(path, data)
            for _ in range(n)]  # fmt: skip


@pytest.mark.parametrize("api", [False, True], ids=["login-page", "token-api"])
def test_existing_and_unknown_usernames_get_the_same_answers_below_and_over_the_limit(limited, api):
    path = reverse("api-token") if api else reverse("login")
    known = attempts(path, "10.1.0.1", limited.username, 5, api)
    unknown = attempts(path, "10.1.0.2", f"nobody-{limited.username}", 5, api)
    assert [r.status_code for r in known] == [400 if api else 200] * 3 + [429] * 2
    assert [same(r) for r in known] == [same(r) for r in unknown]
    text = known[0].content.decode()
    assert limited.username not in re.sub(r'value="[^"]*"', "", text)
    over = known[-1]
    assert "exist" not in over.content.decode().lower() and int(over["Retry-After"]) >= 1


@pytest.mark.parametrize("api", [False, True], ids=["login-page", "token-api"])
def test_the_username_limit_counts_existing_and_unknown_names_alike(limited, api):
    """From many addresses against one name: the fourth attempt is refused whether the account exists or not."""
    path = reverse("api-token") if api else reverse("login")
    for name in (limited.username, f"nobody-{limited.username}"):
        codes = [attempts(path, f"10.2.{n}.{len(name)}", name, 1, api)[0].status_code for n in range(4)]
        assert codes == [400 if api else 200] * 3 + [429], (name, codes)


def test_the_hasher_runs_for_an_unknown_username_too(limited):
    """No timing oracle: Django's ModelBackend hashes the password once for a username that does not exist
    (UserModel().set_password) as it does to check an existing one."""
    hasher = type(get_hasher())
    calls = {}
    for name in (limited.username, f"nobody-{limited.username}"):
        with mock.patch.object(hasher, "encode", autospec=True, side_effect=hasher.encode) as encode:
            Client(REMOTE_ADDR="10.3.0.1").post(reverse("login"), {"username": name, "password": "wrong"})
        calls[name] = encode.call_count
    assert list(calls.values()) == [1, 1], calls


def test_signup_attempts_share_the_guessing_budget(limited):
    """The sign-up form says when a username is taken (it must, to pick another), so it is limited like the
    login page: over the limit nothing is validated and the answer is the same for any name."""
    client = Client(REMOTE_ADDR="10.4.0.1")
    data = {"username": limited.username, "email": "x@example.org", "password1": "p", "password2": "p"}
    codes = [client.post(reverse("signup"), data).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    taken = client.post(reverse("signup"), data)
    free = client.post(reverse("signup"), {**data, "username": f"free-{limited.username}"})
    assert taken.status_code == free.status_code == 429
    assert same(taken)[1] == same(free)[1] and "already exists" not in taken.content.decode()


def test_there_is_no_password_reset_to_enumerate_with():
    """No reset by e-mail (accounts are reset by an administrator). A reset route added later needs its own test
    that it answers the same for an address that has an account and one that has not."""
    assert not [p.name for p in patterns() if "reset" in p.name or "reset" in p.route]


def test_a_password_set_elsewhere_revokes_the_token_too(member):
    """The admin and `manage.py changepassword` call set_password and save: the token goes as well; other saves
    of the user (a login's last_login, a new e-mail) keep it."""
    user, _review = member
    Token.objects.create(user=user)
    user.email = "new@example.org"
    user.save()
    user.save(update_fields=["last_login"])
    assert Token.objects.filter(user=user).exists()
    user.set_password(NEW_PASSWORD)
    user.save()
    assert not Token.objects.filter(user=user).exists()
