"""REST API of outcome summaries: list, retrieve, the settings (PATCH), the forest and funnel plots. Each endpoint:
the happy path, anonymous (401), a blinded reviewer (403; 200 once extraction is not blinded), the outsider dave
(404) and another review's analysis (404); stale versions (409), settings that do not fit (400 at the field),
filters, the "pooling not appropriate" case, and the status a change goes through (stale or computing with the
last numbers, then current with the new ones) through the worker: eagerly on the embedded default, a real one
with REDIS_URL."""

import math
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from extraction.services import extracting as X
from extraction.services import studies as S
from synthesis import services
from synthesis.models import Analysis, SynthesisQueue

REAL_WORKER = not settings.CELERY_TASK_ALWAYS_EAGER
pytestmark = pytest.mark.django_db

# Hallucinations (events/total) and pain (mean, SD, total), ketamine first, of the seed's three studies.
ADVERSE = {
    "Yang 1996": (2, 20, 0, 20),
    "Mercadante 2000": (3, 10, 1, 10),
    "Hardy 2012": (12, 93, 5, 92),
}
PAIN = {
    "Yang 1996": (2.1, 1.5, 20, 4.0, 1.8, 20),
    "Mercadante 2000": (3.0, 2.0, 10, 4.5, 2.1, 10),
    "Hardy 2012": (4.1, 2.5, 75, 4.3, 2.6, 74),
}


def url(review: Any, path: str = "") -> str:
    return f"/api/v1/reviews/{review.pk}/analyses/{path}"


def adverse_row(seed: Any, numbers: tuple[int, int, int, int]) -> dict[str, Any]:
    e1, n1, e2, n2 = numbers
    return {
        "comparison": seed.comparison.pk, "outcome": seed.adverse.pk,
        "events_1": e1, "total_1": n1, "events_2": e2, "total_2": n2,
    }  # fmt: skip


def pain_row(seed: Any, numbers: tuple[float, ...]) -> dict[str, Any]:
    m1, s1, n1, m2, s2, n2 = numbers
    return {
        "comparison": seed.comparison.pk, "outcome": seed.pain.pk,
        "mean_1": m1, "sd_1": s1, "total_1": n1, "mean_2": m2, "sd_2": s2, "total_2": n2,
    }  # fmt: skip


def save_consensus(cast: Any, study: Any, rows: list[dict[str, Any]]) -> None:
    """The study's consensus outcome data (bob, editor): what the summaries are computed from."""
    extraction = X.consensus_start(user=cast.bob, review_id=cast.review.pk, study_id=study.pk)
    X.outcome_data_save(user=cast.bob, review_id=cast.review.pk, extraction_id=extraction.pk, version=None, rows=rows)


def run_worker(review: Any) -> None:
    """What the queued task does, run here: tests that are not about task delivery do not wait for a worker."""
    services.recompute_review(review_id=review.pk)


@dataclass
class Summarised:
    adverse: Analysis  # dichotomous, RR
    pain: Analysis  # continuous, MD


@pytest.fixture
def summarised(cast, seed) -> Summarised:
    for study in (seed.yang, seed.mercadante, seed.hardy):
        save_consensus(cast, study, [adverse_row(seed, ADVERSE[study.label]), pain_row(seed, PAIN[study.label])])
    run_worker(cast.review)
    adverse = Analysis.objects.get(comparison=seed.comparison, outcome=seed.adverse)
    pain = Analysis.objects.get(comparison=seed.comparison, outcome=seed.pain)
    assert adverse.status == pain.status == Analysis.Status.CURRENT, (adverse.error, pain.error)
    return Summarised(adverse=adverse, pain=pain)


def unblind(cast: Any) -> None:
    S.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, blinded=False)


def foreign_analysis(cast: Any) -> Analysis:
    """An analysis of dave's review."""
    rid = cast.other_review.pk
    study = S.study_create(user=cast.dave, review_id=rid, label="Foreign 2001")
    outcome = S.outcome_create(user=cast.dave, review_id=rid, name="Mortality", type="dichotomous")
    comparison = S.comparison_create(user=cast.dave, review_id=rid, name="Drug v none", intervention="D", control="N")
    extraction = X.consensus_start(user=cast.dave, review_id=rid, study_id=study.pk)
    X.outcome_data_save(
        user=cast.dave, review_id=rid, extraction_id=extraction.pk, version=None,
        rows=[{"comparison": comparison.pk, "outcome": outcome.pk, "events_1": 1, "total_1": 9, "events_2": 2,
               "total_2": 9}],
    )  # fmt: skip
    return Analysis.objects.get(outcome=outcome)


# --- reading --------------------------------------------------------------------------------------------------


def test_list_gives_each_summary_with_ratios_on_their_natural_scale(cast, seed, api, summarised):
    response = api("bob").get(url(cast.review))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"] is None
    by_outcome = {item["outcome"]: item for item in body["results"]}
    adverse = by_outcome[seed.adverse.pk]
    assert adverse["comparison"] == seed.comparison.pk
    assert (adverse["effect_measure"], adverse["model"], adverse["method"]) == ("RR", "random", "REML")
    assert adverse["status"] == "current" and adverse["error"] == "" and adverse["computed_at"]
    assert adverse["version"] == 1 and adverse["pooled"] is True
    assert adverse["studies"] == 3 and adverse["participants"] == 20 + 20 + 10 + 10 + 93 + 92
    assert adverse["estimate"] > 1  # more hallucinations on ketamine
    assert math.isclose(adverse["estimate"], math.exp(adverse["log_estimate"]), rel_tol=1e-9)
    assert adverse["ci_low"] < adverse["estimate"] < adverse["ci_high"]
    assert adverse["se"] > 0 and 0 <= adverse["p"] <= 1
    assert [s["label"] for s in adverse["per_study"]] == ["Hardy 2012", "Mercadante 2000", "Yang 1996"]
    yang = adverse["per_study"][2]
    assert (yang["events_1"], yang["total_1"], yang["events_2"], yang["total_2"]) == (2, 20, 0, 20)
    assert yang["corrected"] is True  # the zero cell
    assert any("zero cell" in note for note in adverse["notes"])
    assert len(adverse["leave_one_out"]) == 3 and adverse["subgroups"] == [] and adverse["subgroup_test"] is None
    pain = by_outcome[seed.pain.pk]
    assert pain["effect_measure"] == "MD" and pain["estimate"] < 0  # less pain on ketamine
    assert math.isclose(pain["estimate"], pain["log_estimate"], rel_tol=1e-9)  # a difference is not logged
    assert pain["per_study"][0]["mean_1"] == pytest.approx(4.1)


def test_detail_is_the_same_summary(cast, api, summarised):
    listed = api("bob").get(url(cast.review)).json()["results"][0]
    detail = api("alice").get(url(cast.review, f"{listed['id']}/"))
    assert detail.status_code == 200 and detail.json() == listed
    assert list(detail.json()) == [
        "id", "comparison", "outcome", "effect_measure", "model", "method", "hksj", "giv_ratio", "pooled",
        "not_pooled_reason", "version", "estimate", "ci_low", "ci_high", "p", "tau2", "i2", "q", "df",
        "p_heterogeneity", "prediction_low", "prediction_high", "studies", "participants", "per_study", "notes",
        "subgroups", "subgroup_test", "leave_one_out", "log_estimate", "se", "status", "computed_at", "error",
    ]  # fmt: skip


READ_STATUS = {"anonymous": 401, "dave": 404, "carol": 403, "bob": 200, "alice": 200}


@pytest.mark.parametrize("who", list(READ_STATUS))
def test_who_reads_the_summaries_while_extraction_is_blinded(cast, api, summarised, who):
    client = api(who)
    pk = summarised.adverse.pk
    for path in ("", f"{pk}/", f"{pk}/forest.svg"):
        response = client.get(url(cast.review, path))
        assert response.status_code == READ_STATUS[who], (path, response.content[:200])
    if who == "carol":
        assert "blinded" in client.get(url(cast.review)).json()["detail"]


def test_every_member_reads_them_once_extraction_is_not_blinded(cast, api, summarised):
    unblind(cast)
    carol = api("carol")
    assert carol.get(url(cast.review)).json()["count"] == 2
    assert carol.get(url(cast.review, f"{summarised.pain.pk}/")).status_code == 200
    assert carol.get(url(cast.review, f"{summarised.pain.pk}/forest.svg")).status_code == 200
    assert api("dave").get(url(cast.review)).status_code == 404


def test_another_reviews_analysis_is_not_found(cast, api, summarised):
    foreign = foreign_analysis(cast)
    bob = api("bob")
    for path in (f"{foreign.pk}/", f"{foreign.pk}/forest.svg", f"{foreign.pk}/funnel.png"):
        assert bob.get(url(cast.review, path)).status_code == 404
    refused = bob.patch(url(cast.review, f"{foreign.pk}/"), {"effect_measure": "OR", "version": 1}, format="json")
    assert refused.status_code == 404
    foreign.refresh_from_db()
    assert (foreign.effect_measure, foreign.version) == ("RR", 1)
    assert bob.get(url(cast.review, "999999/")).status_code == 404


def test_filters_by_comparison_and_outcome(cast, seed, api, summarised):
    bob = api("bob")
    only_pain = bob.get(url(cast.review), {"outcome": seed.pain.pk}).json()
    assert [a["outcome"] for a in only_pain["results"]] == [seed.pain.pk]
    both = bob.get(url(cast.review), {"comparison": seed.comparison.pk}).json()
    assert both["count"] == 2
    assert (
        bob.get(url(cast.review), {"comparison": seed.comparison.pk, "outcome": seed.adverse.pk}).json()["count"] == 1
    )
    assert bob.get(url(cast.review), {"outcome": seed.pain_giv.pk}).json()["count"] == 0
    garbled = bob.get(url(cast.review), {"outcome": "pain"})
    assert garbled.status_code == 400 and "outcome" in garbled.json()["errors"]


def test_the_list_takes_a_constant_number_of_queries(cast, seed, api, summarised, django_assert_max_num_queries):
    client = api("bob")
    with django_assert_max_num_queries(6):
        assert client.get(url(cast.review)).json()["count"] == 2
    for n in range(3):
        outcome = S.outcome_create(user=cast.bob, review_id=cast.review.pk, name=f"Nausea {n}", type="dichotomous")
        save_consensus(cast, seed.hardy, [{**adverse_row(seed, (3, 93, 2, 92)), "outcome": outcome.pk}])
    run_worker(cast.review)
    with django_assert_max_num_queries(6):
        assert client.get(url(cast.review)).json()["count"] == 5


# --- settings -------------------------------------------------------------------------------------------------


def test_changing_the_settings_marks_the_summary_stale_until_the_worker_recomputes(cast, api, summarised):
    before = api("bob").get(url(cast.review, f"{summarised.adverse.pk}/")).json()
    response = api("bob").patch(
        url(cast.review, f"{summarised.adverse.pk}/"), {"effect_measure": "OR", "version": 1}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["effect_measure"], body["method"], body["version"]) == ("OR", "REML", 2)
    # The last numbers are still there, but never as current: a recomputation is queued.
    assert body["status"] == "computing" and body["estimate"] == before["estimate"]
    SynthesisQueue.objects.filter(review=cast.review).update(queued=False)  # a lost task: the sweep will queue it
    assert api("bob").get(url(cast.review, f"{summarised.adverse.pk}/")).json()["status"] == "stale"
    run_worker(cast.review)
    after = api("bob").get(url(cast.review, f"{summarised.adverse.pk}/")).json()
    assert after["status"] == "current" and after["estimate"] != before["estimate"]
    assert after["estimate"] > before["estimate"] > 1  # an odds ratio is further from 1 than the risk ratio


def test_the_model_changes_the_method_and_hksj_goes_with_random_effects(cast, api, summarised):
    bob = api("bob")
    path = url(cast.review, f"{summarised.pain.pk}/")
    fixed = bob.patch(path, {"model": "fixed", "version": 1}, format="json").json()
    assert (fixed["model"], fixed["method"]) == ("fixed", "IV")
    hksj = bob.patch(path, {"model": "random", "method": "DL", "hksj": True, "version": 2}, format="json").json()
    assert (hksj["model"], hksj["method"], hksj["hksj"], hksj["version"]) == ("random", "DL", True, 3)
    run_worker(cast.review)
    body = bob.get(path).json()
    assert body["status"] == "current" and body["method"] == "DL"
    assert body["studies"] == 3


PATCH_STATUS = {"anonymous": 401, "dave": 404, "carol": 403, "bob": 200, "alice": 200}


@pytest.mark.parametrize("who", list(PATCH_STATUS))
def test_who_changes_the_settings(cast, api, summarised, who):
    unblind(cast)  # a reviewer reads them now, and still may not change them
    response = api(who).patch(
        url(cast.review, f"{summarised.adverse.pk}/"), {"effect_measure": "OR", "version": 1}, format="json"
    )
    assert response.status_code == PATCH_STATUS[who]
    summarised.adverse.refresh_from_db()
    assert summarised.adverse.effect_measure == ("OR" if PATCH_STATUS[who] == 200 else "RR")


def test_a_stale_version_is_refused(cast, api, summarised):
    path = url(cast.review, f"{summarised.adverse.pk}/")
    assert api("alice").patch(path, {"model": "fixed", "version": 1}, format="json").status_code == 200
    refused = api("bob").patch(path, {"effect_measure": "OR", "version": 1}, format="json")
    assert refused.status_code == 409 and "Reload" in refused.json()["detail"]
    summarised.adverse.refresh_from_db()
    assert (summarised.adverse.effect_measure, summarised.adverse.model, summarised.adverse.version) == (
        "RR", "fixed", 2,
    )  # fmt: skip
    missing = api("bob").patch(path, {"effect_measure": "OR"}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()["errors"]


@pytest.mark.parametrize(
    ("outcome", "change", "field", "words"),
    [
        ("pain", {"method": "MH", "model": "fixed"}, "method", "takes IV"),
        ("pain", {"method": "MH"}, "method", "DL, REML, PM, ML"),
        ("pain", {"effect_measure": "RR"}, "effect_measure", "MD or SMD"),
        ("adverse", {"effect_measure": "SMD"}, "effect_measure", "RR or OR or RD"),
        ("adverse", {"model": "fixed", "method": "PETO"}, "method", "MH, IV"),
        ("adverse", {"model": "fixed", "method": "IV", "hksj": True}, "hksj", "random-effects"),
        ("adverse", {"giv_ratio": True}, "giv_ratio", "generic inverse variance"),
        ("adverse", {"pooled": False}, "not_pooled_reason", "why pooling"),
        ("adverse", {"pooled": False, "not_pooled_reason": "   "}, "not_pooled_reason", "why pooling"),
        ("adverse", {"method": "XX"}, "method", "not a valid choice"),
        ("adverse", {"model": "mixed"}, "model", "not a valid choice"),
    ],
)
def test_settings_that_do_not_fit_are_refused_at_the_field(cast, api, summarised, outcome, change, field, words):
    analysis = getattr(summarised, outcome)
    response = api("bob").patch(url(cast.review, f"{analysis.pk}/"), {**change, "version": 1}, format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert list(errors) == [field] and words.lower() in str(errors[field]).lower()
    analysis.refresh_from_db()
    assert (analysis.version, analysis.status) == (1, "current")


def test_pooling_not_appropriate_gives_the_studies_without_a_pooled_estimate(cast, api, summarised):
    path = url(cast.review, f"{summarised.pain.pk}/")
    reason = "Crossover and parallel trials with different routes and doses."
    response = api("bob").patch(path, {"pooled": False, "not_pooled_reason": reason, "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["not_pooled_reason"] == reason
    run_worker(cast.review)
    body = api("bob").get(path).json()
    assert body["status"] == "current" and body["pooled"] is False
    assert body["estimate"] is None and body["ci_low"] is None and body["i2"] is None
    assert body["leave_one_out"] == []
    assert [s["effect"] is not None for s in body["per_study"]] == [True, True, True]
    assert body["notes"][0] == f"Not pooled: {reason}"
    svg = api("bob").get(f"{path}forest.svg").content.decode()
    assert "Yang 1996" in svg and "pooled-diamond" not in svg
    pooled_again = api("bob").patch(path, {"pooled": True, "version": 2}, format="json").json()
    assert pooled_again["not_pooled_reason"] == ""  # the reason goes with the decision
    run_worker(cast.review)
    assert "pooled-diamond" in api("bob").get(f"{path}forest.svg").content.decode()


# --- plots ----------------------------------------------------------------------------------------------------


def test_forest_plot_svg_and_png(cast, api, summarised):
    client = api("bob")
    path = url(cast.review, f"{summarised.adverse.pk}/forest.svg")
    svg = client.get(path, HTTP_ACCEPT="image/svg+xml")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    text = svg.content.decode()
    assert text.lstrip().startswith(("<?xml", "<svg"))
    for label in ADVERSE:
        assert label in text
    assert "pooled-diamond" in text and "Ketamine + opioid" in text  # the comparison's intervention
    assert "out of date" not in text
    again = client.get(path, HTTP_IF_NONE_MATCH=svg["ETag"])
    assert again.status_code == 304
    png = client.get(url(cast.review, f"{summarised.adverse.pk}/forest.png"))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


def test_a_stale_forest_plot_says_it_is_out_of_date(cast, api, summarised):
    path = url(cast.review, f"{summarised.adverse.pk}/")
    first = api("bob").get(f"{path}forest.svg")
    api("bob").patch(path, {"effect_measure": "OR", "version": 1}, format="json")
    stale = api("bob").get(f"{path}forest.svg", HTTP_IF_NONE_MATCH=first["ETag"])
    assert stale.status_code == 200 and "out of date" in stale.content.decode()


def test_funnel_plot_needs_ten_studies(cast, seed, api, summarised):
    client = api("bob")
    refused = client.get(url(cast.review, f"{summarised.adverse.pk}/funnel.svg"))
    assert refused.status_code == 404 and "10" in refused.json()["detail"]
    for n in range(7):
        study = S.study_create(user=cast.bob, review_id=cast.review.pk, label=f"Extra {2001 + n}")
        save_consensus(cast, study, [adverse_row(seed, (3 + n, 40 + n, 2, 40))])
    run_worker(cast.review)
    svg = client.get(url(cast.review, f"{summarised.adverse.pk}/funnel.svg"))
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    png = client.get(url(cast.review, f"{summarised.adverse.pk}/funnel.png"))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_no_plot_before_the_first_summary(cast, seed, api):
    save_consensus(cast, seed.hardy, [adverse_row(seed, ADVERSE["Hardy 2012"])])
    analysis = Analysis.objects.get(outcome=seed.adverse)
    body = api("bob").get(url(cast.review, f"{analysis.pk}/")).json()
    assert body["status"] == "computing" and body["estimate"] is None and body["per_study"] is None
    refused = api("bob").get(url(cast.review, f"{analysis.pk}/forest.svg"))
    assert refused.status_code == 404 and "Not summarised yet" in refused.json()["detail"]


def test_the_schema_documents_the_analyses(api):
    schema = api("bob").get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "patch" in paths["/api/v1/reviews/{review_pk}/analyses/{id}/"]
    assert (
        "image/svg+xml"
        in paths["/api/v1/reviews/{review_pk}/analyses/{id}/forest.svg"]["get"]["responses"]["200"]["content"]
    )
    assert schema["components"]["schemas"]["AnalysisStatusEnum"]["enum"] == ["current", "stale", "computing"]


# --- through the worker -----------------------------------------------------------------------------------------


def wait_current(analysis_id: int, timeout: float = 60) -> Analysis:
    deadline = time.monotonic() + timeout
    while True:
        found = Analysis.objects.get(pk=analysis_id)
        if found.status == Analysis.Status.CURRENT or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.django_db(transaction=REAL_WORKER)
@override_settings(SIEVE_SYNTHESIS_DELAY_SECONDS=3)  # a real worker waits: the stale state is seen
def test_a_consensus_change_goes_stale_then_current_through_the_worker(cast, seed, api, tasks):
    with tasks.run():
        for study in (seed.yang, seed.mercadante, seed.hardy):
            save_consensus(cast, study, [adverse_row(seed, ADVERSE[study.label])])
    analysis = wait_current(Analysis.objects.get(outcome=seed.adverse).pk)
    assert analysis.status == "current", analysis.error
    path = url(cast.review, f"{analysis.pk}/")
    first = api("bob").get(path).json()
    assert first["status"] == "current" and first["studies"] == 3

    with tasks.run():
        save_consensus(cast, seed.hardy, [adverse_row(seed, (40, 93, 5, 92))])  # many more events on ketamine
        during = api("bob").get(path).json()
        assert during["status"] == "computing"
        assert during["estimate"] == first["estimate"]  # the last numbers, flagged as not current
    after = wait_current(analysis.pk)
    assert after.status == "current"
    body = api("bob").get(path).json()
    assert body["status"] == "current" and body["estimate"] > first["estimate"]
    hardy = next(s for s in body["per_study"] if s["label"] == "Hardy 2012")
    assert (hardy["events_1"], hardy["total_1"]) == (40, 93)

    with tasks.run():
        changed = api("bob").patch(path, {"effect_measure": "RD", "version": 1}, format="json")
        assert changed.status_code == 200 and changed.json()["status"] == "computing"
    assert wait_current(analysis.pk).status == "current"
    body = api("bob").get(path).json()
    assert body["status"] == "current" and body["effect_measure"] == "RD" and 0 < body["estimate"] < 1
