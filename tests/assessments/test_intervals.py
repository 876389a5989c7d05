"""Confidence intervals and funnel limits against tables, hand computations and naive references."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from hospital_sdk.assessments.intervals import (
    funnel_flag,
    funnel_limits,
    poisson_interval,
    wilson_interval,
)

Z95 = NormalDist().inv_cdf(0.975)  # 1.959964


def poisson_cdf(r: int, mu: float) -> float:
    """Naive P(R <= r), R ~ Poisson(mu): the sum of the terms, in logs, exactly summed."""
    if r < 0:
        return 0.0
    if mu == 0:
        return 1.0
    return math.fsum(math.exp(-mu + j * math.log(mu) - math.lgamma(j + 1)) for j in range(r + 1))


def naive_poisson_limit(mu: float, n: float, p: float) -> float:
    """Spiegelhalter (2005) Appendix A.1 written out: smallest r with F(r) >= p, interpolated."""
    r, before, f = 0, 0.0, math.exp(-mu)
    while f < p:  # running sum of the terms: F(r) = F(r - 1) + e^-mu mu^r / r!
        r += 1
        before, f = f, f + math.exp(-mu + r * math.log(mu) - math.lgamma(r + 1))
    return max((r - (f - p) / (f - before)) / n, 0.0)


# -- Wilson ---------------------------------------------------------------------------------------

def test_wilson_8_of_10_by_hand():
    # p = 0.8, n = 10, z² = 3.841459: denominator 1 + z²/n = 1.384146;
    # centre (0.8 + 0.192073) / 1.384146 = 0.716740;
    # half 1.959964 / 1.384146 × sqrt(0.016 + 0.009604) = 1.416009 × 0.160011 = 0.226577
    # -> (0.4902, 0.9433)
    low, high = wilson_interval(8, 10)
    assert float(low) == pytest.approx(0.4902, abs=5e-5)
    assert float(high) == pytest.approx(0.9433, abs=5e-5)


@pytest.mark.parametrize(("x", "n", "low", "high"), [
    # Newcombe R.G. (1998), "Two-sided confidence intervals for the single proportion",
    # Statistics in Medicine 17:857-872, Table II, method 3 (score interval without correction)
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_table(x, n, low, high):
    lo, hi = wilson_interval(x, n)
    assert float(lo) == pytest.approx(low, abs=5e-5)
    assert float(hi) == pytest.approx(high, abs=5e-5)


def test_wilson_corner_cases():
    low, high = wilson_interval([0, 0, 10, 5], [0, 10, 10, 10])
    assert np.isnan(low[0]) and np.isnan(high[0])  # no trials: no interval
    assert low[1] == 0.0 and high[1] == pytest.approx(Z95**2 / (10 + Z95**2))  # 0 of n
    assert high[2] == 1.0 and low[2] == pytest.approx(10 / (10 + Z95**2))  # n of n
    assert low[3] == pytest.approx(1 - high[3])  # symmetric about 1/2
    nan_low, nan_high = wilson_interval(np.nan, 10)
    assert np.isnan(nan_low) and np.isnan(nan_high)


def test_wilson_large_n_approaches_wald():
    n, p = 1_000_000, 0.3
    low, high = wilson_interval(p * n, n)
    half = Z95 * math.sqrt(p * (1 - p) / n)
    assert float(low) == pytest.approx(p - half, abs=1e-6)
    assert float(high) == pytest.approx(p + half, abs=1e-6)


def test_wilson_monotone_and_contains_estimate():
    n = 50
    x = np.arange(n + 1)
    low, high = wilson_interval(x, n)
    assert np.all(np.diff(low) > 0) and np.all(np.diff(high) > 0)
    assert np.all((low <= x / n) & (x / n <= high))
    widths = [float(np.subtract(*wilson_interval(0.2 * m, m)[::-1])) for m in (10, 100, 1000)]
    assert widths[0] > widths[1] > widths[2]  # narrower with more trials
    narrow = np.subtract(*wilson_interval(8, 10, confidence=0.9)[::-1])
    wide = np.subtract(*wilson_interval(8, 10, confidence=0.99)[::-1])
    assert wide > narrow


def test_wilson_broadcasts_and_returns_scalars_for_scalars():
    low, high = wilson_interval([[1], [2]], [10, 20])
    assert low.shape == (2, 2)
    assert np.ndim(wilson_interval(1, 10)[0]) == 0


@pytest.mark.parametrize(("x", "n", "kw"), [
    (-1, 10, {}), (11, 10, {}), (1, -1, {}), (1, 10, {"confidence": 1.0}),
    (1, 10, {"confidence": 0}),
])
def test_wilson_rejects_bad_input(x, n, kw):
    with pytest.raises(ValueError):
        wilson_interval(x, n, **kw)


# -- exact Poisson --------------------------------------------------------------------------------

@pytest.mark.parametrize(("k", "low", "high"), [
    # Garwood intervals from chi-square tables, [χ²_0.025(2k)/2, χ²_0.975(2k+2)/2]:
    (0, 0.0, 3.689),      # χ²_0.975(2) = 7.378
    (1, 0.0253, 5.572),   # χ²_0.025(2) = 0.0506, χ²_0.975(4) = 11.143
    (2, 0.2422, 7.225),   # χ²_0.025(4) = 0.4844, χ²_0.975(6) = 14.449
    (5, 1.6235, 11.668),  # χ²_0.025(10) = 3.247, χ²_0.975(12) = 23.337
    (10, 4.795, 18.39),   # χ²_0.025(20) = 9.591, χ²_0.975(22) = 36.781
])
def test_poisson_matches_chi_square_tables(k, low, high):
    lo, hi = poisson_interval(k)
    assert float(lo) == pytest.approx(low, abs=1e-3)
    assert float(hi) == pytest.approx(high, abs=1e-3)


@pytest.mark.parametrize("k", [1, 2, 7, 30, 250, 3000])
def test_poisson_ends_leave_alpha_over_two_in_each_tail(k):
    # The definition: P(X <= k | high) = 0.025 and P(X >= k | low) = 0.025, with the tail
    # sums computed naively. Accuracy about 1e-10 (module docstring).
    lo, hi = poisson_interval(k)
    assert poisson_cdf(k, float(hi)) == pytest.approx(0.025, abs=1e-10)
    assert 1.0 - poisson_cdf(k - 1, float(lo)) == pytest.approx(0.025, abs=1e-10)


def test_poisson_exposure_zero_and_corner_cases():
    low, high = poisson_interval([3, 3, 0], [1200, 0, 10])
    # Garwood for 3 events: (0.6187, 8.7673); per 1,000 catheter-days / 1,200: (0.5156, 7.3061)
    assert low[0] * 1000 == pytest.approx(0.5156, abs=1e-4)
    assert high[0] * 1000 == pytest.approx(7.3061, abs=1e-4)
    assert np.isnan(low[1]) and np.isnan(high[1])  # no exposure
    assert low[2] == 0.0 and high[2] == pytest.approx(0.3689, abs=1e-4)
    nan_low, _ = poisson_interval(np.nan, 1)
    assert np.isnan(nan_low)


def test_poisson_monotone_large_and_fractional():
    k = np.arange(0, 60)
    low, high = poisson_interval(k)
    assert np.all(np.diff(low) > 0) and np.all(np.diff(high) > 0)
    assert np.all((low <= k) & (k <= high))
    big = 1_000_000  # near-normal: k ± z√k, plus the (z² + 2)/6 skew terms of order 1
    lo, hi = poisson_interval(big)
    assert float(lo) == pytest.approx(big - Z95 * 1000, abs=2)
    assert float(hi) == pytest.approx(big + Z95 * 1000, abs=2)
    mid_lo, mid_hi = poisson_interval(2.5)  # a gamma shape: between 2 and 3 events
    assert low[2] < mid_lo < low[3] and high[2] < mid_hi < high[3]


def test_poisson_rejects_bad_input():
    with pytest.raises(ValueError):
        poisson_interval(-1)
    with pytest.raises(ValueError):
        poisson_interval(1, -5)
    with pytest.raises(ValueError):
        poisson_interval(1, confidence=1.5)


# -- funnel limits --------------------------------------------------------------------------------

def test_funnel_proportion_by_hand():
    # p0 = 0.1, n = 100: sd = sqrt(0.09 / 100) = 0.03; 1.96 sd = 0.0588 -> (0.0412, 0.1588);
    # 3.09 sd = 0.0927 -> (0.0073, 0.1927)
    f = funnel_limits(0.1, [100], z=(1.96, 3.09))
    assert f["z"].tolist() == [1.96, 3.09]
    assert f["coverage"].round(3).tolist() == [0.95, 0.998]
    assert f["low"].tolist() == pytest.approx([0.0412, 0.0073])
    assert f["high"].tolist() == pytest.approx([0.1588, 0.1927])


def test_funnel_proportion_clips_and_narrows():
    n = np.array([1, 9, 25, 100, 10_000, 0])
    f = funnel_limits(0.3, n, z=3.09)
    assert f["low"].iloc[0] == 0.0 and f["high"].iloc[0] == 1.0  # clipped to [0, 1]
    width = (f["high"] - f["low"]).to_numpy()
    assert np.all(np.diff(width[:5]) < 0)
    assert np.isnan(f["low"].iloc[5]) and np.isnan(f["high"].iloc[5])  # denominator 0
    assert np.all((f["low"][:5] <= 0.3) & (0.3 <= f["high"][:5]))


@pytest.mark.parametrize("target", [0.0005, 0.002, 0.02, 0.3])
def test_funnel_rate_matches_naive_spiegelhalter(target):
    n = np.array([10.0, 200.0, 500.0, 5000.0])
    for z in (1.96, 3.09):
        f = funnel_limits(target, n, kind="rate", z=z)
        p = NormalDist().cdf(-z)
        expect_low = [naive_poisson_limit(target * m, m, p) for m in n]
        expect_high = [naive_poisson_limit(target * m, m, 1 - p) for m in n]
        assert f["low"].tolist() == pytest.approx(expect_low, rel=1e-9, abs=1e-15)
        assert f["high"].tolist() == pytest.approx(expect_high, rel=1e-9)


def test_funnel_rate_by_hand():
    # mu = 0.02 × 500 = 10, p = 0.025: F(3) = 0.010336, F(4) = 0.029253 -> r = 4,
    # a = (0.029253 - 0.025) / (0.029253 - 0.010336) = 0.2248, low = (4 - 0.2248) / 500 = 0.00755
    f = funnel_limits(0.02, [500], kind="rate", z=1.96)
    assert f["low"].iloc[0] == pytest.approx(0.00755, abs=5e-6)
    assert f["high"].iloc[0] == pytest.approx(0.03232, abs=5e-6)


def test_funnel_rate_zero_target_and_large_exposure():
    f = funnel_limits(0.0, [100, 0], kind="rate", z=3.09)
    assert f["low"].iloc[0] == 0.0 and f["high"].iloc[0] == 0.0
    assert np.isnan(f["high"].iloc[1])
    big = funnel_limits(0.01, [1e8], kind="rate", z=1.96)  # mu = 1e6: ~ θ ± z sqrt(θ / n)
    half = 1.96 * math.sqrt(0.01 / 1e8)
    assert big["low"].iloc[0] == pytest.approx(0.01 - half, rel=1e-5)
    assert big["high"].iloc[0] == pytest.approx(0.01 + half, rel=1e-5)


def test_funnel_target_per_row():
    f = funnel_limits([0.1, 0.5], [100, 100], z=1.96)
    assert f["target"].tolist() == [0.1, 0.5]
    assert f["high"].iloc[1] == pytest.approx(0.5 + 1.96 * 0.05)


@pytest.mark.parametrize(("target", "kw"), [
    (1.2, {}), (-0.1, {}), (-1.0, {"kind": "rate"}), (0.1, {"kind": "ratio"}),
    (0.1, {"z": 0}),
])
def test_funnel_rejects_bad_input(target, kw):
    with pytest.raises(ValueError):
        funnel_limits(target, [10], **kw)


def test_funnel_flag():
    flags = funnel_flag([0.2, 0.05, 0.07, 0.13, np.nan, 0.1], 0.07, 0.13)
    assert flags.tolist() == ["above", "below", "within", "within", None, "within"]
    assert funnel_flag([0.1], [np.nan], [0.2]).tolist() == [None]
