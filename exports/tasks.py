from celery import shared_task

from exports.services import review_transfer_process


@shared_task(name="exports.review_transfer_run", acks_late=True, reject_on_worker_lost=True)
def review_transfer_run(transfer_id: int) -> str:
    """Import a stored JSON export as a new review. Safe to run twice: see review_transfer_process."""
    transfer = review_transfer_process(transfer_id=transfer_id)
    return "gone" if transfer is None else transfer.status
