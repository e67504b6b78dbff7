"""The ketamine demo played end to end in a real browser: fixtures shared by its tests.

The browser fixtures are the browser tests' own (Debian's chromium, headless, only the live server reachable);
the review's data are the demo's export files and their answer key in core/demo/sources. Each step leaves a
full-page screenshot in tests/e2e/screenshots/ (git-ignored), named NN-step.png in the order of the story.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

# The browser tests' fixtures, shared rather than copied (the autouse one lets the ORM run beside Playwright).
from tests.browser.conftest import _allow_orm_beside_playwright, browser, new_page  # noqa: F401
from tests.browser.test_reviews_flow import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DEMO_USERS = ("author1", "author2", "editor")


@pytest.fixture(scope="session")
def key() -> dict[str, Any]:
    """The demo's answer key: which record of which file is which work, and what everyone decides on it."""
    from core.demo.load import answer_key

    return answer_key()


@pytest.fixture
def demo_users(django_user_model) -> dict[str, Any]:
    """The demo's accounts (core/management/commands/demo_users.py names them), with the tests' password."""
    return {name: django_user_model.objects.create_user(name, f"{name}@example.org", PASSWORD) for name in DEMO_USERS}


@pytest.fixture(scope="session")
def _fresh_screenshots() -> Path:
    # Pictures of an earlier run would be paged through as if they were this run's.
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS


@pytest.fixture
def shot(request, _fresh_screenshots):
    """`shot(page, "members")`: a full-page picture of what the user sees, numbered in the order of the story
    (from the test module's FIRST_SHOT on, so that a later test's pictures follow an earlier one's)."""
    number = getattr(request.module, "FIRST_SHOT", 1)

    def take(page, name: str) -> None:
        nonlocal number
        page.screenshot(path=str(_fresh_screenshots / f"{number:02d}-{name}.png"), full_page=True)
        number += 1

    return take


@dataclass
class Works:
    """The key's works among a review's records (core.demo.load.work_records finds them by file and position)."""

    by_id: dict[str, dict[str, Any]]
    records: dict[str, list[int]]  # work id -> its records' ids, in every file that carries it

    def primary(self, work_id: str) -> Any:
        """The record screened for the work (duplicates are screened through their primary)."""
        from reviews.models import Record

        members = Record.objects.filter(pk__in=self.records[work_id])
        found = {duplicate_of or pk for pk, duplicate_of in members.values_list("pk", "duplicate_of")}
        assert len(found) == 1, f"{work_id}'s records are not one publication after deduplication: {found}"
        return Record.objects.get(pk=found.pop())

    def of_record(self, record_id: int) -> dict[str, Any]:
        """The work a record (a primary, as the screening page shows it) belongs to."""
        for work_id, ids in self.records.items():
            if record_id in ids:
                return self.by_id[work_id]
        raise AssertionError(f"record {record_id} is not in the key")


def works_of(review, key: dict[str, Any]) -> Works:
    from core.demo.load import work_records

    return Works(by_id={w["id"]: w for w in key["works"]}, records=work_records(review))


def field(label: str) -> re.Pattern:
    """A form field's label, exactly, with the asterisk of a required field if it has one."""
    return re.compile(rf"^\s*{re.escape(label)}\W*$")


def included_reports(review, key: dict[str, Any]) -> dict[str, list[int]]:
    """Each included trial's records (the ones screened), its journal article first and registry records after."""
    from reviews.models import Import

    works = works_of(review, key)
    included: dict[str, list[Any]] = {}
    for work in key["works"]:
        if (work.get("fulltext") or {}).get("decision") == "include":
            included.setdefault(work["trial"], []).append(works.primary(work["id"]))
    return {
        trial: [r.pk for r in sorted(records, key=lambda r: (r.batch.source_kind == Import.SourceKind.REGISTER, r.pk))]
        for trial, records in included.items()
    }


def make_studies(page, review, included: dict[str, list[int]], shot) -> dict[str, Any]:
    """The editor makes one study per included trial on the Studies page: a trial with several reports by hand
    (its journal article the primary report), then the others from the included records in one go."""
    from extraction.models import Study

    page.goto(f"/reviews/{review.pk}/studies/")
    total = sum(len(ids) for ids in included.values())
    expect(page.get_by_text(f"{total} records included at full text report no study yet.")).to_be_visible()
    shot(page, "studies-none-yet")
    for label, ids in included.items():
        if len(ids) < 2:
            continue
        page.goto(f"/reviews/{review.pk}/studies/")
        new = page.locator("form").filter(has=page.get_by_role("button", name="Create study"))
        new.get_by_label(field("Label")).fill(label)
        new.get_by_label("Included records without a study").select_option([str(pk) for pk in ids])
        new.get_by_role("button", name="Create study").click()
        expect(page.get_by_role("alert").filter(has_text=f"Study “{label}” created.")).to_be_visible()
        reports = page.locator("#reports tbody tr")
        expect(reports).to_have_count(len(ids))
        article = reports.filter(has=page.get_by_role("link", name=f"#{ids[0]}", exact=True))
        if not article.get_by_text("Primary", exact=True).count():
            article.get_by_role("button", name=re.compile("Make primary")).click()
        expect(article.get_by_text("Primary", exact=True)).to_be_visible()
        shot(page, f"study-{label.split()[0].lower()}-reports")
    single = [label for label, ids in included.items() if len(ids) == 1]
    page.goto(f"/reviews/{review.pk}/studies/")
    page.get_by_role("button", name="Create studies from included records").click()
    created = f"{len(single)} stud{'y' if len(single) == 1 else 'ies'} created from included records"
    expect(page.get_by_role("alert").filter(has_text=created)).to_be_visible()
    expect(page.get_by_text("Every record included at full text reports a study.")).to_be_visible()
    shot(page, "studies")
    return {s.label: s for s in Study.objects.filter(review=review)}


def minimal_pdf(text: str) -> bytes:
    """A small valid one-page PDF saying `text` (a stand-in for a trial's full text; nothing is downloaded)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")[:90]
    stream = f"BT /F1 11 Tf 50 780 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
