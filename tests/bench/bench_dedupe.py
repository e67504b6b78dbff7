"""Deduplication: quality and time on the five labelled benchmarks, and the time for 100,000 synthetic records.

Quality is pairwise, as in reviews/tests/test_dedupe.py (which asserts the targets; nothing is asserted here):
auto precision over the pairs within the auto-merged groups, recall over the gold duplicate pairs that end up in
one group of auto + pending candidates ("auto recall": auto alone). "auto sens." is record-level, as the papers
count (duplicates removed correctly / duplicates), for auto merges alone, with no person involved. Published
figures: SRA-DM 0.84-0.90 and EndNote 0.51-0.73 on the Rathbone 2015 sets, ASySD 0.95-0.99 (Hair 2023).
"pending (true)": pairs queued for a person, and how many of them the gold standard calls duplicates.

Baseline for the 100,000-record timing: normalizing and sorting the 100,000 titles, the least any title-based
deduplication must do."""

from functools import partial

import pytest

from reviews.dedupe import find_duplicates, normalize_title
from reviews.tests.test_dedupe import BENCHMARKS, load_benchmark, pairwise_quality, synthetic_records
from tests.bench.timing import per_call, report

pytestmark = pytest.mark.bench


def test_dedupe_labelled_benchmarks(shared_data):
    root = shared_data / "dedup_benchmark"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    header = (
        f"{'dataset':<19} {'records':>7} {'gold pairs':>10} {'to remove':>9} {'auto removed':>12} {'auto prec.':>10} "
        f"{'auto sens.':>10} {'pending (true)':>14} {'recall':>7} {'auto recall':>11} {'time':>7}"
    )
    lines = [header, "-" * len(header)]
    for name in BENCHMARKS:
        if not (root / name).is_dir():
            lines.append(f"{name:<19} (not found)")
            continue
        records, gold = load_benchmark(root, name)
        candidates = find_duplicates(records)
        q = pairwise_quality(len(records), gold, candidates)
        seconds = per_call(partial(find_duplicates, records), repeat=3, number=1)
        pending = f"{q.pending} ({q.pending_true})"
        lines.append(
            f"{name:<19} {q.records:>7} {q.gold_pairs:>10} {q.gold_removable:>9} {q.auto_removed:>12} "
            f"{q.auto_precision:>10.4f} {q.auto_sensitivity:>10.4f} {pending:>14} {q.recall:>7.4f} "
            f"{q.auto_recall:>11.4f} {seconds * 1000:>5.0f}ms"
        )
    print("\n[bench] deduplication on the labelled benchmarks (pairwise; targets: auto prec. >= 0.998, "
          "recall >= 0.97)\n" + "\n".join(lines), flush=True)  # fmt: skip


def test_dedupe_100k_synthetic_over_normalize_and_sort():
    records, copies = synthetic_records(100_000)
    baseline = per_call(lambda: sorted(normalize_title(r.title) for r in records), repeat=3, number=1)
    measured = per_call(lambda: find_duplicates(records), repeat=3, number=1)
    groups: dict[int, set[int]] = {}
    for original, copy in copies:
        groups.setdefault(original, {original}).add(copy)
    quality = pairwise_quality(len(records), [frozenset(g) for g in groups.values()], find_duplicates(records))
    report(
        f"find_duplicates, 100,000 synthetic records ({len(copies):,} copies; auto prec. "
        f"{quality.auto_precision:.4f}, recall {quality.recall:.4f}, {quality.pending} pending)",
        measured,
        baseline,
        "normalize and sort the titles",
    )
