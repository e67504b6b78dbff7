from unittest import mock

import pytest
from celery import Celery

from config.celery import app
from core.health import broker_status

pytestmark = pytest.mark.django_db


def test_healthz_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    expected_broker = "eager" if app.conf.task_always_eager else "ok"
    assert response.json() == {"database": "ok", "broker": expected_broker}


def test_healthz_names_the_database_when_down(client):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute", side_effect=RuntimeError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"].startswith("down: RuntimeError: connection refused")


def test_healthz_names_the_broker_when_down(client):
    dead = Celery("dead-broker", broker="redis://127.0.0.1:1/0", set_as_current=False)
    with mock.patch("core.health.app", dead):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("down: ")


def test_broker_status_checks_the_filesystem_queue_folder(tmp_path):
    missing = tmp_path / "nowhere"
    embedded = Celery(
        "embedded",
        set_as_current=False,
        broker="filesystem://",
        broker_transport_options={"data_folder_in": str(missing), "data_folder_out": str(missing)},
    )
    assert broker_status(embedded).startswith("down: FileNotFoundError")
    missing.mkdir()
    assert broker_status(embedded) == "ok"
