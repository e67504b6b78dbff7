"""What /healthz checks: the database and the Celery broker."""

from pathlib import Path

from celery import Celery
from django.db import connection

from config.celery import app


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the message says which
        return f"down: {exc.__class__.__name__}: {exc}".strip()
    return "ok"


def broker_status(celery_app: Celery | None = None) -> str:
    """`eager` when tasks run in the request (tests); otherwise whether the broker accepts a connection."""
    celery_app = celery_app or app
    if celery_app.conf.task_always_eager:
        return "eager"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            if conn.transport_cls == "filesystem":
                _check_broker_folder(celery_app.conf.broker_transport_options["data_folder_out"])
    except Exception as exc:  # noqa: BLE001
        return f"down: {exc.__class__.__name__}: {exc}".strip()
    return "ok"


def _check_broker_folder(folder: str) -> None:
    if not Path(folder).is_dir():
        raise FileNotFoundError(f"broker folder {folder} does not exist (run `make run` or `make worker`)")
