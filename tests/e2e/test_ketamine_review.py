"""The ketamine demo, played in a real browser from an empty Sieve to the PRISMA diagram.

author1 creates the review and its team, sets the full-text exclusion reasons, imports the five exports of
core/demo/sources (watching each progress bar finish) and settles the pairs the deduplicator could not decide
(merging those the answer key says are one work); both authors screen titles and abstracts with the keyboard as
the key says, disagreeing where it says so, and the editor resolves the conflicts; at full text the PDFs are
attached on the page, one report is marked not retrieved, the others are included or excluded with reasons; the
editor makes the three studies (Hardy 2012: article and registry record) and the PRISMA diagram shows the key's
numbers. Each step leaves tests/e2e/screenshots/NN-step.png (conftest.py)."""

import re
import time
from collections import Counter
from typing import Any

import pytest
from playwright.sync_api import expect

from core.demo.load import DEMO_REVIEW, DEMO_TITLE, REGISTER_FORMATS, SEARCHED_ON, SOURCES, exclusion_reasons
from reviews.models import DuplicateGroup, Review
from reviews.selectors import duplicate_group_list
from screening import services as screening
from screening.models import Outcome
from tests.browser.test_reviews_flow import login
from tests.e2e.conftest import Works, field, included_reports, make_studies, minimal_pdf, works_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TA, FT = "title_abstract", "full_text"
KEYS = {"include": "i", "exclude": "e", "maybe": "m"}
# Of the records both authors exclude at title and abstract, this many are screened with the keyboard as well;
# the rest go through the screening service (the same write the page makes), so that the run stays within
# minutes: pressing e some 200 times more per author would test nothing the first records have not.
AGREED_EXCLUDES_BY_KEYBOARD = 12


def _create_review(page, shot) -> Review:
    page.get_by_role("link", name="New review").click()
    page.get_by_label(field("Title")).fill(DEMO_TITLE)
    for name in ("objectives", "population", "intervention", "comparator", "outcomes"):
        page.get_by_label(field(name.capitalize())).fill(DEMO_REVIEW[name])
    page.get_by_label("Eligibility criteria").fill(DEMO_REVIEW["eligibility_criteria"])
    shot(page, "new-review")
    page.get_by_role("button", name="Create review").click()
    expect(page.get_by_role("heading", name=DEMO_TITLE)).to_be_visible()
    expect(page.get_by_text("At least 10 participants completed the study.")).to_be_visible()
    shot(page, "review-created")
    return Review.objects.get(title=DEMO_TITLE)


def _add_members(page, shot) -> None:
    page.get_by_role("link", name="Members").first.click()
    for who, role in (("author2", "reviewer"), ("editor", "editor")):
        page.get_by_label(re.compile(r"Username or e-mail")).fill(who)
        page.get_by_label(re.compile(r"^\s*Role\W*$")).select_option(role)
        page.get_by_role("button", name="Add member").click()
        expect(page.get_by_role("alert").filter(has_text=f"Added {who} as")).to_be_visible()
        expect(page.get_by_label(f"Role of {who}")).to_have_value(role)
    expect(page.get_by_label("Role of author1")).to_have_value("owner")
    shot(page, "members")


def _exclusion_reasons(page, shot) -> None:
    """The owner lists the reasons the eligibility criteria give for excluding a full text (a reason is required)."""
    page.get_by_role("link", name="Screening settings").click()
    page.get_by_label("Exclusion reasons").fill("\n".join(exclusion_reasons()))
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_role("alert").filter(has_text="Screening settings saved.")).to_be_visible()
    shot(page, "screening-settings")


def _import(page, review, entry: dict[str, Any], shot) -> None:
    page.goto(f"/reviews/{review.pk}/imports/")
    page.get_by_label(field("File")).set_input_files(str(SOURCES / entry["file"]))
    page.get_by_label(field("Source")).fill(entry["source"])
    if _register(entry):
        page.get_by_label("Kind of source").select_option("register")
    page.get_by_label("Date searched").fill(entry.get("searched_on") or SEARCHED_ON.isoformat())
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name=f"{entry['source']}: {entry['file']}")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Import progress")
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(page.locator("#import-status").get_by_text("Succeeded")).to_be_visible()
    records = entry["records"]
    expect(page.get_by_text(f"{records} record{'s' if records != 1 else ''} added")).to_be_visible()
    shot(page, f"import-{entry['file'].split('.')[0].replace('_', '-')}")


def _register(entry: dict[str, Any]) -> bool:
    return (entry.get("source_kind") or ("register" if entry.get("format") in REGISTER_FORMATS else "")) == "register"


def _settle_queued_duplicates(page, review, key, shot) -> None:
    """The pairs the deduplicator was unsure of, one by one with the keyboard: m merges the first pair shown when
    the key says it is one work, k keeps it apart otherwise."""
    work_of = {record: work for work, ids in works_of(review, key).records.items() for record in ids}
    page.get_by_role("link", name="Duplicates", exact=True).click()
    groups = page.locator("section.duplicate-group")
    queued = list(duplicate_group_list(review=review, status="pending"))
    queued_works = [w for w in key["works"] if w["duplicate"] == "queued"]
    assert len(queued) >= len(queued_works) > 0
    expect(groups).to_have_count(len(queued))
    expect(groups.first).to_contain_text("Score")
    shot(page, "duplicates-queued")
    page.wait_for_load_state("load")  # the m/k shortcuts are installed by a deferred script
    merged = 0
    while queued:
        first = queued[0]
        same = len({work_of[r.pk] for r in first.records.all()}) == 1
        page.keyboard.press("m" if same else "k")
        expect(page.get_by_role("alert").filter(has_text="Merged" if same else "Kept apart")).to_be_visible()
        pending = DuplicateGroup.objects.filter(pk=first.pk, status="pending")
        _wait(lambda pending=pending: not pending.exists(), "the duplicate decision")
        merged += same
        queued = list(duplicate_group_list(review=review, status="pending"))
        expect(groups).to_have_count(len(queued))
    assert merged >= len(queued_works)
    expect(page.get_by_text("No possible duplicates are waiting for a decision.")).to_be_visible()
    shot(page, "duplicates-settled")


def _wait(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout}s"
        time.sleep(0.1)


def _screen_by_keys(page, review, works: Works, who: str, expected: int, shot, first_shot: str) -> float:
    """Screen this author's queue with the keyboard, each record as the key says; returns seconds per record."""
    page.goto(f"/reviews/{review.pk}/screening/{TA}/")
    pane = page.locator("#record-pane article.screen-record")
    progress = page.locator("#progress")
    expect(progress).to_contain_text(f"{expected} to go")
    shot(page, first_shot)
    start = time.monotonic()
    for done in range(1, expected + 1):
        record_id = int(pane.get_attribute("data-record") or 0)
        work = works.of_record(record_id)
        decision = work["screening"][who]
        other = work["screening"]["author2" if who == "author1" else "author1"]
        if who == "author2" and (decision == "exclude") != (other == "exclude"):
            # A disagreement: the reason, for the editor who will resolve it.
            page.locator("#note").fill(f"{who}: {decision} as the key says ({work['id']})")
            page.evaluate("document.activeElement.blur()")
        page.keyboard.press(KEYS[decision])
        expect(progress).to_contain_text(re.compile(rf"You: \d+ decided, {expected - done} to go"))
    elapsed = time.monotonic() - start
    expect(page.get_by_text("Nothing left for you at this stage.")).to_be_visible()
    return elapsed / max(expected, 1)


def _wait_outcomes(review, stage: str, count: int, timeout: float = 90) -> int:
    # Eagerly evaluated in the request on the embedded default; with REDIS_URL the worker does it a moment later.
    deadline = time.monotonic() + timeout
    while (found := Outcome.objects.filter(review=review, stage=stage).count()) < count:
        assert time.monotonic() < deadline, f"{found} of {count} {stage} outcomes after {timeout}s"
        time.sleep(0.2)
    return found


def _resolve_conflicts(page, review, works: Works, key, shot) -> None:
    expected = key["expected"]["conflicts"]
    page.get_by_role("link", name="Conflicts", exact=True).click()
    sections = page.locator("section[aria-labelledby^='conflict-']")
    expect(sections).to_have_count(min(expected, 25))
    shot(page, "conflicts")
    for left in range(expected - 1, -1, -1):
        outcome = Outcome.objects.filter(review=review, stage=TA, status="conflict").order_by("id").first()
        assert outcome is not None
        work = works.of_record(outcome.record_id)
        section = page.locator(f"section[aria-labelledby='conflict-{outcome.pk}']")
        for who in ("author1", "author2"):
            decision = work["screening"][who]
            side = section.locator(".border.rounded").filter(has_text=who)
            expect(side.locator(".badge")).to_have_text(decision.capitalize())
        section.get_by_role("button", name=work["resolution"].capitalize(), exact=True).click()
        expect(page.get_by_role("alert").filter(has_text=f"Resolved: {work['resolution']}.")).to_be_visible()
        expect(page.locator(f"section[aria-labelledby='conflict-{outcome.pk}']")).to_have_count(0)
        expect(sections).to_have_count(min(left, 25))
    expect(page.get_by_text("No open conflicts at this stage.")).to_be_visible()
    shot(page, "conflicts-resolved")


def _full_text_by_page(page, review, works: Works, who: str, expected: int, pdfs, shot, shots: tuple[str, str]):
    """This author's full-text queue: attach the PDF where it is missing (author1), mark the one report that could
    not be found, and decide each as the key says (include with the i key; exclude with a reason)."""
    page.goto(f"/reviews/{review.pk}/screening/{FT}/")
    pane = page.locator("#record-pane article.screen-record")
    progress = page.locator("#progress")
    decided = 0
    while decided < expected:
        record_id = int(pane.get_attribute("data-record") or 0)
        work = works.of_record(record_id)
        fulltext = work["fulltext"]
        panel = page.locator("#fulltext-panel")
        if fulltext["decision"] == "not_retrieved":
            panel.get_by_label("Why it was not retrieved").fill("Library request failed; authors did not reply.")
            panel.get_by_role("button", name="Could not retrieve it").click()
            expect(page.get_by_role("alert").filter(has_text="Marked as not retrieved")).to_be_visible()
            shot(page, shots[1])
            continue
        if who == "author1":
            path = pdfs / f"{work['id']}.pdf"
            path.write_bytes(minimal_pdf(works.primary(work["id"]).title))
            panel.get_by_label(re.compile("Attach the PDF")).set_input_files(str(path))
            panel.get_by_role("button", name="Upload").click()
            expect(page.get_by_role("alert").filter(has_text="PDF attached.")).to_be_visible()
        # The page after the upload (the previous upload's page says "PDF attached." too): this record's PDF.
        expect(panel).to_contain_text(f"({work['id']}.pdf)")
        expect(panel.get_by_role("link", name="Open the PDF")).to_be_visible()
        if decided == 0:
            shot(page, shots[0])
        page.wait_for_load_state(
            "load"
        )  # after an upload the page is new: its key handler comes with a deferred script
        if fulltext["decision"] == "include":
            page.keyboard.press("i")
        else:
            page.locator("#reason").select_option(fulltext["reason"])
            page.get_by_role("button", name="Exclude", exact=True).click()
        decided += 1
        expect(progress).to_contain_text(f"You: {decided} decided")
    expect(page.get_by_text("Nothing left for you at this stage.")).to_be_visible()


def test_the_team_imports_screens_and_reaches_full_text(new_page, demo_users, key, tasks, shot, tmp_path):
    expected = key["expected"]
    author1 = new_page()
    login(author1, "author1")
    expect(author1.get_by_text("You are not a member of any review yet")).to_be_visible()
    shot(author1, "my-reviews-empty")

    # 1. The review, its team, the five searches and their duplicates.
    review = _create_review(author1, shot)
    _add_members(author1, shot)
    _exclusion_reasons(author1, shot)
    for entry in key["files"]:
        _import(author1, review, entry, shot)
    _settle_queued_duplicates(author1, review, key, shot)
    author1.get_by_role("link", name="Records", exact=True).click()
    expect(author1.get_by_text(f"{expected['records']} records", exact=True)).to_be_visible()
    author1.get_by_label("Duplicates").select_option("exclude")
    author1.get_by_role("button", name="Filter").click()
    shot(author1, "records-without-duplicates")
    expect(author1.get_by_text(f"{expected['screened']} records", exact=True)).to_be_visible()

    # 2. Title and abstract: every work is one record to screen now.
    works = works_of(review, key)
    primaries = {w["id"]: works.primary(w["id"]) for w in key["works"]}
    assert len({r.pk for r in primaries.values()}) == expected["screened"]
    agreed_excludes = [
        w["id"] for w in key["works"] if w["screening"]["author1"] == w["screening"]["author2"] == "exclude"
    ]
    by_service = agreed_excludes[AGREED_EXCLUDES_BY_KEYBOARD:]
    for who in ("author1", "author2"):
        for work_id in by_service:
            screening.decision_create(
                user=demo_users[who], review_id=review.pk, record_id=primaries[work_id].pk, stage=TA,
                decision="exclude",
            )  # fmt: skip
    by_keyboard = expected["screened"] - len(by_service)
    author2 = new_page()
    login(author2, "author2")
    pace = [
        _screen_by_keys(author1, review, works, "author1", by_keyboard, shot, "screening-author1"),
        _screen_by_keys(author2, review, works, "author2", by_keyboard, shot, "screening-author2"),
    ]
    shot(author2, "screening-author2-done")
    assert _wait_outcomes(review, TA, expected["screened"]) == expected["screened"]
    conflicts = Outcome.objects.filter(review=review, stage=TA, status="conflict").count()
    assert conflicts == expected["conflicts"]

    editor = new_page()
    login(editor, "editor")
    editor.goto(f"/reviews/{review.pk}/")
    _resolve_conflicts(editor, review, works, key, shot)

    # 3. Full text: author1 attaches the PDFs as the records come, both decide; one report is not found.
    sought = expected["fulltext_assessed"] + expected["not_retrieved"]
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    _full_text_by_page(author1, review, works, "author1", expected["fulltext_assessed"], pdfs, shot,
                       ("full-text-author1", "full-text-not-retrieved"))  # fmt: skip
    _full_text_by_page(author2, review, works, "author2", expected["fulltext_assessed"], pdfs, shot,
                       ("full-text-author2", ""))  # fmt: skip
    _wait_outcomes(review, FT, expected["fulltext_assessed"])
    assert not Outcome.objects.filter(review=review, stage=FT, status="conflict").exists()

    # The editor makes the studies (a trial's article and registry record are one study), then reads PRISMA.
    make_studies(editor, review, included_reports(review, key), shot)
    editor.get_by_role("link", name="PRISMA", exact=True).click()
    svg = editor.locator(".prisma-svg > svg")
    expect(svg).to_be_visible()
    shot(editor, "prisma")
    description = svg.locator("desc")
    databases = sum(f["records"] for f in key["files"] if not _register(f))
    for text in (
        f"records identified from databases, n = {databases}",
        f"and from registers, n = {expected['records'] - databases}",
        f"duplicate records, n = {expected['duplicates_removed']}",
        f"records screened, n = {expected['screened']}",
        f"records excluded, n = {expected['ta_excluded']}",
        f"Reports sought for retrieval, n = {sought}",
        f"reports not retrieved, n = {expected['not_retrieved']}",
        f"Reports assessed for eligibility, n = {expected['fulltext_assessed']}",
        f"reports excluded, n = {expected['fulltext_excluded']}",
        f"studies included in review, n = {expected['included_studies']}",
        f"reports of included studies, n = {expected['included_reports']}",
    ):
        expect(description).to_contain_text(text)
    for reason, count in Counter(
        w["fulltext"]["reason"] for w in key["works"] if (w["fulltext"] or {}).get("decision") == "exclude"
    ).items():
        expect(description).to_contain_text(f"{reason}, n = {count}")
    expect(editor.get_by_text("Not yet adding up")).to_have_count(0)  # Sieve's own consistency checks pass
    print(f"keyboard screening: {pace[0]:.2f} s and {pace[1]:.2f} s per record ({by_keyboard} records each)")
