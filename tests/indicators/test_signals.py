"""signals: the kernel path against the SQL path (Ibis on DuckDB), and hand-worked cases of
direction, gaps, zero-sigma baselines and bad input.

Random frames have several series of different lengths (1 and 2 included), null departments,
gap rows (``not_computable`` status or a null value) and the three kinds of direction.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from hospital_sdk.errors import ContractError
from hospital_sdk.indicators.signals import (
    SIGNAL_COLUMNS,
    risk_adjusted_signals,
    signals,
    signals_sql,
)

LENGTHS = (1, 2, 9, 40, 75, 24)


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for s, n in enumerate(LENGTHS):
        sd = 2 + s % 3
        v = np.round(rng.normal(50 + s, sd, n), 1)
        if n > 20:
            v[n // 2:] += (2.5 if s == 5 else -2.5) * sd  # deterioration, improvement, change
        if n == 75:
            v[40:50] = np.sort(v[40:50]) + np.arange(10)  # a trend
        status = np.where(rng.random(n) < 0.1, "not_computable", "ok")
        value = np.where(status == "ok", v, np.nan)
        value[(status == "ok") & (rng.random(n) < 0.03)] = np.nan  # 'ok' but null: a gap too
        parts.append(pd.DataFrame({
            "indicator_id": f"ind{s % 3}", "institution": f"H{s % 2}",
            "department": None if s % 4 == 0 else f"D{s}",
            "month": pd.date_range("2018-01-01", periods=n, freq="MS"),
            "value": value, "status": status,
            "direction": ("higher_better", "lower_better", "monitor")[s % 3]}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)  # any input order


def _equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same rows, flags exactly; floats up to rounding (SQL sums in another order)."""
    assert list(a.columns) == list(b.columns)
    floats = [c for c in a.columns if a[c].dtype == np.float64]
    pd.testing.assert_frame_equal(a.drop(columns=floats), b.drop(columns=floats),
                                  check_exact=True)
    np.testing.assert_allclose(a[floats].to_numpy(), b[floats].to_numpy(), rtol=1e-9,
                               atol=1e-9)


@pytest.mark.parametrize(("seed", "given"), [
    (1, {}), (2, {"mean": 52.0, "sigma": 2.5}), (3, {"baseline": 6})])
def test_sql_path_equals_the_kernel(seed: int, given: dict) -> None:
    frame = _frame(seed)
    for chart, extra in (("xmr", {}), ("cusum", {"k": 0.5, "h": 4.0})):
        kernel = signals(frame, chart=chart, method="kernel", **given, **extra)
        sql = signals(frame, chart=chart, method="sql", **given, **extra)
        _equal(kernel, sql)
        assert len(kernel) == len(frame) and kernel["signal"].any()
        assert set(kernel["assessment"]) >= {"deterioration", "improvement", "change"}
        gaps = kernel["point"] == "gap"
        assert gaps.sum() == (frame["status"].ne("ok") | frame["value"].isna()).sum()
        assert not kernel.loc[gaps, "signal"].any() and kernel.loc[gaps, "statistic"].isna().all()


def test_ewma_and_auto_on_an_ibis_table() -> None:
    frame = _frame(4)
    table = ibis.duckdb.connect().create_table("values", frame)
    kernel = signals(frame, chart="ewma", method="kernel")

    def keys(out: pd.DataFrame) -> pd.DataFrame:  # the database's string type -> object
        return out.assign(department=out["department"].astype(object).where(
            out["department"].notna(), None))
    _equal(keys(signals(table, chart="ewma")), kernel)  # auto on DuckDB: fetched, the kernel
    _equal(keys(signals(table, chart="xmr")), signals(frame, chart="xmr", method="sql"))
    _equal(signals(table, chart="cusum", method="sql"),
           signals(table, chart="cusum", method="kernel"))
    assert kernel["upper_limit"].notna().any() and kernel["statistic_lower"].isna().all()


def _series(values: list, direction: str, status: list | None = None) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({
        "indicator_id": "x", "institution": "H1", "department": "D1",
        # dates as application.indicator_value stores them: datetime.date objects
        "month": [m.date() for m in pd.date_range("2024-01-01", periods=n, freq="MS")],
        "value": values,
        "status": status or ["ok"] * n, "direction": direction})


@pytest.mark.parametrize("method", ["kernel", "sql"])
def test_step_shift_and_direction_by_hand(method: str) -> None:
    # baseline 10, 12 × 6: centre 11, MR̄ 2, 2σ line 11 + 2/3 × 5.32 = 14.5467; the 15s
    # fire rule 2 (2 of 3 beyond 2σ) from the second 15 (pos 13)
    values = [10, 12] * 6 + [15] * 3
    for direction, assessment in (("lower_better", "deterioration"),
                                  ("higher_better", "improvement"), ("monitor", "change"),
                                  ("target_range", "change")):
        out = signals(_series(values, direction), method=method)
        assert out["signal"].tolist() == [False] * 13 + [True, True]
        assert set(out.loc[out["signal"], "side"]) == {"upper"}
        assert set(out.loc[out["signal"], "assessment"]) == {assessment}
    # the mirror image (8, 10 baseline; 5s): lower side, and the meanings swap
    out = signals(_series([12, 10] * 6 + [7] * 3, "higher_better"), method=method)
    assert out["lower_rules"].tolist()[13:] == [2, 2]
    assert set(out.loc[out["signal"], "assessment"]) == {"deterioration"}
    # a direction given for all series overrides the column
    out = signals(_series(values, "higher_better"), direction="lower_better", method=method)
    assert set(out.loc[out["signal"], "assessment"]) == {"deterioration"}


@pytest.mark.parametrize("method", ["kernel", "sql"])
def test_cusum_shift_by_hand(method: str) -> None:
    # mean 0, σ 1, k 0.5, h 4: -2 each adds -1.5: C- = -1.5, -3, -4.5 < -4 at the fourth point
    out = signals(_series([0.0, -2, -2, -2], "higher_better"), chart="cusum", mean=0.0,
                  sigma=1.0, h=4.0, method=method)
    assert out["statistic_lower"].tolist() == pytest.approx([0.0, -1.5, -3.0, -4.5])
    assert out["signal"].tolist() == [False, False, False, True]
    assert out["assessment"].tolist()[-1] == "deterioration"
    assert out["lower_limit"].tolist() == [-4.0] * 4


@pytest.mark.parametrize("method", ["kernel", "sql"])
def test_a_gap_is_skipped_not_a_break(method: str) -> None:
    # mean 0, σ 1: 1, 1, 1, 1, [gap], 1, 1, 1, 1 -> 8 valid points above the centre in a row:
    # rule 8 at the last point only; 4 of 5 beyond 1σ needs > 1: none
    values = [1.0] * 4 + [99.0] + [1.0] * 4
    status = ["ok"] * 4 + ["not_computable"] + ["ok"] * 4
    out = signals(_series(values, "monitor", status), mean=0.0, sigma=1.0, method=method)
    assert out["upper_rules"].tolist() == [0] * 8 + [8]
    assert out["point"].tolist()[4] == "gap" and np.isnan(out["statistic"].iloc[4])
    assert out["in_baseline"].tolist() == [True] * 4 + [False] + [True] * 4


@pytest.mark.parametrize("method", ["kernel", "sql"])
@pytest.mark.parametrize("chart", ["xmr", "cusum"])
def test_constant_baseline_has_no_limits(method: str, chart: str) -> None:
    # 12 × 5.0: MR̄ 0, σ 0 -> no limits, then a jump to 50 is not judged
    out = signals(_series([5.0] * 12 + [50.0], "lower_better"), chart=chart, method=method)
    assert out["sigma"].eq(0).all() and out["upper_limit"].isna().all()
    assert not out["signal"].any() and not out["mr_signal"].any()


@pytest.mark.parametrize("method", ["kernel", "sql"])
def test_empty_and_one_point(method: str) -> None:
    empty = signals(_series([], "monitor"), method=method)
    assert empty.empty and list(empty.columns)[-len(SIGNAL_COLUMNS):] == list(SIGNAL_COLUMNS)
    one = signals(_series([3.0], "monitor"), method=method)
    assert one["centre"].tolist() == [3.0] and np.isnan(one["sigma"].iloc[0])
    assert not one["signal"].any()


def test_bad_input() -> None:
    frame = _series([1.0, 2.0], "monitor")
    with pytest.raises(ContractError, match=r"lacks column\(s\) \['status'\]"):
        signals(frame.drop(columns="status"))
    with pytest.raises(ContractError, match="share a series and .month."):
        signals(pd.concat([frame, frame]))
    with pytest.raises(ContractError, match="'month' has nulls"):
        signals(frame.assign(month=[frame["month"].iloc[0], None]))
    with pytest.raises(ContractError, match="unknown value"):
        signals(frame.assign(direction="up"))
    with pytest.raises(ContractError, match="differs within a series"):
        signals(frame.assign(direction=["monitor", "lower_better"]))
    with pytest.raises(ValueError, match="no SQL path"):
        signals(frame, chart="ewma", method="sql")
    with pytest.raises(ValueError, match="no closed form"):
        signals(frame, chart="cusum", reset=True, method="sql")
    with pytest.raises(ValueError, match="chart must be"):
        signals(frame, chart="pchart")
    with pytest.raises(ValueError, match="direction must be"):
        signals(frame, direction="up")
    with pytest.raises(ValueError, match="baseline"):
        signals_sql(ibis.memtable(frame), baseline=0)


def _cases(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.round(rng.uniform(0.02, 0.4, n), 3)
    unit = rng.choice(["A", "B", "C"], n)
    worse = np.where(unit == "A", 2.0, np.where(unit == "B", 0.3, 1.0))  # A worse, B better
    outcome = (rng.random(n) < np.minimum(p * worse, 1)).astype(float)
    outcome[rng.random(n) < 0.05] = np.nan  # outcome not yet known: a gap
    return pd.DataFrame({
        "institution": "H1", "unit": unit,
        "time": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), "min"),
        "stay_id": [f"S{i:04d}" for i in range(n)], "outcome": outcome, "expected": p})


@pytest.mark.parametrize("seed", [1, 2])
def test_risk_adjusted_sql_equals_the_kernel(seed: int) -> None:
    cases = _cases(seed)
    params = dict(order=("time", "stay_id"), by=("institution", "unit"), h=2.0)
    kernel = risk_adjusted_signals(cases, method="kernel", **params)
    sql = risk_adjusted_signals(cases, method="sql", **params)
    _equal(kernel, sql)
    assert len(kernel) == len(cases)
    assert set(kernel.loc[kernel["unit"] == "A", "assessment"]) >= {"deterioration"}
    assert set(kernel.loc[kernel["unit"] == "B", "assessment"]) >= {"improvement"}
    assert kernel.loc[kernel["point"] == "gap", "statistic"].isna().all()


def test_risk_adjusted_by_hand_and_ties() -> None:
    # two cases at the same minute: the stay id breaks the tie (S1 before S2). p 0.2, R 2:
    # W(y=1) = ln 2 - ln(1.2) = 0.51083; W(y=0) = -ln 1.2 = -0.18232
    # S+ = 0.51083, 1.02165, 0.83933 (S1 y1, S2 y1, S3 y0)
    cases = pd.DataFrame({"institution": "H1", "time": [5, 5, 7], "stay_id": ["S2", "S1", "S3"],
                          "outcome": [1, 1, 0], "expected": [0.2] * 3})
    for method in ("kernel", "sql"):
        out = risk_adjusted_signals(cases, order=("time", "stay_id"), h=1.0, method=method)
        assert out["stay_id"].tolist() == ["S1", "S2", "S3"]
        assert out["statistic"].round(5).tolist() == [0.51083, 1.02165, 0.83933]
        assert out["signal"].tolist() == [False, True, False]
    with pytest.raises(ContractError, match="tie-breaking"):
        risk_adjusted_signals(cases, order=("time",))
    with pytest.raises(ValueError, match="odds_ratio"):
        risk_adjusted_signals(cases, order=("time", "stay_id"), odds_ratio=1.0, method="sql")
