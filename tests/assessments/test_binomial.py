"""clopper_pearson_interval and the incomplete beta under it: closed forms, tables, tail sums.

Every expected value is either a closed form worked out in the comment or the defining property
of the interval: at the low end P(X >= x) = α/2, at the high end P(X <= x) = α/2, computed here
by summing binomial probabilities with exact binomial coefficients.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hospital_sdk.assessments.binomial import (
    beta_quantile,
    clopper_pearson_interval,
    regularized_beta,
)


def _upper_tail(x: int, n: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(n, p)."""
    return math.fsum(math.comb(n, k) * p**k * (1.0 - p) ** (n - k) for k in range(x, n + 1))


def test_incomplete_beta_closed_forms() -> None:
    x = np.linspace(0.0, 1.0, 11)
    # I_x(1, 1) = x; I_x(3, 1) = x^3; I_x(1, 4) = 1 - (1 - x)^4; I_x(2, 2) = 3x^2 - 2x^3
    np.testing.assert_allclose(regularized_beta(x, 1.0, 1.0), x, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(regularized_beta(x, 3.0, 1.0), x**3, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(regularized_beta(x, 1.0, 4.0), 1 - (1 - x) ** 4, rtol=1e-13,
                               atol=1e-15)
    np.testing.assert_allclose(regularized_beta(x, 2.0, 2.0), 3 * x**2 - 2 * x**3, rtol=1e-13,
                               atol=1e-15)
    # the quantile inverts it: Beta(2, 2) median is 0.5 by symmetry; Beta(3, 1) q = p^(1/3)
    np.testing.assert_allclose(beta_quantile(0.5, 2.0, 2.0), 0.5, rtol=1e-12)
    np.testing.assert_allclose(beta_quantile(0.125, 3.0, 1.0), 0.5, rtol=1e-12)


def test_table_values_and_closed_form_ends() -> None:
    low, high = clopper_pearson_interval([0, 1, 5, 10], 10)
    # 0/10: (1 - p)^10 = 0.025 -> p = 1 - exp(ln 0.025 / 10) = 1 - exp(-0.368888) = 0.308497
    # 10/10: p^10 = 0.025 -> p = 0.691503; 1/10 low: 1 - (1 - p)^10 = 0.025 -> 1 - 0.975^0.1
    # = 1 - exp(-0.0025318) = 0.0025286
    assert low[0] == 0.0 and high[3] == 1.0
    np.testing.assert_allclose([high[0], low[3], low[1]],
                               [1 - 0.025**0.1, 0.025**0.1, 1 - 0.975**0.1], rtol=1e-10)
    # the values printed in 95 % exact binomial tables: 1/10 -> 0.0025–0.4450; 5/10 ->
    # 0.1871–0.8129 (to 4 decimals)
    np.testing.assert_allclose([low[2], high[2], high[1]], [0.1871, 0.8129, 0.4450], atol=5e-5)
    # symmetry: low(x, n) = 1 - high(n - x, n)
    low, high = clopper_pearson_interval([0, 1, 5, 9, 10], 10)
    np.testing.assert_allclose(low, 1 - high[::-1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_the_tail_sums_at_the_ends_equal_half_alpha(confidence: float) -> None:
    alpha = 1 - confidence
    cases = [(1, 1), (1, 2), (3, 7), (12, 40), (39, 40), (150, 600), (480, 500)]
    x = np.array([c[0] for c in cases])
    n = np.array([c[1] for c in cases])
    low, high = clopper_pearson_interval(x, n, confidence=confidence)
    for xi, ni, lo, hi in zip(x, n, low, high, strict=True):
        assert _upper_tail(int(xi), int(ni), lo) == pytest.approx(alpha / 2, rel=1e-9)
        if xi < ni:
            assert 1 - _upper_tail(int(xi) + 1, int(ni), hi) == pytest.approx(alpha / 2,
                                                                           rel=1e-9)
        assert 0 <= lo < xi / ni <= hi <= 1


def test_shapes_nan_and_large_counts() -> None:
    low, high = clopper_pearson_interval(3, 10)
    assert np.ndim(low) == 0 and 0 < low < 0.3 < high < 1
    low, high = clopper_pearson_interval([[0, 2], [4, np.nan]], [[0, 5], [4, 9]])
    assert low.shape == (2, 2) and np.isnan(low[0, 0]) and np.isnan(high[1, 1])
    assert high[1, 0] == 1.0  # 4/4: high exactly 1, low solves p^4 = 0.025
    assert low[1, 0] == pytest.approx(0.025 ** (1 / 4), rel=1e-10)
    # a million trials: the interval is about ±1.96 sqrt(p(1-p)/n) around p = 0.3
    low, high = clopper_pearson_interval(300_000, 1_000_000)
    half = 1.96 * math.sqrt(0.3 * 0.7 / 1e6)
    assert low == pytest.approx(0.3 - half, rel=1e-4) and high == pytest.approx(0.3 + half,
                                                                              rel=1e-4)
    # wider at a higher confidence
    narrow, wide = clopper_pearson_interval(7, 20, confidence=0.8), clopper_pearson_interval(7, 20)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="must not exceed"):
        clopper_pearson_interval(5, 4)
    with pytest.raises(ValueError, match="must not be negative"):
        clopper_pearson_interval(-1, 4)
    with pytest.raises(ValueError, match="confidence"):
        clopper_pearson_interval(1, 4, confidence=1.0)
    with pytest.raises(ValueError):
        regularized_beta(1.5, 1.0, 1.0)
    with pytest.raises(ValueError):
        beta_quantile(0.0, 1.0, 1.0)


def _spiegelhalter_binomial(theta: float, n: int, p: float) -> float:
    """Spiegelhalter's interpolated binomial limit, by summing the pmf with exact coefficients:
    r the smallest count with F(r) >= p, a = (F(r) - p) / (F(r) - F(r - 1)), (r - a) / n."""
    cdf, r, before = 0.0, 0, 0.0
    while True:
        before, cdf = cdf, cdf + math.comb(n, r) * theta**r * (1 - theta) ** (n - r)
        if cdf >= p:
            return max((r - (cdf - p) / (cdf - before)) / n, 0.0)
        r += 1


def test_exact_binomial_funnel_limits() -> None:
    from statistics import NormalDist

    from hospital_sdk.assessments.intervals import funnel_limits
    n = [5, 20, 100, 400]
    f = funnel_limits(0.1, n, kind="binomial", z=(1.96, 3.09))
    for row in f.itertuples():
        p = NormalDist().cdf(-row.z)
        assert row.low == pytest.approx(_spiegelhalter_binomial(0.1, int(row.denominator), p),
                                        abs=1e-12)
        assert row.high == pytest.approx(_spiegelhalter_binomial(0.1, int(row.denominator),
                                                                 1 - p), abs=1e-12)
    # large n: close to the normal limits 0.3 ± 1.96 sqrt(0.21 / 10^5) = 0.3 ± 0.00284
    big = funnel_limits(0.3, [100_000], kind="binomial", z=1.96)
    assert big.low[0] == pytest.approx(0.3 - 0.00284, abs=2e-5)
    assert big.high[0] == pytest.approx(0.3 + 0.00284, abs=2e-5)
    # targets 0 and 1 have no spread; zero trials give NaN
    edge = funnel_limits([0.0, 1.0, 0.5], [50, 50, 0], kind="binomial", z=1.96)
    assert edge[["low", "high"]].values[:2].tolist() == [[0.0, 0.0], [1.0, 1.0]]
    assert edge[["low", "high"]].iloc[2].isna().all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        funnel_limits(1.5, [10], kind="binomial")
