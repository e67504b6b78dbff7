"""Inverse-variance pooling and tau² estimators, vectorised over many analyses of the same studies at once.

Helper of `synthesis.stats` (use that module; names here may change). Every function takes the per-study
outcomes `y` and sampling variances `v` (1-D, finite, v > 0) and a boolean `mask` of shape (rows, studies): row r
is the analysis of the studies where `mask[r]` is true. The main analysis is one row; leave-one-out is k rows,
so the iterative estimators run once for all of them instead of k times.

The estimators reproduce metafor's `rma.uni()` (Viechtbauer 2010, J Stat Softw 36(3); source of rma.uni in
metafor 3.8/4.x) step for step, including its starting values and stopping rules, because the reference
results are metafor's converged iterates rather than the exact roots: REML from the exact root differs from
metafor by up to 1e-6 on the dat.normand1999 MD data, the replayed Fisher scoring by < 1e-10.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

# metafor rma.uni() control defaults: threshold (Fisher scoring), tol (uniroot, = .Machine$double.eps^0.25),
# maxiter, tau2.max (PM upper bound, made adaptive as max(100, 10 * mad(yi)^2)).
FISHER_THRESHOLD = 1e-5
FISHER_MAXITER = 100
UNIROOT_TOL = float(np.finfo(float).eps) ** 0.25
PM_TAU2_MAX = 100.0
DBL_EPSILON = float(np.finfo(float).eps)


def dersimonian_laird(y: Floats, v: Floats, mask: Bools) -> Floats:
    """DerSimonian & Laird (1986) moment estimator, truncated at 0: tau² = max(0, (Q − (k−1)) / (Σw − Σw²/Σw))."""
    m = mask.astype(float)
    k = m.sum(axis=1)
    w = m / v
    sw = w.sum(axis=1)
    mu = (w * y).sum(axis=1) / sw
    q = (w * (y - mu[:, None]) ** 2).sum(axis=1)
    c = sw - (w * w).sum(axis=1) / sw
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = (q - (k - 1)) / c
    return np.where(k > 1, np.maximum(tau2, 0.0), 0.0)


def hedges(y: Floats, v: Floats, mask: Bools) -> Floats:
    """Hedges (1983) estimator var(y) − mean(v), metafor's starting value for ML/REML (not truncated)."""
    m = mask.astype(float)
    k = m.sum(axis=1)
    ybar = (m * y).sum(axis=1) / k
    rss = (m * (y - ybar[:, None]) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(k > 1, rss / (k - 1) - (m * v).sum(axis=1) / k, 0.0)


def _reml_ml_step(y: Floats, v: Floats, m: Floats, tau2: Floats, method: str) -> Floats:
    """One Fisher scoring step for the intercept-only model (metafor rma.uni source; Viechtbauer 2005, eqs. 9-10).

    With P = W − w wᵀ/Σw: Y'PPY = Σ w²(y − μ̂)², tr P = Σw − Σw²/Σw, tr PP = Σw² − 2Σw³/Σw + (Σw²/Σw)².
    REML: Δ = (Y'PPY − tr P) / tr PP;  ML: Δ = (Y'PPY − Σw) / Σw².
    """
    w = m / (v + tau2[:, None])
    sw = w.sum(axis=1)
    s2 = (w * w).sum(axis=1)
    mu = (w * y).sum(axis=1) / sw
    ypppy = (w * w * (y - mu[:, None]) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "REML":
            tr_p = sw - s2 / sw
            tr_pp = s2 - 2.0 * (w**3).sum(axis=1) / sw + (s2 / sw) ** 2
            return np.asarray((ypppy - tr_p) / tr_pp, dtype=float)
        return np.asarray((ypppy - sw) / s2, dtype=float)


def _halve_until_nonnegative(tau2: Floats, adj: Floats) -> Floats:
    """metafor's step halving `while (tau2 + adj < tau2.min) adj <- adj / 2` with tau2.min = 0.

    From tau2 = 0 the halving only stops when adj underflows to −0.0, so the step is 0 (done directly here).
    """
    adj = adj.copy()
    for i in np.flatnonzero(tau2 + adj < 0):
        if tau2[i] == 0.0:
            adj[i] = 0.0
            continue
        step = float(adj[i])
        while tau2[i] + step < 0:
            step /= 2.0
        adj[i] = step
    return adj


def _score_root(y: Floats, v: Floats, method: str) -> float:
    """Fallback when Fisher scoring does not converge: the root of the ML/REML estimating equation (brentq)."""

    def score(t: float) -> float:
        w = 1.0 / (v + t)
        sw = w.sum()
        mu = (w * y).sum() / sw
        ypppy = (w * w * (y - mu) ** 2).sum()
        return float(ypppy - (sw - (w * w).sum() / sw if method == "REML" else sw))

    if score(0.0) <= 0:
        return 0.0
    upper = max(PM_TAU2_MAX, 10.0 * float(np.var(y)))
    for _ in range(200):
        if score(upper) < 0:
            break
        upper *= 2.0
    else:
        return upper
    return float(optimize.brentq(score, 0.0, upper, xtol=1e-14, rtol=1e-14, maxiter=500))


def fisher_scoring(y: Floats, v: Floats, mask: Bools, method: str) -> tuple[Floats, Bools]:
    """ML or REML tau² by metafor's Fisher scoring, all rows at once; returns (tau2, converged).

    Start at max(0, Hedges); iterate τ² += Δ (step-halved to stay ≥ 0) until |Δ| ≤ 1e-5, at most 100 times
    (metafor rma.uni defaults). A row that does not converge (metafor stops with an error) gets the root of its
    estimating equation instead and is flagged `converged=False`.
    """
    m = mask.astype(float)
    k = m.sum(axis=1)
    tau2 = np.maximum(hedges(y, v, mask), 0.0)
    tau2[k <= 1] = 0.0
    active = k > 1
    converged = np.ones(len(tau2), dtype=bool)
    for _ in range(FISHER_MAXITER + 1):
        if not active.any():
            break
        rows = np.flatnonzero(active)
        current = tau2[rows]
        adj = _reml_ml_step(y, v, m[rows], current, method)
        bad = ~np.isfinite(adj)
        adj[bad] = 0.0
        adj = _halve_until_nonnegative(current, adj)
        updated = current + adj
        tau2[rows] = updated
        converged[rows[bad]] = False
        active[rows] = (np.abs(updated - current) > FISHER_THRESHOLD) & ~bad
    converged &= ~active
    for r in np.flatnonzero(~converged):
        tau2[r] = _score_root(y[mask[r]], v[mask[r]], method)
    return tau2, converged


def r_zeroin(
    f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float, tol: float, maxiter: int
) -> float:
    """R's `uniroot()` (R_zeroin2 in src/library/stats/src/zeroin.c): Brent's method exactly as R steps it.

    Reproduced rather than calling scipy's brentq because metafor's Paule–Mandel estimate is uniroot's iterate at
    tol = eps^0.25 (~1.2e-4), and brentq's iterate at that tolerance lands elsewhere within it.
    """
    a, b = ax, bx
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * DBL_EPSILON * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:  # linear interpolation
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:  # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _r_median(x: Floats) -> float:
    """R's median(): the middle value, or the mean of the two middle values (np.median, without its overhead)."""
    s = np.sort(x)
    n = len(s)
    return float((s[(n - 1) // 2] + s[n // 2]) / 2.0)


def _r_mad(x: Floats) -> float:
    """R's mad(): 1.4826 × median absolute deviation from the median."""
    return 1.4826 * _r_median(np.abs(x - _r_median(x)))


def paule_mandel_one(y: Floats, v: Floats) -> float:
    """Paule & Mandel (1982) tau²: the root of the generalised Q, Σ (y − μ̂)²/(v + τ²) = k − 1.

    As metafor rma.uni: 0 when Q(0) < k − 1, otherwise uniroot on [0, max(100, 10·mad(y)²)] with tol eps^0.25,
    on mean-centred y. Where metafor would stop ("tau2.max too low") the upper bound is widened tenfold until
    the root is bracketed (Q(τ²) falls to 0 as τ² grows, so it always is).
    """
    k = len(y)
    if k <= 1:
        return 0.0
    ymc = y - float(y.sum()) / k
    target = float(k - 1)

    def excess_q(t: float) -> float:
        w = 1.0 / (v + t)
        mu = float(w @ ymc) / float(w.sum())
        r = ymc - mu
        return float(w @ (r * r)) - target

    f_lower = excess_q(0.0)
    if f_lower < 0:
        return 0.0
    upper = max(PM_TAU2_MAX, 10.0 * _r_mad(y) ** 2)
    f_upper = excess_q(upper)
    while f_upper > 0 and math.isfinite(upper):
        upper *= 10.0
        f_upper = excess_q(upper)
    return r_zeroin(excess_q, 0.0, upper, f_lower, f_upper, UNIROOT_TOL, 1000)


def estimate_tau2(y: Floats, v: Floats, mask: Bools, method: str) -> tuple[Floats, Bools]:
    """tau² per row for method IV (fixed effect: 0), DL, REML, ML or PM; returns (tau2, converged)."""
    rows = mask.shape[0]
    ok = np.ones(rows, dtype=bool)
    if method == "IV":
        return np.zeros(rows), ok
    if method == "DL":
        return dersimonian_laird(y, v, mask), ok
    if method in ("REML", "ML"):
        return fisher_scoring(y, v, mask, method)
    if method == "PM":
        return np.array([paule_mandel_one(y[mask[r]], v[mask[r]]) for r in range(rows)]), ok
    raise ValueError(f"unknown tau² method {method!r}")


class Pooled(NamedTuple):
    """Vectorised results, one entry per row (NaN where not applicable, e.g. heterogeneity with k = 1)."""

    k: NDArray[np.int64]
    estimate: Floats
    se: Floats
    ci_low: Floats
    ci_high: Floats
    stat: Floats  # z, or t for HKSJ rows
    p: Floats
    t_df: NDArray[np.int64]  # −1 where the normal distribution was used
    tau2: Floats  # NaN for fixed-effect rows
    q: Floats
    p_heterogeneity: Floats
    i2: Floats
    h2: Floats
    prediction_low: Floats
    prediction_high: Floats
    weights: Floats  # (rows, studies), 0 outside the row's mask


def heterogeneity(q: Floats, k: NDArray[np.int64], tau2: Floats | None, s2: Floats) -> tuple[Floats, Floats, Floats]:
    """(p, I², H²) per row; Q-based when tau2 is None, otherwise from tau² as metafor reports them.

    Q-based (Higgins & Thompson 2002): I² = max(0, (Q − df)/Q)·100, H² = Q/df.
    tau²-based (metafor rma.uni, Higgins & Thompson 2002 eq. 9): I² = 100·τ²/(τ² + s²), H² = (τ² + s²)/s²,
    with the "typical" within-study variance s² = (k−1)Σw / ((Σw)² − Σw²), w = 1/v.
    """
    df = (k - 1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_het = np.where(df > 0, special.chdtrc(np.maximum(df, 1), q), np.nan)  # chi² upper tail
        if tau2 is None:
            i2 = np.where(q > 0, np.maximum(0.0, 100.0 * (q - df) / q), 0.0)
            h2 = q / df
        else:
            i2 = 100.0 * tau2 / (tau2 + s2)
            h2 = (tau2 + s2) / s2
    single = df <= 0
    return p_het, np.where(single, np.nan, i2), np.where(single, np.nan, h2)


def summarise(
    *,
    k: NDArray[np.int64],
    estimate: Floats,
    se: Floats,
    tau2: Floats | None,
    q: Floats,
    s2: Floats,
    s2w: Floats | None,
    weights: Floats,
    level: float,
) -> Pooled:
    """CIs, tests, heterogeneity and prediction intervals from each row's estimate, SE, tau² and Q.

    `tau2` None means a fixed-effect model. `s2w` is the Knapp–Hartung scale Σw(y − μ̂)²/(k − 1) for HKSJ rows
    (None for none): the SE becomes √(s2w/Σw) = se·√s2w and CI, test and prediction interval use t with k − 1
    df (Knapp & Hartung 2003; Sidik & Jonkman 2002; metafor `test="knha"`, which does not truncate s2w at 1).
    Rows with a single study fall back to the normal distribution, as metafor does.
    Prediction interval (random effects, k ≥ 3): μ̂ ± crit·√(τ² + SE²) with crit the normal quantile, or
    t_{k−1} for HKSJ rows — metafor's predict.rma(); Higgins, Thompson & Spiegelhalter (2009) use t_{k−2}.
    """
    # scipy.special ufuncs rather than scipy.stats distributions: same values, a fraction of the overhead.
    alpha = 1.0 - level
    z_crit = -float(special.ndtri(alpha / 2.0))
    knha = np.zeros(len(k), dtype=bool) if s2w is None else (k > 1)
    t_df = np.where(knha, k - 1, -1)
    if s2w is not None:
        se = np.where(knha, se * np.sqrt(s2w), se)
    crit = np.where(knha, -special.stdtrit(np.maximum(t_df, 1), alpha / 2.0), z_crit)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = estimate / se
        tail = np.where(knha, special.stdtr(np.maximum(t_df, 1), -np.abs(stat)), special.ndtr(-np.abs(stat)))
        p = 2.0 * tail
    p_het, i2, h2 = heterogeneity(q, k, tau2, s2)
    if tau2 is None:
        pi_low = pi_high = np.full(len(k), np.nan)
        tau2_out = np.full(len(k), np.nan)
    else:
        half = crit * np.sqrt(tau2 + se**2)
        enough = k >= 3
        pi_low = np.where(enough, estimate - half, np.nan)
        pi_high = np.where(enough, estimate + half, np.nan)
        tau2_out = np.where(k > 1, tau2, np.nan)
    return Pooled(
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        stat=stat,
        p=p,
        t_df=t_df,
        tau2=tau2_out,
        q=np.where(k > 1, q, np.nan),
        p_heterogeneity=p_het,
        i2=i2,
        h2=h2,
        prediction_low=pi_low,
        prediction_high=pi_high,
        weights=weights,
    )


def typical_variance(w_fe: Floats, k: NDArray[np.int64]) -> Floats:
    """s² = (k−1)Σw / ((Σw)² − Σw²) with w = 1/v (Higgins & Thompson 2002; metafor rma.uni)."""
    sw = w_fe.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((k - 1) * sw / (sw**2 - (w_fe * w_fe).sum(axis=1)), dtype=float)


def pool_rows(y: Floats, v: Floats, mask: Bools, *, method: str, hksj: bool, level: float) -> tuple[Pooled, Bools]:
    """Inverse-variance pooling of every row of `mask` (fixed effect for method IV, else random effects)."""
    m = mask.astype(float)
    k = m.sum(axis=1).astype(np.int64)
    w_fe = m / v
    sw_fe = w_fe.sum(axis=1)
    mu_fe = (w_fe * y).sum(axis=1) / sw_fe
    q = np.maximum(0.0, (w_fe * (y - mu_fe[:, None]) ** 2).sum(axis=1))
    s2 = typical_variance(w_fe, k)
    random = method != "IV"
    tau2, converged = estimate_tau2(y, v, mask, method)
    w = m / (v + tau2[:, None]) if random else w_fe
    sw = w.sum(axis=1)
    mu = (w * y).sum(axis=1) / sw
    se = np.sqrt(1.0 / sw)
    s2w = None
    if random and hksj:
        with np.errstate(divide="ignore", invalid="ignore"):
            s2w = (w * (y - mu[:, None]) ** 2).sum(axis=1) / (k - 1)
    pooled = summarise(
        k=k, estimate=mu, se=se, tau2=tau2 if random else None, q=q, s2=s2, s2w=s2w, weights=w, level=level
    )
    return pooled, converged
