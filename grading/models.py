"""Risk of bias: the tool a review uses, each assessor's assessment of a study (or one of its outcomes), the
judgement of every domain, and the discrepancies the worker finds between the assessors.

An assessment with `assessor` empty is the consensus of that study (and outcome): the worker writes into it
what the assessors agree on, the editor what they settle. `outcome` empty means the whole study (RoB 1, or a
study-level RoB 2). Judgements keep the proposal of the algorithm (`grading/rob.py`) beside the final word,
and an override needs its reason."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from extraction.models import Outcome, Study
from reviews.models import Review

ROB1_DOMAINS = (
    "random_sequence",
    "allocation_concealment",
    "blinding_participants",
    "blinding_outcome",
    "incomplete_outcome",
    "selective_reporting",
    "other",
)
ROB1_JUDGEMENTS = ("low", "high", "unclear")


class Tool(models.TextChoices):
    ROB1 = "rob1", "Cochrane RoB 1"
    ROB2 = "rob2", "RoB 2"
    ROBINS = "robins", "ROBINS-I"


class RobSettings(models.Model):
    """How a review assesses risk of bias (one row per review, made with its defaults on first use)."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="rob_settings")
    tool = models.CharField(max_length=8, choices=Tool.choices, default=Tool.ROB2)
    assessors_per_study = models.PositiveSmallIntegerField(
        default=2, choices=[(1, "One assessor (their assessment is the consensus)"), (2, "Two independent assessors")]
    )
    blinded = models.BooleanField(default=True, help_text="Assessors see only their own assessments.")
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "risk-of-bias settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(assessors_per_study__in=[1, 2]), name="rob_assessors_1_or_2"),
            models.CheckConstraint(condition=models.Q(tool__in=["rob1", "rob2", "robins"]), name="rob_tool_valid"),
        ]

    def __str__(self) -> str:
        return f"Risk-of-bias settings of review {self.review_id}"


class RobAssessment(models.Model):
    """One assessor's risk-of-bias assessment of a study (or of one outcome's result), or (`assessor` empty) the
    consensus. `version` counts its saves: a save names the version it read and a stale one is refused."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETE = "complete", "Complete"

    class Variant(models.TextChoices):
        ASSIGNMENT = "assignment", "Effect of assignment to intervention"
        ADHERING = "adhering", "Effect of adhering to intervention"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rob_assessments")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="rob_assessments")
    outcome = models.ForeignKey(Outcome, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="rob_assessments"
    )
    tool = models.CharField(max_length=8, choices=Tool.choices)
    variant = models.CharField(max_length=16, choices=Variant.choices, default=Variant.ASSIGNMENT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    overall = models.CharField(max_length=20, blank=True)
    overall_proposed = models.CharField(max_length=20, blank=True)
    overall_override_reason = models.TextField(blank=True)
    # Who gave the consensus overall: empty when the worker wrote it (the worker never overwrites an editor's).
    overall_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study_id", "outcome_id", "assessor_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "outcome", "assessor"],
                condition=models.Q(assessor__isnull=False, outcome__isnull=False),
                name="rob_one_per_assessor_outcome",
            ),
            models.UniqueConstraint(
                fields=["study", "assessor"],
                condition=models.Q(assessor__isnull=False, outcome__isnull=True),
                name="rob_one_per_assessor_study",
            ),
            models.UniqueConstraint(
                fields=["study", "outcome"],
                condition=models.Q(assessor__isnull=True, outcome__isnull=False),
                name="rob_one_consensus_outcome",
            ),
            models.UniqueConstraint(
                fields=["study"],
                condition=models.Q(assessor__isnull=True, outcome__isnull=True),
                name="rob_one_consensus_study",
            ),
            models.CheckConstraint(condition=models.Q(status__in=["in_progress", "complete"]), name="rob_status_valid"),
            models.CheckConstraint(
                condition=models.Q(variant__in=["assignment", "adhering"]), name="rob_variant_valid"
            ),
        ]

    def __str__(self) -> str:
        who = self.assessor_id and f"assessor {self.assessor_id}" or "consensus"
        return f"{who} on study {self.study_id}" + (f" / outcome {self.outcome_id}" if self.outcome_id else "")

    @property
    def is_consensus(self) -> bool:
        return self.assessor_id is None


class RobJudgement(models.Model):
    """One domain of an assessment: the signalling-question answers (RoB 2, ROBINS-I), the algorithm's proposal
    (RoB 2 only), the final judgement and, when it differs from the proposal, the reason. `changed_in` is the
    assessment version that last changed it, so a refused stale save can say what changed since; `updated_by`
    empty on a consensus row means the worker wrote it."""

    assessment = models.ForeignKey(RobAssessment, on_delete=models.CASCADE, related_name="judgements")
    domain = models.CharField(max_length=30)
    answers = models.JSONField(default=dict, blank=True)
    proposed = models.CharField(max_length=20, blank=True)
    judgement = models.CharField(max_length=20)
    override_reason = models.TextField(blank=True)
    support = models.TextField(blank=True, help_text="Quote or justification for the judgement.")
    changed_in = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["assessment_id", "domain"]
        constraints = [models.UniqueConstraint(fields=["assessment", "domain"], name="rob_judgement_one_per_domain")]

    def __str__(self) -> str:
        return f"{self.domain}: {self.judgement}"


class RobDiscrepancy(models.Model):
    """Where the assessors' final judgements of a study (and outcome) differ: one domain, or "overall".
    `values` holds each assessor's judgement by username; the editor settles it into the consensus."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rob_discrepancies")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="rob_discrepancies")
    outcome = models.ForeignKey(Outcome, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=30)
    values = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True, help_text="The editor's note on the resolution.")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study__label", "outcome_id", "domain", "id"]
        verbose_name_plural = "risk-of-bias discrepancies"
        constraints = [
            models.UniqueConstraint(
                fields=["study", "outcome", "domain"],
                condition=models.Q(outcome__isnull=False),
                name="rob_discrepancy_one_per_outcome_spot",
            ),
            models.UniqueConstraint(
                fields=["study", "domain"],
                condition=models.Q(outcome__isnull=True),
                name="rob_discrepancy_one_per_spot",
            ),
            models.CheckConstraint(condition=models.Q(status__in=["open", "resolved"]), name="rob_discrepancy_status"),
        ]

    def __str__(self) -> str:
        return f"{self.study_id}: {self.domain} ({self.status})"


CERTAINTY_DOWNGRADES = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
CERTAINTY_UPGRADES = ("large_effect", "dose_response", "confounding")
CERTAINTY_DOMAINS = CERTAINTY_DOWNGRADES + CERTAINTY_UPGRADES


class CertaintyRating(models.Model):
    """The GRADE certainty of the evidence for one outcome of one comparison, as the team rated it: the starting
    level by design, a change per domain (downgrades 0/−1/−2, publication bias 0/−1; upgrades 0/+1/+2 for a large
    effect, 0/+1 for dose-response and for opposing plausible confounding), each non-zero change with its
    explanation (a footnote in the Summary of Findings), and the level they give (`grading.grade.certainty`).
    The proposals from the data (`grading.selectors_certainty`) are computed when read and never stored here:
    only what a person chose is. An editor signs the rating off; a later change returns it to draft."""

    class Start(models.TextChoices):
        HIGH = "high", "High (randomised trials, or non-randomised studies assessed with ROBINS-I)"
        LOW = "low", "Low (non-randomised studies)"

    class Importance(models.TextChoices):
        CRITICAL = "critical", "Critical"
        IMPORTANT = "important", "Important"
        LIMITED = "limited", "Of limited importance"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED_OFF = "signed_off", "Signed off"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="certainty_ratings")
    comparison = models.ForeignKey("extraction.Comparison", on_delete=models.CASCADE, related_name="+")
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="+")
    start = models.CharField(max_length=4, choices=Start.choices, default=Start.HIGH)
    risk_of_bias = models.SmallIntegerField(default=0)
    inconsistency = models.SmallIntegerField(default=0)
    indirectness = models.SmallIntegerField(default=0)
    imprecision = models.SmallIntegerField(default=0)
    publication_bias = models.SmallIntegerField(default=0)
    large_effect = models.SmallIntegerField(default=0)
    dose_response = models.SmallIntegerField(default=0)
    confounding = models.SmallIntegerField(default=0)
    explanations = models.JSONField(default=dict, blank=True, help_text="{domain: explanation}")
    importance = models.CharField(max_length=10, choices=Importance.choices, default=Importance.CRITICAL)
    imprecision_threshold = models.FloatField(
        null=True, blank=True, help_text="A threshold on the effect scale (e.g. 0.8 for a ratio, 1 point for an MD)."
    )
    assumed_risk = models.FloatField(
        null=True,
        blank=True,
        help_text="Risk with the comparison (0-1) for the absolute effects; empty: from the data.",
    )
    comments = models.TextField(blank=True)
    # What the rating was made on: the outcome summary's input hash and effect measure when it was saved. When the
    # summary's inputs or measure change, the rating (and any sign-off) is shown as made on other data.
    rated_input_hash = models.CharField(max_length=64, blank=True)
    rated_measure = models.CharField(max_length=8, blank=True)
    level = models.CharField(max_length=10, default="high")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["comparison__position", "outcome__position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["comparison", "outcome"], name="certainty_one_per_comparison_outcome"),
            models.CheckConstraint(condition=models.Q(start__in=["high", "low"]), name="certainty_start_valid"),
            models.CheckConstraint(
                condition=models.Q(
                    risk_of_bias__in=[0, -1, -2],
                    inconsistency__in=[0, -1, -2],
                    indirectness__in=[0, -1, -2],
                    imprecision__in=[0, -1, -2],
                    publication_bias__in=[0, -1],
                    large_effect__in=[0, 1, 2],
                    dose_response__in=[0, 1],
                    confounding__in=[0, 1],
                ),
                name="certainty_changes_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=["high", "moderate", "low", "very_low"]), name="certainty_level_valid"
            ),
            models.CheckConstraint(condition=models.Q(status__in=["draft", "signed_off"]), name="certainty_status"),
            models.CheckConstraint(
                condition=models.Q(assumed_risk__isnull=True) | models.Q(assumed_risk__gte=0, assumed_risk__lte=1),
                name="certainty_assumed_risk_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"Certainty of outcome {self.outcome_id} in comparison {self.comparison_id}: {self.level}"

    def changes(self) -> dict[str, int]:
        return {domain: getattr(self, domain) for domain in CERTAINTY_DOMAINS}
