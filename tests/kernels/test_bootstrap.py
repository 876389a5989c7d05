"""bootstrap_groups: the kernel and its Python body against the slow reference, bit for bit.

The random groups are compared with :func:`tests.kernels.naive.bootstrap.bootstrap_reference`
(its own hash, grouping, ordering and quantile) with ``==`` on floats: the generator is
counter-based and the sums run in draw order, so there is nothing to tolerate. The hand cases
write their arithmetic in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.bootstrap import (
    NOTE_EMPTY,
    NOTE_ONE,
    bootstrap_groups,
    mix32,
    resample_positions,
)
from tests.kernels.naive.bootstrap import bootstrap_reference, hash32, positions


def _random_groups(seed: int, n: int = 300) -> pd.DataFrame:
    """Several groups of skewed values, incl. sizes 0 (all values missing), 1 and 2."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "institution_id": rng.choice(["H1", "H2"], n),
        "department": rng.choice(["card", "resp", "surg", "icu"], n),
        "wait": np.round(rng.lognormal(3.0, 0.8, n), 1),
        "observed": rng.poisson(2.0, n).astype(float),
        "expected": np.round(rng.uniform(0.2, 3.0, n), 3)})
    frame.loc[rng.random(n) < 0.05, "wait"] = np.nan
    extra = pd.DataFrame({
        "institution_id": ["H3", "H4", "H5", "H5", "H6", None],
        "department": ["one", "none", "two", "two", "none", "card"],
        "wait": [7.0, np.nan, 3.0, 9.0, np.nan, 1.0],
        "observed": [1.0, np.nan, 0.0, 3.0, np.nan, 1.0],
        "expected": [0.5, 1.5, 1.0, 2.0, 1.0, 1.0]})
    return pd.concat([frame, extra], ignore_index=True)


def _as_dict(out: pd.DataFrame, by: list[str]) -> dict[tuple, tuple]:
    return {tuple(r[c] for c in by): (int(r["n"]), r["estimate"], r["low"], r["high"])
            for r in out.to_dict("records")}


def _same(a: dict, b: dict) -> bool:
    """Equal keys and bit-equal floats (NaN equal to NaN)."""
    return a.keys() == b.keys() and all(
        x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        for k in a for x, y in zip(a[k], b[k], strict=True))


def test_the_generator_matches_the_reference_hash() -> None:
    # mix32(0) = 0: every step of 0 gives 0 (why the seed is xor-ed with 0x9E3779B9)
    x = np.arange(0, 2**32, 2**32 // 5000, dtype=np.int64)
    assert mix32(x).tolist() == [hash32(int(v)) for v in x]
    assert mix32(0) == 0 and mix32(2**32 - 1) == hash32(2**32 - 1)
    assert len(set(mix32(np.arange(100_000)).tolist())) == 100_000  # a bijection: no repeats
    for seed, group, rep, n in [(0, 0, 0, 5), (7, 3, 1999, 40), (2**32 - 1, 9, 2, 1)]:
        drawn = resample_positions(seed, group, rep, n).tolist()
        assert drawn == positions(seed, group, rep, n)
        assert all(0 <= k < n for k in drawn)


@pytest.mark.parametrize("statistic", ["mean", "ratio", "median"])
@pytest.mark.parametrize("seed", [1, 2])
def test_random_groups_equal_the_reference_with_and_without_the_jit(statistic: str,
                                                                    seed: int) -> None:
    frame = _random_groups(seed)
    by = ["institution_id", "department"]
    cols = {"value": "wait"} if statistic != "ratio" else {"observed": "observed",
                                                           "expected": "expected"}
    kw = dict(by=by, statistic=statistic, replicates=150, confidence=0.9, seed=seed)
    want = bootstrap_reference(frame, by, list(cols.values()), statistic, 150, 0.9, seed)
    assert {k: v[0] for k, v in want.items() if v[0] < 3} == {
        ("H3", "one"): 1, ("H4", "none"): 0, ("H5", "two"): 2, ("H6", "none"): 0}
    compiled = _as_dict(bootstrap_groups(frame, **kw, **cols), by)
    assert _same(compiled, want)
    assert _same(_as_dict(bootstrap_groups(frame, **kw, **cols, jit=False), by), want)
    # the row order does not matter (rows are ordered by value inside each group)
    shuffled = frame.sample(frac=1.0, random_state=seed)
    assert _same(_as_dict(bootstrap_groups(shuffled, **kw, **cols), by), compiled)


def test_same_seed_same_bits_other_seed_other_resamples() -> None:
    frame = _random_groups(5)
    one = bootstrap_groups(frame, by="department", value="wait", seed=11, replicates=300)
    two = bootstrap_groups(frame, by="department", value="wait", seed=11, replicates=300)
    other = bootstrap_groups(frame, by="department", value="wait", seed=12, replicates=300)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_series_equal(one["estimate"], other["estimate"])
    assert (one["low"] != other["low"]).any()


def test_degenerate_and_empty_groups_by_hand() -> None:
    frame = pd.DataFrame({
        "g": ["same"] * 4 + ["one", "none", "none", "two", "two"],
        "v": [2.5, 2.5, 2.5, 2.5, 7.0, np.nan, np.nan, 1.0, 3.0]})
    out = bootstrap_groups(frame, by="g", value="v", replicates=2000, seed=3).set_index("g")
    # "same": every resample of four 2.5 sums to 10.0 exactly, /4 = 2.5: interval [2.5, 2.5]
    assert out.loc["same", ["n", "estimate", "low", "high"]].tolist() == [4, 2.5, 2.5, 2.5]
    assert out.loc["same", "note"] is None
    # "one": the only resample is (7.0): [7, 7], flagged
    assert out.loc["one", ["n", "estimate", "low", "high"]].tolist() == [1, 7.0, 7.0, 7.0]
    assert out.loc["one", "note"] == NOTE_ONE
    # "none": no value: n = 0, NaN, flagged
    assert out.loc["none", "n"] == 0 and out.loc["none", ["estimate", "low", "high"]].isna().all()
    assert out.loc["none", "note"] == NOTE_EMPTY
    # "two" (1, 3): a resample mean is 1 (p 1/4), 2 (1/2) or 3 (1/4); of 2000 replicates about
    # 500 are 1 and 500 are 3, so the 2.5 % quantile (h = 1999 × 0.025 = 49.975, between the
    # 50th and 51st smallest) is 1 and the 97.5 % one (h = 1949.025) is 3; estimate (1+3)/2 = 2
    assert out.loc["two", ["n", "estimate", "low", "high"]].tolist() == [2, 2.0, 1.0, 3.0]


def test_ratio_and_median_by_hand() -> None:
    frame = pd.DataFrame({"g": ["a", "a", "b", "b", "b"], "obs": [2.0, 4.0, 0, 0, 0],
                          "exp": [1.0, 1.0, 1.0, 1.0, 1.0], "v": [1.0, 2.0, 1.0, 2.0, 100.0]})
    ratio = bootstrap_groups(frame, by="g", observed="obs", expected="exp", statistic="ratio",
                             seed=4).set_index("g")
    # a: (2 + 4) / (1 + 1) = 3; resample ratios 2 (p 1/4), 3, 4 (p 1/4): interval [2, 4]
    assert ratio.loc["a", ["estimate", "low", "high"]].tolist() == [3.0, 2.0, 4.0]
    # b: 0 observed: every ratio is 0 / 3 = 0
    assert ratio.loc["b", ["estimate", "low", "high"]].tolist() == [0.0, 0.0, 0.0]
    median = bootstrap_groups(frame, by="g", value="v", statistic="median",
                              seed=4).set_index("g")
    # a (1, 2): a resample median is 1, 1.5 or 2 (p 1/4, 1/2, 1/4): [1, 2], estimate 1.5
    assert median.loc["a", ["estimate", "low", "high"]].tolist() == [1.5, 1.0, 2.0]
    # b (1, 2, 100): the median is 100 when two or three draws are 100:
    # 3 (1/3)^2 (2/3) + (1/3)^3 = 7/27 ≈ 26 % > 2.5 %, likewise 1: interval [1, 100], estimate 2
    assert median.loc["b", ["estimate", "low", "high"]].tolist() == [2.0, 1.0, 100.0]
    # a narrower level gives a nested interval
    narrow = bootstrap_groups(frame, by="g", value="v", statistic="median", seed=4,
                              confidence=0.2).set_index("g")
    assert (narrow["low"] >= median["low"]).all() and (narrow["high"] <= median["high"]).all()


def test_empty_input_and_null_keys() -> None:
    empty = bootstrap_groups(pd.DataFrame({"g": [], "v": []}), by="g", value="v")
    assert empty.empty and list(empty.columns) == ["g", "n", "estimate", "low", "high", "note"]
    out = bootstrap_groups(pd.DataFrame({"g": [None, "a"], "v": [5.0, 1.0]}), by="g", value="v")
    assert out["g"].tolist() == ["a"] and out["n"].tolist() == [1]


def test_bad_input() -> None:
    f = pd.DataFrame({"g": ["a"], "v": [1.0], "s": ["x"], "e": [0.0]})
    with pytest.raises(ContractError, match=r"lacks column\(s\) \['w'\]"):
        bootstrap_groups(f, by="g", value="w")
    with pytest.raises(ContractError, match="'s' must be numeric"):
        bootstrap_groups(f, by="g", value="s")
    with pytest.raises(ContractError, match="'e' .* must be > 0"):
        bootstrap_groups(f, by="g", observed="v", expected="e", statistic="ratio")
    with pytest.raises(ContractError, match="infinite"):
        bootstrap_groups(f.assign(v=np.inf), by="g", value="v")
    with pytest.raises(ValueError, match="takes observed= and expected="):
        bootstrap_groups(f, by="g", value="v", statistic="ratio")
    with pytest.raises(ValueError, match="takes value="):
        bootstrap_groups(f, by="g", observed="v", expected="v")
    with pytest.raises(ValueError, match="statistic must be one of"):
        bootstrap_groups(f, by="g", value="v", statistic="mode")  # type: ignore[arg-type]
    for bad in ({"replicates": 0}, {"confidence": 1.0}, {"seed": -1}, {"seed": 2**32}):
        with pytest.raises(ValueError):
            bootstrap_groups(f, by="g", value="v", **bad)
