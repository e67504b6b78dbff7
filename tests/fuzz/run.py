"""Run the atheris fuzz targets (tests/fuzz/harness.py), each for a while, and say what they found.

    python -m tests.fuzz.run [--seconds N] [--target NAME|all]

Each target runs in a process of its own (libFuzzer owns the process), on a corpus under var/fuzz/corpus/<target>/
seeded from the repo's sample exports (tests/fuzz/seeds.py) and kept between runs, so that later runs start where
earlier ones stopped. An input that crashes, hangs (`-timeout`) or blows up memory (`-rss_limit_mb`) is saved under
var/fuzz/crashes/; replay it with `python -m tests.fuzz.harness TARGET var/fuzz/crashes/<file>`. Prints per target
the executions, executions per second and crashes; exits 1 if any target found one.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.seeds import REPO, seeds

VAR = REPO / "var" / "fuzz"
# A single input that takes this long is a hang; one that needs this much memory is a blow-up. Both are far
# beyond what a parser needs for the inputs libFuzzer makes (at most MAX_LEN bytes).
HANG_SECONDS = 60
RSS_LIMIT_MB = 2048
MAX_LEN = 32_768


@dataclass
class Outcome:
    target: str
    executions: int
    per_second: float
    crashes: list[str]
    returncode: int
    log: Path


def seed_corpus(target: str) -> Path:
    """The target's corpus directory, with every seed in it (named by content, so seeding twice adds nothing)."""
    corpus = VAR / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    if target == "review_json":
        from tests.fuzz.harness import review_json_seeds, setup_django

        setup_django()
        found = review_json_seeds()
    elif target == "detect":
        from tests.fuzz.seeds import all_seeds

        found = [data for _fmt, data in all_seeds()]
    else:
        found = seeds(target)
    for data in found:
        (corpus / hashlib.sha1(data, usedforsecurity=False).hexdigest()).write_bytes(data)
    return corpus


def run_target(target: str, seconds: int) -> Outcome:
    corpus = seed_corpus(target)
    crashes_dir = VAR / "crashes"
    crashes_dir.mkdir(parents=True, exist_ok=True)
    log = VAR / "logs" / f"{target}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "tests.fuzz.harness", target,
        f"-max_total_time={seconds}", f"-timeout={HANG_SECONDS}", f"-rss_limit_mb={RSS_LIMIT_MB}",
        f"-max_len={MAX_LEN}", f"-artifact_prefix={crashes_dir}/{target}-", "-print_final_stats=1", str(corpus),
    ]  # fmt: skip
    with log.open("w") as out:
        try:
            # The overall bound: libFuzzer stops itself after max_total_time, plus one input's hang time.
            finished = subprocess.run(  # noqa: S603 - our own interpreter and module
                command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, timeout=seconds + HANG_SECONDS + 120
            )
            returncode = finished.returncode
        except subprocess.TimeoutExpired:
            returncode = -1
    text = log.read_text(errors="replace")
    executions = _last_int(r"stat::number_of_executed_units:\s*(\d+)", text) or _last_int(r"Done (\d+) runs", text)
    # libFuzzer's own rate (it also covers a run stopped early by a crash); else runs over the time given.
    rate = _last_int(r"stat::average_exec_per_sec:\s*(\d+)", text)
    per_second = float(rate) if rate is not None else (executions or 0) / seconds
    crashes = re.findall(r"Test unit written to (\S+)", text)
    if returncode == -1:
        crashes.append(f"(the run did not stop within {seconds + HANG_SECONDS + 120} s; see {log})")
    elif returncode != 0 and not crashes:
        crashes.append(f"(exit status {returncode}; see {log})")
    return Outcome(target, executions or 0, per_second, crashes, returncode, log)


def _last_int(pattern: str, text: str) -> int | None:
    found = re.findall(pattern, text)
    return int(found[-1]) if found else None


def main(argv: list[str] | None = None) -> int:
    from tests.fuzz.harness import target_names

    names = target_names()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long each target runs (default 60)")
    parser.add_argument("--target", default="all", choices=[*names, "all"], help="one target, or all (default)")
    args = parser.parse_args(argv)
    chosen = names if args.target == "all" else [args.target]
    print(f"{'target':<13} {'executions':>11} {'exec/s':>8} {'crashes':>8}", flush=True)
    failed = False
    for name in chosen:
        outcome = run_target(name, args.seconds)
        print(f"{name:<13} {outcome.executions:>11,} {outcome.per_second:>8.0f} {len(outcome.crashes):>8}", flush=True)
        for crash in outcome.crashes:
            print(f"    crash: {crash}", flush=True)
        failed = failed or bool(outcome.crashes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
