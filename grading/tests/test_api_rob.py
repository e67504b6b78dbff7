"""REST API of risk of bias: settings, assessments, domain judgements, the overall judgement and completion, the
consensus, discrepancies and their resolution, and history. Each endpoint: the happy path, anonymous (401), too
small a role (403), the outsider dave (404) and another review's ids; blinding (another assessor's assessment
and the consensus are not there for a blinded reviewer, the discrepancies refused), proposals and overrides with
their reasons, stale versions (409 naming what changed), validation messages under the field's name, query
counts and the schema."""

import time
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from extraction.services import studies as study_services
from grading import services
from grading.models import RobAssessment, RobDiscrepancy, RobJudgement

pytestmark = pytest.mark.django_db
REAL_WORKER = not settings.CELERY_TASK_ALWAYS_EAGER

ROLE_OF = {"alice": "owner", "bob": "editor", "carol": "reviewer", "erin": "reviewer"}
RANK = {"reviewer": 1, "editor": 2, "owner": 3}
WHO = ["anonymous", "dave", "carol", "bob", "alice"]

# RoB 2 answers per domain: allocation concealment without information makes D1 "some concerns"; the rest low.
ANSWERS: dict[str, dict[str, str]] = {
    "D1": {"1.1": "Y", "1.2": "NI", "1.3": "N"},
    "D2": {"2.1": "N", "2.2": "N", "2.6": "Y"},
    "D3": {"3.1": "Y"},
    "D4": {"4.1": "N", "4.2": "N", "4.3": "N"},
    "D5": {"5.1": "Y", "5.2": "N", "5.3": "N"},
    "DS": {"S.1": "Y", "S.3": "Y"},
}
HIGH_D3 = {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "Y"}


def expected(who: str, needed: str, success: int) -> int:
    if who == "anonymous":
        return 401
    if who == "dave":
        return 404
    return success if RANK[ROLE_OF[who]] >= RANK[needed] else 403


def url(review: Any, path: str = "") -> str:
    return f"/api/v1/reviews/{review.pk}/risk-of-bias/{path}"


def one(review: Any, assessment: Any, tail: str = "") -> str:
    pk = assessment if isinstance(assessment, int) else assessment.pk
    return url(review, f"{pk}/{tail}")


def domain_url(review: Any, assessment: Any, domain: str) -> str:
    return one(review, assessment, f"domains/{domain}/")


def start(user: Any, seed: Any, study: Any, **kw: Any) -> RobAssessment:
    return services.assessment_start(user=user, review_id=seed.review.pk, study_id=study.pk, **kw)


def assess(user: Any, seed: Any, study: Any, overrides: dict[str, dict[str, str]] | None = None) -> RobAssessment:
    """A complete RoB 2 assessment of the study through the services (ANSWERS, some domains replaced)."""
    a = start(user, seed, study)
    for domain in services.domains_for(a.tool, study):
        services.judgement_save(
            user=user, review_id=seed.review.pk, assessment_id=a.pk, version=None, domain=domain,
            answers={**ANSWERS, **(overrides or {})}[domain],
        )  # fmt: skip
    return services.assessment_set_status(
        user=user, review_id=seed.review.pk, assessment_id=a.pk, version=None, status="complete"
    )


def assess_through_the_api(client: Any, seed: Any, study: Any, overrides: dict | None = None) -> dict:
    started = client.post(url(seed.review), {"study": study.pk})
    assert started.status_code in (200, 201), started.json()
    body = started.json()
    for domain in [d["domain"] for d in body["domains"]]:
        saved = client.put(
            domain_url(seed.review, body["id"], domain),
            {"version": body["version"], "answers": {**ANSWERS, **(overrides or {})}[domain]},
        )
        assert saved.status_code == 200, saved.json()
        body = saved.json()
    done = client.patch(one(seed.review, body["id"]), {"version": body["version"], "status": "complete"})
    assert done.status_code == 200, done.json()
    return done.json()


def consensus_of(study: Any) -> RobAssessment:
    return RobAssessment.objects.get(study=study, outcome__isnull=True, assessor__isnull=True)


def foreign_study(cast: Any) -> Any:
    return study_services.study_create(user=cast.dave, review_id=cast.other_review.pk, label="Foreign 2001")


@pytest.fixture
def disputed(cast, seed) -> dict[str, RobDiscrepancy]:
    """carol and erin assessed Hardy 2012 completely; erin judged D3 high, so D3 and the overall differ."""
    assess(cast.carol, seed, seed.hardy)
    assess(cast.erin, seed, seed.hardy, overrides={"D3": HIGH_D3})
    services.compare(study_id=seed.hardy.pk, outcome_id=None)
    return {d.domain: d for d in RobDiscrepancy.objects.filter(study=seed.hardy)}


# --- settings -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_settings_matrix(cast, api, who):
    client = api(who)
    read = client.get(url(cast.review, "settings/"))
    assert read.status_code == expected(who, "reviewer", 200)
    if read.status_code == 200:
        assert read.json() == {"tool": "rob2", "assessors_per_study": 2, "blinded": True, "version": 1}
    changed = client.patch(url(cast.review, "settings/"), {"version": 1, "blinded": False})
    assert changed.status_code == expected(who, "owner", 200)
    if changed.status_code == 200:
        assert changed.json() == {"tool": "rob2", "assessors_per_study": 2, "blinded": False, "version": 2}
    assert services.settings_for(cast.review).blinded == (changed.status_code != 200)


def test_settings_versions_and_choices(cast, seed, api):
    client = api("alice")
    path = url(cast.review, "settings/")
    missing = client.patch(path, {"blinded": False})
    assert missing.status_code == 400 and "version" in missing.json()["errors"]
    bad = client.patch(path, {"version": 1, "assessors_per_study": 3, "tool": "grade"})
    assert bad.status_code == 400 and {"assessors_per_study", "tool"} <= set(bad.json()["errors"])
    assert client.patch(path, {"version": 1, "tool": "rob1"}).json()["tool"] == "rob1"
    stale = client.patch(path, {"version": 1, "blinded": False})
    assert stale.status_code == 409 and "your version 1, now 2" in stale.json()["detail"]
    start(cast.carol, seed, seed.hardy)
    locked = client.patch(path, {"version": 2, "tool": "rob2"})
    assert locked.status_code == 400 and "cannot change" in locked.json()["errors"]["tool"][0]
    assert client.get(path).json()["tool"] == "rob1"


# --- starting assessments ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_start_matrix(cast, seed, api, who):
    response = api(who).post(url(cast.review), {"study": seed.hardy.pk})
    assert response.status_code == expected(who, "reviewer", 201)
    assert RobAssessment.objects.filter(study=seed.hardy).count() == (1 if response.status_code == 201 else 0)
    if response.status_code != 201:
        return
    body = response.json()
    assert body["assessor"] == who and body["study"] == seed.hardy.pk and body["study_label"] == "Hardy 2012"
    assert (body["outcome"], body["outcome_name"], body["consensus"]) == (None, None, False)
    assert (body["tool"], body["variant"], body["status"], body["version"]) == ("rob2", "assignment", "in_progress", 1)
    assert (body["overall"], body["overall_proposed"], body["judgements"]) == ("", "", [])
    assert [d["domain"] for d in body["domains"]] == ["D1", "D2", "D3", "D4", "D5"]  # a parallel trial: no DS
    d2 = next(d for d in body["domains"] if d["domain"] == "D2")
    assert [q["id"] for q in d2["questions"]] == ["2.1", "2.2", "2.6"]  # the conditional ones wait for answers
    assert d2["questions"][0]["allowed"] == ["Y", "PY", "PN", "N", "NI"]
    again = api(who).post(url(cast.review), {"study": seed.hardy.pk})
    assert again.status_code == 200 and again.json()["id"] == body["id"]


def test_start_choices_assignment_and_limits(cast, seed, api):
    carol, bob = api("carol"), api("bob")
    other = foreign_study(cast)
    foreign = carol.post(url(cast.review), {"study": other.pk})
    assert foreign.status_code == 400 and "study" in foreign.json()["errors"]
    missing = carol.post(url(cast.review), {})
    assert missing.status_code == 400 and "study" in missing.json()["errors"]
    foreign_outcome = study_services.outcome_create(
        user=cast.dave, review_id=cast.other_review.pk, name="Mortality", type="dichotomous"
    )
    refused = carol.post(url(cast.review), {"study": seed.hardy.pk, "outcome": foreign_outcome.pk})
    assert refused.status_code == 400 and "outcome" in refused.json()["errors"]
    assert carol.post(url(cast.review), {"study": seed.hardy.pk, "variant": "per_protocol"}).status_code == 400
    assigning = carol.post(url(cast.review), {"study": seed.yang.pk, "assessor": cast.erin.pk})
    assert assigning.status_code == 400 and "assessor" in assigning.json()["errors"]
    assert bob.post(url(cast.review), {"study": seed.yang.pk, "assessor": cast.dave.pk}).status_code == 400
    assert not RobAssessment.objects.exists()

    assigned = bob.post(url(cast.review), {"study": seed.yang.pk, "assessor": cast.erin.pk, "variant": "adhering"})
    assert assigned.status_code == 201 and assigned.json()["assessor"] == "erin"
    assert [d["domain"] for d in assigned.json()["domains"]] == ["D1", "D2", "D3", "D4", "D5", "DS"]  # crossover
    pain = carol.post(url(cast.review), {"study": seed.yang.pk, "outcome": seed.pain.pk})
    assert pain.status_code == 201 and (pain.json()["outcome"], pain.json()["outcome_name"]) == (
        seed.pain.pk,
        "Pain intensity",
    )
    assert carol.post(url(cast.review), {"study": seed.yang.pk}).status_code == 201
    full = api("alice").post(url(cast.review), {"study": seed.yang.pk})
    assert full.status_code == 409 and "already has its 2 assessors" in full.json()["detail"]


# --- reading: blinding and outsiders -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "dave"])
def test_assessments_are_not_there_for_outsiders(cast, seed, api, who):
    mine = start(cast.carol, seed, seed.hardy)
    client = api(who)
    code = expected(who, "reviewer", 200)
    assert client.get(url(cast.review)).status_code == code
    assert client.get(one(cast.review, mine)).status_code == code
    assert client.get(one(cast.review, mine, "history/")).status_code == code
    assert client.put(domain_url(cast.review, mine, "D3"), {"version": 1, "answers": ANSWERS["D3"]}).status_code == code
    assert client.patch(one(cast.review, mine), {"version": 1, "status": "complete"}).status_code == code
    assert client.get(url(cast.review, "discrepancies/")).status_code == code
    assert client.post(url(cast.review, "consensus/"), {"study": seed.hardy.pk}).status_code == code
    assert "Hardy" not in client.get(url(cast.review)).content.decode()
    assert not RobJudgement.objects.exists() and RobAssessment.objects.count() == 1


def test_blinding_a_reviewer_reads_only_their_own_assessment(cast, seed, api):
    mine, hers = start(cast.carol, seed, seed.hardy), start(cast.erin, seed, seed.hardy)
    carol = api("carol")
    assert [a["id"] for a in carol.get(url(cast.review)).json()["results"]] == [mine.pk]
    assert carol.get(one(cast.review, hers)).status_code == 404
    assert carol.get(one(cast.review, hers, "history/")).status_code == 404
    put = carol.put(domain_url(cast.review, hers, "D3"), {"version": 1, "answers": ANSWERS["D3"]})
    assert put.status_code == 404
    assert carol.patch(domain_url(cast.review, hers, "D3"), {"version": 1, "support": "x"}).status_code == 404
    assert (
        carol.patch(
            one(cast.review, hers), {"version": 1, "overall": "low", "overall_override_reason": "x"}
        ).status_code
        == 404
    )
    assert not RobJudgement.objects.filter(assessment=hers).exists()
    listed = api("bob").get(url(cast.review)).json()["results"]
    assert {a["assessor"] for a in listed} == {"carol", "erin"}
    assert api("bob").get(one(cast.review, hers)).json()["assessor"] == "erin"
    # unblinded, reviewers read each other's assessment but still cannot write it
    services.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, blinded=False)
    assert carol.get(one(cast.review, hers)).json()["assessor"] == "erin"
    assert carol.put(domain_url(cast.review, hers, "D3"), {"version": 1, "answers": ANSWERS["D3"]}).status_code == 404


def test_a_blinded_reviewers_list_is_the_same_before_and_after_the_other_assessor_works(cast, seed, api):
    carol = api("carol")
    assess(cast.carol, seed, seed.hardy)
    before = carol.get(url(cast.review)).json()
    with_filters = carol.get(url(cast.review), {"study": seed.hardy.pk, "assessor": "consensus"}).json()
    assess_through_the_api(api("erin"), seed, seed.hardy, overrides={"D3": HIGH_D3})
    services.compare(study_id=seed.hardy.pk, outcome_id=None)
    assert RobDiscrepancy.objects.count() == 2 and consensus_of(seed.hardy).judgements.exists()
    assert carol.get(url(cast.review)).json() == before
    assert carol.get(url(cast.review), {"study": seed.hardy.pk, "assessor": "consensus"}).json() == with_filters
    assert with_filters["count"] == 0
    assert carol.get(one(cast.review, consensus_of(seed.hardy))).status_code == 404
    assert carol.get(one(cast.review, consensus_of(seed.hardy), "history/")).status_code == 404
    refused = carol.get(url(cast.review, "discrepancies/"))
    assert refused.status_code == 403 and "high" not in refused.content.decode()
    # the editor sees both, the consensus and the discrepancies
    assert api("bob").get(url(cast.review)).json()["count"] == 3


def test_list_filters(cast, seed, api):
    assess(cast.carol, seed, seed.hardy)
    assess(cast.erin, seed, seed.hardy)
    services.compare(study_id=seed.hardy.pk, outcome_id=None)
    pain = start(cast.carol, seed, seed.hardy, outcome_id=seed.pain.pk)
    start(cast.carol, seed, seed.yang)
    bob = api("bob")

    def ids(**query: Any) -> list[int]:
        response = bob.get(url(cast.review), query)
        assert response.status_code == 200, response.json()
        return [a["id"] for a in response.json()["results"]]

    assert len(ids()) == 5
    assert set(ids(study=seed.hardy.pk)) == set(
        RobAssessment.objects.filter(study=seed.hardy).values_list("pk", flat=True)
    )
    assert ids(outcome=seed.pain.pk) == [pain.pk]
    assert len(ids(study=seed.hardy.pk, outcome="none")) == 3
    assert ids(assessor="consensus") == [consensus_of(seed.hardy).pk]
    assert ids(assessor="me") == []
    assert len(api("carol").get(url(cast.review), {"assessor": "me"}).json()["results"]) == 3
    assert bob.get(url(cast.review), {"assessor": "erin"}).status_code == 400
    assert bob.get(url(cast.review), {"outcome": "some"}).status_code == 400
    assert bob.get(url(cast.review), {"study": foreign_study(cast).pk}).status_code == 404
    page = bob.get(url(cast.review), {"page_size": 2}).json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"]


def test_another_reviews_assessment_is_not_found_and_not_changed(cast, seed, api):
    other = foreign_study(cast)
    theirs = services.assessment_start(user=cast.dave, review_id=cast.other_review.pk, study_id=other.pk)
    for path in (one(cast.review, theirs), one(cast.review, theirs, "history/")):
        assert api("bob").get(path).status_code == 404
    assert (
        api("alice").put(domain_url(cast.review, theirs, "D1"), {"version": 1, "answers": ANSWERS["D1"]}).status_code
        == 404
    )
    assert api("bob").get(url(cast.other_review)).status_code == 404
    assert not RobJudgement.objects.exists()


# --- judging ------------------------------------------------------------------------------------------------------


def test_proposal_override_with_reason_round_trip_and_questions(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    carol = api("carol")
    d1 = domain_url(cast.review, mine, "D1")
    saved = carol.put(d1, {"version": 1, "answers": ANSWERS["D1"], "support": "“Randomisation by computer.”"})
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    row = body["judgements"][0]
    assert (row["domain"], row["proposed"], row["judgement"], row["override_reason"]) == (
        "D1", "some_concerns", "some_concerns", "",
    )  # fmt: skip
    assert row["answers"] == ANSWERS["D1"] and row["updated_by"] == "carol" and body["version"] == 2
    no_reason = carol.put(d1, {"version": 2, "answers": ANSWERS["D1"], "judgement": "low"})
    assert no_reason.status_code == 400
    assert "say why the judgement is low" in no_reason.json()["errors"]["override_reason"][0]
    overridden = carol.put(
        d1, {"version": 2, "answers": ANSWERS["D1"], "judgement": "low", "override_reason": "Pharmacy-held list."}
    )
    assert overridden.status_code == 200
    read = carol.get(one(cast.review, mine)).json()
    row = read["judgements"][0]
    assert (row["proposed"], row["judgement"], row["override_reason"]) == (
        "some_concerns",
        "low",
        "Pharmacy-held list.",
    )
    assert row["support"] == ""  # PUT replaces the whole judgement
    # PATCH keeps what is not sent: the override and its reason stay
    patched = carol.patch(d1, {"version": read["version"], "support": "Central pharmacy."}).json()
    row = patched["judgements"][0]
    assert (row["judgement"], row["override_reason"], row["support"]) == (
        "low",
        "Pharmacy-held list.",
        "Central pharmacy.",
    )
    # a judgement that follows the proposal follows the new answers' proposal
    d2 = domain_url(cast.review, mine, "D2")
    carol.put(d2, {"version": patched["version"], "answers": ANSWERS["D2"]})
    version = carol.get(one(cast.review, mine)).json()["version"]
    aware = {**ANSWERS["D2"], "2.1": "Y", "2.3": "Y", "2.4": "Y", "2.5": "N"}
    changed = carol.patch(d2, {"version": version, "answers": aware}).json()
    row = next(j for j in changed["judgements"] if j["domain"] == "D2")
    assert (row["proposed"], row["judgement"], row["override_reason"]) == ("high", "high", "")
    questions = next(d for d in changed["domains"] if d["domain"] == "D2")["questions"]
    assert [q["id"] for q in questions] == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]
    assert questions[3]["needed_when"] == "2.3 is Y/PY"


def test_judgement_validation_names_the_field(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    carol = api("carol")
    d1 = domain_url(cast.review, mine, "D1")

    def error(path: str, data: dict, field: str) -> str:
        response = carol.put(path, data)
        assert response.status_code == 400, response.json()
        return str(response.json()["errors"][field])

    assert error(d1, {"answers": ANSWERS["D1"]}, "version")
    assert error(d1, {"version": 1, "answers": {"1.1": "maybe"}}, "answers")
    assert "1.2 is needed" in error(d1, {"version": 1, "answers": {"1.1": "Y", "1.3": "N"}}, "answers")
    assert "Answer the signalling questions" in error(d1, {"version": 1}, "answers")
    assert "Choose one of" in error(d1, {"version": 1, "answers": ANSWERS["D1"], "judgement": "unclear"}, "judgement")
    assert "not a domain here" in error(
        domain_url(cast.review, mine, "DS"), {"version": 1, "answers": ANSWERS["DS"]}, "domain"
    )
    assert "D1, D2, D3, D4, D5" in error(domain_url(cast.review, mine, "D9"), {"version": 1, "answers": {}}, "domain")
    mine.refresh_from_db()
    assert mine.version == 1 and not RobJudgement.objects.exists()


def test_a_stale_save_is_refused_with_what_changed(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    first, second = api("carol"), api("carol")
    assert first.put(domain_url(cast.review, mine, "D3"), {"version": 1, "answers": HIGH_D3}).status_code == 200
    stale = second.put(domain_url(cast.review, mine, "D1"), {"version": 1, "answers": ANSWERS["D1"]})
    assert stale.status_code == 409
    detail = stale.json()["detail"]
    assert "your version 1, now 2" in detail and "D3: high" in detail
    assert not RobJudgement.objects.filter(assessment=mine, domain="D1").exists()
    stale_patch = second.patch(domain_url(cast.review, mine, "D3"), {"version": 1, "support": "x"})
    assert stale_patch.status_code == 409
    stale_overall = second.patch(one(cast.review, mine), {"version": 1, "status": "in_progress"})
    assert stale_overall.status_code == 409 and "D3: high" in stale_overall.json()["detail"]


def test_overall_judgement_and_completing(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    carol = api("carol")
    path = one(cast.review, mine)
    version = 1
    for domain in ("D1", "D2", "D3", "D4"):
        version = carol.put(
            domain_url(cast.review, mine, domain), {"version": version, "answers": ANSWERS[domain]}
        ).json()["version"]
    early = carol.patch(path, {"version": version, "status": "complete"})
    assert early.status_code == 400 and "D5 not judged" in early.json()["errors"]["status"][0]
    body = carol.put(domain_url(cast.review, mine, "D5"), {"version": version, "answers": ANSWERS["D5"]}).json()
    assert (body["overall_proposed"], body["overall"]) == ("some_concerns", "some_concerns")
    assert carol.patch(path, {"version": body["version"]}).status_code == 400  # nothing to do
    assert carol.patch(path, {"version": body["version"], "status": "done"}).status_code == 400
    reasonless = carol.patch(path, {"version": body["version"], "overall": "high"})
    assert reasonless.status_code == 400 and "overall_override_reason" in reasonless.json()["errors"]
    unknown = carol.patch(path, {"version": body["version"], "overall": "critical", "overall_override_reason": "x"})
    assert unknown.status_code == 400 and "overall" in unknown.json()["errors"]
    done = carol.patch(
        path, {"version": body["version"], "overall": "high", "overall_override_reason": "Several concerns together.",
               "status": "complete"},
    )  # fmt: skip
    assert done.status_code == 200, done.json()
    body = done.json()
    assert (body["overall"], body["overall_proposed"], body["status"]) == ("high", "some_concerns", "complete")
    assert body["overall_override_reason"] == "Several concerns together." and body["version"] == version + 3
    reopened = carol.patch(path, {"version": body["version"], "status": "in_progress"})
    assert reopened.json()["status"] == "in_progress"


def test_overall_and_status_in_one_patch_are_saved_together_or_not_at_all(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    carol = api("carol")
    body = carol.put(domain_url(cast.review, mine, "D1"), {"version": 1, "answers": ANSWERS["D1"]}).json()
    refused = carol.patch(
        one(cast.review, mine),
        {"version": body["version"], "overall": "high", "overall_override_reason": "x", "status": "complete"},
    )
    assert refused.status_code == 400 and "status" in refused.json()["errors"]
    mine.refresh_from_db()
    assert (mine.overall, mine.version) == ("", body["version"])


def test_rob1_and_robins_take_judgements_without_questions(cast, seed, api):
    services.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, tool="rob1")
    carol = api("carol")
    body = carol.post(url(cast.review), {"study": seed.hardy.pk}).json()
    assert body["tool"] == "rob1" and len(body["domains"]) == 7
    assert all(d["questions"] == [] for d in body["domains"])
    saved = carol.put(
        domain_url(cast.review, body["id"], "random_sequence"),
        {"version": 1, "judgement": "low", "support": "Computer-generated list."},
    )
    assert saved.status_code == 200
    assert saved.json()["judgements"][0]["judgement"] == "low" and saved.json()["judgements"][0]["proposed"] == ""
    patched = carol.patch(domain_url(cast.review, body["id"], "random_sequence"), {"version": 2, "support": "List."})
    assert patched.json()["judgements"][0]["judgement"] == "low"  # the given judgement stays
    wrong = carol.put(domain_url(cast.review, body["id"], "other"), {"version": 3, "judgement": "some_concerns"})
    assert wrong.status_code == 400 and "low, high, unclear" in wrong.json()["errors"]["judgement"][0]

    RobAssessment.objects.all().delete()
    services.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, tool="robins")
    body = carol.post(url(cast.review), {"study": seed.hardy.pk}).json()
    assert [d["domain"] for d in body["domains"]] == ["D1", "D2", "D3", "D4", "D5", "D6", "D7"]
    saved = carol.put(
        domain_url(cast.review, body["id"], "D1"), {"version": 1, "answers": {"1.1": "Y"}, "judgement": "moderate"}
    )
    assert saved.status_code == 200 and saved.json()["judgements"][0]["answers"] == {"1.1": "Y"}


# --- consensus, discrepancies and resolution ---------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_consensus_start_matrix(cast, seed, api, who):
    response = api(who).post(url(cast.review, "consensus/"), {"study": seed.yang.pk})
    assert response.status_code == expected(who, "editor", 201)
    assert RobAssessment.objects.filter(assessor__isnull=True).exists() == (response.status_code == 201)
    if response.status_code == 201:
        body = response.json()
        assert (body["assessor"], body["consensus"], body["study"]) == (None, True, seed.yang.pk)
        again = api(who).post(url(cast.review, "consensus/"), {"study": seed.yang.pk})
        assert again.status_code == 200 and again.json()["id"] == body["id"]
        assert api("carol").get(one(cast.review, body["id"])).status_code == 404
        refused = api("carol").put(domain_url(cast.review, body["id"], "D1"), {"version": 1, "answers": ANSWERS["D1"]})
        assert refused.status_code == 404
        foreign = api(who).post(url(cast.review, "consensus/"), {"study": foreign_study(cast).pk})
        assert foreign.status_code == 400 and "study" in foreign.json()["errors"]


def test_the_editor_writes_the_consensus_and_the_worker_leaves_it(cast, seed, disputed, api):
    agreed = consensus_of(seed.hardy)
    bob = api("bob")
    read = bob.get(one(cast.review, agreed)).json()
    assert {j["domain"]: j["updated_by"] for j in read["judgements"]} == dict.fromkeys(("D1", "D2", "D4", "D5"))
    saved = bob.put(
        domain_url(cast.review, agreed, "D3"), {"version": read["version"], "answers": {"3.1": "N", "3.2": "Y"}}
    )
    assert saved.status_code == 200
    row = next(j for j in saved.json()["judgements"] if j["domain"] == "D3")
    assert (row["judgement"], row["updated_by"]) == ("low", "bob")
    services.compare(study_id=seed.hardy.pk, outcome_id=None)
    assert RobJudgement.objects.get(assessment=agreed, domain="D3").updated_by == cast.bob


@pytest.mark.parametrize("who", WHO)
def test_discrepancy_list_matrix(cast, seed, disputed, api, who):
    response = api(who).get(url(cast.review, "discrepancies/"))
    assert response.status_code == expected(who, "editor", 200)
    if response.status_code == 200:
        found = {d["domain"]: d for d in response.json()["results"]}
        assert set(found) == {"D3", "overall"}
        assert found["D3"]["values"] == {"carol": "low", "erin": "high"}
        assert found["overall"]["values"] == {"carol": "some_concerns", "erin": "high"}
        assert (found["D3"]["status"], found["D3"]["study_label"], found["D3"]["outcome"]) == (
            "open",
            "Hardy 2012",
            None,
        )
    else:
        assert "erin" not in response.content.decode()


def test_discrepancy_filters_and_unblinded_reviewers(cast, seed, disputed, api):
    bob = api("bob")
    base = url(cast.review, "discrepancies/")
    assert bob.get(base, {"status": "open"}).json()["count"] == 2
    assert bob.get(base, {"status": "resolved"}).json()["count"] == 0
    assert bob.get(base, {"study": seed.hardy.pk, "status": "open"}).json()["count"] == 2
    assert bob.get(base, {"study": seed.yang.pk}).json()["count"] == 0
    assert bob.get(base, {"status": "maybe"}).status_code == 400
    assert bob.get(base, {"study": foreign_study(cast).pk}).status_code == 404
    services.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, blinded=False)
    assert api("carol").get(base).json()["count"] == 2
    assert api("carol").get(url(cast.review)).json()["count"] == 3  # both assessments and the consensus
    resolve = url(cast.review, f"discrepancies/{disputed['D3'].pk}/resolve/")
    assert api("carol").post(resolve, {"take": "erin"}).status_code == 403  # reading is not resolving


@pytest.mark.parametrize("who", WHO)
def test_discrepancy_resolve_matrix(cast, seed, disputed, api, who):
    d3 = disputed["D3"]
    response = api(who).post(url(cast.review, f"discrepancies/{d3.pk}/resolve/"), {"take": "erin"})
    assert response.status_code == expected(who, "editor", 200)
    d3.refresh_from_db()
    assert (d3.status == "resolved") == (response.status_code == 200)
    if response.status_code == 200:
        body = response.json()
        assert (body["status"], body["resolution"], body["resolved_by"]) == ("resolved", "high", who)
        assert RobJudgement.objects.get(assessment=consensus_of(seed.hardy), domain="D3").judgement == "high"


def test_resolving_settles_the_consensus_and_errors_name_the_field(cast, seed, disputed, api):
    bob = api("bob")
    d3 = url(cast.review, f"discrepancies/{disputed['D3'].pk}/resolve/")
    overall = url(cast.review, f"discrepancies/{disputed['overall'].pk}/resolve/")
    assert bob.post(d3, {"take": "carol", "judgement": "low"}).status_code == 400
    assert bob.post(d3, {}).status_code == 400
    not_theirs = bob.post(d3, {"take": "dave"})
    assert not_theirs.status_code == 400 and "carol, erin" in not_theirs.json()["errors"]["take"][0]
    wrong = bob.post(d3, {"judgement": "moderate"})
    assert wrong.status_code == 400 and "judgement" in wrong.json()["errors"]
    settled = bob.post(d3, {"take": "carol", "note": "Attrition balanced across arms."}).json()
    assert (settled["resolution"], settled["note"]) == ("low", "Attrition balanced across arms.")
    settled = bob.post(overall, {"judgement": "some_concerns", "note": "Follows the domains."}).json()
    assert (settled["status"], settled["note"]) == ("resolved", "Follows the domains.")  # kept, though no override
    agreed = bob.get(one(cast.review, consensus_of(seed.hardy))).json()
    assert (agreed["overall"], agreed["overall_proposed"], agreed["status"]) == ("some_concerns",) * 2 + ("complete",)
    row = next(j for j in agreed["judgements"] if j["domain"] == "D3")
    assert (row["judgement"], row["updated_by"]) == ("low", "bob")
    assert row["support"] == "Attrition balanced across arms.\n(Discrepancy resolved by bob, taking carol's judgement.)"
    assert agreed["overall_override_reason"] == ""  # the proposal needs no reason
    assert bob.get(url(cast.review, "discrepancies/"), {"status": "resolved"}).json()["count"] == 2


def test_another_reviews_discrepancy_is_not_found_and_not_resolved(cast, seed, api):
    other = foreign_study(cast)
    theirs = RobDiscrepancy.objects.create(
        review=cast.other_review, study=other, domain="D1", values={"x": "low", "y": "high"}
    )
    assert api("bob").post(url(cast.review, f"discrepancies/{theirs.pk}/resolve/"), {"take": "x"}).status_code == 404
    assert (
        api("bob").post(url(cast.other_review, f"discrepancies/{theirs.pk}/resolve/"), {"take": "x"}).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == "open"


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_two_assessors_complete_through_the_api_and_the_worker_flags_where_they_differ(cast, seed, api, tasks):
    with tasks.run():
        assess_through_the_api(api("carol"), seed, seed.hardy)
    with tasks.run():
        assess_through_the_api(api("erin"), seed, seed.hardy, overrides={"D3": HIGH_D3})
    deadline = time.monotonic() + 30
    while RobDiscrepancy.objects.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    found = api("bob").get(url(cast.review, "discrepancies/")).json()["results"]
    assert {d["domain"]: d["values"]["erin"] for d in found} == {"D3": "high", "overall": "high"}
    agreed = api("bob").get(url(cast.review), {"assessor": "consensus"}).json()["results"]
    assert [j["domain"] for j in agreed[0]["judgements"]] == ["D1", "D2", "D4", "D5"]


# --- history ------------------------------------------------------------------------------------------------------


def test_history_of_every_judgement_with_who_and_what(cast, seed, disputed, api):
    carols = RobAssessment.objects.get(assessor=cast.carol)
    carol = api("carol")
    d3 = domain_url(cast.review, carols, "D3")
    version = carol.put(d3, {"version": carols.version, "answers": HIGH_D3}).json()["version"]
    carol.put(d3, {"version": version, "answers": HIGH_D3, "judgement": "some_concerns", "override_reason": "Few."})
    changes = carol.get(one(cast.review, carols, "history/")).json()
    d3_changes = [c for c in changes["results"] if c["domain"] == "D3"]
    assert [(c["change"], c["old_judgement"], c["new_judgement"], c["user"]) for c in d3_changes] == [
        ("changed", "high", "some_concerns", "carol"),
        ("changed", "low", "high", "carol"),
        ("created", "", "low", "carol"),
    ]
    assert d3_changes[1]["old_answers"] == ANSWERS["D3"] and d3_changes[1]["new_answers"] == HIGH_D3
    assert (d3_changes[0]["proposed"], d3_changes[0]["override_reason"]) == ("high", "Few.")
    assert d3_changes[2]["old_answers"] is None
    overall = [(c["old_judgement"], c["new_judgement"]) for c in changes["results"] if c["domain"] == "overall"]
    assert overall[0] == ("high", "some_concerns") and overall[-1] == ("", "some_concerns")
    # the consensus: the worker's agreed judgements (user null), then the editor's resolution
    agreed = consensus_of(seed.hardy)
    services.discrepancy_resolve(user=cast.bob, review_id=cast.review.pk, discrepancy_id=disputed["D3"].pk, take="erin")
    history = api("bob").get(one(cast.review, agreed, "history/")).json()["results"]
    assert (history[0]["domain"], history[0]["user"], history[0]["new_judgement"]) == ("D3", "bob", "high")
    assert {c["user"] for c in history if c["domain"] in ("D1", "D2")} == {None}
    assert carol.get(one(cast.review, agreed, "history/")).status_code == 404


# --- query counts and schema -------------------------------------------------------------------------------------


def test_the_list_takes_a_constant_number_of_queries(cast, seed, api, django_assert_max_num_queries):
    """token, membership, (a reviewer: the settings, for blinding), count, assessments, judgements."""
    bob, carol = api("bob"), api("carol")
    assess(cast.carol, seed, seed.hardy)
    carol.get(url(cast.review))  # the settings row is made on first use
    with CaptureQueriesContext(connection) as one_assessment:
        assert bob.get(url(cast.review)).json()["count"] == 1
    assert len(one_assessment.captured_queries) == 5
    for study in (seed.yang, seed.mercadante):
        assess(cast.carol, seed, study)
    for study in (seed.yang, seed.mercadante, seed.hardy):
        assess(cast.erin, seed, study)
        services.compare(study_id=study.pk, outcome_id=None)
    for outcome in (seed.pain, seed.adverse):
        start(cast.carol, seed, seed.hardy, outcome_id=outcome.pk)
    with django_assert_max_num_queries(5):
        body = bob.get(url(cast.review)).json()
    assert body["count"] == 11 and sum(len(a["judgements"]) for a in body["results"]) == 3 * (6 + 6 + 5)
    with django_assert_max_num_queries(6):
        mine = carol.get(url(cast.review)).json()
    assert mine["count"] == 5 and {a["assessor"] for a in mine["results"]} == {"carol"}


def test_the_schema_documents_the_risk_of_bias_endpoints(cast, web, tmp_path):
    schema = web("carol").get("/api/schema/?format=json").json()
    base = "/api/v1/reviews/{review_pk}/risk-of-bias/"
    expected_paths = {
        "": {"get", "post"},
        "{id}/": {"get", "patch"},
        "{id}/domains/{domain}/": {"put", "patch"},
        "{id}/history/": {"get"},
        "consensus/": {"post"},
        "settings/": {"get", "patch"},
        "discrepancies/": {"get"},
        "discrepancies/{id}/resolve/": {"post"},
    }
    for path, methods in expected_paths.items():
        operations = schema["paths"][base + path]
        assert set(operations) - {"parameters"} == methods, path
        for operation in operations.values():
            assert operation["tags"] == ["risk of bias"], path
            assert {"400", "401", "403", "404", "409"} <= set(operation["responses"]), path
    listed = schema["paths"][base]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"study", "outcome", "assessor", "page", "page_size"}
    assert listed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "PaginatedRobAssessmentList"
    )
    components = schema["components"]["schemas"]
    assert set(components["PatchedRobJudgementRequest"]["properties"]) == {
        "version", "answers", "judgement", "override_reason", "support",
    }  # fmt: skip
    assert set(components["PatchedRobAssessmentRequest"]["properties"]) == {
        "version", "overall", "overall_override_reason", "status",
    }  # fmt: skip
    assert "questions" in components["RobDomain"]["properties"]
    # the whole schema validates without a warning (drf-spectacular's own check, as `make lint` runs it)
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_answers_and_texts_are_checked_for_shape_and_size(cast, seed, api):
    services.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, tool="rob1")
    carol = api("carol")
    body = carol.post(url(cast.review), {"study": seed.hardy.pk}).json()
    where = domain_url(cast.review, body["id"], "random_sequence")
    junk = carol.put(where, {"version": 1, "judgement": "low", "answers": {"1.1": "Y"}})
    assert junk.status_code == 400 and "no signalling questions" in junk.json()["errors"]["answers"][0]
    long = carol.put(where, {"version": 1, "judgement": "low", "support": "x" * 5001})
    assert long.status_code == 400 and "support" in long.json()["errors"]
    RobAssessment.objects.all().delete()
    services.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, tool="robins")
    body = carol.post(url(cast.review), {"study": seed.hardy.pk}).json()
    where = domain_url(cast.review, body["id"], "D1")
    many = {f"{i}.{j}": "Y" for i in range(9) for j in range(9)}
    assert carol.put(where, {"version": 1, "answers": many, "judgement": "low"}).status_code == 400
    odd = carol.put(where, {"version": 1, "answers": {"a-very-long-question-id": "Y"}, "judgement": "low"})
    assert odd.status_code == 400 and "question id" in odd.json()["errors"]["answers"][0]
    assert RobJudgement.objects.count() == 0


def test_a_reopened_discrepancy_drops_the_old_resolution_note(cast, seed, disputed, api):
    bob = api("bob")
    d3 = url(cast.review, f"discrepancies/{disputed['D3'].pk}/resolve/")
    assert bob.post(d3, {"take": "carol", "note": "Balanced attrition."}).json()["note"] == "Balanced attrition."
    erins = RobAssessment.objects.get(study=seed.hardy, assessor=cast.erin)
    services.assessment_set_status(
        user=cast.erin, review_id=cast.review.pk, assessment_id=erins.pk, version=erins.version, status="in_progress"
    )
    erins.refresh_from_db()
    services.judgement_save(user=cast.erin, review_id=cast.review.pk, assessment_id=erins.pk, version=erins.version,
                            domain="D3", answers=HIGH_D3, judgement="some_concerns",
                            override_reason="Missingness unlikely to depend on pain.")  # fmt: skip
    erins.refresh_from_db()
    services.assessment_set_status(
        user=cast.erin, review_id=cast.review.pk, assessment_id=erins.pk, version=erins.version, status="complete"
    )
    services.compare(study_id=seed.hardy.pk, outcome_id=None)
    found = RobDiscrepancy.objects.get(pk=disputed["D3"].pk)
    assert (found.status, found.note, found.resolution) == ("open", "", "")
