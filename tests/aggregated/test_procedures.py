"""procedure_fact on the hand-made March of conftest.py: one row per procedure, national flags."""

from __future__ import annotations

import ibis.expr.types as ir

from hospital_sdk.aggregated import SURGERY_CATEGORIES, build_procedure_fact, build_stay_fact
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.aggregated.procedures import COLUMNS
from hospital_sdk.model import CONTRACT
from tests.aggregated.conftest import MONTH, S1_OUT, S2_OUT, S4_OUT


def _rows(inputs: dict[str, ir.Table]) -> dict[tuple[str, str, int], dict]:
    rows = build_procedure_fact(inputs, MONTH).to_pyarrow().to_pylist()
    return {(r["institution_id"], r["stay_id"], r["seq"]): r for r in rows}


def test_surgery_is_category_1_or_4_of_the_code_set() -> None:
    # the procedure_category code set: 1 手术, 2 诊断性操作, 3 治疗性操作, 4 介入治疗
    labels = {c.code: c.zh for c in CONTRACT.code_set("procedure_category").codes}
    assert [labels[c] for c in SURGERY_CATEGORIES] == ["手术", "介入治疗"]


def test_one_row_per_procedure_of_the_months_stays(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(inputs)
    # S1 has 2 procedures, S2 has 1; S3's procedure belongs to April; S4 and H2/S1 have none
    assert sorted(rows) == [("H1", "S1", 1), ("H1", "S1", 2), ("H1", "S2", 1)]
    assert build_procedure_fact(inputs, MONTH).columns == COLUMNS


def test_flags_per_procedure(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(inputs)
    surgery, diagnostic, interventional = rows["H1", "S1", 1], rows["H1", "S1", 2], rows[
        "H1", "S2", 1]
    assert (surgery["category"], surgery["is_surgery"], surgery["is_interventional"]) == (
        "1", True, False)
    assert (surgery["is_level4"], surgery["is_minimally_invasive"],
            surgery["is_class1_incision_infection"], surgery["is_elective_surgery"]) == (
        True, True, True, True)
    assert (diagnostic["is_surgery"], diagnostic["is_level4"],
            diagnostic["is_minimally_invasive"], diagnostic["is_class1_incision"]) == (
        False, False, False, False)
    # recorded operation level 4, national list says no: is_level4 follows the national list
    assert (interventional["is_surgery"], interventional["is_interventional"]) == (True, True)
    assert (interventional["is_level4"], interventional["is_level4_recorded"]) == (False, True)
    assert (interventional["is_class1_incision"],
            interventional["is_class1_incision_infection"]) == (True, False)
    assert interventional["is_unplanned_reoperation"] is True


def test_stay_columns_come_from_the_stay(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(inputs)
    assert rows["H1", "S1", 1]["discharge_time"] == S1_OUT
    assert rows["H1", "S2", 1]["discharge_time"] == S2_OUT
    assert {r["campus_id"] for r in rows.values()} == {"H1-C1"}
    assert {r["discharge_dept_id"] for r in rows.values()} == {"H1-SURG"}


def test_a_code_missing_from_the_catalog_is_not_surgery(inputs: dict[str, ir.Table]) -> None:
    inputs["stay_procedure"] = cleaned_memtable("stay_procedure", [
        {"institution_id": "H1", "stay_id": "S4", "seq": 1, "procedure_code": "99.9999",
         "discharge_time": S4_OUT}])
    (row,) = build_procedure_fact(inputs, MONTH).to_pyarrow().to_pylist()
    assert (row["category"], row["is_surgery"], row["is_day_surgery"]) == (None, False, False)


def test_day_surgery_rolls_up_to_the_stay(inputs: dict[str, ir.Table]) -> None:
    # H1/S4 (in March) gets one elective day surgery with the catalog's surgery code 51.2300
    inputs["stay_procedure"] = cleaned_memtable("stay_procedure", [
        {"institution_id": "H1", "stay_id": "S4", "seq": 1, "procedure_code": "51.2300",
         "surgery_type": "1", "is_day_surgery": True, "is_unplanned_reoperation": False,
         "discharge_time": S4_OUT}])
    (row,) = build_procedure_fact(inputs, MONTH).to_pyarrow().to_pylist()
    assert (row["is_day_surgery"], row["is_elective_surgery"]) == (True, True)
    stays = build_stay_fact(inputs, MONTH).to_pyarrow().to_pylist()
    # only H1/S4 has a procedure now: it alone has (day) surgery
    assert sorted((r["stay_id"], r["institution_id"]) for r in stays if r["has_day_surgery"]) == [
        ("S4", "H1")]
    assert sum(r["n_operations"] for r in stays) == 1


def test_level3_follows_the_catalogs_national_level_on_surgery_only(
        inputs: dict[str, ir.Table]) -> None:
    # H1/S4: a surgery the catalog grades 3 (the hospital recorded 2) -> level 3;
    # H1/S1: a surgery the catalog grades 2 (recorded 3) and a diagnostic procedure the catalog
    # grades 3 -> neither is a level-3 surgery; H1/S2: no catalog level at all -> not level 3
    inputs["procedure_catalog"] = cleaned_memtable("procedure_catalog", [
        {"code": "51.2300", "category": "1", "operation_level": "3"},
        {"code": "47.0100", "category": "1", "operation_level": "2"},
        {"code": "87.4400", "category": "2", "operation_level": "3"},
        {"code": "39.5000", "category": "4", "operation_level": None}])
    inputs["stay_procedure"] = cleaned_memtable("stay_procedure", [
        {"institution_id": "H1", "stay_id": sid, "seq": seq, "procedure_code": code,
         "operation_level": recorded, "discharge_time": out}
        for sid, seq, code, recorded, out in (
            ("S4", 1, "51.2300", "2", S4_OUT), ("S1", 1, "47.0100", "3", S1_OUT),
            ("S1", 2, "87.4400", None, S1_OUT), ("S2", 1, "39.5000", "3", S2_OUT))])
    stays = {r["stay_id"]: r for r in build_stay_fact(inputs, MONTH).to_pyarrow().to_pylist()
             if r["institution_id"] == "H1"}
    assert {sid: (r["has_surgery"], r["has_level3_surgery"]) for sid, r in stays.items()} == {
        "S1": (True, False), "S2": (True, False), "S4": (True, True)}
