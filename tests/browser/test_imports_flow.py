"""Imports in a real browser: upload, watch the progress finish, see the records; settle a possible duplicate
with the keyboard."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from reviews.models import DuplicateGroup, Record
from reviews.tests.test_imports import RIS_EMBASE, RIS_MEDLINE
from tests.browser.test_reviews_flow import PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(django_user_model):
    from reviews.models import Membership, Review

    owner = django_user_model.objects.create_user("alice", "alice@example.org", PASSWORD)
    review = Review.objects.create(title="Ketamine for cancer pain", created_by=owner)
    Membership.objects.create(review=review, user=owner, role="owner")
    return review


def _upload(page, review, tmp_path, name, content, source):
    path = tmp_path / name
    path.write_text(content)
    page.goto(f"/reviews/{review.pk}/imports/")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_label("Source", exact=False).first.fill(source)
    page.get_by_role("button", name="Import").click()
    progress = page.get_by_role("progressbar", name="Import progress")
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(page.get_by_text("Succeeded")).to_be_visible()


def test_owner_imports_two_sources_and_settles_a_duplicate(new_page, team, tasks, tmp_path):
    page = new_page()
    login(page, "alice")
    _upload(page, team, tmp_path, "medline.ris", RIS_MEDLINE, "MEDLINE (Ovid)")
    expect(page.get_by_text("2 records added")).to_be_visible()
    _upload(page, team, tmp_path, "embase.ris", RIS_EMBASE, "Embase (Ovid)")

    page.get_by_role("link", name="Records", exact=True).click()
    expect(page.get_by_text("4 records", exact=True)).to_be_visible()
    page.get_by_label("Duplicates").select_option("exclude")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("3 records", exact=True)).to_be_visible()

    # A possible duplicate waiting for a person: k keeps it apart without a page load.
    a, b = Record.objects.filter(review=team, duplicate_of__isnull=True).order_by("id")[:2]
    group = DuplicateGroup.objects.create(review=team, status="pending", score=0.8, reason="title 0.80", primary=a)
    group.records.add(a, b)
    page.get_by_role("link", name="Duplicates", exact=True).click()
    expect(page.get_by_text("title 0.80")).to_be_visible()
    page.wait_for_load_state("load")  # the shortcut handler is installed by a deferred script
    page.keyboard.press("k")
    expect(page.get_by_text("No possible duplicates are waiting for a decision.")).to_be_visible()
    group.refresh_from_db()
    assert group.status == "split"


def test_failed_import_shows_where(new_page, team, tasks, tmp_path):
    page = new_page()
    login(page, "alice")
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes\nnot an export\n")
    page.goto(f"/reviews/{team.pk}/imports/")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_label("Source", exact=False).first.fill("Hand search")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("The import failed; nothing was added.")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("line 1: Sieve does not recognise this file's format", exact=False)).to_be_visible()
    assert not Record.objects.exists()
    assert settings.SIEVE_MAX_IMPORT_MB > 0
