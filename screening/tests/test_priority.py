"""Tests for screening.priority: WSS, the readiness rule, ranking, simulation, and the estimates of what is left.

The real labelled sets come from the shared data (`shared_data` skips, saying why, where it is absent); see
tests/bench/bench_priority.py for the full benchmark against ASReview's default models.
"""

import csv
import gzip
import io
import random
from pathlib import Path

import numpy as np
import pytest

from screening.priority import (
    Estimate,
    RelevanceModel,
    document_text,
    estimate_remaining_relevant,
    label_of,
    rank,
    ready,
    recall_at,
    remaining_from_sample,
    screening_order,
    simulate,
    vectorize,
    wss_at,
)

# (name, file under screening/, label column). Cohen 2006 has title/abstract labels (what Sieve's model learns
# from) and final (full-text) labels, which most of the literature reports on; the other sets have final ones only.
SCREENING_SETS = [
    ("Cohen Antihistamines (t/a)", "cohen2006_Antihistamines.csv", "label_abstract_screening"),
    ("Cohen Urinary Inc. (t/a)", "cohen2006_UrinaryIncontinence.csv", "label_abstract_screening"),
    ("Cohen NSAIDS (t/a)", "cohen2006_NSAIDS.csv", "label_abstract_screening"),
    ("Cohen Antihistamines (final)", "cohen2006_Antihistamines.csv", "label_included"),
    ("Cohen Urinary Inc. (final)", "cohen2006_UrinaryIncontinence.csv", "label_included"),
    ("Cohen NSAIDS (final)", "cohen2006_NSAIDS.csv", "label_included"),
    ("Kitchenham 2010", "Kitchenham_2010.csv", "label_included"),
    ("Bannach-Brown 2019", "Bannach-Brown_2019.csv.gz", "label_included"),
]


def load_screening_set(root: Path, filename: str, label_column: str) -> tuple[list[str], list[int]]:
    """Texts (title + abstract) and 0/1 labels of one systematic-review-datasets CSV (gzipped if .gz)."""
    raw = (root / filename).read_bytes()
    if filename.endswith(".gz"):
        raw = gzip.decompress(raw)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    texts = [document_text(row.get("title") or "", row.get("abstract") or "") for row in rows]
    return texts, [int(row[label_column]) for row in rows]


@pytest.fixture
def screening_root(shared_data) -> Path:
    root = shared_data / "screening"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    return root


# --- WSS and recall on hand-made orders -------------------------------------------------------------------


def test_wss_perfect_order():
    # 10 records, 2 relevant, both first: 95% of 2 needs both, so 2 screened: 8/10 - 0.05.
    assert wss_at(0.95, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(0.75)
    assert wss_at(1.0, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]) == pytest.approx(0.8)


def test_wss_worst_order():
    assert wss_at(1.0, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]) == pytest.approx(0.0)
    assert wss_at(0.95, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1]) == pytest.approx(-0.05)


def test_wss_counts_ceil_of_recall_times_relevant():
    # 20 records, 10 relevant: 95% of 10 is 9.5, so the 10th relevant (at position 14) is the cut-off;
    # 50% needs 5 (position 5).
    order = [1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    assert sum(order) == 10
    assert wss_at(0.95, order) == pytest.approx(6 / 20 - 0.05)
    assert wss_at(0.5, order) == pytest.approx(15 / 20 - 0.5)
    # 20 relevant out of 40: 0.95 x 20 = 19 exactly, so the 19th relevant is the cut-off (no float surprise).
    order = [1] * 19 + [0] * 20 + [1]
    assert wss_at(0.95, order) == pytest.approx(21 / 40 - 0.05)


def test_wss_of_random_orders_is_about_zero():
    rng = random.Random(7)  # noqa: S311 - simulation, not cryptography
    labels = [1] * 20 + [0] * 380
    values = []
    for _ in range(400):
        rng.shuffle(labels)
        values.append(wss_at(0.95, labels))
    # In a random order the k-th of R relevant records sits at k(N + 1)/(R + 1) on average; here k = 19 (95% of
    # 20), so E[WSS@95] = (400 - 19 x 401/21)/400 - 0.05 = 0.043: about zero, positive because 19/20 > 0.95.
    expected = (400 - 19 * 401 / 21) / 400 - 0.05
    assert expected == pytest.approx(0.043, abs=0.001)
    assert abs(sum(values) / len(values) - expected) < 0.015


def test_wss_rejects_bad_input():
    with pytest.raises(ValueError):
        wss_at(0.95, [0, 0, 0])
    with pytest.raises(ValueError):
        wss_at(0, [1, 0])
    with pytest.raises(ValueError):
        wss_at(1.5, [1, 0])


def test_recall_at():
    order = [1, 0, 1, 0, 0, 0, 0, 1, 0, 0]
    assert recall_at(0.1, order) == pytest.approx(1 / 3)
    assert recall_at(0.25, order) == pytest.approx(1 / 3)  # floor(2.5) = 2 screened
    assert recall_at(0.3, order) == pytest.approx(2 / 3)
    assert recall_at(1.0, order) == 1.0


# --- labels and readiness ----------------------------------------------------------------------------------


def test_label_of():
    assert [label_of(d) for d in ("include", "maybe", "exclude")] == [1, 1, 0]
    with pytest.raises(ValueError):
        label_of("conflict")


def test_ready_needs_five_of_each():
    assert not ready({})
    assert not ready({i: 1 for i in range(5)} | {i: 0 for i in range(5, 9)})
    assert not ready({i: 1 for i in range(4)} | {i: 0 for i in range(4, 100)})
    assert ready({i: 1 for i in range(5)} | {i: 0 for i in range(5, 10)})
    assert ready([1, 0] * 5)
    assert not ready([1] * 50)


# --- ranking -----------------------------------------------------------------------------------------------

RELEVANT_WORDS = "ketamine opioid cancer pain adjuvant analgesia randomised morphine".split()
OTHER_WORDS = "wheat yield soil nitrogen irrigation drought harvest fertilizer crop rotation".split()
COMMON_WORDS = "study results patients effect trial data analysis group outcome method".split()


def synthetic_texts(n_relevant: int, n_other: int, seed: int) -> tuple[list[str], list[int]]:
    """Relevant texts draw from cancer-pain words, the others from agronomy words; all share common words."""
    rng = random.Random(seed)  # noqa: S311 - simulation, not cryptography
    texts, labels = [], []
    for label, words, n in ((1, RELEVANT_WORDS, n_relevant), (0, OTHER_WORDS, n_other)):
        for _ in range(n):
            texts.append(" ".join(rng.choices(words, k=6) + rng.choices(COMMON_WORDS, k=20)))
            labels.append(label)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


def test_rank_puts_the_obviously_relevant_first():
    texts, labels = synthetic_texts(15, 185, seed=1)
    decided: dict[int, int] = {}
    for i, label in enumerate(labels):  # the first 5 of each class are decided
        if sum(1 for v in decided.values() if v == label) < 5:
            decided[i] = label
    assert ready(decided)
    scores = rank(texts, decided)
    assert len(scores) == len(texts)
    undecided = sorted((i for i in range(len(texts)) if i not in decided), key=lambda i: -scores[i])
    assert all(labels[i] == 1 for i in undecided[:10])  # the 10 relevant left come first
    assert all(labels[i] == 0 for i in undecided[10:])


def test_rank_needs_both_classes():
    with pytest.raises(ValueError, match="relevant and one irrelevant"):
        rank(["ketamine pain", "wheat yield", "ketamine opioid"], {0: 1, 2: 1})


def test_vectorize_works_on_tiny_and_empty_sets():
    assert vectorize(["only one text here"]).shape[0] == 1  # no term occurs twice: all terms are kept
    assert vectorize(["", ""]).shape == (2, 1)
    features = vectorize(["ketamine pain", "wheat yield", "ketamine opioid pain"])
    assert features.shape[0] == 3 and features.nnz > 0


def test_relevance_model_probabilities_follow_the_ranking():
    texts, labels = synthetic_texts(30, 270, seed=2)
    decided = {i: labels[i] for i in range(150)}
    model = RelevanceModel(texts).fit(decided)
    scores, probabilities = model.scores(), model.probabilities()
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    undecided = np.arange(150, 300)
    # Calibration is a monotone map of the same model's scores: by falling score, probabilities never rise.
    by_score = undecided[np.argsort(-scores[undecided], kind="stable")]
    assert np.all(np.diff(probabilities[by_score]) <= 1e-12)
    estimate = estimate_remaining_relevant(probabilities[undecided])
    truth = sum(labels[150:])
    assert estimate.low <= truth <= estimate.high  # an easy, separable set: the estimate is right here


# --- estimates of what is left -------------------------------------------------------------------------------


def test_estimate_remaining_relevant_sums_probabilities():
    estimate = estimate_remaining_relevant([0.5] * 20 + [0.0] * 100)
    assert estimate.expected == pytest.approx(10)
    assert estimate.low < 10 < estimate.high
    assert (estimate.low, estimate.high) == (4, 17)  # Poisson(10) 2.5% and 97.5% quantiles
    assert estimate_remaining_relevant([0.0] * 5) == Estimate(0.0, 0, 0)
    assert estimate_remaining_relevant([0.9, 0.9]).high <= 2


def test_remaining_from_sample():
    # 0 relevant in a random sample of 100 of 1,000 undecided: few are left, but not surely none.
    nothing = remaining_from_sample(1000, 100, 0)
    assert nothing.expected == 0 and nothing.low == 0
    assert 25 <= nothing.high <= 40  # "rule of three": about 3.7/100 x 900 at 97.5% one-sided
    some = remaining_from_sample(1000, 100, 10)
    assert some.expected == pytest.approx(90)
    assert some.low < 90 < some.high
    everything = remaining_from_sample(50, 50, 3)
    assert everything == Estimate(0.0, 0, 0)
    with pytest.raises(ValueError):
        remaining_from_sample(10, 11, 0)


# --- simulation ----------------------------------------------------------------------------------------------


def test_simulate_finds_all_relevant_early_on_a_synthetic_set():
    texts, labels = synthetic_texts(20, 380, seed=3)
    order = simulate(texts, labels, seed=0)
    assert sorted(order) == sorted(labels) and len(order) == 400
    last_relevant = max(i for i, label in enumerate(order) if label)
    assert last_relevant < 40  # all 20 relevant within the first 10% of the records
    assert wss_at(0.95, order) > 0.8


def test_simulate_is_a_permutation_and_reproducible():
    texts, labels = synthetic_texts(10, 90, seed=4)
    first = screening_order(labels, seed=5, texts=texts)
    assert sorted(first) == list(range(100))
    assert screening_order(labels, seed=5, texts=texts) == first
    assert labels[first[0]] == 1 and labels[first[1]] == 0  # prior knowledge: one relevant, one irrelevant


def test_simulate_product_start_screens_randomly_until_ready():
    texts, labels = synthetic_texts(10, 90, seed=6)
    order = screening_order(labels, seed=1, texts=texts, prior=None, step=1)
    random_start = 0
    while not ready([labels[i] for i in order[:random_start]]):
        random_start += 1
    assert sum(labels[i] for i in order[:random_start]) == 5
    # After the random start, the 10 - 5 remaining relevant come next (the synthetic set is separable).
    assert [labels[i] for i in order[random_start : random_start + 5]] == [1] * 5


@pytest.mark.parametrize(
    ("filename", "label_column", "min_wss", "min_recall_at_half"),
    [
        # The smallest shared set. On title/abstract labels 3 seeds gave WSS@95 0.11-0.13 and recall after
        # screening half of it 0.75-0.82 (random: 0.5). On its final labels (16 relevant, 2 of them hard to find)
        # WSS@95 is -0.02 with every model tried, ASReview's included, as Cohen et al. 2006 also found.
        ("cohen2006_Antihistamines.csv", "label_abstract_screening", 0.05, 0.65),
        # The next smallest, final labels: 0.52-0.57.
        ("cohen2006_UrinaryIncontinence.csv", "label_included", 0.4, 0.85),
    ],
)
def test_simulate_on_real_data_saves_work(screening_root, filename, label_column, min_wss, min_recall_at_half):
    if not (screening_root / filename).is_file():
        pytest.skip(f"{screening_root / filename} not found")
    texts, labels = load_screening_set(screening_root, filename, label_column)
    order = simulate(texts, labels, seed=0)
    assert wss_at(0.95, order) > min_wss
    assert recall_at(0.5, order) > min_recall_at_half
