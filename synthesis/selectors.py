"""Outcome-summary reads. Summaries are computed from the consensus, which blinded reviewers do not see: while
extraction is blinded, analyses are for editors and owners (the caller checks with `may_read`)."""

from django.db.models import QuerySet
from django.http import Http404

from extraction.selectors import sees_all
from reviews.models import Review
from synthesis.models import Analysis, SynthesisQueue


def may_read(review: Review) -> bool:
    """Whether the member (review.my_role) may read the summaries: editors and owners, everyone once extraction
    is not blinded."""
    return sees_all(review)


def analysis_list(
    *, review: Review, comparison_id: int | str | None = None, outcome_id: int | str | None = None
) -> QuerySet[Analysis]:
    found = Analysis.objects.filter(review=review).select_related("comparison", "outcome")
    try:
        if comparison_id not in (None, ""):
            found = found.filter(comparison_id=int(comparison_id))  # type: ignore[arg-type]
        if outcome_id not in (None, ""):
            found = found.filter(outcome_id=int(outcome_id))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return found.none()
    return found.order_by("comparison__position", "comparison_id", "outcome__position", "outcome_id")


def analysis_get(*, review: Review, analysis_id: int | str) -> Analysis:
    try:
        return analysis_list(review=review).get(pk=int(analysis_id))
    except (Analysis.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such analysis in this review.") from exc


def recomputation_queued(review: Review) -> bool:
    """Whether a recomputation of the review's stale analyses is queued (on its way to the worker)."""
    return SynthesisQueue.objects.filter(review=review, queued=True).exists()


def shown_status(analysis: Analysis, queued: bool) -> str:
    """current | computing (stale, a recomputation queued) | stale: stale numbers are never shown as current."""
    if analysis.status == Analysis.Status.CURRENT:
        return "current"
    return "computing" if queued else "stale"
