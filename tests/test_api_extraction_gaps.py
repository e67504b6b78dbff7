"""Page actions that the API lacked: making the studies of the included records at once (POST
studies/from-included/), moving an extraction to the published form version (POST …/upgrade/) and the history of
an extraction's values (GET …/history/).
Each: the happy path, anonymous, too small a role and an outsider."""

import pytest

from extraction.models import FieldValue, Study
from extraction.services import extracting as X
from extraction.services import forms as F
from extraction.tests.conftest import erin, seed
from extraction.tests.test_extracting import required_values, save, start
from reviews.models import Import, Record
from screening import services as screening_services
from screening.models import Stage

pytestmark = pytest.mark.django_db

__all__ = ["erin", "seed"]  # fixtures, imported to be used here


def included_at_full_text(cast, n: int) -> list[Record]:
    review = cast.review
    batch = Import.objects.create(
        review=review, source="MEDLINE", filename="m.ris", content_hash="inc", status=Import.Status.SUCCEEDED
    )
    records = [
        Record.objects.create(review=review, batch=batch, position=i, title=f"Trial {i}", authors=[f"Smith{i} J"],
                              year=2000 + i)
        for i in range(1, n + 1)
    ]  # fmt: skip
    screening_services.settings_update(user=cast.alice, review_id=review.pk, version=None, reviewers_needed=1)
    for record in records:
        for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT):
            screening_services.decision_create(
                user=cast.carol, review_id=review.pk, record_id=record.pk, stage=stage, decision="include"
            )
            screening_services.outcome_evaluate(record_id=record.pk, stage=stage)
    return records


def test_studies_from_included_records(cast, api):
    records = included_at_full_text(cast, 2)
    url = f"/api/v1/reviews/{cast.review.pk}/studies/from-included/"
    assert api("anonymous").post(url).status_code == 401
    assert api("dave").post(url).status_code == 404
    assert api("carol").post(url).status_code == 403
    assert not Study.objects.filter(review=cast.review).exists()
    made = api("bob").post(url)
    assert made.status_code == 201, made.json()
    body = made.json()
    assert len(body) == 2
    assert sorted(r["record"] for s in body for r in s["reports"]) == sorted(r.pk for r in records)
    again = api("alice").post(url)  # every included record has its study now
    assert again.status_code == 201 and again.json() == []


@pytest.fixture
def new_version(cast, seed):
    """carol's extraction of Hardy 2012 on form version 1, and a version 2 published without one of its fields."""
    rid = seed.review.pk
    mine = start(cast.carol, seed, seed.hardy)
    save(cast.carol, mine, required_values(seed.hardy) | {"methods_duration": "28 days"})
    draft = F.form_new_draft(user=cast.bob, review_id=rid, form_id=seed.form.pk)
    duration = draft.fields.get(key="methods_duration")
    F.field_delete(user=cast.bob, review_id=rid, form_id=draft.pk, field_id=duration.pk)
    F.form_publish(user=cast.bob, review_id=rid, form_id=draft.pk)
    return mine, draft


def test_extraction_upgrade(cast, api, seed, new_version):
    mine, draft = new_version
    url = f"/api/v1/reviews/{seed.review.pk}/studies/{seed.hardy.pk}/extractions/{mine.pk}/upgrade/"
    assert api("anonymous").post(url).status_code == 401
    assert api("dave").post(url).status_code == 404
    assert api("erin").post(url).status_code == 404  # another reviewer's extraction, while blinded
    moved = api("carol").post(url)
    assert moved.status_code == 200, moved.json()
    body = moved.json()
    assert body["id"] != mine.pk and body["form"]["id"] == draft.pk and body["reviewer"] == "carol"
    keys = set(FieldValue.objects.filter(extraction_id=body["id"]).values_list("field__key", flat=True))
    assert "participants_condition" in keys and "methods_duration" not in keys
    assert api("carol").post(url).json()["id"] == body["id"]  # already moved: the same new extraction


def test_extraction_upgrade_of_the_consensus_needs_an_editor(cast, api, seed, new_version):
    consensus = X.consensus_start(user=cast.bob, review_id=seed.review.pk, study_id=seed.hardy.pk)
    url = f"/api/v1/reviews/{seed.review.pk}/studies/{seed.hardy.pk}/extractions/{consensus.pk}/upgrade/"
    assert api("carol").post(url).status_code in (403, 404)  # a reviewer may not even read it while blinded
    assert api("bob").post(url).status_code == 200


def test_extraction_history(cast, api, seed, new_version):
    mine, _ = new_version
    url = f"/api/v1/reviews/{seed.review.pk}/studies/{seed.hardy.pk}/extractions/{mine.pk}/history/"
    assert api("anonymous").get(url).status_code == 401
    assert api("dave").get(url).status_code == 404
    assert api("erin").get(url).status_code == 404  # another reviewer's extraction, while blinded
    for who in ("carol", "bob"):
        response = api(who).get(url)
        assert response.status_code == 200, who
        changes = response.json()
        duration = [c for c in changes if c["new"] == "28 days"]
        assert len(duration) == 1 and duration[0]["who"] == "carol" and duration[0]["old"] == ""
        assert [c["when"] for c in changes] == sorted((c["when"] for c in changes), reverse=True)
