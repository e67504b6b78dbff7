"""Meta-analysis arithmetic for outcome summaries and forest plots: pure numpy/scipy/statsmodels, no Django.

`analyse()` turns the studies of one outcome × comparison into the JSON-ready summary the worker stores. The
numbers reproduce metafor 3.8 (`escalc`, `rma.uni`, `rma.mh`, `rma.peto`; Viechtbauer 2010, J Stat Softw 36(3))
to ~1e-10 on the reference data in shared/data/metafor_reference.md. statsmodels supplies what it computes
exactly (2×2 effect sizes, inverse-variance fixed effect and DerSimonian–Laird pooling, the Mantel–Haenszel
odds ratio with the Robins–Breslow–Greenland variance); the rest is written here with its source cited.

Conventions (each chosen to match metafor's reference output, or RevMan where metafor has no opinion):

* Zero cells (RR, OR, RD): 0.5 is added to every cell of a study with a zero cell before its own log ratio (or
  risk difference) and variance are computed — for the study's row, inverse-variance pooling and the Q test.
  This is metafor escalc's default (add=1/2, to="only0") and RevMan 5's rule (Cochrane Handbook 5.1 §9.4.4).
  Studies with no events in either group, or with events in every participant of both groups, are excluded
  from RR and OR pooling (their ratio is undefined; Handbook §16.9.3) and kept, corrected, for RD.
* Mantel–Haenszel pooling of RR and OR adds the same 0.5 to zero-cell studies, as RevMan 5 does (metafor's
  rma.mh source: "Stata/RevMan add 1/2 by default"), so that Sieve's MH results match RevMan's, which Cochrane
  reviewers check against. metafor's default pools the raw counts (add=c(1/2, 0): "technically, nothing needs
  to be added", Greenland & Robins 1985), and the correction biases towards the null (Ades et al. 2025,
  "Continuity corrections with Mantel–Haenszel estimators in Cochrane reviews", Res Synth Methods): the two
  agree wherever no cell is zero (all of metafor's reference rows). MH RD pools the raw counts. The
  excluded no-event / all-event studies are left out of MH pooling as RevMan does (metafor keeps them in the
  MH sums, where they change only the RR). Peto needs no correction: its per-study values come from the raw
  counts too (metafor's escalc("PETO") would add 0.5 to zero-cell studies, changing their row and Q only).
* For RD the 0.5 matters most to studies without events in both groups, whose variance would otherwise be 0.
* A pooled estimate the valid data cannot give (no study left, an MH ratio without events in one group) is
  None with a note; invalid data or options raise StatsInputError naming the study and field.
* I² and H²: Q-based for fixed-effect models (I² = max(0, (Q − df)/Q), H² = Q/df); for random-effects models
  from the estimated tau² (I² = τ²/(τ² + s²), s² the "typical" within-study variance), as metafor reports
  them, so they change with the tau² estimator. Q always uses inverse-variance fixed-effect weights; for MH
  and Peto models Q is measured around the MH/Peto estimate, as metafor's rma.mh/rma.peto do.
* Prediction interval (random effects, k ≥ 3): metafor predict(): est ± z·√(τ² + SE²), or t_{k−1} with HKSJ.
* tau2/tau are None for fixed-effect models (not estimated; metafor prints 0) and wherever k = 1.
"""

from __future__ import annotations

import decimal
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from scipy import stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.meta_analysis import combine_effects, effectsize_2proportions

from synthesis import stats_engine as engine

Floats = NDArray[np.float64]


class StatsInputError(ValueError):
    """The studies or the options cannot be analysed; the message names the study and the field."""


class NotEstimableError(StatsInputError):
    """The pooled estimate is undefined for these (valid) counts, e.g. an MH risk ratio without events in one group."""


@dataclass(frozen=True)
class StudyData:
    label: str
    subgroup: str = ""  # analysis subgroup ("" = none)
    events_1: int | None = None
    total_1: int | None = None
    events_2: int | None = None
    total_2: int | None = None
    mean_1: float | None = None
    sd_1: float | None = None
    mean_2: float | None = None
    sd_2: float | None = None
    estimate: float | None = None  # GIV, on the analysis scale (log for ratios)
    se: float | None = None


MEASURES = ("RR", "OR", "RD", "MD", "SMD", "GIV")
RATIO_MEASURES = frozenset({"RR", "OR"})  # GIV is a ratio when `giv_ratio=True`
DICHOTOMOUS_MEASURES = ("RR", "OR", "RD")
METHODS = ("MH", "IV", "PETO", "DL", "REML", "PM", "ML")  # MH, IV, PETO fixed; DL, REML, PM, ML random
FIXED_METHODS = ("MH", "IV", "PETO")
RANDOM_METHODS = ("DL", "REML", "PM", "ML")

MAX_MAGNITUDE = 1e15  # beyond any real count, mean or SD; keeps squares and sums far from overflow
NO_EVENTS = "no events in either group"
ALL_EVENTS = "events in every participant of both groups"


@dataclass(frozen=True)
class StudyEffect:
    """One study's outcome on the analysis scale (None when excluded) and how it was obtained."""

    yi: float | None
    vi: float | None
    corrected: bool  # 0.5 added to every cell
    excluded: str | None  # why the study is left out of pooling, or None


@dataclass(frozen=True)
class PooledEstimate:
    """A pooled result on the analysis scale (log for ratios). None marks what does not apply."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float | None  # the t statistic when t_df is set (HKSJ)
    p: float | None
    t_df: int | None
    tau2: float | None  # None for fixed-effect models and k = 1
    q: float | None
    df: int
    p_heterogeneity: float | None
    i2: float | None  # percent
    h2: float | None
    prediction_low: float | None
    prediction_high: float | None
    weights: tuple[float, ...]  # raw (not normalised) weights, in the order of the input studies
    k: int
    converged: bool = True  # False when REML/ML Fisher scoring needed the root-finding fallback


# ---------------------------------------------------------------------------------------------------------------
# Input checks and effect sizes


def _name(study: StudyData, index: int) -> str:
    """How notes and messages name a study's row: with its subgroup, since one study may give a row per dose."""
    name = study.label or f"Study {index + 1}"
    return f"{name} ({study.subgroup})" if study.subgroup else name


def _number(study: StudyData, index: int, field: str, what: str) -> float:
    value = getattr(study, field)
    if value is None:
        raise StatsInputError(f"{_name(study, index)}: {what} is missing.")
    if isinstance(value, bool) or not isinstance(value, numbers.Real | decimal.Decimal):
        raise StatsInputError(f"{_name(study, index)}: {what} must be a number.")
    number = float(value)
    if not math.isfinite(number):
        raise StatsInputError(f"{_name(study, index)}: {what} must be a finite number.")
    if abs(number) > MAX_MAGNITUDE:
        raise StatsInputError(f"{_name(study, index)}: {what} is implausibly large.")
    return number


def _count(study: StudyData, index: int, field: str, what: str) -> float:
    number = _number(study, index, field, what)
    if not number.is_integer():
        raise StatsInputError(f"{_name(study, index)}: {what} must be a whole number.")
    return number


def _positive(study: StudyData, index: int, field: str, what: str) -> float:
    number = _number(study, index, field, what)
    if number <= 0:
        raise StatsInputError(f"{_name(study, index)}: {what} must be positive.")
    return number


def _table(study: StudyData, index: int) -> tuple[float, float, float, float]:
    """(events_1, total_1, events_2, total_2), checked."""
    out = []
    for group in (1, 2):
        events = _count(study, index, f"events_{group}", f"events of group {group}")
        total = _count(study, index, f"total_{group}", f"total of group {group}")
        if total <= 0:
            raise StatsInputError(f"{_name(study, index)}: total of group {group} must be positive.")
        if events < 0:
            raise StatsInputError(f"{_name(study, index)}: events of group {group} must not be negative.")
        if events > total:
            raise StatsInputError(
                f"{_name(study, index)}: events of group {group} ({events:g}) must not exceed its total ({total:g})."
            )
        out += [events, total]
    return out[0], out[1], out[2], out[3]


def _tables(studies: Sequence[StudyData]) -> tuple[Floats, Floats, Floats, Floats]:
    """Cells a, b, c, d of every study's 2×2 table (group 1 events, non-events; group 2 events, non-events)."""
    rows = np.array([_table(s, i) for i, s in enumerate(studies)], dtype=float).reshape(-1, 4)
    e1, n1, e2, n2 = rows.T
    return e1, n1 - e1, e2, n2 - e2


def _continuous(study: StudyData, index: int, measure: str) -> tuple[float, float, float, float, float, float]:
    m1 = _number(study, index, "mean_1", "mean of group 1")
    s1 = _positive(study, index, "sd_1", "SD of group 1")
    n1 = _count(study, index, "total_1", "total of group 1")
    m2 = _number(study, index, "mean_2", "mean of group 2")
    s2 = _positive(study, index, "sd_2", "SD of group 2")
    n2 = _count(study, index, "total_2", "total of group 2")
    for group, n in ((1, n1), (2, n2)):
        if n <= 0:
            raise StatsInputError(f"{_name(study, index)}: total of group {group} must be positive.")
    if measure == "SMD" and n1 + n2 < 4:
        # metafor's exact bias correction needs m = n1 + n2 − 2 > 1 (J is undefined at m = 1).
        raise StatsInputError(f"{_name(study, index)}: a standardised mean difference needs at least 4 participants.")
    return m1, s1, n1, m2, s2, n2


def _double_zero(a: Floats, b: Floats, c: Floats, d: Floats) -> list[str | None]:
    return [
        NO_EVENTS if ai == 0 and ci == 0 else ALL_EVENTS if bi == 0 and di == 0 else None
        for ai, bi, ci, di in zip(a, b, c, d, strict=True)
    ]


def effect_sizes(studies: Sequence[StudyData], measure: str) -> tuple[Floats, Floats, list[StudyEffect]]:
    """Per-study outcomes yi and sampling variances vi on the analysis scale, as metafor's escalc computes them.

    RR, OR, RD: statsmodels `effectsize_2proportions` (equal to escalc to 5e-15) with 0.5 added to all cells of
    studies with a zero cell; RR/OR of studies without events (or with only events) in both groups are NaN and
    marked excluded. MD: m1 − m2, sd1²/n1 + sd2²/n2. SMD: Hedges' g with escalc's exact correction
    J = Γ(m/2)/(√(m/2)·Γ((m−1)/2)), m = n1 + n2 − 2, and vi = 1/n1 + 1/n2 + g²/(2(n1 + n2)) (metafor escalc
    source, measure "SMD", vtype "LS"; Hedges 1981). GIV: the given estimate and SE².
    Raises StatsInputError naming the study and field for missing or impossible values.
    """
    if measure not in MEASURES:
        raise StatsInputError(f"Unknown effect measure {measure!r}; use one of {', '.join(MEASURES)}.")
    k = len(studies)
    if measure in DICHOTOMOUS_MEASURES:
        a, b, c, d = _tables(studies)
        n1, n2 = a + b, c + d
        statistic = {"RR": "risk-ratio", "OR": "odds-ratio", "RD": "diff"}[measure]
        zero_cell = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        # The correction is applied here: statsmodels' zero_correction=0.5 adds 0.5 to the events of every
        # study (only the totals of zero-cell studies get +1), which is not escalc's (or RevMan's) rule.
        add = np.where(zero_cell, 0.5, 0.0)
        yi, vi = effectsize_2proportions(a + add, n1 + 2 * add, c + add, n2 + 2 * add, statistic=statistic)
        yi, vi = np.array(yi, dtype=float), np.array(vi, dtype=float)
        excluded = _double_zero(a, b, c, d) if measure != "RD" else [None] * k
        for i, reason in enumerate(excluded):
            if reason is not None:
                yi[i] = vi[i] = np.nan
        corrected = [bool(z) and e is None for z, e in zip(zero_cell, excluded, strict=True)]
    elif measure in ("MD", "SMD"):
        rows = np.array([_continuous(s, i, measure) for i, s in enumerate(studies)], dtype=float).reshape(-1, 6)
        m1, s1, n1, m2, s2, n2 = rows.T
        if measure == "MD":
            yi = m1 - m2
            vi = s1**2 / n1 + s2**2 / n2
        else:
            m = n1 + n2 - 2
            sd_pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / m)
            j = np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))
            yi = j * (m1 - m2) / sd_pooled
            vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
        excluded, corrected = [None] * k, [False] * k
    else:
        rows = np.array(
            [(_number(s, i, "estimate", "estimate"), _positive(s, i, "se", "SE")) for i, s in enumerate(studies)],
            dtype=float,
        ).reshape(-1, 2)
        yi, vi = rows[:, 0].copy(), rows[:, 1] ** 2
        excluded, corrected = [None] * k, [False] * k
    for i in range(k):
        if excluded[i] is None and not (math.isfinite(yi[i]) and math.isfinite(vi[i]) and vi[i] > 0):
            raise StatsInputError(f"{_name(studies[i], i)}: its values are too extreme to compute the {measure}.")
    effects = [
        StudyEffect(
            yi=None if excluded[i] else float(yi[i]),
            vi=None if excluded[i] else float(vi[i]),
            corrected=corrected[i],
            excluded=excluded[i],
        )
        for i in range(k)
    ]
    return yi, vi, effects


# ---------------------------------------------------------------------------------------------------------------
# Pooling


def _estimate(pooled: engine.Pooled, row: int, converged: bool = True) -> PooledEstimate:
    def opt(value: float) -> float | None:
        return float(value) if math.isfinite(value) else None

    t_df = int(pooled.t_df[row])
    k = int(pooled.k[row])
    return PooledEstimate(
        estimate=float(pooled.estimate[row]),
        se=float(pooled.se[row]),
        ci_low=float(pooled.ci_low[row]),
        ci_high=float(pooled.ci_high[row]),
        z=opt(pooled.stat[row]),
        p=opt(pooled.p[row]) if math.isfinite(pooled.stat[row]) else None,
        t_df=t_df if t_df >= 0 else None,
        tau2=opt(pooled.tau2[row]),
        q=opt(pooled.q[row]),
        df=k - 1,
        p_heterogeneity=opt(pooled.p_heterogeneity[row]),
        i2=opt(pooled.i2[row]),
        h2=opt(pooled.h2[row]),
        prediction_low=opt(pooled.prediction_low[row]),
        prediction_high=opt(pooled.prediction_high[row]),
        weights=tuple(float(w) for w in pooled.weights[row]),
        k=k,
        converged=converged,
    )


def _iv_inputs(yi: ArrayLike, vi: ArrayLike) -> tuple[Floats, Floats]:
    y = np.asarray(yi, dtype=float).ravel()
    v = np.asarray(vi, dtype=float).ravel()
    if len(y) == 0:
        raise NotEstimableError("No study could be pooled.")
    if len(y) != len(v) or not (np.isfinite(y).all() and np.isfinite(v).all() and (v > 0).all()):
        raise StatsInputError("Inverse-variance pooling needs finite outcomes and positive variances.")
    return y, v


def _one(k: int) -> NDArray[np.int64]:
    return np.array([k], dtype=np.int64)


def _cochran_q(y: Floats, w: Floats, mean: float) -> Floats:
    """Cochran's Q = Σ w(y − θ̂)² summed as metafor does: statsmodels' expanded Σwy² − (Σwy)²/Σw cancels
    (1.8e-15 instead of 0 for identical studies)."""
    return np.array([float((w * (y - mean) ** 2).sum())])


def fixed_iv(yi: ArrayLike, vi: ArrayLike, *, level: float = 0.95) -> PooledEstimate:
    """Inverse-variance fixed-effect (common-effect) pooling: statsmodels `combine_effects` (FE part)."""
    y, v = _iv_inputs(yi, vi)
    k = len(y)
    if k == 1:
        pooled, _ = engine.pool_rows(y, v, np.ones((1, 1), dtype=bool), method="IV", hksj=False, level=level)
        return _estimate(pooled, 0)
    with np.errstate(all="ignore"):  # statsmodels also derives its own I² as 1 − 1/H²: 1/0 when Q = 0
        res = combine_effects(y, v, method_re="dl", alpha=1 - level)
    w = 1 / v
    s2 = engine.typical_variance(w[None, :], _one(k))
    pooled = engine.summarise(
        k=_one(k),
        estimate=np.array([res.mean_effect_fe]),
        se=np.array([res.sd_eff_w_fe]),
        tau2=None,
        q=_cochran_q(y, w, float(res.mean_effect_fe)),
        s2=s2,
        s2w=None,
        weights=w[None, :],
        level=level,
    )
    return _estimate(pooled, 0)


def random_effects(
    yi: ArrayLike, vi: ArrayLike, method: str, hksj: bool = False, *, level: float = 0.95
) -> PooledEstimate:
    """Random-effects pooling with tau² by DL (statsmodels `combine_effects`, truncated at 0 as metafor does),
    REML or ML (metafor's Fisher scoring) or PM (metafor's uniroot); see `stats_engine`. With `hksj` the SE is
    the Knapp–Hartung one and CI, test and prediction interval use t with k − 1 df (metafor `test="knha"`)."""
    if method not in RANDOM_METHODS:
        raise StatsInputError(f"Unknown random-effects method {method!r}; use one of {', '.join(RANDOM_METHODS)}.")
    y, v = _iv_inputs(yi, vi)
    k = len(y)
    if method != "DL" or k == 1:
        pooled, converged = engine.pool_rows(y, v, np.ones((1, k), dtype=bool), method=method, hksj=hksj, level=level)
        return _estimate(pooled, 0, bool(converged[0]))
    with np.errstate(all="ignore"):  # as in fixed_iv: statsmodels' own I² (unused) may divide by 0
        res = combine_effects(y, v, method_re="dl", alpha=1 - level)
    w_fe = 1 / v
    if float(res.tau2) > 0:
        tau2, estimate, se, weights = float(res.tau2), res.mean_effect_re, res.sd_eff_w_re, res.weights_re
        s2w = res.scale_hksj_re
    else:  # statsmodels does not truncate a negative DL estimate; metafor (and DerSimonian–Laird) set it to 0
        tau2, estimate, se, weights, s2w = 0.0, res.mean_effect_fe, res.sd_eff_w_fe, w_fe, res.scale_hksj_fe
    pooled = engine.summarise(
        k=_one(k),
        estimate=np.array([estimate]),
        se=np.array([se]),
        tau2=np.array([tau2]),
        q=_cochran_q(y, w_fe, float(res.mean_effect_fe)),
        s2=engine.typical_variance(w_fe[None, :], _one(k)),
        s2w=np.array([s2w]) if hksj else None,
        weights=np.asarray(weights, dtype=float)[None, :],
        level=level,
    )
    return _estimate(pooled, 0)


def _fixed_summary(estimate: float, se: float, q: float, k: int, weights: Floats, level: float) -> PooledEstimate:
    pooled = engine.summarise(
        k=_one(k),
        estimate=np.array([estimate]),
        se=np.array([se]),
        tau2=None,
        q=np.array([q]),
        s2=np.array([np.nan]),
        s2w=None,
        weights=weights[None, :],
        level=level,
    )
    return _estimate(pooled, 0)


def _revman_mh_cells(
    a: Floats, b: Floats, c: Floats, d: Floats, *, measure: str
) -> tuple[Floats, Floats, Floats, Floats]:
    """The 2×2 cells Mantel–Haenszel pools, as RevMan 5 does: for RR and OR, 0.5 added to every cell of a study
    with a zero cell (RevMan 5 statistical methods, Deeks & Higgins 2010; metafor's rma.mh notes that "Stata/RevMan
    add 1/2 by default"). metafor's own default pools the raw counts; both agree wherever no cell is zero."""
    if measure not in ("RR", "OR"):
        return a, b, c, d
    zero = ((a == 0) | (b == 0) | (c == 0) | (d == 0)).astype(float) * 0.5
    return a + zero, b + zero, c + zero, d + zero


def _mh_pool(
    a: Floats, b: Floats, c: Floats, d: Floats, yi: Floats, vi: Floats, measure: str, level: float
) -> PooledEstimate:
    """Mantel–Haenszel pooling of raw 2×2 counts; Q around the MH estimate from the (corrected) yi/vi."""
    if len(a) == 0:
        raise NotEstimableError("No study could be pooled.")
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "OR":
        if not (a * d / n).sum() > 0 or not (b * c / n).sum() > 0:
            raise NotEstimableError("The Mantel–Haenszel odds ratio is not estimable from these counts.")
        # Robins, Breslow & Greenland (1986) variance; statsmodels implements it exactly as metafor rma.mh.
        table = StratifiedTable(np.array([[a, b], [c, d]], dtype=float))
        estimate, se = float(table.logodds_pooled), float(table.logodds_pooled_se)
        weights = b * c / n  # RevMan 5 MH weights (Deeks & Higgins 2010)
    elif measure == "RR":
        # Greenland & Robins (1985); RevMan 5 statistical methods (Deeks & Higgins 2010), MH risk ratio:
        # RR = R/S, R = Σ a·n2/N, S = Σ c·n1/N; var(ln RR) = P/(R·S), P = Σ (n1·n2·(a + c) − a·c·N)/N².
        r, s = (a * n2 / n).sum(), (c * n1 / n).sum()
        if r == 0:
            raise NotEstimableError("The Mantel–Haenszel risk ratio is not estimable: no events in group 1.")
        if s == 0:
            raise NotEstimableError("The Mantel–Haenszel risk ratio is not estimable: no events in group 2.")
        p = ((n1 * n2 * (a + c) - a * c * n) / n**2).sum()
        estimate, se = math.log(r / s), math.sqrt(p / (r * s))
        weights = c * n1 / n
    else:
        # Greenland & Robins (1985); RevMan 5 (Deeks & Higgins 2010), MH risk difference:
        # RD = Σ (a·n2 − c·n1)/N / K, K = Σ n1·n2/N; var = J/K², J = Σ (a·b·n2³ + c·d·n1³)/(n1·n2·N²).
        # (metafor uses the Sato, Greenland & Robins 1989 variance instead.)
        big_k = (n1 * n2 / n).sum()
        j = ((a * b * n2**3 + c * d * n1**3) / (n1 * n2 * n**2)).sum()
        estimate, se = float(((a * n2 - c * n1) / n).sum() / big_k), math.sqrt(j) / big_k
        weights = n1 * n2 / n
    q = float(((yi - estimate) ** 2 / vi).sum())  # metafor rma.mh: Q = Σ w(y − θ̂_MH)², w = 1/v (escalc)
    return _fixed_summary(estimate, se, q, len(a), weights, level)


def _peto_terms(a: Floats, b: Floats, c: Floats, d: Floats) -> tuple[Floats, Floats]:
    """Observed − expected events in group 1 and the hypergeometric variance (Yusuf et al. 1985; RevMan 5):
    O − E = a − (a + c)·n1/N, V = (a + c)(b + d)·n1·n2 / (N²(N − 1))."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    return a - (a + c) * n1 / n, (a + c) * (b + d) * n1 * n2 / (n**2 * (n - 1))


def _peto_pool(a: Floats, b: Floats, c: Floats, d: Floats, level: float) -> PooledEstimate:
    """Peto's one-step odds ratio: ln OR = Σ(O − E)/ΣV, var = 1/ΣV; Q = Σ V·(yi − θ̂)² (metafor rma.peto)."""
    if len(a) == 0:
        raise NotEstimableError("No study could be pooled.")
    o_e, v = _peto_terms(a, b, c, d)
    estimate = float(o_e.sum() / v.sum())
    q = float((v * (o_e / v - estimate) ** 2).sum())
    return _fixed_summary(estimate, 1 / math.sqrt(v.sum()), q, len(a), v, level)


def mantel_haenszel(studies: Sequence[StudyData], measure: str, *, level: float = 0.95) -> PooledEstimate:
    """Mantel–Haenszel fixed-effect RR, OR or RD over the studies that can be pooled (zero cells as RevMan)."""
    if measure not in DICHOTOMOUS_MEASURES:
        raise StatsInputError("The Mantel–Haenszel method needs a risk ratio, odds ratio or risk difference.")
    yi, vi, effects = effect_sizes(studies, measure)
    keep = np.array([e.excluded is None for e in effects], dtype=bool)
    a, b, c, d = _revman_mh_cells(*(x[keep] for x in _tables(studies)), measure=measure)
    return _mh_pool(a, b, c, d, yi[keep], vi[keep], measure, level)


def peto(studies: Sequence[StudyData], *, level: float = 0.95) -> PooledEstimate:
    """Peto's fixed-effect odds ratio over the studies with events and non-events (V > 0)."""
    a, b, c, d = _tables(studies)
    keep = np.array([reason is None for reason in _double_zero(a, b, c, d)], dtype=bool)
    return _peto_pool(a[keep], b[keep], c[keep], d[keep], level)


# ---------------------------------------------------------------------------------------------------------------
# The summary


def _json(value: Any) -> Any:
    """A plain JSON value: numpy scalars to Python, non-finite floats to None."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def _natural(value: float | None, ratio: bool) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    if not ratio:
        return float(value)
    return math.exp(value) if value < 709.0 else None  # exp overflows past ~709.78


def _shown_fields(study: StudyData, index: int, measure: str) -> dict[str, Any]:
    """The input values a study row shows: the (already checked) fields of its measure, None for the rest.

    Totals are optional for GIV (they only count participants) but checked when given.
    """
    fields: dict[str, Any] = dict.fromkeys(
        ("events_1", "total_1", "events_2", "total_2", "mean_1", "sd_1", "mean_2", "sd_2", "estimate", "se_given")
    )
    if measure in DICHOTOMOUS_MEASURES:
        names = ["events_1", "total_1", "events_2", "total_2"]
    elif measure in ("MD", "SMD"):
        names = ["mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2"]
    else:
        fields["estimate"], fields["se_given"] = _json(study.estimate), _json(study.se)
        names = []
        for group in (1, 2):
            if getattr(study, f"total_{group}") is not None:
                if _count(study, index, f"total_{group}", f"total of group {group}") <= 0:
                    raise StatsInputError(f"{_name(study, index)}: total of group {group} must be positive.")
                names.append(f"total_{group}")
    for name in names:
        value = getattr(study, name)
        fields[name] = int(value) if name.startswith(("events", "total")) else float(value)
    return fields


def _check_options(measure: str, model: str, method: str, hksj: bool, level: float) -> None:
    if measure not in MEASURES:
        raise StatsInputError(f"Unknown effect measure {measure!r}; use one of {', '.join(MEASURES)}.")
    if model not in ("fixed", "random"):
        raise StatsInputError(f"Unknown model {model!r}; use 'fixed' or 'random'.")
    allowed = FIXED_METHODS if model == "fixed" else RANDOM_METHODS
    if method not in allowed:
        raise StatsInputError(f"Method {method!r} is not a {model}-effect method; use one of {', '.join(allowed)}.")
    if method == "MH" and measure not in DICHOTOMOUS_MEASURES:
        raise StatsInputError("The Mantel–Haenszel method needs a risk ratio, odds ratio or risk difference.")
    if method == "PETO" and measure != "OR":
        raise StatsInputError("The Peto method pools odds ratios only.")
    if hksj and model != "random":
        raise StatsInputError("The Hartung–Knapp–Sidik–Jonkman adjustment applies to random-effects models only.")
    if not 0 < level < 1:
        raise StatsInputError("The confidence level must lie between 0 and 1 (e.g. 0.95).")


def _studies_phrase(labels: list[str]) -> str:
    return f"{len(labels)} {'study' if len(labels) == 1 else 'studies'}"


def _data_notes(names: list[str], effects: list[StudyEffect], method: str, measure: str) -> list[str]:
    notes = []
    corrected = [n for n, e in zip(names, effects, strict=True) if e.corrected]
    if corrected:
        where = (
            " (in the Mantel–Haenszel sums too, as RevMan does)"
            if method == "MH" and measure in ("RR", "OR")
            else " for their own estimates and the heterogeneity test; the Mantel–Haenszel estimate uses the raw counts"
            if method == "MH"
            else ""
        )
        notes.append(
            f"0.5 added to each cell of {_studies_phrase(corrected)} with a zero cell ({', '.join(corrected)}){where}."
        )
    for reason in (NO_EVENTS, ALL_EVENTS):
        labels = [n for n, e in zip(names, effects, strict=True) if e.excluded == reason]
        if labels:
            notes.append(f"{_studies_phrase(labels)} with {reason} excluded from pooling ({', '.join(labels)}).")
    return notes


def _pooled_keys(fit: PooledEstimate | None, ratio: bool) -> dict[str, Any]:
    if fit is None:
        return dict.fromkeys(("estimate", "ci_low", "ci_high", "log_estimate", "se", "tau2", "i2", "q", "df"))
    return {
        "estimate": _natural(fit.estimate, ratio),
        "ci_low": _natural(fit.ci_low, ratio),
        "ci_high": _natural(fit.ci_high, ratio),
        "log_estimate": _json(fit.estimate),
        "se": _json(fit.se),
        "tau2": _json(fit.tau2),
        "i2": _json(fit.i2),
        "q": _json(fit.q),
        "df": fit.df,
    }


def analyse(
    studies: Sequence[StudyData],
    *,
    measure: str,
    model: str,
    method: str,
    hksj: bool = False,
    pooled: bool = True,
    giv_ratio: bool = False,
    level: float = 0.95,
    subgroups: bool = True,
    leave_one_out: bool = True,
) -> dict[str, Any]:
    """The JSON-ready summary of one outcome: per-study rows, the pooled estimate, heterogeneity, subgroups
    (with the test for subgroup differences) and leave-one-out rows. See the module docstring for conventions.

    Raises StatsInputError for invalid options or study data (the message names the study and the field). A
    pooled estimate that the valid data cannot give (every study excluded, an MH ratio without events in one
    group) is reported as None with a note instead.
    """
    _check_options(measure, model, method, hksj, level)
    studies = list(studies)
    if not studies:
        raise StatsInputError("There are no studies to analyse.")
    yi, vi, effects = effect_sizes(studies, measure)
    names = [_name(s, i) for i, s in enumerate(studies)]
    dichotomous = measure in DICHOTOMOUS_MEASURES
    ratio = measure in RATIO_MEASURES or (measure == "GIV" and giv_ratio)
    cells = _tables(studies) if dichotomous else None
    if method == "PETO" and cells is not None:
        o_e, v_peto = _peto_terms(*cells)
        with np.errstate(divide="ignore", invalid="ignore"):
            yi, vi = o_e / v_peto, 1 / v_peto
        effects = [
            StudyEffect(None if e.excluded else float(yi[i]), None if e.excluded else float(vi[i]), False, e.excluded)
            for i, e in enumerate(effects)
        ]
    included = np.array([e.excluded is None for e in effects], dtype=bool)
    idx = np.flatnonzero(included)
    notes = _data_notes(names, effects, method, measure)
    z_crit = float(sps.norm.isf((1 - level) / 2))

    shown = [_shown_fields(s, i, measure) for i, s in enumerate(studies)]

    def participants(indices: NDArray[np.int64]) -> int | None:
        totals = [
            shown[i]["total_1"] + shown[i]["total_2"]
            for i in indices
            if shown[i]["total_1"] is not None and shown[i]["total_2"] is not None
        ]
        return int(sum(totals)) if totals else None

    def fit(indices: NDArray[np.int64]) -> PooledEstimate:
        if method == "MH" and cells is not None:
            a, b, c, d = _revman_mh_cells(*(x[indices] for x in cells), measure=measure)
            return _mh_pool(a, b, c, d, yi[indices], vi[indices], measure, level)
        if method == "PETO" and cells is not None:
            a, b, c, d = (x[indices] for x in cells)
            return _peto_pool(a, b, c, d, level)
        if len(indices) == 0:
            raise NotEstimableError("No study could be pooled.")
        if model == "fixed":
            return fixed_iv(yi[indices], vi[indices], level=level)
        return random_effects(yi[indices], vi[indices], method, hksj, level=level)

    main: PooledEstimate | None = None
    if pooled:
        try:
            main = fit(idx)
        except NotEstimableError as exc:
            notes.append(f"Pooled estimate not available: {exc}")
        if main is not None and hksj and main.k == 1:
            notes.append("The Hartung–Knapp–Sidik–Jonkman adjustment needs 2 or more studies; normal CI used.")
        if main is not None and not main.converged:
            notes.append(f"{method} Fisher scoring did not converge; tau² is the root of its estimating equation.")

    total_weight = sum(main.weights) if main is not None else 0.0
    weight_of = dict(zip(idx.tolist(), main.weights, strict=True)) if main is not None else {}
    per_study = []
    for i, (study, effect) in enumerate(zip(studies, effects, strict=True)):
        se = math.sqrt(effect.vi) if effect.vi is not None else None
        low = high = None
        if effect.yi is not None and se is not None:
            low, high = effect.yi - z_crit * se, effect.yi + z_crit * se
        weight = weight_of.get(i)
        per_study.append(
            {
                "label": study.label,
                "subgroup": study.subgroup,
                "effect": _natural(effect.yi, ratio),
                "ci_low": _natural(low, ratio),
                "ci_high": _natural(high, ratio),
                "yi": _json(effect.yi),
                "se": _json(se),
                "weight": _json(100.0 * weight / total_weight) if weight is not None and total_weight > 0 else None,
                "excluded": effect.excluded,
                "corrected": effect.corrected,
                **shown[i],
            }
        )

    result: dict[str, Any] = {
        "measure": measure,
        "model": model,
        "method": method,
        "hksj": bool(hksj),
        "pooled": bool(pooled),
        "ratio": ratio,
        **_pooled_keys(main, ratio),
        "z": _json(main.z) if main else None,
        "p": _json(main.p) if main else None,
        "t_df": main.t_df if main else None,
        "tau": _json(math.sqrt(main.tau2)) if main and main.tau2 is not None else None,
        "h2": _json(main.h2) if main else None,
        "p_heterogeneity": _json(main.p_heterogeneity) if main else None,
        "prediction_low": _natural(main.prediction_low, ratio) if main else None,
        "prediction_high": _natural(main.prediction_high, ratio) if main else None,
        "studies": int(len(idx)),
        "participants": participants(idx),
        "events_1": None,
        "total_1": None,
        "events_2": None,
        "total_2": None,
        "per_study": per_study,
        "notes": notes,
        "subgroups": [],
        "subgroup_test": None,
        "leave_one_out": [],
    }
    if dichotomous:
        # Totals over every study shown, as RevMan's total row (excluded double-zero studies included).
        for key in ("events_1", "total_1", "events_2", "total_2"):
            result[key] = int(sum(row[key] for row in shown))
    if main is None:
        return result

    if subgroups and any(s.subgroup for s in studies):
        result["subgroups"], result["subgroup_test"] = _subgroups(studies, included, fit, participants, ratio)
    if leave_one_out and len(idx) >= 3:
        if method in ("MH", "PETO"):
            fits = [_estimable(fit, np.delete(idx, j)) for j in range(len(idx))]
            keys = ("estimate", "ci_low", "ci_high", "tau2", "i2")
            columns = [[getattr(f, key) if f else None for f in fits] for key in keys]
        else:  # every omission at once (stats_engine); the same numbers as separate fits, tested
            engine_method = "IV" if model == "fixed" else method
            mask = ~np.eye(len(idx), dtype=bool)
            batch, _ = engine.pool_rows(yi[idx], vi[idx], mask, method=engine_method, hksj=hksj, level=level)
            columns = [batch.estimate.tolist(), batch.ci_low.tolist(), batch.ci_high.tolist()]
            columns += [batch.tau2.tolist(), batch.i2.tolist()]
        result["leave_one_out"] = [
            {
                "omitted": names[i],
                "estimate": _natural(estimate, ratio),
                "ci_low": _natural(low, ratio),
                "ci_high": _natural(high, ratio),
                "tau2": _json(tau2),
                "i2": _json(i2),
            }
            for i, estimate, low, high, tau2, i2 in zip(idx.tolist(), *columns, strict=True)
        ]
    return result


def _estimable(fit: Callable[[NDArray[np.int64]], PooledEstimate], indices: NDArray[np.int64]) -> PooledEstimate | None:
    """The fit of these studies, or None where its estimate is undefined (a leave-one-out row or a subgroup)."""
    try:
        return fit(indices)
    except NotEstimableError:
        return None


def _subgroups(
    studies: list[StudyData],
    included: NDArray[np.bool_],
    fit: Callable[[NDArray[np.int64]], PooledEstimate],
    participants: Callable[[NDArray[np.int64]], int | None],
    ratio: bool,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Each subgroup pooled under the same model, and the test for subgroup differences.

    Test for subgroup differences (Borenstein & Higgins 2013; RevMan 5, Deeks & Higgins 2010): Q_between =
    Σ w_g(θ_g − θ̄)² over the subgroup estimates with w_g = 1/SE_g² and θ̄ their weighted mean, df = G − 1,
    I² = max(0, (Q − df)/Q). With fixed-effect IV subgroups this equals Q_total − Σ Q_within.
    """
    names: list[str] = []
    for study in studies:
        if study.subgroup not in names:
            names.append(study.subgroup)
    entries, estimates, variances = [], [], []
    for name in names:
        members = np.array([s.subgroup == name for s in studies]) & included
        indices = np.flatnonzero(members)
        group_fit = _estimable(fit, indices)
        entry = {"name": name, **_pooled_keys(group_fit, ratio)}
        entry["p_heterogeneity"] = _json(group_fit.p_heterogeneity) if group_fit else None
        entry["studies"] = int(len(indices))
        entry["participants"] = participants(indices)
        entries.append(entry)
        if group_fit is not None and group_fit.se > 0:
            estimates.append(group_fit.estimate)
            variances.append(group_fit.se**2)
    if len(estimates) < 2:
        return entries, None
    theta, w = np.array(estimates), 1 / np.array(variances)
    mean = (w * theta).sum() / w.sum()
    q = float((w * (theta - mean) ** 2).sum())
    df = len(estimates) - 1
    i2 = max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0
    return entries, {"q": _json(q), "df": df, "p": _json(sps.chi2.sf(q, df)), "i2": _json(i2)}
