"""The whole import of a 100,000-record RIS file (parse, normalize, deduplicate, store in PostgreSQL) against
`rispy.load` on the same file, in the same run: time ratio (bound: 3) and peak-memory ratio (bound: 2).

Each side runs in a fresh process so that peak memory (max RSS) is its own. PostgreSQL is taken from
DATABASE_URL, else postgres://postgres@127.0.0.1:5432/sieve_bench if it answers, else SQLite (said so)."""

import os
import statistics
import subprocess
import sys
from pathlib import Path

from tests.bench.ris_corpus import write_ris

ROOT = Path(__file__).resolve().parents[2]
RECORDS = int(os.environ.get("SIEVE_BENCH_RECORDS", "100000"))


def _measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of a child process."""
    script = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "elapsed = time.perf_counter() - t; "
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
        "sys.stderr.write(r.stderr); print(f'{elapsed} {peak} {r.returncode}'); print(r.stdout)"
    )
    out = subprocess.run([sys.executable, "-c", script, *argv], env=env, capture_output=True, text=True, cwd=ROOT)
    first, _, rest = out.stdout.partition("\n")
    elapsed, peak, code = first.split()
    assert code == "0", out.stderr[-3000:]
    return float(elapsed), float(peak), rest.strip()


def _database_url() -> tuple[str, str]:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], "PostgreSQL (DATABASE_URL)"
    url = "postgres://postgres@127.0.0.1:5432/sieve_bench"
    probe = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "select 1"], capture_output=True)
    if probe.returncode == 0:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "sieve_bench"], capture_output=True)
        return url, "PostgreSQL 127.0.0.1"
    return "", "SQLite (no PostgreSQL answered)"


def test_import_100k_ris_against_rispy(tmp_path):
    path = write_ris(tmp_path / "bench.ris", RECORDS)
    size_mb = path.stat().st_size / 1024 / 1024
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    # rispy.load is cheap: take the median of three runs, so one noisy run does not move the ratio.
    runs = [
        _measured(
            [sys.executable, "-c", f"import rispy; print(len(rispy.load(open({str(path)!r}, encoding='utf-8'))))"], env
        )
        for _ in range(3)
    ]
    assert all(int(count) == RECORDS for _, _, count in runs)
    rispy_time = statistics.median(t for t, _, _ in runs)
    rispy_peak = statistics.median(p for _, p, _ in runs)
    database_url, database = _database_url()
    env_import = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.local", "SIEVE_VAR_DIR": str(tmp_path / "var")}
    env_import.pop("REDIS_URL", None)
    if database_url:
        env_import["DATABASE_URL"] = database_url
    else:
        env_import.pop("DATABASE_URL", None)
    wall, peak, out = _measured([sys.executable, "tests/bench/import_run.py", str(path)], env_import)
    inner, added, duplicates = out.split()[-3:]
    assert int(added) == RECORDS
    print(
        f"\n[bench] import of {RECORDS:,} RIS records ({size_mb:.0f} MB) into {database}:\n"
        f"        rispy.load: {rispy_time:.1f} s (median of 3), peak {rispy_peak:.0f} MB\n"
        f"        Sieve import (parse, normalize, store, deduplicate): {float(inner):.1f} s "
        f"({wall:.1f} s with Django start-up and migrate), peak {peak:.0f} MB, {int(duplicates):,} duplicates found\n"
        f"        time ratio {float(inner) / rispy_time:.2f} (bound 3), memory ratio {peak / rispy_peak:.2f} (bound 2)",
        flush=True,
    )
