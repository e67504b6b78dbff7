from datetime import timedelta

from celery import shared_task

from reviews.services.imports import import_process, imports_sweep


@shared_task(name="reviews.import_run", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def import_run(import_id: int) -> str:
    """Parse, store and deduplicate one import. Safe to run twice: see import_process."""
    return import_process(import_id=import_id).status


@shared_task(name="reviews.imports_sweep", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def imports_sweep_task(older_than_seconds: int = 120) -> int:
    return imports_sweep(older_than=timedelta(seconds=older_than_seconds))
