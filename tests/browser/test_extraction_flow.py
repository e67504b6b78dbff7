"""Dual extraction of the ketamine review in a real browser: the editor enters the intravenous-bolus crossover
(two doses against placebo) with its arms; two reviewers extract the three trials independently with the
keyboard (each field saves as they leave it): the intrathecal crossover and the bolus crossover as paired
effects and per-dose events, the parallel subcutaneous trial as events per arm; they disagree on two values;
the worker flags exactly those; the editor settles them side by side; the consensus holds what analyses use.
Blinding holds on the reviewers' pages throughout."""

import os
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from extraction.models import Discrepancy, Extraction, FieldValue, OutcomeData, Study
from extraction.services import studies as S
from extraction.services.extracting import consensus_for
from extraction.services.forms import current_form
from reviews.models import Membership, Review
from tests.browser.test_reviews_flow import PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name: str) -> None:
    folder = os.environ.get("SIEVE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"extraction-{name}.png"), full_page=True)


@pytest.fixture
def team(django_user_model):
    users = {
        name: django_user_model.objects.create_user(name, f"{name}@example.org", PASSWORD)
        for name in ("alice", "bob", "carol", "erin")
    }
    review = Review.objects.create(
        title="Ketamine as an adjuvant to opioids for cancer pain", created_by=users["alice"]
    )
    for name, role in (("alice", "owner"), ("bob", "editor"), ("carol", "reviewer"), ("erin", "reviewer")):
        Membership.objects.create(review=review, user=users[name], role=role)
    bob, rid = users["bob"], review.pk
    yang = S.study_create(user=bob, review_id=rid, label="Yang 1996", design=Study.Design.CROSSOVER)
    for name in ("Ketamine", "Control"):
        S.arm_create(user=bob, review_id=rid, study_id=yang.pk, name=name, route="Intrathecal", randomised=20,
                     completed=20)  # fmt: skip
    hardy = S.study_create(user=bob, review_id=rid, label="Hardy 2012", design=Study.Design.PARALLEL)
    for name, randomised, completed in (("Ketamine", 93, 75), ("Placebo", 92, 74)):
        S.arm_create(user=bob, review_id=rid, study_id=hardy.pk, name=name, route="Subcutaneous",
                     randomised=randomised, completed=completed)  # fmt: skip
    comparison = S.comparison_create(
        user=bob, review_id=rid, name="Ketamine versus placebo", intervention="Ketamine + opioid", control="Opioid"
    )
    hallucinations = S.outcome_create(
        user=bob, review_id=rid, name="Hallucinations", type="dichotomous", direction="lower_is_better"
    )
    pain = S.outcome_create(user=bob, review_id=rid, name="Pain intensity", type="giv", direction="lower_is_better")
    return review, users, comparison, hallucinations, pain


def put(page, dom_id: str, value: str) -> None:
    """Type a value and leave the field (Tab), as a reviewer does; wait for its "Saved"."""
    field = page.locator(f"#{dom_id}")
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)
    field.press("Tab")
    expect(page.locator(f"#st-{dom_id}")).to_have_text(re.compile("Saved"))


def arms(study: Study) -> dict[str, int]:
    return dict(study.arms.values_list("name", "pk"))


def extract(page, review, study: Study, comparison, hallucinations, pain, *, condition: str, events_high: str) -> None:
    """One reviewer's extraction of one study, from the Studies page to "Mark complete"."""
    page.goto(f"/reviews/{review.pk}/studies/")
    page.get_by_role("button", name=f"Extract {study.label}", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(f"Extraction of {study.label}"))).to_be_visible()
    design = "Crossover RCT" if study.design == Study.Design.CROSSOVER else "Parallel RCT"
    put(page, "f-methods_design", design)
    put(page, "f-participants_condition", condition)
    put(page, "f-outcomes_reported", "Pain intensity; adverse events")
    for name, arm_id in arms(study).items():
        arm = study.arms.get(pk=arm_id)
        put(page, f"f-participants_randomised-A{arm_id}", str(arm.randomised))
        put(page, f"f-participants_completed-A{arm_id}", str(arm.completed))
        put(page, f"f-interventions_description-A{arm_id}", name)
    cell = f"c{comparison.pk}-o{hallucinations.pk}"
    if study.label == "Mercadante 2000":
        # Two doses against the shared placebo: one row per dose.
        for dose, events in (("0.25 mg/kg", "1"), ("0.5 mg/kg", events_high)):
            page.locator(f"#sg-{cell}").fill(dose)
            page.locator(f"#sg-{cell}").press("Enter")
            row = page.locator(f"tr:has(th:text-is('{dose}'))")
            expect(row).to_be_visible()
            for name, value in (("events_1", events), ("total_1", "10"), ("events_2", "0"), ("total_2", "10")):
                number = row.locator(f"input[name$='-{name}']")
                number.fill(value)
                number.press("Tab")
                expect(row.locator(".x-status").filter(has_text="Saved").first).to_be_visible()
    elif study.label == "Hardy 2012":
        for name, value in (("events_1", "4"), ("total_1", "93"), ("events_2", "1"), ("total_2", "92")):
            put(page, f"d-{cell}-{name}", value)
    if study.design == Study.Design.CROSSOVER:
        put(page, f"d-c{comparison.pk}-o{pain.pk}-estimate", "-1.1" if study.label == "Yang 1996" else "-2.1")
        put(page, f"d-c{comparison.pk}-o{pain.pk}-se", "0.45")
    page.get_by_role("button", name="Mark complete").click()
    expect(page.locator("#extraction-head")).to_contain_text("Complete")


def wait_for(condition, timeout: float = 30) -> None:
    # The worker compares once both extractions are complete: eagerly on the embedded default, a moment later with
    # a real worker (the `tasks` fixture's).
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker did not compare the extractions in time"
        time.sleep(0.2)


def test_two_reviewers_extract_the_seed_review_and_the_editor_settles(new_page, team, tasks):
    review, users, comparison, hallucinations, pain = team

    # The editor enters the bolus crossover: a study by hand, then its three arms.
    bob = new_page()
    login(bob, "bob")
    bob.goto(f"/reviews/{review.pk}/studies/")
    bob.get_by_label("Label", exact=True).fill("Mercadante 2000")
    bob.get_by_label("Design").select_option("crossover")
    bob.get_by_role("button", name="Create study").click()
    expect(bob.get_by_role("heading", name=re.compile("Mercadante 2000"))).to_be_visible()
    for name, dose in (("Ketamine 0.25", "0.25 mg/kg"), ("Ketamine 0.5", "0.5 mg/kg"), ("Placebo", "")):
        new_arm = bob.locator("#arms tbody tr").last
        new_arm.get_by_label("Name", exact=True).fill(name)
        new_arm.get_by_label("Dose").fill(dose)
        new_arm.get_by_label("Route").fill("Intravenous")
        new_arm.get_by_label("Randomised").fill("10")
        new_arm.get_by_label("Completed").fill("10")
        bob.get_by_role("button", name="Add arm").click()
        expect(bob.locator("#arms")).to_contain_text(name)
    _shot(bob, "study")
    mercadante = Study.objects.get(review=review, label="Mercadante 2000")
    assert mercadante.design == "crossover"
    assert list(mercadante.arms.values_list("name", "dose", "randomised")) == [
        ("Ketamine 0.25", "0.25 mg/kg", 10), ("Ketamine 0.5", "0.5 mg/kg", 10), ("Placebo", "", 10)
    ]  # fmt: skip

    studies = list(Study.objects.filter(review=review).order_by("label"))
    carol, erin = new_page(), new_page()
    login(carol, "carol")
    login(erin, "erin")
    for study in studies:
        extract(carol, review, study, comparison, hallucinations, pain, condition="Refractory cancer pain",
                events_high="4")  # fmt: skip
    _shot(carol, "carol-extraction")
    for study in studies:
        # erin writes the condition differently only in case and spacing (no discrepancy) except for Hardy 2012,
        # and counts 3 hallucinations at the higher dose where carol counted 4.
        condition = "Cancer pain, moderate to severe" if study.label == "Hardy 2012" else " refractory CANCER pain "
        extract(erin, review, study, comparison, hallucinations, pain, condition=condition, events_high="3")

    # Blinding: erin's values are nowhere on carol's pages; the consensus is not hers to see.
    carol.goto(f"/reviews/{review.pk}/studies/")
    carol_extraction = Extraction.objects.get(reviewer=users["carol"], study=mercadante)
    carol.goto(f"/reviews/{review.pk}/extractions/{carol_extraction.pk}/")
    expect(carol.locator("body")).not_to_contain_text("moderate to severe")
    response = carol.goto(f"/reviews/{review.pk}/consensus/")
    assert response is not None and response.status == 403

    wait_for(lambda: Discrepancy.objects.filter(review=review).count() == 2)
    flagged = {d.study.label: d for d in Discrepancy.objects.filter(review=review).select_related("study")}
    assert set(flagged) == {"Hardy 2012", "Mercadante 2000"}
    assert flagged["Mercadante 2000"].values == {"carol": 4, "erin": 3}
    assert flagged["Hardy 2012"].values == {
        "carol": "Refractory cancer pain",
        "erin": "Cancer pain, moderate to severe",
    }

    # The editor settles both side by side: one reviewer's value, and a value of his own.
    bob.goto(f"/reviews/{review.pk}/consensus/")
    _shot(bob, "consensus")
    events = bob.locator(f"#d-{flagged['Mercadante 2000'].pk}")
    events.get_by_role("button", name="Use carol's: 4").click()
    expect(events).to_contain_text("Resolved")
    condition = bob.locator(f"#d-{flagged['Hardy 2012'].pk}")
    condition.get_by_label(re.compile("Another value")).fill("Refractory cancer pain, moderate to severe")
    condition.get_by_label(re.compile("Another value")).press("Enter")
    expect(condition).to_contain_text("Resolved")
    _shot(bob, "consensus-settled")

    # What analyses read: the consensus of each study.
    form = current_form(review)
    low_dose, high_dose = (
        OutcomeData.objects.get(extraction=consensus_for(mercadante, form), outcome=hallucinations, subgroup=dose)
        for dose in ("0.25 mg/kg", "0.5 mg/kg")
    )
    assert (low_dose.events_1, low_dose.total_1, low_dose.events_2, low_dose.total_2) == (1, 10, 0, 10)
    assert (high_dose.events_1, high_dose.total_1, high_dose.events_2, high_dose.total_2) == (4, 10, 0, 10)
    yang = Study.objects.get(review=review, label="Yang 1996")
    paired = OutcomeData.objects.get(extraction=consensus_for(yang, form), outcome=pain)
    assert (paired.estimate, paired.se) == (Decimal("-1.1"), Decimal("0.45"))
    hardy = Study.objects.get(review=review, label="Hardy 2012")
    assert (
        FieldValue.objects.get(extraction=consensus_for(hardy, form), field__key="participants_condition").value
        == "Refractory cancer pain, moderate to severe"
    )
    assert not Discrepancy.objects.filter(review=review, status="open").exists()
