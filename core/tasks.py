from celery import shared_task


@shared_task(name="core.ping")
def ping(value: str = "pong") -> str:
    """Round trip through the broker and a worker; used by tests and by operators (`celery call core.ping`)."""
    return value
