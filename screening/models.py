"""Screening: each reviewer's decision on each record at each stage, the record's outcome per stage (settled when
the decisions agree, a conflict for the editor when they do not), and the review's screening settings."""

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from reviews.models import Record, Review

DEFAULT_EXCLUSION_REASONS = [
    "Wrong population",
    "Wrong intervention",
    "Wrong comparator",
    "Wrong outcome",
    "Wrong study design",
    "Too few participants",
]


def default_exclusion_reasons() -> list[str]:
    return list(DEFAULT_EXCLUSION_REASONS)


class Stage(models.TextChoices):
    TITLE_ABSTRACT = "title_abstract", "Title and abstract"
    FULL_TEXT = "full_text", "Full text"


class Choice(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"
    MAYBE = "maybe", "Maybe"


class ScreeningSettings(models.Model):
    """How a review screens (one row per review, made with its defaults on first use; the owner changes it)."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="screening_settings")
    reviewers_needed = models.PositiveSmallIntegerField(
        default=2, choices=[(1, "One reviewer per record"), (2, "Two independent reviewers per record")]
    )
    blinded = models.BooleanField(default=True, help_text="Reviewers see only their own decisions.")
    include_terms = models.TextField(blank=True, help_text="Highlighted in green: one term or phrase per line.")
    exclude_terms = models.TextField(blank=True, help_text="Highlighted in red: one term or phrase per line.")
    exclusion_reasons = models.JSONField(default=default_exclusion_reasons, blank=True)
    priority = models.BooleanField(
        default=True,
        help_text="Once there are 5 includes and 5 excludes, offer the records a model rates most likely relevant "
        "first (title and abstract). Each reviewer can switch to plain order.",
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "screening settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(reviewers_needed__in=[1, 2]), name="screening_reviewers_1_or_2")
        ]

    def __str__(self) -> str:
        return f"Screening settings of review {self.review_id}"

    @staticmethod
    def terms(text: str) -> list[str]:
        return [t.strip() for t in text.replace(";", "\n").split("\n") if t.strip()]


class Decision(models.Model):
    """One reviewer's decision on one record at one stage (the database allows one). Changeable until the
    record's outcome at that stage is settled; every change is kept in history."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="decisions")
    stage = models.CharField(max_length=16, choices=Stage.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(max_length=8, choices=Choice.choices)
    reason = models.CharField(max_length=200, blank=True, help_text="Why excluded (required at full text).")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["review", "stage", "reviewer"], name="decision_review_stage_reviewer"),
            # Where a reviewer is in the queue: the last record they decided (an index-only backward scan).
            models.Index(fields=["review", "reviewer", "stage", "record"], name="decision_reviewer_position"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["record", "stage", "reviewer"], name="decision_one_per_reviewer"),
            models.CheckConstraint(
                condition=models.Q(stage__in=["title_abstract", "full_text"]), name="decision_stage_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(decision__in=["include", "exclude", "maybe"]), name="decision_choice_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} {self.decision} record {self.record_id} ({self.stage})"


class Outcome(models.Model):
    """A record's outcome at a stage, once it has the decisions it needs: settled (`decision` set) when they
    agree, a conflict (`decision` empty) when they do not, until the editor resolves it. Settled is final."""

    class Status(models.TextChoices):
        SETTLED = "settled", "Settled by agreement"
        CONFLICT = "conflict", "Conflict"
        RESOLVED = "resolved", "Resolved by the editor"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="screening_outcomes")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="screening_outcomes")
    stage = models.CharField(max_length=16, choices=Stage.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    decision = models.CharField(max_length=8, choices=Choice.choices, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    conflict_found_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["review", "stage", "status"], name="outcome_review_stage_status")]
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="outcome_one_per_record_and_stage"),
            models.CheckConstraint(
                condition=(
                    models.Q(status="conflict", decision="") | (~models.Q(status="conflict") & ~models.Q(decision=""))
                ),
                name="outcome_decided_unless_conflict",
            ),
        ]

    def __str__(self) -> str:
        return f"record {self.record_id} {self.stage}: {self.status} {self.decision}"

    @property
    def final(self) -> bool:
        return self.status != self.Status.CONFLICT


def fulltext_upload_path(instance: "FullText", filename: str) -> str:
    # The stored name is ours (the user's is kept in `filename` only), outside any public URL: served by a view
    # that checks membership.
    return f"fulltext/review-{instance.review_id}/record-{instance.record_id}-{uuid.uuid4().hex[:12]}.pdf"


class FullText(models.Model):
    """A record's full-text report: the PDF (served only to members) or the note that it could not be found."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="full_texts")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="full_text")
    file = models.FileField(upload_to=fulltext_upload_path, max_length=300, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    not_retrieved = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["file"])

    def __str__(self) -> str:
        return f"Full text of record {self.record_id}"


class AgreementSummary(models.Model):
    """Agreement between reviewers per stage, overall and per pair, as the worker last computed it (the review
    dashboard reads it; `stale` until the worker has caught up with new decisions)."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="agreement_summary")
    data = models.JSONField(default=dict, blank=True)
    stale = models.BooleanField(default=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Agreement of review {self.review_id}"


class PriorityModel(models.Model):
    """The review's priority-screening model as the worker last trained it (title/abstract): whether it is ready
    (5 relevant and 5 irrelevant outcomes), on how many outcomes, and its estimate of relevant records unseen."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="priority_model")
    ready = models.BooleanField(default=False)
    stale = models.BooleanField(default=True)
    outcomes_used = models.PositiveIntegerField(default=0)
    relevant_expected = models.FloatField(null=True, blank=True)
    relevant_low = models.PositiveIntegerField(null=True, blank=True)
    relevant_high = models.PositiveIntegerField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Priority model of review {self.review_id}"


class RecordScore(models.Model):
    """How likely the priority model rates a record relevant (title/abstract), for records still undecided when
    it was trained. The next record offered is the highest-scored one waiting for the reviewer."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="priority_score")
    score = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["review", "-score", "record"], name="recordscore_review_rank")]

    def __str__(self) -> str:
        return f"record {self.record_id}: {self.score:.3f}"
