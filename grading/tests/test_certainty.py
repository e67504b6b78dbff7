# mypy: disable-error-code="index"
"""Certainty (GRADE) per outcome: the seed review's three trials, entered with unclear risk of bias and their
pain-intensity data, not pooled, give proposals of −1 for study limitations and −2 for imprecision with reasons
that quote the data, and once accepted a very low certainty; saves are refused when stale, need explanations,
are editors' only, are recorded in the history; the Summary of Findings is built from them; API and pages."""

import csv
import io
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from core.exceptions import ServiceConflict
from extraction.services import extracting as X
from grading import selectors_certainty as selectors
from grading import services as rob_services
from grading import services_certainty as services
from grading.models import ROB1_DOMAINS, CertaintyRating
from grading.selectors_sof import sof_tables
from reviews.selectors import review_get_for_user
from synthesis import services as synthesis_services
from synthesis.models import Analysis

pytestmark = pytest.mark.django_db

NOT_POOLED = "Clinical heterogeneity: intrathecal, intravenous and subcutaneous ketamine, different doses and designs."


def pain(seed: Any, m1: float, s1: float, n1: int, m2: float, s2: float, n2: int, subgroup: str = "") -> dict:
    return {"comparison": seed.comparison.pk, "outcome": seed.pain.pk, "subgroup": subgroup,
            "mean_1": m1, "sd_1": s1, "total_1": n1, "mean_2": m2, "sd_2": s2, "total_2": n2}  # fmt: skip


def hallucinations(seed: Any, e1: int, n1: int, e2: int, n2: int, subgroup: str = "") -> dict:
    return {"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, "subgroup": subgroup,
            "events_1": e1, "total_1": n1, "events_2": e2, "total_2": n2}  # fmt: skip


def consensus_data(cast: Any, seed: Any, study: Any, rows: list[dict]) -> None:
    extraction = X.consensus_start(user=cast.bob, review_id=seed.review.pk, study_id=study.pk)
    X.outcome_data_save(user=cast.bob, review_id=seed.review.pk, extraction_id=extraction.pk, version=None, rows=rows)


def unclear_risk_of_bias(cast: Any, seed: Any) -> None:
    """The editor's consensus: RoB 1, every domain unclear, for the three trials (as in the seed review)."""
    settings = rob_services.settings_for(seed.review)
    rob_services.settings_update(user=cast.alice, review_id=seed.review.pk, version=settings.version, tool="rob1")
    for study in (seed.yang, seed.mercadante, seed.hardy):
        a = rob_services.consensus_start(user=cast.bob, review_id=seed.review.pk, study_id=study.pk)
        for domain in ROB1_DOMAINS:
            a.refresh_from_db()
            rob_services.judgement_save(
                user=cast.bob, review_id=seed.review.pk, assessment_id=a.pk, version=a.version, domain=domain,
                judgement="unclear", support="Not described in the report.",
            )  # fmt: skip
        a.refresh_from_db()
        rob_services.overall_save(
            user=cast.bob, review_id=seed.review.pk, assessment_id=a.pk, version=a.version, overall="unclear"
        )


@pytest.fixture
def ketamine(cast, seed):
    """The seed review's three trials with pain intensity (0-10, lower is better; the two doses of the
    intravenous crossover against its placebo) and hallucinations, not pooled, with unclear risk of bias."""
    consensus_data(cast, seed, seed.yang, [pain(seed, 3.0, 2.0, 20, 3.9, 2.1, 20), hallucinations(seed, 1, 20, 0, 20)])
    consensus_data(cast, seed, seed.mercadante, [
        pain(seed, 4.2, 2.0, 10, 5.0, 2.2, 10, "0.25 mg/kg"), pain(seed, 3.6, 2.1, 10, 5.0, 2.2, 10, "0.5 mg/kg"),
        hallucinations(seed, 4, 10, 0, 10, "0.5 mg/kg"),
    ])  # fmt: skip
    consensus_data(cast, seed, seed.hardy, [pain(seed, 3.9, 2.2, 75, 4.1, 2.3, 74), hallucinations(seed, 6, 75, 2, 74)])
    for analysis in Analysis.objects.filter(review=seed.review):
        synthesis_services.analysis_update(
            user=cast.bob, review_id=seed.review.pk, analysis_id=analysis.pk, version=analysis.version,
            pooled=False, not_pooled_reason=NOT_POOLED,
        )  # fmt: skip
    synthesis_services.recompute_review(review_id=seed.review.pk)
    unclear_risk_of_bias(cast, seed)
    return seed


def review_of(cast: Any, seed: Any, who: str = "bob") -> Any:
    return review_get_for_user(user=getattr(cast, who), review_id=seed.review.pk)


def view_of(cast: Any, seed: Any, outcome: Any, who: str = "bob") -> selectors.CertaintyView:
    review = review_of(cast, seed, who)
    return selectors.certainty_get(review=review, comparison_id=seed.comparison.pk, outcome_id=outcome.pk)


def save(cast: Any, seed: Any, outcome: Any, version: int, who: str = "bob", **kw: Any) -> CertaintyRating:
    return services.certainty_save(
        user=getattr(cast, who), review_id=seed.review.pk, comparison_id=seed.comparison.pk, outcome_id=outcome.pk,
        version=version, **kw,
    )  # fmt: skip


def accept_proposals(cast: Any, seed: Any, view: selectors.CertaintyView) -> CertaintyRating:
    changes = {d: p.change for d, p in view.proposals.items() if d != "start" and p.change is not None}
    explanations = {d: " ".join(view.proposals[d].reasons) for d, change in changes.items() if change}
    return save(cast, seed, view.analysis.outcome, view.version, changes=changes, explanations=explanations)


# --- the seed review --------------------------------------------------------------------------------------------


def test_seed_review_pain_intensity_is_very_low_for_study_limitations_and_imprecision(cast, ketamine):
    seed = ketamine
    view = view_of(cast, seed, seed.pain)
    assert not view.rated and view.level == "high"  # nothing applied by itself
    p = view.proposals
    assert p["start"].start == "high" and "randomised" in p["start"].reasons[0]
    assert p["risk_of_bias"].change == -1
    rob_text = " ".join(p["risk_of_bias"].reasons)
    assert "Hardy 2012: unclear" in rob_text and "Mercadante 2000: unclear" in rob_text
    assert "not pooled" in rob_text and "participants" in rob_text  # weighted by participants, and says so
    assert "100% of the weight comes from studies at high risk of bias" not in rob_text
    assert "0% of the weight comes from studies at high risk of bias and 100% from studies at unclear" in rob_text
    assert p["imprecision"].change == -2
    imprecision = " ".join(p["imprecision"].reasons)
    assert "179 participants, fewer than the optimal information size" in imprecision
    assert p["inconsistency"].change == 0 and p["publication_bias"].change == 0
    assert "fewer than 10 studies" in " ".join(p["publication_bias"].reasons)
    assert p["indirectness"].change is None
    assert "Not pooled" in view.result_note and "per-study results" in view.result_note

    rating = accept_proposals(cast, seed, view)
    assert rating.level == "very_low" and (rating.risk_of_bias, rating.imprecision) == (-1, -2)
    view = view_of(cast, seed, seed.pain)
    assert (view.level, view.symbols, view.label) == ("very_low", "⊕◯◯◯", "Very low")
    notes = dict(view.footnotes())
    assert notes["risk_of_bias"].startswith("Downgraded by one level for risk of bias (study limitations): ")
    assert notes["imprecision"].startswith("Downgraded by two levels for imprecision: ")


def test_participants_count_crossover_people_once_and_shared_controls_once(cast, ketamine):
    view = view_of(cast, ketamine, ketamine.pain)
    designs = {"Yang 1996": "crossover", "Mercadante 2000": "crossover", "Hardy 2012": "parallel"}
    _, participants = selectors.weights_and_participants(view.analysis.result or {}, designs)
    assert participants == {"Yang 1996": 20, "Mercadante 2000": 10, "Hardy 2012": 149}


def test_summary_of_findings_of_the_seed_review(cast, ketamine):
    seed = ketamine
    accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    [table] = sof_tables(review=review_of(cast, seed))
    assert table.intervention == "Ketamine + opioid" and table.comparison == "Opioid"
    rows = {row.outcome: row for row in table.rows}
    pain_row = rows["Pain intensity"]
    assert pain_row.timepoint == "End of treatment" and pain_row.detail == "VAS 0-10; lower is better"
    assert (pain_row.certainty_symbols, pain_row.certainty_label) == ("⊕◯◯◯", "Very low")
    assert pain_row.participants == "179 (3 RCTs)"
    assert pain_row.relative_effect == "Not pooled" and NOT_POOLED in pain_row.comments
    assert pain_row.risk_intervention == "See comments"
    assert "Yang 1996: MD −0.90 (−2.17 to 0.37)" in pain_row.comments
    assert "Mercadante 2000 (0.5 mg/kg): MD −1.40" in pain_row.comments
    assert pain_row.risk_control.startswith("The mean pain intensity ranged across control groups from 3.9 to 5.0")
    assert pain_row.footnote_marks == ("a", "b")
    assert [mark for mark, _ in table.footnotes] == ["a", "b"]
    assert "risk of bias" in table.footnotes[0][1] and "imprecision" in table.footnotes[1][1]
    hallucination_row = rows["Hallucinations"]
    assert hallucination_row.certainty_label == "Not rated yet" and hallucination_row.footnote_marks == ()
    assert "Mercadante 2000 (0.5 mg/kg): RR" in hallucination_row.comments
    assert hallucination_row.risk_control == "19 per 1,000"  # 2 of 104 in the control groups
    assert "MD: mean difference" in table.explanation and "RR: risk ratio" in table.explanation


def test_pooled_dichotomous_outcome_gives_absolute_effects_per_1000(cast, ketamine):
    seed = ketamine
    analysis = Analysis.objects.get(outcome=seed.adverse)
    synthesis_services.analysis_update(
        user=cast.bob, review_id=seed.review.pk, analysis_id=analysis.pk, version=analysis.version, pooled=True,
        effect_measure="RR", model="fixed", method="MH",
    )  # fmt: skip
    synthesis_services.recompute_review(review_id=seed.review.pk)
    save(cast, seed, seed.adverse, 0, assumed_risk=0.05)
    [table] = sof_tables(review=review_of(cast, seed))
    row = {r.outcome: r for r in table.rows}["Hallucinations"]
    analysis.refresh_from_db()
    est, low, high = (analysis.result[k] for k in ("estimate", "ci_low", "ci_high"))
    assert row.relative_effect == f"RR {est:.2f} ({low:.2f} to {high:.2f})"
    assert row.risk_control == "50 per 1,000"
    assert row.risk_intervention == (f"{round(50 * est)} per 1,000 ({round(50 * low)} to {round(50 * high)})")
    assert row.difference.endswith("more per 1,000 (" + row.difference.split("(")[1])


# --- saving -------------------------------------------------------------------------------------------------------


def test_a_change_needs_its_explanation_and_valid_levels(cast, ketamine):
    seed = ketamine
    with pytest.raises(ValidationError) as err:
        save(cast, seed, seed.pain, 0, changes={"imprecision": -2})
    assert "explanations.imprecision" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        save(cast, seed, seed.pain, 0, changes={"publication_bias": -2, "large_effect": 3, "nonsense": 0})
    assert set(err.value.message_dict) == {"changes.publication_bias", "changes.large_effect", "changes.nonsense"}
    for risk in (1.5, 0, 1):  # at 0 or 1 a ratio gives no absolute effect
        with pytest.raises(ValidationError) as err:
            save(cast, seed, seed.pain, 0, assumed_risk=risk)
        assert "assumed_risk" in err.value.message_dict
    assert not CertaintyRating.objects.exists()  # nothing half-saved


def test_stale_save_refused_with_what_changed_and_reviewers_cannot_rate(cast, ketamine):
    seed = ketamine
    first = save(cast, seed, seed.pain, 0, changes={"risk_of_bias": -1}, explanations={"risk_of_bias": "Unclear."})
    with pytest.raises(ServiceConflict) as err:
        save(cast, seed, seed.pain, 0, who="alice", changes={"imprecision": -1}, explanations={"imprecision": "Few."})
    assert "your version 0, now 1" in err.value.message and "first time" in err.value.message
    save(cast, seed, seed.pain, 1, who="alice", comments="Small trials.")
    with pytest.raises(ServiceConflict) as err:
        save(cast, seed, seed.pain, first.version, changes={"imprecision": -1}, explanations={"imprecision": "Few."})
    assert "comments (by alice)" in err.value.message
    with pytest.raises(PermissionDenied):
        save(cast, seed, seed.pain, 2, who="carol", comments="mine")
    assert CertaintyRating.objects.get().comments == "Small trials."


def test_sign_off_and_a_later_change_returns_to_draft_with_history(cast, ketamine):
    seed = ketamine
    rating = accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    kw = {"review_id": seed.review.pk, "comparison_id": seed.comparison.pk, "outcome_id": seed.pain.pk}
    with pytest.raises(PermissionDenied):
        services.certainty_sign_off(user=cast.carol, version=rating.version, **kw)
    signed = services.certainty_sign_off(user=cast.bob, version=rating.version, **kw)
    assert signed.status == "signed_off" and signed.signed_off_by == cast.bob
    changed = save(cast, seed, seed.pain, signed.version, who="alice", comments="Reworded.")
    assert changed.status == "draft" and changed.signed_off_by is None
    history = list(changed.history.filter(version__gt=0).order_by("history_id"))
    assert [(h.version, h.status, h.history_user.username) for h in history] == [
        (1, "draft", "bob"), (2, "signed_off", "bob"), (3, "draft", "alice"),
    ]  # fmt: skip


def test_two_first_saves_at_once_give_one_success_and_one_conflict(cast, ketamine, transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so the two saves never overlap")
    seed = ketamine
    outcomes: list[str] = []

    def work(comment: str) -> None:
        try:
            save(cast, seed, seed.pain, 0, comments=comment)
            outcomes.append("saved")
        except ServiceConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"]
    assert CertaintyRating.objects.get().version == 1


# --- reading ------------------------------------------------------------------------------------------------------


def test_reviewers_read_certainty_only_once_neither_extraction_nor_risk_of_bias_is_blinded(cast, ketamine, web):
    """The ratings' explanations and footnotes speak of the consensus risk of bias ("Use the proposal" copies its
    reasons): a reviewer reads none of it while risk of bias is blinded, even once extraction is not."""
    from extraction.models import ExtractionSettings
    from grading.models import RobSettings

    seed = ketamine
    accept_proposals(cast, seed, view_of(cast, seed, seed.pain))  # explanations quote the consensus
    spot = [seed.review.pk, seed.comparison.pk, seed.pain.pk]
    where = [
        reverse("api-certainty-list", args=[seed.review.pk]),
        reverse("api-certainty-detail", args=spot),
        reverse("api-certainty-history", args=spot),
        reverse("api-summary-of-findings", args=[seed.review.pk]),
        reverse("api-summary-of-findings", args=[seed.review.pk]) + "?format=csv",
        reverse("certainty:list", args=[seed.review.pk]),
        reverse("certainty:rate", args=spot),
        reverse("certainty:sof", args=[seed.review.pk]),
        reverse("certainty:sof", args=[seed.review.pk]) + "?format=html",
    ]
    assert all(web("dave").get(url).status_code == 404 for url in where)
    assert all(web("carol").get(url).status_code == 403 for url in where)  # both blinded
    ExtractionSettings.objects.update_or_create(review=seed.review, defaults={"blinded": False})
    for url in where:  # risk of bias still blinded
        response = web("carol").get(url)
        assert response.status_code == 403 and b"Hardy 2012: unclear" not in response.content, url
    nav = web("carol").get(reverse("extraction:studies", args=[seed.review.pk])).content.decode()
    assert "Summary of findings" not in nav
    RobSettings.objects.filter(review=seed.review).update(blinded=False)
    assert all(web("carol").get(url).status_code == 200 for url in where)
    nav = web("carol").get(reverse("extraction:studies", args=[seed.review.pk])).content.decode()
    assert "Summary of findings" in nav
    data = web("carol").get(where[0]).json()
    rob = next(
        d for d in next(e for e in data if e["outcome"] == seed.pain.pk)["domains"] if d["domain"] == "risk_of_bias"
    )
    assert rob["proposal"]["change"] == -1 and "Hardy 2012: unclear" in rob["explanation"]


def test_api_rate_sign_off_history_and_conflict(cast, ketamine, web):
    seed = ketamine
    detail = reverse("api-certainty-detail", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk])
    client = web("bob")
    body = client.get(detail).json()
    assert body["version"] == 0 and body["status"] == "not_rated" and body["level"] == "high"
    proposals = {d["domain"]: d["proposal"] for d in body["domains"]}
    assert proposals["imprecision"]["change"] == -2
    put = {
        "version": 0,
        "changes": {"risk_of_bias": -1, "imprecision": -2},
        "explanations": {"risk_of_bias": "All three trials at unclear risk.", "imprecision": "179 participants."},
    }
    saved = client.put(detail, put, content_type="application/json")
    assert saved.status_code == 200, saved.content
    assert (saved.json()["level"], saved.json()["symbols"], saved.json()["version"]) == ("very_low", "⊕◯◯◯", 1)
    again = client.put(detail, put, content_type="application/json")
    assert again.status_code == 409 and "your version 0, now 1" in again.json()["detail"]
    bad = client.put(detail, {"version": 1, "changes": {"imprecision": -2}, "explanations": {"imprecision": ""}},
                     content_type="application/json")  # fmt: skip
    assert bad.status_code == 400 and "explanations.imprecision" in bad.json()["errors"]
    assert web("carol").put(detail, put, content_type="application/json").status_code == 403
    sign = reverse("api-certainty-sign-off", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk])
    signed = client.post(sign, {"version": 1}, content_type="application/json")
    assert signed.status_code == 200 and signed.json()["status"] == "signed_off"
    assert signed.json()["signed_off_by"] == "bob"
    history = client.get(reverse("api-certainty-history", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk]))
    assert [(h["version"], h["status"], h["who"]) for h in history.json()] == [
        (1, "draft", "bob"),
        (2, "signed_off", "bob"),
    ]
    other = reverse("api-certainty-detail", args=[cast.other_review.pk, seed.comparison.pk, seed.pain.pk])
    assert web("dave").get(other).status_code == 404  # another review's ids: not there


def test_api_summary_of_findings_formats(cast, ketamine, web):
    seed = ketamine
    accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    url = reverse("api-summary-of-findings", args=[seed.review.pk])
    client = web("bob")
    tables = client.get(url).json()
    assert tables[0]["rows"][0]["outcome"] == "Pain intensity" and tables[0]["rows"][0]["certainty_label"] == "Very low"
    as_csv = client.get(url, {"format": "csv"}, HTTP_ACCEPT="text/csv")
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0]["outcome"] == "Pain intensity" and rows[0]["certainty"] == "Very low"
    as_html = client.get(url, {"format": "html"})
    assert as_html.status_code == 200 and b"<table" in as_html.content and "⊕◯◯◯".encode() in as_html.content
    as_docx = client.get(url, {"format": "docx"})
    assert as_docx.status_code == 200 and as_docx.content[:2] == b"PK"
    assert "attachment" in as_docx["Content-Disposition"]
    assert client.get(url, {"format": "pdf"}).status_code == 400


# --- pages --------------------------------------------------------------------------------------------------------


def test_pages_list_rate_and_sof(cast, ketamine, web):
    seed = ketamine
    client = web("bob")
    listing = client.get(reverse("certainty:list", args=[seed.review.pk])).content.decode()
    assert "Pain intensity" in listing and "Not rated yet" in listing
    url = reverse("certainty:rate", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk])
    page = client.get(url).content.decode()
    assert "Proposed: −2" in page and "Use the proposal" in page and "optimal information size" in page.lower()
    assert "As the form stands" in page  # not rated: the level shown is not a rating
    form: dict[str, Any] = {"version": 0, "start": "high", "importance": "critical", "comments": ""}
    form |= {d: "0" for d in ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias",
                               "large_effect", "dose_response", "confounding")}  # fmt: skip
    refused = client.post(url, {**form, "imprecision": "-2"})
    assert refused.status_code == 400 and "Explain why you rate imprecision down" in refused.content.decode()
    saved = client.post(url, {**form, "imprecision": "-2", "explanation_imprecision": "Few participants.",
                              "risk_of_bias": "-1", "explanation_risk_of_bias": "Unclear risk."})  # fmt: skip
    assert saved.status_code == 302
    page = client.get(url).content.decode()
    assert "⊕◯◯◯" in page and "Very low" in page and "Sign off very low certainty" in page
    assert "As the form stands" not in page  # rated: the level is the rating's
    stale = client.post(url, {**form, "version": 0, "comments": "Typed on an old page."})
    body = stale.content.decode()
    assert stale.status_code == 409 and "your version 0, now 1" in body and "Typed on an old page." in body
    assert 'name="version" value="1"' in body  # kept against the current version: saving again works
    again = client.post(url, {**form, "version": 1, "comments": "Typed on an old page."})
    assert again.status_code == 302 and CertaintyRating.objects.get().comments == "Typed on an old page."
    client.post(url, {**form, "version": 2, "imprecision": "-2", "explanation_imprecision": "Few participants.",
                      "risk_of_bias": "-1", "explanation_risk_of_bias": "Unclear risk."})  # fmt: skip
    sof_page = client.get(reverse("certainty:sof", args=[seed.review.pk])).content.decode()
    assert "Very low" in sof_page and "Downgraded by two levels for imprecision: Few participants." in sof_page
    docx = client.get(reverse("certainty:sof", args=[seed.review.pk]), {"format": "docx"})
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert web("carol").get(url).status_code == 403
    assert web("dave").get(url).status_code == 404


def test_certainty_list_and_sof_read_in_a_constant_number_of_queries(cast, ketamine):
    from django.test.utils import CaptureQueriesContext

    from extraction.services import studies as S

    seed = ketamine

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as listing:
            views = selectors.certainty_list(review=review_of(cast, seed))
        with CaptureQueriesContext(connection) as tables:
            sof_tables(review=review_of(cast, seed))
        return len(views), len(listing.captured_queries) + 1000 * len(tables.captured_queries)

    analyses, before = count()
    for n in range(3):
        outcome = S.outcome_create(user=cast.bob, review_id=seed.review.pk, name=f"Withdrawals {n}", type="dichotomous")
        for study in (seed.yang, seed.hardy):
            consensus_data(cast, seed, study, [{**hallucinations(seed, 1, 20, 2, 20), "outcome": outcome.pk}])
    synthesis_services.recompute_review(review_id=seed.review.pk)
    save(cast, seed, seed.pain, 0, comments="Rated.")
    more, after = count()
    assert (analyses, more) == (2, 5)
    assert after == before


def test_rate_page_draws_the_risk_of_bias_of_its_studies_weighted_as_the_proposal(cast, ketamine, web):
    seed = ketamine
    url = reverse("certainty:rate", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk])
    page = web("bob").get(url).content.decode()
    assert "weighted as in this outcome" in page and "(by participants: not pooled)" in page
    assert "<svg" in page and "Overall: unclear 100%" in page and "weighted by the studies&#x27; participants" in page
    plot = reverse("certainty:rob_plot", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk])
    svg = web("bob").get(plot, {"format": "svg"})
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    png = web("bob").get(plot, {"format": "png"})
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert web("bob").get(plot, {"format": "gif"}).status_code == 404
    from extraction.models import ExtractionSettings

    ExtractionSettings.objects.update_or_create(review=seed.review, defaults={"blinded": False})
    assert web("carol").get(plot).status_code == 403  # risk of bias still blinded
    from grading.models import RobSettings

    RobSettings.objects.filter(review=seed.review).update(blinded=False)
    assert "weighted as in this outcome" in web("carol").get(url).content.decode()
    assert web("carol").get(plot).status_code == 200


def test_pooled_mean_difference_reads_as_lower_or_higher_in_the_unit(cast, ketamine):
    seed = ketamine
    analysis = Analysis.objects.get(outcome=seed.pain)
    synthesis_services.analysis_update(
        user=cast.bob, review_id=seed.review.pk, analysis_id=analysis.pk, version=analysis.version, pooled=True,
        effect_measure="MD", model="fixed", method="IV",
    )  # fmt: skip
    synthesis_services.recompute_review(review_id=seed.review.pk)
    analysis.refresh_from_db()
    est, low, high = (analysis.result[k] for k in ("estimate", "ci_low", "ci_high"))
    assert est < 0 < high  # lower on average, CI up to higher

    row = {r.outcome: r for r in sof_tables(review=review_of(cast, seed))[0].rows}["Pain intensity"]
    assert row.risk_intervention == (f"MD {abs(est):.2f} lower ({abs(low):.2f} lower to {high:.2f} higher)")
    assert row.relative_effect == "" and row.comments == ""
    view = view_of(cast, seed, seed.pain)
    assert "Not pooled" not in view.result_note
    assert view.proposals["imprecision"].change == -2  # crosses no effect, and 179 < 786 participants


def test_another_reviews_comparison_is_not_found(cast, ketamine, web):
    from extraction.services import studies as S

    theirs = S.comparison_create(user=cast.dave, review_id=cast.other_review.pk, name="Theirs", intervention="A",
                                 control="B")  # fmt: skip
    for name in ("api-certainty-list", "api-summary-of-findings"):
        response = web("bob").get(reverse(name, args=[ketamine.review.pk]), {"comparison": theirs.pk})
        assert response.status_code == 404, name
    assert (
        web("bob").get(reverse("api-certainty-list", args=[ketamine.review.pk]), {"comparison": "x"}).status_code == 404
    )


def _pooled(cast: Any, seed: Any, outcome: Any, **settings: Any) -> Analysis:
    analysis = Analysis.objects.get(outcome=outcome)
    synthesis_services.analysis_update(
        user=cast.bob, review_id=seed.review.pk, analysis_id=analysis.pk, version=analysis.version, pooled=True,
        **settings,
    )  # fmt: skip
    synthesis_services.recompute_review(review_id=seed.review.pk)
    analysis.refresh_from_db()
    return analysis


def test_a_shared_control_group_counts_once_in_the_control_risk(cast, ketamine):
    seed = ketamine  # Mercadante's placebo group (3 of 10 with events, say) is the control of both doses
    consensus_data(cast, seed, seed.mercadante, [hallucinations(seed, 1, 10, 3, 10, "0.25 mg/kg"),
                                                 hallucinations(seed, 4, 10, 3, 10, "0.5 mg/kg")])  # fmt: skip
    analysis = _pooled(cast, seed, seed.adverse, effect_measure="RR", model="fixed", method="MH")
    assert analysis.result["total_2"] == 20 + 10 + 10 + 74  # the analysis's own totals count it twice
    row = {r.outcome: r for r in sof_tables(review=review_of(cast, seed))[0].rows}["Hallucinations"]
    assert row.risk_control == "48 per 1,000"  # (0 + 3 + 2) / (20 + 10 + 74)
    assert row.participants == "179 (3 RCTs)"


def test_a_study_without_events_in_either_group_still_counts_among_the_participants(cast, ketamine):
    seed = ketamine
    consensus_data(cast, seed, seed.yang, [hallucinations(seed, 0, 20, 0, 20)])
    analysis = _pooled(cast, seed, seed.adverse, effect_measure="RR", model="fixed", method="MH")
    assert next(r for r in analysis.result["per_study"] if r["label"] == "Yang 1996")["excluded"]
    row = {r.outcome: r for r in sof_tables(review=review_of(cast, seed))[0].rows}["Hallucinations"]
    assert row.participants == "179 (3 RCTs)"


def test_generic_inverse_variance_without_group_sizes_says_participants_not_reported(cast, ketamine):
    seed = ketamine
    for study, estimate in ((seed.yang, -0.9), (seed.mercadante, -1.1), (seed.hardy, -0.2)):
        consensus_data(cast, seed, study, [{"comparison": seed.comparison.pk, "outcome": seed.pain_giv.pk,
                                            "estimate": estimate, "se": 0.5}])  # fmt: skip
    synthesis_services.recompute_review(review_id=seed.review.pk)
    row = {r.outcome: r for r in sof_tables(review=review_of(cast, seed))[0].rows}["Pain intensity (paired)"]
    assert row.participants == "Not reported (3 RCTs)"


def test_a_rating_made_on_other_data_says_so_and_cannot_be_signed_off_until_saved_again(cast, ketamine, web):
    seed = ketamine
    rating = accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    kw = {"review_id": seed.review.pk, "comparison_id": seed.comparison.pk, "outcome_id": seed.pain.pk}
    signed = services.certainty_sign_off(user=cast.bob, version=rating.version, **kw)
    assert not view_of(cast, seed, seed.pain).data_changed
    consensus_data(cast, seed, seed.hardy, [pain(seed, 3.1, 2.2, 75, 4.1, 2.3, 74)])  # a corrected mean
    synthesis_services.recompute_review(review_id=seed.review.pk)
    view = view_of(cast, seed, seed.pain)
    assert view.data_changed and view.status == "signed_off"
    page = web("bob").get(reverse("certainty:rate", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk]))
    assert "changed since this rating was saved and signed off" in page.content.decode()
    detail = web("bob").get(reverse("api-certainty-detail", args=[seed.review.pk, seed.comparison.pk, seed.pain.pk]))
    assert detail.json()["data_changed"] is True
    row = {r.outcome: r for r in sof_tables(review=review_of(cast, seed))[0].rows}["Pain intensity"]
    assert row.comments.startswith("Rated before the outcome's data last changed")
    saved = save(cast, seed, seed.pain, signed.version, comments="Checked against the corrected mean.")
    with pytest.raises(ValidationError):  # nothing stops the save; the sign-off needs a rating of these data
        Analysis.objects.filter(pk=view.analysis.pk).update(input_hash="something else")
        services.certainty_sign_off(user=cast.bob, version=saved.version, **kw)
    Analysis.objects.filter(pk=view.analysis.pk).update(input_hash=saved.rated_input_hash)
    assert services.certainty_sign_off(user=cast.bob, version=saved.version, **kw).status == "signed_off"


def test_only_editors_and_owners_rate_and_sign_off_on_the_pages(cast, ketamine, web):
    from extraction.models import ExtractionSettings
    from grading.models import RobSettings

    seed = ketamine
    rating = accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    ExtractionSettings.objects.update_or_create(review=seed.review, defaults={"blinded": False})
    RobSettings.objects.filter(review=seed.review).update(blinded=False)  # carol may read, not write
    spot = [seed.review.pk, seed.comparison.pk, seed.pain.pk]
    page = web("carol").get(reverse("certainty:rate", args=spot)).content.decode()
    assert 'id="certainty-form"' not in page and "Sign off" not in page
    assert web("carol").post(reverse("certainty:rate", args=spot), {"version": 1, "comments": "x"}).status_code == 403
    assert web("carol").post(reverse("certainty:sign_off", args=spot), {"version": 1}).status_code == 403
    assert web("dave").post(reverse("certainty:sign_off", args=spot), {"version": 1}).status_code == 404
    rating.refresh_from_db()
    assert (rating.status, rating.version, rating.comments) == ("draft", 1, "")
