"""The episode kernels against slow obvious references and against their SQL paths.

Every expected value in the corner cases is worked out by hand in the comments; the random
groups are compared with :mod:`tests.kernels.naive.episodes` (direct readings of the rules),
with the compiled kernel and its Python body, and with the aggregated layer's
``method="sql"`` and ``method="kernel"`` row for row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.aggregated.episodes import readmission_links, reoperation_intervals
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.aggregated.revisits import emergency_revisits
from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.episodes import (
    READMISSION_COLUMNS,
    link_readmissions,
    previous_operation_hours,
    readmission_gaps,
    revisits_within,
)
from tests.kernels.naive import episodes as naive

_reference = naive.readmission_gaps
WIDE = dt.datetime(2023, 1, 1), dt.datetime(2025, 1, 1)


def _as_dict(frame: pd.DataFrame) -> dict[tuple, int]:
    return {(r.institution_id, r.stay_id): int(r.readmission_gap_days)
            for r in frame.itertuples()}


def _stays(*rows: tuple) -> pd.DataFrame:
    """(stay, empi, admitted, discharged, plan, disposition, diagnosis) in institution H1."""
    return pd.DataFrame([{
        "institution_id": "H1", "stay_id": sid, "empi_id": empi,
        "admission_time": pd.Timestamp(a), "discharge_time": pd.Timestamp(d),
        "readmission_plan": plan, "discharge_disposition": disp,
        "principal_diagnosis_code": dx} for sid, empi, a, d, plan, disp, dx in rows],
        columns=list(READMISSION_COLUMNS))


def _random_group(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2024-01-01")
    admit = base + pd.to_timedelta(rng.integers(0, 150 * 24, n), unit="h")
    los = pd.to_timedelta(rng.integers(0, 12 * 24, n), unit="h")
    return pd.DataFrame({
        "institution_id": rng.choice(["H1", "H2"], n),
        "stay_id": [f"S{i:04d}" for i in rng.permutation(n)],
        "empi_id": pd.Series(rng.choice(["E1", "E2", "E3", "E4", "E5", "E6", None], n),
                             dtype=object),
        "admission_time": admit, "discharge_time": admit + los,
        "readmission_plan": pd.Series(rng.choice(["1", "1", "1", "2", None], n), dtype=object),
        "discharge_disposition": rng.choice(["1", "1", "1", "2", "5"], n),
        "principal_diagnosis_code": pd.Series(
            rng.choice(["I21.000", "I21.001", "I21.100", "I22.000", "J18.9", None], n),
            dtype=object)})


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_groups_equal_the_reference_with_and_without_the_jit(seed: int) -> None:
    stays = _random_group(seed)
    want = _reference(stays)
    assert want  # the random groups do contain readmissions
    assert _as_dict(readmission_gaps(stays)) == want
    assert _as_dict(readmission_gaps(stays, jit=False)) == want


@pytest.mark.parametrize("seed", [11, 12])
def test_random_groups_equal_the_sql_path(seed: int) -> None:
    stays = _random_group(seed, 250)
    cleaned = {
        "inpatient_stay": cleaned_memtable("inpatient_stay", stays.drop(
            columns="principal_diagnosis_code").to_dict("records")),
        "stay_diagnosis": cleaned_memtable("stay_diagnosis", [
            {"institution_id": r.institution_id, "stay_id": r.stay_id,
             "diagnosis_kind": "discharge", "seq": 1, "diagnosis_code": r.principal_diagnosis_code,
             "discharge_time": r.discharge_time}
            for r in stays.itertuples() if r.principal_diagnosis_code is not None])}
    sql = readmission_links(cleaned, *WIDE, method="sql").execute()
    kernel = readmission_links(cleaned, *WIDE, method="kernel").execute()
    assert _as_dict(readmission_gaps(stays)) == _as_dict(sql) == _as_dict(kernel)
    assert _as_dict(sql) == _reference(stays)


def test_windows_ties_and_exclusions_by_hand() -> None:
    stays = _stays(
        # E1: A out 03-05 10:00; B in 03-05 18:00 (same day: gap 0) out 03-10; C in 04-10
        # (gap 31 from B's 03-10: counts); D in 05-12 (gap 32 from C's 04-10 discharge: no)
        ("A", "E1", "2024-03-01", "2024-03-05 10:00", "1", "1", "I21.000"),
        ("B", "E1", "2024-03-05 18:00", "2024-03-10", "1", "1", "I21.001"),
        ("C", "E1", "2024-04-10", "2024-04-10 20:00", None, "1", "I21.099"),
        ("D", "E1", "2024-05-12", "2024-05-13", "1", "1", "I21.000"),
        # E2: F planned (plan 2) -> G not unplanned; G -> H but G died: H not a readmission
        ("F", "E2", "2024-03-01", "2024-03-02", "2", "1", "J18.900"),
        ("G", "E2", "2024-03-03", "2024-03-04", "1", "5", "J18.900"),
        ("H", "E2", "2024-03-05", "2024-03-06", "1", "1", "J18.900"),
        # E3: two stays discharged at the same instant before K: the later admission (J) is
        # the index; J's diagnosis is K00.1, I's is K35: K (K35.8) matches I only -> no link
        ("I", "E3", "2024-03-01", "2024-03-09 12:00", "1", "1", "K35.800"),
        ("J", "E3", "2024-03-08", "2024-03-09 12:00", "1", "1", "K00.100"),
        ("K", "E3", "2024-03-20", "2024-03-21", "1", "1", "K35.800"),
        # E4: same 3 characters, different subcategory (I21.0 vs I21.1): no link
        ("L", "E4", "2024-03-01", "2024-03-02", "1", "1", "I21.000"),
        ("M", "E4", "2024-03-10", "2024-03-11", "1", "1", "I21.100"),
        # no EMPI: never linked
        ("N", None, "2024-03-01", "2024-03-02", "1", "1", "I21.000"),
        ("O", None, "2024-03-03", "2024-03-04", "1", "1", "I21.000"),
    )
    want = {("H1", "B"): 0, ("H1", "C"): 31}
    assert _as_dict(readmission_gaps(stays)) == want == _reference(stays)
    assert _as_dict(readmission_gaps(stays, jit=False)) == want
    # a narrower window: C (31 days) is out; 3 characters: M now matches L (gap 8)
    assert _as_dict(readmission_gaps(stays, max_gap_days=30)) == {("H1", "B"): 0}
    assert _as_dict(readmission_gaps(stays, subcategory_length=3))[("H1", "M")] == 8


def test_empty_one_row_and_bad_input() -> None:
    assert readmission_gaps(_stays()).empty
    one = _stays(("A", "E1", "2024-03-01", "2024-03-02", "1", "1", "I21.000"))
    out = readmission_gaps(one)
    assert out.empty and list(out.columns) == ["institution_id", "stay_id",
                                               "readmission_gap_days"]
    with pytest.raises(ContractError, match=r"lack column\(s\) \['empi_id'\]"):
        readmission_gaps(one.drop(columns="empi_id"))
    with pytest.raises(ValueError, match="max_gap_days must be >= 0"):
        readmission_gaps(one, max_gap_days=-1)
    with pytest.raises(ContractError, match="naive"):
        readmission_gaps(one.assign(admission_time=one["admission_time"].dt.tz_localize("UTC")))


# --- link_readmissions: the arrays-level entry ------------------------------------------------
def _readmission_arrays() -> dict[str, np.ndarray]:
    t = np.array(["2024-03-01", "2024-03-05", "2024-03-20", "2024-03-25"], "datetime64[us]")
    return {"group": np.zeros(2, np.int64), "admission": t[[0, 2]], "discharge": t[[1, 3]],
            "rank": np.arange(2, dtype=np.int64), "plan_ok": np.ones(2, bool),
            "died": np.zeros(2, bool), "subcategory": np.zeros(2, np.int64)}


def test_link_readmissions_by_hand_and_its_input_checks() -> None:
    a = _readmission_arrays()
    # out 03-05, in 03-20: 15 days; the first stay has no index
    assert link_readmissions(**a).tolist() == [-1, 15]
    assert link_readmissions(**a, jit=False).tolist() == [-1, 15]
    assert link_readmissions(**{**a, "subcategory": np.array([0, -1])}).tolist() == [-1, -1]
    # NaT discharge of the index: it is nobody's index
    nat = a["discharge"].copy()
    nat[0] = np.datetime64("NaT")
    assert link_readmissions(**{**a, "discharge": nat}).tolist() == [-1, -1]
    empty = {k: v[:0] for k, v in a.items()}
    assert link_readmissions(**empty).tolist() == []
    with pytest.raises(ContractError, match="rank has dtype int32"):
        link_readmissions(**{**a, "rank": a["rank"].astype(np.int32)})
    with pytest.raises(ContractError, match="group must be C-contiguous"):
        link_readmissions(**{**a, "group": np.zeros(4, np.int64)[::2]})
    with pytest.raises(ContractError, match="differ in length"):
        link_readmissions(**{**a, "died": np.zeros(3, bool)})
    with pytest.raises(ContractError, match="different units"):
        link_readmissions(**{**a, "admission": a["admission"].astype("datetime64[s]")})
    with pytest.raises(ContractError, match="sorted by group"):
        link_readmissions(**{**a, "group": np.array([1, 0])})
    with pytest.raises(ValueError, match="max_gap_days"):
        link_readmissions(**a, max_gap_days=-1)


# --- previous_operation_hours -----------------------------------------------------------------
def _times(*stamps: str | None) -> np.ndarray:
    return np.array([s or "NaT" for s in stamps], "datetime64[us]")


def test_previous_operation_hours_by_hand() -> None:
    group = np.array([0, 0, 0, 0, 1, 1, 2], np.int64)
    time = _times("2024-03-02T08:00", "2024-03-04T08:00", "2024-03-04T08:00", None,
                  "2024-02-06T10:00", "2024-03-08T10:00", "2024-03-01T00:00")
    want = [np.nan,
            48.0,           # 03-02 08:00 -> 03-04 08:00: 2 × 24 = 48 h exactly
            48.0,           # a tie at 03-04 08:00 is not the previous: still 03-02 08:00
            np.nan,         # no time
            np.nan,         # first operation of group 1
            744.0,          # 02-06 10:00 -> 03-08 10:00: 23 days of Feb + 8 = 31 days = 744 h
            np.nan]         # alone in group 2
    for jit in (True, False):
        np.testing.assert_array_equal(previous_operation_hours(group, time, jit=jit), want)
    assert previous_operation_hours(group[:0], time[:0]).shape == (0,)
    with pytest.raises(ContractError, match="time decreases"):
        previous_operation_hours(group[:2], time[1::-1].copy())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_previous_operation_hours_equal_the_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    group = np.sort(rng.integers(0, 40, n)).astype(np.int64)
    minutes = rng.integers(0, 60 * 24 * 10, n) // 30 * 30  # half-hours: ties are common
    time = np.datetime64("2024-03-01", "us") + minutes.astype("timedelta64[m]")
    time[rng.random(n) < 0.05] = np.datetime64("NaT")
    order = np.lexsort((time.view(np.int64), group))
    group, time = group[order], time[order]
    want = naive.previous_operation_hours(
        group.tolist(), [None if np.isnat(t) else t.item() for t in time])
    want_array = np.array([np.nan if w is None else w for w in want])
    for jit in (True, False):
        np.testing.assert_array_equal(previous_operation_hours(group, time, jit=jit), want_array)


OP, DX = "47.0100", "87.4400"


def _random_theatre(seed: int, n: int = 120) -> dict:
    rng = np.random.default_rng(seed)
    base = dt.datetime(2024, 1, 1)
    stays, procs = [], []
    for k in range(n):
        admit = base + dt.timedelta(hours=int(rng.integers(0, 90 * 24)))
        out = admit + dt.timedelta(hours=int(rng.integers(24, 15 * 24)))
        empi = rng.choice(["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", ""])
        inst = rng.choice(["H1", "H2"])
        stays.append({"institution_id": inst, "stay_id": f"S{k:03d}",
                      "empi_id": empi or None, "admission_time": admit, "discharge_time": out})
        for seq in range(1, int(rng.integers(1, 4)) + 1):
            when = admit + dt.timedelta(hours=int(rng.integers(0, 24)) * 12)
            procs.append({"institution_id": inst, "stay_id": f"S{k:03d}", "seq": seq,
                          "procedure_code": rng.choice([OP, OP, OP, DX]),
                          "procedure_time": None if rng.random() < 0.05 else when,
                          "is_unplanned_reoperation": bool(rng.random() < 0.4),
                          "discharge_time": out})
    return {"inpatient_stay": stays, "stay_procedure": procs}


@pytest.mark.parametrize("seed", [5, 6])
def test_reoperation_intervals_kernel_equals_sql_and_the_reference(seed: int) -> None:
    rows = _random_theatre(seed)
    tables = {name: cleaned_memtable(name, r) for name, r in rows.items()}
    tables["procedure_catalog"] = cleaned_memtable("procedure_catalog", code=[OP, DX],
                                                   category=["1", "2"])
    got = {}
    for method in ("sql", "kernel"):
        out = reoperation_intervals(tables, *WIDE, method=method).to_pyarrow().to_pylist()
        got[method] = {(r["institution_id"], r["stay_id"], r["seq"]): r["hours_since_previous"]
                       for r in out}
    empi = {(s["institution_id"], s["stay_id"]): s["empi_id"] for s in rows["inpatient_stay"]}
    ops = [p for p in rows["stay_procedure"] if p["procedure_code"] == OP]
    groups = [(p["institution_id"], empi[p["institution_id"], p["stay_id"]] or p["stay_id"],
               empi[p["institution_id"], p["stay_id"]] is None) for p in ops]
    hours = naive.previous_operation_hours(groups, [p["procedure_time"] for p in ops])
    want = {(p["institution_id"], p["stay_id"], p["seq"]): h
            for p, h in zip(ops, hours, strict=True) if p["is_unplanned_reoperation"]}
    assert want and any(h is not None for h in want.values())
    assert got["sql"] == got["kernel"] == pytest.approx(want, nan_ok=True)


# --- revisits_within --------------------------------------------------------------------------
def test_revisits_within_by_hand() -> None:
    group = np.array([0, 0, 0, 0, 0, 1, 1, 2], np.int64)
    time = _times("2024-03-01T10:00", "2024-03-04T10:00", "2024-03-07T10:01",
                  "2024-03-07T10:01", None, "2024-03-10T00:00", "2024-03-13T00:00:00.000001",
                  "2024-03-20T00:00")
    want = [True,    # 03-01 10:00 -> 03-04 10:00: 3 × 24 = 72 h exactly, inclusive
            False,   # 03-04 10:00 -> 03-07 10:01: 72 h 1 min
            True,    # same minute as the next row: it returns in 0 h
            False,   # the last row of the tie has no later visit (the NaT row is skipped)
            False,   # no time
            False,   # 03-10 00:00 -> 03-13 00:00 + 1 µs: one microsecond past 72 h
            False,   # last of group 1
            False]   # alone
    for jit in (True, False):
        assert revisits_within(group, time, jit=jit).tolist() == want
    # a window of 72 h + 1 µs takes group 1's pair; 0 h keeps only the tie
    assert revisits_within(group, time, window_hours=72 + 1 / 3.6e9)[5]
    assert revisits_within(group, time, window_hours=0).tolist() == [
        False, False, True, False, False, False, False, False]
    assert revisits_within(group[:0], time[:0]).tolist() == []
    with pytest.raises(ValueError, match="window_hours"):
        revisits_within(group, time, window_hours=-1)


def _random_visits(seed: int, n: int = 300) -> list[dict]:
    rng = np.random.default_rng(seed)
    base = dt.datetime(2024, 3, 1)
    return [{"institution_id": rng.choice(["H1", "H2"]), "visit_id": f"V{i:04d}",
             "empi_id": rng.choice(["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", ""]) or None,
             "visit_type": rng.choice(["emergency", "emergency", "outpatient"]),
             "visit_time": base + dt.timedelta(hours=int(rng.integers(0, 60 * 24 // 6)) * 6),
             "is_cancelled": bool(rng.random() < 0.05)} for i in rng.permutation(n)]


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_revisits_kernel_equals_sql_and_the_reference(seed: int) -> None:
    rows = _random_visits(seed)
    tables = {"outpatient_visit": cleaned_memtable("outpatient_visit", rows)}
    march = dt.datetime(2024, 3, 1), dt.datetime(2024, 4, 1)
    got = {}
    for method in ("sql", "kernel"):
        out = emergency_revisits(tables, *march, method=method).to_pyarrow().to_pylist()
        got[method] = {(r["institution_id"], r["visit_id"]): r["has_return_visit"] for r in out}
    er = [r for r in rows if r["visit_type"] == "emergency" and not r["is_cancelled"]]
    flags = naive.revisits_within(
        [(r["institution_id"], r["empi_id"]) if r["empi_id"] else None for r in er],
        [r["visit_time"] for r in er], [r["visit_id"] for r in er])
    want = {(r["institution_id"], r["visit_id"]): f for r, f in zip(er, flags, strict=True)
            if r["visit_time"] < march[1]}
    assert sum(want.values()) > 10
    assert got["sql"] == got["kernel"] == want
