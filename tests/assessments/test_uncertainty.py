"""bootstrap_interval: the SQL path draws the kernel's resamples; the dispatch picks the path.

On integer-valued data every sum is exact whatever the order, so there the SQL path must equal
the kernel bit for bit — which it can only do if it drew the same rows for every replicate. On
real-valued data the engine's summation order may change the last bits: a relative 1e-12.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from hospital_sdk.assessments import uncertainty
from hospital_sdk.assessments.uncertainty import bootstrap_expr, bootstrap_interval
from hospital_sdk.errors import ContractError

BY = ["institution_id", "department"]


def _groups(seed: int, n: int = 250, integers: bool = False) -> pd.DataFrame:
    """Random groups plus a group with one row, one with two, one with no value."""
    rng = np.random.default_rng(seed)
    wait = rng.integers(1, 120, n).astype(float) if integers else rng.lognormal(3.0, 0.8, n)
    frame = pd.DataFrame({
        "institution_id": rng.choice(["H1", "H2"], n),
        "department": rng.choice(["card", "resp", "surg"], n),
        "wait": wait, "observed": rng.poisson(2.0, n).astype(float),
        "expected": rng.integers(1, 4, n).astype(float) if integers
        else rng.uniform(0.2, 3.0, n)})
    frame.loc[rng.random(n) < 0.05, "wait"] = np.nan
    extra = pd.DataFrame({"institution_id": ["H3", "H4", "H4", "H5"],
                          "department": ["one", "two", "two", "none"],
                          "wait": [7.0, 3.0, 9.0, np.nan], "observed": [1.0, 0.0, 3.0, np.nan],
                          "expected": [1.0, 1.0, 2.0, 1.0]})
    return pd.concat([frame, extra], ignore_index=True)


def _cols(statistic: str) -> dict[str, str]:
    return ({"observed": "observed", "expected": "expected"} if statistic == "ratio"
            else {"value": "wait"})


@pytest.mark.parametrize("statistic", ["mean", "ratio", "median"])
def test_sql_equals_the_kernel_bit_for_bit_on_integer_data(statistic: str) -> None:
    frame = _groups(3, integers=True)
    kw = dict(by=BY, statistic=statistic, replicates=120, seed=9, **_cols(statistic))
    kernel = bootstrap_interval(frame, method="kernel", **kw)
    sql = bootstrap_interval(frame, method="sql", **kw)
    assert kernel.attrs["method"] == "kernel" and sql.attrs["method"] == "sql"
    pd.testing.assert_frame_equal(kernel, sql, check_exact=True, check_dtype=False)
    assert kernel.set_index(BY).loc[("H5", "none"), "n"] == 0
    assert kernel.set_index(BY).loc[("H4", "two"), "n"] == 2


@pytest.mark.parametrize("statistic", ["mean", "ratio", "median"])
def test_sql_equals_the_kernel_on_real_data(statistic: str) -> None:
    frame = _groups(4)
    kw = dict(by=BY, statistic=statistic, replicates=100, confidence=0.9, seed=2,
              **_cols(statistic))
    kernel = bootstrap_interval(frame, method="kernel", **kw)
    sql = bootstrap_interval(frame, method="sql", **kw)
    pd.testing.assert_frame_equal(kernel, sql, rtol=1e-12, check_dtype=False)


def test_auto_picks_the_kernel_on_local_data_and_sql_elsewhere(monkeypatch) -> None:
    frame = _groups(5)
    con = ibis.duckdb.connect()
    table = con.create_table("visits", frame)
    kw = dict(by="department", value="wait", replicates=80, seed=1)
    from_pandas = bootstrap_interval(frame, **kw)
    from_duckdb = bootstrap_interval(table, **kw)
    assert from_pandas.attrs["method"] == from_duckdb.attrs["method"] == "kernel"
    pd.testing.assert_frame_equal(from_pandas, from_duckdb)
    monkeypatch.setattr(uncertainty, "LOCAL_BACKENDS", frozenset())  # as if it were Spark
    remote = bootstrap_interval(table, **kw)
    assert remote.attrs["method"] == "sql"
    pd.testing.assert_frame_equal(remote, from_pandas, rtol=1e-12, check_dtype=False)


def test_hand_case_on_both_paths() -> None:
    # g "a" (2, 2, 2): every resample mean is 6/3 = 2: [2, 2]; "b" (4): one row: [4, 4]
    frame = pd.DataFrame({"g": ["a", "a", "a", "b"], "v": [2.0, 2.0, 2.0, 4.0]})
    for method in ("kernel", "sql"):
        out = bootstrap_interval(frame, by="g", value="v", replicates=50, method=method)
        assert out[["g", "n", "estimate", "low", "high"]].values.tolist() == [
            ["a", 3, 2.0, 2.0, 2.0], ["b", 1, 4.0, 4.0, 4.0]]
        assert out["note"].tolist() == [None, "one row: every resample equals it"]


def test_bad_input() -> None:
    frame = pd.DataFrame({"g": ["a"], "v": [1.0], "s": ["x"]})
    with pytest.raises(ValueError, match="method must be"):
        bootstrap_interval(frame, by="g", value="v", method="spark")  # type: ignore[arg-type]
    for method in ("kernel", "sql"):
        with pytest.raises(ContractError, match=r"lacks column\(s\) \['w'\]"):
            bootstrap_interval(frame, by="g", value="w", method=method)
        with pytest.raises(ContractError, match="'s' must be numeric"):
            bootstrap_interval(frame, by="g", value="s", method=method)
    table = ibis.duckdb.connect().create_table("t", frame)
    with pytest.raises(ContractError, match=r"lacks column\(s\) \['w'\]"):
        bootstrap_interval(table, by="g", value="w")
    with pytest.raises(ValueError, match="seed must be"):
        bootstrap_expr(table, by="g", value="v", seed=-1)


def test_group_numbering_agrees_on_unicode_and_case() -> None:
    # the generator is keyed by the group's rank among sorted keys: pandas (code points) and
    # DuckDB (UTF-8 bytes) must sort "Resp" < "resp" < "呼吸科" < "心内科" the same way
    rng = np.random.default_rng(8)
    names = np.array(["心内科", "resp", "呼吸科", "Resp"], dtype=object)
    frame = pd.DataFrame({"department": names[rng.integers(0, 4, 120)],
                          "wait": rng.integers(1, 90, 120).astype(float)})
    kw = dict(by="department", value="wait", replicates=60, seed=5)
    kernel = bootstrap_interval(frame, method="kernel", **kw)
    assert kernel["department"].tolist() == ["Resp", "resp", "呼吸科", "心内科"]
    pd.testing.assert_frame_equal(kernel, bootstrap_interval(frame, method="sql", **kw),
                                  check_exact=True, check_dtype=False)
