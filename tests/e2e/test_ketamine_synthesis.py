"""The ketamine demo after full text, played in a real browser to the Summary of Findings.

The editor makes the three studies from the included records (Hardy 2012 with its journal article and its
registry record), sets their designs and arms, and the review's comparison and outcomes; both authors extract
the three studies on the extraction pages, disagreeing on two values, which the editor settles; both assess the
risk of bias of each, disagreeing on one domain, which the editor settles too; the outcome summaries and forest
plots appear; the editor settles GRADE for hallucinations and downloads the Summary of Findings.

It starts where test_ketamine_review.py ends, from the state core.demo.complete builds through the services
(the first test already plays the screening on the pages)."""

import io
import re
from typing import Any

import pytest
from docx import Document
from playwright.sync_api import expect

from core.demo.complete import AUTHOR2_DIFFERS, AUTHOR2_VALUES, COMPARISON, CONTINUOUS, DICHOTOMOUS, OUTCOMES, TRIALS
from extraction.models import Comparison, Discrepancy, Outcome, Study
from grading.models import ROB1_DOMAINS, RobAssessment, RobDiscrepancy
from synthesis.models import Analysis
from tests.browser.test_analysis_flow import wait_current
from tests.browser.test_extraction_flow import put, wait_for
from tests.browser.test_reviews_flow import login
from tests.e2e.conftest import field as label_of
from tests.e2e.conftest import included_reports, make_studies

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_SHOT = 30  # after test_ketamine_review.py's pictures
# The demo's trials, comparison and outcomes are core.demo.complete's (what `load_demo --complete` builds through
# the services); here the team enters them on the pages. Two outcomes are enough to show every kind of page.
EXTRACTED = ("pain", "hallucinations")
ROB_DISAGREEMENT = ("Yang 1996", "allocation_concealment", "high")  # author2's one different judgement


@pytest.fixture
def after_full_text(demo_users, key, tasks) -> tuple[Any, dict[str, list[int]]]:
    """The demo review as core.demo.complete leaves it after full text; the included records of each trial."""
    from core.demo.complete import complete
    from core.demo.load import load, tasks_inline

    # As `manage.py load_demo` does: the tasks the services enqueue run here, not also in the `tasks` fixture's
    # worker, which would process each import at the same time as load's own call (import_process does not
    # guard against two concurrent runs of one import).
    with tasks_inline():
        review = load(users=demo_users, log=lambda _line: None)
        complete(review, users=demo_users, until="fulltext", log=lambda _line: None)
    included = included_reports(review, key)
    assert sorted(included) == sorted(TRIALS), included
    return review, included


def _designs_and_arms(page, review, studies: dict[str, Study], shot) -> None:
    for label, trial in TRIALS.items():
        page.goto(f"/reviews/{review.pk}/studies/{studies[label].pk}/")
        if trial.design != "parallel":
            page.get_by_label("Design").first.select_option(trial.design)
            page.get_by_role("button", name="Save details").click()
            expect(page.locator("h2").filter(has_text=label)).to_contain_text("Crossover")
        for name, intervention, dose, randomised, completed in trial.arms:
            row = page.locator("#arms tbody tr").last
            row.get_by_label("Name", exact=True).fill(name)
            row.get_by_label("Intervention").fill(intervention)
            row.get_by_label("Dose").fill(dose)
            row.get_by_label("Route").fill(trial.route)
            row.get_by_label("Randomised").fill(str(randomised))
            row.get_by_label("Completed").fill(str(completed))
            page.get_by_role("button", name="Add arm").click()
            expect(page.locator("#arms")).to_contain_text(name)
        if label == "Mercadante 2000":
            shot(page, "study-mercadante")


def _comparison_and_outcomes(page, review, shot) -> None:
    page.goto(f"/reviews/{review.pk}/outcomes/")
    form = page.get_by_role("form", name="Add a comparison")
    for name in ("name", "intervention", "control"):
        form.get_by_label(label_of(name.capitalize())).fill(COMPARISON[name])
    form.get_by_role("button", name="Add comparison").click()
    expect(page.locator("#comparisons")).to_contain_text(COMPARISON["name"])
    for key in EXTRACTED:
        outcome = OUTCOMES[key]
        form = page.get_by_role("form", name="Add an outcome")
        form.get_by_label(label_of("Name")).fill(outcome["name"])
        form.get_by_label(label_of("Type")).select_option(outcome["type"])
        form.get_by_label(label_of("Direction")).select_option(outcome["direction"])
        form.get_by_label(label_of("Unit")).fill(outcome.get("unit", ""))
        form.get_by_label(label_of("Timepoint")).fill(outcome["timepoint"])
        form.get_by_role("button", name="Add outcome").click()
        expect(page.locator("#outcomes")).to_contain_text(outcome["name"])
    shot(page, "outcomes")


def _extract(page, review, study: Study, who: str, cells: dict[str, str]) -> None:
    """One author's extraction of one study on its page, each value saved as they leave the field, as the demo's
    key gives it (author2's differences included); then "Mark complete"."""
    trial = TRIALS[study.label]
    page.goto(f"/reviews/{review.pk}/studies/")
    page.get_by_role("button", name=f"Extract {study.label}", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"Extraction of {study.label}"))).to_be_visible()
    # The click navigates: wait for the deferred scripts (htmx) before a change that only they save.
    page.wait_for_load_state("load")
    values = dict(trial.values) | (AUTHOR2_VALUES.get(study.label, {}) if who == "author2" else {})
    for key, value in values.items():
        put(page, f"f-{key}", value)
    arms = dict(study.arms.values_list("name", "pk"))
    for name, intervention, _dose, randomised, completed in trial.arms:
        put(page, f"f-participants_randomised-A{arms[name]}", str(randomised))
        put(page, f"f-participants_completed-A{arms[name]}", str(completed))
        put(page, f"f-interventions_description-A{arms[name]}", intervention)
    for key in EXTRACTED:
        names = DICHOTOMOUS if OUTCOMES[key]["type"] == "dichotomous" else CONTINUOUS
        for subgroup, numbers in trial.data.get(key, []):
            if who == "author2":
                numbers = AUTHOR2_DIFFERS.get((study.label, key, subgroup), numbers)
            if not subgroup:
                for name, number in zip(names, numbers, strict=True):
                    put(page, f"d-{cells[key]}-{name}", str(number))
                continue
            # Each dose against the shared placebo: a row of its own.
            page.locator(f"#sg-{cells[key]}").fill(subgroup)
            page.locator(f"#sg-{cells[key]}").press("Enter")
            row = page.locator(f"#cell-{cells[key]} tr:has(th:text-is('{subgroup}'))")
            expect(row).to_be_visible()
            for name, number in zip(names, numbers, strict=True):
                field = row.locator(f"input[name$='-{name}']")
                field.fill(str(number))
                field.press("Tab")
                expect(row.locator(".x-status").filter(has_text="Saved").first).to_be_visible()
    page.get_by_role("button", name="Mark complete").click()
    expect(page.locator("#extraction-head")).to_contain_text("Complete")


def _assess(page, review, label: str, who: str) -> None:
    """RoB 1, as the demo judges it: every domain unclear (nothing reported to judge by); author2 differs once."""
    page.goto(f"/reviews/{review.pk}/risk-of-bias/")
    page.get_by_role("button", name=f"Assess {label}", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"Risk of bias of {label}"))).to_be_visible()
    # The click navigates: wait for the deferred scripts (htmx) before a change that only they save.
    page.wait_for_load_state("load")
    for domain in (*ROB1_DOMAINS, "overall"):
        judgement = "unclear"
        if who == "author2" and (label, domain) == ROB_DISAGREEMENT[:2]:
            judgement = ROB_DISAGREEMENT[2]
        if domain == "overall" and page.locator("input[name='overall']:checked").count():
            continue  # the overall judgement the domains propose (high where one domain is high), already chosen
        page.locator(f"label[for='{domain}-j-{judgement}']").click()
        expect(page.locator(f"#{domain}-status")).to_have_text("Saved")
    page.get_by_role("button", name="Mark complete").click()
    expect(page.locator("#rob-head")).to_contain_text("Complete")


def test_the_team_extracts_assesses_and_grades(new_page, after_full_text, shot):
    review, included = after_full_text
    editor = new_page()
    login(editor, "editor")
    studies = make_studies(editor, review, included, shot)
    assert sorted(studies) == sorted(TRIALS)
    _designs_and_arms(editor, review, studies, shot)
    _comparison_and_outcomes(editor, review, shot)
    comparison = Comparison.objects.get(review=review)
    outcomes = {key: Outcome.objects.get(review=review, name=OUTCOMES[key]["name"]) for key in EXTRACTED}
    cells = {key: f"c{comparison.pk}-o{outcome.pk}" for key, outcome in outcomes.items()}

    # Both authors extract every study; author2 counts 3 hallucinations at Mercadante 2000's higher dose where
    # author1 counts 4, and words Hardy 2012's condition differently: the worker flags exactly those two.
    author1, author2 = new_page(), new_page()
    login(author1, "author1")
    login(author2, "author2")
    for who, page in (("author1", author1), ("author2", author2)):
        for study in studies.values():
            _extract(page, review, study, who, cells)
        shot(page, f"extraction-{who}")
    wait_for(lambda: Discrepancy.objects.filter(review=review).count() == 2)
    flagged = {d.study.label: d for d in Discrepancy.objects.filter(review=review).select_related("study")}
    assert set(flagged) == {"Mercadante 2000", "Hardy 2012"}

    editor.goto(f"/reviews/{review.pk}/studies/")
    editor.get_by_role("link", name="2 open discrepancies to settle").click()
    events = editor.locator(f"#d-{flagged['Mercadante 2000'].pk}")
    expect(events).to_contain_text("author2")
    shot(editor, "consensus")
    events.get_by_role("button", name="Use author1's: 4").click()
    expect(events).to_contain_text("Resolved")
    condition = editor.locator(f"#d-{flagged['Hardy 2012'].pk}")
    condition.get_by_label(re.compile("Another value")).fill("Refractory cancer pain, moderate to severe")
    condition.get_by_label(re.compile("Another value")).press("Enter")
    expect(condition).to_contain_text("Resolved")
    shot(editor, "consensus-settled")

    # The outcome summaries, computed by the worker from the consensus, with their forest plots.
    for analysis in Analysis.objects.filter(review=review):
        wait_current(analysis.pk, timeout=60)
    editor.get_by_role("link", name="Analyses", exact=True).click()
    for key in EXTRACTED:
        expect(editor.get_by_role("link", name=re.compile(OUTCOMES[key]["name"])).first).to_be_visible()
    shot(editor, "analyses")
    editor.get_by_role("link", name=re.compile("Hallucinations")).first.click()
    forest = editor.get_by_role("img", name=re.compile("Forest plot"))
    expect(forest).to_be_visible()
    svg = editor.request.get(forest.get_attribute("src") or "").text()
    for label, trial in TRIALS.items():
        assert (label in svg) == ("hallucinations" in trial.data), f"{label} in the forest plot: {label in svg}"
    shot(editor, "analysis-hallucinations")

    # Risk of bias: the owner chooses RoB 1; each author assesses each trial; they differ on one domain.
    author1.goto(f"/reviews/{review.pk}/risk-of-bias/settings/")
    author1.locator("input[name='tool'][value='rob1']").check()
    author1.get_by_role("button", name="Save").click()
    expect(author1.get_by_role("alert").filter(has_text="Risk-of-bias settings saved.")).to_be_visible()
    for who, page in (("author1", author1), ("author2", author2)):
        for label in TRIALS:
            _assess(page, review, label, who)
    shot(author2, "rob-author2")
    wait_for(lambda: RobDiscrepancy.objects.filter(review=review).exists())
    assert {d.domain for d in RobDiscrepancy.objects.filter(review=review)} >= {ROB_DISAGREEMENT[1]}
    editor.goto(f"/reviews/{review.pk}/risk-of-bias/consensus/")
    shot(editor, "rob-consensus")
    for discrepancy in RobDiscrepancy.objects.filter(review=review):
        section = editor.locator(f"#rd-{discrepancy.pk}")
        section.get_by_role("button", name=re.compile("Use author1's")).click()
        expect(section).to_contain_text("Resolved")
    expect(editor.locator("#rob-open-count")).to_have_text("0")
    assert RobAssessment.objects.filter(review=review, assessor__isnull=True, status="complete").count() == 3
    editor.goto(f"/reviews/{review.pk}/risk-of-bias/")
    expect(editor.locator("figure").first.locator("figcaption")).to_contain_text("3 studies")
    shot(editor, "rob-overview")

    # GRADE for hallucinations: the editor takes the proposals, saves, signs off; the Summary of Findings follows.
    editor.get_by_role("link", name="Certainty", exact=True).click()
    editor.get_by_role("row").filter(has_text="Hallucinations").get_by_role("link", name="Rate").click()
    expect(editor.get_by_role("heading", name=re.compile("Hallucinations"))).to_be_visible()
    proposals = editor.get_by_role("button", name="Use the proposal")
    assert proposals.count() > 0
    for button in proposals.all():
        button.click()
    level = editor.locator("#level-label").inner_text()
    shot(editor, "certainty-proposals")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.get_by_text("Certainty of Hallucinations saved.")).to_be_visible()
    editor.get_by_role("button", name=f"Sign off {level.lower()} certainty").click()
    expect(editor.get_by_text(f"Certainty signed off: {level}.")).to_be_visible()
    shot(editor, "certainty-signed-off")
    editor.get_by_role("link", name="Summary of findings").first.click()
    row = editor.locator("table").first.get_by_role("row").filter(has_text="Hallucinations")
    expect(row).to_contain_text(level)
    shot(editor, "summary-of-findings")
    with editor.expect_download() as download_info:
        editor.get_by_role("link", name="Word (DOCX)").click()
    document = Document(io.BytesIO(open(download_info.value.path(), "rb").read()))
    cells_text = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert any("Hallucinations" in text for text in cells_text) and any(level in text for text in cells_text)
