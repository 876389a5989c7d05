"""Readmission links and return-to-theatre intervals on hand-made patients (March 2024).

Each patient (``empi_id`` E1, E2, ...) is there to prove one rule; the expected gap of each stay
is worked out by hand in the comment next to it (gap = admission date − previous discharge date).
Discharges are at 09:00 and admissions at 15:00 unless stated.
"""

from __future__ import annotations

from datetime import datetime as dt

import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated.episodes import (
    READMISSION_NEEDS,
    choose_method,
    readmission_links,
    reoperation_intervals,
)
from hospital_sdk.aggregated.inputs import cleaned_memtable as table
from hospital_sdk.aggregated.stays import NEEDS as STAY_NEEDS
from hospital_sdk.aggregated.stays import build_stay_fact
from hospital_sdk.store.partitions import month_bounds

START, END = month_bounds("2024-03")


def _in(month: int, day: int) -> dt:
    return dt(2024, month, day, 15)


def _out(month: int, day: int) -> dt:
    return dt(2024, month, day, 9)


# (institution, stay, empi, admitted, discharged, plan, disposition, principal diagnosis)
STAYS = [
    ("H1", "P1", "E1", _in(2, 28), _out(3, 5), "1", "1", "I21.000"),
    ("H1", "S1", "E1", _in(3, 5), _out(3, 10), "1", "1", "I21.000"),     # same day: gap 0
    ("H1", "P2", "E2", _in(2, 25), _out(3, 1), "1", "1", "I21.000"),
    ("H1", "S2", "E2", _in(3, 2), _out(3, 6), "1", "1", "I21.001"),      # gap 1 (same-day window)
    ("H1", "P3", "E3", _in(2, 1), _out(2, 10), "1", "1", "J18.900"),     # February
    ("H1", "S3", "E3", _in(3, 12), _out(3, 15), "1", "1", "J18.900"),    # Feb 10 -> Mar 12: 31
    ("H1", "P4", "E4", _in(2, 1), _out(2, 9), "1", "1", "J18.900"),
    ("H1", "S4", "E4", _in(3, 12), _out(3, 15), "1", "1", "J18.900"),    # 32: too late
    ("H1", "P5", "E5", _in(2, 25), _out(3, 1), "1", "1", "K80.100"),
    ("H1", "S5", "E5", _in(3, 3), _out(3, 8), "1", "1", "K80.100"),      # gap 2
    ("H1", "P6", "E6", _in(2, 25), _out(3, 1), "1", "1", "K80.100"),
    ("H1", "S6", "E6", _in(3, 16), _out(3, 20), "1", "1", "K80.100"),    # gap 15
    ("H1", "P7", "E7", _in(2, 25), _out(3, 1), "1", "1", "K80.100"),
    ("H1", "S7", "E7", _in(3, 17), _out(3, 20), "1", "1", "K80.100"),    # gap 16
    ("H1", "P8", "E8", _in(2, 25), _out(3, 1), "2", "1", "C34.100"),     # planned (chemo)
    ("H1", "S8", "E8", _in(3, 6), _out(3, 8), "1", "1", "C34.100"),      # gap 5 but planned
    ("H1", "P9", "E9", _in(2, 25), _out(3, 1), None, "1", "C34.100"),    # plan missing
    ("H1", "S9", "E9", _in(3, 6), _out(3, 8), "1", "1", "C34.100"),      # gap 5: counts
    ("H1", "P10", "E10", _in(2, 25), _out(3, 1), "1", "5", "I21.000"),   # index stay died
    ("H1", "S10", "E10", _in(3, 4), _out(3, 8), "1", "1", "I21.000"),    # gap 3: not counted
    ("H1", "P11", "E11", _in(2, 25), _out(3, 1), "1", "1", "I21.000"),
    ("H1", "S11", "E11", _in(3, 4), _out(3, 8), "1", "1", "I21.100"),    # I210 vs I211: no
    ("H2", "P12", "E12", _in(2, 25), _out(3, 1), "1", "1", "I21.000"),   # other institution
    ("H1", "S12", "E12", _in(3, 4), _out(3, 8), "1", "1", "I21.000"),    # no link across them
    ("H1", "P13", None, _in(2, 25), _out(3, 1), "1", "1", "I21.000"),    # no EMPI
    ("H1", "S13", None, _in(3, 4), _out(3, 8), "1", "1", "I21.000"),     # cannot be linked
    ("H1", "A14", "E14", _in(2, 25), _out(3, 2), "1", "1", "N18.500"),
    ("H1", "B14", "E14", _in(3, 4), _out(3, 8), "1", "1", "N18.500"),    # gap 2 after A14
    ("H1", "C14", "E14", _in(3, 10), _out(3, 15), "1", "1", "N18.500"),  # gap 2 after B14
    ("H1", "P15", "E15", _in(1, 10), _out(1, 20), "1", "1", "I63.900"),  # January
    ("H1", "S15", "E15", _in(1, 25), _out(3, 5), "1", "1", "I63.900"),   # long stay: gap 5
    ("H1", "P16", "E16", _in(3, 20), _out(3, 28), "1", "1", "I63.900"),
    ("H1", "S16", "E16", _in(3, 30), _out(4, 2), "1", "1", "I63.900"),   # April: not in March
    ("H1", "P17", "E17", _in(2, 25), _out(3, 1), "1", "1", "I50.900"),
    ("H1", "S17", "E17", _in(3, 5), _out(3, 9), "1", "5", "I50.900"),    # gap 4, then died
]

EXPECTED_GAPS = {"S1": 0, "S2": 1, "S3": 31, "S5": 2, "S6": 15, "S7": 16, "S9": 5, "B14": 2,
                 "C14": 2, "S15": 5, "S17": 4}
"""Every unplanned readmission discharged in March, by hand from the comments above."""


def _tables(rows: list[tuple] = STAYS) -> dict[str, ir.Table]:
    stays = table("inpatient_stay", [
        {"institution_id": i, "stay_id": s, "empi_id": e, "patient_local_id": f"L-{s}",
         "admission_time": a, "discharge_time": d, "readmission_plan": plan,
         "discharge_disposition": disp} for i, s, e, a, d, plan, disp, _ in rows])
    dx = table("stay_diagnosis", [
        {"institution_id": i, "stay_id": s, "diagnosis_kind": "discharge", "seq": 1,
         "diagnosis_code": code, "discharge_time": d} for i, s, _, _, d, _, _, code in rows])
    return {"inpatient_stay": stays, "stay_diagnosis": dx}


def _gaps(links: ir.Table) -> dict[str, int]:
    rows = links.to_pyarrow().to_pylist()
    assert len(rows) == len({(r["institution_id"], r["stay_id"]) for r in rows})  # one each
    return {r["stay_id"]: r["readmission_gap_days"] for r in rows}


METHODS = pytest.mark.parametrize("method", ["sql", "kernel", "auto"])


@METHODS
def test_every_rule_on_the_hand_made_patients(method: str) -> None:
    assert _gaps(readmission_links(_tables(), START, END, method=method)) == EXPECTED_GAPS


@METHODS
def test_a_month_never_changes_when_later_months_load(method: str) -> None:
    # drop April (S16) and add a May stay of E1: March's links are the same
    rows = [r for r in STAYS if r[1] != "S16"]
    rows.append(("H1", "X1", "E1", _in(5, 1), _out(5, 3), "1", "1", "I21.000"))
    assert _gaps(readmission_links(_tables(rows), START, END, method=method)) == EXPECTED_GAPS


def test_the_kernel_path_returns_the_sql_path_schema_and_nothing_on_an_empty_month() -> None:
    sql = readmission_links(_tables(), START, END, method="sql")
    kernel = readmission_links(_tables(), START, END, method="kernel")
    assert kernel.schema() == sql.schema()
    empty = readmission_links(_tables([]), START, END, method="kernel")
    assert empty.schema() == sql.schema() and empty.to_pyarrow().num_rows == 0
    one = readmission_links(_tables(STAYS[:1]), START, END, method="kernel")
    assert one.to_pyarrow().num_rows == 0  # P1 alone has no index stay


def test_unknown_methods_and_the_kernel_off_duckdb_are_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        readmission_links(_tables(), START, END, method="numba")  # type: ignore[arg-type]

    class Spark:
        name = "pyspark"
    stays = _tables()["inpatient_stay"]
    monkeypatch.setattr(ir.Table, "_find_backend", lambda self, use_default=True: Spark())
    assert choose_method("auto", stays, "readmission") == "sql"
    with pytest.raises(ValueError, match="needs the tables on DuckDB"):
        choose_method("kernel", stays, "readmission")


@METHODS
def test_the_index_stay_is_only_the_immediately_preceding_one(method: str) -> None:
    # E20: A (I21) out Mar 1, B (J18) Mar 3-5, C (I21) in Mar 8. C's previous stay is B, whose
    # diagnosis differs: C is not a readmission even though A matches within 7 days
    rows = [("H1", "A20", "E20", _in(2, 25), _out(3, 1), "1", "1", "I21.000"),
            ("H1", "B20", "E20", _in(3, 3), _out(3, 5), "1", "1", "J18.900"),
            ("H1", "C20", "E20", _in(3, 8), _out(3, 12), "1", "1", "I21.000")]
    assert _gaps(readmission_links(_tables(rows), START, END, method=method)) == {}


@METHODS
def test_windows_of_31_days_are_configurable(method: str) -> None:
    gaps = _gaps(readmission_links(_tables(), START, END, max_gap_days=15, method=method))
    assert gaps == {k: v for k, v in EXPECTED_GAPS.items() if v <= 15}


@pytest.mark.parametrize("kw", [{"max_gap_days": -1}, {"subcategory_length": 0}])
def test_bad_parameters_are_refused(kw: dict) -> None:
    with pytest.raises(ValueError):
        readmission_links(_tables(), START, END, **kw)


def test_stay_fact_carries_the_flag_and_the_gap() -> None:
    tables = {name: table(name) for name in STAY_NEEDS}
    tables.update(_tables())
    assert set(READMISSION_NEEDS) <= set(STAY_NEEDS)
    rows = build_stay_fact(tables, "2024-03").to_pyarrow().to_pylist()
    march = {r[1] for r in STAYS if START <= r[4] < END}
    assert {r["stay_id"] for r in rows} == march
    for r in rows:
        expected = EXPECTED_GAPS.get(r["stay_id"])
        assert r["readmission_gap_days"] == expected, r["stay_id"]
        assert r["is_unplanned_readmission"] is (expected is not None), r["stay_id"]


# --- return to theatre -------------------------------------------------------------------------
# (institution, stay, empi, admitted, discharged, [(seq, code, procedure time, unplanned)])
# 47.0100 is surgery (category 1), 87.4400 a diagnostic procedure (category 2).
OP, DX = "47.0100", "87.4400"
THEATRE = [
    ("H1", "A1", "E1", _in(3, 1), _out(3, 20),
     [(1, OP, dt(2024, 3, 2, 8), False), (2, OP, dt(2024, 3, 4, 8), True)]),       # 48 h exactly
    ("H1", "A2", "E2", _in(3, 1), _out(3, 20),
     [(1, OP, dt(2024, 3, 2, 8), False), (2, OP, dt(2024, 3, 4, 8, 1), True)]),    # 48 h 1 min
    ("H1", "B3a", "E3", _in(2, 5), _out(2, 10), [(1, OP, dt(2024, 2, 6, 10), False)]),
    ("H1", "B3b", "E3", _in(3, 3), _out(3, 15), [(1, OP, dt(2024, 3, 8, 10), True)]),  # 744 h
    ("H1", "B4a", "E4", _in(2, 5), _out(2, 10), [(1, OP, dt(2024, 2, 6, 9), False)]),
    ("H1", "B4b", "E4", _in(3, 3), _out(3, 15), [(1, OP, dt(2024, 3, 8, 10), True)]),  # 745 h
    ("H1", "A5", "E5", _in(3, 4), _out(3, 9), [(1, OP, dt(2024, 3, 5, 8), True)]),  # first ever
    ("H1", "A6", "E6", _in(3, 1), _out(3, 9),
     [(1, OP, dt(2024, 3, 2, 8), False), (2, OP, dt(2024, 3, 3, 8), False)]),      # planned
    ("H1", "A7", "E7", _in(3, 1), _out(3, 9),
     [(1, DX, dt(2024, 3, 2, 8), False), (2, OP, dt(2024, 3, 3, 8), True)]),       # not an op
    ("H2", "A8x", "E8", _in(3, 1), _out(3, 2), [(1, OP, dt(2024, 3, 1, 20), False)]),
    ("H1", "A8", "E8", _in(3, 2), _out(3, 9), [(1, OP, dt(2024, 3, 3, 8), True)]),  # other inst.
    ("H1", "A9", None, _in(3, 1), _out(3, 2), [(1, OP, dt(2024, 3, 1, 20), False)]),
    ("H1", "B9", None, _in(3, 2), _out(3, 9), [(1, OP, dt(2024, 3, 3, 8), True)]),  # no EMPI
    ("H1", "C9", None, _in(3, 9), _out(3, 20),
     [(1, OP, dt(2024, 3, 10, 8), False), (2, OP, dt(2024, 3, 11, 8), True)]),     # 24 h
    ("H1", "A10", "E10", _in(3, 1), _out(3, 9),
     [(1, OP, dt(2024, 3, 2, 8), False), (2, OP, None, True)]),                     # no time
    ("H1", "A11", "E11", _in(2, 28), _out(3, 20),
     [(1, OP, dt(2024, 3, 1, 8), False), (2, OP, dt(2024, 3, 5, 8), False),
      (3, OP, dt(2024, 3, 6, 8), True)]),                                           # 24 h
]

EXPECTED_HOURS = {("A1", 2): 48.0, ("A2", 2): 48 + 1 / 60, ("B3b", 1): 31 * 24.0,
                  ("B4b", 1): 31 * 24.0 + 1, ("A5", 1): None, ("A7", 2): None,
                  ("A8", 1): None, ("B9", 1): None, ("C9", 2): 24.0, ("A10", 2): None,
                  ("A11", 3): 24.0}
"""Every flagged surgery of a stay discharged in March: hours since the previous operation of
the same patient in the same institution, by hand from the comments above."""
EXPECTED_WINDOWS = {"A1": (True, True), "A2": (False, True), "B3b": (False, True),
                    "C9": (True, True), "A11": (True, True)}
"""(within 48 h, within 31 days) of the March stays that have either; every other: neither."""


def _theatre_tables() -> dict[str, ir.Table]:
    tables = {name: table(name) for name in STAY_NEEDS}
    tables["inpatient_stay"] = table("inpatient_stay", [
        {"institution_id": i, "stay_id": s, "empi_id": e, "admission_time": a,
         "discharge_time": d} for i, s, e, a, d, _ in THEATRE])
    tables["stay_procedure"] = table("stay_procedure", [
        {"institution_id": i, "stay_id": s, "seq": seq, "procedure_code": code,
         "procedure_time": when, "is_unplanned_reoperation": flag, "discharge_time": d}
        for i, s, _, _, d, procs in THEATRE for seq, code, when, flag in procs])
    tables["procedure_catalog"] = table("procedure_catalog", code=[OP, DX], category=["1", "2"])
    return tables


@METHODS
def test_hours_since_the_previous_operation(method: str) -> None:
    rows = reoperation_intervals(_theatre_tables(), START, END,
                                 method=method).to_pyarrow().to_pylist()
    got = {(r["stay_id"], r["seq"]): r["hours_since_previous"] for r in rows}
    assert got.keys() == EXPECTED_HOURS.keys()
    for key, hours in EXPECTED_HOURS.items():
        assert got[key] == (None if hours is None else pytest.approx(hours)), key


def test_stay_fact_return_to_theatre_windows() -> None:
    rows = build_stay_fact(_theatre_tables(), "2024-03").to_pyarrow().to_pylist()
    assert {r["stay_id"] for r in rows} == {
        s for _, s, _, _, d, _ in THEATRE if START <= d < END}
    for r in rows:
        windows = (r["has_unplanned_reoperation_48h"], r["has_unplanned_reoperation_31d"])
        assert windows == EXPECTED_WINDOWS.get(r["stay_id"], (False, False)), r["stay_id"]
    overall = {r["stay_id"] for r in rows if r["has_unplanned_reoperation"]}
    # every stay with a flagged surgery, whatever its window (A7's flagged row is a surgery)
    assert overall == {s for s, _ in EXPECTED_HOURS}
