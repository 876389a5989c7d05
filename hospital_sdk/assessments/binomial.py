"""Exact (Clopper–Pearson) confidence intervals of proportions, vectorised, without SciPy.

:func:`clopper_pearson_interval` is the "exact" binomial interval (Clopper & Pearson 1934): for
``x`` successes out of ``n`` trials and ``α = 1 − confidence``, the low end is the ``p`` at which
``P(X ≥ x) = α/2`` and the high end the ``p`` at which ``P(X ≤ x) = α/2``. Through the identity
between binomial tails and the beta distribution these are quantiles of beta laws:

    low = B⁻¹(α/2; x, n − x + 1)   (0 when x = 0)
    high = B⁻¹(1 − α/2; x + 1, n − x)   (1 when x = n)

It guarantees at least the nominal coverage (it is conservative); :func:`wilson_interval` in
:mod:`hospital_sdk.assessments.intervals` is closer to nominal on average. Use the exact one for
small denominators and for counts at 0 or at ``n``, where its ends are exact by construction.

Numerical method
----------------
The regularized incomplete beta ``I_x(a, b)`` is the continued fraction of *Numerical Recipes*
(Press et al., 3rd ed., §6.4) evaluated with Lentz's method to a relative tolerance of 1e-15, on
the side of the symmetry ``I_x(a, b) = 1 − I_{1−x}(b, a)`` where it converges fast (``x <
(a + 1)/(a + b + 2)``); the complement is kept as computed so that the smaller tail is always
the accurate one. Its quantile is Newton's method inside a bracket that always holds the root
(bisection when a step leaves it), stopping at a relative step of 1e-13; the high end is
solved as ``1 −`` the low quantile of the mirrored law, so both ends are found as small numbers
with full relative accuracy (``low(x, n) = 1 − high(n − x, n)`` to rounding). The
loops run over the still unconverged elements, never over rows one by one; the tests check
closed forms, table values and that the binomial tail sums at the ends equal α/2.

Examples
--------
>>> low, high = clopper_pearson_interval([0, 1, 5, 10], 10)
>>> np.round(low, 4).tolist(), np.round(high, 4).tolist()
([0.0, 0.0025, 0.1871, 0.6915], [0.3085, 0.445, 0.8129, 1.0])
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

__all__ = ["beta_quantile", "clopper_pearson_interval", "regularized_beta"]

_EPS = 1e-15
_TINY = 1e-300
_lgamma = np.vectorize(math.lgamma, otypes=[float])


def _log_beta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _lgamma(a) + _lgamma(b) - _lgamma(a + b)


def _fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of ``I_x(a, b)`` (NR ``betacf``), modified Lentz, 1-d arrays."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
    h = d.copy()
    active = np.arange(x.size)
    max_terms = int(20.0 * math.sqrt(float(np.max(a + b, initial=1.0)))) + 300
    for m in range(1, max_terms):
        aa_, bb_, xx = a[active], b[active], x[active]
        m2 = 2.0 * m
        for step in (0, 1):
            if step == 0:
                num = m * (bb_ - m) * xx / ((qam[active] + m2) * (aa_ + m2))
            else:
                num = -(aa_ + m) * (qab[active] + m) * xx / ((aa_ + m2) * (qap[active] + m2))
            dd = 1.0 + num * d[active]
            dd = 1.0 / np.where(np.abs(dd) < _TINY, _TINY, dd)
            cc = 1.0 + num / c[active]
            cc = np.where(np.abs(cc) < _TINY, _TINY, cc)
            d[active], c[active] = dd, cc
            delta = dd * cc
            h[active] *= delta
        active = active[np.abs(delta - 1.0) >= _EPS]
        if not active.size:
            break
    return h


def _beta_pq(a: np.ndarray, b: np.ndarray, x: np.ndarray, log_b: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(I_x(a, b), 1 − I_x(a, b))`` for ``a, b > 0`` and ``0 <= x <= 1`` (1-d arrays);
    ``log_b`` is ``ln B(a, b)`` when the caller has it."""
    p = np.where(x >= 1.0, 1.0, 0.0)
    q = 1.0 - p
    inside = (x > 0.0) & (x < 1.0)
    if not inside.any():
        return p, q
    ai, bi, xi = a[inside], b[inside], x[inside]
    lb = _log_beta(ai, bi) if log_b is None else log_b[inside]
    front = np.exp(ai * np.log(xi) + bi * np.log1p(-xi) - lb)
    direct = xi < (ai + 1.0) / (ai + bi + 2.0)
    pi, qi = np.empty_like(xi), np.empty_like(xi)
    if direct.any():
        k = direct
        pi[k] = np.minimum(front[k] * _fraction(ai[k], bi[k], xi[k]) / ai[k], 1.0)
        qi[k] = 1.0 - pi[k]
    if (~direct).any():
        k = ~direct
        qi[k] = np.minimum(front[k] * _fraction(bi[k], ai[k], 1.0 - xi[k]) / bi[k], 1.0)
        pi[k] = 1.0 - qi[k]
    p[inside], q[inside] = pi, qi
    return p, q


def regularized_beta(x: npt.ArrayLike, a: npt.ArrayLike, b: npt.ArrayLike) -> np.ndarray:
    """The regularized incomplete beta function ``I_x(a, b)`` (the Beta(a, b) CDF at ``x``).

    >>> np.round(regularized_beta([0.0, 0.25, 1.0], 2.0, 1.0), 12).tolist()  # x**2 for b = 1
    [0.0, 0.0625, 1.0]
    """
    x, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, a, b)))
    if np.any(a <= 0) or np.any(b <= 0) or np.any((x < 0) | (x > 1)):
        raise ValueError("regularized_beta needs a > 0, b > 0 and 0 <= x <= 1")
    return _beta_pq(a.ravel(), b.ravel(), x.ravel())[0].reshape(x.shape)


def _quantile(a: np.ndarray, b: np.ndarray, prob: float) -> np.ndarray:
    """``x`` with ``I_x(a, b) = prob`` for ``0 < prob < 1`` (1-d arrays)."""
    lo, hi = np.zeros_like(a), np.ones_like(a)
    log_b = _log_beta(a, b)
    # start: the normal approximation, or where it falls outside (0, 1) the leading term of
    # the series at the near end, I_x ≈ x^a / (a B(a, b)) (and its mirror near 1)
    mean, z = a / (a + b), NormalDist().inv_cdf(prob)
    x = mean + z * np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0)))
    near0 = np.exp((math.log(prob) + np.log(a) + log_b) / a)
    near1 = 1.0 - np.exp((math.log1p(-prob) + np.log(b) + log_b) / b)
    x = np.where(x <= 0.0, near0, np.where(x >= 1.0, near1, x))
    x = np.clip(x, 1e-300, 1.0 - 1e-16)
    active = np.arange(a.size)
    for _ in range(400):
        aa, bb, xx = a[active], b[active], x[active]
        p, q = _beta_pq(aa, bb, xx, log_b[active])
        f = np.where(p < 0.5, p - prob, (1.0 - prob) - q)  # I - prob, from the accurate side
        below = f < 0
        lo[active] = np.where(below, xx, lo[active])
        hi[active] = np.where(below, hi[active], xx)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            density = np.exp((aa - 1.0) * np.log(xx) + (bb - 1.0) * np.log1p(-xx)
                             - log_b[active])
            new = xx - f / density
        la, ha = lo[active], hi[active]
        new = np.where((new >= la) & (new <= ha), new, (la + ha) / 2.0)
        new = np.where(f == 0, xx, new)
        x[active] = new
        step = np.abs(new - xx)
        done = (f == 0) | (step <= 1e-13 * new) | (ha - la <= 1e-15 * ha)
        active = active[~done]
        if not active.size:
            break
    return x


def beta_quantile(prob: float, a: npt.ArrayLike, b: npt.ArrayLike) -> np.ndarray:
    """The ``prob`` quantile of Beta(a, b), vectorised over ``a`` and ``b``.

    >>> q = beta_quantile(0.25, [1.0, 2.0], 1.0)  # x for Beta(1, 1), sqrt(x) for Beta(2, 1)
    >>> np.round(q, 12).tolist()
    [0.25, 0.5]
    """
    if not 0.0 < float(prob) < 1.0:
        raise ValueError(f"prob must be between 0 and 1 (exclusive), got {prob!r}")
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("beta_quantile needs a > 0 and b > 0")
    out = _quantile(a.ravel().copy(), b.ravel().copy(), float(prob)).reshape(a.shape)
    return out[()] if out.ndim == 0 else out


def clopper_pearson_interval(successes: npt.ArrayLike, trials: npt.ArrayLike, *,
                             confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper–Pearson) interval of the proportion ``successes / trials`` (0–1).

    Parameters
    ----------
    successes, trials
        Counts (array-like, broadcast together). Non-integer values are accepted (weighted
        counts: the beta quantiles above with non-integer shapes). NaN gives NaN.
    confidence
        Two-sided confidence level, 0.95 by default.

    Returns
    -------
    (low, high)
        Arrays of the broadcast shape (NumPy scalars for scalar input): exactly 0 at 0
        successes, exactly 1 when all trials succeed, NaN where trials is 0.

    Raises
    ------
    ValueError
        Negative counts, successes above trials, or a confidence outside (0, 1).

    Examples
    --------
    0 of 10 at 95 %: the high end solves (1 − p)¹⁰ = 0.025, p = 1 − 0.025^0.1 = 0.3085:

    >>> low, high = clopper_pearson_interval(0, 10)
    >>> float(low), round(float(high), 4)
    (0.0, 0.3085)
    """
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    x, n = np.broadcast_arrays(np.asarray(successes, dtype=float),
                               np.asarray(trials, dtype=float))
    if np.any(x < 0) or np.any(n < 0):  # NaN compares False: passes through
        raise ValueError("successes and trials must not be negative")
    if np.any(x > n):
        raise ValueError("successes must not exceed trials")
    shape = x.shape
    x, n = x.ravel(), n.ravel()
    alpha = 1.0 - float(confidence)
    low, high = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    known = ~np.isnan(x) & ~np.isnan(n) & (n > 0)
    low[known & (x == 0)] = 0.0
    high[known & (x == n)] = 1.0
    some = known & (x > 0)
    if some.any():
        low[some] = _quantile(x[some], n[some] - x[some] + 1.0, alpha / 2.0)
    short = known & (x < n)
    if short.any():  # B⁻¹(1 − α/2; x + 1, n − x) = 1 − B⁻¹(α/2; n − x, x + 1): solved small
        high[short] = 1.0 - _quantile(n[short] - x[short], x[short] + 1.0, alpha / 2.0)
    low, high = low.reshape(shape), high.reshape(shape)
    return (low[()], high[()]) if low.ndim == 0 else (low, high)
