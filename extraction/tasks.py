"""Extraction work for the worker: compare the reviewers' extractions of a study (idempotent)."""

from celery import shared_task

from extraction.services.extracting import compare


@shared_task(name="extraction.compare", acks_late=True, reject_on_worker_lost=True)
def compare_task(study_id: int, form_id: int) -> dict[str, int]:
    return compare(study_id=study_id, form_id=form_id)
