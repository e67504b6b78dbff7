"""The risk-of-bias pages: roles and blinding, the assessment page's htmx saves (skip logic, live proposal,
override reasons, stale versions, completion), the consensus page, the history, settings and the plot
downloads."""

import re
from typing import Any

import pytest
from django.urls import reverse

from extraction.models import Study
from grading import services
from grading.models import RobAssessment, RobDiscrepancy, RobJudgement
from grading.tests.test_assessments import ANSWERS, HIGH_D3, assess, save, start

HTMX = {"HTTP_HX_REQUEST": "true"}


def overview_url(seed: Any) -> str:
    return reverse("rob:overview", args=[seed.review.pk])


def page_url(a: RobAssessment) -> str:
    return reverse("rob:assess", args=[a.review_id, a.pk])


def domain_url(a: RobAssessment) -> str:
    return reverse("rob:domain_save", args=[a.review_id, a.pk])


def posted(domain: str, answers: dict[str, str], version: int, **extra: str) -> dict[str, str]:
    data = {f"{domain}-q-{q}": value for q, value in answers.items()}
    return {"domain": domain, "version": str(version), **data, **extra}


def compared(cast: Any, seed: Any) -> None:
    """carol and erin complete Hardy 2012; erin judges D3 high; the worker compares."""
    assess(cast.carol, seed, seed.hardy)
    assess(cast.erin, seed, seed.hardy, overrides={"D3": HIGH_D3})
    services.compare(study_id=seed.hardy.pk, outcome_id=None)


# --- who sees what ------------------------------------------------------------------------------------------------


def test_anonymous_outsider_and_roles(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    for url in (overview_url(seed), page_url(mine), reverse("rob:consensus", args=[seed.review.pk])):
        response = web("anonymous").get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert web("dave").get(url).status_code == 404
    response = web("dave").post(domain_url(mine), posted("D1", ANSWERS["D1"], mine.version), **HTMX)
    assert response.status_code == 404
    assert not RobJudgement.objects.exists()
    assert web("carol").get(reverse("rob:consensus", args=[seed.review.pk])).status_code == 403
    assert web("bob").get(reverse("rob:settings", args=[seed.review.pk])).status_code == 403
    assert web("alice").get(reverse("rob:settings", args=[seed.review.pk])).status_code == 200


def test_overview_lists_the_studies_and_my_assessment(cast, seed, web, django_assert_max_num_queries):
    response = web("carol").get(overview_url(seed))
    body = response.content.decode()
    assert response.status_code == 200
    assert all(label in body for label in ("Hardy 2012", "Mercadante 2000", "Yang 1996"))
    assert 'Assess<span class="visually-hidden"> Hardy 2012' in body
    assert f'href="/reviews/{seed.review.pk}/risk-of-bias/"' in body  # the nav tab
    for study in (seed.yang, seed.mercadante, seed.hardy):
        assess(cast.carol, seed, study)
        assess(cast.erin, seed, study)
        services.compare(study_id=study.pk, outcome_id=None)
    client = web("bob")
    with django_assert_max_num_queries(14):
        body = client.get(overview_url(seed)).content.decode()
    assert "Continue" not in body and body.count("<svg") == 2


def test_a_blinded_reviewer_sees_only_their_own(cast, seed, web):
    compared(cast, seed)
    erins = RobAssessment.objects.get(assessor=cast.erin)
    body = web("carol").get(overview_url(seed)).content.decode()
    assert not re.search(r"\berin\b", body) and "<svg" not in body and "Plots of the consensus" not in body
    assert "2 of 2" in body  # how many assessors, not who or what
    assert web("carol").get(page_url(erins)).status_code == 404
    assert web("carol").get(reverse("rob:history", args=[seed.review.pk, erins.pk])).status_code == 404
    consensus = RobAssessment.objects.get(study=seed.hardy, assessor__isnull=True)
    assert web("carol").get(page_url(consensus)).status_code == 404
    for name in ("rob:traffic_light", "rob:summary_bar"):
        assert web("carol").get(reverse(name, args=[seed.review.pk]) + "?format=svg").status_code == 403
    body = web("bob").get(overview_url(seed)).content.decode()
    assert "erin" in body and "carol" in body and "1 open discrepanc" not in body and "2 open discrepancies" in body
    assert web("bob").get(page_url(erins)).status_code == 200


def test_unblinded_members_see_everything_but_write_only_their_own(cast, seed, web):
    services.settings_update(user=cast.alice, review_id=seed.review.pk, version=None, blinded=False)
    compared(cast, seed)
    erins = RobAssessment.objects.get(assessor=cast.erin)
    body = web("carol").get(overview_url(seed)).content.decode()
    assert "erin" in body and body.count("<svg") == 2
    page = web("carol").get(page_url(erins)).content.decode()
    assert "Read-only" in page and "hx-post" not in page
    response = web("carol").post(domain_url(erins), posted("D1", ANSWERS["D1"], erins.version), **HTMX)
    assert response.status_code == 404


# --- the assessment page --------------------------------------------------------------------------------------------


def test_start_opens_the_page_with_the_questions_the_skip_logic_asks(cast, seed, web):
    response = web("carol").post(reverse("rob:start", args=[seed.review.pk]), {"study": seed.hardy.pk})
    mine = RobAssessment.objects.get(assessor=cast.carol)
    assert response.status_code == 302 and response["Location"] == page_url(mine)
    body = web("carol").get(page_url(mine)).content.decode()
    assert 'id="q-D1-1_1-Y"' in body and 'id="q-D2-2_1-Y"' in body
    assert 'id="q-D2-2_3-Y"' not in body  # asked only once 2.1 or 2.2 says aware
    assert 'id="dom-DS"' not in body  # a parallel trial has no domain S
    assert "Mark complete" in body
    # Starting again continues the same assessment; a third assessor is refused with the reason.
    web("carol").post(reverse("rob:start", args=[seed.review.pk]), {"study": seed.hardy.pk})
    assert RobAssessment.objects.filter(assessor=cast.carol).count() == 1
    start(cast.erin, seed, seed.hardy)
    response = web("alice").post(reverse("rob:start", args=[seed.review.pk]), {"study": seed.hardy.pk}, follow=True)
    assert "already has its 2 assessors" in response.content.decode()


def test_answers_update_the_questions_and_the_proposal_live(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    client = web("carol")
    response = client.post(domain_url(mine), posted("D2", {"2.1": "Y"}, mine.version), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="q-D2-2_3-Y"' in body  # aware: 2.3 is now asked
    assert "Not saved yet" in body and "2.2 is needed" in body
    assert not RobJudgement.objects.exists()
    response = client.post(domain_url(mine), posted("D1", ANSWERS["D1"], mine.version), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "Saved" in body
    assert "Some concerns" in body and "1.2 (allocation concealed) NI" in body  # the proposal and its reason
    assert 'id="rob-version" name="version" value="2" hx-swap-oob="true"' in body
    assert 'id="D1-j-some_concerns" value="some_concerns" autocomplete="off" checked' in body
    row = RobJudgement.objects.get(assessment=mine, domain="D1")
    assert (row.proposed, row.judgement, row.answers) == ("some_concerns", "some_concerns", ANSWERS["D1"])


def test_an_override_needs_a_reason_and_is_shown_as_one(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    client = web("carol")
    data = posted("D1", ANSWERS["D1"], mine.version, **{"D1-judgement": "low", "D1-proposed": "some_concerns"})
    response = client.post(domain_url(mine), data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert "say why the judgement is low" in body
    assert 'data-overridden="true"' in body and 'id="D1-j-low" value="low" autocomplete="off" checked' in body
    assert not RobJudgement.objects.exists()
    data["D1-reason"] = "Central pharmacy held the list."
    response = client.post(domain_url(mine), data, **HTMX)
    assert response.status_code == 200 and "Override" in response.content.decode()
    row = RobJudgement.objects.get(assessment=mine, domain="D1")
    assert (row.judgement, row.proposed, row.override_reason) == (
        "low",
        "some_concerns",
        "Central pharmacy held the list.",
    )
    # The override stays while other answers change the proposal; the page shows it as one.
    page = client.get(page_url(mine)).content.decode()
    assert "Central pharmacy held the list." in page and "Override" in page


def test_a_stale_save_is_refused_with_what_changed_and_keeps_the_input(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    opened = mine.version
    save(cast.carol, seed, mine, "D3", answers=HIGH_D3)  # another tab
    data = posted("D1", ANSWERS["D1"], opened, **{"D1-support": "Sealed envelopes, not numbered."})
    response = web("carol").post(domain_url(mine), data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 409
    assert "D3: high" in body and "Reload" in body
    assert 'id="q-D1-1_2-NI" value="NI" data-answer-key="5" autocomplete="off" checked' in body
    assert 'id="rob-version"' not in body  # the page keeps the version it read
    assert not RobJudgement.objects.filter(domain="D1").exists()


def test_rob1_judgement_and_support_without_questions(cast, seed, web):
    services.settings_update(user=cast.alice, review_id=seed.review.pk, version=None, tool="rob1")
    mine = start(cast.carol, seed, seed.hardy)
    body = web("carol").get(page_url(mine)).content.decode()
    assert "Random sequence generation" in body and 'rob-answers"' not in body
    data = {"domain": "random_sequence", "version": mine.version, "random_sequence-judgement": "low",
            "random_sequence-support": "“Computer-generated list.”"}  # fmt: skip
    response = web("carol").post(domain_url(mine), data, **HTMX)
    assert response.status_code == 200
    row = RobJudgement.objects.get(assessment=mine)
    assert (row.judgement, row.support) == ("low", "“Computer-generated list.”")


def test_mark_complete_lists_the_missing_domains_then_completes(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    status_url = reverse("rob:status", args=[seed.review.pk, mine.pk])
    save(cast.carol, seed, mine, "D1", answers=ANSWERS["D1"])
    mine.refresh_from_db()
    response = web("carol").post(status_url, {"status": "complete", "version": mine.version}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert "D2: Bias due to deviations from intended intervention" in body and "D5:" in body and "D1:" not in body
    for domain in ("D2", "D3", "D4", "D5"):
        save(cast.carol, seed, mine, domain, answers=ANSWERS[domain])
    mine.refresh_from_db()
    response = web("carol").post(status_url, {"status": "complete", "version": mine.version}, **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == page_url(mine)
    mine.refresh_from_db()
    assert mine.status == "complete"
    page = web("carol").get(page_url(mine)).content.decode()
    save_url = f'hx-post="/reviews/{seed.review.pk}/risk-of-bias/assessments/{mine.pk}/domain/'
    assert "Reopen" in page and save_url not in page  # complete: read-only until reopened


def test_the_overall_override_needs_a_reason(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    for domain in ("D1", "D2", "D3", "D4", "D5"):
        save(cast.carol, seed, mine, domain, answers=ANSWERS[domain])
    mine.refresh_from_db()
    url = reverse("rob:overall_save", args=[seed.review.pk, mine.pk])
    response = web("carol").post(url, {"overall": "high", "version": mine.version}, **HTMX)
    assert response.status_code == 422 and "say why the overall judgement is high" in response.content.decode()
    response = web("carol").post(
        url, {"overall": "high", "overall-reason": "Several concerns add up.", "version": mine.version}, **HTMX
    )
    assert response.status_code == 200 and "Override" in response.content.decode()
    mine.refresh_from_db()
    assert (mine.overall, mine.overall_proposed, mine.overall_override_reason) == (
        "high", "some_concerns", "Several concerns add up.",
    )  # fmt: skip


def test_without_javascript_a_domain_saves_and_comes_back(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    response = web("carol").post(domain_url(mine), posted("D1", ANSWERS["D1"], mine.version))
    assert response.status_code == 302 and response["Location"].endswith("#dom-D1")
    assert RobJudgement.objects.filter(assessment=mine, domain="D1").exists()


# --- consensus, history, settings, plots --------------------------------------------------------------------------


def test_the_editor_settles_discrepancies_side_by_side(cast, seed, web):
    compared(cast, seed)
    body = web("bob").get(reverse("rob:consensus", args=[seed.review.pk])).content.decode()
    assert "Use carol's: Low" in body and "Use erin's: High" in body
    assert "D3: Bias due to missing outcome data" in body and "Overall" in body
    d3 = RobDiscrepancy.objects.get(domain="D3")
    url = reverse("rob:discrepancy_resolve", args=[seed.review.pk, d3.pk])
    assert web("carol").post(url, {"take": "carol"}, **HTMX).status_code == 403
    response = web("bob").post(url, {"take": "carol", "note": "Missing data balanced across arms."}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "Resolved" in body and 'id="rob-open-count" hx-swap-oob="true">1<' in body
    consensus = RobAssessment.objects.get(study=seed.hardy, assessor__isnull=True)
    row = consensus.judgements.get(domain="D3")
    assert row.judgement == "low" and row.support.startswith("Missing data balanced across arms.")
    overall = RobDiscrepancy.objects.get(domain="overall")
    url = reverse("rob:discrepancy_resolve", args=[seed.review.pk, overall.pk])
    response = web("bob").post(url, {"take": ""}, **HTMX)
    assert response.status_code == 422 and "choose another one" in response.content.decode()
    response = web("bob").post(url, {"judgement": "high", "note": "Attrition and concealment together."}, **HTMX)
    assert response.status_code == 200
    consensus.refresh_from_db()
    assert (consensus.overall, consensus.overall_override_reason) == ("high", "Attrition and concealment together.")
    assert consensus.status == "complete"


def test_history_shows_every_judgement_change(cast, seed, web):
    mine = start(cast.carol, seed, seed.hardy)
    save(cast.carol, seed, mine, "D3", answers=ANSWERS["D3"])
    save(cast.carol, seed, mine, "D3", answers=HIGH_D3)
    response = web("carol").get(reverse("rob:history", args=[seed.review.pk, mine.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("D3: Bias due to missing outcome data") >= 2 and "carol" in body
    assert re.search(r"<del>.*?Low.*?</del>", body, re.S) and re.search(r"<ins>.*?High.*?</ins>", body, re.S)


def test_settings_refuse_a_stale_version_and_keep_the_choices(cast, seed, web):
    url = reverse("rob:settings", args=[seed.review.pk])
    response = web("alice").post(url, {"version": 1, "tool": "rob1", "assessors_per_study": 1, "blinded": "on"})
    assert response.status_code == 302
    response = web("alice").post(url, {"version": 1, "tool": "robins", "assessors_per_study": 2})
    body = response.content.decode()
    assert response.status_code == 409 and "Someone else changed these settings" in body
    assert 'value="robins" class="form-check-input" id="id_tool_2" required checked' in body
    response = web("alice").post(url, {"version": 2, "tool": "robins", "assessors_per_study": 2})
    assert response.status_code == 302
    setting = services.settings_for(seed.review)
    assert (setting.tool, setting.assessors_per_study, setting.blinded) == ("robins", 2, False)
    start(cast.carol, seed, seed.hardy)
    body = web("alice").get(url).content.decode()
    assert "cannot change now" in body and "disabled" in body


def test_plots_download_as_svg_and_png(cast, seed, web):
    url = reverse("rob:traffic_light", args=[seed.review.pk])
    assert web("bob").get(url + "?format=svg").status_code == 404  # nothing to plot yet
    empty = web("bob").get(overview_url(seed)).content.decode()
    assert "No consensus judgements yet" in empty
    for study in (seed.yang, seed.hardy):
        assess(cast.carol, seed, study)
        assess(cast.erin, seed, study)
        services.compare(study_id=study.pk, outcome_id=None)
    response = web("bob").get(url + "?format=svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert re.fullmatch(
        r'attachment; filename="ketamine-as-an-adjuvant-to-opioids-for-c\w*-risk-of-bias-traffic-light\.svg"',
        response["Content-Disposition"],
    )
    assert b"Hardy 2012" in response.content and b"<desc>" in response.content
    response = web("bob").get(reverse("rob:summary_bar", args=[seed.review.pk]) + "?format=png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG") and "summary-bar.png" in response["Content-Disposition"]
    assert web("bob").get(url + "?format=pdf").status_code == 400
    assert web("bob").get(url + f"?format=svg&outcome={seed.pain.pk}").status_code == 404  # no result-level ones
    body = web("bob").get(overview_url(seed)).content.decode()
    assert "Traffic-light plot of RoB 2 judgements for 2 studies" in body
    assert "?format=png" in body and "?format=svg" in body
    # The inline SVG carries study labels as escaped text, never as markup.
    Study.objects.filter(pk=seed.hardy.pk).update(label="Hardy <script>alert(1)</script>")
    body = web("bob").get(overview_url(seed)).content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body


def test_result_level_assessments_and_their_plot(cast, seed, web):
    web("carol").post(reverse("rob:start", args=[seed.review.pk]), {"study": seed.hardy.pk, "outcome": seed.pain.pk})
    pain = RobAssessment.objects.get(assessor=cast.carol, outcome=seed.pain)
    body = web("carol").get(overview_url(seed)).content.decode()
    assert "result of Pain intensity" in body
    services.settings_update(user=cast.alice, review_id=seed.review.pk, version=None, assessors_per_study=1)
    for domain in ("D1", "D2", "D3", "D4", "D5"):
        save(cast.carol, seed, pain, domain, answers=ANSWERS[domain])
    pain.refresh_from_db()
    services.assessment_set_status(
        user=cast.carol, review_id=seed.review.pk, assessment_id=pain.pk, version=pain.version, status="complete"
    )
    services.compare(study_id=seed.hardy.pk, outcome_id=seed.pain.pk)
    response = web("bob").get(
        reverse("rob:traffic_light", args=[seed.review.pk]) + f"?format=svg&outcome={seed.pain.pk}"
    )
    assert response.status_code == 200 and "pain-intensity.svg" in response["Content-Disposition"]
    body = web("bob").get(overview_url(seed) + f"?outcome={seed.pain.pk}").content.decode()
    assert body.count("<svg") == 2 and f"&amp;outcome={seed.pain.pk}" in body


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_editor_assigns_and_reviewer_cannot(cast, seed, web, who):
    response = web(who).post(
        reverse("rob:start", args=[seed.review.pk]), {"study": seed.yang.pk, "assessor": cast.erin.pk}, follow=True
    )
    assigned = RobAssessment.objects.filter(assessor=cast.erin, study=seed.yang).exists()
    if who == "bob":
        assert assigned and "erin assesses “Yang 1996”" in response.content.decode()
    else:
        assert not assigned and "Only an editor or owner assigns" in response.content.decode()


def test_robins_is_judgement_only_until_rob_py_asks_questions(cast, seed, web):
    services.settings_update(user=cast.alice, review_id=seed.review.pk, version=None, tool="robins")
    mine = start(cast.carol, seed, seed.hardy)
    body = web("carol").get(page_url(mine)).content.decode()
    assert "D1: Bias due to confounding" in body and "D7: Bias in selection of the reported result" in body
    assert 'id="D1-j-critical"' in body and 'id="D1-j-no_information"' in body
    client = web("carol")
    for number in range(1, 8):
        mine.refresh_from_db()
        data = {
            "domain": f"D{number}",
            "version": mine.version,
            f"D{number}-judgement": "moderate" if number == 1 else "low",
        }
        assert client.post(domain_url(mine), data, **HTMX).status_code == 200
    response = client.get(page_url(mine))
    assert "D1 moderate, none worse → moderate." in response.content.decode()
    mine.refresh_from_db()
    assert (mine.overall_proposed, mine.overall) == ("moderate", "moderate")


def test_a_crossover_trial_has_domain_s_and_its_plot_leaves_it_out(cast, seed, web):
    assess(cast.carol, seed, seed.yang)
    assess(cast.erin, seed, seed.yang)
    services.compare(study_id=seed.yang.pk, outcome_id=None)
    mine = RobAssessment.objects.get(assessor=cast.carol, study=seed.yang)
    body = web("carol").get(page_url(mine)).content.decode()
    assert "DS: Bias arising from period and carryover effects" in body
    response = web("bob").get(reverse("rob:traffic_light", args=[seed.review.pk]) + "?format=svg")
    assert response.status_code == 200 and b"Yang 1996" in response.content


def test_empty_states_say_what_to_do_next(cast, web):
    body = web("bob").get(reverse("rob:overview", args=[cast.review.pk])).content.decode()
    assert "No studies yet" in body and "create the studies" in body
    body = web("bob").get(reverse("rob:consensus", args=[cast.review.pk])).content.decode()
    assert "No open discrepancies. They appear once every assessor" in body


def test_a_complete_assessment_takes_no_saves_until_reopened(cast, seed, web):
    mine = assess(cast.carol, seed, seed.hardy)
    response = web("carol").post(domain_url(mine), posted("D3", HIGH_D3, mine.version), **HTMX)
    assert response.status_code == 409 and "reopen it to change it" in response.content.decode()
    assert RobJudgement.objects.get(assessment=mine, domain="D3").judgement == "low"
    status_url = reverse("rob:status", args=[seed.review.pk, mine.pk])
    assert web("carol").post(status_url, {"status": "in_progress", "version": mine.version}).status_code == 302
    mine.refresh_from_db()
    response = web("carol").post(domain_url(mine), posted("D3", HIGH_D3, mine.version), **HTMX)
    assert response.status_code == 200
    assert RobJudgement.objects.get(assessment=mine, domain="D3").judgement == "high"


def test_the_assessment_page_and_a_save_take_few_queries(cast, seed, web, django_assert_max_num_queries):
    mine = assess(cast.carol, seed, seed.yang)  # a crossover trial: six domains
    status_url = reverse("rob:status", args=[seed.review.pk, mine.pk])
    client = web("carol")
    client.post(status_url, {"status": "in_progress", "version": mine.version})
    mine.refresh_from_db()
    with django_assert_max_num_queries(14):
        assert client.get(page_url(mine)).status_code == 200
    with django_assert_max_num_queries(30):
        response = client.post(domain_url(mine), posted("D3", HIGH_D3, mine.version), **HTMX)
    assert response.status_code == 200
