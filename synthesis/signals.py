"""What makes an outcome summary stale, wherever the change is written (the extraction services, the worker's
consensus, the editor's resolutions, the admin): consensus outcome data, and the names a summary shows.

Receivers, not calls in the extraction services, because every write path of consensus data must be caught,
including ones added later; each receiver only marks and queues (the arithmetic runs in the worker)."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from extraction.models import Comparison, Extraction, Outcome, OutcomeData, Study
from synthesis import services


@receiver([post_save, post_delete], sender=OutcomeData, dispatch_uid="synthesis-outcome-data")
def outcome_data_changed(sender: type, instance: OutcomeData, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if Extraction.objects.filter(pk=instance.extraction_id, reviewer__isnull=True).exists():
        services.data_changed(comparison_id=instance.comparison_id, outcome_id=instance.outcome_id)


@receiver(post_save, sender=Study, dispatch_uid="synthesis-study")
def study_changed(sender: type, instance: Study, created: bool, **kwargs: Any) -> None:
    if not created and not kwargs.get("raw"):
        services.review_changed(review_id=instance.review_id)


@receiver(post_save, sender=Outcome, dispatch_uid="synthesis-outcome")
def outcome_changed(sender: type, instance: Outcome, created: bool, **kwargs: Any) -> None:
    if not created and not kwargs.get("raw"):
        services.review_changed(review_id=instance.review_id, outcome_id=instance.pk)


@receiver(post_save, sender=Comparison, dispatch_uid="synthesis-comparison")
def comparison_changed(sender: type, instance: Comparison, created: bool, **kwargs: Any) -> None:
    if not created and not kwargs.get("raw"):
        services.review_changed(review_id=instance.review_id, comparison_id=instance.pk)
