"""The percentile bootstrap read literally: Python ints for the generator, lists, ``sorted``.

A slow, obvious reference for :mod:`hospital_sdk.kernels.bootstrap`: it shares no code with the
kernel (its own hash, its own grouping, ordering, resampling, statistic and quantile), so the
tests can ask for *exact* equality — the sums add the drawn values in the same order ``j = 0, 1,
…`` as the kernel, so the floating-point results agree bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

__all__ = ["bootstrap_reference", "hash32", "positions"]


def hash32(x: int) -> int:
    """The generator's 32-bit hash, step by step on Python integers."""
    x = x ^ (x >> 16)
    x = (x * 0x21F0AAAD) % 2**32
    x = x ^ (x >> 15)
    x = (x * 0x735A2D97) % 2**32
    return x ^ (x >> 15)


def positions(seed: int, group: int, replicate: int, n: int) -> list[int]:
    """Rows drawn by replicate ``replicate`` of group ``group`` (of ``n`` ordered rows)."""
    state = hash32(hash32(hash32(seed ^ 0x9E3779B9) ^ group) ^ replicate)
    return [(hash32(state ^ j) * n) // 2**32 for j in range(n)]


def _statistic(rows: list[tuple[float, float]], statistic: str) -> float:
    if statistic == "median":
        v = sorted(r[0] for r in rows)
        m = (len(v) - 1) // 2
        return v[m] if len(v) % 2 else (v[m] + v[m + 1]) / 2.0
    top = bottom = 0.0
    for obs, exp in rows:  # in draw order, as the kernel adds them
        top += obs
        bottom += exp
    return top / bottom if statistic == "ratio" else top / len(rows)


def _quantile(ordered: list[float], q: float) -> float:
    h = (len(ordered) - 1) * q
    lo = math.floor(h)
    if lo + 1 >= len(ordered):
        return ordered[-1]
    d = h - lo  # interpolated as DuckDB's quantile_cont does: x_lo (1 - d) + x_hi d
    return ordered[lo] * (1.0 - d) + ordered[lo + 1] * d


def bootstrap_reference(frame: pd.DataFrame, by: Sequence[str], columns: Sequence[str],
                        statistic: str, replicates: int, confidence: float,
                        seed: int) -> dict[tuple, tuple]:
    """``{key: (n, estimate, low, high)}``; ``columns`` is ``[value]`` or ``[obs, exp]``."""
    groups: dict[tuple, list[tuple[float, float]]] = {}
    for rec in frame.to_dict("records"):
        key = tuple(rec[c] for c in by)
        if any(pd.isna(k) for k in key):
            continue
        vals = [rec[c] for c in columns]
        rows = groups.setdefault(key, [])
        if not any(pd.isna(v) for v in vals):
            rows.append((float(vals[0]), float(vals[1]) if len(vals) == 2 else 1.0))
    low = float(f"{(1.0 - confidence) / 2.0:.15g}")  # 0.95 -> 0.025 exactly, then 0.975
    high = float(f"{1.0 - low:.15g}")
    out = {}
    for g, key in enumerate(sorted(groups)):
        rows = sorted(groups[key])
        n = len(rows)
        if n == 0:
            out[key] = (0, math.nan, math.nan, math.nan)
            continue
        stats = sorted(_statistic([rows[k] for k in positions(seed, g, b, n)], statistic)
                       for b in range(replicates))
        out[key] = (n, _statistic(rows, statistic), _quantile(stats, low),
                    _quantile(stats, high))
    return out
