"""reviews.services.imports.imports_sweep: an import whose task was lost (the broker down when it was queued, a
whole worker killed on the embedded file-system queue, which does not give the message back) is queued again
and finishes once; one being processed now, or finished, is left alone."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, connections
from django.utils import timezone

from reviews.models import Import, Record
from reviews.services.imports import IMPORT_LOCK_SPACE, imports_sweep
from tests.bench.ris_corpus import write_ris

REAL_WORKER = not settings.CELERY_TASK_ALWAYS_EAGER
pytestmark = pytest.mark.django_db(transaction=REAL_WORKER)
RECORDS = 300


def _stalled(review, content: bytes, status: str, minutes_ago: int) -> Import:  # type: ignore[no-untyped-def]
    batch = Import(review=review, source="MEDLINE (Ovid)", filename="s.ris", content_hash=f"h{status}", status=status)
    batch.file.save("s.ris", ContentFile(content), save=False)
    batch.save()
    when = timezone.now() - timedelta(minutes=minutes_ago)
    Import.objects.filter(pk=batch.pk).update(created_at=when, started_at=when if status == "running" else None)
    return batch


def test_imports_left_by_a_lost_task_are_queued_again_and_finish_once(cast, tasks, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    content = write_ris(tmp_path / "s.ris", RECORDS).read_bytes()
    half_done = _stalled(cast.review, content, Import.Status.RUNNING, 10)
    # The rows a killed attempt had written: the run again must replace them, not add to them.
    Record.objects.bulk_create(
        Record(review=cast.review, batch=half_done, position=i, title=f"Half {i}") for i in range(1, 51)
    )
    never_sent = _stalled(cast.other_review, content, Import.Status.QUEUED, 10)
    just_queued = _stalled(cast.other_review, b"TY  - JOUR\nTI  - Fresh\nER  - \n", Import.Status.QUEUED, 0)

    with tasks.run():
        assert imports_sweep() == 2
    for batch in (half_done, never_sent):
        batch = tasks.wait_import(batch.pk)
        assert (batch.status, batch.progress, batch.records_added) == (Import.Status.SUCCEEDED, 100, RECORDS)
        rows = Record.objects.filter(batch=batch)
        assert rows.count() == rows.values("position").distinct().count() == RECORDS
    assert Import.objects.get(pk=just_queued.pk).status == Import.Status.QUEUED  # its task is still on its way
    with tasks.run():
        assert imports_sweep() == 0  # finished ones are not queued again


def test_an_import_being_processed_now_is_left_alone(cast, tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's; on the embedded default the sweep runs in the one worker")
    settings.MEDIA_ROOT = tmp_path / "media"
    batch = _stalled(cast.review, b"TY  - JOUR\nTI  - Slow\nER  - \n", Import.Status.RUNNING, 10)
    other = connections.create_connection("default")  # the worker processing it
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [IMPORT_LOCK_SPACE, batch.pk])
        assert imports_sweep() == 0
    finally:
        other.close()
