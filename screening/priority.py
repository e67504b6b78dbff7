"""Priority screening (active learning) for title/abstract screening.

A model trained on the decisions made so far scores the records nobody has decided yet, so that the likely
relevant ones are screened first. Pure Python + scikit-learn, no Django: callers pass texts and labels.

Labels: relevant = 1 (a title/abstract "include" or "maybe", see `label_of`), irrelevant = 0 ("exclude").
Labels are given as a mapping from the index of a record in `texts` to its label; the other records are undecided.

Model (chosen by measurement; tests/bench/bench_priority.py is the benchmark):

* Features: TF-IDF of word unigrams + bigrams, sublinear tf, no stop-word list, terms in at least 2 records
  (all terms when no term occurs twice, so tiny sets work), fitted on all texts (labels play no part).
  Terms are hashed (2**22 buckets) and the buckets in use then compacted: memory stays bounded on large reviews,
  it is ~1.5x faster than a vocabulary, and it ranks as well (mean WSS@95 0.387 vs 0.385 with a vocabulary).
* Classifier: logistic regression, class_weight="balanced", C=1 (liblinear).
  Measured: mean WSS@95 over 8 labelled sets (Cohen 2006 x3 with title/abstract and with final labels,
  Kitchenham 2010, Bannach-Brown 2019; prior knowledge 1 relevant + 1 irrelevant, 3 seeds, retraining every
  max(1, N/200) decisions), vocabulary TF-IDF with the settings above: logistic 0.393, linear SVM (balanced,
  C=0.1) 0.393, SGD modified-Huber (balanced) 0.341, multinomial NB alpha=0.1 0.267, complement NB 0.149;
  with English stop words removed: logistic 0.370, multinomial NB alpha=3.822 0.140. Logistic ties the SVM and
  gives probabilities, so it is the one. C = 0.3, 1, 3, 10 all came within 0.01 of each other; keeping stop
  words helped (0.395 vs 0.373: bigrams such as "in rats" or "systematic review" carry signal).
  In the benchmark, run through the same loop, it averaged WSS@95 0.387 against 0.339 for ASReview 1.x's default
  (NB + double balance) and 0.351 for ASReview 2.x's default (ELAS u4, linear SVM), re-implemented there.

Speed (the benchmark, 2 cores, 100,000 abstract-like texts of ~1,450 characters): `vectorize` takes ~25 s and
~0.7 GB at its peak (it is tokenizing; cache the matrix while the set of records does not change); fitting and
scoring every record then takes 0.3 s with 1,000 decisions, 0.7-0.8 s with 10,000 and 5.5 s with 50,000; the
calibrated probabilities for `estimate_remaining_relevant` take 0.6 s / 3-4 s / 21-25 s more (5 cross-validation
fits + calibration).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize

MIN_RELEVANT = 5
MIN_IRRELEVANT = 5
HASH_FEATURES = 2**22
CHUNK = 10_000  # texts hashed at a time

# A scorer trains on the labelled rows (`train`, labels `y`) of a feature matrix and returns one score per row
# (higher = more likely relevant). `simulate` takes one so that the benchmark can run other models in the same loop.
Scorer = Callable[[sparse.csr_matrix, np.ndarray, np.ndarray], np.ndarray]


def document_text(title: str = "", abstract: str = "", keywords: Iterable[str] = ()) -> str:
    """The text the model reads for one record: title, abstract and keywords joined."""
    return " ".join(part for part in (title or "", abstract or "", "; ".join(keywords or ())) if part)


def label_of(decision: str) -> int:
    """1 for a title/abstract "include" or "maybe" (relevant), 0 for "exclude"."""
    if decision in ("include", "maybe"):
        return 1
    if decision == "exclude":
        return 0
    raise ValueError(f"unknown decision {decision!r}")


def ready(labels: Mapping[int, int] | Iterable[int]) -> bool:
    """At least 5 relevant and 5 irrelevant decisions: from here on the records are served in priority order."""
    values = labels.values() if isinstance(labels, Mapping) else labels
    relevant = irrelevant = 0
    for value in values:
        if value:
            relevant += 1
        else:
            irrelevant += 1
    return relevant >= MIN_RELEVANT and irrelevant >= MIN_IRRELEVANT


def vectorize(texts: Sequence[str]) -> sparse.csr_matrix:
    """TF-IDF (word 1-2 grams, sublinear tf) of every text, one row per text; see the module docstring.

    The same numbers as scikit-learn's TfidfTransformer(sublinear_tf=True) on the kept columns, computed in chunks
    and in place: for 100,000 abstracts it peaks at ~0.7 GB (besides the texts) instead of ~1.1 GB."""
    hasher = HashingVectorizer(
        ngram_range=(1, 2), alternate_sign=False, norm=None, n_features=HASH_FEATURES, dtype=np.float32
    )
    chunks = []
    document_frequency = np.zeros(HASH_FEATURES, dtype=np.int64)
    for start in range(0, len(texts), CHUNK):
        chunk = sparse.csr_matrix(hasher.transform(texts[start : start + CHUNK]))
        document_frequency += np.bincount(chunk.indices, minlength=HASH_FEATURES)
        chunks.append(chunk)
    columns = np.flatnonzero(document_frequency >= 2)
    if len(columns) == 0:  # a tiny set in which no term occurs twice
        columns = np.flatnonzero(document_frequency >= 1)
    if len(columns) == 0:  # no words at all
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)
    for i, chunk in enumerate(chunks):
        chunks[i] = chunk[:, columns]
    features = sparse.csr_matrix(sparse.vstack(chunks, format="csr"))
    del chunks
    idf = (np.log((1 + len(texts)) / (1 + document_frequency[columns])) + 1).astype(np.float32)  # smooth idf
    np.log(features.data, out=features.data)
    features.data += 1  # sublinear tf: 1 + log(count)
    features.data *= idf[features.indices]
    return sparse.csr_matrix(normalize(features, copy=False))


def _as_arrays(labels: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray]:
    train = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
    y = np.fromiter((1 if value else 0 for value in labels.values()), dtype=np.int8, count=len(labels))
    if not (y.any() and not y.all()):
        raise ValueError("training needs at least one relevant and one irrelevant decision")
    return train, y


def _classifier() -> LogisticRegression:
    return LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear")


class RelevanceModel:
    """Logistic regression on the TF-IDF features of all records of a review.

    `RelevanceModel(texts).fit(labels)` then `scores()` for the ranking and `probabilities()` for the estimate of
    what is left. Pass `features=` (from `vectorize`) instead of texts to reuse a cached matrix.
    """

    def __init__(self, texts: Sequence[str] | None = None, *, features: sparse.csr_matrix | None = None) -> None:
        if features is None:
            if texts is None:
                raise ValueError("pass texts or features")
            features = vectorize(texts)
        self.features = features
        self._train: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._model: LogisticRegression | None = None

    def fit(self, labels: Mapping[int, int]) -> RelevanceModel:
        self._train, self._y = _as_arrays(labels)
        self._model = _classifier().fit(self.features[self._train], self._y)
        return self

    def scores(self) -> np.ndarray:
        """Ranking score of every record (decided ones too): the balanced model's probability of relevance.

        Class weighting inflates it (as if half of all records were relevant): use it to order, not to count."""
        if self._model is None:
            raise RuntimeError("fit the model first")
        return self._model.predict_proba(self.features)[:, 1]

    def probabilities(self) -> np.ndarray:
        """Probability of relevance of every record, calibrated on the decisions made (Platt scaling).

        Sigmoid calibration of the same classifier on 5-fold cross-validated scores of the decided records
        (fewer folds when there are fewer than 5 of a class); with a single relevant or irrelevant decision, the
        balanced model's probability corrected for the weighting (log-odds shifted by log(relevant/irrelevant)).
        The order of the records is the order of `scores`."""
        if self._train is None or self._y is None or self._model is None:
            raise RuntimeError("fit the model first")
        relevant = int(self._y.sum())
        irrelevant = len(self._y) - relevant
        folds = min(5, relevant, irrelevant)
        if folds < 2:
            return expit(self._model.decision_function(self.features) + math.log(relevant / irrelevant))
        calibrated = CalibratedClassifierCV(
            _classifier(), method="sigmoid", cv=StratifiedKFold(folds, shuffle=True, random_state=0), ensemble=False
        ).fit(self.features[self._train], self._y)
        return calibrated.predict_proba(self.features)[:, 1]


def rank(texts: Sequence[str], labels: Mapping[int, int]) -> list[float]:
    """A relevance score for every text (see `RelevanceModel.scores`), trained on `labels`.

    Needs at least one relevant and one irrelevant label (ValueError otherwise); the product serves records in
    this order only once `ready(labels)`."""
    return RelevanceModel(texts).fit(labels).scores().tolist()


@dataclass(frozen=True)
class Estimate:
    """Relevant records still unseen: a point estimate and a range [low, high] at the requested level."""

    expected: float
    low: int
    high: int


def estimate_remaining_relevant(
    probabilities_of_undecided: Sequence[float] | np.ndarray, *, level: float = 0.95
) -> Estimate:
    """How many relevant records are left among the undecided, from the model's calibrated probabilities.

    Method: the expected count is the sum of the probabilities (`RelevanceModel.probabilities` of the undecided
    records); the range is the central `level` interval of a Poisson distribution with that mean, which is the
    count's distribution if the records were independent and the probabilities right (a Poisson is a slightly
    wider stand-in for the exact Poisson-binomial).

    Limits, and they are large: the range only covers chance, not the model being wrong, and it is wrong. The
    decided records are the ones the model pushed to the top, so they are no random sample, and what was learnt
    on them carries over badly to the records at the bottom. In the benchmark (tests/bench/bench_priority.py,
    8 sets, at 10% and 25% screened and where 95% of the relevant had been found) the truth fell inside the range
    5 times out of 24; the other 19 times the estimate was too high, often several-fold early on (Kitchenham, 10%
    screened: 125 estimated, 13 left) and 11-24x near the end on three sets (2 left, 22-47 estimated). It never came
    out too low there, but a variant (ensemble calibration) did (7 estimated, 14 left on Bannach-Brown 2019),
    so the direction is not guaranteed either. Use it to say that many relevant records are probably left, never
    to decide that screening can stop: for that, screen a random sample of the undecided records and use
    `remaining_from_sample`.
    """
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    probabilities = np.clip(np.asarray(probabilities_of_undecided, dtype=np.float64), 0.0, 1.0)
    expected = float(probabilities.sum())
    if expected == 0:
        return Estimate(0.0, 0, 0)
    tail = (1 - level) / 2
    low, high = stats.poisson.ppf([tail, 1 - tail], expected)
    return Estimate(expected, int(low), min(int(high), len(probabilities)))


def remaining_from_sample(
    undecided: int, sample_size: int, relevant_in_sample: int, *, level: float = 0.95
) -> Estimate:
    """Relevant records left after screening a simple random sample of the undecided records.

    `undecided` records were undecided when `sample_size` of them were drawn at random (without replacement)
    and screened, and `relevant_in_sample` of those were relevant. Returns the estimate for the
    `undecided - sample_size` records still unseen: expected = rate in the sample x unseen, and the exact
    (hypergeometric, Clopper-Pearson-style) central `level` interval, minus the relevant already found. Unlike
    `estimate_remaining_relevant` this makes no assumption about the model, only that the sample was random.
    """
    if not 0 < sample_size <= undecided or not 0 <= relevant_in_sample <= sample_size:
        raise ValueError("need 0 < sample_size <= undecided and 0 <= relevant_in_sample <= sample_size")
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    unseen = undecided - sample_size
    tail = (1 - level) / 2
    # Total relevant K among the undecided: every K in [found, found + unseen] is possible.
    totals = np.arange(relevant_in_sample, relevant_in_sample + unseen + 1)
    at_most = stats.hypergeom.cdf(relevant_in_sample, undecided, totals, sample_size)  # P(X <= k | K), falls in K
    at_least = stats.hypergeom.sf(relevant_in_sample - 1, undecided, totals, sample_size)  # P(X >= k | K), rises
    high = int(totals[at_most > tail].max())
    low = int(totals[at_least > tail].min())
    return Estimate(relevant_in_sample / sample_size * unseen, low - relevant_in_sample, high - relevant_in_sample)


def wss_at(recall: float, order_labels: Sequence[int]) -> float:
    """Work saved over sampling at `recall` (Cohen et al. 2006), for the labels of all records in screening order.

    With N records, R of them relevant, and n the number screened (from the start of the order) until
    ceil(recall x R) relevant have been found: WSS@recall = (N - n)/N - (1 - recall), where N - n = TN + FN at
    that cut-off and `recall` is the nominal level. A random order gives about 0; the best possible order (all
    relevant first) gives (N - ceil(recall x R))/N - (1 - recall); the worst (all relevant last) gives about
    recall - 1 (exactly (R - ceil(recall x R))/N - (1 - recall)).
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
    raise AssertionError("unreachable: needed <= relevant")


def recall_at(fraction: float, order_labels: Sequence[int]) -> float:
    """Share of the relevant records found among the first floor(fraction x N) records of the order."""
    relevant = sum(1 for label in order_labels if label)
    if relevant == 0:
        raise ValueError("recall is undefined without relevant records")
    screened = math.floor(fraction * len(order_labels) + 1e-9)
    return sum(1 for label in order_labels[:screened] if label) / relevant


def default_step(total: int) -> int:
    """Decisions between two retrainings in a simulation: 1% of the records (at least 1), so at most ~100 fits.

    Measured with the logistic model: retraining after every 1, 5, 10 or 20 decisions gave the same WSS@95 within
    0.02 (the spread between seeds) on NSAIDS (393 records), Kitchenham (1,704) and Bannach-Brown (1,993)."""
    return max(1, total // 100)


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
    """The order (indices) in which the simulated reviewer screens the records; see `simulate`."""
    total = len(labels)
    y_all = np.asarray(labels, dtype=np.int8)
    if features is None:
        if texts is None:
            raise ValueError("pass texts or features")
        features = vectorize(texts)
    score = scorer or _default_scorer
    step = step or default_step(total)
    rng = np.random.default_rng(seed)

    order: list[int] = []
    if prior is None:  # the product: records in random order until ready()
        decided: dict[int, int] = {}
        for index in rng.permutation(total):
            if ready(decided):
                break
            order.append(int(index))
            decided[int(index)] = int(y_all[index])
    else:  # ASReview's prior knowledge: random relevant and irrelevant records first
        relevant = rng.permutation(np.flatnonzero(y_all == 1))[: prior[0]]
        irrelevant = rng.permutation(np.flatnonzero(y_all == 0))[: prior[1]]
        order = [int(i) for i in np.concatenate([relevant, irrelevant])]

    seen = np.zeros(total, dtype=bool)
    seen[order] = True
    left = int(y_all.sum()) - int(y_all[seen].sum())
    while len(order) < total:
        pool = np.flatnonzero(~seen)
        train = np.asarray(order, dtype=np.int64)
        y = y_all[train]
        if left == 0:
            # Every relevant record has been found: the rest of the order cannot change any metric.
            batch = rng.permutation(pool)
        elif not (y.any() and not y.all()):
            batch = rng.permutation(pool)[:step]  # no model possible yet (only possible with prior=None)
        else:
            scores = np.asarray(score(features, train, y))[pool]
            take = min(step, len(pool))
            top = np.argpartition(-scores, take - 1)[:take] if take < len(pool) else np.arange(len(pool))
            batch = pool[top[np.argsort(-scores[top], kind="stable")]]
        order.extend(int(i) for i in batch)
        seen[batch] = True
        left -= int(y_all[batch].sum())
    return order


def _default_scorer(features: sparse.csr_matrix, train: np.ndarray, y: np.ndarray) -> np.ndarray:
    return _classifier().fit(features[train], y).decision_function(features)


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
    """Simulated priority screening of fully labelled records; returns the labels in the order screened.

    Start: with `prior=(r, i)` (default (1, 1), ASReview's "prior knowledge"), r random relevant and i random
    irrelevant records are screened first; with `prior=None`, records come in random order until `ready` (5 + 5),
    as in the product. These first records count as screened in the order (and in WSS).
    Then, repeatedly: train on everything screened so far, and screen the `step` top-scored unscreened records
    (default `default_step`: 1% of the records, so a 100,000-record simulation trains ~100 times, not 100,000).
    Once every relevant record has been found the rest is appended in random order without training (it cannot
    change WSS or recall). `scorer` replaces Sieve's model (the benchmark runs ASReview's defaults through it),
    `features` a precomputed matrix (default `vectorize(texts)`); `seed` fixes the random choices.
    """
    order = screening_order(labels, seed=seed, texts=texts, features=features, scorer=scorer, prior=prior, step=step)
    return [int(labels[i]) for i in order]
