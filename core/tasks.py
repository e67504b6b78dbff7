import logging
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from django.db import transaction

logger = logging.getLogger(__name__)

# What sending a task raises while the broker is down (Redis refused or gone; kombu's wrapper of the same).
BROKER_DOWN = (kombu.exceptions.OperationalError, redis.exceptions.RedisError, ConnectionError)


@shared_task(name="core.ping", ignore_result=False)
def ping(value: str = "pong") -> str:
    """Round trip through the broker and a worker; used by tests and by operators (`celery call core.ping`)."""
    return value


def send_on_commit(task: Any, *args: Any, fallback: str, countdown: float | None = None) -> None:
    """Queue `task(*args)` once the caller's transaction commits, so that the worker reads what it wrote.

    The change is committed by then and must be answered as saved, so a broker that is down may not turn it into
    an error. `fallback` says what happens instead: "inline" runs the task here and now (for short work whose
    result people wait for, such as flagging a discrepancy), "sweep" leaves it to the periodic sweep named in the
    log (for long work, or work a sweep already finds). Sent without a result (nobody reads it): subscribing to
    the Redis result backend fails with a RuntimeError, not a connection error, while Redis is down."""
    if fallback not in ("inline", "sweep"):
        raise ValueError(f"fallback must be 'inline' or 'sweep', not {fallback!r}")

    def send() -> None:
        try:
            task.apply_async(args, ignore_result=True, countdown=countdown)
        except BROKER_DOWN:
            if fallback == "inline":
                logger.warning("broker down: running %s%s in the request", task.name, args)
                task.apply(args)
            else:
                logger.warning("broker down: %s%s not queued, left to the periodic sweep", task.name, args)

    transaction.on_commit(send)
