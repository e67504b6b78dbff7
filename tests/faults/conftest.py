"""Fault tests: a real Celery worker in its own processes (so that it can be SIGKILLed), started against the test
database and the configured Redis."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Short, so that a whole worker killed mid-task has its message back within seconds. Production keeps the 4 h
# default (CELERY_VISIBILITY_TIMEOUT), above the longest task (CELERY_TASK_TIME_LIMIT, 3 h): a redelivery there
# happens only when a task's worker is gone.
TEST_VISIBILITY_TIMEOUT = 5


def database_url() -> str:
    """The test database (pytest-django's test_<name>) as a DATABASE_URL, for processes started by a test."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """`celery -A config worker` in its own process group: a prefork pool of one child (or `make run`'s solo pool,
    with its beat)."""

    def __init__(self, env: dict[str, str], log_dir: Path, *, pool: str = "prefork", beat: Path | None = None) -> None:
        self.env = env
        self.log_dir = log_dir
        self.pool = pool
        self.beat = beat
        self.process: subprocess.Popen | None = None
        self.started = 0

    def start(self) -> "Worker":
        self.started += 1
        log = (self.log_dir / f"worker-{self.started}.log").open("w")
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={self.pool}", "--concurrency=1",
            "--loglevel=INFO", "--without-gossip", "--without-mingle", "-n", f"faults-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        if self.beat is not None:
            command += ["--beat", f"--schedule={self.beat}"]
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.log():
            assert self.process.poll() is None, f"the worker exited: {self.log()[-3000:]}"
            assert time.monotonic() < deadline, f"the worker did not start: {self.log()[-3000:]}"
            time.sleep(0.1)
        return self

    def log(self, number: int | None = None) -> str:
        path = self.log_dir / f"worker-{number or self.started}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def child(self) -> int:
        """The pool process (Linux: the kernel lists a process's children)."""
        assert self.process is not None
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        assert len(children) == 1, f"expected one pool process, found {children}"
        return int(children[0])

    def kill_child(self) -> int:
        """SIGKILL the pool process running the task (the out-of-memory killer's way); the worker lives on."""
        child = self.child()
        os.kill(child, signal.SIGKILL)
        return child

    def kill(self) -> None:
        """SIGKILL the whole worker, main process and pool, with no chance to give its message back."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture
def worker_process(transactional_db, settings, tmp_path) -> Iterator[Worker]:
    """A stopped Worker: call `.start()`. Needs PostgreSQL and Redis (the subprocess must see the test's
    committed rows and share its broker)."""
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        pytest.skip(
            "SIGKILL tests need PostgreSQL and Redis with a separate worker process "
            "(set DATABASE_URL and REDIS_URL, as CI's second run does)"
        )
    settings.MEDIA_ROOT = tmp_path / "media"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_VISIBILITY_TIMEOUT": str(TEST_VISIBILITY_TIMEOUT),
        # kombu scans for expired messages when a worker starts and then every 10 x 10 s: a worker started less
        # than the visibility timeout after the kill would otherwise wait 100 s (a CI failure). Every second here.
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    worker = Worker(env, tmp_path)
    try:
        yield worker
    finally:
        worker.kill()


def wait_for(condition, what: str, timeout: float = 120, every: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll until `condition()` returns something true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
