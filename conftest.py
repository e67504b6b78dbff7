"""Fixtures shared by every app's tests: the alice/bob/carol/dave/eve cast of one review.

alice owns the review, bob is its editor, carol a reviewer, dave an outsider (member of another review only).
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reviews.models import Membership
from reviews.tests.factories import MembershipFactory, ReviewFactory, UserFactory

PASSWORD = "correct horse battery staple"  # noqa: S105 - test accounts only


@dataclass
class Cast:
    review: Any
    other_review: Any
    alice: object  # owner
    bob: object  # editor
    carol: object  # reviewer
    dave: object  # outsider: owner of other_review only

    def user(self, who: str) -> object | None:
        return None if who == "anonymous" else getattr(self, who)


@pytest.fixture
def cast(db) -> Cast:
    alice, bob, carol, dave = (UserFactory(username=n) for n in ("alice", "bob", "carol", "dave"))
    review = ReviewFactory(title="Ketamine as an adjuvant to opioids for cancer pain", created_by=alice)
    MembershipFactory(review=review, user=alice, role=Membership.Role.OWNER)
    MembershipFactory(review=review, user=bob, role=Membership.Role.EDITOR)
    MembershipFactory(review=review, user=carol, role=Membership.Role.REVIEWER)
    other = ReviewFactory(title="Another team's review", created_by=dave)
    MembershipFactory(review=other, user=dave, role=Membership.Role.OWNER)
    return Cast(review=review, other_review=other, alice=alice, bob=bob, carol=carol, dave=dave)


@pytest.fixture
def web(cast):
    """`web("carol")`: a browser-like client logged in as that member of the cast (or anonymous)."""

    def make(who: str) -> Client:
        client = Client()
        user = cast.user(who)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def api(cast):
    """`api("carol")`: an API client sending carol's token (or none)."""

    def make(who: str) -> APIClient:
        client = APIClient()
        user = cast.user(who)
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (in a thread) consuming the configured broker, for tests of task delivery.

    On the embedded default (eager tasks) there is nothing to deliver through: such tests run only where
    REDIS_URL is set, as in CI's second run; tests/test_celery.py covers the file-system transport itself.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    if app.conf.task_always_eager:
        pytest.skip("tasks run eagerly on the embedded default; set REDIS_URL to test with a real worker")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


@pytest.fixture(scope="session")
def shared_data():
    """`../shared/data` beside the checkout (or $SIEVE_SHARED_DATA): real exports and benchmarks."""
    import os
    from pathlib import Path

    path = Path(os.environ.get("SIEVE_SHARED_DATA") or Path(__file__).resolve().parent.parent / "shared" / "data")
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path} (set SIEVE_SHARED_DATA)")
    return path


class Tasks:
    """Runs what a request enqueues: eagerly on the embedded default, through a real worker with REDIS_URL."""

    def __init__(self, real_worker: bool) -> None:
        self.real_worker = real_worker

    def run(self):
        """Context for the request that enqueues: executes its on_commit callbacks (eager)."""
        import contextlib

        from django.test import TestCase

        if self.real_worker:
            return contextlib.nullcontext()
        return TestCase.captureOnCommitCallbacks(execute=True)

    def wait_import(self, import_id: int, timeout: float = 90):
        import time

        from reviews.models import Import

        deadline = time.monotonic() + timeout
        while True:
            batch = Import.objects.get(pk=import_id)
            if batch.finished or time.monotonic() > deadline:
                return batch
            time.sleep(0.1)


@pytest.fixture
def tasks(request):
    """Use with `pytestmark = pytest.mark.django_db(transaction=REAL_WORKER)` (see reviews/tests/test_imports.py)."""
    from config.celery import app

    real = not app.conf.task_always_eager
    if real:
        request.getfixturevalue("celery_worker")
    return Tasks(real)
