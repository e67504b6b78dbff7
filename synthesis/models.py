"""Outcome summaries: one `Analysis` per comparison and outcome that has consensus data, with its settings
(effect measure, model, method, HKSJ, pooled or not and why) and the summary the worker last computed from
the consensus data (`result`, with the hash of the inputs it was computed from).

An analysis is `current` when its result was computed from the data and settings as they are; any change
makes it `stale` (and queues a recomputation): a stale result is never shown as current. `generation` counts
the changes, so that a result computed from older inputs is not stored as current."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from extraction.models import Comparison, Outcome
from reviews.models import Review


class Analysis(models.Model):
    class Measure(models.TextChoices):
        RR = "RR", "Risk ratio"
        OR = "OR", "Odds ratio"
        RD = "RD", "Risk difference"
        MD = "MD", "Mean difference"
        SMD = "SMD", "Standardised mean difference (Hedges' g)"
        GIV = "GIV", "Generic inverse variance"

    class Model(models.TextChoices):
        FIXED = "fixed", "Fixed effect"
        RANDOM = "random", "Random effects"

    class Method(models.TextChoices):
        MH = "MH", "Mantel-Haenszel"
        IV = "IV", "Inverse variance"
        PETO = "PETO", "Peto"
        DL = "DL", "DerSimonian-Laird"
        REML = "REML", "Restricted maximum likelihood"
        PM = "PM", "Paule-Mandel"
        ML = "ML", "Maximum likelihood"

    class Status(models.TextChoices):
        CURRENT = "current", "Current"
        STALE = "stale", "Stale"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="analyses")
    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="analyses")
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="analyses")
    effect_measure = models.CharField(max_length=8, choices=Measure.choices)
    model = models.CharField(max_length=8, choices=Model.choices, default=Model.RANDOM)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.REML)
    hksj = models.BooleanField(default=False, help_text="Hartung-Knapp-Sidik-Jonkman confidence interval (t-based).")
    giv_ratio = models.BooleanField(
        default=False, help_text="Generic inverse variance estimates are log ratios (shown as ratios)."
    )
    pooled = models.BooleanField(default=True)
    not_pooled_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Settings version (optimistic concurrency).")

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.STALE)
    generation = models.PositiveIntegerField(default=1, help_text="Counts changes of inputs and settings.")
    input_hash = models.CharField(max_length=64, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the last computation gave no summary.")
    computed_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords(
        excluded_fields=["status", "generation", "input_hash", "result", "error", "computed_at", "changed_at"]
    )

    class Meta:
        ordering = ["comparison__position", "outcome__position", "id"]
        verbose_name_plural = "analyses"
        indexes = [models.Index(fields=["review", "status"], name="analysis_review_status")]
        constraints = [
            models.UniqueConstraint(fields=["comparison", "outcome"], name="analysis_one_per_comparison_outcome"),
            models.CheckConstraint(
                condition=models.Q(effect_measure__in=["RR", "OR", "RD", "MD", "SMD", "GIV"]),
                name="analysis_measure_valid",
            ),
            models.CheckConstraint(condition=models.Q(model__in=["fixed", "random"]), name="analysis_model_valid"),
            models.CheckConstraint(
                condition=(
                    models.Q(model="fixed", method__in=["MH", "IV", "PETO"])
                    | models.Q(model="random", method__in=["DL", "REML", "PM", "ML"])
                ),
                name="analysis_method_fits_model",
            ),
            models.CheckConstraint(condition=models.Q(status__in=["current", "stale"]), name="analysis_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.comparison} › {self.outcome}"

    @property
    def is_ratio(self) -> bool:
        return self.effect_measure in ("RR", "OR") or (self.effect_measure == "GIV" and self.giv_ratio)


class SynthesisQueue(models.Model):
    """Whether a recomputation of the review's stale analyses is queued: a burst of edits enqueues one task (the
    edit that finds it not queued), and the task clears the mark before it reads, so an edit made while it
    computes queues the next run."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="synthesis_queue")
    queued = models.BooleanField(default=False)
    queued_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0, help_text="Recomputations run (for operators and tests).")

    def __str__(self) -> str:
        return f"Synthesis queue of review {self.review_id}"
