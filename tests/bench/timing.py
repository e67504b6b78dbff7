"""Timing for benchmarks: each benchmark prints its cost as a ratio against a baseline measured in the same
run, so the figure does not depend on the machine. Nothing here asserts a time."""

import statistics
import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], *, repeat: int = 7, number: int = 20) -> float:
    """Median over `repeat` rounds of the mean seconds per call in a round of `number` calls."""
    fn()  # warm caches, compile templates, open connections
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds)


def report(name: str, measured: float, baseline: float, baseline_name: str) -> float:
    ratio = measured / baseline
    print(
        f"\n[bench] {name}: {measured * 1000:.2f} ms = {ratio:.1f} × {baseline_name} ({baseline * 1000:.3f} ms)",
        flush=True,
    )
    return ratio
