"""Screening work for the worker: settle outcomes or flag conflicts as decisions arrive, and a periodic sweep
that catches any evaluation lost on the way (both idempotent)."""

from celery import shared_task

from screening.services import agreement_refresh, outcome_evaluate, outcomes_sweep


@shared_task(name="screening.outcome_evaluate", acks_late=True, reject_on_worker_lost=True)
def outcome_evaluate_task(record_id: int, stage: str) -> str:
    outcome = outcome_evaluate(record_id=record_id, stage=stage)
    return "open" if outcome is None else outcome.status


@shared_task(name="screening.outcomes_sweep", acks_late=True, reject_on_worker_lost=True)
def outcomes_sweep_task() -> int:
    return outcomes_sweep()


@shared_task(name="screening.agreement_refresh", acks_late=True, reject_on_worker_lost=True)
def agreement_refresh_task(review_id: int) -> str:
    from reviews.models import Review

    try:
        summary = agreement_refresh(review_id=review_id)
    except Review.DoesNotExist:
        return "gone"
    return f"computed at {summary.computed_at:%H:%M:%S}"


@shared_task(name="screening.priority_retrain", acks_late=True, reject_on_worker_lost=True)
def priority_retrain_task(review_id: int) -> str:
    from reviews.models import Review
    from screening import priority_service

    try:
        state = priority_service.retrain(review_id=review_id)
    except Review.DoesNotExist:
        return "gone"
    return f"ready={state.ready} outcomes={state.outcomes_used}"
