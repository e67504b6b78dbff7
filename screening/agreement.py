"""Agreement between two reviewers who screened the same records.

Pure Python (standard library only): percent agreement, Cohen's kappa with its large-sample
95% confidence interval, and the prevalence- and bias-adjusted kappa (PABAK).
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

#: Two-sided 95% normal quantile, 1.959963984540054.
Z_95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True)
class Agreement:
    """Agreement statistics over the records both reviewers decided."""

    records: int
    percent_agreement: float | None
    kappa: float | None
    kappa_ci: tuple[float, float] | None
    pabak: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the API's and the stored summary's shape."""
        return {
            "records": self.records,
            "percent_agreement": self.percent_agreement,
            "kappa": self.kappa,
            "kappa_ci": list(self.kappa_ci) if self.kappa_ci else None,
            "pabak": self.pabak,
        }


def agreement(pairs: Iterable[tuple[str, str]], categories: Sequence[str] | None = None) -> Agreement:
    """Agreement between reviewer A and reviewer B, given one ``(label_a, label_b)`` pair per record.

    ``categories`` is the label set (default: the sorted union of the labels seen); a label outside it
    raises ``ValueError``. PABAK uses k = len(categories), at least 2. Kappa and its interval are
    ``None`` when there are no records or when chance agreement is 1 (both reviewers used one and
    the same label for every record).
    """
    cells = Counter((a, b) for a, b in pairs)
    seen = {label for pair in cells for label in pair}
    if categories is None:
        labels = sorted(seen)
    else:
        labels = list(categories)
        if len(set(labels)) != len(labels):
            raise ValueError(f"categories contain duplicates: {labels!r}")
        unknown = seen.difference(labels)
        if unknown:
            raise ValueError(f"labels {sorted(unknown)!r} are not among the categories {labels!r}")

    n = sum(cells.values())
    if n == 0:
        return Agreement(records=0, percent_agreement=None, kappa=None, kappa_ci=None, pabak=None)

    rows: Counter[str] = Counter()  # reviewer A's marginal counts
    cols: Counter[str] = Counter()  # reviewer B's marginal counts
    for (a, b), count in cells.items():
        rows[a] += count
        cols[b] += count

    po = sum(cells[(c, c)] for c in labels) / n
    k = max(len(labels), 2)
    pabak = (k * po - 1) / (k - 1)

    chance = sum(rows[c] * cols[c] for c in labels)  # n**2 * pe, in exact integers
    if chance == n * n:
        return Agreement(records=n, percent_agreement=100 * po, kappa=None, kappa_ci=None, pabak=pabak)
    pe = chance / (n * n)
    kappa = (po - pe) / (1 - pe)
    se = _kappa_se(cells, rows, cols, n, kappa, pe)
    ci = (max(-1.0, kappa - Z_95 * se), min(1.0, kappa + Z_95 * se))
    return Agreement(records=n, percent_agreement=100 * po, kappa=kappa, kappa_ci=ci, pabak=pabak)


def _kappa_se(
    cells: Counter[tuple[str, str]], rows: Counter[str], cols: Counter[str], n: int, kappa: float, pe: float
) -> float:
    """Large-sample standard error of Cohen's kappa (not the one under the null kappa = 0).

    Fleiss JL, Cohen J, Everitt BS. Large sample standard errors of kappa and weighted kappa.
    Psychol Bull 1969;72:323-327. With p_ij the proportion of records A labelled i and B labelled j,
    p_i. and p_.j the marginals:

        var = [ sum_i p_ii (1 - (p_i. + p_.i)(1 - kappa))^2
                + (1 - kappa)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
                - (kappa - pe (1 - kappa))^2 ] / (n (1 - pe)^2)

    It is the "ASE" that SAS PROC FREQ reports for the simple kappa coefficient.
    """
    diagonal = off_diagonal = 0.0
    for (i, j), count in cells.items():  # empty cells contribute nothing
        p_ij = count / n
        if i == j:
            diagonal += p_ij * (1 - (rows[i] + cols[i]) / n * (1 - kappa)) ** 2
        else:
            off_diagonal += p_ij * ((cols[i] + rows[j]) / n) ** 2
    variance = (diagonal + (1 - kappa) ** 2 * off_diagonal - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2)
    return math.sqrt(max(variance, 0.0))  # rounding can push an exact zero slightly negative
