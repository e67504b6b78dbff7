"""GRADE certainty of the evidence for one outcome: the arithmetic and proposals for each domain.

Pure module (no Django). The inputs are plain values and the summary dict that ``synthesis.stats.analyse()``
returns. Nothing here decides a rating: ``certainty()`` adds up the judgements a reviewer made, and each
``propose_*`` function only suggests a change for one domain, with reasons that quote the numbers, for the
reviewer to accept or overrule (GRADE judgements are not algorithmic; GRADE Handbook, Schünemann et al. 2013,
section 5).

Sources:

* GRADE Handbook (Schünemann, Brożek, Guyatt, Oxman, eds., 2013), sections 5.1-5.2: start high for randomised
  trials (and for non-randomised studies assessed with ROBINS-I, Schünemann et al. 2019, J Clin Epidemiol
  111:105), low for other observational studies; rate down for risk of bias, inconsistency, indirectness,
  imprecision, publication bias; rate up for a large effect, a dose-response gradient, plausible confounding.
* Guyatt et al., GRADE guidelines 4: rating down for risk of bias, J Clin Epidemiol 2011;64:407-415 ("consider
  the proportion of information from studies at high risk").
* Guyatt et al., GRADE guidelines 5: rating down for publication bias, J Clin Epidemiol 2011;64:1277-1282.
* Guyatt et al., GRADE guidelines 6: rating down for imprecision, J Clin Epidemiol 2011;64:1283-1293 (CI and
  optimal information size, OIS).
* Guyatt et al., GRADE guidelines 7: rating down for inconsistency, J Clin Epidemiol 2011;64:1294-1302.
* Cochrane Handbook 6.4 (2023), section 10.10.2 (I² bands) and 13.3.5.4 (Egger's test needs ≥ 10 studies);
  Egger et al., BMJ 1997;315:629-634.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps
from statsmodels.regression.linear_model import OLS

from core.figures import bound as _bound
from core.figures import number as _number

__all__ = [
    "Certainty",
    "GradeInputError",
    "Proposal",
    "absolute_effects",
    "certainty",
    "control_risk_from",
    "egger_test",
    "optimal_information_size",
    "propose_imprecision",
    "propose_inconsistency",
    "propose_publication_bias",
    "propose_risk_of_bias",
]


class GradeInputError(ValueError):
    """An invalid starting level, domain or rating change; the message names it."""


LEVELS = ("very_low", "low", "moderate", "high")
LEVEL_LABELS = {"high": "High", "moderate": "Moderate", "low": "Low", "very_low": "Very low"}
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very_low": "⊕◯◯◯"}

DOWNGRADE_DOMAINS: dict[str, tuple[int, ...]] = {
    "risk_of_bias": (0, -1, -2),
    "inconsistency": (0, -1, -2),
    "indirectness": (0, -1, -2),
    "imprecision": (0, -1, -2),
    "publication_bias": (0, -1),
}
UPGRADE_DOMAINS: dict[str, tuple[int, ...]] = {
    "large_effect": (0, 1, 2),
    "dose_response": (0, 1),
    "confounding": (0, 1),
}

_RATIO_MEASURES = {"RR", "OR", "HR"}
_DICHOTOMOUS = {"RR", "OR", "RD"}
# Egger's test is underpowered below 10 studies (Cochrane Handbook 13.3.5.4) and GRADE 5 uses a liberal
# P < 0.10 for it (Egger et al. 1997 also used 0.10).
_EGGER_MIN_STUDIES = 10
_EGGER_ALPHA = 0.10
# "Appreciable benefit or harm" for ratios when no threshold is given: RRR or RRI of 25% (GRADE 6, section 6.2).
_APPRECIABLE_LOW = 0.75
_APPRECIABLE_HIGH = 1.25
# Continuous outcomes: GRADE 6 suggests the OIS of a trial detecting 0.2 SD (a "small" effect): about 400 per
# group, 800 in all, at alpha 0.05 and power 0.8.
_CONTINUOUS_EFFECT_SD = 0.2


@dataclass(frozen=True)
class Certainty:
    level: str  # "high", "moderate", "low" or "very_low"
    symbols: str
    label: str
    score: int  # 4 high ... 1 very low
    raw_score: int  # before the floor and ceiling


@dataclass(frozen=True)
class Proposal:
    domain: str
    change: int
    reasons: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------------
# Certainty arithmetic


def certainty(start: str, downgrades: Mapping[str, int], upgrades: Mapping[str, int]) -> Certainty:
    """The certainty after rating down and up from `start` ("high" or "low"), floored at very low, capped at high.

    GRADE Handbook 5.1: randomised trials (and non-randomised studies assessed with ROBINS-I) start high, other
    observational studies start low.
    """
    if start not in ("high", "low"):
        raise GradeInputError(f"start must be 'high' or 'low', not {start!r}")
    total = 0
    for name, ratings, allowed in (
        ("downgrade", downgrades, DOWNGRADE_DOMAINS),
        ("upgrade", upgrades, UPGRADE_DOMAINS),
    ):
        for domain, change in ratings.items():
            if domain not in allowed:
                raise GradeInputError(f"unknown {name} domain {domain!r}; expected one of {', '.join(allowed)}")
            if isinstance(change, bool) or not isinstance(change, int) or change not in allowed[domain]:
                choices = ", ".join(f"{value:+d}" if value else "0" for value in allowed[domain])
                raise GradeInputError(f"{domain} must be one of {choices}, not {change!r}")
            total += change
    raw = (4 if start == "high" else 2) + total
    score = min(4, max(1, raw))
    level = LEVELS[score - 1]
    return Certainty(level=level, symbols=SYMBOLS[level], label=LEVEL_LABELS[level], score=score, raw_score=raw)


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def _pct(value: float, cuts: tuple[float, ...] = ()) -> str:
    """A percentage rounded to an integer, unless that would round it onto one of `cuts` from below: then floored
    to one decimal, so that "49.6%" does not read "50%" beside a rule that says it is below 50%."""
    text = f"{value:.0f}%"
    if any(value < cut <= float(text[:-1]) for cut in cuts):
        text = f"{math.floor(value * 10) / 10:.1f}%"
    return text


def _studies(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [study for study in result.get("per_study") or [] if not study.get("excluded")]


def _row_name(row: Mapping[str, Any]) -> str:
    """A per-study row as the reviewer knows it: a multi-arm study has one row per comparison of its arms, told
    apart by the subgroup."""
    label = str(row.get("label", ""))
    subgroup = row.get("subgroup")
    return f"{label} ({subgroup})" if subgroup else label


def _count_text(rows: int, studies: int) -> str:
    """ "3 studies", or "4 results (3 studies)" when a multi-arm study gives more than one row."""
    if rows == studies:
        return f"{rows} {'study' if rows == 1 else 'studies'}"
    return f"{rows} {'result' if rows == 1 else 'results'} ({studies} {'study' if studies == 1 else 'studies'})"


def _labels(rows: list[Mapping[str, Any]]) -> set[str]:
    return {str(row.get("label", "")) for row in rows}


def _is_ratio(result: Mapping[str, Any]) -> bool:
    ratio = result.get("ratio")
    if isinstance(ratio, bool):
        return ratio
    return str(result.get("measure") or "").upper() in _RATIO_MEASURES


def _is_pooled(result: Mapping[str, Any]) -> bool:
    if result.get("pooled") is False:
        return False
    return _number(result.get("estimate")) is not None and _bound(result.get("ci_low")) is not None


def _total_participants(result: Mapping[str, Any]) -> int | None:
    """The participants analysed, or None when neither the result nor any study reports them (generic inverse
    variance rows need no group sizes; a caller's sum over such rows is 0, which is not a count).

    Summed from the rows, a multi-arm study counts its intervention groups and its largest control group once."""
    studies = _studies(result)
    reported = any(_number(study.get(key)) is not None for study in studies for key in ("total_1", "total_2"))
    value = _number(result.get("participants"))
    if value is not None and (value > 0 or reported):
        return int(value)
    if not reported:
        return None
    groups: dict[str, int] = {}
    controls: dict[str, int] = {}
    for study in studies:
        label = str(study.get("label", ""))
        groups[label] = groups.get(label, 0) + int(_number(study.get("total_1")) or 0)
        controls[label] = max(controls.get(label, 0), int(_number(study.get("total_2")) or 0))
    return sum(groups.values()) + sum(controls.values())


def _interval(source: Mapping[str, Any]) -> tuple[float, float] | None:
    low, high = _bound(source.get("ci_low")), _bound(source.get("ci_high"))
    return None if low is None or high is None else (low, high)


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.2f}"


# ---------------------------------------------------------------------------------------------------------------
# Risk of bias (GRADE guidelines 4)

_HIGH = {"high", "critical", "serious"}
_UNCLEAR = {"some_concerns", "unclear", "moderate", "no_information"}


def propose_risk_of_bias(
    per_study_weights: Mapping[str, float | None],
    judgements: Mapping[str, str],
    *,
    participants: Mapping[str, int] | None = None,
) -> Proposal:
    """Rate down by the share of the weight that comes from studies at high or unclear risk of bias.

    A heuristic after GRADE guidelines 4 ("consider the proportion of information from studies at high risk"):
    weight from high-risk studies ≥ 50% → −2; from high plus unclear/some-concerns studies ≥ 50% → −1; else 0.
    When the studies were not pooled (every weight None) the participant counts stand in for the weights.
    """
    reasons: list[str] = []
    labels = list(per_study_weights)
    weights: dict[str, float] = {}
    if labels and all(_number(per_study_weights[label]) is None for label in labels):
        if participants is None:
            raise GradeInputError("the studies were not pooled: pass participants={label: n} to weight them")
        weights = {label: float(participants.get(label, 0)) for label in labels}
        reasons.append("The studies were not pooled, so each study is weighted by its number of participants.")
    else:
        weights = {label: _number(per_study_weights[label]) or 0.0 for label in labels}
    total = sum(weights.values())
    if total <= 0:
        return Proposal("risk_of_bias", 0, [*reasons, "No study carries weight; nothing to judge."])
    missing = [label for label in labels if label not in judgements]
    if missing:
        raise GradeInputError(f"no risk-of-bias judgement for {', '.join(missing)}")
    share_high = 100.0 * sum(w for label, w in weights.items() if _key(judgements[label]) in _HIGH) / total
    share_unclear = 100.0 * sum(w for label, w in weights.items() if _key(judgements[label]) in _UNCLEAR) / total
    for label in labels:
        if _key(judgements[label]) not in _HIGH | _UNCLEAR | {"low"}:
            raise GradeInputError(f"unknown risk-of-bias judgement {judgements[label]!r} for {label}")
    reasons.append(
        f"{_pct(share_high, (50,))} of the weight comes from studies at high risk of bias and "
        f"{_pct(share_unclear, (50,))} from studies at unclear risk or with some concerns."
    )
    # The rule adds the two shares; quote their sum as compared, since the two rounded parts may not add up to it.
    not_low = _pct(share_high + share_unclear, (50,))
    if share_high >= 50:
        change = -2
        reasons.append("At least half of the information is from high-risk studies: very serious (−2).")
    elif share_high + share_unclear >= 50:
        change = -1
        reasons.append(f"At least half of the information ({not_low}) is from studies not at low risk: serious (−1).")
    else:
        change = 0
        reasons.append(
            f"Most of the information is from studies at low risk of bias (those at high or unclear risk carry "
            f"{not_low}): not serious."
        )
    reasons.append(
        "Heuristic following GRADE guidelines 4 (Guyatt et al. 2011): consider the proportion of information "
        "from studies at high risk."
    )
    return Proposal("risk_of_bias", change, reasons)


def _key(judgement: str) -> str:
    return judgement.strip().lower().replace(" ", "_").replace("-", "_")


# ---------------------------------------------------------------------------------------------------------------
# Inconsistency (GRADE guidelines 7)


def _non_overlapping(studies: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of rows from different studies whose CIs do not overlap. Two comparisons within one multi-arm study
    are not a disagreement between studies, so they are never paired."""
    intervals = []
    for study in studies:
        low, high = _bound(study.get("ci_low")), _bound(study.get("ci_high"))
        if low is not None and high is not None:
            intervals.append((str(study.get("label", "")), _row_name(study), low, high))
    pairs = []
    for i, (label_a, name_a, low_a, high_a) in enumerate(intervals):
        for label_b, name_b, low_b, high_b in intervals[i + 1 :]:
            if label_a != label_b and (low_a > high_b or low_b > high_a):
                pairs.append((name_a, name_b))
    return pairs


def propose_inconsistency(result: Mapping[str, Any]) -> Proposal:
    """I² ≥ 75% → −2, ≥ 50% → −1 (Cochrane Handbook 10.10.2: "may represent substantial / considerable"
    heterogeneity); studies whose CIs do not overlap → at least −1 (GRADE guidelines 7)."""
    studies = _studies(result)
    if len(_labels(studies)) < 2:
        return Proposal("inconsistency", 0, ["Not applicable (single study)."])
    reasons: list[str] = []
    change = 0
    pairs = _non_overlapping(studies)
    i2 = _number(result.get("i2"))
    if _is_pooled(result) and i2 is not None:
        text = f"I² = {_pct(i2, (50, 75))}"
        tau2 = _number(result.get("tau2"))
        if tau2 is not None:
            text += f", tau² = {tau2:.3g}"
        p_het = _number(result.get("p_heterogeneity"))
        if p_het is not None:
            text += f", P (heterogeneity) = {p_het:.2g}"
        if i2 >= 75:
            change = -2
            reasons.append(f"{text}: may represent considerable heterogeneity (I² ≥ 75%), very serious (−2).")
        elif i2 >= 50:
            change = -1
            reasons.append(f"{text}: may represent substantial heterogeneity (I² ≥ 50%), serious (−1).")
        else:
            reasons.append(f"{text}: below the 50% at which heterogeneity may be substantial.")
    else:
        reasons.append("The studies were not pooled, so consistency is judged from the overlap of their CIs.")
    if pairs:
        listed = "; ".join(f"{a} and {b}" for a, b in pairs[:5])
        more = f" (and {len(pairs) - 5} more pairs)" if len(pairs) > 5 else ""
        reasons.append(f"Confidence intervals do not overlap between {listed}{more}.")
        change = min(change, -1)
    else:
        reasons.append("The confidence intervals of all studies overlap.")
    reasons.append("Thresholds: Cochrane Handbook 10.10.2 and GRADE guidelines 7 (Guyatt et al. 2011).")
    return Proposal("inconsistency", change, reasons)


# ---------------------------------------------------------------------------------------------------------------
# Imprecision (GRADE guidelines 6)


def optimal_information_size(
    *, control_risk: float | None, alpha: float = 0.05, power: float = 0.8, rrr: float = 0.25
) -> int:
    """Total sample size (both groups) of a conventional two-arm trial with the given alpha and power.

    Dichotomous (control_risk given): the two-proportion formula without continuity correction (Fleiss, Levin,
    Paik 2003, Statistical Methods for Rates and Proportions, eq. 4.14 simplified; GRADE guidelines 6 section
    6.4) for a relative risk reduction `rrr` from `control_risk`. Continuous (control_risk None): a difference
    of 0.2 SD, n per group = 2 (z_α/2 + z_β)² / 0.2², about 400 per group as GRADE 6 suggests.
    """
    if not (0 < alpha < 1 and 0 < power < 1):
        raise GradeInputError("alpha and power must lie between 0 and 1")
    z = float(sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power))
    if control_risk is None:
        per_group = 2 * z**2 / _CONTINUOUS_EFFECT_SD**2
    else:
        if not 0 < control_risk < 1:
            raise GradeInputError(f"control_risk must lie between 0 and 1, not {control_risk!r}")
        if not 0 < rrr < 1:
            raise GradeInputError(f"rrr must lie between 0 and 1, not {rrr!r}")
        p1, p2 = control_risk, control_risk * (1 - rrr)
        per_group = z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2
    return 2 * math.ceil(per_group)


def propose_imprecision(
    result: Mapping[str, Any],
    *,
    threshold: float | None = None,
    control_risk: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    rrr: float = 0.25,
) -> Proposal:
    """Rate down for a CI that crosses no effect or `threshold`, and for too few participants (GRADE 6).

    Rules (a heuristic; GRADE 6 leaves the final call to the reviewer):
    * CI crosses the line of no effect (1 for ratios, 0 for differences) or the threshold → −1;
    * CI crosses no effect and includes appreciable benefit and harm (ratios: below 0.75 and above 1.25, or
      beyond ±threshold for differences) → −2;
    * total participants below the optimal information size → at least −1, and −2 when the CI also crosses no
      effect (serious on both criteria).
    Without a pooled estimate, the per-study CIs are used: all of them crossing no effect counts as a CI
    crossing no effect. `control_risk` defaults to the pooled control-group risk for dichotomous measures.
    """
    measure = str(result.get("measure") or "").upper()
    ratio = _is_ratio(result)
    null = 1.0 if ratio else 0.0
    reasons: list[str] = []
    crosses = False
    very_wide = False
    crosses_threshold = False
    pooled_interval = _interval(result) if _is_pooled(result) else None
    if pooled_interval is not None:
        low, high = pooled_interval
        interval = f"95% CI {_fmt(low)} to {_fmt(high)}"
        crosses = low <= null <= high
        if crosses:
            reasons.append(f"The {interval} includes no effect ({_fmt(null)}).")
        very_wide = crosses and _appreciable_both(low, high, ratio=ratio, threshold=threshold)
        if very_wide:
            reasons.append(f"The {interval} includes both appreciable benefit and appreciable harm.")
        crossed = [t for t in _thresholds(threshold, ratio=ratio) if low < t < high] if not crosses else []
        if crossed:
            reasons.append(f"The {interval} crosses the decision threshold {_fmt(crossed[0])}.")
            crosses_threshold = True
    else:
        rows = [(study, i) for study in _studies(result) if (i := _interval(study)) is not None]
        intervals = [i for _, i in rows]
        reasons.append("The studies were not pooled, so precision is judged from each study's CI.")
        if intervals:
            crossing = sum(low <= null <= high for low, high in intervals)
            studies = len(_labels([study for study, _ in rows]))
            verb = "has" if len(intervals) == 1 else "have"
            reasons.append(
                f"{crossing} of {_count_text(len(intervals), studies)} {verb} a 95% CI that includes no effect."
            )
            crosses = crossing == len(intervals)
            very_wide = crosses and all(
                _appreciable_both(low, high, ratio=ratio, threshold=threshold) for low, high in intervals
            )
            if very_wide:
                whose = "study's" if studies == len(intervals) else "result's"
                reasons.append(f"Every {whose} CI includes both appreciable benefit and appreciable harm.")
    change = -2 if very_wide else -1 if crosses or crosses_threshold else 0

    # Ratios (RR, OR, and a generic inverse variance ratio such as a hazard ratio) and risk differences size the
    # trial by a relative risk reduction from a control risk; other differences by 0.2 SD.
    by_risk = measure in _DICHOTOMOUS or ratio
    participants = _total_participants(result)
    if by_risk and control_risk is None:
        control_risk = control_risk_from(result)
    if participants is None:
        reasons.append("Optimal information size not assessable: participants not reported.")
    elif by_risk and control_risk is None:
        reasons.append(
            "No control-group risk to compute the optimal information size (a relative risk reduction needs one: "
            "give an assumed control risk)."
        )
    elif by_risk and control_risk in (0, 1):
        # No relative reduction of a risk of 0 (no control events) or 1 is a difference a trial could detect.
        reasons.append(
            f"The optimal information size cannot be computed (control risk {control_risk:.0%}); "
            "judge precision from the CI."
        )
    else:
        ois = optimal_information_size(
            control_risk=control_risk if by_risk else None, alpha=alpha, power=power, rrr=rrr
        )
        if by_risk:
            basis = f"a trial detecting a {rrr:.0%} relative risk reduction from a control risk of {control_risk:.1%}"
        else:
            basis = f"a trial detecting a difference of {_CONTINUOUS_EFFECT_SD} SD"
        basis += f" (alpha {alpha:g}, power {power:.0%})"
        if participants < ois:
            reasons.append(
                f"{participants:,} participants, fewer than the optimal information size of {ois:,} for {basis}."
            )
            change = min(change, -2 if crosses else -1)
        else:
            reasons.append(f"{participants:,} participants meet the optimal information size of {ois:,} for {basis}.")
    reasons.append("Rules: GRADE guidelines 6 (Guyatt et al. 2011), CI and optimal information size criteria.")
    return Proposal("imprecision", change, reasons)


def _thresholds(threshold: float | None, *, ratio: bool) -> list[float]:
    """A threshold is one of benefit and harm alike: t and 1/t for ratios, −|t| and +|t| for differences."""
    if threshold is None:
        return []
    if ratio:
        return sorted({threshold, 1 / threshold}) if threshold > 0 and threshold != 1 else []
    return sorted({-abs(threshold), abs(threshold)}) if threshold != 0 else []


def _appreciable_both(low: float, high: float, *, ratio: bool, threshold: float | None) -> bool:
    if ratio:
        if threshold is not None and threshold > 0 and threshold != 1:
            benefit, harm = sorted((threshold, 1 / threshold))
            return low < benefit and high > harm
        return low < _APPRECIABLE_LOW and high > _APPRECIABLE_HIGH
    if threshold is None or threshold == 0:
        return False  # no scale-free "appreciable" difference without a threshold
    return low < -abs(threshold) and high > abs(threshold)


# ---------------------------------------------------------------------------------------------------------------
# Publication bias (GRADE guidelines 5)


def egger_test(yi: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    """Egger's regression (Egger et al. 1997): yi/se on 1/se by OLS; returns (intercept, two-sided p)."""
    precision = 1.0 / se
    design = np.column_stack([np.ones_like(precision), precision])
    fit = OLS(yi / se, design).fit()
    return float(fit.params[0]), float(fit.pvalues[0])


def propose_publication_bias(result: Mapping[str, Any]) -> Proposal:
    """With ≥ 10 studies, Egger's test P < 0.10 → −1; otherwise 0 (not applicable).

    The regression runs on the rows (a multi-arm study gives one per comparison of its arms), but the 10 are
    counted in studies, as the Cochrane Handbook counts them."""
    rows = [
        study
        for study in _studies(result)
        if _number(study.get("yi")) is not None and (_number(study.get("se")) or 0.0) > 0
    ]
    pairs = [(_number(study.get("yi")), _number(study.get("se"))) for study in rows]
    studies = len(_labels(rows))
    if studies < _EGGER_MIN_STUDIES:
        counted = f"{len(pairs)} with a standard error"
        if studies != len(pairs):
            counted = f"{len(pairs)} results with a standard error, from {studies} studies"
        return Proposal(
            "publication_bias",
            0,
            [
                f"Egger's test not applicable with fewer than {_EGGER_MIN_STUDIES} studies ({counted}); judge "
                "from the search and the funding of the studies.",
            ],
        )
    yi = np.array([p[0] for p in pairs], dtype=float)
    se = np.array([p[1] for p in pairs], dtype=float)
    intercept, p = egger_test(yi, se)
    text = f"Egger's regression test on {_count_text(len(pairs), studies)}: intercept {intercept:.2f}, P = {p:.3f}"
    if p < _EGGER_ALPHA:
        reasons = [f"{text} (< {_EGGER_ALPHA}): funnel-plot asymmetry suggests small-study effects (−1)."]
        change = -1
    else:
        reasons = [f"{text}: no evidence of funnel-plot asymmetry at the {_EGGER_ALPHA} level."]
        change = 0
    reasons.append("Rule: GRADE guidelines 5 (Guyatt et al. 2011); Egger et al. 1997; Cochrane Handbook 13.3.5.4.")
    return Proposal("publication_bias", change, reasons)


# ---------------------------------------------------------------------------------------------------------------
# Absolute effects for the Summary of Findings table


def control_risk_from(result: Mapping[str, Any]) -> float | None:
    """The "study population" control risk: Σ events / Σ participants in the control groups (GRADE Handbook 5.2),
    each study's control group once. From the per-study rows when each analysed row reports its control group: a
    control group shared by several arms of one study (rows with the same label) counts once, where the analysis's
    totals count it once per arm; studies without events in either group count (rows left out for incomplete data
    do not). Otherwise from the result's totals."""
    rows = [
        row for row in result.get("per_study") or [] if not str(row.get("excluded") or "").startswith("incomplete data")
    ]
    groups: dict[str, tuple[float, float]] = {}
    for i, row in enumerate(rows):
        events, total = _number(row.get("events_2")), _number(row.get("total_2"))
        if events is None or total is None:
            groups = {}
            break
        key = str(row["label"]) if row.get("label") is not None else f"#{i}"
        if total > groups.get(key, (0.0, -1.0))[1]:
            groups[key] = (events, total)
    if groups:
        events, total = sum(e for e, _ in groups.values()), sum(t for _, t in groups.values())
    else:
        events, total = _number(result.get("events_2")), _number(result.get("total_2"))
    if events is None or total is None or total <= 0:
        return None
    return events / total


def _intervention_risk(measure: str, value: float, control_risk: float) -> float:
    """The risk with the intervention, before any clipping to [0, 1]; NaN where it is undefined."""
    if measure == "RR":
        if control_risk == 0:
            return 0.0  # no ratio of a zero risk is anything but zero, an infinite bound included
        return control_risk * value
    if measure == "OR":
        # The limits, which the formula below cannot reach: inf/inf and 0/0 are undefined.
        if value == math.inf:
            return 1.0
        if value == 0:
            return 0.0
        # Risk from an odds ratio: ACR·OR / (1 − ACR + ACR·OR) (GRADE Handbook 5.2.1; Cochrane Handbook 15.4.4).
        return control_risk * value / (1 - control_risk + control_risk * value)
    return control_risk + value  # RD


def _per_1000(value: float) -> int:
    # Half away from zero, as GRADEpro; the 1e-9 undoes binary error (0.05 × 0.49 × 1000 = 24.4999…).
    scaled = abs(value) * 1000 + 0.5 + 1e-9
    return int(math.copysign(math.floor(scaled), value))


def absolute_effects(
    measure: str, estimate: float, ci_low: float, ci_high: float, control_risk: float
) -> dict[str, Any]:
    """Risks per 1,000 with control and with the intervention (95% CI), rounded to integers as GRADEpro does.

    RR and OR: the difference is the intervention risk minus the control risk. RD: the difference is the RD
    itself × 1,000 (GRADEpro: RD −0.10 (−0.20 to 0.00) reads "100 fewer per 1,000 (200 fewer to 0 fewer)"), and
    only the intervention risk, control risk + RD, is clipped to [0, 1]; `clipped` says whether any was.
    "Fewer" or "more" follows the direction of the effect (below or above no effect), so a bound that rounds
    to 0, or a ratio applied to a control risk of 0, keeps its direction.
    """
    measure = measure.upper()
    if measure not in _DICHOTOMOUS:
        raise GradeInputError(f"absolute effects need RR, OR or RD, not {measure!r}")
    if not 0 <= control_risk <= 1:
        raise GradeInputError(f"control_risk must lie between 0 and 1, not {control_risk!r}")
    values = {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high}
    for name, value in values.items():
        if math.isnan(value) or (measure == "RD" and math.isinf(value)) or (measure != "RD" and value < 0):
            raise GradeInputError(f"{name} {value!r} gives no absolute effect for {measure}")
    # An infinite RR bound gives an infinite risk, clipped to 1 below like any risk above 1.
    raw = {name: _intervention_risk(measure, value, control_risk) for name, value in values.items()}
    for name, risk in raw.items():
        if math.isnan(risk):
            raise GradeInputError(
                f"{name} {values[name]!r} gives no risk with the intervention at a control risk of {control_risk!r}"
            )
    risks = {name: min(1.0, max(0.0, risk)) for name, risk in raw.items()}
    clipped = any(risks[name] != raw[name] for name in raw)
    low_name, high_name = sorted(("ci_low", "ci_high"), key=lambda name: risks[name])
    null = 0.0 if measure == "RD" else 1.0

    if measure == "RD":
        differences = dict(values)
    else:
        # Rounded from the unrounded risks, as GRADEpro does, so it may differ by one from the difference of the
        # two rounded risks (RR 0.49 at 5%: 25 per 1,000 with the intervention, 26 fewer).
        differences = {name: risks[name] - control_risk for name in values}
    diff_low_name, diff_high_name = sorted(("ci_low", "ci_high"), key=lambda name: differences[name])

    def difference(name: str) -> tuple[int, bool]:
        return _per_1000(differences[name]), values[name] <= null

    control = _per_1000(control_risk)
    intervention, low, high = (_per_1000(risks[name]) for name in ("estimate", low_name, high_name))
    diff, diff_low, diff_high = (difference(name) for name in ("estimate", diff_low_name, diff_high_name))
    return {
        "measure": measure,
        "control_risk": control_risk,
        "control_per_1000": control,
        "intervention_per_1000": intervention,
        "intervention_ci_low_per_1000": low,
        "intervention_ci_high_per_1000": high,
        "difference_per_1000": diff[0],
        "difference_ci_low_per_1000": diff_low[0],
        "difference_ci_high_per_1000": diff_high[0],
        "clipped": clipped,
        "text": f"{intervention:,} per 1,000 ({low:,} to {high:,})",
        "difference_text": _difference_text(diff, diff_low, diff_high),
    }


def _difference_text(diff: tuple[int, bool], low: tuple[int, bool], high: tuple[int, bool]) -> str:
    """Each part is (per 1,000, whether the effect is at or below no effect)."""

    def part(value: tuple[int, bool]) -> str:
        return f"{abs(value[0]):,} {'fewer' if value[1] else 'more'}"

    return f"{part(diff)} per 1,000 ({part(low)} to {part(high)})"
