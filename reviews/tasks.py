from celery import shared_task

from reviews.services.imports import import_process


@shared_task(name="reviews.import_run", acks_late=True, reject_on_worker_lost=True)
def import_run(import_id: int) -> str:
    """Parse, store and deduplicate one import. Safe to run twice: see import_process."""
    return import_process(import_id=import_id).status
