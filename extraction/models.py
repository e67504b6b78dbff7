"""Studies and data extraction.

A `Study` groups the reports (records) of one trial, with its design and arms. The review defines extraction
forms (`ExtractionForm`, one row per version; fields keep a stable `key` across versions) and, review-wide,
the `Outcome`s and `Comparison`s. Each assigned reviewer fills an `Extraction` of a study with a form version:
`FieldValue`s (per arm for per-arm fields) and `OutcomeData` rows (per comparison and outcome). The worker
compares the reviewers' extractions and flags each `Discrepancy`; the editor's resolution, and every value
the reviewers agree on, go into the study's consensus extraction (`reviewer` empty), which analyses read.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from reviews.models import Record, Review


class ExtractionSettings(models.Model):
    """How a review extracts (one row per review, made with its defaults on first use; the owner changes it)."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="extraction_settings")
    extractors_per_study = models.PositiveSmallIntegerField(
        default=2,
        choices=[(1, "One extractor per study (their extraction is the consensus)"), (2, "Two independent extractors")],
    )
    blinded = models.BooleanField(default=True, help_text="Extractors see only their own extraction.")
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "extraction settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extractors_per_study__in=[1, 2]), name="extraction_extractors_1_or_2"
            )
        ]

    def __str__(self) -> str:
        return f"Extraction settings of review {self.review_id}"


class Study(models.Model):
    class Design(models.TextChoices):
        PARALLEL = "parallel", "Parallel randomised"
        CROSSOVER = "crossover", "Crossover randomised"
        CLUSTER = "cluster", "Cluster randomised"
        NON_RANDOMISED = "non-randomised", "Non-randomised"
        OTHER = "other", "Other"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="studies")
    label = models.CharField(max_length=100, help_text="The study ID in the review's convention, e.g. “Hardy 2012”.")
    design = models.CharField(max_length=16, choices=Design.choices, default=Design.PARALLEL)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["label", "id"]
        verbose_name_plural = "studies"
        constraints = [
            models.UniqueConstraint(fields=["review", "label"], name="study_label_unique_in_review"),
            models.CheckConstraint(
                condition=models.Q(design__in=["parallel", "crossover", "cluster", "non-randomised", "other"]),
                name="study_design_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class StudyReport(models.Model):
    """A record that reports a study. A record reports at most one study; moving it changes `study` (history
    keeps where it was)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="reports")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="study_report")
    primary = models.BooleanField(default=False)
    added_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["study"], condition=models.Q(primary=True), name="study_report_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return f"record {self.record_id} reports {self.study_id}"


class Arm(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="arms")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200)
    intervention = models.CharField(max_length=500, blank=True)
    dose = models.CharField(max_length=200, blank=True)
    route = models.CharField(max_length=100, blank=True)
    randomised = models.PositiveIntegerField(null=True, blank=True, help_text="Participants randomised.")
    completed = models.PositiveIntegerField(null=True, blank=True, help_text="Participants who completed.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "name"], name="arm_name_unique_in_study"),
            models.CheckConstraint(
                condition=models.Q(completed__isnull=True)
                | models.Q(randomised__isnull=True)
                | models.Q(completed__lte=models.F("randomised")),
                name="arm_completed_at_most_randomised",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExtractionForm(models.Model):
    """One version of a review's extraction form. A draft is edited; publishing it makes it the version new
    extractions use (the previous published version is retired, and extractions made with it stay on it)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="extraction_forms")
    name = models.CharField(max_length=200)
    number = models.PositiveIntegerField(default=1, help_text="Version number, from 1.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Edit counter of a draft (optimistic concurrency).")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name", "number"], name="form_version_unique"),
            models.UniqueConstraint(
                fields=["review", "name"], condition=models.Q(status="draft"), name="form_one_draft"
            ),
            models.UniqueConstraint(
                fields=["review", "name"], condition=models.Q(status="published"), name="form_one_published"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published", "retired"]), name="form_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number} ({self.status})"

    @property
    def editable(self) -> bool:
        return self.status == self.Status.DRAFT


class FormSection(models.Model):
    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    help_text = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class FormField(models.Model):
    class Type(models.TextChoices):
        TEXT = "text", "Text"
        LONG_TEXT = "long_text", "Long text"
        INTEGER = "integer", "Integer"
        DECIMAL = "decimal", "Decimal"
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        YES_NO = "yes_no", "Yes / no"
        DATE = "date", "Date"

    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="fields")
    section = models.ForeignKey(FormSection, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(max_length=60, help_text="Stable name of the field across form versions and exports.")
    label = models.CharField(max_length=300)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.TEXT)
    required = models.BooleanField(default=False)
    help_text = models.TextField(blank=True)
    unit = models.CharField(max_length=50, blank=True, help_text="For decimal and integer fields, e.g. “mg/kg”.")
    choices = models.JSONField(default=list, blank=True, help_text="Options of a choice field.")
    per_arm = models.BooleanField(default=False, help_text="Asked once for each arm of the study.")

    class Meta:
        ordering = ["section__position", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="form_field_key_unique"),
            models.CheckConstraint(
                condition=models.Q(
                    type__in=[
                        "text",
                        "long_text",
                        "integer",
                        "decimal",
                        "single_choice",
                        "multiple_choice",
                        "yes_no",
                        "date",
                    ]
                ),  # fmt: skip
                name="form_field_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Outcome(models.Model):
    class Type(models.TextChoices):
        DICHOTOMOUS = "dichotomous", "Dichotomous"
        CONTINUOUS = "continuous", "Continuous"
        GIV = "giv", "Generic inverse variance"

    class Direction(models.TextChoices):
        LOWER_IS_BETTER = "lower_is_better", "Lower is better"
        HIGHER_IS_BETTER = "higher_is_better", "Higher is better"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="extraction_outcomes")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=300)
    type = models.CharField(max_length=16, choices=Type.choices)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.LOWER_IS_BETTER)
    unit = models.CharField(max_length=100, blank=True)
    timepoint = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name", "timepoint"], name="outcome_name_unique_in_review"),
            models.CheckConstraint(
                condition=models.Q(type__in=["dichotomous", "continuous", "giv"]), name="outcome_type_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(direction__in=["lower_is_better", "higher_is_better"]),
                name="outcome_direction_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.timepoint})" if self.timepoint else self.name


class Comparison(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comparisons")
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=300)
    intervention = models.CharField(max_length=300, help_text="Group 1 in every outcome's data.")
    control = models.CharField(max_length=300, help_text="Group 2.")
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["review", "name"], name="comparison_name_unique_in_review")]

    def __str__(self) -> str:
        return self.name


class Extraction(models.Model):
    """A reviewer's extraction of a study with one form version, or (`reviewer` empty) the study's consensus
    for that form. `version` counts its saves: a save names the version it read and a stale one is refused."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETE = "complete", "Complete"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="extractions")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="extractions")
    form = models.ForeignKey(ExtractionForm, on_delete=models.PROTECT, related_name="extractions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="extractions"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study_id", "reviewer_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "form", "reviewer"],
                condition=models.Q(reviewer__isnull=False),
                name="extraction_one_per_reviewer",
            ),
            models.UniqueConstraint(
                fields=["study", "form"], condition=models.Q(reviewer__isnull=True), name="extraction_one_consensus"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["in_progress", "complete"]), name="extraction_status_valid"
            ),
        ]

    def __str__(self) -> str:
        who = self.reviewer_id and f"reviewer {self.reviewer_id}" or "consensus"
        return f"{who} on study {self.study_id} (form {self.form_id})"

    @property
    def is_consensus(self) -> bool:
        return self.reviewer_id is None


class FieldValue(models.Model):
    """One field's value in an extraction (per arm for per-arm fields), as JSON: a string, a number as a decimal
    string (compared exactly), a list of choices, a boolean or an ISO date. `changed_in` is the extraction
    version that last changed it, so a refused stale save can say what changed since."""

    extraction = models.ForeignKey(Extraction, on_delete=models.CASCADE, related_name="values")
    field = models.ForeignKey(FormField, on_delete=models.CASCADE, related_name="+")
    arm = models.ForeignKey(Arm, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    value = models.JSONField(null=True, blank=True)
    changed_in = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["extraction", "field"], condition=models.Q(arm__isnull=True), name="value_one_per_field"
            ),
            models.UniqueConstraint(
                fields=["extraction", "field", "arm"],
                condition=models.Q(arm__isnull=False),
                name="value_one_per_field_and_arm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field_id}{f'[{self.arm_id}]' if self.arm_id else ''} = {self.value!r}"


# The numbers of one comparison and outcome in a study, by outcome type (group 1 is the intervention).
DATA_FIELDS = {
    "dichotomous": ("events_1", "total_1", "events_2", "total_2"),
    "continuous": ("mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2"),
    "giv": ("estimate", "se"),
}
ALL_DATA_FIELDS = ("events_1", "total_1", "events_2", "total_2", "mean_1", "sd_1", "mean_2", "sd_2", "estimate", "se")


def _decimal() -> models.DecimalField:
    return models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)


class OutcomeData(models.Model):
    """A study's data for one comparison and outcome in one extraction: events and totals per group
    (dichotomous), mean, SD and N per group (continuous), or an effect estimate and its standard error (generic
    inverse variance: log scale for ratios; crossover trials' paired effects). `subgroup` tells apart several
    rows of one study, e.g. each dose of a multi-arm trial against the shared control."""

    extraction = models.ForeignKey(Extraction, on_delete=models.CASCADE, related_name="outcome_data")
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="data")
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="data")
    subgroup = models.CharField(max_length=100, blank=True, default="")
    arm_1 = models.ForeignKey(Arm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    arm_2 = models.ForeignKey(Arm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    events_1 = models.PositiveIntegerField(null=True, blank=True)
    total_1 = models.PositiveIntegerField(null=True, blank=True)
    events_2 = models.PositiveIntegerField(null=True, blank=True)
    total_2 = models.PositiveIntegerField(null=True, blank=True)
    mean_1 = _decimal()
    sd_1 = _decimal()
    mean_2 = _decimal()
    sd_2 = _decimal()
    estimate = _decimal()
    se = _decimal()
    note = models.TextField(blank=True)
    changed_in = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["comparison__position", "outcome__position", "subgroup", "id"]
        verbose_name_plural = "outcome data"
        constraints = [
            models.UniqueConstraint(
                fields=["extraction", "comparison", "outcome", "subgroup"], name="outcome_data_one_per_row"
            ),
            models.CheckConstraint(
                condition=models.Q(events_1__isnull=True)
                | models.Q(total_1__isnull=True)
                | models.Q(events_1__lte=models.F("total_1")),
                name="outcome_data_events_1_at_most_total",
            ),
            models.CheckConstraint(
                condition=models.Q(events_2__isnull=True)
                | models.Q(total_2__isnull=True)
                | models.Q(events_2__lte=models.F("total_2")),
                name="outcome_data_events_2_at_most_total",
            ),
            models.CheckConstraint(
                condition=models.Q(sd_1__isnull=True) | models.Q(sd_1__gt=Decimal(0)), name="outcome_data_sd_1_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(sd_2__isnull=True) | models.Q(sd_2__gt=Decimal(0)), name="outcome_data_sd_2_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(se__isnull=True) | models.Q(se__gt=Decimal(0)), name="outcome_data_se_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.comparison_id}/{self.outcome_id}{f' {self.subgroup}' if self.subgroup else ''}"

    @property
    def key(self) -> str:
        """Identifies the row across extractions of one study (for comparing them)."""
        return f"data:{self.comparison_id}:{self.outcome_id}:{self.subgroup}"


class Discrepancy(models.Model):
    """Where the reviewers' extractions of a study differ: one form field (and arm) or one number of the outcome
    data. `key` names the spot (`field:<key>[:<arm id>]` or `data:<comparison>:<outcome>:<subgroup>:<name>`), the
    same across extractions; `values` holds each reviewer's value by username. The editor resolves it by taking
    one of them or a new value, which the consensus extraction gets."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="discrepancies")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="discrepancies")
    form = models.ForeignKey(ExtractionForm, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=300)
    label = models.CharField(max_length=500)
    values = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resolution = models.JSONField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study__label", "id"]
        verbose_name_plural = "discrepancies"
        indexes = [models.Index(fields=["review", "status"], name="discrepancy_review_status")]
        constraints = [
            models.UniqueConstraint(fields=["study", "form", "key"], name="discrepancy_one_per_spot"),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "resolved"]), name="discrepancy_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study_id}: {self.label} ({self.status})"
