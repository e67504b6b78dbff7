"""Certainty and the Summary of Findings in a real browser: the editor opens the seed review's pain intensity (three
trials, not pooled, risk of bias unclear by consensus), reads the proposals beside each domain, takes the two the
data support with "Use the proposal" (the level at the top follows: very low), saves, signs off, and finds the
outcome very low, with its footnotes, in the Summary of Findings, whose Word download opens."""

import io
import re

import pytest
from docx import Document
from playwright.sync_api import expect

from extraction.models import Study
from extraction.services import extracting as X
from extraction.services import studies as S
from grading import services as rob_services
from grading.models import ROB1_DOMAINS, CertaintyRating
from reviews.models import Membership, Review
from synthesis import services as synthesis_services
from synthesis.models import Analysis
from tests.browser.test_analysis_flow import _shot, wait_current
from tests.browser.test_reviews_flow import PASSWORD, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
REASON = "Clinical heterogeneity: intrathecal, intravenous and subcutaneous ketamine at different doses."


@pytest.fixture
def graded_review(django_user_model, tasks):
    users = {n: django_user_model.objects.create_user(n, f"{n}@example.org", PASSWORD) for n in ("alice", "bob")}
    review = Review.objects.create(
        title="Ketamine as an adjuvant to opioids for cancer pain", created_by=users["alice"],
        population="Adults with refractory cancer pain",
    )  # fmt: skip
    Membership.objects.create(review=review, user=users["alice"], role="owner")
    Membership.objects.create(review=review, user=users["bob"], role="editor")
    bob, rid = users["bob"], review.pk
    comparison = S.comparison_create(
        user=bob, review_id=rid, name="Ketamine versus placebo", intervention="Ketamine + opioid", control="Opioid"
    )
    pain = S.outcome_create(user=bob, review_id=rid, name="Pain intensity", type="continuous", unit="0-10",
                            direction="lower_is_better", timepoint="End of treatment")  # fmt: skip
    rows = {
        "Yang 1996": ("crossover", [("", 3.0, 2.0, 20, 3.9, 2.1, 20)]),
        "Mercadante 2000": ("crossover", [("0.25 mg/kg", 4.2, 2.0, 10, 5.0, 2.2, 10),
                                          ("0.5 mg/kg", 3.6, 2.1, 10, 5.0, 2.2, 10)]),
        "Hardy 2012": ("parallel", [("", 3.9, 2.2, 75, 4.1, 2.3, 74)]),
    }  # fmt: skip
    settings = rob_services.settings_for(review)
    rob_services.settings_update(user=users["alice"], review_id=rid, version=settings.version, tool="rob1")
    for label, (design, data) in rows.items():
        study = S.study_create(user=bob, review_id=rid, label=label, design=design)
        consensus = X.consensus_start(user=bob, review_id=rid, study_id=study.pk)
        X.outcome_data_save(
            user=bob, review_id=rid, extraction_id=consensus.pk, version=None,
            rows=[{"comparison": comparison.pk, "outcome": pain.pk, "subgroup": g, "mean_1": m1, "sd_1": s1,
                   "total_1": n1, "mean_2": m2, "sd_2": s2, "total_2": n2} for g, m1, s1, n1, m2, s2, n2 in data],
        )  # fmt: skip
        a = rob_services.consensus_start(user=bob, review_id=rid, study_id=study.pk)
        for domain in ROB1_DOMAINS:
            a.refresh_from_db()
            rob_services.judgement_save(user=bob, review_id=rid, assessment_id=a.pk, version=a.version,
                                        domain=domain, judgement="unclear")  # fmt: skip
        a.refresh_from_db()
        rob_services.overall_save(user=bob, review_id=rid, assessment_id=a.pk, version=a.version, overall="unclear")
    analysis = wait_current(Analysis.objects.get(review=review).pk)
    synthesis_services.analysis_update(user=bob, review_id=rid, analysis_id=analysis.pk, version=analysis.version,
                                       pooled=False, not_pooled_reason=REASON)  # fmt: skip
    wait_current(analysis.pk)
    assert Study.objects.filter(review=review).count() == 3
    return review


def test_the_editor_takes_the_proposals_signs_off_and_downloads_the_summary_of_findings(new_page, graded_review):
    review = graded_review
    page = new_page()
    login(page, "bob")
    page.goto(f"/reviews/{review.pk}/certainty/")
    expect(page.get_by_text("Not rated yet")).to_be_visible()
    _shot(page, "certainty-list")
    page.get_by_role("link", name="Rate").click()
    expect(page.get_by_role("heading", name=re.compile("Pain intensity"))).to_be_visible()
    expect(page.locator("#level-label")).to_have_text("High")
    rob_row = page.locator('tr[data-domain="risk_of_bias"]')
    expect(rob_row).to_contain_text("Proposed: −1")
    expect(rob_row).to_contain_text("Hardy 2012: unclear")
    imprecision_row = page.locator('tr[data-domain="imprecision"]')
    expect(imprecision_row).to_contain_text("Proposed: −2")
    expect(page.get_by_text("the proposals use the per-study results")).to_be_visible()
    _shot(page, "certainty-proposals")

    rob_row.get_by_role("button", name="Use the proposal").click()
    expect(page.locator("#level-label")).to_have_text("Moderate")  # follows the form before saving
    imprecision_row.get_by_role("button", name="Use the proposal").click()
    expect(page.locator("#level-label")).to_have_text("Very low")
    expect(page.get_by_label("Why (imprecision)")).not_to_have_value("")  # the reasons, to edit
    assert not CertaintyRating.objects.exists()  # nothing saved by itself
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Certainty of Pain intensity saved.")).to_be_visible()
    rating = CertaintyRating.objects.get()
    assert (rating.level, rating.risk_of_bias, rating.imprecision, rating.version) == ("very_low", -1, -2, 1)

    page.get_by_role("button", name="Sign off very low certainty").click()
    expect(page.get_by_text("Certainty signed off: Very low.")).to_be_visible()
    expect(page.get_by_text("Signed off by bob")).to_be_visible()
    _shot(page, "certainty-signed-off")

    page.get_by_role("link", name="Summary of findings").first.click()
    table = page.locator("table").first
    expect(table).to_contain_text("Very low")
    expect(table).to_contain_text("179 (3 RCTs)")
    expect(page.get_by_text(re.compile("Downgraded by two levels for imprecision"))).to_be_visible()
    _shot(page, "summary-of-findings")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Word (DOCX)").click()
    document = Document(io.BytesIO(open(download_info.value.path(), "rb").read()))
    cells = [cell.text for row in document.tables[0].rows for cell in row.cells]
    assert any("Very low" in text for text in cells) and any("Pain intensity" in text for text in cells)
