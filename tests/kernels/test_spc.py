"""SPC kernels: compiled == Python body == the naive reference, and hand-worked cases.

Random inputs are several seeded series of different lengths (1 and 2 included) with gaps; the
naive reference (:mod:`tests.kernels.naive.spc`) charts one series at a time from the formulas.
Every expected value of the hand cases is worked out in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.spc import (
    D2,
    cusum_chart,
    ewma_chart,
    risk_adjusted_cusum,
    spc_baseline,
    xmr_chart,
)
from tests.kernels.naive import spc as naive

LENGTHS = (1, 2, 7, 30, 64, 120, 13)


def _random(seed: int, gaps: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Series ``0..6`` of :data:`LENGTHS` points: noise, a step in some, NaN gaps."""
    rng = np.random.default_rng(seed)
    xs, ids = [], []
    for s, n in enumerate(LENGTHS):
        x = rng.normal(10 + s, 1 + s % 3, n)
        if n > 20 and s % 2:
            x[n // 2:] += 2.5  # a shift the charts should see
        if n == 64:
            x[30:40] = np.sort(x[30:40]) + np.arange(10) * 0.3  # a trend for the 6-in-a-row rule
        x = np.round(x, 1)  # ties and repeated values happen
        if gaps and n > 5:
            x[rng.random(n) < 0.1] = np.nan
        xs.append(x)
        ids.append(np.full(n, 100 + s))
    return np.concatenate(xs), np.concatenate(ids)


def _blocks(values: np.ndarray, series: np.ndarray):
    """(positions of the valid rows, their values) of each series in order."""
    for s in pd.unique(series):
        rows = np.flatnonzero((series == s) & ~np.isnan(values))
        yield rows, values[rows].tolist()


def _close(a: np.ndarray, b: list) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12,
                               atol=1e-12)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """The compiled and Python bodies agree bit for bit."""
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("baseline", [1, 5, 12])
def test_baseline_ewma_cusum_xmr_equal_the_reference(seed: int, baseline: int) -> None:
    x, ids = _random(seed)
    base = spc_baseline(x, ids, baseline=baseline)
    ewma = ewma_chart(x, ids, lam=0.3, width=2.7, baseline=baseline)
    cusum = cusum_chart(x, ids, k=0.5, h=3.0, baseline=baseline)
    reset = cusum_chart(x, ids, k=0.25, h=2.0, reset=True, baseline=baseline)
    xmr = xmr_chart(x, ids, baseline=baseline)
    _same(base, spc_baseline(x, ids, baseline=baseline, jit=False))
    _same(ewma, ewma_chart(x, ids, lam=0.3, width=2.7, baseline=baseline, jit=False))
    _same(cusum, cusum_chart(x, ids, k=0.5, h=3.0, baseline=baseline, jit=False))
    _same(reset, cusum_chart(x, ids, k=0.25, h=2.0, reset=True, baseline=baseline, jit=False))
    _same(xmr, xmr_chart(x, ids, baseline=baseline, jit=False))
    if baseline > 1:  # one baseline point gives no moving range, so no σ and no signal
        assert xmr["upper_rules"].gt(0).any() or xmr["lower_rules"].gt(0).any()
        assert cusum["upper_signal"].any() and reset["upper_signal"].sum() > 0
    for s, (rows, v) in enumerate(_blocks(x, ids)):
        mean, mr_bar = naive.baseline(v, baseline)
        sigma = mr_bar / D2
        _close(base.loc[s, ["centre", "mr_bar"]], [mean, mr_bar])
        assert base.loc[s, "points"] == min(baseline, len(v))
        z, lo, hi, up, down = naive.ewma(v, mean, sigma, 0.3, 2.7)
        got = ewma.loc[rows]
        for col, want in zip(("statistic", "lower_limit", "upper_limit"), (z, lo, hi),
                             strict=True):
            _close(got[col], want)
        assert got["upper_signal"].tolist() == up and got["lower_signal"].tolist() == down
        assert got["in_baseline"].tolist() == [int(i < baseline) for i in range(len(v))]
        for frame, k, h, again in ((cusum, 0.5, 3.0, False), (reset, 0.25, 2.0, True)):
            cp, cm, up, down = naive.cusum(v, mean, sigma, k, h, again)
            got = frame.loc[rows]
            _close(got["statistic"], cp)
            _close(got["statistic_lower"], cm)
            assert got["upper_signal"].tolist() == up and got["lower_signal"].tolist() == down
        mr, mr_sig, up, down = naive.xmr(v, mean, 2.66 * mr_bar, mr_bar)
        got = xmr.loc[rows]
        _close(got["moving_range"], mr)
        assert got["mr_signal"].tolist() == mr_sig
        assert got["upper_rules"].tolist() == up and got["lower_rules"].tolist() == down
    gaps = np.isnan(x)
    assert ewma.loc[gaps, "statistic"].isna().all() and not xmr.loc[gaps, "upper_rules"].any()


@pytest.mark.parametrize("seed", [4, 5])
def test_given_mean_and_sigma_equal_the_reference(seed: int) -> None:
    x, ids = _random(seed)
    xmr = xmr_chart(x, ids, mean=11.0, sigma=1.5)
    _same(xmr, xmr_chart(x, ids, mean=11.0, sigma=1.5, jit=False))
    for rows, v in _blocks(x, ids):
        _, _, up, down = naive.xmr(v, 11.0, 4.5, D2 * 1.5)
        assert xmr.loc[rows, "upper_rules"].tolist() == up
        assert xmr.loc[rows, "lower_rules"].tolist() == down
        assert (xmr.loc[rows, "upper_limit"] == 15.5).all()  # 11 + 3 × 1.5


@pytest.mark.parametrize("seed", [6, 7])
def test_risk_adjusted_cusum_equals_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(len(LENGTHS)), LENGTHS)
    p = rng.uniform(0.01, 0.4, ids.size)
    y = (rng.random(ids.size) < p * 1.8).astype(float)  # worse than expected
    y[rng.random(ids.size) < 0.05] = np.nan
    for odds, reset in ((2.0, False), (0.5, True)):
        got = risk_adjusted_cusum(y, p, ids, odds_ratio=odds, h=2.0, reset=reset)
        _same(got, risk_adjusted_cusum(y, p, ids, odds_ratio=odds, h=2.0, reset=reset,
                                       jit=False))
        assert got["upper_signal"].any()
        for rows, v in _blocks(y, ids):
            sp, sm, up, down = naive.ra_cusum(v, p[rows].tolist(), 2.0, 2.0, reset)
            _close(got.loc[rows, "statistic"], sp)
            _close(got.loc[rows, "statistic_lower"], sm)
            assert got.loc[rows, "upper_signal"].tolist() == up
            assert got.loc[rows, "lower_signal"].tolist() == down


def test_xmr_step_shift_by_hand() -> None:
    x = np.array([10, 12] * 6 + [15] * 8, float)
    out = xmr_chart(x, np.zeros(x.size, int), baseline=12)
    # baseline: mean (6×10 + 6×12)/12 = 11; 11 moving ranges of 2: MR̄ = 2;
    # limits 11 ± 2.66×2 = 5.68, 16.32; zones 5.32/3: 1σ 12.7733, 2σ 14.5467; MR UCL 6.534
    assert out.loc[0, "centre"] == 11 and out.loc[0, "upper_limit"] == pytest.approx(16.32)
    assert out.loc[0, "mr_upper_limit"] == pytest.approx(6.534)
    up = out["upper_rules"].tolist()
    # pos 12 (first 15): window (10, 12, 15) has one point beyond 2σ; 12 is not beyond 1σ
    assert up[:13] == [0] * 13
    # pos 13: (12, 15, 15) two beyond 2σ -> rule 2; pos 14 again
    assert up[13] == 2 and up[14] == 2
    # pos 15: (12, 15, 15, 15, 15) four beyond 1σ -> rule 4 too
    assert up[15] == up[16] == up[17] == 2 | 4
    # above the centre since pos 11 (12 > 11): the 8th point in a row is pos 18
    assert up[18] == up[19] == 2 | 4 | 8
    assert not out["lower_rules"].any()
    # moving ranges: 3 at pos 12 (< 6.534), 0 after: no MR signal; NaN at the first point
    assert out.loc[12, "moving_range"] == 3 and not out["mr_signal"].any()
    assert math.isnan(out.loc[0, "moving_range"])


def test_xmr_rule_one_trend_and_tie_by_hand() -> None:
    x = [0, -0.5, 0.2, 0.4, 0.6, 0.8, 0.9, 3.5]
    # mean 0, σ 1: limits ±3, zones 1 and 2. Rises from pos 1: pos 6 is the 6th increasing
    # point (5 rises) -> 16; pos 7 (3.5 > 3) -> 1 | 16. Beyond 2σ only 3.5, beyond 1σ only
    # 3.5; above 0 only pos 2..7 (6 points): no other rule.
    out = xmr_chart(x, [0] * 8, mean=0.0, sigma=1.0)
    assert out["upper_rules"].tolist() == [0] * 6 + [16, 17]
    # a tie at pos 4 (0.4 again) breaks the rise: runs of rises 1, 2, 3 after it
    tie = xmr_chart(x[:4] + [0.4] + x[5:], [0] * 8, mean=0.0, sigma=1.0)
    assert tie["upper_rules"].tolist() == [0] * 7 + [1]
    # mirror image: the same rules on the lower side
    low = xmr_chart([-v for v in x], [0] * 8, mean=0.0, sigma=1.0)
    assert low["lower_rules"].tolist() == [0] * 6 + [16, 17] and not low["upper_rules"].any()


def test_cusum_shift_reset_and_gap_by_hand() -> None:
    # mean 0, σ 1, k 0.5: each 2 adds 2 - 0.5 = 1.5: C+ 1.5, 3, 4.5 > 4 at the third point
    x = [2.0] * 6
    out = cusum_chart(x, [0] * 6, h=4.0, mean=0.0, sigma=1.0)
    assert out["statistic"].tolist() == [1.5, 3.0, 4.5, 6.0, 7.5, 9.0]
    assert out["upper_signal"].tolist() == [0, 0, 1, 1, 1, 1]
    # reset: 4.5 signals and is reported, then 0 + 1.5, 3, 4.5 again
    out = cusum_chart(x, [0] * 6, h=4.0, reset=True, mean=0.0, sigma=1.0)
    assert out["statistic"].tolist() == [1.5, 3.0, 4.5, 1.5, 3.0, 4.5]
    assert out["upper_signal"].tolist() == [0, 0, 1, 0, 0, 1]
    # downwards: C- -1.5, -3, -4.5 < -4
    out = cusum_chart([-2.0] * 3, [0] * 3, h=4.0, mean=0.0, sigma=1.0)
    assert out["statistic_lower"].tolist() == [-1.5, -3.0, -4.5]
    assert out["lower_signal"].tolist() == [0, 0, 1] and not out["upper_signal"].any()
    # a gap is skipped: valid 0, 0, 2, 2, 2 -> C+ 0, 0, 1.5, 3, 4.5
    out = cusum_chart([0, 0, np.nan, 2, 2, 2], [0] * 6, h=4.0, mean=0.0, sigma=1.0)
    assert out["statistic"].fillna(-1).tolist() == [0, 0, -1, 1.5, 3.0, 4.5]
    assert out["upper_signal"].tolist() == [0, 0, 0, 0, 0, 1]


def test_ewma_step_by_hand() -> None:
    # λ 0.5, L 3, mean 0, σ 1: z = 0, 0, 0, 0.5×4 = 2; limit at t = 4:
    # 3 sqrt(0.5/1.5 × (1 - 0.25^4)) = 3 sqrt(0.33203125) = 1.72866 < 2: a signal there only
    out = ewma_chart([0, 0, 0, 4.0], [0] * 4, lam=0.5, mean=0.0, sigma=1.0)
    assert out["statistic"].tolist() == [0, 0, 0, 2.0]
    assert out.loc[3, "upper_limit"] == pytest.approx(1.72866, abs=1e-5)
    assert out["upper_signal"].tolist() == [0, 0, 0, 1]
    # the limit tends to 3 sqrt(1/3) = 1.73205 as t grows
    long = ewma_chart(np.zeros(200), np.zeros(200), lam=0.5, mean=0.0, sigma=1.0)
    assert long["upper_limit"].iloc[-1] == pytest.approx(3 / math.sqrt(3), rel=1e-12)


def test_estimated_baseline_by_hand() -> None:
    # [1, 3, 1, 3 | 9]: mean 2, moving ranges 2, 2, 2 -> MR̄ 2, σ 2/1.128 = 1.77305;
    # the 9 after the baseline changes neither
    base = spc_baseline([1, 3, 1, 3, 9.0], [0] * 5, baseline=4)
    assert base.loc[0, "centre"] == 2 and base.loc[0, "mr_bar"] == 2
    assert base.loc[0, "sigma"] == pytest.approx(1.77305, abs=1e-5)


def test_constant_series_and_zero_sigma() -> None:
    x = np.full(20, 5.0)
    # σ = 0 from the baseline: no limits, no statistic needing σ, never a signal
    for frame in (xmr_chart(x, np.zeros(20)), ewma_chart(x, np.zeros(20)),
                  cusum_chart(x, np.zeros(20))):
        assert frame["sigma"].eq(0).all() and frame["upper_limit"].isna().all()
        assert not frame.filter(like="signal").to_numpy().any()
        assert not frame.filter(like="rules").to_numpy().any()
    assert xmr_chart(x, np.zeros(20))["statistic"].eq(5).all()
    # a constant series with a given σ: on the centre line -> no rule (runs need strict sides)
    out = xmr_chart(x, np.zeros(20), mean=5.0, sigma=1.0)
    assert not out["upper_rules"].any() and not out["lower_rules"].any()
    assert not cusum_chart(x, np.zeros(20), mean=5.0, sigma=1.0)["upper_signal"].any()
    # σ = 0 from a two-point constant baseline: a later jump is not flagged either
    assert not xmr_chart([5, 5, 9.0], [0, 0, 0], baseline=2)["upper_rules"].any()


def test_risk_adjusted_by_hand() -> None:
    # y 0, p 0.5, lower chart odds 1/2: W = -log(1 - 0.5 + 0.25) = 0.28768;
    # S- = -0.28768, -0.57536 < -0.5 at the second case
    out = risk_adjusted_cusum([0, 0], [0.5, 0.5], [0, 0], odds_ratio=2.0, h=0.5)
    assert out["statistic_lower"].round(5).tolist() == [-0.28768, -0.57536]
    assert out["lower_signal"].tolist() == [0, 1] and not out["upper_signal"].any()
    with pytest.raises(ContractError, match="0 or 1"):
        risk_adjusted_cusum([2], [0.5], [0])
    with pytest.raises(ContractError, match="probability"):
        risk_adjusted_cusum([1], [1.5], [0])
    with pytest.raises(ValueError, match="odds_ratio"):
        risk_adjusted_cusum([1], [0.5], [0], odds_ratio=1.0)


def test_empty_one_point_and_bad_input() -> None:
    empty = xmr_chart(np.array([]), np.array([], int))
    assert empty.empty and "upper_rules" in empty.columns
    assert cusum_chart([], []).empty and ewma_chart([], []).empty
    assert risk_adjusted_cusum([], [], []).empty and spc_baseline([], []).empty
    # one point: centre = the point, no σ -> nothing but the value
    one = xmr_chart([4.0], ["a"])
    assert one.loc[0, "centre"] == 4 and math.isnan(one.loc[0, "sigma"])
    assert one.loc[0, "upper_rules"] == 0 and one.loc[0, "in_baseline"] == 1
    # all gaps
    assert xmr_chart([np.nan, np.nan], [0, 0])["statistic"].isna().all()
    with pytest.raises(ContractError, match="contiguous"):
        xmr_chart([1.0, 2.0, 3.0], ["a", "b", "a"])
    with pytest.raises(ContractError, match="equally long"):
        xmr_chart([1.0, 2.0], [0])
    with pytest.raises(ValueError, match="lam"):
        ewma_chart([1.0], [0], lam=0)
    with pytest.raises(ValueError, match="baseline"):
        xmr_chart([1.0], [0], baseline=0)
    with pytest.raises(ValueError, match="sigma"):
        xmr_chart([1.0], [0], sigma=-1.0)
