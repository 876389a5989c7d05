"""Statistical process control charts over many series at once: EWMA, CUSUM, risk-adjusted
CUSUM, XmR with run rules.

Every chart takes a long array of values and an equally long array of series ids, the rows of
each series contiguous and in time order (the caller sorts by series then time). ``NaN`` values
are **gaps**: they are skipped (the chart runs over the series' valid points only, a run rule's
window counts valid points, a gap neither breaks nor extends a run) and their output row holds
``NaN`` statistics and no signal. ``t`` below is the 1-based position of a valid point in its
series.

**Baseline** (per series, nothing after it is looked at): the first ``baseline`` valid points
(all of them when the series is shorter). ``centre`` is their mean unless ``mean`` is given;
``MR̄`` is the mean of their ``baseline − 1`` moving ranges ``|x_t − x_{t−1}|`` and
``σ = MR̄ / 1.128`` unless ``sigma`` is given (then ``MR̄ = 1.128 σ``). A series whose σ is not
positive (a constant baseline, or fewer than two baseline points and no ``sigma``) has no
limits: its statistics that need σ are ``NaN`` and it never signals — a constant baseline says
nothing about the common-cause spread, and any change would otherwise be an infinite
z-score. :func:`spc_baseline` returns the baseline itself.

Charts (all points, baseline included, are charted):

* :func:`ewma_chart` — ``z_0 = centre``, ``z_t = λ x_t + (1 − λ) z_{t−1}``, exact time-varying
  limits ``centre ± L σ sqrt(λ/(2 − λ) (1 − (1 − λ)^{2t}))``; a signal when ``z_t`` is strictly
  beyond a limit. No reset.
* :func:`cusum_chart` — tabular CUSUM in σ units on ``u_t = (x_t − centre)/σ``:
  ``C⁺_t = max(0, C⁺_{t−1} + u_t − k)``, ``C⁻_t = min(0, C⁻_{t−1} + u_t + k)`` (``C⁻`` is
  reported ≤ 0), ``C_0 = 0``; a signal when ``C⁺_t > h`` or ``C⁻_t < −h``. With ``reset=True``
  a side that signals at ``t`` restarts at 0 for ``t + 1`` (the signalling value is reported);
  the default ``reset=False`` is the definition the SQL path computes in closed form.
* :func:`risk_adjusted_cusum` — Steiner et al. (2000) Bernoulli log-likelihood-ratio CUSUM for
  a binary adverse outcome ``y_t`` (1 = adverse) with a per-case expected probability ``p_t``
  and the odds ratio ``R`` of the shift to detect (null odds ratio 1):
  ``W_t(R) = y_t log R − log(1 − p_t + R p_t)``, ``S⁺_t = max(0, S⁺_{t−1} + W_t(R))``
  (worse than expected), ``S⁻_t = min(0, S⁻_{t−1} − W_t(1/R))`` (better than expected); a
  signal when ``S⁺_t > h`` or ``S⁻_t < −h``; ``reset`` as for :func:`cusum_chart`.
* :func:`xmr_chart` — individuals ``x_t`` with limits ``centre ± 2.66 MR̄`` (``± 3σ`` when
  ``sigma`` is given), the moving range ``MR_t = |x_t − x_{t−1}|`` (``t ≥ 2``) with its upper
  limit ``3.267 MR̄``, and the Western Electric run rules, zones being thirds of the limit
  distance (1σ, 2σ, 3σ). A rule fires at the point completing its pattern, and only once the
  window is full — the first ``w − 1`` points of a series are never flagged by a rule of
  window ``w``:

  ====  ===============================================  ======  =========================
  bit   rule (Western Electric; Nelson's number)         window  fires at ``t`` when
  ====  ===============================================  ======  =========================
  1     one point beyond 3σ (Nelson 1)                   1       ``x_t`` beyond the limit
  2     2 of 3 beyond 2σ, same side (Nelson 5)           3       ``x_t`` beyond 2σ and ≥ 2 of
                                                                 ``x_{t−2..t}`` on that side
  4     4 of 5 beyond 1σ, same side (Nelson 6)           5       ``x_t`` beyond 1σ and ≥ 4 of
                                                                 ``x_{t−4..t}`` on that side
  8     8 in a row strictly on one side (Nelson 2)       8       ``x_{t−7..t}`` all above (or
                                                                 all below) the centre
  16    6 in a row increasing/decreasing (Nelson 3)      6       5 strict rises (falls) in
                                                                 ``x_{t−5..t}``; a tie breaks
  ====  ===============================================  ======  =========================

  Rules are returned as bit masks per side (``upper_rules``, ``lower_rules``; a rise is the
  upper side); the moving-range signal is separate (``mr_signal``).

The compiled kernels run over contiguous arrays of valid points with series offsets; ``jit=False``
runs their Python bodies. Determinism: sums run in row order, no fastmath.

Examples
--------
>>> import numpy as np
>>> x = np.array([10, 12, 11, 13, 12, 20.0])
>>> out = xmr_chart(x, np.zeros(6, int), baseline=5)
>>> out[["statistic", "upper_limit", "upper_rules"]].tail(2)
   statistic  upper_limit  upper_rules
4       12.0        15.59            0
5       20.0        15.59            1
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.config import kernel

__all__ = ["D2", "E2", "D4", "RULES", "cusum_chart", "ewma_chart", "risk_adjusted_cusum",
           "spc_baseline", "xmr_chart"]

D2 = 1.128
"""σ = MR̄ / d₂ for moving ranges of two points."""
E2 = 2.66
"""Individuals limits ``centre ± E₂ MR̄`` (3/d₂ rounded as in the XmR literature)."""
D4 = 3.267
"""Moving-range upper limit ``D₄ MR̄``."""
RULES: dict[int, str] = {
    1: "1 point beyond 3 sigma", 2: "2 of 3 beyond 2 sigma", 4: "4 of 5 beyond 1 sigma",
    8: "8 in a row on one side", 16: "6 in a row increasing or decreasing"}
"""XmR run rules by bit (see the module)."""


@kernel
def _baseline(offsets: np.ndarray, x: np.ndarray,
              n: int) -> tuple:  # pragma: no cover - compiled; py_func is tested
    """Per series: mean of the first ``n`` points, mean moving range among them, points used."""
    m = offsets.shape[0] - 1
    mean = np.full(m, np.nan)
    mr_bar = np.full(m, np.nan)
    used = np.zeros(m, np.int64)
    for s in range(m):
        a = offsets[s]
        b = min(offsets[s + 1], a + n)
        used[s] = b - a
        if b > a:
            total = 0.0
            for i in range(a, b):
                total += x[i]
            mean[s] = total / (b - a)
        if b - a >= 2:
            total = 0.0
            for i in range(a + 1, b):
                total += abs(x[i] - x[i - 1])
            mr_bar[s] = total / (b - a - 1)
    return mean, mr_bar, used


@kernel
def _ewma(offsets: np.ndarray, x: np.ndarray, centre: np.ndarray, sigma: np.ndarray,
          lam: float, width: float) -> tuple:  # pragma: no cover - compiled; py_func is tested
    n = x.shape[0]
    z = np.full(n, np.nan)
    lcl = np.full(n, np.nan)
    ucl = np.full(n, np.nan)
    up = np.zeros(n, np.int8)
    down = np.zeros(n, np.int8)
    r2 = (1.0 - lam) * (1.0 - lam)
    ratio = lam / (2.0 - lam)
    for s in range(offsets.shape[0] - 1):
        c, sd = centre[s], sigma[s]
        if not sd > 0.0 or math.isnan(c):
            continue
        prev = c
        decay = 1.0
        for i in range(offsets[s], offsets[s + 1]):
            prev = lam * x[i] + (1.0 - lam) * prev
            decay = decay * r2
            half = width * sd * math.sqrt(ratio * (1.0 - decay))
            z[i], lcl[i], ucl[i] = prev, c - half, c + half
            up[i] = prev > c + half
            down[i] = prev < c - half
    return z, lcl, ucl, up, down


@kernel
def _cusum(offsets: np.ndarray, x: np.ndarray, centre: np.ndarray, sigma: np.ndarray,
           k: float, h: float, reset: bool) -> tuple:  # pragma: no cover - compiled
    n = x.shape[0]
    hi = np.full(n, np.nan)
    lo = np.full(n, np.nan)
    up = np.zeros(n, np.int8)
    down = np.zeros(n, np.int8)
    for s in range(offsets.shape[0] - 1):
        c, sd = centre[s], sigma[s]
        if not sd > 0.0 or math.isnan(c):
            continue
        cp = 0.0
        cm = 0.0
        for i in range(offsets[s], offsets[s + 1]):
            u = (x[i] - c) / sd
            cp = max(0.0, cp + u - k)
            cm = min(0.0, cm + u + k)
            hi[i], lo[i] = cp, cm
            up[i] = cp > h
            down[i] = cm < -h
            if reset and up[i]:
                cp = 0.0
            if reset and down[i]:
                cm = 0.0
    return hi, lo, up, down


@kernel
def _ra_cusum(offsets: np.ndarray, y: np.ndarray, p: np.ndarray, odds: float, h: float,
              reset: bool) -> tuple:  # pragma: no cover - compiled; py_func is tested
    n = y.shape[0]
    hi = np.empty(n)
    lo = np.empty(n)
    up = np.zeros(n, np.int8)
    down = np.zeros(n, np.int8)
    log_up = math.log(odds)
    log_down = -log_up
    inv = 1.0 / odds
    for s in range(offsets.shape[0] - 1):
        sp = 0.0
        sm = 0.0
        for i in range(offsets[s], offsets[s + 1]):
            w_up = y[i] * log_up - math.log(1.0 - p[i] + odds * p[i])
            w_down = y[i] * log_down - math.log(1.0 - p[i] + inv * p[i])
            sp = max(0.0, sp + w_up)
            sm = min(0.0, sm - w_down)
            hi[i], lo[i] = sp, sm
            up[i] = sp > h
            down[i] = sm < -h
            if reset and up[i]:
                sp = 0.0
            if reset and down[i]:
                sm = 0.0
    return hi, lo, up, down


@kernel
def _xmr(offsets: np.ndarray, x: np.ndarray, centre: np.ndarray, width: np.ndarray,
         mr_bar: np.ndarray) -> tuple:  # pragma: no cover - compiled; py_func is tested
    n = x.shape[0]
    mr = np.full(n, np.nan)
    mr_sig = np.zeros(n, np.int8)
    up = np.zeros(n, np.int8)
    down = np.zeros(n, np.int8)
    for s in range(offsets.shape[0] - 1):
        a, b = offsets[s], offsets[s + 1]
        for i in range(a + 1, b):
            mr[i] = abs(x[i] - x[i - 1])
            mr_sig[i] = mr_bar[s] > 0.0 and mr[i] > D4 * mr_bar[s]
        c, w = centre[s], width[s]
        if not w > 0.0 or math.isnan(c):
            continue
        z1, z2 = w / 3.0, 2.0 * w / 3.0
        a1 = a2 = b1 = b2 = 0  # points beyond 1σ / 2σ above (a) and below (b) in the window
        above = below = rise = fall = 0  # current run lengths
        for i in range(a, b):
            t = i - a  # 0-based position
            a2 += x[i] > c + z2
            b2 += x[i] < c - z2
            a1 += x[i] > c + z1
            b1 += x[i] < c - z1
            if t >= 3:
                a2 -= x[i - 3] > c + z2
                b2 -= x[i - 3] < c - z2
            if t >= 5:
                a1 -= x[i - 5] > c + z1
                b1 -= x[i - 5] < c - z1
            above = above + 1 if x[i] > c else 0
            below = below + 1 if x[i] < c else 0
            if t >= 1:
                rise = rise + 1 if x[i] > x[i - 1] else 0
                fall = fall + 1 if x[i] < x[i - 1] else 0
            u = 0
            d = 0
            if x[i] > c + w:
                u |= 1
            if x[i] < c - w:
                d |= 1
            if t >= 2 and x[i] > c + z2 and a2 >= 2:
                u |= 2
            if t >= 2 and x[i] < c - z2 and b2 >= 2:
                d |= 2
            if t >= 4 and x[i] > c + z1 and a1 >= 4:
                u |= 4
            if t >= 4 and x[i] < c - z1 and b1 >= 4:
                d |= 4
            if above >= 8:
                u |= 8
            if below >= 8:
                d |= 8
            if rise >= 5:
                u |= 16
            if fall >= 5:
                d |= 16
            up[i], down[i] = u, d
    return mr, mr_sig, up, down


def _layout(values: npt.ArrayLike, series: npt.ArrayLike,
            name: str = "values") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(valid values, series offsets over them, positions of the valid rows in the input)."""
    x = np.asarray(values, dtype=np.float64)
    codes = pd.factorize(pd.Series(np.asarray(series)), sort=False, use_na_sentinel=False)[0]
    if x.ndim != 1 or codes.shape != x.shape:
        raise ContractError(f"{name} and series must be one-dimensional and equally long, got "
                            f"{x.shape} and {codes.shape}")
    if codes.size and np.any(np.diff(codes) < 0):
        raise ContractError("series: the rows of each series must be contiguous (sort by "
                            "series, then time)")
    keep = np.flatnonzero(~np.isnan(x))
    counts = np.bincount(codes[keep], minlength=int(codes.max()) + 1 if codes.size else 0)
    offsets = np.zeros(counts.size + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return np.ascontiguousarray(x[keep]), offsets, keep


def _estimate(x: np.ndarray, offsets: np.ndarray, baseline: int, mean: float | None,
              sigma: float | None, jit: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       np.ndarray]:
    if baseline < 1:
        raise ValueError(f"baseline must be >= 1 point, got {baseline!r}")
    if sigma is not None and not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    run = _baseline if jit else _baseline.py_func
    centre, mr_bar, used = run(offsets, x, int(baseline))
    if mean is not None:
        centre = np.where(used > 0, float(mean), np.nan)
    if sigma is not None:
        return centre, np.full(centre.shape, float(sigma)), np.full(centre.shape,
                                                                     D2 * float(sigma)), used
    return centre, mr_bar / D2, mr_bar, used


def _spread(n: int, keep: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Output aligned with the input rows: gaps get NaN (floats) or 0 (flags)."""
    out = {}
    for name, col in columns.items():
        full = np.zeros(n, col.dtype) if col.dtype.kind in "biu" else np.full(n, np.nan)
        full[keep] = col
        out[name] = full
    return pd.DataFrame(out, copy=False)  # fresh arrays: not copied into one block


def _per_row(offsets: np.ndarray, keep: np.ndarray, baseline: int,
             **per_series: np.ndarray) -> dict[str, np.ndarray]:
    counts = np.diff(offsets)
    position = np.arange(keep.size) - np.repeat(offsets[:-1], counts)
    out = {name: np.repeat(v, counts) for name, v in per_series.items()}
    out["in_baseline"] = (position < baseline).astype(np.int8)
    return out


def spc_baseline(values: npt.ArrayLike, series: npt.ArrayLike, *, baseline: int = 12,
                 mean: float | None = None, sigma: float | None = None,
                 jit: bool = True) -> pd.DataFrame:
    """Each series' baseline (see the module): one row per series in order of appearance.

    Returns
    -------
    pandas.DataFrame
        ``centre, sigma, mr_bar, points`` (valid points used).

    >>> spc_baseline([1.0, 3.0, 2.0, np.nan, 5.0], [0, 0, 0, 1, 1], baseline=3)
       centre     sigma  mr_bar  points
    0     2.0  1.329787     1.5       3
    1     5.0       NaN     NaN       1
    """
    x, offsets, _ = _layout(values, series)
    centre, sd, mr_bar, used = _estimate(x, offsets, baseline, mean, sigma, jit)
    return pd.DataFrame({"centre": centre, "sigma": sd, "mr_bar": mr_bar, "points": used})


def ewma_chart(values: npt.ArrayLike, series: npt.ArrayLike, *, lam: float = 0.2,
               width: float = 3.0, baseline: int = 12, mean: float | None = None,
               sigma: float | None = None, jit: bool = True) -> pd.DataFrame:
    """EWMA chart of each series (see the module); one output row per input row, same order.

    Parameters
    ----------
    values, series
        Values (``NaN`` = gap) and series ids, each series contiguous and in time order.
    lam, width
        Smoothing ``0 < λ <= 1`` and limit width ``L > 0`` in σ.
    baseline, mean, sigma
        Baseline points, or given centre and σ (see the module).
    jit
        ``False`` runs the kernel's Python body.

    Returns
    -------
    pandas.DataFrame
        ``centre, sigma, statistic, lower_limit, upper_limit, upper_signal, lower_signal,
        in_baseline`` (flags int8).

    >>> out = ewma_chart([0.0, 0.0, 3.0], [1, 1, 1], lam=0.5, mean=0.0, sigma=1.0)
    >>> out[["statistic", "upper_limit", "upper_signal"]].round(4)
       statistic  upper_limit  upper_signal
    0        0.0       1.5000             0
    1        0.0       1.6771             0
    2        1.5       1.7185             0
    """
    if not 0 < lam <= 1:
        raise ValueError(f"lam must be in (0, 1], got {lam!r}")
    if not width > 0:
        raise ValueError(f"width must be > 0, got {width!r}")
    x, offsets, keep = _layout(values, series)
    centre, sd, _, _ = _estimate(x, offsets, baseline, mean, sigma, jit)
    run = _ewma if jit else _ewma.py_func
    z, lcl, ucl, up, down = run(offsets, x, centre, sd, float(lam), float(width))
    return _spread(len(np.asarray(values)), keep, {
        **_per_row(offsets, keep, baseline, centre=centre, sigma=sd), "statistic": z,
        "lower_limit": lcl, "upper_limit": ucl, "upper_signal": up, "lower_signal": down}
    )[["centre", "sigma", "statistic", "lower_limit", "upper_limit", "upper_signal",
       "lower_signal", "in_baseline"]]


def cusum_chart(values: npt.ArrayLike, series: npt.ArrayLike, *, k: float = 0.5,
                h: float = 5.0, reset: bool = False, baseline: int = 12,
                mean: float | None = None, sigma: float | None = None,
                jit: bool = True) -> pd.DataFrame:
    """Tabular CUSUM of each series in σ units (see the module); rows aligned with the input.

    ``statistic`` is ``C⁺``, ``statistic_lower`` is ``C⁻`` (≤ 0); the limits are ``±h``.

    >>> out = cusum_chart([0.0, 2.0, 2.0, 2.0, 2.0], [0] * 5, h=4.0, mean=0.0, sigma=1.0)
    >>> out[["statistic", "upper_signal"]].T.to_numpy().tolist()
    [[0.0, 1.5, 3.0, 4.5, 6.0], [0.0, 0.0, 0.0, 1.0, 1.0]]
    """
    if not k >= 0 or not h > 0:
        raise ValueError(f"k must be >= 0 and h > 0, got k={k!r}, h={h!r}")
    x, offsets, keep = _layout(values, series)
    centre, sd, _, _ = _estimate(x, offsets, baseline, mean, sigma, jit)
    run = _cusum if jit else _cusum.py_func
    hi, lo, up, down = run(offsets, x, centre, sd, float(k), float(h), bool(reset))
    limit = np.where(np.isnan(hi), np.nan, float(h))
    return _spread(len(np.asarray(values)), keep, {
        **_per_row(offsets, keep, baseline, centre=centre, sigma=sd), "statistic": hi,
        "statistic_lower": lo, "lower_limit": -limit, "upper_limit": limit,
        "upper_signal": up, "lower_signal": down}
    )[["centre", "sigma", "statistic", "statistic_lower", "lower_limit", "upper_limit",
       "upper_signal", "lower_signal", "in_baseline"]]


def risk_adjusted_cusum(outcomes: npt.ArrayLike, expected: npt.ArrayLike,
                        series: npt.ArrayLike, *, odds_ratio: float = 2.0, h: float = 4.5,
                        reset: bool = False, jit: bool = True) -> pd.DataFrame:
    """Steiner's risk-adjusted Bernoulli CUSUM of each series of cases (see the module).

    Parameters
    ----------
    outcomes
        1 = adverse outcome (death, complication), 0 = not; ``NaN`` = gap (case skipped).
    expected
        Each case's expected probability of the adverse outcome, in ``[0, 1]``.
    series
        Series ids (e.g. surgeon or unit), each series contiguous and in time order.
    odds_ratio
        ``R > 0, != 1``: the upper chart detects the odds multiplied by ``max(R, 1/R)``, the
        lower one the odds divided by it.
    h
        Decision limit (> 0).

    Returns
    -------
    pandas.DataFrame
        ``statistic`` (``S⁺``), ``statistic_lower`` (``S⁻`` ≤ 0), ``lower_limit``,
        ``upper_limit``, ``upper_signal`` (worse than expected), ``lower_signal`` (better).

    >>> out = risk_adjusted_cusum([1, 1, 0], [0.5, 0.5, 0.5], [0, 0, 0], h=0.5)
    >>> out["statistic"].round(4).tolist(), out["upper_signal"].tolist()
    ([0.2877, 0.5754, 0.1699], [0, 1, 0])
    """
    if not odds_ratio > 0 or odds_ratio == 1 or not h > 0:
        raise ValueError(f"odds_ratio must be > 0 and != 1, h > 0; got {odds_ratio!r}, {h!r}")
    odds = max(float(odds_ratio), 1.0 / float(odds_ratio))
    y, offsets, keep = _layout(outcomes, series, "outcomes")
    p_all = np.asarray(expected, dtype=np.float64)
    if p_all.shape != np.asarray(outcomes).shape:
        raise ContractError("expected must be as long as outcomes")
    p = np.ascontiguousarray(p_all[keep])
    if np.any((y != 0) & (y != 1)):
        raise ContractError("outcomes must be 0 or 1 (or NaN for a gap)")
    if np.any(~((p >= 0) & (p <= 1))):
        raise ContractError("expected must be a probability in [0, 1] for every case")
    run = _ra_cusum if jit else _ra_cusum.py_func
    hi, lo, up, down = run(offsets, y, p, odds, float(h), bool(reset))
    limit = np.full(hi.shape, float(h))
    return _spread(len(p_all), keep, {
        "statistic": hi, "statistic_lower": lo, "lower_limit": -limit, "upper_limit": limit,
        "upper_signal": up, "lower_signal": down})


def xmr_chart(values: npt.ArrayLike, series: npt.ArrayLike, *, baseline: int = 12,
              mean: float | None = None, sigma: float | None = None,
              jit: bool = True) -> pd.DataFrame:
    """XmR chart with the run rules of the module; rows aligned with the input.

    Returns
    -------
    pandas.DataFrame
        ``centre, sigma, statistic`` (``x``), ``lower_limit, upper_limit, moving_range,
        mr_upper_limit, upper_rules, lower_rules`` (bit masks, :data:`RULES`), ``mr_signal,
        in_baseline``.
    """
    x, offsets, keep = _layout(values, series)
    centre, sd, mr_bar, _ = _estimate(x, offsets, baseline, mean, sigma, jit)
    width = E2 * mr_bar if sigma is None else np.full(centre.shape, 3.0 * float(sigma))
    run = _xmr if jit else _xmr.py_func
    mr, mr_sig, up, down = run(offsets, x, centre, width, mr_bar)
    lcl, ucl = centre - width, centre + width
    off = ~(width > 0)
    lcl[off] = ucl[off] = np.nan
    return _spread(len(np.asarray(values)), keep, {
        **_per_row(offsets, keep, baseline, centre=centre, sigma=sd, lower_limit=lcl,
                   upper_limit=ucl, mr_upper_limit=D4 * mr_bar),
        "statistic": x, "moving_range": mr, "upper_rules": up, "lower_rules": down,
        "mr_signal": mr_sig}
    )[["centre", "sigma", "statistic", "lower_limit", "upper_limit", "moving_range",
       "mr_upper_limit", "upper_rules", "lower_rules", "mr_signal", "in_baseline"]]
