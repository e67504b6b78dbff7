"""What `make run` does, end to end, on the embedded default: migrate, create the demo users, serve with a
worker beside the server; the printed password logs in; a task sent to the file-system queue is consumed by
that worker; stopping the server stops the worker."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path):
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CELERY_TASK_ALWAYS_EAGER", "SECRET_KEY")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env["SIEVE_VAR_DIR"] = str(tmp_path / "var")
    return env


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text[:500]!r}"
    return match.group(1)


def _get(url: str, headers: dict[str, str]) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return response.read().decode()


def _post(url: str, body: dict[str, str]) -> str:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def _post_file(url: str, content: bytes, headers: dict[str, str]) -> str:
    boundary = "sieve-test-boundary"
    fields = [("source", "MEDLINE (Ovid)"), ("source_kind", "database")]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields
    )
    body += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="m.ris"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url,
        data=body,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        return response.read().decode()


def _manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def _wait_for(url: str, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_make_run_on_the_embedded_default(embedded_env, tmp_path):
    assert _manage(embedded_env, "migrate", "--noinput").returncode == 0
    first = _manage(embedded_env, "demo_users")
    assert first.returncode == 0, first.stderr
    password = _find(r"Password for each: (\S+)", first.stdout)
    assert "author1 (owner), author2 (reviewer), editor (editor)" in first.stdout
    # The same password on the next run, generated per installation (another var dir gets another).
    assert f"Password for each: {password}" in _manage(embedded_env, "demo_users").stdout
    assert password not in (ROOT / "core/management/commands/demo_users.py").read_text()

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    worker_pid = None
    try:
        base = f"http://127.0.0.1:{port}"
        assert b'"broker": "ok"' in _wait_for(f"{base}/healthz")
        assert server.stdout is not None
        worker_pid = int(_find(r"Celery worker started \(pid (\d+)\)", server.stdout.readline()))

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = opener.open(f"{base}/accounts/login/").read().decode()
        csrf = _find(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
        form = urllib.parse.urlencode({"username": "author1", "password": password, "csrfmiddlewaretoken": csrf})
        request = urllib.request.Request(f"{base}/accounts/login/", data=form.encode(), headers={"Referer": base})
        home = opener.open(request)
        assert home.url == f"{base}/reviews/"
        assert "Ketamine as an adjuvant to opioids for cancer pain" in home.read().decode()

        # A task sent to the file-system queue is taken by the worker beside the server.
        queue = Path(embedded_env["SIEVE_VAR_DIR"]) / "broker" / "queue"
        sender = Celery(
            "sender",
            set_as_current=False,
            broker="filesystem://",
            broker_transport_options={
                "data_folder_in": str(queue),
                "data_folder_out": str(queue),
                "control_folder": str(queue.parent / "control"),
            },
        )
        sender.send_task("core.ping", args=["hello"])
        assert list(queue.iterdir()), "the message was not written to the queue"
        deadline = time.monotonic() + 30
        while list(queue.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list(queue.iterdir()) == [], "the worker did not consume the task"

        # An import through the API is processed by that worker, outside the request, and reports progress.
        token = json.loads(_post(f"{base}/api/v1/auth/token/", {"username": "author1", "password": password}))["token"]
        auth = {"Authorization": f"Token {token}"}
        reviews = json.loads(_get(f"{base}/api/v1/reviews/", auth))["results"]
        review_id = reviews[0]["id"]
        ris = b"TY  - JOUR\nTI  - Ketamine for cancer pain\nPY  - 2012\nER  - \n"
        created = json.loads(_post_file(f"{base}/api/v1/reviews/{review_id}/imports/", ris, auth))
        assert created["status"] in ("queued", "running", "succeeded")
        deadline = time.monotonic() + 60
        while True:
            state = json.loads(_get(f"{base}/api/v1/reviews/{review_id}/imports/{created['id']}/", auth))
            if state["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert (state["status"], state["progress"], state["records_added"]) == ("succeeded", 100, 1), state
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    if worker_pid is not None and not _gone(worker_pid):
        os.kill(worker_pid, signal.SIGKILL)
        pytest.fail("the worker outlived the server")


def _gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie (exited, not yet reaped) counts as gone.
        status = Path(f"/proc/{pid}/status")
        if status.exists() and "\nState:\tZ" in status.read_text():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_worker_does_not_outlive_a_killed_server(embedded_env):
    assert _manage(embedded_env, "migrate", "--noinput").returncode == 0
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", f"127.0.0.1:{_free_port()}"],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None
    worker_pid = int(_find(r"Celery worker started \(pid (\d+)\)", server.stdout.readline()))
    server.kill()
    server.wait(timeout=10)
    if not _gone(worker_pid):
        os.kill(worker_pid, signal.SIGKILL)
        pytest.fail("the worker outlived a server killed with SIGKILL")
