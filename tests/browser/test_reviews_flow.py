"""The foundation's main flow in a real browser: log in, create a review, add the team, roles take effect."""

import re

import pytest
from playwright.sync_api import expect

from reviews.models import Review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def login(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="My reviews")).to_be_visible()


def test_owner_creates_review_and_builds_the_team(new_page, django_user_model):
    for name in ("alice", "bob", "carol", "dave"):
        django_user_model.objects.create_user(name, f"{name}@example.org", PASSWORD)

    alice = new_page()
    login(alice, "alice")
    alice.get_by_role("link", name="New review").click()
    alice.get_by_label("Title").fill("Ketamine as an adjuvant to opioids for cancer pain")
    alice.get_by_label("Population").fill("Adults with refractory cancer pain")
    alice.get_by_label("Eligibility criteria").fill("RCTs with at least 10 participants who completed")
    alice.get_by_role("button", name="Create review").click()
    expect(alice.get_by_role("heading", name="Ketamine as an adjuvant to opioids for cancer pain")).to_be_visible()
    expect(alice.get_by_text("RCTs with at least 10 participants who completed")).to_be_visible()
    review = Review.objects.get()

    alice.get_by_role("link", name="Members").first.click()
    # Adding members swaps the table in place (htmx): the URL stays, the new row appears with a message.
    for who, role, identifier in (("bob", "editor", "bob"), ("carol", "reviewer", "carol@example.org")):
        alice.get_by_label(re.compile(r"Username or e-mail")).fill(identifier)
        alice.get_by_label(re.compile(r"^\s*Role\W*$")).select_option(role)
        alice.get_by_role("button", name="Add member").click()
        expect(alice.get_by_role("alert").filter(has_text=f"Added {who} as")).to_be_visible()
        expect(alice.get_by_label(f"Role of {who}")).to_have_value(role)
    assert alice.url.endswith(f"/reviews/{review.pk}/members/")

    alice.get_by_label(re.compile(r"Username or e-mail")).fill("nobody")
    alice.get_by_role("button", name="Add member").click()
    expect(alice.get_by_text("No single Sieve account has the username or e-mail address “nobody”")).to_be_visible()

    # The last owner is protected in the browser as well.
    alice.get_by_label("Role of alice").select_option("reviewer")
    alice.get_by_label("Role of alice").locator("xpath=..").get_by_role("button", name="Change").click()
    expect(alice.get_by_role("alert").filter(has_text="A review needs at least one owner")).to_be_visible()

    # bob (editor) sees the review but not its settings; dave (outsider) does not see it at all.
    bob = new_page()
    login(bob, "bob")
    expect(bob.get_by_role("link", name=re.compile("Ketamine as an adjuvant"))).to_be_visible()
    bob.get_by_role("link", name=re.compile("Ketamine as an adjuvant")).click()
    expect(bob.get_by_text("Your role: editor")).to_be_visible()
    expect(bob.get_by_role("link", name="Settings")).to_have_count(0)
    response = bob.goto(f"/reviews/{review.pk}/edit/")
    assert response.status == 403
    expect(bob.get_by_role("heading", name="You can't do that here")).to_be_visible()

    dave = new_page()
    login(dave, "dave")
    expect(dave.get_by_text("You are not a member of any review yet")).to_be_visible()
    response = dave.goto(f"/reviews/{review.pk}/")
    assert response.status == 404
    expect(dave.get_by_role("heading", name="Nothing here")).to_be_visible()


def test_keyboard_only_login_and_create(new_page, django_user_model):
    django_user_model.objects.create_user("alice", "alice@example.org", PASSWORD)
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").focus()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My reviews")).to_be_visible()
    page.get_by_role("link", name="New review").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Title").focus()
    page.keyboard.type("Keyboard review")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keyboard review")).to_be_visible()


def test_api_docs_render_offline(new_page, django_user_model):
    django_user_model.objects.create_user("alice", "alice@example.org", PASSWORD)
    page = new_page()
    login(page, "alice")
    page.goto("/api/docs/")
    # Swagger UI built the operations from /api/schema/, with every asset served by Sieve itself.
    expect(page.get_by_text("/api/v1/reviews/{id}/", exact=True).first).to_be_visible()
    expect(page.get_by_text("/api/v1/auth/token/", exact=True)).to_be_visible()
