"""Outcome summaries in a real browser: the editor opens the seed review's hallucinations analysis (summarised by
the worker from the consensus), reads the pooled risk ratio and the forest plot, then judges pooling
inappropriate; the page says it is out of date, the worker recomputes, and the summary and the forest plot
update themselves without a reload: each study's effect, no pooled diamond, the reason as the first note."""

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from extraction.models import Study
from extraction.services import extracting as X
from extraction.services import studies as S
from reviews.models import Membership, Review
from synthesis.models import Analysis
from tests.browser.test_reviews_flow import PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REASON = "Clinical heterogeneity: intrathecal, intravenous and subcutaneous ketamine at different doses."


def _shot(page, name: str) -> None:
    folder = os.environ.get("SIEVE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"analysis-{name}.png"), full_page=True)


def wait_current(analysis_id: int, timeout: float = 30) -> Analysis:
    deadline = time.monotonic() + timeout
    while (analysis := Analysis.objects.get(pk=analysis_id)).status != "current":
        assert time.monotonic() < deadline, "the worker did not summarise the consensus data in time"
        time.sleep(0.2)
    return analysis


@pytest.fixture
def summarised(django_user_model, tasks):
    users = {n: django_user_model.objects.create_user(n, f"{n}@example.org", PASSWORD) for n in ("alice", "bob")}
    review = Review.objects.create(
        title="Ketamine as an adjuvant to opioids for cancer pain", created_by=users["alice"]
    )
    Membership.objects.create(review=review, user=users["alice"], role="owner")
    Membership.objects.create(review=review, user=users["bob"], role="editor")
    bob, rid = users["bob"], review.pk
    comparison = S.comparison_create(
        user=bob, review_id=rid, name="Ketamine versus placebo", intervention="Ketamine + opioid", control="Opioid"
    )
    outcome = S.outcome_create(user=bob, review_id=rid, name="Hallucinations", type="dichotomous",
                               direction="lower_is_better")  # fmt: skip
    rows = {
        "Yang 1996": [("", 2, 20, 0, 20)],
        "Mercadante 2000": [("0.25 mg/kg", 1, 10, 0, 10), ("0.5 mg/kg", 4, 10, 0, 10)],
        "Hardy 2012": [("", 8, 93, 3, 92)],
    }
    for label, data in rows.items():
        study = S.study_create(user=bob, review_id=rid, label=label, design=Study.Design.CROSSOVER)
        consensus = X.consensus_start(user=bob, review_id=rid, study_id=study.pk)
        X.outcome_data_save(
            user=bob, review_id=rid, extraction_id=consensus.pk, version=None,
            rows=[{"comparison": comparison.pk, "outcome": outcome.pk, "subgroup": subgroup, "events_1": e1,
                   "total_1": n1, "events_2": e2, "total_2": n2} for subgroup, e1, n1, e2, n2 in data],
        )  # fmt: skip
    analysis = Analysis.objects.get(review=review)
    return review, wait_current(analysis.pk)


def test_the_editor_judges_pooling_inappropriate_and_the_summary_follows(new_page, summarised):
    review, analysis = summarised
    assert analysis.result["studies"] == 4 and analysis.result["estimate"] is not None
    page = new_page()
    login(page, "bob")
    page.goto(f"/reviews/{review.pk}/analyses/")
    page.get_by_role("link", name=re.compile("Hallucinations")).first.click()
    expect(page.get_by_role("heading", name="Hallucinations")).to_be_visible()
    forest = page.get_by_role("img", name=re.compile("Forest plot"))
    expect(forest).to_be_visible()
    svg = page.request.get(forest.get_attribute("src") or "").text()
    assert 'id="pooled-diamond"' in svg and "Mercadante 2000" in svg
    _shot(page, "pooled")

    page.get_by_label("Pool the studies").uncheck()
    page.get_by_label("Why pooling is not appropriate").fill(REASON)
    page.get_by_role("button", name="Save and recompute").click()
    # The page says so while the worker recomputes, then shows the new summary by itself.
    expect(page.get_by_text(f"Not pooled: {REASON}").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Out of date")).to_have_count(0)
    _shot(page, "not-pooled")
    analysis.refresh_from_db()
    assert (analysis.status, analysis.pooled, analysis.result["estimate"]) == ("current", False, None)
    forest = page.get_by_role("img", name=re.compile("Forest plot"))
    svg = page.request.get(forest.get_attribute("src") or "").text()
    assert 'id="pooled-diamond"' not in svg and "Not pooled" in svg
    assert all(study["effect"] is not None for study in analysis.result["per_study"])
