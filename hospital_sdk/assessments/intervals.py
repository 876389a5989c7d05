"""Confidence intervals and funnel-plot limits for proportions and rates.

The scoring step (:mod:`hospital_sdk.assessments.scoring`) and the report's funnel plot use these
so that a small department's extreme value can be read as noise when it is. Everything here is a
pure, vectorised function of NumPy arrays (scalars broadcast); nothing reads storage.

=================== ==================================================================
function            what it gives
=================== ==================================================================
``wilson_interval`` Wilson score interval of a proportion (successes out of trials)
``poisson_interval`` exact (Garwood) interval of a Poisson rate (events per exposure)
``funnel_limits``   control limits around a target at each denominator (Spiegelhalter)
``funnel_flag``     ``above`` / ``below`` / ``within`` the limits
=================== ==================================================================

Numerical method
----------------
SciPy is not a dependency, so the exact Poisson interval and the Poisson funnel limits use the
regularized incomplete gamma functions implemented here: the power series for ``x < a + 1`` and
the Lentz continued fraction otherwise (Press et al., *Numerical Recipes*, 3rd ed., §6.2), both
to a relative tolerance of 1e-15. The gamma quantile is found by Newton's method from the
Wilson–Hilferty start, safeguarded by bisection inside a bracket that always holds the root, and
stops at a relative step of 1e-12: the interval ends are accurate to about 1e-10 relative (the
tests check the chi-square table values and that the Poisson tail sums at the ends equal α/2).
Normal quantiles come from :class:`statistics.NormalDist` (accurate to double precision).
The loops run over the array elements still unconverged, never over rows one by one; the number of
series / fraction terms grows like the square root of the count (about 3 000 for a million).

Examples
--------
>>> low, high = wilson_interval(8, 10)
>>> round(float(low), 4), round(float(high), 4)
(0.4902, 0.9433)
>>> low, high = poisson_interval([0, 10], 1.0)
>>> [round(float(x), 3) for x in low], [round(float(x), 3) for x in high]
([0.0, 4.795], [3.689, 18.39])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from hospital_sdk.assessments.binomial import regularized_beta

__all__ = ["funnel_flag", "funnel_limits", "poisson_interval", "wilson_interval"]

ArrayLike = npt.ArrayLike
_EPS = 1e-15
_TINY = 1e-300
_lgamma = np.vectorize(math.lgamma, otypes=[float])


def _z_of(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level in (0, 1)."""
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + float(confidence) / 2.0)


def _unwrap(a: np.ndarray) -> np.ndarray | np.float64:
    """A 0-d result becomes a NumPy scalar; arrays stay arrays."""
    return a[()] if a.ndim == 0 else a


def _counts(name: str, values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if np.any(arr < 0):  # NaN compares False: NaN passes through
        raise ValueError(f"{name} must not be negative")
    return arr


def wilson_interval(successes: ArrayLike, trials: ArrayLike, *,
                    confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the proportion ``successes / trials`` (as 0–1 proportions).

    With :math:`\\hat p = x/n` and :math:`z` the two-sided normal quantile,

    .. math::
        \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    (Wilson 1927; recommended over the Wald interval by Brown, Cai & DasGupta 2001). The ends
    stay inside [0, 1]: 0 successes give a low end of exactly 0, all successes a high end of 1.

    Parameters
    ----------
    successes, trials
        Counts (array-like, broadcast together). Non-integer values are accepted (weighted
        counts). NaN gives NaN.
    confidence
        Two-sided confidence level, 0.95 by default.

    Returns
    -------
    (low, high)
        Arrays of the broadcast shape (NumPy scalars for scalar input); NaN where trials is 0.

    Raises
    ------
    ValueError
        Negative counts, successes above trials, or a confidence outside (0, 1).

    Examples
    --------
    8 of 10 at 95 % (by hand: centre 0.7167, half-width 0.2266), 0 of 10, 10 of 10, 0 of 0:

    >>> low, high = wilson_interval([8, 0, 10, 0], [10, 10, 10, 0])
    >>> np.round(low, 4).tolist(), np.round(high, 4).tolist()
    ([0.4902, 0.0, 0.7225, nan], [0.9433, 0.2775, 1.0, nan])
    """
    z = _z_of(confidence)
    x, n = np.broadcast_arrays(_counts("successes", successes), _counts("trials", trials))
    if np.any(x > n):
        raise ValueError("successes must not exceed trials")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2n = z * z / n
        centre = (p + z2n / 2.0) / (1.0 + z2n)
        half = z / (1.0 + z2n) * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    low = np.where(x == 0, 0.0, low)  # exact ends, not 1e-17 from rounding
    high = np.where(x == n, 1.0, high)
    empty = ~(n > 0)
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    return _unwrap(low), _unwrap(high)


# -- regularized incomplete gamma --------------------------------------------------------------

def _gamma_pq(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Regularized incomplete gamma ``(P(a, x), Q(a, x))`` for ``a > 0``, ``x >= 0`` (1-d).

    The series gives P (``x < a + 1``), the continued fraction Q (otherwise); the other is
    ``1 -`` it, so the smaller of the two is always the accurate one.
    """
    a = np.asarray(a, dtype=float)
    x = np.asarray(x, dtype=float)
    p = np.zeros_like(x)
    q = np.ones_like(x)
    positive = x > 0
    if not positive.any():
        return p, q
    front = np.zeros_like(x)
    front[positive] = np.exp(-x[positive] + a[positive] * np.log(x[positive])
                             - _lgamma(a[positive]))
    max_terms = int(20.0 * math.sqrt(float(np.max(np.where(positive, a + x, 0.0)))) + 200)

    series = positive & (x < a + 1.0)
    idx = np.flatnonzero(series)
    if idx.size:
        aa, xx = a[idx], x[idx]
        ap = aa.copy()
        term = 1.0 / aa
        total = term.copy()
        active = np.arange(idx.size)
        for _ in range(max_terms):
            ap[active] += 1.0
            term[active] *= xx[active] / ap[active]
            total[active] += term[active]
            active = active[np.abs(term[active]) >= np.abs(total[active]) * _EPS]
            if not active.size:
                break
        p[idx] = np.minimum(total * front[idx], 1.0)
        q[idx] = 1.0 - p[idx]

    fraction = positive & ~series
    idx = np.flatnonzero(fraction)
    if idx.size:
        aa, xx = a[idx], x[idx]
        b = xx + 1.0 - aa
        c = np.full_like(xx, 1.0 / _TINY)
        d = 1.0 / b
        h = d.copy()
        active = np.arange(idx.size)
        for i in range(1, max_terms):
            an = -i * (i - aa[active])
            b[active] += 2.0
            dd = an * d[active] + b[active]
            dd = np.where(np.abs(dd) < _TINY, _TINY, dd)
            cc = b[active] + an / c[active]
            cc = np.where(np.abs(cc) < _TINY, _TINY, cc)
            dd = 1.0 / dd
            delta = dd * cc
            d[active], c[active] = dd, cc
            h[active] *= delta
            active = active[np.abs(delta - 1.0) >= _EPS]
            if not active.size:
                break
        q[idx] = np.minimum(front[idx] * h, 1.0)
        p[idx] = 1.0 - q[idx]
    return p, q


def _gamma_quantile(a: np.ndarray, prob: float) -> np.ndarray:
    """``x`` with ``P(a, x) = prob`` (the ``prob`` quantile of Gamma(shape a, scale 1)), 1-d.

    Newton from the Wilson–Hilferty start, inside a bracket kept around the root; a step leaving
    the bracket is replaced by bisection (or doubling while there is no upper end yet).
    """
    a = np.asarray(a, dtype=float)
    z = NormalDist().inv_cdf(prob)
    x = a * (1.0 - 1.0 / (9.0 * a) + z / (3.0 * np.sqrt(a))) ** 3
    small = ~(x > 0) | (a < 1.0)  # small shape: P ~ x^a / Gamma(a + 1)
    x = np.where(small, np.exp((math.log(prob) + _lgamma(a + 1.0)) / a), x)
    lo = np.zeros_like(a)
    hi = np.full_like(a, np.inf)
    active = np.arange(a.size)
    for _ in range(200):
        aa, xx = a[active], x[active]
        p, q = _gamma_pq(aa, xx)
        f = np.where(p < 0.5, p - prob, (1.0 - prob) - q)  # P - prob, from the accurate side
        below = f < 0
        lo[active] = np.where(below, xx, lo[active])
        hi[active] = np.where(below, hi[active], xx)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            density = np.exp((aa - 1.0) * np.log(xx) - xx - _lgamma(aa))
            new = xx - f / density
        la, ha = lo[active], hi[active]
        outside = ~((new > la) & (new < ha))
        fallback = np.where(np.isinf(ha), 2.0 * xx, (la + ha) / 2.0)
        new = np.where(f == 0, xx, np.where(outside, fallback, new))
        x[active] = new
        done = (np.abs(new - xx) <= 1e-12 * np.abs(new)) | (f == 0)
        active = active[~done]
        if not active.size:
            break
    return x


def poisson_interval(events: ArrayLike, exposure: ArrayLike = 1.0, *,
                     confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood 1936) confidence interval of a Poisson rate ``events / exposure``.

    For :math:`k` events and :math:`\\alpha = 1 -` confidence, the interval of the expected count
    is :math:`[\\chi^2_{\\alpha/2}(2k)/2,\\ \\chi^2_{1-\\alpha/2}(2k+2)/2]`, i.e. the
    :math:`\\alpha/2` quantile of Gamma(k) and the :math:`1-\\alpha/2` quantile of Gamma(k+1)
    (the low end is 0 when k = 0); both are divided by the exposure. The quantiles are computed
    here without SciPy (module docstring: about 1e-10 relative accuracy).

    Parameters
    ----------
    events
        Event counts (array-like). Non-integer values are accepted and treated as a gamma shape.
    exposure
        Person-time, patient-days, discharges… (broadcast against ``events``); 1 gives the
        interval of the count itself. 0 gives NaN.
    confidence
        Two-sided confidence level, 0.95 by default.

    Returns
    -------
    (low, high)
        Rates per unit of exposure (NumPy scalars for scalar input).

    Raises
    ------
    ValueError
        Negative events or exposure, or a confidence outside (0, 1).

    Examples
    --------
    0, 1 and 10 events (from chi-square tables: χ²₀.₉₇₅(2)/2 = 3.689, χ²₀.₀₂₅(2)/2 = 0.0253,
    χ²₀.₉₇₅(4)/2 = 5.572, χ²₀.₀₂₅(20)/2 = 4.795, χ²₀.₉₇₅(22)/2 = 18.39):

    >>> low, high = poisson_interval([0, 1, 10])
    >>> np.round(low, 4).tolist(), np.round(high, 3).tolist()
    ([0.0, 0.0253, 4.7954], [3.689, 5.572, 18.39])

    3 infections in 1,200 catheter-days, per 1,000 catheter-days:

    >>> low, high = poisson_interval(3, 1200)
    >>> round(float(low) * 1000, 3), round(float(high) * 1000, 3)
    (0.516, 7.306)
    """
    _z_of(confidence)
    alpha = 1.0 - float(confidence)
    k, t = np.broadcast_arrays(_counts("events", events), _counts("exposure", exposure))
    shape = k.shape
    k, t = k.ravel(), t.ravel()
    low = np.full(k.shape, np.nan)
    high = np.full(k.shape, np.nan)
    known = ~np.isnan(k)
    low[known & (k == 0)] = 0.0
    some = known & (k > 0)
    if some.any():
        low[some] = _gamma_quantile(k[some], alpha / 2.0)
    if known.any():
        high[known] = _gamma_quantile(k[known] + 1.0, 1.0 - alpha / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(t > 0, low / t, np.nan).reshape(shape)
        high = np.where(t > 0, high / t, np.nan).reshape(shape)
    return _unwrap(low), _unwrap(high)


# -- funnel plots --------------------------------------------------------------------------------

def _poisson_cdf(r: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """P(R <= r) for R ~ Poisson(mu): Q(r + 1, mu); 0 for r < 0, 1 for mu = 0."""
    out = np.zeros_like(mu)
    ok = r >= 0
    if ok.any():
        out[ok] = _gamma_pq(r[ok] + 1.0, mu[ok])[1]
    return out


def _poisson_limit(mu: np.ndarray, n: np.ndarray, prob: float) -> np.ndarray:
    """Spiegelhalter's interpolated exact Poisson limit at ``prob``, per unit of exposure ``n``.

    ``r`` is the smallest count with ``F(r) >= prob``; the limit is ``(r - a) / n`` with
    ``a = (F(r) - prob) / (F(r) - F(r - 1))``, which makes the funnel a smooth curve (2005,
    Appendix A.1).
    """
    z = NormalDist().inv_cdf(prob)
    r = np.maximum(np.floor(mu + z * np.sqrt(mu) + (z * z - 1.0) / 6.0), 0.0)  # Cornish-Fisher
    f = _poisson_cdf(r, mu)
    for _ in range(10_000):  # the start is within a few counts; step to the exact quantile
        up = f < prob
        if up.any():
            r[up] += 1.0
            f[up] = _poisson_cdf(r[up], mu[up])
        before = _poisson_cdf(r - 1.0, mu)
        down = (r > 0) & (before >= prob)
        if not up.any() and not down.any():
            break
        r[down] -= 1.0
        f[down] = before[down]
    before = _poisson_cdf(r - 1.0, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (f - prob) / (f - before)
        return np.maximum((r - a) / n, 0.0)


def _binomial_limit(theta: np.ndarray, n: np.ndarray, prob: float) -> np.ndarray:
    """The binomial analogue of :func:`_poisson_limit` (Spiegelhalter 2005, Appendix A.1):
    ``F(r) = P(R <= r)``, R ~ Binomial(n, theta), is ``I_{1-theta}(n - r, r + 1)``."""
    def cdf(r: np.ndarray, m: np.ndarray, t: np.ndarray) -> np.ndarray:
        out = np.where(r >= m, 1.0, 0.0)
        mid = (r >= 0) & (r < m)
        if mid.any():
            out[mid] = regularized_beta(1.0 - t[mid], m[mid] - r[mid], r[mid] + 1.0)
        return out
    z = NormalDist().inv_cdf(prob)
    sd = np.sqrt(n * theta * (1.0 - theta))
    r = np.clip(np.floor(n * theta + z * sd + (1.0 - 2.0 * theta) * (z * z - 1.0) / 6.0), 0.0, n)
    f = cdf(r, n, theta)
    for _ in range(10_000):  # the start is within a few counts; step to the exact quantile
        up = (f < prob) & (r < n)
        if up.any():
            r[up] += 1.0
            f[up] = cdf(r[up], n[up], theta[up])
        before = cdf(r - 1.0, n, theta)
        down = (r > 0) & (before >= prob)
        if not up.any() and not down.any():
            break
        r[down] -= 1.0
        f[down] = before[down]
    before = cdf(r - 1.0, n, theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (f - prob) / (f - before)
        limit = np.clip((r - a) / n, 0.0, 1.0)
    return np.where((theta == 0) | (theta == 1), theta, limit)  # no spread at all


def funnel_limits(target: ArrayLike, denominators: ArrayLike, *,
                  kind: Literal["proportion", "binomial", "rate"] = "proportion",
                  z: float | Sequence[float] = (1.96, 3.09)) -> pd.DataFrame:
    """Funnel-plot control limits around ``target`` at each denominator (Spiegelhalter 2005).

    Spiegelhalter D.J., "Funnel plots for comparing institutional performance", *Statistics in
    Medicine* 24 (2005) 1185–1202: a unit is compared with the target using limits that narrow
    as its denominator grows; ``z = 1.96`` gives the 95 % ("warning") limits and ``z = 3.09`` the
    99.8 % ("alarm") limits.

    ``kind="proportion"``
        Binomial normal approximation: :math:`p_0 \\pm z\\sqrt{p_0(1-p_0)/n}`, clipped to
        [0, 1]; ``target`` is a proportion in 0–1 and ``denominators`` the trials.
    ``kind="binomial"``
        Exact binomial with the same interpolation: :math:`F` is the Binomial(n, p₀) CDF
        (from the incomplete beta of :mod:`hospital_sdk.assessments.binomial`), the limit
        :math:`(r_p - a)/n` clipped to [0, 1]; for small denominators or targets near 0 or 1,
        where the normal approximation is poor. ``target`` and ``denominators`` as for
        ``proportion`` (the denominators are trial counts).
    ``kind="rate"``
        Exact Poisson with Spiegelhalter's interpolation (Appendix A.1): with expected count
        :math:`\\mu = \\theta n`, :math:`r_p` the smallest count with
        :math:`F(r_p) \\ge p` and :math:`a = (F(r_p) - p)/(F(r_p) - F(r_p - 1))`, the limit is
        :math:`(r_p - a)/n` (floored at 0), for :math:`p = \\Phi(\\mp z)`; ``target`` is a rate
        per unit of exposure and ``denominators`` the exposure.

    Parameters
    ----------
    target
        The value the units are compared with (scalar or one per denominator).
    denominators
        Each unit's denominator (trials or exposure); 0 or NaN gives NaN limits.
    kind
        ``proportion`` or ``rate``.
    z
        One z or several; each gives its own rows.

    Returns
    -------
    pandas.DataFrame
        One row per z × denominator, z-major (so with one z the rows line up with the input):
        ``z``, ``coverage`` (two-sided, e.g. 0.95), ``target``, ``denominator``, ``low``,
        ``high``, in the unit of ``target``.

    Raises
    ------
    ValueError
        Unknown kind, a proportion target outside [0, 1], a negative rate, denominator or z.

    Examples
    --------
    >>> f = funnel_limits(0.1, [100, 400], z=1.96)
    >>> f[["denominator", "low", "high"]].round(4).to_dict("list")
    {'denominator': [100.0, 400.0], 'low': [0.0412, 0.0706], 'high': [0.1588, 0.1294]}
    >>> funnel_limits(0.02, [500], kind="rate", z=(1.96, 3.09))[["z", "low", "high"]].round(5)
          z      low     high
    0  1.96  0.00755  0.03232
    1  3.09  0.00244  0.04132
    """
    if kind not in ("proportion", "binomial", "rate"):
        raise ValueError(f"kind must be 'proportion', 'binomial' or 'rate', got {kind!r}")
    zs = [float(v) for v in np.atleast_1d(np.asarray(z, dtype=float))]
    if any(not v > 0 for v in zs):
        raise ValueError(f"z must be positive, got {z!r}")
    t, n = np.broadcast_arrays(np.asarray(target, dtype=float),
                               _counts("denominators", denominators))
    t, n = np.atleast_1d(t).astype(float).ravel(), np.atleast_1d(n).astype(float).ravel()
    if kind != "rate" and np.any((t < 0) | (t > 1)):
        raise ValueError("a proportion target must be between 0 and 1")
    if kind == "rate" and np.any(t < 0):
        raise ValueError("a rate target must not be negative")
    usable = (n > 0) & ~np.isnan(t)
    frames = []
    for zv in zs:
        low = np.full(t.shape, np.nan)
        high = np.full(t.shape, np.nan)
        if usable.any():
            tu, nu = t[usable], n[usable]
            if kind == "proportion":
                half = zv * np.sqrt(tu * (1.0 - tu) / nu)
                low[usable] = np.clip(tu - half, 0.0, 1.0)
                high[usable] = np.clip(tu + half, 0.0, 1.0)
            elif kind == "binomial":
                p_low = NormalDist().cdf(-zv)
                low[usable] = _binomial_limit(tu, nu, p_low)
                high[usable] = _binomial_limit(tu, nu, 1.0 - p_low)
            else:
                mu = tu * nu
                p_low = NormalDist().cdf(-zv)
                low[usable] = _poisson_limit(mu, nu, p_low)
                high[usable] = _poisson_limit(mu, nu, 1.0 - p_low)
        frames.append(pd.DataFrame({
            "z": zv, "coverage": 1.0 - 2.0 * NormalDist().cdf(-zv), "target": t,
            "denominator": n, "low": low, "high": high}))
    return pd.concat(frames, ignore_index=True)


def funnel_flag(values: ArrayLike, low: ArrayLike, high: ArrayLike) -> np.ndarray:
    """``'above'`` / ``'below'`` / ``'within'`` the limits (a value on a limit is within).

    Returns an object array; ``None`` where the value or a limit is missing.

    Examples
    --------
    >>> funnel_flag([0.2, 0.05, 0.1, np.nan, 0.3], [0.07, 0.07, 0.1, 0.07, np.nan],
    ...             [0.13, 0.13, 0.13, 0.13, 0.13]).tolist()
    ['above', 'below', 'within', None, None]
    """
    v, lo, hi = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (values, low, high)))
    out = np.where(v > hi, "above", np.where(v < lo, "below", "within")).astype(object)
    out[np.isnan(v) | np.isnan(lo) | np.isnan(hi)] = None
    return out
