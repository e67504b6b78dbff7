"""A worker SIGKILLed in the middle of an import (while it stores the records, while it deduplicates them) and of
an outcome recomputation: the job is delivered again and finishes exactly once, with no duplicate or half-written
rows. Two ways of dying: the pool child alone (the worker rejects the message, reject_on_worker_lost, and runs it
again at once) and the whole worker (the message stays unacknowledged in Redis and comes back to a new worker
after the visibility timeout).

Needs PostgreSQL and Redis (CI's second run); skipped on the embedded default, whose single worker runs beside
the server (tests/test_embedded_run.py covers its file-system queue)."""

import hashlib
import os
import random
import time
import uuid
from collections import Counter
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db.models import Count

from extraction.models import Comparison, Extraction, Outcome, OutcomeData, Study
from extraction.services.forms import current_form
from reviews.models import DuplicateGroup, Import, Membership, Record, Review
from reviews.services.imports import import_process
from reviews.tasks import import_run
from synthesis.models import Analysis, SynthesisQueue
from synthesis.tasks import recompute_task
from tests.bench.ris_corpus import write_ris
from tests.faults.conftest import TEST_VISIBILITY_TIMEOUT, Worker, wait_for

RECORDS = 30_000  # enough that storing and deduplicating each last seconds, so that a kill lands inside them


def _review(title: str) -> Review:
    editor = User.objects.create_user(username=f"editor-{uuid.uuid4().hex[:8]}")
    review = Review.objects.create(title=title, created_by=editor)
    Membership.objects.create(review=review, user=editor, role=Membership.Role.EDITOR)
    return review


def _import(review: Review, content: bytes) -> Import:
    """An import as import_start stores it, without queueing it (the test sends the task itself)."""
    batch = Import(
        review=review, source="MEDLINE (Ovid)", filename="search.ris", size=len(content),
        content_hash=hashlib.sha256(content).hexdigest(), stage="Waiting for a worker",
    )  # fmt: skip
    batch.file.save("search.ris", ContentFile(content), save=False)
    batch.save()
    return batch


def _groups_by_position(review: Review) -> set[tuple[str, frozenset[int]]]:
    """The review's duplicate groups as (status, the positions in the file of their records): comparable across
    reviews, whatever the ids."""
    positions = dict(Record.objects.filter(review=review).values_list("pk", "position"))
    through = DuplicateGroup.records.through.objects.filter(duplicategroup__review=review)
    members: dict[int, set[int]] = {}
    for group_id, record_id in through.values_list("duplicategroup_id", "record_id"):
        members.setdefault(group_id, set()).add(positions[record_id])
    status = dict(DuplicateGroup.objects.filter(review=review).values_list("pk", "status"))
    return {(status[g], frozenset(m)) for g, m in members.items()}


def _assert_imported_once(batch: Import, records: int) -> None:
    batch.refresh_from_db()
    assert (batch.status, batch.progress, batch.records_added) == (Import.Status.SUCCEEDED, 100, records)
    rows = Record.objects.filter(batch=batch)
    assert rows.count() == records
    # One row per record of the file: no position (its place in the file) twice, none missing.
    assert rows.values("position").distinct().count() == records
    assert sorted(rows.values_list("position", flat=True))[:: records - 1] == [1, records]
    review_records = Record.objects.filter(review=batch.review)
    assert review_records.count() == records  # nothing left over from the killed attempts
    # Deduplication is consistent: every group has two or more records of this review, a record is in at most
    # one merged group, and each merged member points to its group's primary.
    groups = DuplicateGroup.objects.filter(review=batch.review).annotate(n=Count("records"))
    assert groups.exists() and not groups.filter(n__lt=2).exists()
    merged = DuplicateGroup.records.through.objects.filter(
        duplicategroup__review=batch.review, duplicategroup__status__in=["auto", "confirmed"]
    )
    per_record = Counter(merged.values_list("record_id", flat=True))
    assert per_record and max(per_record.values()) == 1
    for group in groups.filter(status__in=["auto", "confirmed"]).prefetch_related("records"):
        for member in group.records.all():
            assert member.duplicate_of_id == (None if member.pk == group.primary_id else group.primary_id)
    assert not review_records.filter(duplicate_of__isnull=False).exclude(pk__in=per_record).exists()


def _restarted(batch: Import, after) -> Import | None:  # type: ignore[no-untyped-def]
    batch.refresh_from_db()
    return batch if batch.started_at and batch.started_at > after and batch.status == Import.Status.RUNNING else None


def test_an_import_killed_while_storing_and_while_deduplicating_finishes_once(worker_process: Worker, tmp_path: Path):
    content = write_ris(tmp_path / "search.ris", RECORDS).read_bytes()
    review = _review("Killed import")
    batch = _import(review, content)
    worker_process.start()
    import_run.delay(batch.pk)

    # 1. The pool child dies while the records are being stored: the worker gives the message back at once.
    def storing() -> bool:
        batch.refresh_from_db()
        stored = Record.objects.filter(batch=batch).count()
        return batch.status == Import.Status.RUNNING and 0 < stored < RECORDS and batch.progress < 90

    wait_for(storing, "the import to be half stored")
    first_start = Import.objects.get(pk=batch.pk).started_at
    partial = Record.objects.filter(batch=batch).count()
    killed_at = time.time()
    worker_process.kill_child()
    rerun = wait_for(lambda: _restarted(batch, first_start), "the import to run again after its child was killed")
    child_redelivery = rerun.started_at.timestamp() - killed_at

    # 2. The whole worker dies while the second attempt deduplicates; a new worker takes the message back.
    def deduplicating() -> bool:
        batch.refresh_from_db()
        return batch.status == Import.Status.RUNNING and batch.progress == 90

    wait_for(deduplicating, "the second attempt to deduplicate")
    second_start = Import.objects.get(pk=batch.pk).started_at
    stored_before_kill = Record.objects.filter(batch=batch).count()
    assert not DuplicateGroup.objects.filter(review=review).exists()  # the merges are not visible before the end
    killed_at = time.time()
    worker_process.kill()
    assert Import.objects.get(pk=batch.pk).status == Import.Status.RUNNING
    worker_process.start()
    rerun = wait_for(
        lambda: _restarted(batch, second_start), "the import to come back after the visibility timeout", timeout=90
    )
    worker_redelivery = rerun.started_at.timestamp() - killed_at
    assert (
        worker_redelivery >= TEST_VISIBILITY_TIMEOUT - 1
    )  # it was the visibility timeout, not the kill, that freed it

    wait_for(lambda: Import.objects.get(pk=batch.pk).finished, "the import to finish", timeout=240)
    _assert_imported_once(batch, RECORDS)

    # The same file imported without interruption (here, in this process) gives the same groups, record for record.
    reference = _review("Reference import")
    import_process(import_id=_import(reference, content).pk)
    assert _groups_by_position(review) == _groups_by_position(reference)
    # The message is not delivered again later (a third worker start would find it finished anyway).
    time.sleep(TEST_VISIBILITY_TIMEOUT + 1)
    assert Import.objects.get(pk=batch.pk).started_at == rerun.started_at
    print(
        f"\n[faults] import of {RECORDS} records: child killed with {partial} stored, back in {child_redelivery:.1f} s;"
        f" worker killed while deduplicating ({stored_before_kill} stored), back in {worker_redelivery:.1f} s "
        f"(visibility timeout {TEST_VISIBILITY_TIMEOUT} s); finished with {RECORDS} records, "
        f"{DuplicateGroup.objects.filter(review=review).count()} groups"
    )


OUTCOMES, STUDIES = 300, 30


def _stale_analyses(review: Review) -> None:
    """A review whose outcome summaries are all stale, as after a change touched them all (bench_synthesis's)."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
    form = current_form(review)
    comparison = Comparison.objects.create(review=review, name="Ketamine versus placebo", intervention="K", control="P")
    outcomes = Outcome.objects.bulk_create(
        Outcome(review=review, position=i, name=f"Outcome {i}", type="continuous") for i in range(OUTCOMES)
    )
    studies = Study.objects.bulk_create(Study(review=review, label=f"Trial {i:02d}") for i in range(STUDIES))
    extractions = Extraction.objects.bulk_create(
        Extraction(review=review, study=s, form=form, reviewer=None) for s in studies
    )
    OutcomeData.objects.bulk_create(
        OutcomeData(
            extraction=e,
            comparison=comparison,
            outcome=o,
            total_1=rng.randint(10, 200),
            total_2=rng.randint(10, 200),
            mean_1=round(rng.gauss(5, 1), 2),
            sd_1=round(rng.uniform(1, 3), 2),
            mean_2=round(rng.gauss(5.5, 1), 2),
            sd_2=round(rng.uniform(1, 3), 2),
        )  # fmt: skip
        for o in outcomes
        for e in extractions
    )
    Analysis.objects.bulk_create(
        Analysis(review=review, comparison=comparison, outcome=o, effect_measure="MD", model="random", method="REML")
        for o in outcomes
    )
    SynthesisQueue.objects.create(review=review, queued=True)


def test_a_recomputation_killed_twice_finishes_once(worker_process: Worker):
    review = _review("Killed recomputation")
    _stale_analyses(review)
    analyses = Analysis.objects.filter(review=review)
    worker_process.start()
    recompute_task.delay(review.pk)

    def current() -> int:
        return analyses.filter(status=Analysis.Status.CURRENT).count()

    def runs() -> int:
        # Counted as a run starts (recompute_review): one per delivery of the task.
        return SynthesisQueue.objects.get(review=review).runs

    wait_for(lambda: 0 < current() < OUTCOMES, "the recomputation to be under way")
    worker_process.kill_child()
    wait_for(lambda: runs() == 2, "the recomputation to be delivered again after its child was killed")
    # A summary the killed child committed as it died may show only now: count from when the second run started.
    done_at_child_kill = current()
    wait_for(lambda: current() > done_at_child_kill, "the second run to store a summary")
    killed_at = time.time()
    worker_process.kill()
    done_at_worker_kill = current()
    assert done_at_worker_kill < OUTCOMES
    worker_process.start()
    wait_for(lambda: current() > done_at_worker_kill, "the recomputation to come back", timeout=90)
    worker_redelivery = time.time() - killed_at
    wait_for(lambda: current() == OUTCOMES, "every summary", timeout=180)

    # One summary per comparison and outcome (the constraint makes more impossible: still, none was lost), each
    # computed from its inputs, none with an error; the runs counted are the deliveries.
    assert analyses.count() == OUTCOMES
    assert analyses.values("comparison", "outcome").distinct().count() == OUTCOMES
    assert not analyses.filter(result__isnull=True).exists() and not analyses.exclude(error="").exists()
    assert all(a.result["studies"] == STUDIES for a in analyses)  # type: ignore[index]
    assert runs() >= 3  # the first delivery and the two redeliveries
    print(
        f"\n[faults] recompute of {OUTCOMES} summaries: child killed at {done_at_child_kill}, worker killed at "
        f"{done_at_worker_kill} and back within {worker_redelivery:.1f} s; {runs()} runs, {OUTCOMES} summaries"
    )


EMBEDDED_RECORDS = 20_000
EMBEDDED_SETUP = """
import os
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from reviews.models import Import, Membership, Review
from reviews.tasks import import_run
from config.celery import ensure_broker_folders

ensure_broker_folders()  # as `make run` does before its worker starts
content = open(os.environ["SIEVE_FAULTS_RIS"], "rb").read()
owner = User.objects.create_user("owner")
review = Review.objects.create(title="Killed on the embedded default", created_by=owner)
Membership.objects.create(review=review, user=owner, role="owner")
batch = Import(review=review, source="MEDLINE (Ovid)", filename="s.ris", size=len(content), content_hash="h")
batch.file.save("s.ris", ContentFile(content), save=False)
batch.save()
import_run.delay(batch.pk)
print(batch.pk)
"""


def test_an_import_killed_on_the_embedded_default_is_finished_by_the_sweep(tmp_path: Path):
    """`make run`'s set-up: SQLite, the file-system queue and one solo worker with its beat. The file-system queue
    forgets a message once a worker has taken it, so the whole worker killed mid-import loses the task: the
    imports sweep (beat) queues it again when the worker is back."""
    import sqlite3

    from tests.faults.conftest import Worker
    from tests.faults.services import manage

    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CELERY_TASK_ALWAYS_EAGER", "SECRET_KEY")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env |= {"SIEVE_VAR_DIR": str(tmp_path / "var"), "SIEVE_SWEEP_SECONDS": "2", "SIEVE_IMPORT_SWEEP_AFTER_SECONDS": "1"}
    manage(env, "migrate", "--noinput")
    ris = write_ris(tmp_path / "search.ris", EMBEDDED_RECORDS)
    import_id = int(manage(env | {"SIEVE_FAULTS_RIS": str(ris)}, "shell", "-c", EMBEDDED_SETUP).split()[-1])
    database = sqlite3.connect(tmp_path / "var" / "sieve.sqlite3", timeout=30)

    def state() -> tuple[str, int, str | None]:
        query = "SELECT status, progress, started_at FROM reviews_import WHERE id = ?"
        return database.execute(query, [import_id]).fetchone()

    def stored() -> int:
        return database.execute("SELECT count(*) FROM reviews_record WHERE batch_id = ?", [import_id]).fetchone()[0]

    worker = Worker(env, tmp_path, pool="solo", beat=tmp_path / "beat-schedule")
    try:
        worker.start()
        wait_for(lambda: state()[0] == "running" and 0 < stored() < EMBEDDED_RECORDS, "the import to be half stored")
        worker.kill()
        partial, first_start = stored(), state()[2]
        assert state()[0] == "running" and partial < EMBEDDED_RECORDS
        assert not list((tmp_path / "var" / "broker" / "queue").iterdir())  # the message went with the worker
        worker.start()
        wait_for(lambda: state()[2] != first_start, "the sweep to queue the import again", timeout=90)
        wait_for(lambda: state()[0] in ("succeeded", "failed"), "the import to finish", timeout=240)
    finally:
        worker.kill()
    assert state()[:2] == ("succeeded", 100)
    positions = database.execute(
        "SELECT count(*), count(DISTINCT position) FROM reviews_record WHERE batch_id = ?", [import_id]
    ).fetchone()
    assert positions == (EMBEDDED_RECORDS, EMBEDDED_RECORDS)
    print(f"\n[faults] embedded: worker killed with {partial} of {EMBEDDED_RECORDS} stored; the sweep finished it")
