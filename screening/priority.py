"""Priority screening (active learning) for title/abstract screening.

A model trained on the decisions made so far scores the records nobody has decided yet, so that the likely
relevant ones are screened first. Pure Python + scikit-learn, no Django: the caller passes texts and labels.

Labels: relevant = 1 (a title/abstract "include" or "maybe"), irrelevant = 0 ("exclude"); see `label_of`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

MIN_RELEVANT = 5
MIN_IRRELEVANT = 5

# A scorer trains on the labelled rows of the feature matrix and returns one score per row (higher = more
# likely relevant). `simulate` takes one so that the benchmark can run other models through the same loop.
Scorer = Callable[[sparse.csr_matrix, np.ndarray, np.ndarray], np.ndarray]


def document_text(title: str = "", abstract: str = "", keywords: Iterable[str] = ()) -> str:
    """The text the model reads for one record: title, abstract and keywords joined."""
    return " ".join(part for part in (title or "", abstract or "", "; ".join(keywords or ())) if part)


def label_of(decision: str) -> int:
    """1 for "include" or "maybe" (relevant), 0 for "exclude"."""
    if decision in ("include", "maybe"):
        return 1
    if decision == "exclude":
        return 0
    raise ValueError(f"unknown decision {decision!r}")


def ready(labels: Mapping[int, int] | Iterable[int]) -> bool:
    """At least 5 relevant and 5 irrelevant decisions: the point where priority screening starts."""
    values = labels.values() if isinstance(labels, Mapping) else labels
    relevant = irrelevant = 0
    for value in values:
        if value:
            relevant += 1
        else:
            irrelevant += 1
    return relevant >= MIN_RELEVANT and irrelevant >= MIN_IRRELEVANT


def vectorize(texts: Sequence[str]) -> sparse.csr_matrix:
    """TF-IDF of word unigrams and bigrams, sublinear tf, fitted on all the texts (labels play no part)."""
    for min_df in (2, 1):
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, stop_words="english", dtype=np.float32
        )
        try:
            return vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # empty vocabulary: a tiny set in which no term occurs twice
            continue
    return sparse.csr_matrix((len(texts), 1), dtype=np.float32)


def _check_both_classes(y: np.ndarray) -> None:
    if not (y.any() and not y.all()):
        raise ValueError("training needs at least one relevant and one irrelevant decision")


def logistic_scorer(features: sparse.csr_matrix, train: np.ndarray, y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.int8)
    _check_both_classes(y)
    model = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", max_iter=1000)
    model.fit(features[train], y)
    return model.predict_proba(features)[:, 1]


def default_scorer(features: sparse.csr_matrix, train: np.ndarray, y: np.ndarray) -> np.ndarray:
    return logistic_scorer(features, train, y)


def _labels_arrays(labels: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray]:
    train = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
    y = np.fromiter((1 if v else 0 for v in labels.values()), dtype=np.int8, count=len(labels))
    return train, y


def rank(texts: Sequence[str], labels: Mapping[int, int]) -> list[float]:
    """A relevance score for every text, trained on `labels` (index into texts → 1 relevant / 0 irrelevant)."""
    train, y = _labels_arrays(labels)
    return default_scorer(vectorize(texts), train, y).tolist()


def wss_at(recall: float, order_labels: Sequence[int]) -> float:
    """Work saved over sampling at `recall` (Cohen et al. 2006), for the labels in the order they were screened.

    With N records, R relevant and n the number screened (from the start of the order) until ceil(recall × R)
    relevant have been found: WSS@recall = (N − n)/N − (1 − recall). (N − n is TN + FN at that cut-off.)
    Screening in random order gives 0 on average, a perfect order (all relevant first) (N − R')/N − (1 − recall)
    with R' = ceil(recall × R).
    """
    if not 0 < recall <= 1:
        raise ValueError("recall must be in (0, 1]")
    total = len(order_labels)
    relevant = sum(1 for label in order_labels if label)
    if relevant == 0:
        raise ValueError("WSS is undefined without relevant records")
    needed = math.ceil(recall * relevant - 1e-9)
    found = 0
    for screened, label in enumerate(order_labels, start=1):
        if label:
            found += 1
            if found >= needed:
                return (total - screened) / total - (1 - recall)
    raise AssertionError("unreachable")


def recall_at(fraction: float, order_labels: Sequence[int]) -> float:
    """Share of the relevant records found after screening the first `fraction` of the order."""
    relevant = sum(1 for label in order_labels if label)
    if relevant == 0:
        raise ValueError("recall is undefined without relevant records")
    screened = math.floor(fraction * len(order_labels) + 1e-9)
    return sum(1 for label in order_labels[:screened] if label) / relevant


def default_step(total: int) -> int:
    """Decisions between two retrainings in a simulation: 1 up to 400 records, then total // 200."""
    return max(1, total // 200)


def screening_order(
    labels: Sequence[int],
    *,
    seed: int,
    texts: Sequence[str] | None = None,
    features: sparse.csr_matrix | None = None,
    scorer: Scorer | None = None,
    prior: tuple[int, int] | None = (1, 1),
    step: int | None = None,
) -> list[int]:
    """The order (indices) in which a simulated reviewer screens the records, see `simulate`."""
    total = len(labels)
    y_all = np.asarray(labels, dtype=np.int8)
    if features is None:
        if texts is None:
            raise ValueError("pass texts or features")
        features = vectorize(texts)
    score = scorer or default_scorer
    step = step or default_step(total)
    rng = np.random.default_rng(seed)

    order: list[int]
    if prior is None:
        permutation = rng.permutation(total)
        order = []
        decided: dict[int, int] = {}
        for index in permutation:
            if ready(decided):
                break
            order.append(int(index))
            decided[int(index)] = int(y_all[index])
    else:
        relevant = rng.permutation(np.flatnonzero(y_all == 1))[: prior[0]]
        irrelevant = rng.permutation(np.flatnonzero(y_all == 0))[: prior[1]]
        order = [int(i) for i in np.concatenate([relevant, irrelevant])]

    seen = np.zeros(total, dtype=bool)
    seen[order] = True
    total_relevant = int(y_all.sum())
    found = int(y_all[seen].sum())
    while len(order) < total:
        train = np.asarray(order, dtype=np.int64)
        y = y_all[train]
        pool = np.flatnonzero(~seen)
        if found == total_relevant or not (y.any() and not y.all()):
            # Nothing left to find (the rest of the order cannot change any metric), or no model possible yet:
            # take the rest in random order.
            batch = rng.permutation(pool) if found == total_relevant else rng.permutation(pool)[:step]
        else:
            scores = score(features, train, y)[pool]
            take = min(step, len(pool))
            top = np.argpartition(-scores, take - 1)[:take] if take < len(pool) else np.arange(len(pool))
            batch = pool[top[np.argsort(-scores[top], kind="stable")]]
        order.extend(int(i) for i in batch)
        seen[batch] = True
        found += int(y_all[batch].sum())
    return order


def simulate(
    texts: Sequence[str] | None,
    labels: Sequence[int],
    *,
    seed: int,
    features: sparse.csr_matrix | None = None,
    scorer: Scorer | None = None,
    prior: tuple[int, int] | None = (1, 1),
    step: int | None = None,
) -> list[int]:
    """Simulated priority screening of fully labelled records; returns the labels in the order screened."""
    order = screening_order(labels, seed=seed, texts=texts, features=features, scorer=scorer, prior=prior, step=step)
    return [int(labels[i]) for i in order]


@dataclass(frozen=True)
class Estimate:
    expected: float
    low: int
    high: int
