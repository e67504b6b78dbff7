"""Outcome-summary pages: the analyses list (a table per comparison) and an analysis (settings form, forest plot,
numbers, tables), by role; saving the settings (conflict, messages at the field); the out-of-date banner and its
htmx poll that swaps the new summary in; the nav tab; query counts on the list."""

# ruff: noqa: F811 - `summarised`, a fixture imported from test_api, is a parameter of the tests

import pytest
from django.urls import reverse

from extraction.models import Comparison
from extraction.services import studies as S
from synthesis.models import Analysis, SynthesisQueue
from synthesis.tests.test_api import (
    ADVERSE,
    adverse_row,
    run_worker,
    save_consensus,
    summarised,  # noqa: F401 - fixture
    unblind,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def list_url(review) -> str:
    return reverse("synthesis:analyses", args=[review.pk])


def page_url(analysis, name: str = "synthesis:analysis") -> str:
    return reverse(name, args=[analysis.review_id, analysis.pk])


def settings_data(analysis, **changes) -> dict:
    data = {
        "settings-effect_measure": analysis.effect_measure,
        "settings-model": analysis.model,
        "settings-method": analysis.method,
        "settings-pooled": "on" if analysis.pooled else "",
        "settings-not_pooled_reason": analysis.not_pooled_reason,
        "settings-version": analysis.version,
    }
    if analysis.hksj:
        data["settings-hksj"] = "on"
    data.update({f"settings-{name}": value for name, value in changes.items()})
    return {name: value for name, value in data.items() if value not in ("", None, False)}


# --- the list ---------------------------------------------------------------------------------------------------


def test_the_list_has_a_table_per_comparison(cast, seed, web, summarised):
    response = web("bob").get(list_url(cast.review))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Ketamine versus placebo" in text and "Ketamine + opioid" in text
    assert "Hallucinations" in text and "Pain intensity" in text
    assert page_url(summarised.adverse) in text and page_url(summarised.pain) in text
    assert "Risk ratio, random effects (REML)" in text and "Mean difference, random effects (REML)" in text
    estimate = summarised.adverse.result["estimate"]
    assert f"{estimate:.2f} [" in text
    assert "Current" in text and "Out of date" not in text and "hx-trigger" not in text
    assert 'aria-current="page" href="' + list_url(cast.review) + '"' in text  # the Analyses tab


def test_the_list_says_not_pooled_and_out_of_date(cast, seed, web, api, summarised):
    api("bob").patch(
        f"/api/v1/reviews/{cast.review.pk}/analyses/{summarised.pain.pk}/",
        {"pooled": False, "not_pooled_reason": "Too different.", "version": 1}, format="json",
    )  # fmt: skip
    run_worker(cast.review)
    save_consensus(cast, seed.hardy, [adverse_row(seed, (20, 93, 5, 92))])  # queued, not yet computed
    text = web("bob").get(list_url(cast.review)).content.decode()
    assert "Not pooled" in text
    assert "Out of date — recomputing…" in text and 'hx-trigger="every 2s"' in text and "opacity-50" in text
    partial = web("bob").get(list_url(cast.review), **HTMX)
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert 'id="analyses-tables"' in partial.content.decode()
    run_worker(cast.review)
    done = web("bob").get(list_url(cast.review), **HTMX).content.decode()
    assert "hx-trigger" not in done and "Out of date" not in done  # the poll stops


def test_the_list_without_analyses_says_how_they_come(cast, seed, web):
    text = web("alice").get(list_url(cast.review)).content.decode()
    assert "No analyses yet" in text


WHO_READS = {"anonymous": 302, "dave": 404, "carol": 403, "bob": 200, "alice": 200}


@pytest.mark.parametrize("who", list(WHO_READS))
def test_who_sees_the_pages_while_extraction_is_blinded(cast, web, summarised, who):
    client = web(who)
    for path in (
        list_url(cast.review),
        page_url(summarised.adverse),
        page_url(summarised.adverse, "synthesis:analysis_status"),
    ):
        response = client.get(path)
        assert response.status_code == WHO_READS[who], path
        if who == "anonymous":
            assert response["Location"].startswith(reverse("login"))


def test_a_reviewer_sees_them_once_extraction_is_not_blinded_without_the_form(cast, web, summarised):
    unblind(cast)
    client = web("carol")
    assert client.get(list_url(cast.review)).status_code == 200
    text = client.get(page_url(summarised.adverse)).content.decode()
    assert "Forest plot" in text and 'id="analysis-settings"' not in text
    assert "Editors and owners change the settings." in text
    assert client.post(page_url(summarised.adverse, "synthesis:analysis_settings"), settings_data(
        summarised.adverse, effect_measure="OR"
    )).status_code == 403  # fmt: skip


def test_another_reviews_analysis_is_not_found(cast, web, summarised):
    from synthesis.tests.test_api import foreign_analysis

    foreign = foreign_analysis(cast)
    client = web("bob")
    for name in ("synthesis:analysis", "synthesis:analysis_status"):
        assert client.get(reverse(name, args=[cast.review.pk, foreign.pk])).status_code == 404
    refused = client.post(
        reverse("synthesis:analysis_settings", args=[cast.review.pk, foreign.pk]),
        settings_data(foreign, effect_measure="OR"),
    )
    assert refused.status_code == 404
    foreign.refresh_from_db()
    assert foreign.effect_measure == "RR"


def test_the_nav_shows_analyses_to_editors_and_to_reviewers_once_unblinded(cast, seed, web):
    studies = reverse("extraction:studies", args=[cast.review.pk])
    assert list_url(cast.review) in web("bob").get(studies).content.decode()
    assert list_url(cast.review) in web("alice").get(studies).content.decode()
    assert list_url(cast.review) not in web("carol").get(studies).content.decode()
    unblind(cast)
    assert list_url(cast.review) in web("carol").get(studies).content.decode()


def test_the_list_takes_a_constant_number_of_queries(cast, seed, web, summarised, django_assert_max_num_queries):
    client = web("bob")
    with django_assert_max_num_queries(8):
        assert client.get(list_url(cast.review)).status_code == 200
    for n in range(4):
        comparison = S.comparison_create(
            user=cast.bob, review_id=cast.review.pk, name=f"Ketamine dose {n}", intervention="High", control="Low"
        )
        outcome = S.outcome_create(user=cast.bob, review_id=cast.review.pk, name=f"Nausea {n}", type="dichotomous")
        save_consensus(
            cast,
            seed.hardy,
            [{**adverse_row(seed, (3, 93, 2, 92)), "comparison": comparison.pk, "outcome": outcome.pk}],
        )
    run_worker(cast.review)
    assert Comparison.objects.filter(review=cast.review).count() == 5
    with django_assert_max_num_queries(8):
        text = client.get(list_url(cast.review)).content.decode()
    assert "Ketamine dose 3" in text and "Nausea 3" in text
    unblind(cast)
    carol = web("carol")
    with django_assert_max_num_queries(9):  # a reviewer's role is checked against the extraction settings
        assert carol.get(list_url(cast.review)).status_code == 200


# --- an analysis ------------------------------------------------------------------------------------------------


def test_the_analysis_page_shows_plot_numbers_and_tables(cast, seed, web, summarised):
    response = web("bob").get(page_url(summarised.adverse))
    assert response.status_code == 200
    text = response.content.decode()
    api_path = f"/api/v1/reviews/{cast.review.pk}/analyses/{summarised.adverse.pk}"
    assert f'src="{api_path}/forest.svg?v=' in text and 'alt="Forest plot of Hallucinations' in text
    assert f'href="{api_path}/forest.png?v=' in text and f'href="{api_path}/forest.svg?v=' in text
    result = summarised.adverse.result
    assert f"{result['estimate']:.2f} [{result['ci_low']:.2f}, {result['ci_high']:.2f}]" in text
    assert "Test for overall effect" in text and "Heterogeneity" in text and "I² =" in text
    assert "95% prediction interval" in text or result["prediction_low"] is None
    for label in ADVERSE:
        assert label in text
    assert "Leave one out" in text and "Study omitted" in text
    assert "zero-cell correction" in text.lower()
    assert "funnel" not in text.lower()  # three studies
    assert "hx-trigger" not in text and "Out of date" not in text
    assert 'id="analysis-settings"' in text


def test_the_form_offers_the_measures_of_the_outcome_type(cast, seed, web, summarised):
    save_consensus(
        cast, seed.yang,
        [{"comparison": seed.comparison.pk, "outcome": seed.pain_giv.pk, "estimate": -0.7, "se": 0.3}],
    )  # fmt: skip
    run_worker(cast.review)
    giv = Analysis.objects.get(outcome=seed.pain_giv)
    client = web("bob")
    adverse = client.get(page_url(summarised.adverse)).content.decode()
    for value in ("RR", "OR", "RD"):
        assert f'<option value="{value}"' in adverse
    assert '<option value="MD"' not in adverse and "settings-giv_ratio" not in adverse
    pain = client.get(page_url(summarised.pain)).content.decode()
    assert '<option value="MD"' in pain and '<option value="SMD"' in pain and '<option value="RR"' not in pain
    giv_page = client.get(page_url(giv)).content.decode()
    assert "settings-giv_ratio" in giv_page and "Log ratios" in giv_page
    assert 'type="hidden" name="settings-effect_measure" value="GIV"' in giv_page
    # Methods say which model they fit (the script hides the others).
    assert 'data-model="fixed"' in adverse and 'data-model="random"' in adverse
    assert 'value="PETO" data-model="fixed" data-measures="OR"' in adverse


def test_saving_the_settings_recomputes_the_summary(cast, web, summarised):
    client = web("bob")
    response = client.post(
        page_url(summarised.adverse, "synthesis:analysis_settings"),
        settings_data(summarised.adverse, effect_measure="OR", model="fixed", method="MH"),
    )
    assert response.status_code == 302 and response["Location"] == page_url(summarised.adverse)
    summarised.adverse.refresh_from_db()
    adverse = summarised.adverse
    assert (adverse.effect_measure, adverse.model, adverse.method, adverse.version) == ("OR", "fixed", "MH", 2)
    assert adverse.status == "stale"
    text = client.get(page_url(adverse)).content.decode()
    assert "Settings saved" in text
    assert "Out of date — recomputing…" in text and 'hx-trigger="every 1s"' in text and "opacity-50" in text
    assert "(out of date)" in text  # the plot's caption
    run_worker(cast.review)
    text = client.get(page_url(adverse)).content.decode()
    assert "Odds ratio, fixed effect (M-H)" in text and "Out of date" not in text


def test_a_study_left_out_of_the_pooling_says_why(cast, seed, web, summarised):
    study = S.study_create(user=cast.bob, review_id=cast.review.pk, label="Nobody 2020")
    save_consensus(cast, study, [adverse_row(seed, (0, 15, 0, 15))])
    run_worker(cast.review)
    text = web("bob").get(page_url(summarised.adverse)).content.decode()
    assert "Nobody 2020" in text and "Excluded from pooling: " in text


def test_not_pooled_with_a_reason(cast, web, summarised):
    client = web("alice")
    refused = client.post(
        page_url(summarised.pain, "synthesis:analysis_settings"), settings_data(summarised.pain, pooled="")
    )
    assert refused.status_code == 200
    text = refused.content.decode()
    assert 'id="id_settings-not_pooled_reason_error"' in text and "Say why pooling is not appropriate" in text
    reason = "Different routes and doses."
    saved = client.post(
        page_url(summarised.pain, "synthesis:analysis_settings"),
        settings_data(summarised.pain, pooled="", not_pooled_reason=reason),
    )
    assert saved.status_code == 302
    run_worker(cast.review)
    text = client.get(page_url(summarised.pain)).content.decode()
    assert f"Not pooled: {reason}" in text and "Leave one out" not in text


def test_a_setting_that_does_not_fit_is_shown_at_its_field(cast, web, summarised):
    response = web("bob").post(
        page_url(summarised.pain, "synthesis:analysis_settings"),
        settings_data(summarised.pain, model="fixed", method="MH"),
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert 'id="id_settings-method_error"' in text and "takes IV" in text
    summarised.pain.refresh_from_db()
    assert (summarised.pain.method, summarised.pain.version) == ("REML", 1)


def test_a_stale_form_is_refused_with_a_message(cast, web, summarised):
    data = settings_data(summarised.adverse, effect_measure="OR")
    assert web("alice").post(page_url(summarised.adverse, "synthesis:analysis_settings"), data).status_code == 302
    refused = web("bob").post(
        page_url(summarised.adverse, "synthesis:analysis_settings"), {**data, "settings-effect_measure": "RD"}
    )
    assert refused.status_code == 409 and "Someone else changed this analysis" in refused.content.decode()
    summarised.adverse.refresh_from_db()
    assert summarised.adverse.effect_measure == "OR"


def test_the_status_poll_swaps_the_summary_in_once_current(cast, seed, web, summarised):
    client = web("bob")
    save_consensus(cast, seed.hardy, [adverse_row(seed, (40, 93, 5, 92))])
    status_url = page_url(summarised.adverse, "synthesis:analysis_status")
    waiting = client.get(status_url, **HTMX)
    assert waiting.status_code == 204  # nothing to swap: the banner polls on
    run_worker(cast.review)
    done = client.get(status_url, **HTMX)
    assert done.status_code == 200
    assert done["HX-Retarget"] == "#analysis-summary" and done["HX-Reswap"] == "outerHTML"
    text = done.content.decode()
    assert text.lstrip().startswith("<section") and 'id="analysis-summary"' in text
    assert "hx-trigger" not in text and "40" in text  # the new numbers, no banner: the polling stops
    plain = client.get(status_url)
    assert plain.status_code == 200 and "HX-Retarget" not in plain


def test_the_status_poll_leaves_when_the_analysis_is_gone(cast, seed, web, summarised):
    client = web("bob")
    gone = summarised.adverse.pk
    Analysis.objects.filter(pk=gone).delete()
    response = client.get(reverse("synthesis:analysis_status", args=[cast.review.pk, gone]), **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == list_url(cast.review)


def test_an_error_is_shown_clearly(cast, web, summarised):
    Analysis.objects.filter(pk=summarised.pain.pk).update(
        result=None, error="Hardy 2012: a standard deviation of 0 cannot be used."
    )
    text = web("bob").get(page_url(summarised.pain)).content.decode()
    assert "could not be summarised" in text and "a standard deviation of 0 cannot be used" in text
    assert "forest.svg" not in text
    listed = web("bob").get(list_url(cast.review)).content.decode()
    assert "Not summarised" in listed and "a standard deviation of 0" in listed


def test_a_first_summary_on_its_way(cast, seed, web):
    save_consensus(cast, seed.hardy, [adverse_row(seed, ADVERSE["Hardy 2012"])])
    analysis = Analysis.objects.get(outcome=seed.adverse)
    assert SynthesisQueue.objects.get(review=cast.review).queued
    text = web("bob").get(page_url(analysis)).content.decode()
    assert "Out of date — recomputing…" in text and "The summary appears here when it is ready." in text
    assert "forest.svg" not in text


def test_a_multi_arm_trial_is_one_study_with_two_comparisons_in_the_summary():
    from synthesis.views import count, studies_text

    rows = [{"label": "Hardy 2012"}, {"label": "Mercadante 2000"}, {"label": "Mercadante 2000"}, {"label": "Yang 1996"}]
    assert studies_text({"studies": 4, "per_study": rows}) == "3 (4 comparisons)"
    assert studies_text({"studies": 3, "per_study": rows[:2] + rows[3:]}) == "3"
    excluded = [*rows[:3], {"label": "Yang 1996", "excluded": "no events"}]
    assert studies_text({"studies": 3, "per_study": excluded}) == "2 (3 comparisons)"
    assert studies_text({}) == count(None)
