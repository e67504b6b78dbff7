# mypy: disable-error-code="attr-defined"
"""The audit trail (reviews.audit, reviews.models.AuditEvent): each kind of change made through the real services
and pages is recorded with who, when, the old and the new value; the trail is append-only for the application
(its model, its querysets and a database trigger refuse to rewrite it) and survives the deletion of its review;
owners read it on the Activity page, through the API and in the JSON export, and nobody else does."""

from datetime import datetime
from typing import Any

import orjson
import pytest
from django.db import DatabaseError, connection, models, transaction
from django.urls import reverse
from django.utils import timezone

from exports import review_json
from extraction.services import extracting as E
from extraction.tests.conftest import erin, seed
from grading import services as rob_services
from grading import services_certainty as certainty_services
from grading.tests.test_certainty import accept_proposals, ketamine, view_of
from reviews import services as review_services
from reviews.models import AuditEvent, Import, Record, Review
from reviews.selectors import review_get_for_user
from screening import services as screening_services
from screening.models import Outcome

__all__ = ["erin", "ketamine", "seed"]

pytestmark = pytest.mark.django_db

TA = "title_abstract"


def records(review: Review, n: int = 2) -> list[Record]:
    batch = Import.objects.create(
        review=review, source="MEDLINE", filename="m.ris", content_hash="ab" * 32, status=Import.Status.SUCCEEDED
    )
    Record.objects.bulk_create(
        Record(review=review, batch=batch, position=i, title=f"Ketamine trial {i}") for i in range(1, n + 1)
    )
    return list(Record.objects.filter(batch=batch).order_by("id"))


def trail(review: Review, subject: str, **filters: Any) -> list[tuple[str, str, str, str, str]]:
    """(who, action, field, old, new) of the review's events of a kind, oldest first."""
    events = AuditEvent.objects.filter(review=review, subject=subject, **filters).order_by("id")
    return [(e.actor_name, e.action, e.field, e.old_value, e.new_value) for e in events]


def within(review: Review, subject: str, since: datetime) -> bool:
    """Every event of the review of that kind stamped between `since` and now."""
    events = AuditEvent.objects.filter(review=review, subject=subject)
    return events.exists() and all(since <= e.at <= timezone.now() for e in events)


# --- each kind of change ---------------------------------------------------------------------------------------


def test_decision_created_and_changed(cast, api):
    since = timezone.now()
    review = cast.review
    record = records(review)[0]
    # Through the API: the user comes from the request (django-simple-history's middleware).
    answer = api("carol").post(
        f"/api/v1/reviews/{review.pk}/screening/{TA}/decisions/", {"record": record.pk, "decision": "include"}
    )
    assert answer.status_code == 201, answer.content
    decision = review.decisions.get()
    screening_services.decision_update(
        user=cast.carol, review_id=review.pk, decision_id=decision.pk, decision="exclude", note="Wrong design."
    )
    assert trail(review, "decision") == [
        ("carol", "created", "decision", "", "include"),
        ("carol", "changed", "decision", "include", "exclude"),
        ("carol", "changed", "note", "", "Wrong design."),
    ]
    event = AuditEvent.objects.filter(review=review, subject="decision").order_by("id")[0]
    assert event.label == "Ketamine trial 1 (Title and abstract, carol)" and event.object_id == decision.pk
    assert event.object_type == "screening.decision" and event.actor == cast.carol
    assert within(review, "decision", since)


def test_conflict_resolution(cast, erin):
    review = cast.review
    record = records(review)[0]
    for who, choice in ((cast.carol, "include"), (erin, "exclude")):
        screening_services.decision_create(
            user=who, review_id=review.pk, record_id=record.pk, stage=TA, decision=choice
        )
    screening_services.outcome_evaluate(record_id=record.pk, stage=TA)
    conflict = Outcome.objects.get(record=record, stage=TA)
    assert trail(review, "conflict resolution") == []  # a conflict found is not a resolution
    screening_services.conflict_resolve(user=cast.bob, review_id=review.pk, conflict_id=conflict.pk, decision="include")
    assert trail(review, "conflict resolution") == [
        ("bob", "changed", "status", "conflict", "resolved"),
        ("bob", "changed", "decision", "", "include"),
    ]


def test_extraction_value_changed(cast, seed):
    review = seed.review
    extraction = E.extraction_start(user=cast.carol, review_id=review.pk, study_id=seed.yang.pk)
    for condition in ("Cancer pain", "Refractory cancer pain"):
        E.extraction_save(
            user=cast.carol, review_id=review.pk, extraction_id=extraction.pk, version=None,
            values={"participants_condition": condition},
        )  # fmt: skip
    assert trail(review, "extraction value") == [
        ("carol", "created", "value", "", "Cancer pain"),
        ("carol", "changed", "value", "Cancer pain", "Refractory cancer pain"),
    ]
    label = AuditEvent.objects.filter(review=review, subject="extraction value").order_by("id")[0].label
    assert label.startswith("Yang 1996 — carol's extraction: ")


def test_risk_of_bias_judgement_and_certainty_sign_off(cast, ketamine):
    seed, review = ketamine, ketamine.review
    assessment = rob_services.assessment_start(user=cast.carol, review_id=review.pk, study_id=seed.yang.pk)
    for judgement in ("low", "high"):
        assessment.refresh_from_db()
        rob_services.judgement_save(
            user=cast.carol, review_id=review.pk, assessment_id=assessment.pk, version=assessment.version,
            domain="random_sequence", judgement=judgement, support="Computer generated.",
        )  # fmt: skip
    carol_s = trail(review, "risk-of-bias judgement", label__contains="carol's assessment: random_sequence")
    assert carol_s == [
        ("carol", "created", "judgement", "", "low"),
        ("carol", "created", "support", "", "Computer generated."),
        ("carol", "changed", "judgement", "low", "high"),
    ]
    # The consensus written for the seed (RoB 1, unclear throughout) is in the trail too.
    assert trail(review, "risk-of-bias judgement", label__contains="consensus: overall", field="overall")

    rating = accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    certainty_services.certainty_sign_off(
        user=cast.bob, review_id=review.pk, comparison_id=seed.comparison.pk, outcome_id=seed.pain.pk,
        version=rating.version,
    )  # fmt: skip
    rated = trail(review, "certainty rating")
    assert ("bob", "changed", "level", "high", "very_low") in rated
    assert rated[-1] == ("bob", "changed", "status", "draft", "signed_off")


def test_membership_changes(cast, api):
    client = api("alice")
    carol = cast.review.memberships.get(user=cast.carol)
    assert client.patch(f"/api/v1/reviews/{cast.review.pk}/members/{carol.pk}/", {"role": "editor"}).status_code == 200
    assert client.delete(f"/api/v1/reviews/{cast.review.pk}/members/{carol.pk}/").status_code == 204
    assert trail(cast.review, "membership", label="carol") == [
        ("", "created", "role", "", "reviewer"),  # made by the test's factory, outside any request
        ("alice", "changed", "role", "reviewer", "editor"),
        ("alice", "deleted", "role", "editor", ""),
    ]


def test_review_and_screening_settings(cast, web):
    since = timezone.now()
    response = web("alice").post(
        reverse("reviews:edit", args=[cast.review.pk]),
        {"title": "Ketamine for cancer pain", "population": "Adults with cancer pain", "version": "1"},
    )
    assert response.status_code == 302
    changed = trail(cast.review, "review setting")
    assert ("alice", "changed", "title", "Ketamine as an adjuvant to opioids for cancer pain",
            "Ketamine for cancer pain") in changed  # fmt: skip
    assert all(who == "alice" for who, *_ in changed)
    settings = screening_services.settings_for(cast.review)  # made with its defaults on first use: not a change
    assert trail(cast.review, "review setting", label="Screening settings") == []
    screening_services.settings_update(
        user=cast.alice, review_id=cast.review.pk, version=settings.version, blinded=False,
        include_terms="ketamine\nopioid",
    )  # fmt: skip
    assert trail(cast.review, "review setting", label="Screening settings") == [
        ("", "changed", "blinded", "yes", "no"),  # a service called outside a request knows no user
        ("", "changed", "include_terms", "", "ketamine\nopioid"),
    ]
    assert within(cast.review, "review setting", since)


# --- append-only ------------------------------------------------------------------------------------------------


@pytest.fixture
def event(cast):
    return AuditEvent.objects.create(
        review=cast.review, actor=cast.alice, actor_name="alice", action="changed", subject="decision",
        label="Ketamine trial 1", field="decision", old_value="include", new_value="exclude",
    )  # fmt: skip


def test_the_application_cannot_change_or_delete_an_event(event):
    event.new_value = "maybe"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(new_value="maybe")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).new_value == "exclude"


def test_the_database_refuses_raw_updates_and_deletes(event):
    table = AuditEvent._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET new_value = 'maybe' WHERE id = %s", [event.pk])  # noqa: S608
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        # A plain QuerySet, past AuditEventQuerySet's refusals: the trigger still says no.
        models.QuerySet(AuditEvent).filter(pk=event.pk).update(new_value="maybe")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            models.QuerySet(AuditEvent).filter(pk=event.pk)._raw_delete(connection.alias)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])  # noqa: S608
    else:
        # SQLite ignores the DELETE (see migration 0005): the row stays.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])  # noqa: S608
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.new_value, stored.old_value, stored.actor_name) == ("exclude", "include", "alice")


def test_deleting_a_review_keeps_its_trail_and_records_who_deleted_it(cast, api):
    review = cast.review
    record = records(review)[0]
    screening_services.decision_create(
        user=cast.carol, review_id=review.pk, record_id=record.pk, stage=TA, decision="include"
    )
    before = AuditEvent.objects.filter(review_id=review.pk).count()
    assert api("alice").delete(f"/api/v1/reviews/{review.pk}/").status_code == 204
    assert not Review.objects.filter(pk=review.pk).exists()
    events = AuditEvent.objects.filter(review_id=review.pk).order_by("id")
    # One event for the deletion, none for each decision, member and setting that went with the review.
    assert events.count() == before + 1
    last = events.order_by("-id")[0]
    assert (last.actor_name, last.action, last.subject, last.old_value) == (
        "alice", "deleted", "review", "Ketamine as an adjuvant to opioids for cancer pain",
    )  # fmt: skip
    # The next review's trail starts as usual (the deletion's mark is gone).
    review_services.membership_change_role(
        user=cast.dave,
        review_id=cast.other_review.pk,
        membership_id=review_services.membership_add(
            user=cast.dave, review_id=cast.other_review.pk, identifier="carol", role="reviewer"
        ).pk,
        role="editor",
    )
    assert trail(cast.other_review, "membership", label="carol")[-1] == ("", "changed", "role", "reviewer", "editor")


# --- who reads it -----------------------------------------------------------------------------------------------


@pytest.fixture
def decided(cast, erin):
    """Two reviewers' decisions on a record, while screening is blinded."""
    record = records(cast.review)[0]
    for who, choice in ((cast.carol, "include"), (erin, "exclude")):
        screening_services.decision_create(
            user=who, review_id=cast.review.pk, record_id=record.pk, stage=TA, decision=choice
        )
    return record


def test_activity_page_owner_sees_who_changed_what(cast, web, decided):
    response = web("alice").get(reverse("reviews:activity", args=[cast.review.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ketamine trial 1 (Title and abstract, erin)" in page and "exclude" in page
    assert f'href="/reviews/{cast.review.pk}/activity/"' in page  # the nav's link, for owners
    only_erin = web("alice").get(reverse("reviews:activity", args=[cast.review.pk]), {"who": "erin"})
    text = only_erin.content.decode()
    assert "(Title and abstract, erin)" in text and "(Title and abstract, carol)" not in text
    memberships = web("alice").get(reverse("reviews:activity", args=[cast.review.pk]), {"what": "membership"})
    assert "Title and abstract" not in memberships.content.decode()


@pytest.mark.parametrize(("who", "status"), [("bob", 403), ("carol", 403), ("erin", 403), ("dave", 404)])
def test_activity_page_is_for_owners_only(cast, web, decided, who, status):
    response = web(who).get(reverse("reviews:activity", args=[cast.review.pk]))
    assert response.status_code == status
    assert b"erin)" not in response.content


def test_activity_page_anonymous_is_sent_to_log_in(cast, web):
    response = web("anonymous").get(reverse("reviews:activity", args=[cast.review.pk]))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_activity_link_only_for_owners(cast, web):
    link = f'href="/reviews/{cast.review.pk}/activity/"'
    assert link in web("alice").get(reverse("reviews:detail", args=[cast.review.pk])).content.decode()
    assert link not in web("carol").get(reverse("reviews:detail", args=[cast.review.pk])).content.decode()
    assert link not in web("bob").get(reverse("reviews:detail", args=[cast.review.pk])).content.decode()


def test_activity_page_queries_do_not_grow_with_the_trail(cast, web, django_assert_max_num_queries):
    client = web("alice")
    url = reverse("reviews:activity", args=[cast.review.pk])
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    for record in records(cast.review, 3):
        screening_services.decision_create(
            user=cast.carol, review_id=cast.review.pk, record_id=record.pk, stage=TA, decision="include"
        )
    few = queries()
    for record in records(cast.review, 60):
        screening_services.decision_create(
            user=cast.carol, review_id=cast.review.pk, record_id=record.pk, stage=TA, decision="exclude"
        )
    assert AuditEvent.objects.filter(review=cast.review).count() > 60  # more than one page
    assert queries() == few
    with django_assert_max_num_queries(7):  # session, user, membership, actors, count, page (+1 spare)
        client.get(url, {"who": "carol", "what": "decision", "page": "2"})


def api_url(review_id: int) -> str:
    return f"/api/v1/reviews/{review_id}/activity/"


def test_api_owner_reads_the_trail_newest_first(cast, api, decided):
    answer = api("alice").get(api_url(cast.review.pk))
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == AuditEvent.objects.filter(review=cast.review).count()
    first = body["results"][0]
    assert set(first) == {
        "id", "at", "actor", "action", "subject", "object_type", "object_id", "label", "field", "old_value",
        "new_value",
    }  # fmt: skip
    assert (first["actor"], first["action"], first["subject"], first["new_value"]) == (
        "erin", "created", "decision", "exclude",
    )  # fmt: skip
    only = api("alice").get(api_url(cast.review.pk), {"who": "carol", "what": "decision"}).json()
    assert [r["new_value"] for r in only["results"]] == ["include"]
    assert api("alice").get(api_url(cast.review.pk), {"what": "nonsense"}).status_code == 400


@pytest.mark.parametrize(
    ("who", "status"), [("bob", 403), ("carol", 403), ("erin", 403), ("dave", 404), ("anonymous", 401)]
)
def test_api_is_for_owners_only(cast, api, decided, who, status):
    answer = api(who).get(api_url(cast.review.pk))
    assert answer.status_code == status
    assert b"erin" not in answer.content or who == "erin"


# --- the JSON export -------------------------------------------------------------------------------------------


def export(user: Any, review_id: int) -> dict[str, Any]:
    review = review_get_for_user(user=user, review_id=review_id)
    return orjson.loads(b"".join(review_json.review_json_chunks(review=review, user=user)))


def test_json_export_carries_the_trail_for_owners_only(cast, decided):
    document = export(cast.alice, cast.review.pk)
    decisions = [e for e in document["audit_trail"] if e["subject"] == "decision"]
    assert [(e["actor"], e["actor_name"], e["action"], e["new_value"]) for e in decisions] == [
        ("carol", "carol", "created", "include"),
        ("erin", "erin", "created", "exclude"),
    ]
    assert decisions[0]["label"] == "Ketamine trial 1 (Title and abstract, carol)" and decisions[0]["at"]
    for who in (cast.bob, cast.carol):
        assert export(who, cast.review.pk)["audit_trail"] == []


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_still_empties_the_database(cast):
    """Django's flush after a transactional test must get past the trigger (TRUNCATE on PostgreSQL, an ignored
    DELETE on SQLite), or every transactional test after one that wrote the trail would fail at teardown."""
    screening_services.settings_update(
        user=cast.alice, review_id=cast.review.pk, version=screening_services.settings_for(cast.review).version,
        blinded=False,
    )  # fmt: skip
    assert AuditEvent.objects.filter(review=cast.review, subject="review setting").exists()


def test_import_recreates_the_trail_and_adds_no_events_of_its_own(cast, decided):
    from exports import review_load

    document = export(cast.alice, cast.review.pk)
    assert document["audit_trail"]
    copy_ = review_load.review_import(user=cast.alice, document_or_file=orjson.dumps(document))
    again = export(cast.alice, copy_.pk)["audit_trail"]
    assert [{k: e[k] for k in e if k != "id"} for e in again] == [
        {k: e[k] for k in e if k != "id"} for e in document["audit_trail"]
    ]
    # A document without the trail (written before it was part of the export) still imports.
    del document["audit_trail"]
    older = review_load.review_import(user=cast.alice, document_or_file=orjson.dumps(document))
    assert not AuditEvent.objects.filter(review=older).exists()


def test_bulk_created_rows_can_be_recorded(cast, seed):
    """bulk_create writes no history: a service that uses it on a tracked model records the rows itself."""
    from extraction.models import FieldValue
    from reviews import audit

    extraction = E.extraction_start(user=cast.carol, review_id=seed.review.pk, study_id=seed.yang.pk)
    E.extraction_save(
        user=cast.carol, review_id=seed.review.pk, extraction_id=extraction.pk, version=None,
        values={"participants_condition": "Cancer pain"},
    )  # fmt: skip
    before = len(trail(seed.review, "extraction value"))
    audit.record_bulk_created(FieldValue.objects.filter(extraction=extraction), user=cast.bob)
    assert trail(seed.review, "extraction value")[before:] == [("bob", "created", "value", "", "Cancer pain")]
