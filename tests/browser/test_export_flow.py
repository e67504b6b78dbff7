"""Exports in a real browser: the editor of the seed review (three trials, risk of bias, certainty) opens the
Export page, downloads the included records as RIS (rispy reads them, only the included ones come), the
PRISMA diagram as PNG and the RevMan 5 file; the whole review as JSON, which another user imports on the
"Import a review" page as a new review of their own, watching its progress until the worker has made it."""

import re

import pytest
import rispy
from defusedxml import ElementTree
from playwright.sync_api import expect

from extraction.models import Study
from reviews.models import Membership, Review
from screening import services as screening
from screening.tests.test_screening import make_records
from tests.browser.test_analysis_flow import _shot
from tests.browser.test_certainty_flow import graded_review  # noqa: F401 - a fixture
from tests.browser.test_reviews_flow import PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def screened_review(graded_review, django_user_model):  # noqa: F811 - the fixture imported above
    """The seed review with five MEDLINE records screened at title/abstract by one reviewer: two included."""
    review = graded_review
    screening.settings_update(
        user=review.created_by, review_id=review.pk, version=screening.settings_for(review).version,
        reviewers_needed=1,
    )  # fmt: skip
    bob = django_user_model.objects.get(username="bob")
    for i, record in enumerate(make_records(review, 5)):
        screening.decision_create(
            user=bob, review_id=review.pk, record_id=record.pk, stage="title_abstract",
            decision="include" if i < 2 else "exclude",
        )  # fmt: skip
        screening.outcome_evaluate(record_id=record.pk, stage="title_abstract")
    django_user_model.objects.create_user("carol", "carol@example.org", PASSWORD)
    return review


def _download(page, name: str, role: str = "link") -> bytes:
    with page.expect_download() as info:
        page.get_by_role(role, name=name, exact=True).click()  # type: ignore[arg-type]
    return open(info.value.path(), "rb").read()


def test_the_editor_exports_and_another_server_user_imports_the_review(new_page, screened_review):
    review = screened_review
    page = new_page()
    login(page, "bob")
    page.goto(f"/reviews/{review.pk}/")
    page.get_by_role("link", name="Export", exact=True).click()
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    _shot(page, "export-page")

    page.get_by_label("Stage").select_option("title_abstract")
    page.get_by_label("Status").select_option("included")
    entries = rispy.loads(_download(page, "Download RIS", "button").decode("utf-8"))
    assert len(entries) == 2
    assert all(entry["title"].startswith("Ketamine trial MEDLINE") for entry in entries)

    png = _download(page, "PRISMA flow diagram as PNG")
    assert png.startswith(b"\x89PNG")

    root = ElementTree.fromstring(_download(page, "Download RevMan 5 (.rm5)"))
    assert root.tag == "COCHRANE_REVIEW"

    document = _download(page, "Download JSON")
    path = "/tmp/sieve-export-flow.json"  # noqa: S108 - a test's own file, handed to the file chooser
    with open(path, "wb") as handle:
        handle.write(document)

    other = new_page()
    login(other, "carol")
    other.get_by_role("link", name="Import a review…").click()
    other.get_by_label("Sieve JSON export").set_input_files(path)
    other.get_by_role("button", name="Import").click()
    # A worker imports it while the page shows its progress. Done, the page says so and links the new review,
    # or (when one of its polls saw it finish) has taken carol there with the same message.
    expect(other.get_by_text("you own this copy")).to_be_visible(timeout=60_000)
    _shot(other, "export-imported")
    copy = Review.objects.exclude(pk=review.pk).get()
    if "/import/" in other.url:
        progress = other.get_by_role("progressbar", name="Import progress")
        expect(progress).to_have_attribute("aria-valuenow", "100")
        other.get_by_role("link", name="Open the review").click()
    expect(other).to_have_url(re.compile(rf"/reviews/{copy.pk}/$"))
    expect(other.get_by_role("heading", name=copy.title)).to_be_visible()
    assert Membership.objects.get(review=copy, user__username="carol").role == "owner"
    assert sorted(Study.objects.filter(review=copy).values_list("label", flat=True)) == sorted(
        Study.objects.filter(review=review).values_list("label", flat=True)
    )
