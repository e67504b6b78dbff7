"""Priority screening in the worker: train the review's model on its title/abstract outcomes, score the records
still undecided, and estimate how many relevant records are still unseen. The model itself is in
screening/priority.py (pure); this module feeds it from the database and stores what it says."""

import logging
import time

from django.db import transaction
from django.utils import timezone

from reviews.models import Review
from screening import priority
from screening.models import Choice, Outcome, PriorityModel, RecordScore, Stage

logger = logging.getLogger(__name__)


def retrain_step(records: int) -> int:
    """Outcomes to wait for between trainings: every 10 on a small review, every 0.5% of a large one."""
    return max(10, records // 200)


def changed(review_id: int) -> None:
    """A title/abstract outcome changed: mark the model stale and have the worker retrain it, once per burst."""
    from screening.services import mark_stale
    from screening.tasks import priority_retrain_task

    mark_stale(PriorityModel, review_id, priority_retrain_task)


def retrain(*, review_id: int, force: bool = False) -> PriorityModel:
    """Train and score (worker). Skipped (left stale, for the sweep) until enough new outcomes have arrived,
    unless `force`. Idempotent."""
    review = Review.objects.get(pk=review_id)
    state, _ = PriorityModel.objects.get_or_create(review=review)
    from screening.selectors import screenable_records

    screened = screenable_records(review=review, stage=Stage.TITLE_ABSTRACT)
    outcomes = dict(
        Outcome.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT)
        .exclude(status=Outcome.Status.CONFLICT)
        .values_list("record_id", "decision")
    )
    if state.ready and not force and len(outcomes) - state.outcomes_used < retrain_step(screened.count()):
        return state
    PriorityModel.objects.filter(pk=state.pk).update(stale=False)  # outcomes from now on mark it again
    state.outcomes_used, state.stale = len(outcomes), False
    if not priority.ready([priority.label_of(d) for d in outcomes.values() if d in Choice.values]):
        state.ready = False  # the texts are not even read until 5 relevant and 5 irrelevant outcomes exist
        state.save()
        RecordScore.objects.filter(review=review).delete()
        return state
    records = list(screened.values_list("id", "title", "abstract", "keywords"))
    index = {record_id: i for i, (record_id, *_rest) in enumerate(records)}
    labels = {index[r]: priority.label_of(d) for r, d in outcomes.items() if r in index and d in Choice.values}
    started = time.perf_counter()
    texts = [priority.document_text(title, abstract, keywords or ()) for _, title, abstract, keywords in records]
    model = priority.RelevanceModel(texts).fit(labels)
    scores, probabilities = model.scores(), model.probabilities()
    waiting = [i for i in range(len(records)) if i not in labels]
    undecided = [(records[i][0], scores[i]) for i in waiting]
    # Shown as "about N (low to high)", with the caveats of estimate_remaining_relevant: not a stopping rule.
    estimate = priority.estimate_remaining_relevant([probabilities[i] for i in waiting])
    with transaction.atomic():
        RecordScore.objects.filter(review=review).delete()
        RecordScore.objects.bulk_create(
            (RecordScore(review=review, record_id=record_id, score=float(score)) for record_id, score in undecided),
            batch_size=5000,
        )
        state.ready = True
        state.relevant_expected, state.relevant_low, state.relevant_high = (
            estimate.expected, estimate.low, estimate.high
        )  # fmt: skip
        state.trained_at = timezone.now()
        state.save()
    logger.info(
        "priority model of review %s: %s outcomes, %s records scored in %.1f s",
        review.pk, len(labels), len(undecided), time.perf_counter() - started,
    )  # fmt: skip
    return state


def sweep() -> int:
    """Retrain the stale models whose reviews have enough new outcomes (the periodic catch-up)."""
    count = 0
    for review_id in list(PriorityModel.objects.filter(stale=True).values_list("review_id", flat=True)):
        retrain(review_id=review_id)
        count += 1
    return count
