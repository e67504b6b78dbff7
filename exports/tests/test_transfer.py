"""The import of a JSON export as a background job (exports/services.py, exports/tasks.py): accepted in the request,
run by a worker, its progress and outcome recorded on a ReviewTransfer that only its user may read."""

from datetime import timedelta
from typing import Any

import orjson
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from exports import review_json, review_load, services
from exports.models import ReviewTransfer
from exports.tasks import review_transfer_run
from exports.tests.test_review_json import (
    IMPORT_URL,
    REAL_WORKER,
    comparable,
    differences,
    erin,
    export,
    json_review,
    ketamine,
    seed,
    started,
    transfer_status,
    validate,
)
from reviews.models import Membership, Record, Review
from screening.models import Decision

__all__ = ["erin", "json_review", "ketamine", "seed"]

Status = ReviewTransfer.Status


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def document(cast) -> dict[str, Any]:
    """The export of the cast's small review (members, no records)."""
    return export(cast.alice, cast.review.pk)


def counts() -> tuple[int, ...]:
    return (
        Review.objects.count(),
        Membership.objects.count(),
        Record.objects.count(),
        Decision.objects.count(),
        get_user_model().objects.count(),
    )


def queued(user: Any, body: bytes, name: str = "review.json") -> ReviewTransfer:
    """A stored transfer whose task has not run: in a test's own transaction, on_commit never fires."""
    return services.review_import_start(user=user, upload=ContentFile(body, name=name))


# --- the job ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_queued_transfer_is_stored_and_runs_to_100(cast, document):
    transfer = queued(cast.dave, orjson.dumps(document))
    assert transfer.status == Status.QUEUED and transfer.progress == 0 and transfer.review is None
    stored = str(transfer.file.name)
    assert transfer.file.storage.exists(stored) and transfer.filename == "review.json"
    assert review_transfer_run(transfer.pk) == Status.SUCCEEDED
    transfer.refresh_from_db()
    assert transfer.status == Status.SUCCEEDED and transfer.progress == 100 and transfer.stage == "Done"
    assert transfer.started_at is not None and transfer.finished_at is not None
    assert transfer.started_at <= transfer.finished_at
    assert transfer.review is not None and transfer.review.title == cast.review.title
    assert Membership.objects.get(review=transfer.review, user=cast.dave).role == Membership.Role.OWNER
    # The file is not kept once imported.
    assert not transfer.file and not transfer.file.storage.exists(stored)


@pytest.mark.django_db
def test_progress_is_reported_between_tables_and_rises(cast, json_review):
    calls: list[tuple[int, str]] = []
    body = orjson.dumps(export(cast.alice, json_review.review.pk))
    review_load.review_import(user=cast.dave, document_or_file=body, progress=lambda p, s: calls.append((p, s)))
    percents = [p for p, _ in calls]
    assert percents == sorted(percents) and percents[0] == 1 and all(0 < p < 100 for p in percents)
    stages = [s for _, s in calls]
    assert stages[0] == "Reading and checking the document"
    # One call before each table, naming it and how many rows it has.
    assert len(calls) == 1 + len(review_json.TABLES)
    assert "Creating records (5)" in stages and "Creating decisions (5)" in stages
    assert percents[-1] > percents[1]


@pytest.mark.django_db
def test_the_writer_keeps_progress_below_100_and_only_while_running(cast, document):
    transfer = queued(cast.dave, orjson.dumps(document))
    ReviewTransfer.objects.filter(pk=transfer.pk).update(status=Status.RUNNING)
    with services.ProgressWriter(transfer.pk) as write:
        write(250, "Creating records (20,000)")
    transfer.refresh_from_db()
    assert (transfer.progress, transfer.stage) == (99, "Creating records (20,000)")
    ReviewTransfer.objects.filter(pk=transfer.pk).update(status=Status.SUCCEEDED, progress=100)
    with services.ProgressWriter(transfer.pk) as write:
        write(40, "late")  # a finished transfer is not moved back
    transfer.refresh_from_db()
    assert (transfer.progress, transfer.stage) == (100, "Creating records (20,000)")


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="PostgreSQL only: SQLite has one writer at a time, so there progress shows when the import commits",
)
@pytest.mark.django_db(transaction=True)
def test_progress_is_written_outside_the_imports_transaction(cast):
    # Made directly: committed here, a queued transfer's task would go to the broker with no worker to take it.
    transfer = ReviewTransfer.objects.create(user=cast.dave, filename="review.json", status=Status.RUNNING)
    writer = services.ProgressWriter(transfer.pk)
    assert writer.threaded
    with pytest.raises(RuntimeError), transaction.atomic():
        with writer:
            writer(55, "Creating decisions (5)")
        # Committed by the writer's own connection: seen here (read committed) and kept after the rollback.
        assert ReviewTransfer.objects.get(pk=transfer.pk).progress == 55
        raise RuntimeError("the data's transaction rolls back")
    transfer.refresh_from_db()
    assert (transfer.progress, transfer.stage) == (55, "Creating decisions (5)")
    assert connection.vendor == "postgresql"


@pytest.mark.django_db
def test_a_failure_is_recorded_with_its_path_and_adds_nothing(cast, json_review):
    document = export(cast.alice, json_review.review.pk)
    document["members"].append({"username": "newcomer", "role": "reviewer"})
    document["certainty"][0]["outcome"] = 987654  # found late, after most rows (and accounts) were made
    transfer = queued(cast.dave, orjson.dumps(document))
    stored = str(transfer.file.name)
    before = counts()
    assert review_transfer_run(transfer.pk) == Status.FAILED
    transfer.refresh_from_db()
    assert counts() == before and not get_user_model().objects.filter(username="newcomer").exists()
    assert transfer.status == Status.FAILED and transfer.review is None and transfer.stage == "Failed"
    assert transfer.error_path == "certainty[0].outcome" and "987654" in transfer.error
    assert transfer.finished_at is not None and not transfer.file.storage.exists(stored)


@pytest.mark.django_db
def test_an_internal_error_is_recorded_logged_and_raised(cast, document, monkeypatch, caplog):
    transfer = queued(cast.dave, orjson.dumps(document))

    def broken(**kwargs: Any) -> Review:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(review_load, "review_import", broken)
    before = counts()
    with pytest.raises(RuntimeError, match="disk on fire"):
        review_transfer_run(transfer.pk)
    transfer.refresh_from_db()
    assert transfer.status == Status.FAILED and transfer.error == services.INTERNAL_ERROR and counts() == before
    assert "disk on fire" not in transfer.error and "failed unexpectedly" in caplog.text


@pytest.mark.django_db
def test_the_task_runs_a_transfer_once(cast, document):
    transfer = queued(cast.dave, orjson.dumps(document))
    assert review_transfer_run(transfer.pk) == Status.SUCCEEDED
    made = ReviewTransfer.objects.get(pk=transfer.pk).review_id
    before = counts()
    # Delivered again (acks_late after a lost connection, say): nothing is imported twice.
    assert review_transfer_run(transfer.pk) == Status.SUCCEEDED
    assert counts() == before and ReviewTransfer.objects.get(pk=transfer.pk).review_id == made


@pytest.mark.django_db
def test_a_running_transfer_is_not_run_again_unless_abandoned(cast, document):
    transfer = queued(cast.dave, orjson.dumps(document))
    ReviewTransfer.objects.filter(pk=transfer.pk).update(status=Status.RUNNING, started_at=timezone.now())
    before = counts()
    assert review_transfer_run(transfer.pk) == Status.RUNNING
    assert counts() == before
    # Running for longer than any task may: its worker died and its transaction added nothing; run it again.
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    ReviewTransfer.objects.filter(pk=transfer.pk).update(started_at=long_ago)
    assert review_transfer_run(transfer.pk) == Status.SUCCEEDED
    assert Review.objects.count() == before[0] + 1


@pytest.mark.django_db
def test_a_failed_transfer_is_not_run_again(cast, document):
    document["schema"] = "sieve-review/2"
    transfer = queued(cast.dave, orjson.dumps(document))
    assert review_transfer_run(transfer.pk) == Status.FAILED
    assert review_transfer_run(transfer.pk) == Status.FAILED
    assert ReviewTransfer.objects.get(pk=transfer.pk).error_path == "schema"


@pytest.mark.django_db
def test_a_transfer_whose_user_was_deleted_is_gone(cast, document):
    transfer = queued(cast.dave, orjson.dumps(document))
    ReviewTransfer.objects.filter(pk=transfer.pk).delete()
    assert review_transfer_run(transfer.pk) == "gone"


# --- refused at once ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,said",
    [
        (b"", "review.json is empty"),
        (b"  \n ", "review.json is empty"),
        (b"[1, 2]", "not an object"),
        (b"<html><body>Sign in</body></html>", "Not valid JSON: a review document starts with"),
        (b"\xef\xbb\xbfPK\x03\x04", "Not valid JSON"),
    ],
)
def test_plainly_not_a_document_is_refused_at_once(cast, body, said):
    with pytest.raises(review_load.ReviewImportError, match=said):
        queued(cast.dave, body)
    assert not ReviewTransfer.objects.exists()


@pytest.mark.django_db
def test_over_the_limit_is_refused_at_once(cast, document, settings):
    settings.SIEVE_MAX_IMPORT_MB = 0
    with pytest.raises(review_load.ReviewImportError, match="SIEVE_MAX_IMPORT_MB"):
        queued(cast.dave, orjson.dumps(document))
    assert not ReviewTransfer.objects.exists()


@pytest.mark.django_db
def test_anonymous_cannot_start(cast, document):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(review_load.ReviewImportError, match="Log in"):
        services.review_import_start(user=AnonymousUser(), upload=ContentFile(orjson.dumps(document), name="r.json"))
    assert not ReviewTransfer.objects.exists()


# --- through the API ----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_through_the_job_gives_the_same_document(cast, json_review, api, tasks):
    first = export(cast.alice, json_review.review.pk)
    response, done = started(tasks, api("alice"), orjson.dumps(first), content_type="application/json")
    assert response.status_code == 202 and done is not None and done["status"] == "succeeded", done
    second = export(cast.alice, done["review"])
    validate(second)
    found = differences(comparable(second), comparable(first))
    assert found == [], "\n".join(found)


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_status_endpoint_only_its_user_may_read(cast, document, api, tasks):
    response, done = started(tasks, api("carol"), orjson.dumps(document), content_type="application/json")
    assert response.status_code == 202 and done is not None and done["status"] == "succeeded", done
    url = f"{IMPORT_URL}{response.json()['id']}/"
    assert transfer_status(api("carol"), response.json()["id"])["review"] == done["review"]
    # Not even the owner of the review it was exported from, nor of the new review's other members.
    for who in ("alice", "bob", "dave"):
        assert api(who).get(url).status_code == 404, who
    assert api("anonymous").get(url).status_code == 401
    assert api("carol").get(f"{IMPORT_URL}987654/").status_code == 404


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_status_endpoint_reports_a_failure_with_its_path(cast, document, api, tasks):
    del document["members"][0]["role"]
    before = counts()
    response, done = started(tasks, api("dave"), orjson.dumps(document), content_type="application/json")
    assert response.status_code == 202 and done is not None, response.content
    assert done["status"] == "failed" and done["path"] == "members[0].role" and "missing" in done["error"]
    assert done["review"] is None and done["review_url"] is None and counts() == before
