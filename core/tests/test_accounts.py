import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_renders_for_anonymous(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content and b"csrfmiddlewaretoken" in response.content


def test_every_page_but_login_needs_login(client):
    for url in ("/", reverse("reviews:list"), reverse("reviews:create"), reverse("password_change")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_login_and_logout(cast):
    client = Client()
    response = client.post(reverse("login"), {"username": "carol", "password": "correct horse battery staple"})
    assert response.status_code == 302 and response["Location"] == reverse("reviews:list")
    assert client.get(reverse("reviews:list")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("reviews:list")).status_code == 302


def test_wrong_password_does_not_reveal_whether_user_exists(cast):
    client = Client()
    known = client.post(reverse("login"), {"username": "carol", "password": "wrong"}).content.decode()
    unknown = client.post(reverse("login"), {"username": "nobody", "password": "wrong"}).content.decode()
    assert "Please enter a correct username and password" in known

    def scrub(page: str, name: str) -> str:
        return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", page.replace(name, "X"))

    assert scrub(known, "carol") == scrub(unknown, "nobody")


def test_signup_creates_account_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {
            "username": "newauthor",
            "email": "new@example.org",
            "password1": "a-Long-pass-phrase-42",
            "password2": "a-Long-pass-phrase-42",
        },
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="newauthor", email="new@example.org").exists()
    assert client.get(reverse("reviews:list")).status_code == 200


def test_signup_applies_password_validators(client):
    response = client.post(
        reverse("signup"), {"username": "weak", "email": "w@example.org", "password1": "123", "password2": "123"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "This password is too short" in body and "This password is entirely numeric" in body
    assert not get_user_model().objects.filter(username="weak").exists()


def test_signup_refuses_duplicate_email(cast, client):
    response = client.post(
        reverse("signup"),
        {
            "username": "carol2",
            "email": "CAROL@example.org",
            "password1": "a-Long-pass-phrase-42",
            "password2": "a-Long-pass-phrase-42",
        },
    )
    assert "An account with this e-mail address already exists." in response.content.decode()


@override_settings(SIEVE_ALLOW_SIGNUP=False)
def test_signup_can_be_switched_off(client):
    assert client.get(reverse("signup")).status_code == 404
    response = client.post(
        reverse("signup"),
        {
            "username": "x",
            "email": "x@example.org",
            "password1": "a-Long-pass-phrase-42",
            "password2": "a-Long-pass-phrase-42",
        },
    )
    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="x").exists()
    assert b"Sign up" not in client.get(reverse("login")).content


def test_password_change_ends_other_sessions(cast):
    laptop, phone = Client(), Client()
    for c in (laptop, phone):
        c.post(reverse("login"), {"username": "carol", "password": "correct horse battery staple"})
    response = laptop.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "n3w-Pass-phrase!",
            "new_password2": "n3w-Pass-phrase!",
        },
    )
    assert response.status_code == 302
    assert laptop.get(reverse("reviews:list")).status_code == 200
    assert phone.get(reverse("reviews:list")).status_code == 302


@pytest.mark.django_db
def test_the_login_page_names_the_demo_accounts_only_where_they_exist_and_the_setting_asks(client, settings):
    from django.contrib.auth import get_user_model

    settings.SIEVE_DEMO_LOGIN_HINT = True
    page = client.get(reverse("login"))
    assert page.status_code == 200 and "Demo:" not in page.content.decode()  # no demo accounts yet
    for name in ("author1", "author2", "editor"):
        get_user_model().objects.create_user(name, password="x")
    text = client.get(reverse("login")).content.decode()
    assert "<code>author1</code> (owner), <code>author2</code> (reviewer) or <code>editor</code> (editor)" in text
    assert "var/demo_password" in text
    settings.SIEVE_DEMO_LOGIN_HINT = False  # production and tests: the default
    assert "Demo:" not in client.get(reverse("login")).content.decode()
