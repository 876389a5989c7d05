"""Drill-down: the records behind an indicator, with the reason each is in or out."""

from __future__ import annotations

from datetime import datetime as dt

import ibis
import pandas as pd
import pytest

from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators import cases, fact_memtable, load_catalog

CATALOG = load_catalog()


def _stay(sid: str, dept: str, when: dt, **flags: object) -> dict:
    return {"institution_id": "H1", "stay_id": sid, "discharge_dept_id": dept,
            "discharge_time": when, **flags}


STAYS = fact_memtable("stay_fact", [
    _stay("S1", "SUR", dt(2024, 3, 1), has_surgery=True, has_elective_surgery=True,
          has_complication_not_poa=True),                               # in both
    _stay("S2", "SUR", dt(2024, 3, 2), has_surgery=True, has_elective_surgery=True),  # den only
    _stay("S3", "OBS", dt(2024, 3, 3), has_surgery=True, has_elective_surgery=True,
          principal_diagnosis_code="O82.000", has_complication_not_poa=True),  # excluded
    _stay("S4", "MED", dt(2024, 3, 4)),                                  # not elective surgery
    _stay("S5", "SUR", dt(2024, 4, 1), has_surgery=True, has_elective_surgery=True),  # April
])
SOURCE = {"stay_fact": STAYS}


def test_each_record_with_its_reason() -> None:
    got = cases(CATALOG, "surgical_complication_rate@2", SOURCE, period="2024-03")
    reasons = dict(zip(got.stay_id, got.reason))
    assert reasons == {
        "S1": "in numerator and denominator",
        "S2": "in denominator only: not _.has_complication_not_poa",
        "S3": "excluded: obstetric_perinatal (妊娠、分娩、围产期 / Pregnancy, childbirth and "
              "perinatal)",
        "S4": "not in denominator: not _.has_elective_surgery",
    }  # S5 left in April: not a record of March
    assert got.in_numerator.tolist() == [True, False, False, False]
    assert got.in_denominator.tolist() == [True, True, False, False]
    assert "empi_id" not in got and "patient_local_id" not in got


def test_drill_into_a_cell_and_leave_out_records_that_count_nowhere() -> None:
    got = cases(CATALOG, "surgical_complication_rate@2", SOURCE, period="2024-03",
                where={"department": "SUR"}, include_out=False)
    assert got.stay_id.tolist() == ["S1", "S2"]


def test_a_ratio_across_facts_lists_both_facts() -> None:
    visits = fact_memtable("visit_fact", [
        {"institution_id": "H1", "visit_id": "V1", "dept_id": "SUR", "visit_type": "outpatient",
         "visit_time": dt(2024, 3, 5)},
        {"institution_id": "H1", "visit_id": "V2", "dept_id": "SUR", "visit_type": "emergency",
         "visit_time": dt(2024, 3, 5)}])
    got = cases(CATALOG, "outpatient_discharge_ratio", {**SOURCE, "visit_fact": visits},
                period="2024-03", where={"department": "SUR"})
    by_fact = {f: g for f, g in got.groupby("fact")}
    assert by_fact["visit_fact"].in_numerator.tolist() == [True, False]   # V2 is emergency
    assert by_fact["stay_fact"].in_denominator.tolist() == [True, True]   # S1, S2
    assert by_fact["stay_fact"].stay_id.tolist() == ["S1", "S2"]


def test_sum_measures_show_what_each_record_contributes() -> None:
    stays = fact_memtable("stay_fact", [
        _stay("S1", "SUR", dt(2024, 3, 1), los_days=4), _stay("S2", "SUR", dt(2024, 3, 2),
                                                               los_days=6)])
    got = cases(CATALOG, "average_length_of_stay", {"stay_fact": stays}, period="2024-03")
    assert got.numerator_value.tolist() == [4.0, 6.0]    # bed-days
    assert got.denominator_value.tolist() == [1.0, 1.0]  # one discharge each


def test_a_reported_indicator_lists_its_submissions() -> None:
    with pytest.raises(IndicatorError, match="emr_level@1 is a reported indicator and the "
                                             "source holds no reported_value table"):
        cases(CATALOG, "emr_level", SOURCE, period="2024")
    # H1 submitted level 4 in January, then corrected it to 5 in February; H2 submitted once;
    # a 2023 value is another period
    def row(inst: str, period: str, value: float, sha: str, month: int) -> dict:
        return {"institution_id": inst, "period": period, "indicator_id": "emr_level",
                "version": "1", "value_number": value, "value_text": None, "unit": "level",
                "note": None, "source_file": f"reported_{period}.csv", "source_row": 2,
                "source_sha256": sha, "submitted_at": dt(2025, month, 1)}
    submitted = ibis.memtable(pd.DataFrame([
        row("H1", "2024", 4.0, "aa", 1), row("H1", "2024", 5.0, "bb", 2),
        row("H2", "2024", 3.0, "aa", 1), row("H1", "2023", 2.0, "cc", 1)]))
    got = cases(CATALOG, "emr_level", {"reported_value": submitted}, period="2024")
    assert list(zip(got.institution_id, got.value_number, got.in_use)) == [
        ("H1", 4.0, False), ("H1", 5.0, True), ("H2", 3.0, True)]
    assert got.reason.tolist() == ["superseded by a later submission",
                                   "latest submission: the value in use",
                                   "latest submission: the value in use"]


def test_the_indicator_set_drills_into_one_indicator() -> None:
    chosen = CATALOG.select("surgery_share", "average_length_of_stay")
    with pytest.raises(IndicatorError, match="cases\\(\\) drills into one indicator; the set "
                                             "holds 2"):
        chosen.cases(SOURCE, period="2024-03")
    one = CATALOG.select("surgery_share").cases(SOURCE, period="2024-03")
    assert one.in_numerator.sum() == 3  # S1, S2, S3 had surgery in March
    assert len(chosen.filter(kind="mean")) == 1
    assert "GROUP BY" in chosen.explain(period="2024-03")


def test_drill_into_large_equipment_exams_shows_the_missing_result_exclusion() -> None:
    exams = fact_memtable("exam_fact", [
        {"institution_id": "H1", "exam_id": e, "ordering_dept_id": "SUR", "equipment_type": kind,
         "order_time": dt(2024, 3, 5), "is_large_equipment": large, "has_result": result,
         "is_positive": positive}
        for e, kind, large, result, positive in (
            ("E1", "CT", True, True, True), ("E2", "MR", True, True, False),
            ("E3", "CT", True, False, None), ("E4", None, False, True, True))])
    got = cases(CATALOG, "large_equipment_positive_rate", {"exam_fact": exams},
                period="2024-03")
    reasons = dict(zip(got.exam_id, got.reason))
    assert reasons == {
        "E1": "in numerator and denominator",
        "E2": "in denominator only: not _.is_positive",
        "E3": "excluded: no_result (无检查结果（未检查、未出报告或未标注阳性/阴性） / No result "
              "recorded (not performed, not reported, or not coded))",
        "E4": "not in denominator: not _.is_large_equipment",
    }
    assert {"equipment_type", "ordering_dept_id"} <= set(got.columns)
    assert "patient_local_id" not in got and "empi_id" not in got


def test_drill_into_procurement_lists_drugs_by_month() -> None:
    bought = fact_memtable("procurement_fact", [
        {"institution_id": "H1", "month": dt(2024, 3, 1).date(), "drug_code": code,
         "generic_item": code.lower(), "is_essential": essential, "quantity": 1.0}
        for code, essential in (("A", True), ("B", False))])
    got = cases(CATALOG, "essential_drug_procurement_item_share", {"procurement_fact": bought},
                period="2024-03")
    assert got.drug_code.tolist() == ["A", "B"]
    assert got.in_numerator.tolist() == [True, False]
    assert got.in_denominator.tolist() == [True, True]
    # a distinct count: a record adds 1 only the first time its item is seen, so no fixed value
    assert got.denominator_value.isna().all()
    assert got.generic_item.tolist() == ["a", "b"]
