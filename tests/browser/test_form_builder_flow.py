"""The extraction form builder in a real browser: the editor builds a small form piece by piece (htmx swaps each
piece, the inputs follow the field's type), moves a field with Alt+ArrowUp (announced, saved at once) and another
by dragging it, publishes it, and after a reload the published version shows the fields in the new order, read-only."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from extraction.models import ExtractionForm
from extraction.services.forms import form_structure
from reviews.models import Membership, Review
from tests.browser.test_reviews_flow import PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    # SIEVE_SCREENSHOTS=<dir> keeps a picture of each step, to look at the pages.
    folder = os.environ.get("SIEVE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"form-builder-{name}.png"), full_page=True)


@pytest.fixture
def review(django_user_model):
    alice = django_user_model.objects.create_user("alice", "alice@example.org", PASSWORD)
    bob = django_user_model.objects.create_user("bob", "bob@example.org", PASSWORD)
    review = Review.objects.create(title="Ketamine for cancer pain", created_by=alice)
    Membership.objects.create(review=review, user=alice, role="owner")
    Membership.objects.create(review=review, user=bob, role="editor")
    return review


def _add_field(section, label: str, type_: str, *, unit: str = "", options: str = "", per_arm: bool = False) -> None:
    add = section.locator("details.builder-field-add")
    if add.get_attribute("open") is None:
        add.locator("summary").click()
    add.get_by_label("Label").fill(label)
    add.get_by_label("Type").select_option(type_)
    unit_input, options_input = add.get_by_label("Unit"), add.get_by_label("Options")
    # The inputs follow the type: a unit for numbers only, options for choices only.
    if type_ in ("integer", "decimal"):
        expect(unit_input).to_be_visible()
        expect(options_input).to_be_hidden()
    elif type_ in ("single_choice", "multiple_choice"):
        expect(options_input).to_be_visible()
        expect(unit_input).to_be_hidden()
    if unit:
        unit_input.fill(unit)
    if options:
        options_input.fill(options)
    if per_arm:
        add.get_by_label("Per arm").check()
    add.get_by_role("button", name="Add field").click()
    expect(section.locator(".builder-field").filter(has_text=label)).to_be_visible()


def test_editor_builds_reorders_with_keys_and_publishes(new_page, review):
    page = new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, "bob")

    page.goto(f"/reviews/{review.pk}/forms/")
    expect(page.get_by_text("This review has no extraction form yet")).to_be_visible()
    page.get_by_label("Name").fill("Pilot form")
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_role("heading", name=re.compile("Pilot form"))).to_be_visible()
    form = ExtractionForm.objects.get(name="Pilot form")
    assert page.url.endswith(f"/reviews/{review.pk}/forms/{form.pk}/")

    # No navigation from here on until publishing: every piece is swapped in place.
    page.evaluate("window.__sieveSameDocument = 'yes'")
    page.get_by_label("Title").fill("Participants")
    page.get_by_role("button", name="Add section").click()
    section = page.locator("#sections > .builder-section").filter(has_text="Participants")
    expect(section).to_be_visible()

    _add_field(section, "Mean age", "decimal", unit="years")
    _add_field(section, "Route", "single_choice", options="Oral\nIntravenous\nSubcutaneous")
    _add_field(section, "Randomised", "integer", per_arm=True)
    rows = section.locator(".builder-field")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Decimal · years")
    expect(rows.nth(1)).to_contain_text("Oral · Intravenous · Subcutaneous")
    expect(rows.nth(2)).to_contain_text("per arm")
    _shot(page, "1-built")

    # A choice field without options is refused at the options, in place.
    _add_field_error = section.locator("details.builder-field-add")
    _add_field_error.get_by_label("Label").fill("Setting")
    _add_field_error.get_by_label("Type").select_option("multiple_choice")
    _add_field_error.get_by_role("button", name="Add field").click()
    expect(_add_field_error.locator(".invalid-feedback")).to_contain_text("at least two options")
    # htmx moves the focus to the refused input when the swap settles: wait for it, so it does not later take
    # the focus from the row the next step focuses.
    expect(_add_field_error.get_by_label("Options")).to_be_focused()
    _shot(page, "2-refused")

    # Alt+ArrowUp on the focused row moves it, says so, and saves the order.
    version = page.locator("#form-version").input_value()
    rows.filter(has_text="Randomised").focus()
    expect(rows.filter(has_text="Randomised")).to_be_focused()
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#builder-announce")).to_have_text("“Randomised” moved to position 2 of 3 in “Participants”.")
    expect(rows.nth(1)).to_contain_text("Randomised")
    expect(page.locator("#form-version")).not_to_have_value(version)
    assert page.evaluate("document.activeElement.id") == rows.nth(1).get_attribute("id")
    assert form_structure(form)[0]["fields"][1]["key"] == "randomised"
    _shot(page, "3-moved")

    # Dragging a row by its handle (native drag and drop) moves it too: Route to the top.
    version = page.locator("#form-version").input_value()
    rows.nth(0).evaluate("row => row.scrollIntoView({block: 'center'})")  # both rows on screen for the pointer
    rows.filter(has_text="Route").locator("[data-drag-handle]").drag_to(rows.nth(0), target_position={"x": 40, "y": 2})
    expect(rows.nth(0)).to_contain_text("Route")
    expect(page.locator("#builder-announce")).to_have_text("“Route” moved to position 1 of 3 in “Participants”.")
    expect(page.locator("#form-version")).not_to_have_value(version)
    assert page.evaluate("window.__sieveSameDocument") == "yes"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("is published: new extractions use it")).to_be_visible()
    expect(page.get_by_role("button", name="Make a new version to change it")).to_be_visible()

    page.reload()
    preview = page.locator(".form-preview").filter(has_text="Participants")
    expect(preview.locator(".preview-field .fw-semibold")).to_have_text(["Route", "Mean age", "Randomised"])
    expect(preview.locator(".preview-field").nth(1).locator(".input-group-text")).to_have_text("years")
    expect(preview.locator(".preview-field").nth(2)).to_contain_text("Control arm")
    expect(page.locator("#sections")).to_have_count(0)  # read-only
    _shot(page, "4-published")

    form.refresh_from_db()
    assert form.status == ExtractionForm.Status.PUBLISHED
    fields = form_structure(form)[0]["fields"]
    assert [(f["label"], f["type"], f["unit"], f["choices"], f["per_arm"]) for f in fields] == [
        ("Route", "single_choice", "", ["Oral", "Intravenous", "Subcutaneous"], False),
        ("Mean age", "decimal", "years", [], False),
        ("Randomised", "integer", "", [], True),
    ]
    assert errors == []
