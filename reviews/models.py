import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Review(models.Model):
    """A systematic review: its question (PICO), eligibility criteria and team."""

    title = models.CharField(max_length=500)
    objectives = models.TextField(blank=True)
    population = models.TextField(blank=True, help_text="Who: participants and condition.")
    intervention = models.TextField(blank=True, help_text="What is given or done.")
    comparator = models.TextField(blank=True, help_text="Against what: placebo, usual care, another drug.")
    outcomes = models.TextField(blank=True, help_text="What is measured.")
    eligibility_criteria = models.TextField(blank=True, help_text="Shown beside every record while screening.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: a write names the version it read; a stale one is refused (409).
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    # Set by reviews.selectors for the user who asked; not columns.
    my_role: str | None
    member_count: int

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        REVIEWER = "reviewer", "Reviewer"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REVIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["review_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="membership_one_per_user_and_review"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "editor", "reviewer"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.review_id}"


# Each role can do all that the roles below it can.
ROLE_RANK = {Membership.Role.REVIEWER: 1, Membership.Role.EDITOR: 2, Membership.Role.OWNER: 3}


def role_at_least(role: str | None, needed: str) -> bool:
    return role is not None and ROLE_RANK[Membership.Role(role)] >= ROLE_RANK[Membership.Role(needed)]


def import_upload_path(instance: "Import", filename: str) -> str:
    # The stored name is ours; the user's file name is kept in `filename` only (no path tricks on disk).
    return f"imports/review-{instance.review_id}/{instance.content_hash[:16]}-{uuid.uuid4().hex[:8]}.upload"


class Import(models.Model):
    """One search export uploaded into a review: where it came from (for PRISMA) and how its import went."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class SourceKind(models.TextChoices):
        DATABASE = "database", "Database"
        REGISTER = "register", "Trial register"
        OTHER = "other", "Other source"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="imports")
    source = models.CharField(max_length=200, help_text="As it should appear in PRISMA, e.g. “MEDLINE (Ovid)”.")
    source_kind = models.CharField(max_length=16, choices=SourceKind.choices, default=SourceKind.DATABASE)
    searched_on = models.DateField(null=True, blank=True)
    strategy = models.TextField(blank=True, help_text="The search strategy as run.")
    file = models.FileField(upload_to=import_upload_path, max_length=300)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content_hash = models.CharField(max_length=64, db_index=True)
    format_requested = models.CharField(max_length=32, blank=True)
    format = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    records_found = models.PositiveIntegerField(default=0)
    records_added = models.PositiveIntegerField(default=0)
    duplicates_found = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    warning_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["progress", "stage"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="import_progress_at_most_100"),
            models.CheckConstraint(
                condition=models.Q(source_kind__in=["database", "register", "other"]), name="import_source_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.filename} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class Record(models.Model):
    """One bibliographic or register record as imported, normalized, with the original kept in `raw`.

    Records of an import that has not succeeded are invisible (selectors filter them out) and are removed if
    it fails, so a failed import adds nothing. A duplicate is never deleted: it points to its primary record."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="records")
    batch = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="records")
    position = models.PositiveIntegerField(help_text="Record number in the file (1-based).")
    line = models.PositiveIntegerField(null=True, blank=True)
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    year = models.SmallIntegerField(null=True, blank=True)
    journal = models.TextField(blank=True)
    volume = models.CharField(max_length=100, blank=True)
    issue = models.CharField(max_length=100, blank=True)
    pages = models.CharField(max_length=100, blank=True)
    doi = models.CharField(max_length=255, blank=True)
    pmid = models.CharField(max_length=20, blank=True)
    registry_id = models.CharField(max_length=64, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    url = models.TextField(blank=True)
    language = models.CharField(max_length=100, blank=True)
    publication_type = models.CharField(max_length=200, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        # Deduplication matches identifiers in memory, not through the database: no index on doi/pmid/registry
        # id, which would only slow every import down.
        indexes = [models.Index(fields=["review", "duplicate_of"], name="record_review_duplicate")]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="record_one_per_position_in_import"),
            models.CheckConstraint(
                condition=~models.Q(duplicate_of=models.F("id")), name="record_not_duplicate_of_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.title[:80] or f"Record {self.pk} (no title)"

    @property
    def raw_as_exported(self) -> dict[str, list[str]]:
        """Every tag exactly as the database exported it (`raw` stores repeats of title/abstract by reference)."""
        from reviews import raw_tags

        return raw_tags.expand(self.raw, {"abstract": self.abstract, "title": self.title})


class DuplicateGroup(models.Model):
    """Records found to be the same publication. `auto` and `confirmed` groups are merged (members point to the
    primary); `pending` waits for a person; `split` records a person's decision that they are different."""

    class Status(models.TextChoices):
        AUTO = "auto", "Merged automatically"
        PENDING = "pending", "Waiting for a decision"
        CONFIRMED = "confirmed", "Merged by a person"
        SPLIT = "split", "Kept apart"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="duplicate_groups")
    status = models.CharField(max_length=16, choices=Status.choices)
    score = models.FloatField(default=0)
    reason = models.CharField(max_length=300, blank=True)
    primary = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="primary_of_groups")
    records = models.ManyToManyField(Record, related_name="duplicate_groups")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-score", "id"]
        indexes = [models.Index(fields=["review", "status"], name="dupgroup_review_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["auto", "pending", "confirmed", "split"]), name="dupgroup_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"Duplicate group {self.pk} ({self.status})"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """The trail is append-only for the application: bulk updates and deletes are refused here, and a database
    trigger (migration 0005) refuses what gets past the ORM."""

    def update(self, **kwargs: object) -> int:
        raise PermissionError("The audit trail is append-only: its events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only: its events cannot be deleted.")


class AuditEvent(models.Model):
    """One change to what a review decided: who, when, what (the kind of thing, which one, which field) and the
    value before and after, as text. Written by reviews/audit.py from every historical record of the tracked
    models; never changed or deleted (see AuditEventQuerySet and the trigger of migration 0005).

    `review` and `actor` are not database foreign keys (DO_NOTHING, no constraint): deleting a review or an account
    must neither cascade into the trail nor need to rewrite it, so the trail of a deleted review outlives it and a
    deleted account stays named by `actor_name`."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Deleted"

    class Subject(models.TextChoices):
        DECISION = "decision", "Decision"
        RESOLUTION = "conflict resolution", "Conflict resolution"
        EXTRACTION_VALUE = "extraction value", "Extraction value"
        ROB_JUDGEMENT = "risk-of-bias judgement", "Risk-of-bias judgement"
        CERTAINTY = "certainty rating", "Certainty rating"
        MEMBERSHIP = "membership", "Membership"
        SETTING = "review setting", "Review setting"
        ANALYSIS_SETTING = "analysis setting", "Analysis setting"
        REVIEW = "review", "Review"

    review = models.ForeignKey(
        Review, on_delete=models.DO_NOTHING, db_constraint=False, related_name="audit_events", db_index=False
    )
    # Not auto_now_add: an imported review's trail keeps the times of its source.
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="Empty: the system (the worker, or no logged-in user).",
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="The actor's username at the time.")
    action = models.CharField(max_length=8, choices=Action.choices)
    subject = models.CharField(max_length=30, choices=Subject.choices)
    object_type = models.CharField(max_length=60, blank=True, help_text="The model, e.g. screening.decision.")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    label = models.CharField(max_length=500, blank=True, help_text="Which one, for people: record, study, domain…")
    field = models.CharField(max_length=60, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["review", "-at", "-id"], name="audit_review_at"),
            models.Index(fields=["review", "subject", "-at"], name="audit_review_subject_at"),
            models.Index(fields=["review", "actor_name", "-at"], name="audit_review_actor_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=["created", "changed", "deleted"]), name="audit_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action} {self.subject} {self.label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("The audit trail is append-only: its events cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only: its events cannot be deleted.")

    @property
    def field_label(self) -> str:
        return self.field.replace("_", " ")
