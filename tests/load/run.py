"""The load test: reviewers screening and extracting at once against gunicorn, PostgreSQL, Redis and a Celery
worker, all on loopback (`make load`).

    python -m tests.load.run [--users 50] [--seconds 60] [--workers N] [--worker-class sync|gthread]

It makes a fresh PostgreSQL database (sieve_load, dropped first), migrates it, collects the static files, seeds
the reviews (tests/load/seed.py), starts gunicorn on 127.0.0.1 at a free port and a Celery worker, runs locust
headless (tests/load/locustfile.py) for the given time, stops everything (process groups, also on Ctrl-C or a
failure), then checks and prints:

- no failed request;
- the screening step (POST the decision, answered with the next record's pane, as the keyboard flow does) at
  p95 under --p95-ms;
- the decisions in the database are exactly the ones the clients were told were stored: same set, no
  duplicates, and no decision the server refused.

Exit status 0 when all hold, 1 otherwise (the figure that failed is printed). The server runs the production
settings (DEBUG off, manifest static files, sessions in the database, CONN_MAX_AGE 60) with these changes for
plain HTTP on loopback: SECURE_SSL_REDIRECT, SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE off, no HSTS; and the
login throttle raised (SIEVE_AUTH_THROTTLE), because all 50 reviewers log in from the one address 127.0.0.1.
Every subprocess has a hard time limit. Results: var/load/ (locust CSVs, server and worker logs)."""

import argparse
import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "load"
PYTHON = sys.executable
STEP = "screening step (decide, answered with the next)"
# The longest the reviewers may take to log in before the measured phase (locust's --run-time is this longer).
LOGIN_BUDGET = 300


def _args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="python -m tests.load.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--users", type=int, default=50, help="simulated reviewers (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="reviewers started per second (default 10)")
    parser.add_argument("--seconds", type=int, default=60, help="length of the run (default 60)")
    # cores + 1: with the worker, PostgreSQL and locust on the same cores, more processes only queue for them
    # (measured on 2 cores: p95 of the step 120 ms with 5 workers, 100 ms with 3).
    parser.add_argument("--workers", type=int, default=cores + 1, help="gunicorn workers (default cores + 1)")
    # 2-6 s a record is the fastest keyboard screening of titles (10-30 records a minute, several times the
    # published 30-60 s for careful work); 0.5-2 is a stress pace no person keeps (README: figures for both).
    parser.add_argument("--pace", default="2-6",
                        help="seconds a reviewer waits between steps, MIN-MAX (default 2-6: a very fast screener; "
                             "0.5-2 is a stress pace)")  # fmt: skip
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument("--team", type=int, default=2, help="screeners per review (default 2: a usual team)")
    parser.add_argument("--records", type=int, default=2000, help="records in each screening review (default 2000)")
    parser.add_argument("--studies", type=int, default=50, help="studies in the extraction review")
    parser.add_argument("--p95-ms", type=float, default=100.0, help="screening step target at p95 (default 100)")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/sieve_load",
                        help="made afresh: dropped if it exists")  # fmt: skip
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="this Redis database is emptied")
    args = parser.parse_args(argv)
    for url in (args.database_url, args.redis_url):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"{url}: the load test runs on loopback only")
    return args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(args: argparse.Namespace) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SIEVE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        SIEVE_AUTH_THROTTLE="100000/min",
        SIEVE_CACHE_PREFIX="sieve-load",
        SIEVE_VAR_DIR=str(OUT / "var"),
        STATIC_ROOT=str(OUT / "static"),
        LOG_LEVEL="WARNING",
        SIEVE_LOAD_DIR=str(OUT),
        SIEVE_LOAD_USERS=str(args.users),
        SIEVE_LOAD_SECONDS=str(args.seconds),
        SIEVE_LOAD_PACE=args.pace,
        SIEVE_LOAD_PLAN=str(OUT / "plan.json"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(command: list[str], env: dict[str, str], timeout: float, what: str) -> None:
    print(f"· {what}", flush=True)
    try:
        done = subprocess.run(command, env=env, cwd=ROOT, timeout=timeout, capture_output=True, text=True)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"{what}: no answer after {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    if done.stdout.strip():
        print("  " + done.stdout.strip().splitlines()[-1], flush=True)


def _static_stale() -> bool:
    """Whether to collect the static files again: the manifest storage compresses every file each time (half
    a minute of CPU), so only when the project's static files or the installed packages changed since."""
    manifest = OUT / "static" / "staticfiles.json"
    if not manifest.exists():
        return True
    sources = [path for path in (ROOT / "static").rglob("*") if path.is_file()]
    sources.append(Path(sys.prefix) / "pyvenv.cfg")
    sources += [Path(p) for p in sys.path if p.endswith("site-packages")]
    return max(path.stat().st_mtime for path in sources if path.exists()) > manifest.stat().st_mtime


def _fresh_database(url: str) -> None:
    """Drop and create the database named in `url`, connected to the server's `postgres` database."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("sieve_load"):
        raise SystemExit(f"{url}: the load test only drops databases named sieve_load*")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")), connect_timeout=10)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def _empty_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_timeout=10).flushdb()


class Processes:
    """The server and the worker, each in a process group of its own, stopped together whatever happens."""

    def __init__(self) -> None:
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (OUT / f"{name}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running.append((name, process))
        return process

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time each process and its children used so far (user + system), to set the figures against."""
        import psutil

        used = {}
        for name, process in self.running:
            try:
                parent = psutil.Process(process.pid)
                tree = [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            total = 0.0
            for member in tree:
                try:
                    times = member.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += times.user + times.system + times.children_user + times.children_system
            used[name] = total
        return used

    def stop(self) -> None:
        """SIGTERM to each main process (gunicorn and Celery then stop their workers warmly, a task in hand
        finished), then SIGKILL to whatever is left of its group after 20 s."""
        for _name, process in self.running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 20
        for _name, process in self.running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the group: children a main process left behind
            except ProcessLookupError:
                pass
            if process.poll() is None:
                process.wait(timeout=10)
        self.running.clear()


def _wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start ({server.returncode}); see {OUT / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own loopback server
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout:.0f} s")


def _stats() -> list[dict[str, str]]:
    with (OUT / "load_stats.csv").open() as handle:
        return list(csv.DictReader(handle))


def _client_rows() -> list[list[Any]]:
    rows = []
    for path in sorted(OUT.glob("decisions-*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


def _verify(args: argparse.Namespace, env: dict[str, str]) -> list[str]:
    """The checks, printed as a table; returns what failed."""
    problems: list[str] = []
    rows = _stats()
    phase = json.loads((OUT / "phase.json").read_text()) if (OUT / "phase.json").exists() else {}
    if "end" not in phase:
        problems.append("the reviewers never all logged in, or the run ended before its time")
    seconds = phase.get("end", time.time()) - phase.get("start", time.time())
    print(
        f"\nLoad test: {args.users} reviewers for {seconds:.0f} s after logging in, {args.pace} s between steps, "
        f"gunicorn {args.workers} {args.worker_class} worker(s), load average now {os.getloadavg()[0]:.2f}"
    )
    print(f"{'request':<56} {'count':>7} {'fail':>5} {'rps':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}  (ms)")
    total = failures = 0
    step_p95: float | None = None
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all requests"
        count, failed = int(row["Request Count"]), int(row["Failure Count"])
        # Requests per second over the measured phase (locust's own figure spreads them over the logins too).
        rps = count / seconds if seconds > 0 and not row["Name"].startswith("login") else float(row["Requests/s"])
        print(f"{name:<56} {count:>7} {failed:>5} {rps:>6.1f} {row['50%']:>6} "
              f"{row['95%']:>6} {row['99%']:>6} {float(row['Max Response Time']):>6.0f}")  # fmt: skip
        if row["Name"] == "Aggregated":
            continue
        failures += failed
        total += count
        if row["Name"] == STEP:
            step_p95 = float(row["95%"]) if row["95%"] != "N/A" else None
    print(f"HTTP requests: {total}; failures: {failures}")
    if failures:
        problems.append(f"{failures} failed request(s); see {OUT / 'load_failures.csv'}")
        for failure in csv.DictReader((OUT / "load_failures.csv").open()):
            print(f"  {failure['Occurrences']:>5} × {failure['Method']} {failure['Name']}: {failure['Error'][:200]}")
    if step_p95 is None:
        problems.append("no screening step was measured")
    elif step_p95 >= args.p95_ms:
        problems.append(f"screening step p95 {step_p95:.0f} ms, over the {args.p95_ms:.0f} ms target")

    after = json.loads((OUT / "plan.json").read_text())["seeded_up_to"]
    _run([PYTHON, "-m", "tests.load.seed", "decisions", str(OUT / "stored.json"), "--after", str(after)], env, 300,
         "reading the decisions")  # fmt: skip
    stored = [tuple(row) for row in json.loads((OUT / "stored.json").read_text())]
    client = _client_rows()
    confirmed = [tuple(row[:4]) for row in client if row[4] == "stored"]
    refused = [tuple(row[:4]) for row in client if row[4] == "refused"]
    twice = [key for key, n in Counter((u, r, s) for u, r, s, _d in stored).items() if n > 1]
    print(f"Decisions: {len(confirmed)} confirmed to the clients, {len(stored)} in the database, "
          f"{len(refused)} refused (outcome already settled)")  # fmt: skip
    if twice:
        problems.append(f"{len(twice)} reviewer/record/stage with more than one decision, e.g. {twice[:3]}")
    if len(set(confirmed)) != len(confirmed):
        problems.append("a client was told twice that the same decision was stored")
    missing, extra = set(confirmed) - set(stored), set(stored) - set(confirmed)
    if missing or extra:
        problems.append(
            f"database and clients differ: {len(missing)} confirmed but not stored (e.g. {sorted(missing)[:3]}), "
            f"{len(extra)} stored but not confirmed (e.g. {sorted(extra)[:3]})"
        )
    if not confirmed:
        problems.append("no decision was made")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in [*OUT.glob("decisions-*.jsonl"), *OUT.glob("load_*.csv"), OUT / "phase.json"]:
        old.unlink(missing_ok=True)
    env = _environment(args)
    processes = Processes()
    # Stopped from outside (a CI timeout, kill): unwind through `finally`, so the server and worker stop too.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    print(f"Load test on loopback; load average {os.getloadavg()[0]:.2f} at start", flush=True)
    try:
        print("· fresh database and Redis", flush=True)
        _fresh_database(args.database_url)
        _empty_redis(args.redis_url)
        _run([PYTHON, "manage.py", "migrate", "--noinput"], env, 600, "migrating")
        if _static_stale():
            _run([PYTHON, "manage.py", "collectstatic", "--noinput"], env, 300, "collecting static files")
        _run([PYTHON, "-m", "tests.load.seed", "seed", str(OUT / "plan.json"), "--users", str(args.users),
              "--team", str(args.team), "--records", str(args.records), "--studies", str(args.studies)],
             env, 600, "seeding")  # fmt: skip
        port = _free_port()
        host = f"http://127.0.0.1:{port}"
        server = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                  "--workers", str(args.workers), "--worker-class", args.worker_class, "--timeout", "30",
                  "--log-level", "warning", "--error-logfile", "-"]  # fmt: skip
        if args.worker_class == "gthread":
            server += ["--threads", str(args.threads)]
        print(f"· gunicorn at {host}: {args.workers} {args.worker_class} worker(s); Celery worker", flush=True)
        started = processes.start("gunicorn", server, env)
        # The worker at a lower CPU priority, as a deployment on one machine should run it: its bursts (a priority
        # model retrained on a review's records) then wait for the reviewers' requests, not the other way round.
        worker = ["nice", "-n", "10", PYTHON, "-m", "celery", "-A", "config", "worker", "--concurrency", "1",
                  "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]  # fmt: skip
        processes.start("celery", worker, env)
        _wait_ready(f"{host}/healthz", started)
        print(f"· locust: {args.users} reviewers for {args.seconds} s", flush=True)
        locust = [PYTHON, "-m", "locust", "-f", str(ROOT / "tests/load/locustfile.py"), "--headless",
                  "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
                  "--run-time", f"{args.seconds + LOGIN_BUDGET}s", "--host", host, "--csv", str(OUT / "load"),
                  "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING",
                  "--exit-code-on-error", "0"]  # fmt: skip
        runner = processes.start("locust", locust, env)
        try:
            code = runner.wait(timeout=args.seconds + LOGIN_BUDGET + 60)
        except subprocess.TimeoutExpired as exc:
            raise SystemExit(f"locust still running {args.seconds + LOGIN_BUDGET + 60} s after it started") from exc
        if code != 0:
            raise SystemExit(f"locust stopped with {code}; see {OUT / 'locust.log'}")
        cpu = processes.cpu_seconds()
    except KeyboardInterrupt:
        print("Interrupted: stopping the server, the worker and locust.", file=sys.stderr)
        return 130
    finally:
        processes.stop()
    problems = _verify(args, env)
    print("CPU used (s): " + ", ".join(f"{name} {seconds:.0f}" for name, seconds in cpu.items()) + " (logins included)")
    for problem in problems:
        print(f"FAIL: {problem}")
    print("PASS" if not problems else f"{len(problems)} check(s) failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
