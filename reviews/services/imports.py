"""Import writes: accept an upload (request), process it (worker). A failed import adds no records."""

import gc
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.exceptions import ServiceConflict
from core.tasks import send_on_commit
from core.uploads import upload_name
from reviews import record_writer
from reviews.dedupe import DedupeRecord
from reviews.importers import FORMATS, ImportFormatError, ParsedRecord, iter_records
from reviews.models import Import, Membership, Record, Review
from reviews.selectors import review_get_for_user
from reviews.services.duplicates import dedupe_review

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".ris", ".txt", ".nbib", ".medline", ".ciw", ".enl", ".xml", ".bib", ".csv", ".tsv", ".json")
CHUNK = 5000
MAX_WARNINGS_KEPT = 500


def import_start(
    *,
    user: User | AnonymousUser,
    review_id: int,
    file: UploadedFile,
    source: str,
    source_kind: str = Import.SourceKind.DATABASE,
    searched_on: date | None = None,
    strategy: str = "",
    format: str = "",
    confirm_duplicate_file: bool = False,
) -> Import:
    """Store the upload and queue its processing (owner or editor). Refuses a file already imported into this
    review unless `confirm_duplicate_file`."""
    review = review_get_for_user(user=user, review_id=review_id, role=Membership.Role.EDITOR)
    errors: dict[str, str] = {}
    name = upload_name(file.name, "upload")
    limit = settings.SIEVE_MAX_IMPORT_MB * 1024 * 1024
    if not source.strip():
        errors["source"] = "Name the source, e.g. “MEDLINE (Ovid)”."
    if source_kind not in Import.SourceKind.values:
        errors["source_kind"] = f"Choose one of {', '.join(Import.SourceKind.values)}."
    if format and format not in FORMATS:
        errors["format"] = (
            f"Unknown format “{format}”; leave it empty to detect, or choose one of {', '.join(FORMATS)}."
        )
    if not name.lower().endswith(ALLOWED_EXTENSIONS):
        errors["file"] = (
            f"{name}: Sieve imports {', '.join(ALLOWED_EXTENSIONS)} files "
            "(exports from databases, registers and reference managers)."
        )
    elif not file.size:
        errors["file"] = f"{name} is empty."
    elif file.size > limit:
        errors["file"] = (
            f"{name} is {file.size / 1024 / 1024:.0f} MB; the limit is {settings.SIEVE_MAX_IMPORT_MB} MB "
            "(SIEVE_MAX_IMPORT_MB). Split the export into smaller files."
        )
    if errors:
        raise ValidationError(errors)
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    content_hash = digest.hexdigest()
    with transaction.atomic():
        earlier = (
            review.imports.filter(content_hash=content_hash).exclude(status=Import.Status.FAILED).order_by("id").first()
        )
        if earlier and not confirm_duplicate_file:
            raise ServiceConflict(
                f"This file was already imported on {earlier.created_at:%d %b %Y} as “{earlier.source}” "
                f"({earlier.filename}, {earlier.records_added} records). Confirm to import it again."
            )
        batch = Import(
            review=review,
            source=source.strip()[:200],
            source_kind=source_kind,
            searched_on=searched_on,
            strategy=strategy,
            filename=name,
            size=file.size or 0,
            content_hash=content_hash,
            format_requested=format,
            created_by=user if isinstance(user, User) else None,
            stage="Waiting for a worker",
        )
        file.seek(0)
        batch.file.save(name, file, save=False)
        batch.save()
        from reviews.tasks import import_run

        batch_id = batch.pk
        send_on_commit(import_run, batch_id, fallback="sweep")  # imports_sweep
    return batch


def _progress(batch_id: int, **fields: object) -> None:
    Import.objects.filter(pk=batch_id).update(**fields)


# First key of the PostgreSQL advisory locks that say "this import is being processed" (the second is its id).
IMPORT_LOCK_SPACE = 0x5E7E


@contextmanager
def _processing(import_id: int) -> Iterator[bool]:
    """Whether this process may work on the import: no other process is working on it now.

    On PostgreSQL a session advisory lock: held while the process lives, released by the database if the worker
    dies (its connection closes), so a task delivered twice at once runs once, and a redelivery after a crash
    runs again. SQLite has one writer at a time and the embedded set-up one worker: always yes there."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LOCK_SPACE, import_id])
        mine = bool(cursor.fetchone()[0])
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [IMPORT_LOCK_SPACE, import_id])


def import_process(*, import_id: int) -> Import:
    """Parse, store and deduplicate an import (worker). Idempotent: a finished import is left alone, one being
    processed by another worker now is left to it, and rows of an interrupted earlier attempt are removed
    first. On any failure the import's records are removed."""
    with _processing(import_id) as mine:
        batch = Import.objects.select_related("review").get(pk=import_id)
        if batch.finished or not mine:
            return batch
        return _process(batch)


def _process(batch: Import) -> Import:
    Record.objects.filter(batch=batch).delete()
    _progress(batch.pk, status=Import.Status.RUNNING, started_at=timezone.now(), progress=1, stage="Reading the file")
    # Parsing makes millions of small objects and no reference cycles: the cyclic garbage collector would
    # rescan them over and over for nothing (it doubled the parse time of a 100,000-record file).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    clock = time.perf_counter()
    try:
        with batch.file.open("rb") as handle:
            data = handle.read()
        total_lines = max(data.count(b"\n"), 1)
        fmt, records = iter_records(data, filename=batch.filename, format=batch.format_requested or None)
        del data
        _progress(batch.pk, format=fmt, stage=f"Reading {FORMATS[fmt].label} records")
        with record_writer.BackgroundInserter() as inserter:
            found, warnings, warning_count, fresh = _store(batch, records, total_lines, inserter)
            del records  # the exhausted generator still holds the file's whole text: free it before deduplicating
            stored = time.perf_counter()
            _progress(batch.pk, progress=90, records_found=found, stage="Looking for duplicates across the review")

            ids: dict[int, int] = {}

            def stored_ids() -> dict[int, int]:
                # The engine has run while the last rows were still being written: wait for them, then map.
                inserter.finish()
                positions = Record.objects.filter(batch=batch).values_list("position", "pk")
                ids.update((PROVISIONAL_ID + position, pk) for position, pk in positions.iterator(chunk_size=20_000))
                return ids

            # The merges and "succeeded" commit together: a worker killed between them would leave groups that
            # point to records a rerun deletes (a group whose primary goes is deleted with it, person's merges too).
            with transaction.atomic():
                touched = dedupe_review(review_id=batch.review_id, new_records=fresh, new_ids=stored_ids)
                del fresh
                mine = touched.intersection(ids.values())
                _progress(
                    batch.pk,
                    status=Import.Status.SUCCEEDED,
                    progress=100,
                    stage="Done",
                    records_added=found,
                    duplicates_found=len(mine & touched),
                    warnings=warnings,
                    warning_count=warning_count,
                    finished_at=timezone.now(),
                )
        logger.info(
            "import %s: %s records parsed and stored in %.1f s, deduplicated in %.1f s",
            batch.pk, found, stored - clock, time.perf_counter() - stored,
        )  # fmt: skip
    except ImportFormatError as exc:
        _fail(batch, [{"line": exc.line, "record": exc.record, "message": exc.message}])
    except Exception:
        logger.exception("import %s failed unexpectedly", batch.pk)
        _fail(
            batch,
            [
                {
                    "line": None,
                    "record": None,
                    "message": "Sieve could not finish this import because of an "
                    "internal error; it has been logged. Nothing was added.",
                }
            ],
        )
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    batch.refresh_from_db()
    return batch


# Ids for an import's records before the database gives them theirs: above any real id, in file order.
PROVISIONAL_ID = 1 << 60
_ENGINE_FIELDS = tuple(
    record_writer.COLUMNS.index(name)
    for name in ("title", "year", "journal", "volume", "issue", "pages", "doi", "pmid", "registry_id")
)


def _store(
    batch: Import, records: Iterator[ParsedRecord], total_lines: int, inserter: record_writer.BackgroundInserter
) -> tuple[int, list[dict], int, list[tuple[DedupeRecord, bool]]]:
    """Write the records in chunks (in the background where the database allows it); return what was found,
    the warnings, and each record as the deduplication engine reads it (with whether it has an abstract), as
    stored (columns cut to their limits)."""
    found = 0
    warnings: list[dict] = []
    warning_count = 0
    chunk: list[tuple] = []
    fresh: list[tuple[DedupeRecord, bool]] = []
    now = timezone.now()
    title, year, journal, volume, issue, pages, doi, pmid, registry_id = _ENGINE_FIELDS
    for parsed in records:
        found += 1
        for message in parsed.warnings:
            warning_count += 1
            if len(warnings) < MAX_WARNINGS_KEPT:
                warnings.append({"record": found, "line": parsed.line, "message": message})
        row = record_writer.row(batch.review_id, batch.pk, found, parsed, now)
        chunk.append(row)
        fresh.append(
            (
                DedupeRecord(
                    PROVISIONAL_ID + found, row[title], tuple(parsed.authors), row[year], row[journal], row[volume],
                    row[issue], row[pages], row[doi], row[pmid], row[registry_id],
                ),
                bool(parsed.abstract),
            )
        )  # fmt: skip
        if len(chunk) >= CHUNK:
            inserter.put(chunk)
            chunk = []
            done = min(88, 2 + int(86 * (parsed.line or 0) / total_lines))
            _progress(batch.pk, progress=done, records_found=found, stage=f"Stored {found:,} records")
    inserter.put(chunk)
    return found, warnings, warning_count, fresh


def _fail(batch: Import, errors: list[dict]) -> None:
    Record.objects.filter(batch=batch).delete()
    _progress(
        batch.pk,
        status=Import.Status.FAILED,
        stage="Failed",
        errors=errors,
        records_added=0,
        duplicates_found=0,
        finished_at=timezone.now(),
    )


def imports_sweep(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue again the imports a lost task left waiting or half done (periodic, in the worker's beat). A task is
    lost when enqueueing failed (the broker was down when the upload was committed) or when the whole worker was
    killed on the embedded file-system queue, which, unlike Redis, does not give an unacknowledged message back.
    Queueing one twice is harmless: import_process leaves a finished import alone and runs one import once at a
    time (PostgreSQL: the advisory lock, so one being processed is skipped here; the embedded default: its one
    worker runs this sweep, so none is being processed while it runs)."""
    from reviews.tasks import import_run

    cutoff = timezone.now() - older_than
    stalled = Import.objects.filter(
        Q(status=Import.Status.QUEUED, created_at__lt=cutoff) | Q(status=Import.Status.RUNNING, started_at__lt=cutoff)
    ).values_list("pk", flat=True)
    queued = 0
    for import_id in list(stalled):
        with _processing(import_id) as free:
            if not free:
                continue  # a worker is processing it now
        import_run.delay(import_id)
        queued += 1
    return queued


__all__ = ["import_process", "import_start", "imports_sweep", "ALLOWED_EXTENSIONS", "Review"]
