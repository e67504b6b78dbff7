"""Risk-of-bias work for the worker: compare the assessors' assessments of a study (idempotent)."""

from celery import shared_task

from grading.services import compare


@shared_task(name="grading.compare", acks_late=True, reject_on_worker_lost=True)
def compare_task(study_id: int, outcome_id: int | None) -> dict[str, int]:
    return compare(study_id=study_id, outcome_id=outcome_id)
