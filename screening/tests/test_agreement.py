"""Tests for screening.agreement: kappa, its confidence interval, PABAK and percent agreement."""

import math
import random

import pytest

from screening.agreement import Z_95, Agreement, agreement

LABELS = ("include", "exclude", "maybe")


def pairs_from_table(table: list[list[int]], labels: tuple[str, ...] = LABELS) -> list[tuple[str, str]]:
    """Expand a count table (rows: reviewer A, columns: reviewer B) into one pair per record."""
    return [(labels[i], labels[j]) for i, row in enumerate(table) for j, count in enumerate(row) for _ in range(count)]


def seeded(seed: int) -> random.Random:
    """Reproducible generator for test data."""
    return random.Random(seed)  # noqa: S311 - simulation, not cryptography


def se_from_ci(result: Agreement) -> float:
    """Recover the standard error from an unclipped 95% interval."""
    assert result.kappa_ci is not None
    low, high = result.kappa_ci
    assert -1 < low and high < 1, "interval is clipped; the SE cannot be recovered"
    return (high - low) / (2 * Z_95)


def delta_method_se(table: list[list[int]]) -> float:
    """Independent SE reference: delta method for the multinomial, with a numerical gradient of kappa."""
    n = sum(map(sum, table))
    size = len(table)
    p = [[count / n for count in row] for row in table]

    def kappa_of(q: list[list[float]]) -> float:
        total = sum(map(sum, q))
        po = sum(q[i][i] for i in range(size)) / total
        pe = sum(sum(q[i]) * sum(row[i] for row in q) for i in range(size)) / total**2
        return (po - pe) / (1 - pe)

    h = 1e-6
    gradient = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(size):
            up = [row[:] for row in p]
            down = [row[:] for row in p]
            up[i][j] += h
            down[i][j] -= h
            gradient[i][j] = (kappa_of(up) - kappa_of(down)) / (2 * h)
    mean = sum(p[i][j] * gradient[i][j] for i in range(size) for j in range(size))
    second = sum(p[i][j] * gradient[i][j] ** 2 for i in range(size) for j in range(size))
    return math.sqrt((second - mean**2) / n)


# Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions (3rd ed.), Table 18.1, as counts of 100.
FLEISS_TABLE = [[44, 7, 9], [5, 20, 0], [1, 3, 11]]
# The SAS PROC FREQ example that statsmodels' test suite checks its cohens_kappa against.
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]


class TestKappaMatchesSklearn:
    @pytest.fixture(autouse=True)
    def _sklearn(self) -> None:
        self.cohen_kappa_score = pytest.importorskip("sklearn.metrics").cohen_kappa_score

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            (
                ["include", "exclude", "exclude", "maybe", "include"],
                ["include", "exclude", "maybe", "maybe", "exclude"],
            ),
            (["include", "include", "exclude", "exclude"], ["exclude", "exclude", "include", "include"]),
            (["include", "exclude", "maybe"] * 4, ["include", "exclude", "maybe"] * 4),
            (["exclude"] * 9 + ["include"], ["exclude"] * 8 + ["include", "include"]),
        ],
    )
    def test_hand_made(self, a: list[str], b: list[str]) -> None:
        assert agreement(zip(a, b, strict=True)).kappa == pytest.approx(self.cohen_kappa_score(a, b), abs=1e-12)

    @pytest.mark.parametrize("seed", range(8))
    def test_random(self, seed: int) -> None:
        rng = seeded(seed)
        labels = LABELS[: 2 + seed % 2]
        weights = [rng.random() for _ in labels]
        n = rng.randint(20, 400)
        a = rng.choices(labels, weights, k=n)
        b = [x if rng.random() < rng.random() else rng.choice(labels) for x in a]
        assert agreement(zip(a, b, strict=True)).kappa == pytest.approx(self.cohen_kappa_score(a, b), abs=1e-12)

    def test_unused_categories_do_not_change_kappa(self) -> None:
        a, b = ["include", "exclude", "exclude"], ["include", "include", "exclude"]
        result = agreement(zip(a, b, strict=True), categories=LABELS)
        assert result.kappa == pytest.approx(self.cohen_kappa_score(a, b, labels=list(LABELS)), abs=1e-12)


class TestStandardError:
    def test_published_sas_example(self) -> None:
        # SAS output: Kappa 0.4842, ASE 0.1380, 95% confidence limits 0.2137 and 0.7547.
        result = agreement(pairs_from_table(SAS_TABLE))
        assert result.records == 19
        assert result.kappa == pytest.approx(0.4842, abs=5e-5)
        assert se_from_ci(result) == pytest.approx(0.1380, abs=5e-5)
        assert result.kappa_ci == pytest.approx((0.2137, 0.7547), abs=5e-5)

    def test_fleiss_levin_paik_table(self) -> None:
        result = agreement(pairs_from_table(FLEISS_TABLE))
        # po = .75; marginals (.60, .25, .15) and (.50, .30, .20) give pe = .405, so kappa = .345 / .595.
        assert result.percent_agreement == pytest.approx(75.0)
        assert result.kappa == pytest.approx(69 / 119, abs=1e-12)
        assert se_from_ci(result) == pytest.approx(0.0714493, abs=5e-7)
        assert se_from_ci(result) == pytest.approx(delta_method_se(FLEISS_TABLE), rel=1e-6)

    @pytest.mark.parametrize("seed", range(5))
    def test_matches_delta_method_on_random_tables(self, seed: int) -> None:
        rng = seeded(seed)
        table = [[rng.randint(0, 30) + (40 if i == j else 0) for j in range(3)] for i in range(3)]
        assert se_from_ci(agreement(pairs_from_table(table))) == pytest.approx(delta_method_se(table), rel=1e-6)

    def test_ci_coverage_by_simulation(self) -> None:
        cells = [(LABELS[i], LABELS[j]) for i in range(3) for j in range(3)]
        weights = [FLEISS_TABLE[i][j] for i in range(3) for j in range(3)]
        true_kappa = 69 / 119
        rng = seeded(20240601)
        replicates = 2000
        covered = 0
        for _ in range(replicates):
            ci = agreement(rng.choices(cells, weights, k=200)).kappa_ci
            assert ci is not None
            covered += ci[0] <= true_kappa <= ci[1]
        assert 0.92 <= covered / replicates <= 0.975

    def test_ci_is_clipped(self) -> None:
        # Near-perfect agreement on few records: kappa + 1.96 SE would exceed 1.
        result = agreement([("include", "include")] * 3 + [("exclude", "exclude")] * 3 + [("include", "exclude")])
        assert result.kappa is not None and result.kappa_ci is not None
        assert result.kappa_ci[1] == 1.0
        assert -1.0 <= result.kappa_ci[0] < result.kappa


class TestPabakAndPercent:
    @pytest.mark.parametrize("table", [[[10, 3], [2, 5]], [[0, 4], [6, 0]], [[20, 0], [0, 0]], [[1, 9], [0, 30]]])
    def test_two_categories_is_2po_minus_1(self, table: list[list[int]]) -> None:
        result = agreement(pairs_from_table(table, ("include", "exclude")), categories=("include", "exclude"))
        po = (table[0][0] + table[1][1]) / sum(map(sum, table))
        assert result.pabak == pytest.approx(2 * po - 1)
        assert result.percent_agreement == pytest.approx(100 * po)

    def test_three_categories(self) -> None:
        result = agreement(pairs_from_table(FLEISS_TABLE))
        assert result.pabak == pytest.approx((3 * 0.75 - 1) / 2)  # 0.625

    def test_k_comes_from_the_given_categories(self) -> None:
        pairs = [("include", "include"), ("include", "exclude"), ("exclude", "exclude"), ("exclude", "exclude")]
        assert agreement(pairs).pabak == pytest.approx(0.5)  # k = 2 labels seen
        assert agreement(pairs, categories=LABELS).pabak == pytest.approx((3 * 0.75 - 1) / 2)

    def test_counts_and_percent(self) -> None:
        pairs = iter([("include", "include"), ("maybe", "exclude"), ("exclude", "exclude"), ("maybe", "maybe")])
        result = agreement(pairs)  # any iterable, consumed once
        assert result.records == 4
        assert result.percent_agreement == pytest.approx(75.0)


class TestEdgeCases:
    def test_empty(self) -> None:
        assert agreement([]) == Agreement(records=0, percent_agreement=None, kappa=None, kappa_ci=None, pabak=None)
        assert agreement([], categories=LABELS).records == 0

    def test_everyone_in_one_category(self) -> None:
        result = agreement([("exclude", "exclude")] * 12)
        assert result == Agreement(records=12, percent_agreement=100.0, kappa=None, kappa_ci=None, pabak=1.0)
        assert agreement([("exclude", "exclude")] * 12, categories=LABELS).kappa is None

    def test_one_reviewer_uses_one_category(self) -> None:
        # Reviewer A excludes everything: observed agreement equals chance agreement, so kappa is exactly 0
        # and, since that holds for every possible sample, its standard error is 0 too.
        pairs = [("exclude", "exclude")] * 7 + [("exclude", "include")] * 2 + [("exclude", "maybe")]
        result = agreement(pairs)
        assert result.records == 10
        assert result.percent_agreement == pytest.approx(70.0)
        assert result.kappa == pytest.approx(0.0, abs=1e-12)
        assert result.kappa_ci == pytest.approx((0.0, 0.0), abs=1e-6)
        assert result.pabak == pytest.approx((3 * 0.7 - 1) / 2)

    def test_perfect_agreement(self) -> None:
        result = agreement([("include", "include"), ("exclude", "exclude")] * 5)
        assert result.kappa == pytest.approx(1.0)
        assert result.kappa_ci == pytest.approx((1.0, 1.0))

    def test_label_outside_categories(self) -> None:
        with pytest.raises(ValueError, match=r"\['unsure'\] are not among the categories"):
            agreement([("include", "unsure"), ("exclude", "exclude")], categories=LABELS)

    def test_duplicate_categories(self) -> None:
        with pytest.raises(ValueError, match="duplicates"):
            agreement([("include", "include")], categories=["include", "include"])
