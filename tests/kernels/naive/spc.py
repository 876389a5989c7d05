"""Slow, obvious references for :mod:`hospital_sdk.kernels.spc`: one series at a time, lists,
the definitions read literally (each window re-counted from scratch, limits from the formula).

Every function takes one series' valid values (gaps already removed) and returns lists of the
same length.
"""

from __future__ import annotations

import math

__all__ = ["baseline", "cusum", "ewma", "ra_cusum", "xmr"]


def baseline(x: list[float], n: int) -> tuple[float, float]:
    """(mean, mean moving range) of the first ``n`` points (NaN when undefined)."""
    head = x[:n]
    mean = sum(head) / len(head) if head else math.nan
    ranges = [abs(head[i] - head[i - 1]) for i in range(1, len(head))]
    return mean, (sum(ranges) / len(ranges) if ranges else math.nan)


def ewma(x: list[float], centre: float, sigma: float, lam: float,
         width: float) -> tuple[list, list, list, list, list]:
    """z, lower, upper, up, down."""
    if not sigma > 0:
        nan = [math.nan] * len(x)
        return nan, nan, nan, [0] * len(x), [0] * len(x)
    z, lo, hi, up, down = [], [], [], [], []
    prev = centre
    for t, v in enumerate(x, start=1):
        prev = lam * v + (1 - lam) * prev
        half = width * sigma * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
        z.append(prev)
        lo.append(centre - half)
        hi.append(centre + half)
        up.append(int(prev > centre + half))
        down.append(int(prev < centre - half))
    return z, lo, hi, up, down


def cusum(x: list[float], centre: float, sigma: float, k: float, h: float,
          reset: bool) -> tuple[list, list, list, list]:
    """C+, C- (<= 0), up, down."""
    if not sigma > 0:
        return [math.nan] * len(x), [math.nan] * len(x), [0] * len(x), [0] * len(x)
    hi, lo, up, down = [], [], [], []
    cp = cm = 0.0
    for v in x:
        u = (v - centre) / sigma
        cp = max(0.0, cp + u - k)
        cm = min(0.0, cm + u + k)
        hi.append(cp)
        lo.append(cm)
        up.append(int(cp > h))
        down.append(int(cm < -h))
        if reset and cp > h:
            cp = 0.0
        if reset and cm < -h:
            cm = 0.0
    return hi, lo, up, down


def ra_cusum(y: list[float], p: list[float], odds: float, h: float,
             reset: bool) -> tuple[list, list, list, list]:
    """Steiner's S+ (odds x R) and S- (odds / R, <= 0), up, down."""
    def weight(yi: float, pi: float, r: float) -> float:
        return yi * math.log(r) - math.log(1 - pi + r * pi)
    hi, lo, up, down = [], [], [], []
    sp = sm = 0.0
    for yi, pi in zip(y, p, strict=True):
        sp = max(0.0, sp + weight(yi, pi, odds))
        sm = min(0.0, sm - weight(yi, pi, 1 / odds))
        hi.append(sp)
        lo.append(sm)
        up.append(int(sp > h))
        down.append(int(sm < -h))
        if reset and sp > h:
            sp = 0.0
        if reset and sm < -h:
            sm = 0.0
    return hi, lo, up, down


def xmr(x: list[float], centre: float, width: float,
        mr_bar: float) -> tuple[list, list, list, list]:
    """Moving range, its signal, upper and lower rule bit masks."""
    n = len(x)
    mr = [math.nan] + [abs(x[i] - x[i - 1]) for i in range(1, n)]
    mr_sig = [int(mr_bar > 0 and not math.isnan(m) and m > 3.267 * mr_bar) for m in mr]
    if not width > 0:
        return mr, mr_sig, [0] * n, [0] * n
    z1, z2 = width / 3, 2 * width / 3
    ups, downs = [], []
    for t in range(n):
        u = d = 0
        for sign, bits in ((1, "u"), (-1, "d")):
            def beyond(v: float, z: float, sign: int = sign) -> bool:
                # beyond the line centre ± z as that line is computed: a point exactly on it
                # (in floating point) is not beyond, as in the kernel and the SQL path
                return v > centre + z if sign > 0 else v < centre - z
            m = 0
            if beyond(x[t], width):
                m |= 1
            if t >= 2 and beyond(x[t], z2) and sum(beyond(e, z2) for e in x[t - 2:t + 1]) >= 2:
                m |= 2
            if t >= 4 and beyond(x[t], z1) and sum(beyond(e, z1) for e in x[t - 4:t + 1]) >= 4:
                m |= 4
            if t >= 7 and all(beyond(e, 0.0) for e in x[t - 7:t + 1]):
                m |= 8
            if t >= 5 and all(sign * (x[j] - x[j - 1]) > 0 for j in range(t - 4, t + 1)):
                m |= 16
            if bits == "u":
                u = m
            else:
                d = m
        ups.append(u)
        downs.append(d)
    return mr, mr_sig, ups, downs
