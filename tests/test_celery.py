"""Tasks really travel: through Redis to a worker (CI's service run), and through the embedded default's
file-system queue to a worker (every run), the way `make run` uses it."""

import os

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from core.tasks import ping


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI's PostgreSQL/Redis run)")
def test_round_trip_through_redis_with_a_real_worker(celery_worker):
    assert app.conf.broker_url.startswith("redis://")
    assert not app.conf.task_always_eager
    result = ping.delay("through redis")
    assert result.get(timeout=30) == "through redis"
    assert result.state == "SUCCESS"


def test_round_trip_through_the_embedded_file_system_queue(tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    embedded = Celery("sieve-embedded-test", set_as_current=False)
    embedded.conf.update(
        broker_url="filesystem://",
        broker_transport_options={
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(tmp_path / "processed"),
            "control_folder": str(tmp_path / "control"),
        }
        if settings.CELERY_BROKER_URL.startswith("filesystem")
        else {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(tmp_path / "control"),
            "store_processed": False,
        },
        result_backend="cache+memory://",
        task_acks_late=True,
    )
    embedded_ping = embedded.task(name="core.ping")(ping.run)
    with start_worker(embedded, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        result = embedded_ping.delay("through the file-system queue")
        assert result.get(timeout=30) == "through the file-system queue"
    assert list(queue.iterdir()) == [], "the message was not consumed and removed"
