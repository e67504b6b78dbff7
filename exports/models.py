"""The import of a Sieve JSON export as a background job: the stored upload and how its import went."""

import uuid

from django.conf import settings
from django.db import models

from reviews.models import Review


def transfer_upload_path(instance: "ReviewTransfer", filename: str) -> str:
    # The stored name is ours; the user's file name is kept in `filename` only (no path tricks on disk).
    return f"review-transfers/user-{instance.user_id}/{uuid.uuid4().hex}.json"


class ReviewTransfer(models.Model):
    """One JSON export uploaded to become a new review (exports/review_load.py), imported by a worker.

    All or nothing: while it runs, the poller sees `progress` and `stage`; a failure leaves no review behind and
    keeps the importer's message and the place in the document (`error_path`, e.g. `records[12].year`). The
    stored file is deleted once the import has finished either way."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=transfer_upload_path, max_length=300, blank=True)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    error_path = models.CharField(max_length=300, blank=True)
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="review_transfer_progress_at_most_100"),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="review_transfer_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
