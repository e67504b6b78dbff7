"""Synthesis work for the worker: recompute a review's stale outcome summaries (idempotent), and a periodic
sweep that queues any left stale (a lost task, a killed worker)."""

from celery import shared_task

from synthesis import services


@shared_task(name="synthesis.recompute", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def recompute_task(review_id: int) -> dict[str, int]:
    return services.recompute_review(review_id=review_id)


@shared_task(name="synthesis.sweep", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep_task() -> int:
    return services.sweep()
