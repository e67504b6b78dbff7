"""REST API of extraction: studies, arms, reports, outcomes, comparisons, forms, settings, extractions, outcome
data and discrepancies. Each endpoint: the happy path, anonymous (401), too small a role (403), the outsider
dave (404) and another review's ids (404, nothing changed); blinding, stale versions (409) and validation
messages; and the ketamine review set up, extracted and settled through the API alone."""

from decimal import Decimal

import pytest

from extraction import selectors
from extraction.models import (
    Arm,
    Comparison,
    Discrepancy,
    Extraction,
    ExtractionSettings,
    FieldValue,
    Outcome,
    OutcomeData,
    Study,
    StudyReport,
)
from extraction.services import extracting as X
from extraction.services import studies as S
from extraction.services.forms import current_form
from reviews.models import Import, Record

pytestmark = pytest.mark.django_db

ROLE_OF = {"alice": "owner", "bob": "editor", "carol": "reviewer"}
RANK = {"reviewer": 1, "editor": 2, "owner": 3}
WHO = ["anonymous", "dave", "carol", "bob", "alice"]
REQUIRED = {
    "methods_design": "Parallel RCT",
    "participants_condition": "Cancer pain",
    "outcomes_reported": "Pain intensity; hallucinations",
}


def expected(who: str, needed: str, success: int) -> int:
    if who == "anonymous":
        return 401
    if who == "dave":
        return 404
    return success if RANK[ROLE_OF[who]] >= RANK[needed] else 403


def url(review, path: str = "") -> str:
    return f"/api/v1/reviews/{review.pk}/{path}"


def make_records(review, authors_years):
    batch = Import.objects.create(
        review=review, source="MEDLINE (Ovid)", filename="x.ris", content_hash=f"h{review.pk}-{len(authors_years)}",
        status=Import.Status.SUCCEEDED,
    )  # fmt: skip
    return [
        Record.objects.create(
            review=review, batch=batch, position=i, title=f"Ketamine trial {i}", authors=authors, year=year
        )
        for i, (authors, year) in enumerate(authors_years, start=1)
    ]


def foreign_study(cast):
    """A study of dave's review, with an arm, an outcome and a comparison."""
    rid = cast.other_review.pk
    study = S.study_create(user=cast.dave, review_id=rid, label="Foreign 2001")
    arm = S.arm_create(user=cast.dave, review_id=rid, study_id=study.pk, name="Drug")
    outcome = S.outcome_create(user=cast.dave, review_id=rid, name="Mortality", type="dichotomous")
    comparison = S.comparison_create(user=cast.dave, review_id=rid, name="Drug v none", intervention="D", control="N")
    return study, arm, outcome, comparison


def required_values(study) -> dict:
    values = dict(REQUIRED)
    for arm in study.arms.all():
        values |= {
            f"participants_randomised@{arm.pk}": arm.randomised,
            f"participants_completed@{arm.pk}": arm.completed,
            f"interventions_description@{arm.pk}": arm.intervention or arm.name,
        }
    return values


def extraction_url(seed, study, extraction=None) -> str:
    tail = f"{extraction.pk}/" if extraction else ""
    return url(seed.review, f"studies/{study.pk}/extractions/{tail}")


def start(user, seed, study) -> Extraction:
    return X.extraction_start(user=user, review_id=seed.review.pk, study_id=study.pk)


# --- studies ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_study_list_matrix(cast, seed, api, who):
    response = api(who).get(url(cast.review, "studies/"))
    assert response.status_code == expected(who, "reviewer", 200)
    if response.status_code == 200:
        body = response.json()
        assert body["count"] == 3
        labels = [s["label"] for s in body["results"]]
        assert labels == ["Hardy 2012", "Mercadante 2000", "Yang 1996"]
        mercadante = body["results"][1]
        assert [a["name"] for a in mercadante["arms"]] == ["Ketamine 0.25", "Ketamine 0.5", "Placebo"]
        assert mercadante["design"] == "crossover" and mercadante["version"] == 1 and mercadante["created_by"] == "bob"
    else:
        assert "Hardy 2012" not in response.content.decode()


def test_study_list_takes_a_constant_number_of_queries(cast, seed, api, django_assert_max_num_queries):
    client = api("carol")
    for n in range(10):
        study = S.study_create(user=cast.bob, review_id=cast.review.pk, label=f"Extra {n}")
        S.arm_create(user=cast.bob, review_id=cast.review.pk, study_id=study.pk, name="A")
    with django_assert_max_num_queries(8):
        response = client.get(url(cast.review, "studies/"))
    assert response.json()["count"] == 13


@pytest.mark.parametrize("who", WHO)
def test_study_create_matrix(cast, api, who):
    response = api(who).post(
        url(cast.review, "studies/"), {"label": "Hardy 2012", "design": "parallel", "notes": "Multicentre"}
    )
    assert response.status_code == expected(who, "editor", 201)
    assert Study.objects.filter(review=cast.review, label="Hardy 2012").exists() == (response.status_code == 201)
    if response.status_code == 201:
        body = response.json()
        assert body["label"] == "Hardy 2012" and body["notes"] == "Multicentre" and body["version"] == 1
        assert body["created_by"] == who and body["reports"] == [] and body["arms"] == []


def test_study_from_records_suggests_its_label_and_links_the_reports(cast, api):
    first, second = make_records(cast.review, [(["Hardy, Janet", "Quinn, S."], 2012), (["Hardy, J"], 2013)])
    S.study_create(user=cast.bob, review_id=cast.review.pk, label="Hardy 2012")
    response = api("bob").post(url(cast.review, "studies/"), {"records": [first.pk, second.pk], "design": "parallel"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["label"] == "Hardy 2012a"
    assert [(r["record"], r["primary"]) for r in body["reports"]] == [(first.pk, True), (second.pk, False)]
    assert body["reports"][0]["authors"] == ["Hardy, Janet", "Quinn, S."] and body["reports"][0]["year"] == 2012


def test_study_create_errors(cast, api):
    client = api("bob")
    missing = client.post(url(cast.review, "studies/"), {"design": "parallel"})
    assert missing.status_code == 400 and "label" in missing.json()["errors"]
    bad = client.post(url(cast.review, "studies/"), {"label": "X", "design": "case series"})
    assert bad.status_code == 400 and "design" in bad.json()["errors"]
    client.post(url(cast.review, "studies/"), {"label": "Yang 1996"})
    twice = client.post(url(cast.review, "studies/"), {"label": "Yang 1996"})
    assert twice.status_code == 400 and "already has a study" in twice.json()["detail"]
    (foreign,) = make_records(cast.other_review, [(["Dave, D"], 2001)])
    stolen = client.post(url(cast.review, "studies/"), {"label": "Stolen", "records": [foreign.pk]})
    assert stolen.status_code == 404
    assert not Study.objects.filter(label="Stolen").exists() and not StudyReport.objects.filter(record=foreign).exists()


@pytest.mark.parametrize("who", WHO)
def test_study_retrieve_and_patch_matrix(cast, seed, api, who):
    client = api(who)
    detail = url(cast.review, f"studies/{seed.yang.pk}/")
    assert client.get(detail).status_code == expected(who, "reviewer", 200)
    response = client.patch(detail, {"notes": "Intrathecal morphine", "version": 1})
    assert response.status_code == expected(who, "editor", 200)
    seed.yang.refresh_from_db()
    assert (seed.yang.notes == "Intrathecal morphine") == (response.status_code == 200)
    if response.status_code == 200:
        assert response.json()["version"] == 2 and response.json()["notes"] == "Intrathecal morphine"


def test_study_patch_needs_the_version_and_refuses_a_stale_one(cast, seed, api):
    detail = url(cast.review, f"studies/{seed.yang.pk}/")
    client = api("bob")
    missing = client.patch(detail, {"notes": "x"})
    assert missing.status_code == 400 and "version" in missing.json()["errors"]
    assert client.patch(detail, {"design": "parallel", "version": 1}).status_code == 200
    stale = client.patch(detail, {"design": "crossover", "version": 1})
    assert stale.status_code == 409 and "your version 1, now 2" in stale.json()["detail"]
    seed.yang.refresh_from_db()
    assert seed.yang.design == "parallel" and seed.yang.version == 2


def test_another_reviews_study_is_not_found_and_not_changed(cast, seed, api):
    study, arm, _, _ = foreign_study(cast)
    client = api("bob")
    assert client.get(url(cast.review, f"studies/{study.pk}/")).status_code == 404
    assert client.patch(url(cast.review, f"studies/{study.pk}/"), {"label": "Mine", "version": 1}).status_code == 404
    assert client.delete(url(cast.review, f"studies/{study.pk}/")).status_code == 404
    assert client.get(url(cast.review, f"studies/{study.pk}/arms/")).status_code == 404
    assert client.post(url(cast.review, f"studies/{study.pk}/arms/"), {"name": "Mine"}).status_code == 404
    assert client.patch(url(cast.review, f"studies/{study.pk}/arms/{arm.pk}/"), {"name": "Mine"}).status_code == 404
    assert client.delete(url(cast.review, f"studies/{study.pk}/arms/{arm.pk}/")).status_code == 404
    # an arm of another review under one of this review's studies
    here = url(cast.review, f"studies/{seed.hardy.pk}/arms/{arm.pk}/")
    assert client.get(here).status_code == 404
    assert client.patch(here, {"name": "Mine"}).status_code == 404
    assert client.delete(here).status_code == 404
    study.refresh_from_db()
    assert study.label == "Foreign 2001" and Arm.objects.get(pk=arm.pk).name == "Drug"


@pytest.mark.parametrize("who", WHO)
def test_study_delete_matrix(cast, seed, api, who):
    response = api(who).delete(url(cast.review, f"studies/{seed.yang.pk}/"))
    assert response.status_code == expected(who, "editor", 204)
    assert Study.objects.filter(pk=seed.yang.pk).exists() == (response.status_code != 204)


def test_an_extracted_study_cannot_be_deleted(cast, seed, api):
    start(cast.carol, seed, seed.yang)
    response = api("bob").delete(url(cast.review, f"studies/{seed.yang.pk}/"))
    assert response.status_code == 409 and "has extractions" in response.json()["detail"]


# --- arms ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_arm_matrix(cast, seed, api, who):
    client = api(who)
    arms = url(cast.review, f"studies/{seed.hardy.pk}/arms/")
    listed = client.get(arms)
    assert listed.status_code == expected(who, "reviewer", 200)
    if listed.status_code == 200:
        assert [(a["name"], a["randomised"], a["completed"]) for a in listed.json()] == [
            ("Ketamine", 93, 75),
            ("Placebo", 92, 74),
        ]
    made = client.post(arms, {"name": "Open label", "intervention": "Ketamine", "randomised": 10})
    assert made.status_code == expected(who, "editor", 201)
    assert seed.hardy.arms.filter(name="Open label").exists() == (made.status_code == 201)
    placebo = seed.arm(seed.hardy, "Placebo")
    detail = url(cast.review, f"studies/{seed.hardy.pk}/arms/{placebo.pk}/")
    assert client.get(detail).status_code == expected(who, "reviewer", 200)
    changed = client.patch(detail, {"dose": "Saline 0.9%"})
    assert changed.status_code == expected(who, "editor", 200)
    assert (Arm.objects.get(pk=placebo.pk).dose == "Saline 0.9%") == (changed.status_code == 200)
    gone = client.delete(detail)
    assert gone.status_code == expected(who, "editor", 204)
    assert Arm.objects.filter(pk=placebo.pk).exists() == (gone.status_code != 204)


def test_arm_errors(cast, seed, api):
    client = api("bob")
    arms = url(cast.review, f"studies/{seed.hardy.pk}/arms/")
    too_many = client.post(arms, {"name": "Extra", "randomised": 10, "completed": 12})
    assert too_many.status_code == 400 and "completed" in too_many.json()["errors"]
    twice = client.post(arms, {"name": "Placebo"})
    assert twice.status_code == 400 and "already has an arm" in twice.json()["detail"]
    # an arm of another study of the same review is not this study's
    yang_arm = seed.arm(seed.yang, "Control")
    assert client.patch(f"{arms}{yang_arm.pk}/", {"name": "Renamed"}).status_code == 404
    assert Arm.objects.get(pk=yang_arm.pk).name == "Control"


# --- reports ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_report_matrix(cast, seed, api, who):
    first, second = make_records(cast.review, [(["Hardy, J"], 2012), (["Hardy, J"], 2013)])
    S.report_add(user=cast.bob, review_id=cast.review.pk, study_id=seed.hardy.pk, record_id=first.pk)
    client = api(who)
    reports = url(cast.review, f"studies/{seed.hardy.pk}/reports/")
    listed = client.get(reports)
    assert listed.status_code == expected(who, "reviewer", 200)
    added = client.post(reports, {"record": second.pk})
    assert added.status_code == expected(who, "editor", 201)
    assert StudyReport.objects.filter(record=second, study=seed.hardy).exists() == (added.status_code == 201)
    if added.status_code != 201:
        return
    assert added.json() == {
        "record": second.pk, "primary": False, "title": second.title, "authors": ["Hardy, J"], "year": 2013,
        "added_at": added.json()["added_at"],
    }  # fmt: skip
    primary = client.patch(f"{reports}{second.pk}/", {"primary": True})
    assert primary.status_code == 200 and primary.json()["primary"] is True
    assert StudyReport.objects.get(record=first).primary is False
    assert client.patch(f"{reports}{second.pk}/", {"primary": False}).status_code == 400
    assert client.delete(f"{reports}{second.pk}/").status_code == 204
    assert StudyReport.objects.get(record=first).primary is True  # promoted again


def test_report_of_a_reviewer_or_another_review_is_refused(cast, seed, api):
    (record,) = make_records(cast.review, [(["Yang, C"], 1996)])
    reports = url(cast.review, f"studies/{seed.yang.pk}/reports/")
    assert api("carol").post(reports, {"record": record.pk}).status_code == 403
    S.report_add(user=cast.bob, review_id=cast.review.pk, study_id=seed.yang.pk, record_id=record.pk)
    assert api("carol").delete(f"{reports}{record.pk}/").status_code == 403
    (foreign,) = make_records(cast.other_review, [(["Dave, D"], 2001)])
    assert api("bob").post(reports, {"record": foreign.pk}).status_code == 404
    assert api("bob").delete(f"{reports}{foreign.pk}/").status_code == 404
    assert not StudyReport.objects.filter(record=foreign).exists()
    study, *_ = foreign_study(cast)
    moved = api("bob").post(url(cast.review, f"studies/{study.pk}/reports/"), {"record": record.pk})
    assert moved.status_code == 404
    assert StudyReport.objects.get(record=record).study == seed.yang
    assert api("dave").delete(f"{reports}{record.pk}/").status_code == 404


# --- outcomes and comparisons -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_outcome_matrix(cast, seed, api, who):
    client = api(who)
    outcomes = url(cast.review, "outcomes/")
    listed = client.get(outcomes)
    assert listed.status_code == expected(who, "reviewer", 200)
    if listed.status_code == 200:
        assert [(o["name"], o["type"]) for o in listed.json()] == [
            ("Pain intensity", "continuous"),
            ("Hallucinations", "dichotomous"),
            ("Pain intensity (paired)", "giv"),
        ]
    made = client.post(
        outcomes, {"name": "Sedation", "type": "dichotomous", "direction": "lower_is_better", "timepoint": "24 h"}
    )
    assert made.status_code == expected(who, "editor", 201)
    assert Outcome.objects.filter(review=cast.review, name="Sedation").exists() == (made.status_code == 201)
    detail = url(cast.review, f"outcomes/{seed.adverse.pk}/")
    assert client.get(detail).status_code == expected(who, "reviewer", 200)
    changed = client.patch(detail, {"unit": "patients", "version": 1})
    assert changed.status_code == expected(who, "editor", 200)
    assert (Outcome.objects.get(pk=seed.adverse.pk).unit == "patients") == (changed.status_code == 200)
    gone = client.delete(detail)
    assert gone.status_code == expected(who, "editor", 204)
    assert Outcome.objects.filter(pk=seed.adverse.pk).exists() == (gone.status_code != 204)


def test_outcome_versions_choices_and_data(cast, seed, api):
    client = api("bob")
    detail = url(cast.review, f"outcomes/{seed.pain.pk}/")
    assert client.patch(detail, {"unit": "NRS 0-10"}).status_code == 400  # version is required
    assert client.patch(detail, {"unit": "NRS 0-10", "version": 1}).json()["version"] == 2
    stale = client.patch(detail, {"unit": "VAS", "version": 1})
    assert stale.status_code == 409 and "your version 1, now 2" in stale.json()["detail"]
    wrong = client.post(url(cast.review, "outcomes/"), {"name": "Pain", "type": "ordinal"})
    assert wrong.status_code == 400 and "type" in wrong.json()["errors"]
    # once it has data, its type is fixed and it cannot be deleted
    mine = start(cast.carol, seed, seed.hardy)
    X.outcome_data_save(
        user=cast.carol, review_id=cast.review.pk, extraction_id=mine.pk, version=None,
        rows=[{"comparison": seed.comparison.pk, "outcome": seed.pain.pk, "mean_1": 3, "sd_1": 1, "total_1": 70}],
    )  # fmt: skip
    fixed = client.patch(detail, {"type": "dichotomous", "version": 2})
    assert fixed.status_code == 409 and "its type can no longer change" in fixed.json()["detail"]
    assert client.delete(detail).status_code == 409
    assert Outcome.objects.get(pk=seed.pain.pk).type == "continuous"


@pytest.mark.parametrize("who", WHO)
def test_comparison_matrix(cast, seed, api, who):
    client = api(who)
    comparisons = url(cast.review, "comparisons/")
    listed = client.get(comparisons)
    assert listed.status_code == expected(who, "reviewer", 200)
    if listed.status_code == 200:
        assert [c["name"] for c in listed.json()] == ["Ketamine versus placebo"]
    made = client.post(comparisons, {"name": "High v low dose", "intervention": "0.5 mg/kg", "control": "0.25 mg/kg"})
    assert made.status_code == expected(who, "editor", 201)
    assert Comparison.objects.filter(name="High v low dose").exists() == (made.status_code == 201)
    detail = url(cast.review, f"comparisons/{seed.comparison.pk}/")
    assert client.get(detail).status_code == expected(who, "reviewer", 200)
    changed = client.patch(detail, {"control": "Opioid alone", "version": 1})
    assert changed.status_code == expected(who, "editor", 200)
    assert (Comparison.objects.get(pk=seed.comparison.pk).control == "Opioid alone") == (changed.status_code == 200)
    stale = client.patch(detail, {"control": "Morphine", "version": 1})
    assert stale.status_code == {200: 409}.get(changed.status_code, changed.status_code)
    gone = client.delete(detail)
    assert gone.status_code == expected(who, "editor", 204)


def test_another_reviews_outcome_and_comparison_are_not_found_and_not_changed(cast, seed, api):
    _, _, outcome, comparison = foreign_study(cast)
    client = api("bob")
    for path in (f"outcomes/{outcome.pk}/", f"comparisons/{comparison.pk}/"):
        assert client.get(url(cast.review, path)).status_code == 404
        assert client.patch(url(cast.review, path), {"name": "Mine", "version": 1}).status_code == 404
        assert client.delete(url(cast.review, path)).status_code == 404
    assert Outcome.objects.get(pk=outcome.pk).name == "Mortality"
    assert Comparison.objects.get(pk=comparison.pk).name == "Drug v none"


# --- forms and settings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_forms_matrix(cast, seed, api, who):
    client = api(who)
    listed = client.get(url(cast.review, "forms/"))
    assert listed.status_code == expected(who, "reviewer", 200)
    detail = client.get(url(cast.review, f"forms/{seed.form.pk}/"))
    assert detail.status_code == expected(who, "reviewer", 200)
    if detail.status_code == 200:
        assert [f["id"] for f in listed.json()] == [seed.form.pk]
        body = detail.json()
        assert body["status"] == "published" and body["number"] == 1
        assert [s["title"] for s in body["sections"]] == [
            "Methods", "Participants", "Interventions", "Outcomes", "Notes",
        ]  # fmt: skip
        randomised = next(f for f in body["sections"][1]["fields"] if f["key"] == "participants_randomised")
        assert randomised["per_arm"] is True and randomised["required"] is True and randomised["type"] == "integer"
        assert listed.json()[0]["sections"] == body["sections"]


def test_another_reviews_form_is_not_found(cast, seed, api):
    other = current_form(cast.other_review)
    assert api("bob").get(url(cast.review, f"forms/{other.pk}/")).status_code == 404
    assert [f["id"] for f in api("bob").get(url(cast.review, "forms/")).json()] == [seed.form.pk]


@pytest.mark.parametrize("who", WHO)
def test_settings_matrix(cast, api, who):
    client = api(who)
    settings_url = url(cast.review, "extraction/settings/")
    read = client.get(settings_url)
    assert read.status_code == expected(who, "reviewer", 200)
    if read.status_code == 200:
        assert read.json() == {"extractors_per_study": 2, "blinded": True, "version": 1}
    changed = client.patch(settings_url, {"blinded": False, "version": 1})
    assert changed.status_code == expected(who, "owner", 200)
    stored = ExtractionSettings.objects.filter(review=cast.review).first()
    assert (stored is not None and not stored.blinded) == (changed.status_code == 200)


def test_settings_versions_and_choices(cast, api):
    client = api("alice")
    settings_url = url(cast.review, "extraction/settings/")
    assert client.patch(settings_url, {"blinded": False}).status_code == 400
    assert client.patch(settings_url, {"extractors_per_study": 3, "version": 1}).status_code == 400
    assert client.patch(settings_url, {"extractors_per_study": 1, "version": 1}).json()["version"] == 2
    stale = client.patch(settings_url, {"blinded": False, "version": 1})
    assert stale.status_code == 409
    assert client.get(settings_url).json() == {"extractors_per_study": 1, "blinded": True, "version": 2}


# --- extractions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", WHO)
def test_extraction_start_matrix(cast, seed, api, who):
    response = api(who).post(extraction_url(seed, seed.hardy), {})
    assert response.status_code == expected(who, "reviewer", 201)
    if response.status_code == 201:
        body = response.json()
        assert body["reviewer"] == who and body["study"] == seed.hardy.pk and body["status"] == "in_progress"
        assert body["form"] == {"id": seed.form.pk, "name": seed.form.name, "number": 1}
        assert body["version"] == 1 and body["values"] == {} and body["outcome_data"] == []
        again = api(who).post(extraction_url(seed, seed.hardy), {})
        assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Extraction.objects.filter(study=seed.hardy).count() == (1 if response.status_code == 201 else 0)


def test_extraction_assignment_and_the_number_of_extractors(cast, seed, api):
    study_url = extraction_url(seed, seed.yang)
    refused = api("carol").post(study_url, {"reviewer": cast.erin.pk})
    assert refused.status_code == 400 and "reviewer" in refused.json()["errors"]
    assigned = api("bob").post(study_url, {"reviewer": cast.erin.pk})
    assert assigned.status_code == 201 and assigned.json()["reviewer"] == "erin"
    assert api("bob").post(study_url, {"reviewer": cast.dave.pk}).status_code == 400  # not a member
    assert api("carol").post(study_url, {}).status_code == 201
    full = api("alice").post(study_url, {})
    assert full.status_code == 409 and "already has its 2 extractors" in full.json()["detail"]
    other, *_ = foreign_study(cast)
    assert api("carol").post(extraction_url(seed, other), {}).status_code == 404
    assert not Extraction.objects.filter(study=other).exists()


def test_blinding_a_reviewer_reads_only_their_own_extraction(cast, seed, api):
    mine, hers = start(cast.carol, seed, seed.hardy), start(cast.erin, seed, seed.hardy)
    carol = api("carol")
    assert [e["id"] for e in carol.get(extraction_url(seed, seed.hardy)).json()] == [mine.pk]
    assert carol.get(extraction_url(seed, seed.hardy, hers)).status_code == 404
    assert (
        carol.patch(extraction_url(seed, seed.hardy, hers), {"version": 1, "values": {"notes": "x"}}).status_code == 404
    )
    assert not FieldValue.objects.filter(extraction=hers).exists()
    listed = api("bob").get(extraction_url(seed, seed.hardy)).json()
    assert {e["reviewer"] for e in listed} == {"carol", "erin"}
    assert api("bob").get(extraction_url(seed, seed.hardy, hers)).json()["reviewer"] == "erin"
    # unblinded, reviewers read each other's extraction but still cannot write it
    S.settings_update(user=cast.alice, review_id=cast.review.pk, version=None, blinded=False)
    assert carol.get(extraction_url(seed, seed.hardy, hers)).status_code == 200
    assert (
        carol.patch(extraction_url(seed, seed.hardy, hers), {"version": 1, "values": {"notes": "x"}}).status_code == 404
    )


@pytest.mark.parametrize("who", ["anonymous", "dave"])
def test_extractions_are_not_there_for_outsiders(cast, seed, api, who):
    mine = start(cast.carol, seed, seed.hardy)
    client = api(who)
    code = expected(who, "reviewer", 200)
    assert client.get(extraction_url(seed, seed.hardy)).status_code == code
    assert client.get(extraction_url(seed, seed.hardy, mine)).status_code == code
    assert (
        client.patch(extraction_url(seed, seed.hardy, mine), {"version": 1, "status": "complete"}).status_code == code
    )
    assert client.get(url(cast.review, f"studies/{seed.hardy.pk}/outcome-data/")).status_code == code
    assert client.put(url(cast.review, f"studies/{seed.hardy.pk}/outcome-data/"), []).status_code == code


def test_extraction_of_another_study_or_review_is_not_found(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    wrong_study = extraction_url(seed, seed.yang, mine)
    assert api("carol").get(wrong_study).status_code == 404
    assert api("carol").patch(wrong_study, {"version": 1, "values": {"notes": "x"}}).status_code == 404
    study, *_ = foreign_study(cast)
    theirs = X.extraction_start(user=cast.dave, review_id=cast.other_review.pk, study_id=study.pk)
    for path in (extraction_url(seed, seed.hardy, theirs), extraction_url(seed, study, theirs)):
        assert api("bob").get(path).status_code == 404
        assert api("bob").patch(path, {"version": 1, "values": {"notes": "x"}}).status_code == 404
    assert not FieldValue.objects.exists()


def test_saving_values_and_completing(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    ketamine, placebo = seed.arm(seed.hardy, "Ketamine"), seed.arm(seed.hardy, "Placebo")
    path = extraction_url(seed, seed.hardy, mine)
    client = api("carol")
    saved = client.patch(path, {"version": 1, "values": {"participants_condition": " Cancer pain ",
                                                         f"participants_randomised@{ketamine.pk}": "93"}})  # fmt: skip
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["version"] == 2
    assert body["values"] == {"participants_condition": "Cancer pain", f"participants_randomised@{ketamine.pk}": 93}
    # completing with required fields missing is refused, and the values sent with it are not kept
    refused = client.patch(path, {"version": 2, "values": {"notes": "Kept?"}, "status": "complete"})
    assert refused.status_code == 400 and "Fill the required fields first" in refused.json()["errors"]["status"][0]
    assert not FieldValue.objects.filter(extraction=mine, field__key="notes").exists()
    done = client.patch(path, {"version": 2, "values": required_values(seed.hardy), "status": "complete"})
    assert done.status_code == 200 and done.json()["status"] == "complete" and done.json()["version"] == 4
    assert done.json()["values"][f"participants_completed@{placebo.pk}"] == 74
    reopened = client.patch(path, {"version": 4, "status": "in_progress"})
    assert reopened.json()["status"] == "in_progress"


def test_extraction_patch_validation(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    ketamine = seed.arm(seed.hardy, "Ketamine")
    path = extraction_url(seed, seed.hardy, mine)
    client = api("carol")
    missing = client.patch(path, {"values": {"notes": "x"}})
    assert missing.status_code == 400 and "version" in missing.json()["errors"]
    assert client.patch(path, {"version": 1}).status_code == 400  # nothing to do
    assert client.patch(path, {"version": 1, "status": "done"}).status_code == 400
    bad = client.patch(path, {"version": 1, "values": {
        f"participants_randomised@{ketamine.pk}": "twenty", "participants_condition@1": "x", "nonsense": 1,
        "methods_start": "31/01/2012"}})  # fmt: skip
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert "not a whole number" in errors[f"participants_randomised@{ketamine.pk}"][0]
    assert "not per arm" in errors["participants_condition@1"][0]
    assert "Not a field" in errors["nonsense"][0]
    assert "YYYY-MM-DD" in errors["methods_start"][0]
    other_arm = seed.arm(seed.yang, "Ketamine")
    assert (
        client.patch(path, {"version": 1, "values": {f"participants_randomised@{other_arm.pk}": 3}}).status_code == 400
    )
    mine.refresh_from_db()
    assert mine.version == 1 and not FieldValue.objects.filter(extraction=mine).exists()


def test_a_stale_extraction_patch_is_refused_and_names_what_changed(cast, seed, api):
    mine = start(cast.carol, seed, seed.hardy)
    path = extraction_url(seed, seed.hardy, mine)
    first, second = api("carol"), api("carol")
    assert first.patch(path, {"version": 1, "values": {"participants_condition": "Cancer pain"}}).status_code == 200
    stale = second.patch(path, {"version": 1, "values": {"participants_condition": "Bone pain"}})
    assert stale.status_code == 409
    detail = stale.json()["detail"]
    assert "your version 1, now 2" in detail and "Condition: Cancer pain" in detail
    assert FieldValue.objects.get(extraction=mine, field__key="participants_condition").value == "Cancer pain"
    stale_status = second.patch(path, {"version": 1, "status": "in_progress"})
    assert stale_status.status_code == 409 and "Condition" in stale_status.json()["detail"]


def test_an_editor_writes_the_consensus_and_a_blinded_reviewer_cannot_read_it(cast, seed, api):
    consensus = X.consensus_start(user=cast.bob, review_id=cast.review.pk, study_id=seed.yang.pk)
    path = extraction_url(seed, seed.yang, consensus)
    saved = api("bob").patch(path, {"version": consensus.version, "values": {"methods_washout": "1 week"}})
    assert saved.status_code == 200 and saved.json()["reviewer"] is None
    assert saved.json()["values"] == {"methods_washout": "1 week"}
    assert api("alice").get(path).json()["version"] == saved.json()["version"]
    assert api("carol").get(path).status_code == 404
    assert api("carol").patch(path, {"version": saved.json()["version"], "values": {"notes": "x"}}).status_code == 404
    assert api("carol").get(extraction_url(seed, seed.yang)).json() == []


# --- outcome data -------------------------------------------------------------------------------------------------


def data_url(seed, study) -> str:
    return url(seed.review, f"studies/{study.pk}/outcome-data/")


def dichotomous(seed, **numbers) -> dict:
    return {"comparison": seed.comparison.pk, "outcome": seed.adverse.pk, **numbers}


def test_outcome_data_of_a_reviewer_is_their_own(cast, seed, api):
    path = data_url(seed, seed.hardy)
    carol = api("carol")
    empty = carol.get(path).json()
    assert empty == {"extraction": None, "consensus": False, "reviewer": "carol", "version": None, "rows": []}
    put = carol.put(path, [dichotomous(seed, events_1=5, total_1=93, events_2=2, total_2=92, note="Table 3")])
    assert put.status_code == 200, put.json()
    body = put.json()
    mine = Extraction.objects.get(study=seed.hardy, reviewer=cast.carol)
    assert body["extraction"] == mine.pk and body["reviewer"] == "carol" and body["consensus"] is False
    (row,) = body["rows"]
    assert (row["events_1"], row["total_1"], row["events_2"], row["total_2"]) == (5, 93, 2, 92)
    assert row["mean_1"] is None and row["note"] == "Table 3" and row["subgroup"] == ""
    assert carol.get(path).json() == body
    # erin's rows are hers; carol does not see them (blinded), bob does on request
    api("erin").put(path, [dichotomous(seed, events_1=6, total_1=93, events_2=2, total_2=92)])
    assert carol.get(path).json()["rows"][0]["events_1"] == 5
    assert carol.get(f"{path}?reviewer=erin").status_code == 404
    assert api("bob").get(f"{path}?reviewer=erin").json()["rows"][0]["events_1"] == 6
    assert api("bob").get(f"{path}?reviewer=nobody").status_code == 404


def test_outcome_data_of_an_editor_is_the_consensus(cast, seed, api):
    path = data_url(seed, seed.yang)
    bob = api("bob")
    assert bob.get(path).json() == {
        "extraction": None,
        "consensus": True,
        "reviewer": None,
        "version": None,
        "rows": [],
    }
    rows = [{"comparison": seed.comparison.pk, "outcome": seed.pain_giv.pk, "estimate": "-1.9", "se": "0.45"}]
    put = bob.put(path, {"version": None, "rows": rows})
    assert put.status_code == 200, put.json()
    consensus = Extraction.objects.get(study=seed.yang, reviewer__isnull=True)
    assert put.json()["extraction"] == consensus.pk and put.json()["consensus"] is True
    assert put.json()["rows"][0]["estimate"] == "-1.9" and put.json()["rows"][0]["se"] == "0.45"
    assert OutcomeData.objects.get(extraction=consensus).updated_by == cast.bob
    assert not Extraction.objects.filter(study=seed.yang, reviewer__isnull=False).exists()
    # the consensus is not a blinded reviewer's to read
    assert api("carol").get(path).json()["extraction"] is None


def test_outcome_data_put_replaces_the_rows_and_guards_the_version(cast, seed, api):
    path = data_url(seed, seed.mercadante)
    carol = api("carol")
    low, high, placebo = (seed.arm(seed.mercadante, n) for n in ("Ketamine 0.25", "Ketamine 0.5", "Placebo"))
    rows = [
        {"comparison": seed.comparison.pk, "outcome": seed.pain.pk, "subgroup": "0.25 mg/kg", "arm_1": low.pk,
         "arm_2": placebo.pk, "mean_1": "4.1", "sd_1": "1.2", "total_1": 10, "mean_2": "5.6", "sd_2": "1.4",
         "total_2": 10},
        {"comparison": seed.comparison.pk, "outcome": seed.pain.pk, "subgroup": "0.5 mg/kg", "arm_1": high.pk,
         "arm_2": placebo.pk, "mean_1": "3.2", "sd_1": "1.1", "total_1": 10, "mean_2": "5.6", "sd_2": "1.4",
         "total_2": 10},
    ]  # fmt: skip
    first = carol.put(path, {"rows": rows}).json()
    assert [(r["subgroup"], r["arm_1"], r["mean_1"]) for r in first["rows"]] == [
        ("0.25 mg/kg", low.pk, "4.1"),
        ("0.5 mg/kg", high.pk, "3.2"),
    ]
    version = first["version"]
    second = carol.put(path, {"version": version, "rows": rows[1:]})
    assert second.status_code == 200 and [r["subgroup"] for r in second.json()["rows"]] == ["0.5 mg/kg"]
    stale = carol.put(path, {"version": version, "rows": rows})
    assert stale.status_code == 409 and "your version" in stale.json()["detail"]
    assert OutcomeData.objects.filter(extraction_id=first["extraction"]).count() == 1


def test_outcome_data_validation_messages_per_row_and_field(cast, seed, api):
    path = data_url(seed, seed.hardy)
    rows = [
        dichotomous(seed, events_1=95, total_1=93, events_2=2, total_2="92.5"),
        {"comparison": seed.comparison.pk, "outcome": seed.pain.pk, "mean_1": 3, "sd_1": 0, "total_1": 70,
         "mean_2": 4, "sd_2": "-1", "total_2": 0},
        {"comparison": seed.comparison.pk, "outcome": seed.pain_giv.pk, "estimate": -1.2, "se": 0.4, "events_1": 3},
        dichotomous(seed, events_1=1, total_1=10, mean_1=3),
    ]  # fmt: skip
    response = api("carol").put(path, rows)
    assert response.status_code == 400
    body = response.json()
    errors = body["errors"]
    assert body["detail"] == "rows[0].total_2: “92.5” is not a whole number."
    assert "cannot be more than participants" in errors["rows[0].events_1"][0]
    assert "not a whole number" in errors["rows[0].total_2"][0]
    assert "must be positive" in errors["rows[1].sd_1"][0] and "must be positive" in errors["rows[1].sd_2"][0]
    assert "at least 1" in errors["rows[1].total_2"][0]
    assert "generic inverse variance" in errors["rows[2].events_1"][0]
    assert "dichotomous" in errors["rows[3].mean_1"][0]
    assert "rows[2].estimate" not in errors  # a negative estimate is fine
    # nothing stored, not even carol's extraction
    assert not OutcomeData.objects.exists() and not Extraction.objects.filter(reviewer=cast.carol).exists()


def test_outcome_data_body_shape_and_other_reviews_ids(cast, seed, api):
    path = data_url(seed, seed.hardy)
    client = api("carol")
    assert client.put(path, {"rows": "none"}).status_code == 400
    assert client.put(path, {"version": 1}).status_code == 400
    assert client.put(path, [1, 2]).status_code == 400
    study, arm, outcome, comparison = foreign_study(cast)
    foreign = client.put(path, [{"comparison": comparison.pk, "outcome": outcome.pk, "events_1": 1, "total_1": 2}])
    assert foreign.status_code == 400
    assert "No comparison" in foreign.json()["errors"]["rows[0].comparison"][0]
    assert "No outcome" in foreign.json()["errors"]["rows[0].outcome"][0]
    wrong_arm = client.put(path, [dichotomous(seed, arm_1=arm.pk, events_1=1, total_1=2)])
    assert "No arm" in wrong_arm.json()["errors"]["rows[0].arm_1"][0]
    assert api("bob").put(data_url(seed, study), []).status_code == 404
    assert api("carol").get(data_url(seed, study)).status_code == 404
    assert not OutcomeData.objects.exists()


# --- discrepancies ------------------------------------------------------------------------------------------------


@pytest.fixture
def disputed(cast, seed):
    """carol and erin extracted Hardy 2012 completely and differ on the condition and the events."""
    rid = cast.review.pk
    for user, condition, events in ((cast.carol, "Cancer pain", 5), (cast.erin, "Bone pain", 6)):
        extraction = start(user, seed, seed.hardy)
        X.extraction_save(
            user=user, review_id=rid, extraction_id=extraction.pk, version=None,
            values=required_values(seed.hardy) | {"participants_condition": condition},
        )  # fmt: skip
        X.outcome_data_save(
            user=user, review_id=rid, extraction_id=extraction.pk, version=None,
            rows=[dichotomous(seed, events_1=events, total_1=93, events_2=2, total_2=92)],
        )  # fmt: skip
        X.extraction_set_status(user=user, review_id=rid, extraction_id=extraction.pk, version=None, status="complete")
    X.compare(study_id=seed.hardy.pk, form_id=seed.form.pk)
    return {d.key.split(":")[0]: d for d in Discrepancy.objects.filter(study=seed.hardy)}


@pytest.mark.parametrize("who", WHO)
def test_discrepancy_list_matrix(cast, seed, disputed, api, who):
    response = api(who).get(url(cast.review, "discrepancies/"))
    assert response.status_code == expected(who, "editor", 200)
    if response.status_code == 200:
        found = {d["label"]: d["values"] for d in response.json()["results"]}
        assert found["Participants › Condition"] == {"carol": "Cancer pain", "erin": "Bone pain"}
        assert any(values == {"carol": 5, "erin": 6} for values in found.values())
    else:
        assert "Bone pain" not in response.content.decode()


def test_discrepancy_filters(cast, seed, disputed, api):
    client = api("bob")
    base = url(cast.review, "discrepancies/")
    assert client.get(f"{base}?status=open").json()["count"] == 2
    assert client.get(f"{base}?status=resolved").json()["count"] == 0
    assert client.get(f"{base}?study={seed.hardy.pk}&status=open").json()["count"] == 2
    assert client.get(f"{base}?study={seed.yang.pk}").json()["count"] == 0
    assert client.get(f"{base}?status=maybe").status_code == 400
    other, *_ = foreign_study(cast)
    assert client.get(f"{base}?study={other.pk}").status_code == 404


@pytest.mark.parametrize("who", WHO)
def test_discrepancy_resolve_matrix(cast, seed, disputed, api, who):
    discrepancy = disputed["field"]
    response = api(who).post(url(cast.review, f"discrepancies/{discrepancy.pk}/resolve/"), {"take": "erin"})
    assert response.status_code == expected(who, "editor", 200)
    discrepancy.refresh_from_db()
    assert (discrepancy.status == "resolved") == (response.status_code == 200)
    if response.status_code == 200:
        body = response.json()
        assert body["status"] == "resolved" and body["resolution"] == "Bone pain" and body["resolved_by"] == who
        consensus = Extraction.objects.get(study=seed.hardy, reviewer__isnull=True)
        assert FieldValue.objects.get(extraction=consensus, field__key="participants_condition").value == "Bone pain"


def test_discrepancy_resolve_with_a_new_value_and_errors(cast, seed, disputed, api):
    client = api("bob")
    data_one = url(cast.review, f"discrepancies/{disputed['data'].pk}/resolve/")
    assert client.post(data_one, {"take": "erin", "value": 5}).status_code == 400
    assert client.post(data_one, {}).status_code == 400
    assert client.post(data_one, {"take": "dave"}).status_code == 400
    too_many = client.post(data_one, {"value": 120})
    assert too_many.status_code == 400 and "value" in too_many.json()["errors"]
    resolved = client.post(data_one, {"value": 7})
    assert resolved.status_code == 200 and resolved.json()["resolution"] == 7
    consensus = Extraction.objects.get(study=seed.hardy, reviewer__isnull=True)
    assert OutcomeData.objects.get(extraction=consensus).events_1 == 7


def test_another_reviews_discrepancy_is_not_found_and_not_resolved(cast, seed, api):
    study, *_ = foreign_study(cast)
    theirs = Discrepancy.objects.create(
        review=cast.other_review, study=study, form=current_form(cast.other_review), key="field:notes",
        label="Notes › Notes", values={"x": "a", "y": "b"},
    )  # fmt: skip
    assert api("bob").post(url(cast.review, f"discrepancies/{theirs.pk}/resolve/"), {"take": "x"}).status_code == 404
    assert (
        api("bob").post(url(cast.other_review, f"discrepancies/{theirs.pk}/resolve/"), {"take": "x"}).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == "open"


# --- the ketamine review, through the API alone -------------------------------------------------------------------


def test_the_ketamine_review_set_up_extracted_and_settled_through_the_api(cast, erin, api):
    bob, carol, erin_client = api("bob"), api("carol"), api("erin")
    base = url(cast.review)

    def ok(response, code=200):
        assert response.status_code == code, response.json()
        return response.json()

    comparison = ok(
        bob.post(
            f"{base}comparisons/",
            {"name": "Ketamine versus placebo", "intervention": "Ketamine + opioid", "control": "Opioid"},
        ),
        201,
    )
    outcome = {"direction": "lower_is_better"}
    pain = ok(
        bob.post(
            f"{base}outcomes/",
            outcome
            | {"name": "Pain intensity", "type": "continuous", "unit": "VAS 0-10", "timepoint": "End of treatment"},
        ),
        201,
    )
    paired = ok(bob.post(f"{base}outcomes/", outcome | {"name": "Pain intensity (paired)", "type": "giv"}), 201)
    hallucinations = ok(bob.post(f"{base}outcomes/", outcome | {"name": "Hallucinations", "type": "dichotomous"}), 201)
    studies = {}
    for label, design, arms in (
        ("Yang 1996", "crossover", [("Ketamine", "Ketamine + morphine", "1 mg/day", 20),
                                    ("Control", "Morphine", "", 20)]),
        ("Mercadante 2000", "crossover", [("Ketamine 0.25", "Ketamine", "0.25 mg/kg", 10),
                                          ("Ketamine 0.5", "Ketamine", "0.5 mg/kg", 10),
                                          ("Placebo", "Saline", "", 10)]),
        ("Hardy 2012", "parallel", [("Ketamine", "Ketamine", "", 93), ("Placebo", "Placebo", "", 92)]),
    ):  # fmt: skip
        study = ok(bob.post(f"{base}studies/", {"label": label, "design": design}), 201)
        for name, intervention, dose, n in arms:
            body = {"name": name, "intervention": intervention, "dose": dose, "randomised": n, "completed": n}
            ok(bob.post(f"{base}studies/{study['id']}/arms/", body), 201)
        studies[label] = ok(bob.get(f"{base}studies/{study['id']}/"))
    arm = {(label, a["name"]): a["id"] for label, s in studies.items() for a in s["arms"]}

    def values_for(label: str, condition: str) -> dict:
        values = dict(REQUIRED) | {"participants_condition": condition}
        for a in studies[label]["arms"]:
            values |= {f"participants_randomised@{a['id']}": a["randomised"],
                       f"participants_completed@{a['id']}": a["completed"],
                       f"interventions_description@{a['id']}": a["intervention"]}  # fmt: skip
        return values

    def mercadante_rows(high_mean: str) -> list:
        m = "Mercadante 2000"
        return [
            {"comparison": comparison["id"], "outcome": pain["id"], "subgroup": "0.25 mg/kg",
             "arm_1": arm[(m, "Ketamine 0.25")], "arm_2": arm[(m, "Placebo")],
             "mean_1": "4.1", "sd_1": "1.2", "total_1": 10, "mean_2": "5.6", "sd_2": "1.4", "total_2": 10},
            {"comparison": comparison["id"], "outcome": pain["id"], "subgroup": "0.5 mg/kg",
             "arm_1": arm[(m, "Ketamine 0.5")], "arm_2": arm[(m, "Placebo")],
             "mean_1": high_mean, "sd_1": "1.1", "total_1": 10, "mean_2": "5.6", "sd_2": "1.4", "total_2": 10},
            {"comparison": comparison["id"], "outcome": paired["id"], "subgroup": "0.25 mg/kg",
             "estimate": "-1.5", "se": "0.52"},
            {"comparison": comparison["id"], "outcome": paired["id"], "subgroup": "0.5 mg/kg",
             "estimate": "-2.4", "se": "0.62"},
        ]  # fmt: skip

    # carol and erin extract every study; they differ on Mercadante's condition and its high-dose mean
    for client, condition, high_mean in (
        (carol, "Cancer pain", "3.2"),
        (erin_client, "Neuropathic cancer pain", "3.0"),
    ):
        for label, study in studies.items():
            extraction = ok(client.post(f"{base}studies/{study['id']}/extractions/", {}), 201)
            path = f"{base}studies/{study['id']}/extractions/{extraction['id']}/"
            condition_here = condition if label == "Mercadante 2000" else "Cancer pain"
            saved = ok(client.patch(path, {"version": 1, "values": values_for(label, condition_here)}))
            data_path = f"{base}studies/{study['id']}/outcome-data/"
            if label == "Mercadante 2000":
                rows = mercadante_rows(high_mean)
            elif label == "Yang 1996":
                rows = [{"comparison": comparison["id"], "outcome": paired["id"], "estimate": "-1.9", "se": "0.45"}]
            else:
                rows = [{"comparison": comparison["id"], "outcome": hallucinations["id"], "events_1": 5,
                         "total_1": 93, "events_2": 2, "total_2": 92}]  # fmt: skip
            put = ok(client.put(data_path, {"version": saved["version"], "rows": rows}))
            ok(client.patch(path, {"version": put["version"], "status": "complete"}))
    for study in studies.values():
        X.compare(study_id=study["id"], form_id=current_form(cast.review).pk)

    assert api("carol").get(f"{base}discrepancies/").status_code == 403
    open_ones = ok(bob.get(f"{base}discrepancies/?status=open"))
    assert {d["study_label"] for d in open_ones["results"]} == {"Mercadante 2000"}
    assert sorted(d["label"] for d in open_ones["results"]) == [
        "Ketamine versus placebo › Pain intensity (End of treatment) [0.5 mg/kg]: mean (intervention)",
        "Participants › Condition",
    ]
    for d in open_ones["results"]:
        ok(bob.post(f"{base}discrepancies/{d['id']}/resolve/", {"take": "carol"}))
    assert ok(bob.get(f"{base}discrepancies/?status=open"))["count"] == 0

    mercadante = studies["Mercadante 2000"]["id"]
    consensus = ok(bob.get(f"{base}studies/{mercadante}/outcome-data/"))
    assert consensus["consensus"] is True
    got = {(r["outcome"], r["subgroup"]): r for r in consensus["rows"]}
    assert got[(pain["id"], "0.5 mg/kg")]["mean_1"] == "3.2"
    assert (got[(paired["id"], "0.5 mg/kg")]["estimate"], got[(paired["id"], "0.5 mg/kg")]["se"]) == ("-2.4", "0.62")
    extractions = ok(bob.get(f"{base}studies/{mercadante}/extractions/"))
    by_who = {e["reviewer"]: e for e in extractions}
    assert set(by_who) == {None, "carol", "erin"}
    assert by_who[None]["values"]["participants_condition"] == "Cancer pain"
    assert OutcomeData.objects.filter(extraction__reviewer__isnull=True).count() == 6
    assert selectors.discrepancy_list(review=cast.review, status="resolved").count() == 2
    assert Decimal(got[(paired["id"], "0.25 mg/kg")]["estimate"]) == Decimal("-1.5")


def test_the_schema_documents_the_extraction_endpoints(cast, web):
    schema = web("carol").get("/api/schema/?format=json").json()
    base = "/api/v1/reviews/{review_pk}/"
    expected_paths = {
        "studies/": {"get", "post"},
        "studies/{id}/": {"get", "patch", "delete"},
        "studies/{study_pk}/arms/": {"get", "post"},
        "studies/{study_pk}/arms/{id}/": {"get", "patch", "delete"},
        "studies/{study_pk}/reports/": {"get", "post"},
        "studies/{study_pk}/reports/{record_pk}/": {"patch", "delete"},
        "studies/{study_pk}/extractions/": {"get", "post"},
        "studies/{study_pk}/extractions/{id}/": {"get", "patch"},
        "studies/{study_pk}/outcome-data/": {"get", "put"},
        "outcomes/": {"get", "post"},
        "outcomes/{id}/": {"get", "patch", "delete"},
        "comparisons/": {"get", "post"},
        "comparisons/{id}/": {"get", "patch", "delete"},
        "forms/": {"get", "post"},
        "forms/{id}/": {"get", "delete"},
        "discrepancies/": {"get"},
        "discrepancies/{id}/resolve/": {"post"},
        "extraction/settings/": {"get", "patch"},
        "extraction.csv": {"get"},
    }
    for path, methods in expected_paths.items():
        operations = schema["paths"][base + path]
        assert set(operations) - {"parameters"} == methods, path
        for operation in operations.values():
            assert operation["tags"] == ["extraction"], path
    patch = schema["paths"][base + "studies/{study_pk}/extractions/{id}/"]["patch"]
    assert {"400", "401", "403", "404", "409"} <= set(patch["responses"])
    body = schema["components"]["schemas"]["PatchedExtractionRequest"]["properties"]
    assert set(body) == {"version", "values", "status"}
    assert "text/csv" in schema["paths"][base + "extraction.csv"]["get"]["responses"]["200"]["content"]


@pytest.mark.django_db(transaction=True)
def test_two_sessions_patching_the_same_extraction_at_once_give_one_200_and_one_409(cast, seed, api):
    """Two browsers (or tools) save the same extraction from the same version at the same moment, on PostgreSQL:
    the extraction's row lock makes one wait, and it then finds the version moved on."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (CI's second run); SQLite serialises writers")
    mine = start(cast.carol, seed, seed.hardy)
    path = extraction_url(seed, seed.hardy, mine)
    clients = [api("carol"), api("carol")]
    for attempt in range(5):
        statuses: list[int | str] = []
        barrier = threading.Barrier(2)

        def work(client, text: str, statuses=statuses, barrier=barrier, version=attempt + 1) -> None:
            try:
                barrier.wait()
                statuses.append(
                    client.patch(path, {"version": version, "values": {"participants_condition": text}}).status_code
                )
            except Exception as exc:  # noqa: BLE001 - any other error is the failure this test looks for
                statuses.append(repr(exc))
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=work, args=(c, t))
            for c, t in zip(clients, ("Cancer pain", "Bone pain"), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses, key=str) == [200, 409]
        mine.refresh_from_db()
        assert mine.version == attempt + 2  # one save, never two
