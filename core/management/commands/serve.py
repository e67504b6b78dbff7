"""`make run`: the development server with one Celery worker beside it.

On the embedded default the worker reads kombu's file-system queue under var/broker, so long work (imports,
recomputation) runs outside the request and the page shows its progress. With REDIS_URL set, run workers
separately (`make worker`) and pass --no-worker.
"""

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.celery import ensure_broker_folders


def _die_with_parent() -> None:
    """Linux: the worker gets SIGTERM if this server process dies, even by SIGKILL, instead of living on."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Command(BaseCommand):
    help = "Run the development server and one Celery worker beside it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-worker", action="store_true", help="Do not start a worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        # SIGTERM (a process manager, `kill`) stops the server through the same clean-up as Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        worker = None
        if not options["no_worker"] and not settings.CELERY_TASK_ALWAYS_EAGER:
            ensure_broker_folders()
            # The worker is a separate process group so that Ctrl-C here stops it cleanly, once.
            worker = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "--quiet",
                    "worker",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    "--hostname=sieve-local@%h",
                    "--beat",
                    f"--schedule={settings.VAR_DIR / 'celerybeat-schedule'}",
                ],
                env={**os.environ},
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only sets a signal, no locks taken
            )
            self.stdout.write(f"Celery worker started (pid {worker.pid}) on {settings.CELERY_BROKER_URL}")
        try:
            call_command("runserver", options["addrport"], use_reloader=False)
        finally:
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
