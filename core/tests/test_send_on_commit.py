"""A change committed while the broker is down is answered as saved: its task runs here (inline) or is left to a
sweep, as the caller chose; with the broker up it is queued, after the commit, without a result."""

import kombu.exceptions
import pytest
import redis.exceptions
from celery import shared_task

from core.tasks import send_on_commit

ran: list[tuple] = []


@shared_task(name="core.tests.record")
def record(*args):
    ran.append(args)


@pytest.fixture(autouse=True)
def _clear():
    ran.clear()


@pytest.mark.parametrize(
    "error", [kombu.exceptions.OperationalError("down"), redis.exceptions.ConnectionError("refused")]
)
def test_inline_runs_the_task_here_when_the_broker_is_down(db, monkeypatch, django_capture_on_commit_callbacks, error):
    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(record, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(record, 7, "x", fallback="inline")
        assert ran == []  # not before the commit
    assert ran == [(7, "x")]


def test_sweep_leaves_it_and_says_so(db, monkeypatch, django_capture_on_commit_callbacks, caplog):
    def refuse(*args, **kwargs):
        raise kombu.exceptions.OperationalError("down")

    monkeypatch.setattr(record, "apply_async", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(record, 7, fallback="sweep")
    assert ran == [] and "left to the periodic sweep" in caplog.text


def test_with_the_broker_up_it_is_queued_after_commit_without_a_result(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[tuple] = []
    monkeypatch.setattr(record, "apply_async", lambda args, **options: sent.append((args, options)))
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(record, 3, fallback="inline", countdown=1.5)
        assert sent == []
    assert sent == [((3,), {"ignore_result": True, "countdown": 1.5})] and ran == []


def test_an_unknown_fallback_is_a_programming_error():
    with pytest.raises(ValueError, match="inline"):
        send_on_commit(record, 1, fallback="later")
