"""GRADE arithmetic and the domain proposals in grading.grade (pure, no database)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from grading.grade import (
    GradeInputError,
    absolute_effects,
    certainty,
    control_risk_from,
    optimal_information_size,
    propose_imprecision,
    propose_inconsistency,
    propose_publication_bias,
    propose_risk_of_bias,
)

# ---------------------------------------------------------------------------------------------------------------
# certainty()


@pytest.mark.parametrize(
    ("start", "downgrades", "upgrades", "level", "symbols"),
    [
        ("high", {}, {}, "high", "⊕⊕⊕⊕"),
        ("high", {"risk_of_bias": -1}, {}, "moderate", "⊕⊕⊕◯"),
        ("high", {"risk_of_bias": -1, "imprecision": -1}, {}, "low", "⊕⊕◯◯"),
        ("high", {"risk_of_bias": -1, "imprecision": -2}, {}, "very_low", "⊕◯◯◯"),
        ("high", {"risk_of_bias": -2, "imprecision": -2, "inconsistency": -2}, {}, "very_low", "⊕◯◯◯"),
        ("high", {}, {"large_effect": 2, "dose_response": 1}, "high", "⊕⊕⊕⊕"),
        ("low", {}, {}, "low", "⊕⊕◯◯"),
        ("low", {}, {"large_effect": 1}, "moderate", "⊕⊕⊕◯"),
        ("low", {}, {"large_effect": 2, "confounding": 1}, "high", "⊕⊕⊕⊕"),
        ("low", {"publication_bias": -1}, {}, "very_low", "⊕◯◯◯"),
        ("low", {"indirectness": -2}, {"dose_response": 1}, "very_low", "⊕◯◯◯"),
    ],
)
def test_certainty_arithmetic(
    start: str, downgrades: dict[str, int], upgrades: dict[str, int], level: str, symbols: str
) -> None:
    result = certainty(start, downgrades, upgrades)
    assert result.level == level
    assert result.symbols == symbols
    assert result.label == {"high": "High", "moderate": "Moderate", "low": "Low", "very_low": "Very low"}[level]


def test_certainty_floor_and_ceiling_keep_raw_score() -> None:
    assert certainty("high", {"risk_of_bias": -2, "imprecision": -2}, {}).raw_score == 0
    assert certainty("low", {}, {"large_effect": 2, "dose_response": 1, "confounding": 1}).raw_score == 6


@pytest.mark.parametrize(
    ("start", "downgrades", "upgrades", "message"),
    [
        ("moderate", {}, {}, "start"),
        ("high", {"risk_of_bias": -3}, {}, "risk_of_bias"),
        ("high", {"publication_bias": -2}, {}, "publication_bias"),
        ("high", {"imprecision": 1}, {}, "imprecision"),
        ("high", {"bias": -1}, {}, "unknown downgrade domain"),
        ("high", {}, {"large_effect": 3}, "large_effect"),
        ("high", {}, {"dose_response": 2}, "dose_response"),
        ("high", {}, {"confounding": -1}, "confounding"),
        ("high", {}, {"risk_of_bias": 1}, "unknown upgrade domain"),
        ("high", {"risk_of_bias": True}, {}, "risk_of_bias"),
        ("high", {"risk_of_bias": -1.0}, {}, "risk_of_bias"),
    ],
)
def test_certainty_rejects_invalid_input(
    start: str, downgrades: dict[str, Any], upgrades: dict[str, Any], message: str
) -> None:
    with pytest.raises(GradeInputError, match=message):
        certainty(start, downgrades, upgrades)
    assert issubclass(GradeInputError, ValueError)


# ---------------------------------------------------------------------------------------------------------------
# The seed review: three small ketamine trials, not pooled, pain intensity (MD)


def _ketamine() -> dict[str, Any]:
    def study(label: str, n1: int, n2: int, low: float, high: float) -> dict[str, Any]:
        return {
            "label": label,
            "subgroup": None,
            "effect": (low + high) / 2,
            "ci_low": low,
            "ci_high": high,
            "yi": (low + high) / 2,
            "se": (high - low) / 3.92,
            "weight": None,
            "excluded": False,
            "total_1": n1,
            "total_2": n2,
        }

    return {
        "measure": "MD",
        "model": None,
        "pooled": False,
        "ratio": False,
        "estimate": None,
        "ci_low": None,
        "ci_high": None,
        "i2": None,
        "studies": 3,
        "participants": 215,
        "per_study": [
            study("Crossover A 2010", 10, 10, -2.9, 1.1),
            study("Crossover B 2012", 5, 5, -3.5, 2.5),
            study("Parallel C 2018", 93, 92, -1.2, 0.4),
        ],
    }


def test_seed_review_risk_of_bias_minus_one_weighted_by_participants() -> None:
    result = _ketamine()
    weights = {s["label"]: s["weight"] for s in result["per_study"]}
    participants = {s["label"]: s["total_1"] + s["total_2"] for s in result["per_study"]}
    judgements = {"Crossover A 2010": "some_concerns", "Crossover B 2012": "unclear", "Parallel C 2018": "unclear"}
    proposal = propose_risk_of_bias(weights, judgements, participants=participants)
    assert proposal.domain == "risk_of_bias"
    assert proposal.change == -1
    text = " ".join(proposal.reasons)
    assert "number of participants" in text
    assert "0% of the weight comes from studies at high risk" in text
    assert "100% from studies at unclear risk" in text


def test_seed_review_imprecision_and_certainty_very_low() -> None:
    proposal = propose_imprecision(_ketamine(), threshold=1.0)
    assert proposal.change in (-1, -2)
    assert proposal.change == -2  # every CI includes no effect and 215 < 786
    text = " ".join(proposal.reasons)
    assert "not pooled" in text
    assert "3 of 3 studies" in text
    assert "215 participants, fewer than the optimal information size of 786" in text
    grade = certainty("high", {"risk_of_bias": -1, "imprecision": -2}, {})
    assert grade.level == "very_low"
    assert grade.symbols == "⊕◯◯◯"


def test_seed_review_inconsistency_from_overlap_and_publication_bias_not_applicable() -> None:
    inconsistency = propose_inconsistency(_ketamine())
    assert inconsistency.change == 0
    assert "not pooled" in " ".join(inconsistency.reasons)
    publication = propose_publication_bias(_ketamine())
    assert publication.change == 0
    assert "fewer than 10 studies" in publication.reasons[0]


# ---------------------------------------------------------------------------------------------------------------
# Risk of bias


@pytest.mark.parametrize(
    ("judgements", "change"),
    [
        ({"A": "high", "B": "low", "C": "low"}, -2),  # 50% high
        ({"A": "low", "B": "high", "C": "some_concerns"}, -1),  # 30% + 20%
        ({"A": "low", "B": "high", "C": "low"}, 0),  # 30%
        ({"A": "low", "B": "unclear", "C": "unclear"}, -1),
        ({"A": "Low", "B": "Some concerns", "C": "low"}, 0),
    ],
)
def test_risk_of_bias_thresholds(judgements: dict[str, str], change: int) -> None:
    proposal = propose_risk_of_bias({"A": 50.0, "B": 30.0, "C": 20.0}, judgements)
    assert proposal.change == change


def test_risk_of_bias_rejects_missing_and_unknown_judgements() -> None:
    with pytest.raises(GradeInputError, match="B"):
        propose_risk_of_bias({"A": 50.0, "B": 50.0}, {"A": "low"})
    with pytest.raises(GradeInputError, match="dubious"):
        propose_risk_of_bias({"A": 50.0}, {"A": "dubious"})
    with pytest.raises(GradeInputError, match="participants"):
        propose_risk_of_bias({"A": None}, {"A": "low"})


# ---------------------------------------------------------------------------------------------------------------
# Inconsistency


def _pooled(i2: float | None, intervals: list[tuple[float, float]], **extra: Any) -> dict[str, Any]:
    per_study = [
        {"label": f"S{i}", "ci_low": low, "ci_high": high, "effect": (low + high) / 2, "weight": 10.0}
        for i, (low, high) in enumerate(intervals, start=1)
    ]
    return {
        "measure": "RR",
        "ratio": True,
        "pooled": True,
        "estimate": 0.8,
        "ci_low": 0.6,
        "ci_high": 0.95,
        "i2": i2,
        "tau2": 0.05,
        "p_heterogeneity": 0.01,
        "per_study": per_study,
        **extra,
    }


@pytest.mark.parametrize(
    ("i2", "change", "shown"),
    [
        (0.0, 0, "0%"),
        (49.9, 0, "49.9%"),  # not "50%" beside "below the 50%"
        (50.0, -1, "50%"),
        (74.9, -1, "74.9%"),  # not "75%" beside a −1 for I² below 75%
        (75.0, -2, "75%"),
        (92.0, -2, "92%"),
    ],
)
def test_inconsistency_i2_bands(i2: float, change: int, shown: str) -> None:
    proposal = propose_inconsistency(_pooled(i2, [(0.5, 1.2), (0.7, 1.1)]))
    assert proposal.change == change
    assert proposal.reasons[0].startswith(f"I² = {shown}, ")
    assert "tau²" in proposal.reasons[0]


def test_inconsistency_non_overlapping_cis_rate_down_even_with_low_i2() -> None:
    proposal = propose_inconsistency(_pooled(30.0, [(0.3, 0.6), (0.9, 1.4)]))
    assert proposal.change == -1
    assert "do not overlap between S1 and S2" in " ".join(proposal.reasons)


def test_inconsistency_single_study() -> None:
    proposal = propose_inconsistency(_pooled(None, [(0.3, 0.6)]))
    assert proposal == proposal.__class__("inconsistency", 0, ["Not applicable (single study)."])


# ---------------------------------------------------------------------------------------------------------------
# Imprecision


def test_ois_two_proportions_matches_hand_calculation() -> None:
    # p1 = 0.20, p2 = 0.15: (1.95996 + 0.84162)² × (0.16 + 0.1275) / 0.05² = 902.98 → 903 per group.
    assert optimal_information_size(control_risk=0.2) == 1806
    assert optimal_information_size(control_risk=None) == 786  # 0.2 SD: 392.4 → 393 per group


def _dichotomous(low: float, high: float, participants: int, events_2: int, total_2: int) -> dict[str, Any]:
    return {
        "measure": "RR",
        "ratio": True,
        "pooled": True,
        "estimate": (low * high) ** 0.5,
        "ci_low": low,
        "ci_high": high,
        "participants": participants,
        "events_2": events_2,
        "total_2": total_2,
        "per_study": [],
    }


@pytest.mark.parametrize(
    ("low", "high", "participants", "change"),
    [
        (0.60, 0.85, 4000, 0),  # excludes 1, OIS met
        (0.80, 1.10, 4000, -1),  # crosses 1 only
        (0.50, 1.60, 4000, -2),  # appreciable benefit and harm
        (0.60, 0.85, 1000, -1),  # OIS not met
        (0.80, 1.10, 1000, -2),  # crosses 1 and OIS not met
    ],
)
def test_imprecision_rules(low: float, high: float, participants: int, change: int) -> None:
    proposal = propose_imprecision(_dichotomous(low, high, participants, 200, 1000))
    assert proposal.change == change
    text = " ".join(proposal.reasons)
    assert "optimal information size of 1,806" in text  # control risk 200 / 1000 from the pooled control groups
    assert "control risk of 20.0%" in text
    assert f"{participants:,} participants" in text


def test_imprecision_threshold_for_differences() -> None:
    result = {
        "measure": "MD",
        "ratio": False,
        "pooled": True,
        "estimate": -1.0,
        "ci_low": -2.0,
        "ci_high": -0.2,
        "participants": 1000,
        "per_study": [],
    }
    assert propose_imprecision(result).change == 0
    proposal = propose_imprecision(result, threshold=-0.5)
    assert proposal.change == -1
    assert "threshold -0.50" in " ".join(proposal.reasons)
    wide = {**result, "ci_low": -2.0, "ci_high": 1.5}
    assert propose_imprecision(wide).change == -1
    assert propose_imprecision(wide, threshold=1.0).change == -2


# ---------------------------------------------------------------------------------------------------------------
# Publication bias


_EGGER_YI = [-0.9, -0.7, -0.65, -0.4, -0.35, -0.3, -0.2, -0.25, -0.1, -0.15, -0.05, -0.12, -0.08]
_EGGER_SE = [0.45, 0.40, 0.38, 0.30, 0.28, 0.25, 0.20, 0.18, 0.15, 0.12, 0.10, 0.09, 0.08]


def _egger_independent(yi: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    y, x = yi / se, 1 / se
    design = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ beta
    dof = len(y) - 2
    sigma2 = residuals @ residuals / dof
    cov = sigma2 * np.linalg.inv(design.T @ design)
    t = beta[0] / np.sqrt(cov[0, 0])
    return float(beta[0]), float(2 * stats.t.sf(abs(t), dof))


def test_egger_on_13_studies_matches_lstsq() -> None:
    yi, se = np.array(_EGGER_YI), np.array(_EGGER_SE)
    intercept, p = _egger_independent(yi, se)
    result = {"per_study": [{"label": f"S{i}", "yi": y, "se": s} for i, (y, s) in enumerate(zip(yi, se, strict=True))]}
    proposal = propose_publication_bias(result)
    assert p < 0.10  # the example is built asymmetric: small studies show larger benefits
    assert proposal.change == -1
    assert f"intercept {intercept:.2f}, P = {p:.3f}" in proposal.reasons[0]
    assert "13 studies" in proposal.reasons[0]


def test_egger_symmetric_example_not_rated_down() -> None:
    rng = np.random.default_rng(7)
    se = np.linspace(0.08, 0.45, 13)
    yi = -0.3 + rng.normal(0, 1, 13) * 0.01  # no relation to se
    result = {"per_study": [{"label": f"S{i}", "yi": y, "se": s} for i, (y, s) in enumerate(zip(yi, se, strict=True))]}
    _, p = _egger_independent(yi, se)
    proposal = propose_publication_bias(result)
    assert p >= 0.10
    assert proposal.change == 0


def test_egger_needs_ten_studies() -> None:
    result = {"per_study": [{"label": f"S{i}", "yi": -0.5, "se": 0.2} for i in range(9)]}
    proposal = propose_publication_bias(result)
    assert proposal.change == 0
    assert proposal.reasons[0].startswith("Egger's test not applicable with fewer than 10 studies")


# ---------------------------------------------------------------------------------------------------------------
# Absolute effects


def test_absolute_effects_rr() -> None:
    effects = absolute_effects("RR", 0.49, 0.34, 0.70, 0.05)
    assert effects["control_per_1000"] == 50
    assert effects["intervention_per_1000"] == 25
    assert (effects["intervention_ci_low_per_1000"], effects["intervention_ci_high_per_1000"]) == (17, 35)
    assert effects["text"] == "25 per 1,000 (17 to 35)"
    assert effects["difference_text"] == "26 fewer per 1,000 (33 fewer to 15 fewer)"


def test_absolute_effects_or_and_rd() -> None:
    # ACR 0.2, OR 0.5: 0.1 / (0.8 + 0.1) = 0.1111 → 111; OR 0.3 → 0.06 / 0.86 = 0.0698 → 70; OR 0.8 → 0.16/0.96
    effects = absolute_effects("OR", 0.5, 0.3, 0.8, 0.2)
    assert (effects["intervention_per_1000"], effects["intervention_ci_low_per_1000"]) == (111, 70)
    assert effects["intervention_ci_high_per_1000"] == 167
    rd = absolute_effects("RD", -0.03, -0.05, -0.01, 0.10)
    assert (rd["intervention_per_1000"], rd["intervention_ci_low_per_1000"], rd["intervention_ci_high_per_1000"]) == (
        70,
        50,
        90,
    )
    with pytest.raises(GradeInputError, match="MD"):
        absolute_effects("MD", 1.0, 0.5, 1.5, 0.1)


def test_control_risk_from_pooled_and_per_study() -> None:
    assert control_risk_from({"events_2": 30, "total_2": 600}) == pytest.approx(0.05)
    per_study = {"per_study": [{"events_2": 10, "total_2": 100}, {"events_2": 20, "total_2": 500}]}
    assert control_risk_from(per_study) == pytest.approx(0.05)
    assert control_risk_from({"per_study": [{"events_2": None, "total_2": 100}]}) is None


# ---------------------------------------------------------------------------------------------------------------
# On a real analyse() result: dat.bcg (13 trials of BCG vaccine, Colditz et al. 1994; metafor's dat.bcg)

_BCG = [  # tpos, tneg, cpos, cneg
    (4, 119, 11, 128),
    (6, 300, 29, 274),
    (3, 228, 11, 209),
    (62, 13536, 248, 12619),
    (33, 5036, 47, 5761),
    (180, 1361, 372, 1079),
    (8, 2537, 10, 619),
    (505, 87886, 499, 87892),
    (29, 7470, 45, 7232),
    (17, 1699, 65, 1600),
    (186, 50448, 141, 27197),
    (5, 2493, 3, 2338),
    (27, 16886, 29, 17825),
]


def _bcg_result() -> dict[str, Any]:
    from synthesis.stats import StudyData, analyse

    studies = [
        StudyData(label=f"Trial {i}", events_1=a, total_1=a + b, events_2=c, total_2=c + d)
        for i, (a, b, c, d) in enumerate(_BCG, start=1)
    ]
    return analyse(studies, measure="RR", model="random", method="REML")


def test_proposals_on_an_analyse_result() -> None:
    result = _bcg_result()
    assert result["i2"] > 75
    assert propose_inconsistency(result).change == -2
    yi = np.array([s["yi"] for s in result["per_study"]])
    se = np.array([s["se"] for s in result["per_study"]])
    intercept, p = _egger_independent(yi, se)
    proposal = propose_publication_bias(result)
    assert f"intercept {intercept:.2f}, P = {p:.3f}" in proposal.reasons[0]
    assert proposal.change == (-1 if p < 0.10 else 0)
    imprecision = propose_imprecision(result)
    assert imprecision.change == 0  # RR 0.49 [0.34, 0.70], 357,347 participants
    assert "optimal information size" in " ".join(imprecision.reasons)
    weights = {s["label"]: s["weight"] for s in result["per_study"]}
    judgements = {label: ("high" if i < 7 else "low") for i, label in enumerate(weights)}
    rob = propose_risk_of_bias(weights, judgements)
    share = sum(w for label, w in weights.items() if judgements[label] == "high")
    assert f"{share:.0f}% of the weight comes from studies at high risk" in rob.reasons[0]
    risk = control_risk_from(result)
    assert risk is not None
    assert risk == pytest.approx(sum(c for *_, c, _ in _BCG) / sum(c + d for *_, c, d in _BCG))
    effects = absolute_effects("RR", result["estimate"], result["ci_low"], result["ci_high"], risk)
    assert effects["control_per_1000"] == round(1000 * risk)


def test_imprecision_threshold_only_with_small_sample_is_minus_one() -> None:
    result = {
        "measure": "MD",
        "ratio": False,
        "pooled": True,
        "estimate": -1.0,
        "ci_low": -2.0,
        "ci_high": -0.2,
        "participants": 300,
        "per_study": [],
    }
    proposal = propose_imprecision(result, threshold=-0.5)
    assert proposal.change == -1
    assert "300 participants, fewer than the optimal information size of 786" in " ".join(proposal.reasons)


def test_imprecision_uses_given_control_risk() -> None:
    result = _dichotomous(0.6, 0.85, 4000, 200, 1000)
    proposal = propose_imprecision(result, control_risk=0.05)
    assert "control risk of 5.0%" in " ".join(proposal.reasons)
    assert f"optimal information size of {optimal_information_size(control_risk=0.05):,}" in " ".join(proposal.reasons)


# ---------------------------------------------------------------------------------------------------------------
# Absolute effects at the edges: infinite or zero odds ratios, clipping, thousands


def test_absolute_effects_or_with_an_infinite_upper_bound_reaches_a_risk_of_1() -> None:
    # ACR 0.2, OR 0.89: 0.178 / 0.978 = 0.182 → 182; OR 0.2: 0.04 / 0.84 = 0.0476 → 48; OR ∞ → risk 1.
    effects = absolute_effects("OR", 0.89, 0.2, math.inf, 0.2)
    assert effects["text"] == "182 per 1,000 (48 to 1,000)"
    low, estimate, high = (
        effects["intervention_ci_low_per_1000"],
        effects["intervention_per_1000"],
        effects["intervention_ci_high_per_1000"],
    )
    assert low <= estimate <= high
    assert effects["difference_text"] == "18 fewer per 1,000 (152 fewer to 800 more)"
    assert effects["clipped"] is False


def test_absolute_effects_or_of_zero_at_a_control_risk_of_1() -> None:
    # ACR 1: any positive OR keeps the risk at 1 (odds ∞); OR 0 is risk 0, not 0/0.
    effects = absolute_effects("OR", 0.5, 0.0, 2.0, 1.0)
    assert effects["text"] == "1,000 per 1,000 (0 to 1,000)"
    assert effects["difference_text"] == "0 fewer per 1,000 (1,000 fewer to 0 more)"
    assert absolute_effects("OR", 0.0, 0.0, 0.5, 0.3)["intervention_per_1000"] == 0


@pytest.mark.parametrize(
    ("measure", "estimate", "low", "high", "named"),
    [
        ("OR", math.nan, 0.5, 2.0, "estimate nan"),
        ("RR", 0.8, math.nan, 1.2, "ci_low nan"),
        ("RD", -0.1, -0.2, math.inf, "ci_high inf"),
        ("OR", 0.8, -0.5, 1.2, "ci_low -0.5"),
    ],
)
def test_absolute_effects_reject_values_without_a_risk(
    measure: str, estimate: float, low: float, high: float, named: str
) -> None:
    with pytest.raises(GradeInputError, match=named):
        absolute_effects(measure, estimate, low, high, 0.2)


def test_absolute_effects_texts_separate_thousands() -> None:
    effects = absolute_effects("RD", -1.0, -1.0, -0.5, 1.0)
    assert effects["text"] == "0 per 1,000 (0 to 500)"
    assert effects["difference_text"] == "1,000 fewer per 1,000 (1,000 fewer to 500 fewer)"
    # RR 2.5 (1.5 to 4) at 50%: 1.25, 0.75 and 2.0 → clipped to 1,000 per 1,000 where above 1.
    rr = absolute_effects("RR", 2.5, 1.5, 4.0, 0.5)
    assert rr["text"] == "1,000 per 1,000 (750 to 1,000)"
    assert rr["difference_text"] == "500 more per 1,000 (250 more to 500 more)"
    assert rr["clipped"] is True


def test_absolute_effects_rd_difference_is_the_rd_and_only_the_risk_is_clipped() -> None:
    # GRADEpro: RD −0.10 (−0.20 to 0.00) at a control risk of 5%.
    effects = absolute_effects("RD", -0.10, -0.20, 0.0, 0.05)
    assert effects["difference_text"] == "100 fewer per 1,000 (200 fewer to 0 fewer)"
    assert (
        effects["difference_per_1000"],
        effects["difference_ci_low_per_1000"],
        effects["difference_ci_high_per_1000"],
    ) == (-100, -200, 0)
    assert effects["text"] == "0 per 1,000 (0 to 50)"  # 5% − 10% and 5% − 20% clipped to 0
    assert effects["clipped"] is True
    inside = absolute_effects("RD", -0.03, -0.05, -0.01, 0.10)
    assert inside["clipped"] is False
    assert inside["difference_text"] == "30 fewer per 1,000 (50 fewer to 10 fewer)"
    assert absolute_effects("RR", 0.49, 0.34, 0.70, 0.05)["clipped"] is False


def test_absolute_effects_direction_of_zero_differences_follows_the_effect() -> None:
    # A control risk of 0 gives no absolute difference, but RR 5.00 (0.29 to 86.0) still points both ways.
    effects = absolute_effects("RR", 5.0, 0.29, 86.0, 0.0)
    assert effects["text"] == "0 per 1,000 (0 to 0)"
    assert effects["difference_text"] == "0 more per 1,000 (0 fewer to 0 more)"
    assert absolute_effects("RR", 5.0, 0.29, math.inf, 0.0)["text"] == "0 per 1,000 (0 to 0)"


# ---------------------------------------------------------------------------------------------------------------
# Imprecision when the optimal information size cannot be computed


@pytest.mark.parametrize(("events_2", "control_risk", "shown"), [(0, None, "0%"), (200, 0.0, "0%"), (200, 1.0, "100%")])
def test_imprecision_with_a_control_risk_of_0_or_1_keeps_the_ci_criterion(
    events_2: int, control_risk: float | None, shown: str
) -> None:
    crossing = propose_imprecision(_dichotomous(0.80, 1.10, 1000, events_2, 1000), control_risk=control_risk)
    assert crossing.change == -1
    text = " ".join(crossing.reasons)
    assert "95% CI 0.80 to 1.10 includes no effect (1.00)" in text
    assert f"optimal information size cannot be computed (control risk {shown})" in text
    assert "fewer than the optimal information size" not in text
    wide = propose_imprecision(_dichotomous(0.50, 1.60, 1000, events_2, 1000), control_risk=control_risk)
    assert wide.change == -2
    assert "appreciable benefit and appreciable harm" in " ".join(wide.reasons)
    assert propose_imprecision(_dichotomous(0.60, 0.85, 1000, events_2, 1000), control_risk=control_risk).change == 0


def _giv(*, ratio: bool, participants: int | None) -> dict[str, Any]:
    rows = [
        {"label": f"S{i}", "subgroup": "", "ci_low": 0.7, "ci_high": 1.2, "yi": -0.1, "se": 0.1, "total_1": None,
         "total_2": None, "weight": 50.0}
        for i in (1, 2)
    ]  # fmt: skip
    return {
        "measure": "GIV",
        "ratio": ratio,
        "pooled": True,
        "estimate": 0.9 if ratio else -0.1,
        "ci_low": 0.75 if ratio else -0.3,
        "ci_high": 1.08 if ratio else 0.1,
        "participants": participants,
        "events_2": None,
        "total_2": None,
        "per_study": rows,
    }


@pytest.mark.parametrize("ratio", [True, False])
@pytest.mark.parametrize("participants", [None, 0])  # None from analyse(); 0 from a caller's sum of no totals
def test_imprecision_without_reported_participants_skips_the_information_size(
    ratio: bool, participants: int | None
) -> None:
    proposal = propose_imprecision(_giv(ratio=ratio, participants=participants))
    text = " ".join(proposal.reasons)
    assert proposal.change == -1  # the CI includes no effect; nothing is said about 0 participants
    assert "Optimal information size not assessable: participants not reported." in proposal.reasons
    assert "0 participants" not in text


def test_imprecision_of_a_generic_inverse_variance_ratio_is_sized_as_a_ratio() -> None:
    result = _giv(ratio=True, participants=4000)
    proposal = propose_imprecision(result, control_risk=0.2)
    text = " ".join(proposal.reasons)
    assert "4,000 participants meet the optimal information size of 1,806" in text
    assert "25% relative risk reduction from a control risk of 20.0%" in text
    assert "SD" not in text
    without = " ".join(propose_imprecision(result).reasons)
    assert "No control-group risk to compute the optimal information size" in without
    assert "SD" not in without
    difference = " ".join(propose_imprecision(_giv(ratio=False, participants=4000)).reasons)
    assert "4,000 participants meet the optimal information size of 786" in difference
    assert "0.2 SD" in difference


# ---------------------------------------------------------------------------------------------------------------
# Multi-arm trials: one row per comparison of arms, the same label with different subgroups


def _multi_arm() -> dict[str, Any]:
    result = _ketamine()
    low_dose, high_dose = (
        {**result["per_study"][1], "label": "Mercadante 2000", "subgroup": dose, "total_1": 5, "total_2": 5}
        for dose in ("low dose", "high dose")
    )
    result["per_study"] = [result["per_study"][0], low_dose, high_dose, result["per_study"][2]]
    return result


def test_multi_arm_imprecision_counts_results_and_studies() -> None:
    result = {**_multi_arm(), "participants": None}
    proposal = propose_imprecision(result)
    text = " ".join(proposal.reasons)
    assert "4 of 4 results (3 studies) have a 95% CI that includes no effect." in text
    # 20 + (5 + 5 + 5 shared control) + 185: the shared control group counts once
    assert "220 participants, fewer than the optimal information size of 786" in text
    assert "3 of 3 studies have" in " ".join(propose_imprecision(_ketamine()).reasons)


def test_multi_arm_egger_says_results_and_counts_studies() -> None:
    proposal = propose_publication_bias(_multi_arm())
    assert "(4 results with a standard error, from 3 studies)" in proposal.reasons[0]
    rows = [
        {"label": f"S{i}", "subgroup": "", "yi": y, "se": s}
        for i, (y, s) in enumerate(zip(_EGGER_YI, _EGGER_SE, strict=True))
    ]
    # 13 results from 9 studies (four three-arm trials): too few studies for the test
    for row, arm in zip(rows[9:], rows[:4], strict=True):
        row["label"], row["subgroup"] = arm["label"], "second comparison"
    few = propose_publication_bias({"per_study": rows})
    assert few.change == 0
    assert few.reasons[0].startswith("Egger's test not applicable with fewer than 10 studies (13 results")
    # 13 results from 12 studies: the test runs, and says what it ran on
    rows = [{**row, "label": f"S{i}", "subgroup": ""} for i, row in enumerate(rows)]
    rows[12] = {**rows[12], "label": "S0", "subgroup": "second comparison"}
    ran = propose_publication_bias({"per_study": rows})
    assert "Egger's regression test on 13 results (12 studies)" in ran.reasons[0]


def test_multi_arm_inconsistency_never_compares_a_study_with_itself() -> None:
    result = _multi_arm()
    result["per_study"][1] = {**result["per_study"][1], "ci_low": -4.0, "ci_high": -1.5}  # low dose
    result["per_study"][2] = {**result["per_study"][2], "ci_low": 0.5, "ci_high": 2.5}  # high dose
    proposal = propose_inconsistency(result)
    text = " ".join(proposal.reasons)
    assert "Mercadante 2000 and Mercadante 2000" not in text
    assert proposal.reasons[-2] == (
        "Confidence intervals do not overlap between Mercadante 2000 (low dose) and Parallel C 2018; "
        "Mercadante 2000 (high dose) and Parallel C 2018."
    )
    assert proposal.change == -1
    alone = {**result, "per_study": result["per_study"][1:3]}  # only the two comparisons of one trial
    assert propose_inconsistency(alone) == propose_inconsistency(_pooled(None, [(0.3, 0.6)]))


def test_multi_arm_inconsistency_within_one_study_is_not_rated_down() -> None:
    result = _multi_arm()
    result["per_study"][1] = {
        **result["per_study"][1],
        "ci_low": -2.9,
        "ci_high": -1.1,
    }  # the two doses do not overlap each other
    result["per_study"][2] = {**result["per_study"][2], "ci_low": -0.8, "ci_high": 0.4}
    proposal = propose_inconsistency(result)
    assert proposal.change == 0
    assert "The confidence intervals of all studies overlap." in proposal.reasons


# ---------------------------------------------------------------------------------------------------------------
# Rounded numbers agree with the rule they are compared against


@pytest.mark.parametrize(
    ("i2", "shown", "change"), [(49.6, "49.6%", 0), (49.96, "49.9%", 0), (74.7, "74.7%", -1), (74.4, "74%", -1)]
)
def test_inconsistency_i2_never_rounds_onto_a_cut_off(i2: float, shown: str, change: int) -> None:
    proposal = propose_inconsistency(_pooled(i2, [(0.5, 1.2), (0.7, 1.1)]))
    assert proposal.change == change
    assert proposal.reasons[0].startswith(f"I² = {shown}, tau²")


def test_risk_of_bias_shares_never_round_onto_the_cut_off() -> None:
    proposal = propose_risk_of_bias({"A": 49.6, "B": 50.4}, {"A": "high", "B": "low"})
    assert proposal.change == 0
    assert proposal.reasons[0] == (
        "49.6% of the weight comes from studies at high risk of bias and 0% from studies at unclear risk or "
        "with some concerns."
    )
    assert "(those at high or unclear risk carry 49.6%)" in proposal.reasons[1]
    # 30.4% + 19.5% = 49.9%: the parts round to 30% and 20%, so the sum compared with 50% is quoted.
    split = propose_risk_of_bias({"A": 30.4, "B": 19.5, "C": 50.1}, {"A": "high", "B": "unclear", "C": "low"})
    assert split.change == 0
    assert "carry 49.9%" in split.reasons[1]
    serious = propose_risk_of_bias({"A": 30.0, "B": 20.0, "C": 50.0}, {"A": "high", "B": "unclear", "C": "low"})
    assert serious.change == -1
    assert "At least half of the information (50%)" in serious.reasons[1]


def test_imprecision_threshold_counts_on_the_side_of_benefit_and_of_harm() -> None:
    base = {"pooled": True, "participants": 5000, "per_study": [], "events_2": 500, "total_2": 2500}
    md = {**base, "measure": "MD", "ratio": False, "estimate": -1.2, "ci_low": -2.0, "ci_high": -0.5}
    proposal = propose_imprecision(md, threshold=1.0)  # the CI holds −1, a minimal important benefit
    assert proposal.change == -1 and "threshold -1.00" in " ".join(proposal.reasons)
    assert propose_imprecision({**md, "ci_low": -0.9, "ci_high": -0.5}, threshold=1.0).change == 0
    rr = {**base, "measure": "RR", "ratio": True, "estimate": 1.3, "ci_low": 1.1, "ci_high": 1.5}
    proposal = propose_imprecision(rr, threshold=0.8)  # 0.8 for benefit is 1.25 for harm
    assert proposal.change == -1 and "threshold 1.25" in " ".join(proposal.reasons)
    assert propose_imprecision({**rr, "ci_low": 1.3, "ci_high": 1.6}, threshold=0.8).change == 0


def test_control_risk_counts_a_control_group_shared_by_two_arms_once() -> None:
    rows = [
        {"label": "Mercadante 2000", "subgroup": "0.25 mg/kg", "events_2": 3, "total_2": 10},
        {"label": "Mercadante 2000", "subgroup": "0.5 mg/kg", "events_2": 3, "total_2": 10},
        {"label": "Yang 1996", "events_2": 0, "total_2": 20, "excluded": "no events in either group"},
        {"label": "Hardy 2012", "events_2": 2, "total_2": 74},
        {"label": "Late 2020", "events_2": None, "total_2": None, "excluded": "incomplete data (events_2 missing)"},
    ]
    result = {"events_2": 8, "total_2": 114, "per_study": rows}  # the analysis's totals count the placebo twice
    assert control_risk_from(result) == pytest.approx(5 / 104)
