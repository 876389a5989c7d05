"""Percentile bootstrap intervals of a mean, a ratio of sums or a median, many groups at once.

:func:`bootstrap_groups` resamples the rows of every group (e.g. institution × department) with
replacement ``replicates`` times, computes the statistic of each resample and returns the
percentile interval: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of the
replicate statistics (levels rounded to 15 digits: :func:`percentile_levels`), interpolated
linearly between order statistics (Hyndman–Fan type 7, the default of NumPy and of DuckDB's
``quantile_cont``, written as DuckDB writes it so that the two agree to the bit). The statistics:

``mean``
    ``Σ value / n`` (e.g. mean outpatient wait in minutes).
``ratio``
    ``Σ observed / Σ expected`` over the same resampled rows (standardized ratios: observed over
    expected deaths, cost or time efficiency against DRG norms); ``expected`` must be positive.
``median``
    the middle order statistic (mean of the two middle ones for an even ``n``).

The estimate is the statistic of the group's rows themselves. BCa intervals are **not**
computed: only the percentile interval, which is first-order accurate and can be biased for
skewed statistics in small groups (Efron & Tibshirani 1993, ch. 13–14).

The random stream
-----------------
The resamples come from a counter-based generator written here, so that the compiled kernel,
its Python body (``jit=False``), the slow reference of the tests and the SQL path of
:mod:`hospital_sdk.assessments.uncertainty` draw exactly the same rows. ``mix32`` is a 32-bit
integer hash (Wellons' *hash-prospector* "lowbias32" shape with the constants ``0x21F0AAAD``
and ``0x735A2D97``; a bijection of ``[0, 2**32)``)::

    x ^= x >> 16; x = (x * 0x21F0AAAD) & 0xFFFFFFFF
    x ^= x >> 15; x = (x * 0x735A2D97) & 0xFFFFFFFF
    x ^= x >> 15

Draw ``j`` of replicate ``b`` of group ``g`` (``g`` the rank of the group's key among the
groups present, sorted) with ``n`` rows takes row ``(u * n) >> 32`` of the group, where::

    u = mix32(mix32(mix32(mix32(seed ^ 0x9E3779B9) ^ g) ^ b) ^ j)

(the constant keeps seed 0 away from the hash's fixed point 0) and the group's rows are
ordered by value (``ratio``: by observed, then expected), so the
result does not depend on the input's row order (tied rows are interchangeable). Every
intermediate is below ``2**63`` (a 32-bit value times a constant below ``2**31``), so signed
64-bit integer arithmetic — Numba's, Python's, any SQL engine's — gives the same bits with no
overflow. Each level is a bijection, so within one replicate the ``n`` draws come from distinct
32-bit values; the multiply-shift maps them to rows with a bias below ``n / 2**32``. Sums run
over the draws in order ``j = 0, 1, …`` so the floating-point result is reproducible bit for bit.

Cost
----
``Σ n × replicates`` draws, each a hash and one read within its group: about 2 ns per draw on
one core measured (1M rows × 100 replicates in 0.2 s with the arrays ready, 0.7 s with the
pandas wrapper's grouping and sorting), so 10M rows × the default 2 000 replicates is of the
order of a minute. The median walks a count array per replicate (``O(n)``, no sort).

Examples
--------
>>> import pandas as pd
>>> waits = pd.DataFrame({"department": ["A"] * 5 + ["B"],
...                       "wait_min": [10.0, 12.0, 15.0, 20.0, 43.0, 30.0]})
>>> out = bootstrap_groups(waits, by="department", value="wait_min", replicates=500, seed=1)
>>> out
  department  n  estimate   low   high                               note
0          A  5      20.0  12.0  32.01                               None
1          B  1      30.0  30.0  30.00  one row: every resample equals it
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.config import kernel

__all__ = ["BOOTSTRAP_STATISTICS", "bootstrap_groups", "mix32", "percentile_levels",
           "resample_positions"]

Statistic = Literal["mean", "ratio", "median"]
BOOTSTRAP_STATISTICS: tuple[str, ...] = ("mean", "ratio", "median")
"""The statistics :func:`bootstrap_groups` computes (kernel codes 0, 1, 2 in this order)."""

_M32 = 0xFFFFFFFF
_C1, _C2 = 0x21F0AAAD, 0x735A2D97
_SEED_KEY = 0x9E3779B9  # 2**32 / golden ratio, xor-ed into the seed
_LIMIT = 1 << 31  # rows per group and replicates stay below this (products below 2**63)
NOTE_EMPTY = "no rows with a value"
NOTE_ONE = "one row: every resample equals it"


@kernel
def _mix32(x: int) -> int:  # pragma: no cover - compiled; py_func is tested
    """The generator's 32-bit hash (module docstring) of ``0 <= x < 2**32``."""
    x ^= x >> 16
    x = (x * 0x21F0AAAD) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x735A2D97) & 0xFFFFFFFF
    x ^= x >> 15
    return x


def mix32(x: np.ndarray | int) -> np.ndarray:
    """The generator's hash, vectorised over ``int64`` values in ``[0, 2**32)``.

    >>> mix32(np.array([0, 1, 2])).tolist()
    [0, 2261973619, 229111015]
    """
    x = np.asarray(x, dtype=np.int64)
    x = x ^ (x >> 16)
    x = (x * _C1) & _M32
    x = x ^ (x >> 15)
    x = (x * _C2) & _M32
    return x ^ (x >> 15)


def resample_positions(seed: int, group: int, replicate: int, n: int) -> np.ndarray:
    """The positions (0 … n-1, within the group's ordered rows) drawn by one replicate.

    >>> resample_positions(7, 0, 0, 4).tolist()
    [2, 2, 3, 2]
    """
    state = int(mix32(int(mix32(int(mix32(seed ^ _SEED_KEY)) ^ group)) ^ replicate))
    u = mix32(state ^ np.arange(n, dtype=np.int64))
    return (u * n) >> 32


@kernel
def _quantile(x: np.ndarray, q: float) -> float:  # pragma: no cover - compiled
    """Type-7 quantile of the sorted ``x``: ``h = (len - 1) q``, ``d = h - floor(h)``,
    ``x[lo] (1 - d) + x[lo + 1] d`` — DuckDB's ``quantile_cont`` formula, to the bit."""
    h = (x.shape[0] - 1) * q
    lo = int(np.floor(h))
    if lo + 1 >= x.shape[0]:
        return x[x.shape[0] - 1]
    d = h - lo
    return x[lo] * (1.0 - d) + x[lo + 1] * d


@kernel
def _bootstrap(starts: np.ndarray, values: np.ndarray, expected: np.ndarray, kind: int,
               replicates: int, q_low: float, q_high: float,
               seed: int) -> np.ndarray:  # pragma: no cover - compiled; py_func is tested
    """``(estimate, low, high)`` per group; group ``g`` is rows ``starts[g]:starts[g + 1]``,
    ordered by value. ``kind``: 0 mean, 1 ratio (``values / expected``), 2 median."""
    groups = starts.shape[0] - 1
    out = np.full((groups, 3), np.nan)
    stats = np.empty(replicates)
    biggest = 0
    for g in range(groups):
        biggest = max(biggest, starts[g + 1] - starts[g])
    counts = np.zeros(biggest, np.int64)
    s0 = _mix32(seed ^ 0x9E3779B9)
    for g in range(groups):
        a = starts[g]
        n = starts[g + 1] - a
        if n == 0:
            continue
        if kind == 2:
            m = (n - 1) // 2
            out[g, 0] = values[a + m] if n % 2 == 1 else (values[a + m] + values[a + m + 1]) / 2.0
        else:
            top = 0.0
            bottom = 0.0
            for i in range(a, a + n):
                top += values[i]
                bottom += expected[i]
            out[g, 0] = top / bottom if kind == 1 else top / n
        sg = _mix32(s0 ^ g)
        for b in range(replicates):
            sb = _mix32(sg ^ b)
            top = 0.0
            bottom = 0.0
            for j in range(n):
                k = (_mix32(sb ^ j) * n) >> 32
                if kind == 2:
                    counts[k] += 1
                else:
                    top += values[a + k]
                    bottom += expected[a + k]
            if kind == 2:  # walk the counts to the middle order statistic(s), then clear
                m = (n - 1) // 2
                seen = 0
                first = np.nan
                second = np.nan
                for k in range(n):
                    if counts[k] == 0:
                        continue
                    lo_rank = seen
                    seen += counts[k]
                    counts[k] = 0
                    if lo_rank <= m < seen:
                        first = values[a + k]
                    if lo_rank <= m + 1 < seen:
                        second = values[a + k]
                stats[b] = first if n % 2 == 1 else (first + second) / 2.0
            else:
                stats[b] = top / bottom if kind == 1 else top / n
        ordered = np.sort(stats)
        out[g, 1] = _quantile(ordered, q_low)
        out[g, 2] = _quantile(ordered, q_high)
    return out


def percentile_levels(confidence: float) -> tuple[float, float]:
    """The quantile levels of the interval: ``(1 ∓ confidence) / 2`` to 15 significant digits.

    Rounded so that 0.95 gives exactly 0.025 and 0.975 (not 0.025000000000000022), and so that
    the level written as a SQL literal is read back by the engine as the same double (a
    decimal literal of more than 15 digits is not: DuckDB divides a 17-digit integer by 10**18).

    >>> percentile_levels(0.95)
    (0.025, 0.975)
    """
    low = float(f"{(1.0 - float(confidence)) / 2.0:.15g}")
    return low, float(f"{1.0 - low:.15g}")


def _columns(frame: pd.DataFrame, names: Sequence[str], numeric: Sequence[str]) -> None:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise ContractError(f"bootstrap_groups: the frame lacks column(s) {missing}")
    for c in numeric:
        if not (pd.api.types.is_numeric_dtype(frame[c]) and not
                pd.api.types.is_bool_dtype(frame[c])):
            raise ContractError(f"bootstrap_groups: column {c!r} must be numeric, "
                                f"got {frame[c].dtype}")


def check_parameters(statistic: str, value: str | None, observed: str | None,
                     expected: str | None, replicates: int, confidence: float,
                     seed: int) -> tuple[str, ...]:
    """Validate the parameters shared with the SQL path; return the numeric columns read."""
    if statistic not in BOOTSTRAP_STATISTICS:
        raise ValueError(f"statistic must be one of {BOOTSTRAP_STATISTICS}, got {statistic!r}")
    if statistic == "ratio":
        if observed is None or expected is None or value is not None:
            raise ValueError("statistic='ratio' takes observed= and expected= (not value=)")
        numeric: tuple[str, ...] = (observed, expected)
    else:
        if value is None or observed is not None or expected is not None:
            raise ValueError(f"statistic={statistic!r} takes value= (not observed=/expected=)")
        numeric = (value,)
    if not (isinstance(replicates, (int, np.integer)) and 1 <= replicates < _LIMIT):
        raise ValueError(f"replicates must be an integer in [1, 2**31), got {replicates!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed <= _M32):
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return numeric


def prepare(frame: pd.DataFrame, by: Sequence[str], numeric: Sequence[str]
            ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The groups' keys (sorted) and the kernel's arrays: ``starts``, values, expected.

    Rows with a missing key are dropped; rows with a missing value count for nothing (a group
    whose values are all missing keeps its row with ``n = 0``).
    """
    _columns(frame, list(by) + list(numeric), numeric)
    f = frame.loc[frame[list(by)].notna().all(axis=1), list(by) + list(numeric)]
    gid = f.groupby(list(by), sort=True).ngroup().to_numpy(np.int64)
    keys = f.assign(_g=gid).drop_duplicates("_g").sort_values("_g")[list(by)]
    arrays = [f[c].to_numpy(dtype=float, na_value=np.nan) for c in numeric]
    ok = np.ones(len(f), bool)
    for c, a in zip(numeric, arrays, strict=True):
        ok &= ~np.isnan(a)
        if np.isinf(a).any():
            raise ContractError(f"bootstrap_groups: column {c!r} holds an infinite value")
    if len(numeric) == 2 and np.any(arrays[1][ok] <= 0):
        raise ContractError(f"bootstrap_groups: column {numeric[1]!r} (expected) must be > 0")
    gid, arrays = gid[ok], [a[ok] for a in arrays]
    order = np.lexsort(tuple(reversed(arrays)) + (gid,))
    counts = np.bincount(gid, minlength=len(keys))
    if len(counts) and counts.max() >= _LIMIT:
        raise ValueError("bootstrap_groups: a group holds 2**31 rows or more")
    starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    values = np.ascontiguousarray(arrays[0][order])
    expected = (np.ascontiguousarray(arrays[1][order]) if len(arrays) == 2
                else np.ones(len(values)))
    return keys.reset_index(drop=True), starts, values, expected


def bootstrap_groups(frame: pd.DataFrame, *, by: str | Sequence[str], value: str | None = None,
                     observed: str | None = None, expected: str | None = None,
                     statistic: Statistic = "mean", replicates: int = 2000,
                     confidence: float = 0.95, seed: int = 0,
                     jit: bool = True) -> pd.DataFrame:
    """Percentile bootstrap interval of a statistic in every group (see the module).

    Parameters
    ----------
    frame
        One row per unit resampled (visit, stay…), with the ``by`` and value columns.
    by
        The group column(s); rows with a missing key are dropped.
    value
        The column averaged (``mean``) or whose median is taken (``median``).
    observed, expected
        The columns of ``ratio`` (``Σ observed / Σ expected``); ``expected`` must be > 0.
    statistic
        ``mean``, ``ratio`` or ``median``.
    replicates
        Resamples per group (2000).
    confidence
        Two-sided level of the percentile interval (0.95).
    seed
        The generator's seed, ``0 <= seed < 2**32``: same data and seed, same bits.
    jit
        ``False`` runs the kernel's Python body (the reference for coverage and debugging).

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by key: the ``by`` columns, ``n`` (rows with a value),
        ``estimate``, ``low``, ``high``, ``note``: ``None``, or why the interval is NaN (no row
        with a value) or degenerate (one row).

    Raises
    ------
    ContractError
        A column is missing, not numeric or infinite, or an expected value is not positive.
    ValueError
        A bad parameter (statistic, columns for it, replicates, confidence, seed).
    """
    numeric = check_parameters(statistic, value, observed, expected, replicates, confidence,
                               seed)
    by = [by] if isinstance(by, str) else list(by)
    keys, starts, values, exp = prepare(frame, by, numeric)
    # under NUMBA_DISABLE_JIT=1 the kernel is the plain function and has no py_func
    run = _bootstrap if jit else getattr(_bootstrap, "py_func", _bootstrap)
    q_low, q_high = percentile_levels(confidence)
    res = run(starts, values, exp, BOOTSTRAP_STATISTICS.index(statistic), int(replicates),
              q_low, q_high, int(seed))
    n = np.diff(starts)
    note = pd.Series([NOTE_EMPTY if k == 0 else NOTE_ONE if k == 1 else None for k in n],
                     dtype=object)
    return keys.assign(n=n.astype(np.int64), estimate=res[:, 0], low=res[:, 1], high=res[:, 2],
                       note=note)
