"""Writes of the exports app: the import of a Sieve JSON export as a new review, accepted in the request and run
by a worker (a 20,000-record review takes over a minute: longer than a request may last)."""

import logging
import queue
import threading
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.tasks import send_on_commit
from core.uploads import upload_name
from exports import review_load
from exports.models import ReviewTransfer
from exports.review_load import ReviewImportError

logger = logging.getLogger(__name__)

Status = ReviewTransfer.Status
# Enough of the file's start to tell a JSON object from anything else.
HEAD = 4096
WHITESPACE = b" \t\r\n"
INTERNAL_ERROR = (
    "Sieve could not finish this import because of an internal error; it has been logged. Nothing was imported."
)


def review_import_start(*, user: User | AnonymousUser, upload: File) -> ReviewTransfer:
    """Store an uploaded JSON export and queue its import as a new review owned by `user` (any logged-in user).

    Refuses at once, with ReviewImportError, what is plainly not a review document: an empty file, one over
    SIEVE_MAX_IMPORT_MB, one that does not start as a JSON object. Everything else is checked by the worker,
    whose verdict the transfer records."""
    if not user.is_authenticated:
        raise ReviewImportError("Log in to import a review.")
    name = upload_name(upload.name, "review.json")
    size = upload.size or 0
    limit = review_load.max_bytes()
    if size > limit:
        raise ReviewImportError(review_load._too_big(size, limit))
    upload.seek(0)
    head = upload.read(HEAD).lstrip(WHITESPACE)
    blank = not head and size <= HEAD  # nothing but whitespace (a longer run of it is left to the worker)
    if not size or blank:
        raise ReviewImportError(f"{name} is empty.")
    if head[:1] == b"[":
        raise ReviewImportError("Not a review document: the JSON is not an object.")
    if head and head[:1] != b"{":
        raise ReviewImportError(
            f"Not valid JSON: a review document starts with “{{”, and {name} starts with {head[:20]!r}."
        )
    with transaction.atomic():
        transfer = ReviewTransfer(user=user, filename=name, size=size, stage="Waiting for a worker")
        upload.seek(0)
        transfer.file.save(name, upload, save=False)
        transfer.save()
        from exports.tasks import review_transfer_run

        transfer_id = transfer.pk
        # While the broker is down the import runs in the request, as where tasks run eagerly (answered below).
        send_on_commit(review_transfer_run, transfer_id, fallback="inline")
    # Where tasks run eagerly the import has already finished here: the answer says so.
    transfer.refresh_from_db()
    return transfer


class ProgressWriter:
    """The import's progress callback, writing where a poller sees it although the data's transaction is open.

    On PostgreSQL a thread with its own (autocommitting) connection writes the latest value, so the import never
    waits for it. On SQLite, one writer at a time, a second connection would wait for the import's own lock:
    there the values go on the import's connection and show when it commits (the bar shows the check, then the
    end). Also on this connection when the caller is itself inside a transaction (a test), where the row it
    claimed is locked to others."""

    def __init__(self, transfer_id: int) -> None:
        self.transfer_id = transfer_id
        self.threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.latest: queue.Queue[tuple[int, str] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._drain, name=f"transfer-{transfer_id}-progress", daemon=True)

    def __enter__(self) -> "ProgressWriter":
        if self.threaded:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.threaded:
            self.latest.put(None)
            self.thread.join()

    def __call__(self, percent: int, stage: str) -> None:
        if self.threaded:
            self.latest.put((percent, stage))
        else:
            self._write(percent, stage)

    def _write(self, percent: int, stage: str) -> None:
        ReviewTransfer.objects.filter(pk=self.transfer_id, status=Status.RUNNING).update(
            progress=max(1, min(percent, 99)), stage=stage[:100]
        )

    def _drain(self) -> None:
        try:
            stopping = False
            while not stopping:
                item = self.latest.get()
                # Only the newest value matters: skip those that came while the last one was written (and write
                # the newest before stopping, when the end came with them).
                while not self.latest.empty():
                    newer = self.latest.get()
                    if newer is None:
                        stopping = True
                    else:
                        item = newer
                if item is None:
                    return
                try:
                    self._write(*item)
                except Exception:
                    # The bar is for show: a failed write must not fail the import. Logged, not hidden.
                    logger.exception("review transfer %s: progress not written", self.transfer_id)
        finally:
            connection.close()  # this thread's own connection


def _claim(transfer_id: int) -> bool:
    """Mark a queued transfer running, once. A transfer left running longer than a task may run is taken again:
    its worker died, and its transaction added nothing."""
    now = timezone.now()
    abandoned = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    return bool(
        ReviewTransfer.objects.filter(
            Q(status=Status.QUEUED) | Q(status=Status.RUNNING, started_at__lt=abandoned), pk=transfer_id
        ).update(status=Status.RUNNING, started_at=now, progress=1, stage="Reading the file", error="", error_path="")
    )


def _finish(transfer: ReviewTransfer, **fields: object) -> None:
    """Record the outcome and delete the stored file (the new review, or the error, is what is kept)."""
    if transfer.file:
        transfer.file.delete(save=False)
    ReviewTransfer.objects.filter(pk=transfer.pk).update(file="", finished_at=timezone.now(), **fields)


def review_transfer_process(*, transfer_id: int) -> ReviewTransfer | None:
    """Import a stored transfer (worker). Idempotent: a transfer already running or finished is left alone;
    None if it no longer exists (its user was deleted). All or nothing: on failure no row of the review is left
    and the transfer keeps the message and the place in the document."""
    claimed = _claim(transfer_id)
    transfer = ReviewTransfer.objects.select_related("user").filter(pk=transfer_id).first()
    if transfer is None or not claimed:
        return transfer
    try:
        with ProgressWriter(transfer.pk) as progress, transfer.file.open("rb") as handle:
            review = review_load.review_import(user=transfer.user, document_or_file=handle, progress=progress)
    except ReviewImportError as exc:
        _finish(transfer, status=Status.FAILED, stage="Failed", error=exc.message, error_path=exc.path)
    except Exception:
        logger.exception("review transfer %s failed unexpectedly", transfer.pk)
        _finish(transfer, status=Status.FAILED, stage="Failed", error=INTERNAL_ERROR, error_path="")
        raise
    else:
        _finish(transfer, status=Status.SUCCEEDED, progress=100, stage="Done", review=review)
    transfer.refresh_from_db()
    return transfer
