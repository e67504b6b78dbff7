# mypy: disable-error-code="attr-defined,index"
"""The whole review as JSON (sieve-review/1) and its import into a new review: the seed review (three trials with
extraction, analyses, risk of bias and certainty, plus screening with a conflict and its resolution, duplicates and
an import) exported, imported and exported again gives the same document apart from ids; the document follows its
JSON Schema; a blinded reviewer gets only their own rows; outsiders 404, anonymous 401; a broken document is
refused with what and where, and adds nothing."""

import copy
import io
import time
from typing import Any

import jsonschema
import orjson
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from exports import review_json, review_load
from exports.schema import build
from extraction import models as X
from extraction.services import extracting as E
from extraction.services import studies as study_services
from extraction.tests.conftest import erin, seed
from grading import models as G
from grading import services as rob_services
from grading.tests.test_certainty import accept_proposals, ketamine, view_of
from reviews.models import DuplicateGroup, Import, Membership, Record, Review
from reviews.selectors import review_get_for_user
from screening import services as screening_services
from screening.models import AgreementSummary, Decision, Outcome, PriorityModel, RecordScore

__all__ = ["erin", "ketamine", "seed"]

pytestmark = pytest.mark.django_db

TA = "title_abstract"


def decide(user: Any, review: Review, record: Record, decision: str) -> None:
    screening_services.decision_create(user=user, review_id=review.pk, record_id=record.pk, stage=TA, decision=decision)
    screening_services.outcome_evaluate(record_id=record.pk, stage=TA)


@pytest.fixture
def json_review(cast, ketamine):
    """The ketamine seed review (studies, consensus data, analyses, RoB 1 consensus) with what the rest of a review
    holds: an import of five records (one a duplicate), screening by carol and erin with a settled record, a
    conflict resolved by bob and a decision changed (history), a report linked to a study, each reviewer's own
    extraction and assessment, a discrepancy per stage, computed agreement and priority, and a certainty rating."""
    seed, review, carol, erin_ = ketamine, ketamine.review, cast.carol, cast.erin
    batch = Import.objects.create(
        review=review, source="MEDLINE (Ovid)", source_kind="database", filename="medline.ris", size=2048,
        content_hash="ab" * 32, status=Import.Status.SUCCEEDED, records_found=5, records_added=4, duplicates_found=1,
        searched_on=timezone.now().date(), strategy="ketamine AND cancer pain", warnings=[{"line": 3, "msg": "x"}],
        created_by=cast.alice,
    )  # fmt: skip
    Record.objects.bulk_create(
        Record(
            review=review, batch=batch, position=i, title=f"Ketamine trial {i}", abstract="Pain.", year=1990 + i,
            authors=[f"Author {i}", "Hardy J"], doi=f"10.1000/k{i}", raw={"TY": ["JOUR"], "PY": [str(1990 + i)]},
        )
        for i in range(1, 6)
    )  # fmt: skip
    records = list(Record.objects.filter(batch=batch).order_by("id"))
    duplicate = records[4]
    duplicate.duplicate_of = records[0]
    duplicate.save()
    group = DuplicateGroup.objects.create(
        review=review, status="auto", score=1.0, reason="Same DOI", primary=records[0]
    )
    group.records.set([records[0], duplicate])

    decide(carol, review, records[0], "include")
    decide(erin_, review, records[0], "maybe")
    decide(carol, review, records[1], "include")
    decide(erin_, review, records[1], "exclude")
    conflict = Outcome.objects.get(record=records[1], stage=TA)
    screening_services.conflict_resolve(user=cast.bob, review_id=review.pk, conflict_id=conflict.pk, decision="include")
    mine = screening_services.decision_create(
        user=carol, review_id=review.pk, record_id=records[2].pk, stage=TA, decision="exclude"
    )
    screening_services.decision_update(
        user=carol, review_id=review.pk, decision_id=mine.pk, decision="maybe", note="Check the full text."
    )
    AgreementSummary.objects.update_or_create(
        review=review, defaults={"data": {TA: {"kappa": 0.5}}, "stale": False, "computed_at": timezone.now()}
    )
    PriorityModel.objects.update_or_create(
        review=review, defaults={"ready": True, "stale": False, "outcomes_used": 2, "trained_at": timezone.now()}
    )
    RecordScore.objects.create(review=review, record=records[3], score=0.75)

    study_services.report_add(
        user=cast.bob, review_id=review.pk, study_id=seed.yang.pk, record_id=records[0].pk, primary=True
    )
    arm = seed.arm(seed.yang, "Ketamine")
    for who, condition, randomised in ((carol, "Cancer pain", "20"), (erin_, "Refractory cancer pain", "19")):
        extraction = E.extraction_start(user=who, review_id=review.pk, study_id=seed.yang.pk)
        E.extraction_save(
            user=who, review_id=review.pk, extraction_id=extraction.pk, version=None,
            values={"participants_condition": condition, f"participants_randomised@{arm.pk}": randomised},
        )  # fmt: skip
    E.extraction_save(
        user=carol, review_id=review.pk, extraction_id=X.Extraction.objects.get(reviewer=carol).pk, version=None,
        values={"participants_condition": "Cancer pain (changed)"},
    )  # fmt: skip
    X.Discrepancy.objects.create(
        review=review, study=seed.yang, form=seed.form, key=f"field:participants_randomised:{arm.pk}",
        label="Randomised (Ketamine)", values={"carol": "20", "erin": "19"},
    )  # fmt: skip
    X.Discrepancy.objects.create(
        review=review, study=seed.yang, form=seed.form,
        key=f"data:{seed.comparison.pk}:{seed.pain.pk}::mean_1", label="Pain mean 1",
        values={"carol": "3.0", "erin": "3.1"}, status="resolved", resolution="3.0", resolved_by=cast.bob,
        resolved_at=timezone.now(),
    )  # fmt: skip
    for who in (carol, erin_):
        assessment = rob_services.assessment_start(user=who, review_id=review.pk, study_id=seed.yang.pk)
        rob_services.judgement_save(
            user=who, review_id=review.pk, assessment_id=assessment.pk, version=assessment.version,
            domain="random_sequence", judgement="low" if who == carol else "unclear", support="Computer generated.",
        )  # fmt: skip
    G.RobDiscrepancy.objects.create(
        review=review, study=seed.yang, domain="random_sequence", values={"carol": "low", "erin": "unclear"}
    )
    accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    return seed


def export(user: Any, review_id: int) -> dict[str, Any]:
    review = review_get_for_user(user=user, review_id=review_id)
    return orjson.loads(b"".join(review_json.review_json_chunks(review=review, user=user)))


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every id (and reference) replaced by the row's position in its list, and without the
    export's own stamp. The rows' times are kept: the importer restores them, so they must match too."""
    document = copy.deepcopy(document)
    for key in ("exported_at", "source_review_id"):
        document.pop(key)
    position = {t.key: {row["id"]: i for i, row in enumerate(document[t.key])} for t in review_json.TABLES}
    for table in review_json.TABLES:
        for row in document[table.key]:
            row["id"] = position[table.key][row["id"]]
            for ref in table.refs:
                if row[ref.name] is not None:
                    row[ref.name] = position[ref.table][row[ref.name]]
            for ref in table.many:
                row[ref.name] = [position[ref.table][i] for i in row[ref.name]]
            if table.key == "extraction_discrepancies":
                row["key"] = _positional_spot(row["key"], position)
    return document


def _positional_spot(key: str, position: dict[str, dict[int, int]]) -> str:
    kind, _, rest = key.partition(":")
    if kind == "field":
        field, _, arm = rest.partition(":")
        return f"field:{field}:{position['arms'][int(arm)]}" if arm else key
    comparison, outcome, tail = rest.split(":", 2)
    return f"data:{position['comparisons'][int(comparison)]}:{position['outcomes'][int(outcome)]}:{tail}"


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ (a readable failure instead of a truncated diff)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def validate(document: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(build.load()).validate(document)


# --- the document -----------------------------------------------------------------------------------------------


def test_schema_file_is_what_the_tables_build():
    assert build.PATH.read_text(encoding="utf-8") == build.render(), "run exports.schema.build.write()"


def test_export_import_export_gives_the_same_document(cast, json_review, monkeypatch):
    # Tiny batches, so that the keyset paging of the writer and the batches of the importer are exercised.
    monkeypatch.setattr(review_json, "BATCH", 2)
    monkeypatch.setattr(review_load, "BATCH", 3)
    first = export(cast.alice, json_review.review.pk)
    validate(first)
    assert first["schema"] == "sieve-review/1" and first["withheld"] == []
    counts = {t.key: len(first[t.key]) for t in review_json.TABLES}
    assert counts["records"] == 5 and counts["decisions"] == 5 and counts["screening_outcomes"] == 2
    assert counts["studies"] == 3 and counts["arms"] == 7 and counts["analyses"] >= 2 and counts["certainty"] == 1
    assert counts["extractions"] == 5 and counts["outcome_data"] == 7 and counts["extraction_discrepancies"] == 2
    assert counts["rob_assessments"] == 5 and counts["rob_judgements"] == 23 and counts["rob_discrepancies"] == 1
    assert counts["duplicate_groups"] == 1 and first["duplicate_groups"][0]["records"]
    changed = next(d for d in first["decisions"] if d["note"])
    assert [h["change"] for h in changed["history"]] == ["+", "~"]
    assert [h["values"]["decision"] for h in changed["history"]] == ["exclude", "maybe"]
    resolved = next(o for o in first["screening_outcomes"] if o["status"] == "resolved")
    assert resolved["resolved_by"] == "bob" and [h["values"]["status"] for h in resolved["history"]] == [
        "conflict", "resolved",
    ]  # fmt: skip
    assert {m["username"]: m["role"] for m in first["members"]} == {
        "alice": "owner", "bob": "editor", "carol": "reviewer", "erin": "reviewer",
    }  # fmt: skip
    text = orjson.dumps(first).decode()
    assert "password" not in text and "@example.org" not in text  # no hashes, no emails

    before = Review.objects.count()
    copy_ = review_load.review_import(user=cast.alice, document_or_file=orjson.dumps(first))
    assert Review.objects.count() == before + 1 and copy_.pk != json_review.review.pk
    assert Membership.objects.get(review=copy_, user=cast.alice).role == "owner"
    assert Record.objects.filter(review=copy_).count() == 5
    second = export(cast.alice, copy_.pk)
    validate(second)
    assert second["source_review_id"] == copy_.pk
    found = differences(comparable(second), comparable(first))
    assert found == [], "\n".join(found)
    # The ids are the new review's own, and the references follow them.
    new_records = set(Record.objects.filter(review=copy_).values_list("pk", flat=True))
    assert {d["record"] for d in second["decisions"]} <= new_records
    assert not {d["record"] for d in second["decisions"]} & {d["record"] for d in first["decisions"]}


def test_export_streams_the_head_before_reading_records(cast, json_review, django_assert_max_num_queries):
    review = review_get_for_user(user=cast.alice, review_id=json_review.review.pk)
    chunks = review_json.review_json_chunks(review=review, user=cast.alice)
    with django_assert_max_num_queries(15):
        head = next(chunks)
    assert head.startswith(b'{"schema":"sieve-review/1"') and b'"records"' not in head
    assert b'"records":[' in b"".join(chunks)


def test_export_queries_do_not_grow_with_the_rows(cast, json_review):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export(cast.alice, json_review.review.pk)
        return len(captured)

    before = queries()
    batch = Import.objects.create(
        review=json_review.review, source="Embase", filename="embase.ris", content_hash="cd" * 32,
        status=Import.Status.SUCCEEDED,
    )  # fmt: skip
    Record.objects.bulk_create(
        Record(review=json_review.review, batch=batch, position=i, title=f"More {i}") for i in range(1, 31)
    )
    for record in Record.objects.filter(batch=batch):
        decide(cast.carol, json_review.review, record, "include")
    assert queries() == before


# --- blinding ---------------------------------------------------------------------------------------------------


def test_blinded_reviewer_gets_only_their_own_rows(cast, json_review):
    document = export(cast.carol, json_review.review.pk)
    validate(document)
    assert {d["reviewer"] for d in document["decisions"]} == {"carol"} and len(document["decisions"]) == 3
    assert all(h["values"]["reviewer"] == "carol" for d in document["decisions"] for h in d["history"])
    assert document["screening_outcomes"] == [] and document["agreement"] is None
    assert document["record_scores"] == [] and document["priority_model"] is None
    assert {e["reviewer"] for e in document["extractions"]} == {"carol"}  # no erin, no consensus
    own = {e["id"] for e in document["extractions"]}
    assert document["field_values"] and all(v["extraction"] in own for v in document["field_values"])
    assert all(d["extraction"] in own for d in document["outcome_data"])
    assert document["extraction_discrepancies"] == [] and document["analyses"] == []
    assert {a["assessor"] for a in document["rob_assessments"]} == {"carol"}
    mine = {a["id"] for a in document["rob_assessments"]}
    assert document["rob_judgements"] and all(j["assessment"] in mine for j in document["rob_judgements"])
    assert document["rob_discrepancies"] == [] and document["certainty"] == []
    assert "erin" not in orjson.dumps({k: document[k] for k in document if k != "members"}).decode()
    assert set(document["withheld"]) >= {"decisions", "extractions", "rob_assessments", "certainty", "analyses"}
    # Records, studies and forms are everyone's.
    assert len(document["records"]) == 5 and len(document["studies"]) == 3 and document["forms"]


def test_reviewer_sees_all_once_nothing_is_blinded(cast, json_review):
    review = json_review.review
    from extraction.models import ExtractionSettings
    from grading.models import RobSettings
    from screening.models import ScreeningSettings

    for model in (ScreeningSettings, ExtractionSettings, RobSettings):
        model.objects.filter(review=review).update(blinded=False)
    document = export(cast.carol, review.pk)
    assert {d["reviewer"] for d in document["decisions"]} == {"carol", "erin"}
    assert len(document["extractions"]) == 5 and len(document["certainty"]) == 1 and document["analyses"]
    assert len(document["rob_assessments"]) == 5 and document["screening_outcomes"]
    assert document["agreement"] is None and document["withheld"] == ["agreement"]  # the editors' dashboard


# --- API --------------------------------------------------------------------------------------------------------


def url(review_id: int) -> str:
    return f"/api/v1/reviews/{review_id}/export/json/"


def test_api_export_owner_gets_a_streamed_download(cast, json_review, api):
    response = api("alice").get(url(json_review.review.pk), HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].startswith(f'attachment; filename="review-{json_review.review.pk}-')
    document = orjson.loads(b"".join(response.streaming_content))
    validate(document)
    assert len(document["decisions"]) == 5


def test_api_export_reviewer_outsider_anonymous(cast, json_review, api):
    reviewer = api("carol").get(url(json_review.review.pk))
    assert reviewer.status_code == 200
    assert {d["reviewer"] for d in orjson.loads(b"".join(reviewer.streaming_content))["decisions"]} == {"carol"}
    assert api("dave").get(url(json_review.review.pk)).status_code == 404
    assert api("anonymous").get(url(json_review.review.pk)).status_code == 401
    assert api("alice").get(url(999999)).status_code == 404


IMPORT_URL = "/api/v1/reviews/import/"
# The import runs as a task: eagerly on the embedded default, through a real worker where REDIS_URL is set (which
# needs committed data: the tests that import through the API are transactional there).
REAL_WORKER = not settings.CELERY_TASK_ALWAYS_EAGER
FINISHED = ("succeeded", "failed")


def transfer_status(client: Any, transfer_id: int, timeout: float = 90) -> dict[str, Any]:
    """The transfer as its status endpoint shows it once finished (at once where tasks run eagerly)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{IMPORT_URL}{transfer_id}/")
        assert response.status_code == 200, response.content
        answer = response.json()
        if answer["status"] in FINISHED or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def started(tasks: Any, client: Any, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any] | None]:
    """POST to the import, run what it enqueued; the answer and, if it was accepted, the finished transfer."""
    with tasks.run():
        response = client.post(IMPORT_URL, *args, **kwargs)
    if response.status_code != 202:
        return response, None
    return response, transfer_status(client, response.json()["id"])


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_api_import_upload_and_json_body(cast, json_review, api, tasks):
    document = export(cast.alice, json_review.review.pk)
    upload = io.BytesIO(orjson.dumps(document))
    upload.name = "review.json"
    response, done = started(tasks, api("dave"), {"file": upload}, format="multipart")
    assert response.status_code == 202, response.json()
    accepted = response.json()
    assert accepted["status"] in ("queued", *FINISHED) and response["Location"] == accepted["url"]
    assert accepted["url"].endswith(f"{IMPORT_URL}{accepted['id']}/") and accepted["filename"] == "review.json"
    assert done is not None and done["status"] == "succeeded" and done["progress"] == 100, done
    assert done["error"] == "" and done["path"] == ""
    made = Review.objects.get(pk=done["review"])
    assert made.title == json_review.review.title and done["review_url"].endswith(f"/reviews/{made.pk}/")
    assert done["review_api_url"].endswith(f"/api/v1/reviews/{made.pk}/")
    # dave imported it, so dave owns it; alice keeps her role from the document.
    assert dict(Membership.objects.filter(review=made).values_list("user__username", "role")) == {
        "alice": "owner", "bob": "editor", "carol": "reviewer", "erin": "reviewer", "dave": "owner",
    }  # fmt: skip
    body, body_done = started(tasks, api("carol"), orjson.dumps(document), content_type="application/json")
    assert body.status_code == 202, body.json()
    assert body_done is not None and body_done["status"] == "succeeded", body_done
    assert Membership.objects.get(review_id=body_done["review"], user=cast.carol).role == "owner"
    assert api("anonymous").post(IMPORT_URL, orjson.dumps(document), content_type="application/json").status_code == 401


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_api_import_without_a_file_is_400(cast, api, tasks):
    response = api("alice").post(IMPORT_URL, {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["detail"]


# --- import errors ----------------------------------------------------------------------------------------------


@pytest.fixture
def json_document(cast, json_review) -> dict[str, Any]:
    return export(cast.alice, json_review.review.pk)


def refused(cast: Any, api: Any, tasks: Any, body: bytes, at_once: bool = False) -> dict[str, Any]:
    """Why the import was refused (`detail`, `path`), checking that it added no review, row or account: at once
    with a 400 (`at_once`: plainly not a review document), or accepted and then failed in the worker."""
    counts = (
        Review.objects.count(),
        Record.objects.count(),
        Decision.objects.count(),
        get_user_model().objects.count(),
    )
    response, done = started(tasks, api("alice"), body, content_type="application/json")
    assert counts == (
        Review.objects.count(), Record.objects.count(), Decision.objects.count(), get_user_model().objects.count()
    )  # fmt: skip
    if at_once:
        assert response.status_code == 400, response.content
        return response.json()
    assert response.status_code == 202, response.content
    assert done is not None and done["status"] == "failed" and done["review"] is None, done
    return {"detail": done["error"], "path": done["path"]}


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_bad_json(cast, api, tasks):
    answer = refused(cast, api, tasks, b'{"schema": "sieve-review/1", "records": [')
    assert answer["detail"].startswith("Not valid JSON") and "line 1" in answer["detail"]


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_not_an_object(cast, api, tasks):
    assert "not an object" in refused(cast, api, tasks, b"[1, 2]", at_once=True)["detail"]


@pytest.mark.parametrize("version", ["sieve-review/2", None])
@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_wrong_or_missing_version(cast, api, json_document, version, tasks):
    if version is None:
        del json_document["schema"]
    else:
        json_document["schema"] = version
    answer = refused(cast, api, tasks, orjson.dumps(json_document))
    assert answer["path"] == "schema" and "Unsupported schema version" in answer["detail"]
    assert "sieve-review/1" in answer["detail"] and (version or "missing") in answer["detail"]


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_missing_field(cast, api, json_document, tasks):
    del json_document["records"][3]["year"]
    answer = refused(cast, api, tasks, orjson.dumps(json_document))
    assert answer["path"] == "records[3].year" and "missing" in answer["detail"]


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_wrong_type(cast, api, json_document, tasks):
    json_document["records"][2]["year"] = "nineteen ninety"
    answer = refused(cast, api, tasks, orjson.dumps(json_document))
    assert answer["path"] == "records[2].year" and "integer" in answer["detail"]


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_unknown_reference(cast, api, json_document, tasks):
    json_document["decisions"][1]["record"] = 987654
    answer = refused(cast, api, tasks, orjson.dumps(json_document))
    assert answer["path"] == "decisions[1].record" and "987654" in answer["detail"] and "records" in answer["detail"]


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_unknown_reference_in_history_free_table_late_in_the_document(cast, api, json_document, tasks):
    # Found after most rows (and accounts) were created: the transaction still leaves nothing behind.
    json_document["members"].append({"username": "newcomer", "role": "reviewer"})
    json_document["certainty"][0]["outcome"] = 987654
    answer = refused(cast, api, tasks, orjson.dumps(json_document))
    assert answer["path"] == "certainty[0].outcome"
    assert not get_user_model().objects.filter(username="newcomer").exists()


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_value_for_an_arm_of_another_study(cast, api, json_document, json_review, tasks):
    value = next(i for i, v in enumerate(json_document["field_values"]) if v["arm"] is not None)
    json_document["field_values"][value]["arm"] = json_review.arm(json_review.hardy, "Placebo").pk
    answer = refused(cast, api, tasks, orjson.dumps(json_document))
    assert answer["path"] == f"field_values[{value}].arm" and "another study" in answer["detail"]


@pytest.mark.parametrize(
    "where,value",
    [
        (("records", 0, "year"), 99999),
        (("records", 1, "doi"), "x" * 300),
        (("decisions", 0, "stage"), "abstract"),
        (("decisions", 0, "reviewer"), "no spaces allowed"),
        (("arms", 0, "randomised"), -1),
        (("review", "title"), None),
        (("settings", "screening", "blinded"), "yes"),
        (("analyses", 0, "hksj"), 1),
        (("outcome_data", 0, "mean_1"), 3.9),
        (("certainty", 0, "history", 0, "values", "level"), 5),
        (("members", 0, "surplus"), "key"),
    ],
)
def test_importer_checks_what_the_schema_file_says(json_document, where, value):
    """The importer's compiled checker refuses what jsonschema refuses, at the same place."""
    target = json_document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        validate(json_document)
    with pytest.raises(review_load.ReviewImportError) as found:
        review_load.document_check(json_document)
    assert found.value.path == path_of(where)


def path_of(keys: tuple[Any, ...]) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if i else k) for i, k in enumerate(keys))


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_duplicate_id(cast, api, json_document, tasks):
    json_document["records"][1]["id"] = json_document["records"][0]["id"]
    answer = refused(cast, api, tasks, orjson.dumps(json_document))
    assert answer["path"] == "records[1].id" and "twice" in answer["detail"]


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_too_big(cast, api, json_document, settings, tasks):
    settings.SIEVE_MAX_IMPORT_MB = 0
    assert "SIEVE_MAX_IMPORT_MB" in refused(cast, api, tasks, orjson.dumps(json_document), at_once=True)["detail"]


def test_unknown_usernames_get_inactive_accounts_that_keep_their_work(cast, json_document):
    text = orjson.dumps(json_document).decode().replace('"erin"', '"zoe"')
    made = review_load.review_import(user=cast.bob, document_or_file=text)
    zoe = get_user_model().objects.get(username="zoe")
    assert not zoe.is_active and not zoe.has_usable_password()
    assert Decision.objects.filter(review=made, reviewer=zoe).count() == 2
    assert Membership.objects.get(review=made, user=zoe).role == "reviewer"
    assert Membership.objects.get(review=made, user=cast.bob).role == "owner"
    assert X.Extraction.objects.filter(review=made, reviewer=zoe).count() == 1
