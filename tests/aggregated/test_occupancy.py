"""Ward occupancy: the SQL path (Ibis on DuckDB) equals the kernel and the slow reference.

Random stays come from :func:`tests.kernels.test_sweeps.random_movements`; the hand stays are
:data:`tests.kernels.test_sweeps.HAND_MOVES`, whose expected bed-days are worked out there.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from hospital_sdk.aggregated import occupancy
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.aggregated.occupancy import use_kernel, ward_bed_days, ward_hourly_census
from hospital_sdk.errors import ContractError
from tests.kernels.naive import sweeps as naive
from tests.kernels.test_sweeps import HAND_MOVES, as_dict, random_movements

T = pd.Timestamp
MARCH_1, MARCH_4, MARCH_15 = dt.date(2024, 3, 1), dt.date(2024, 3, 4), dt.date(2024, 3, 15)


def _tables(moves: pd.DataFrame) -> dict:
    rows = moves.astype(object).where(moves.notna(), None).to_dict("records")
    for r in rows:
        r.setdefault("dept_id", "D1")
    return {"stay_movement": cleaned_memtable("stay_movement", rows)}


@pytest.mark.parametrize("seed", [4, 5])
def test_random_stays_sql_equals_kernel_and_reference(seed: int) -> None:
    moves = random_movements(seed)
    tables = _tables(moves)
    by = ("institution_id", "ward_id", "dept_id")
    for same_day in (True, False):
        want = naive.bed_days(moves, "2024-03-01", "2024-03-15", by, same_day)
        frames = [ward_bed_days(tables, MARCH_1, MARCH_15, by=by, same_day_counts_one=same_day,
                                method=m) for m in ("sql", "kernel")]
        pd.testing.assert_frame_equal(frames[0], frames[1])
        assert as_dict(frames[0], "day", "occupied_bed_days") == want
    want = naive.hourly_census(moves, "2024-03-01", "2024-03-04")
    sql, kernel = (ward_hourly_census(tables, MARCH_1, MARCH_4, method=m)
                   for m in ("sql", "kernel"))
    pd.testing.assert_frame_equal(sql, kernel)
    assert want and as_dict(sql, "hour", "census") == want


def test_hand_stays_on_both_paths() -> None:
    tables = _tables(HAND_MOVES)
    # see test_bed_days_by_hand: W1 1, 1, 3 on 1-3 March; W2 2 on 1 March
    want = {("H1", "W1", T("2024-03-01")): 1, ("H1", "W1", T("2024-03-02")): 1,
            ("H1", "W1", T("2024-03-03")): 3, ("H1", "W2", T("2024-03-01")): 2}
    for method in ("sql", "kernel", "auto"):
        got = ward_bed_days(tables, MARCH_1, MARCH_4, method=method)
        assert as_dict(got, "day", "occupied_bed_days") == want
    # the period 2-3 March: only B's 03-02 and W1's 03-03 (C, D, E) remain: 1 and 3
    got = ward_bed_days(tables, dt.date(2024, 3, 2), MARCH_4, method="sql")
    assert got["occupied_bed_days"].tolist() == [1, 3]


def test_empty_input_nulls_and_dispatch() -> None:
    empty = {"stay_movement": cleaned_memtable("stay_movement")}
    for method in ("sql", "kernel"):
        out = ward_bed_days(empty, MARCH_1, MARCH_4, method=method)
        assert out.empty and list(out.columns) == ["institution_id", "ward_id", "day",
                                                   "occupied_bed_days"]
        assert ward_hourly_census(empty, MARCH_1, MARCH_4, method=method).empty
    nulls = _tables(HAND_MOVES.assign(ward_id=["W1"] * 9 + [None]))
    for method in ("sql", "kernel"):
        with pytest.raises(ContractError, match="ward_id"):
            ward_bed_days(nulls, MARCH_1, MARCH_4, method=method)
    with pytest.raises(ContractError, match="stay_movement"):
        ward_bed_days({}, MARCH_1, MARCH_4)
    with pytest.raises(ValueError, match="method must be"):
        ward_bed_days(_tables(HAND_MOVES), MARCH_1, MARCH_4, method="fast")  # type: ignore[arg-type]
    moves = _tables(HAND_MOVES)["stay_movement"]
    assert use_kernel(moves, "kernel", "bed_days") and not use_kernel(moves, "sql", "bed_days")
    # auto follows the benchmark's verdict on a local backend
    assert use_kernel(moves, "auto", "bed_days") == occupancy.KERNEL_WINS["bed_days"]
