"""Soundness: each test pins a way an indicator engine can give a wrong number without failing.

The stays are built from cleaned tables by the aggregated layer's own builder, so the fan-out
trap is tested end to end (source rows -> stay_fact -> indicator). Every expected number is
worked out by hand in the comments.

The hand-made group (institution H1)::

    stay  admitted     discharged         dept (movements)  procedures            diagnoses
    S1    2024-02-20   2024-03-10         SUR               2 surgeries + 1 diag  K80.1 + I10 + J18
    S2    2024-03-01   2024-03-31 23:59   MED -> SUR        1 diagnostic only     J18
    S3    2024-03-05   2024-03-15         OBS               caesarean (elective)  O82 + T81.4 (POA 无)
    S4    2024-03-18   2024-03-20         NEO (newborn)     surgery (elective)    P07 + T81.4 (POA 无)
    S5    2024-03-25   2024-04-01 00:00   SUR               surgery               K35
    S6    2024-02-26   2024-02-29 23:59   SUR               -                     K35
"""

from __future__ import annotations

import math
from datetime import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest

from hospital_sdk.aggregated import AGGREGATED_TABLES, cleaned_memtable
from hospital_sdk.indicators import compare_versions, compute, fact_memtable, load_catalog
from hospital_sdk.indicators.catalog import Catalog

OUT = {"S1": dt(2024, 3, 10, 11), "S2": dt(2024, 3, 31, 23, 59), "S3": dt(2024, 3, 15, 9),
       "S4": dt(2024, 3, 20, 9), "S5": dt(2024, 4, 1, 0, 0), "S6": dt(2024, 2, 29, 23, 59)}
IN = {"S1": dt(2024, 2, 20), "S2": dt(2024, 3, 1), "S3": dt(2024, 3, 5), "S4": dt(2024, 3, 18),
      "S5": dt(2024, 3, 25), "S6": dt(2024, 2, 26)}
DEPT = {"S1": "SUR", "S2": "SUR", "S3": "OBS", "S4": "NEO", "S5": "SUR", "S6": "SUR"}


def _stay(sid: str, **kw: object) -> dict:
    los = (OUT[sid].date() - IN[sid].date()).days
    row = {"institution_id": "H1", "stay_id": sid, "campus_id": "C1", "admission_time": IN[sid],
           "discharge_time": OUT[sid], "discharge_dept_id": DEPT[sid], "los_days": los,
           "admission_dept_id": "MED" if sid == "S2" else DEPT[sid], "is_newborn": sid == "S4",
           "discharge_disposition": "1", "total_cost": 1000.0}
    row.update(kw)
    return row


def _diag(sid: str, seq: int, code: str, poa: str = "1") -> dict:
    return {"institution_id": "H1", "stay_id": sid, "diagnosis_kind": "discharge", "seq": seq,
            "diagnosis_code": code, "present_on_admission": poa, "discharge_time": OUT[sid]}


def _proc(sid: str, seq: int, code: str, surgery_type: str = "1") -> dict:
    return {"institution_id": "H1", "stay_id": sid, "seq": seq, "procedure_code": code,
            "procedure_time": OUT[sid], "discharge_time": OUT[sid], "surgery_type": surgery_type}


def _cleaned() -> dict[str, ir.Table]:
    tables = {name: cleaned_memtable(name) for name in AGGREGATED_TABLES["stay_fact"].reads}
    tables["inpatient_stay"] = cleaned_memtable("inpatient_stay", [_stay(s) for s in OUT])
    tables["stay_diagnosis"] = cleaned_memtable("stay_diagnosis", [
        _diag("S1", 1, "K80.100"), _diag("S1", 2, "I10.x00"), _diag("S1", 3, "J18.000"),
        _diag("S2", 1, "J18.000"),
        _diag("S3", 1, "O82.000"), _diag("S3", 2, "T81.400", "4"),
        _diag("S4", 1, "P07.300"), _diag("S4", 2, "T81.400", "4"),
        _diag("S5", 1, "K35.800"), _diag("S6", 1, "K35.800")])
    tables["stay_procedure"] = cleaned_memtable("stay_procedure", [
        _proc("S1", 1, "51.2300"), _proc("S1", 2, "51.2200"), _proc("S1", 3, "87.4400"),
        _proc("S2", 1, "87.4400"), _proc("S3", 1, "74.1x00"), _proc("S4", 1, "51.2300"),
        _proc("S5", 1, "47.0100")])
    tables["procedure_catalog"] = cleaned_memtable("procedure_catalog", [
        {"code": c, "category": cat, "is_minimally_invasive": False,
         "is_level4_national": False}
        for c, cat in (("51.2300", "1"), ("51.2200", "1"), ("87.4400", "2"), ("74.1x00", "1"),
                       ("47.0100", "1"))])
    return tables


@pytest.fixture(scope="module")
def stays() -> ir.Table:
    tables = _cleaned()
    spec = AGGREGATED_TABLES["stay_fact"]
    months = [spec.build(tables, m) for m in ("2024-02", "2024-03", "2024-04")]
    return ibis.memtable(ibis.union(*months).to_pyarrow())


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _cells(result: pd.DataFrame, *keys: str) -> dict:
    return {tuple(r[k] for k in keys): r for r in result.to_dict("records")}


def test_fan_out_several_diagnoses_and_procedures_count_once(stays: ir.Table,
                                                              catalog: Catalog) -> None:
    # March: S1, S2, S3, S4 discharged -> 4 discharges; surgery: S1 (two surgeries and three
    # diagnoses: still one admission), S3, S4 -> 3 / 4 = 75 %. Joining diagnoses x procedures
    # before counting would give S1 3 x 3 = 9 rows and 11 / 12.
    r = compute(catalog, ["surgery_share"], {"stay_fact": stays}, period="2024-03")
    row = r.iloc[0]
    assert (row.numerator, row.denominator, row.value) == (3.0, 4.0, 75.0)


def test_period_is_placed_by_discharge_time(stays: ir.Table, catalog: Catalog) -> None:
    # S6 left 29 Feb 23:59 -> February; S1 admitted in February, left in March -> March;
    # S5 left at exactly 1 April 00:00 -> April (the period is [start, end)).
    r = compute(catalog, ["surgery_share"], {"stay_fact": stays}, period="2024-02..2024-04",
                by=["month"])
    den = {k[0]: v["denominator"] for k, v in _cells(r, "period").items()}
    assert den == {"2024-02": 1.0, "2024-03": 4.0, "2024-04": 1.0}


def test_transfers_count_once_in_the_discharge_department(stays: ir.Table,
                                                           catalog: Catalog) -> None:
    # S2 was admitted to MED and moved to SUR: one discharge, in SUR (with S1); none in MED
    r = compute(catalog, ["surgery_share"], {"stay_fact": stays}, period="2024-03",
                by=["department"])
    den = {k[0]: v["denominator"] for k, v in _cells(r, "department").items()}
    assert den == {"NEO": 1.0, "OBS": 1.0, "SUR": 2.0}
    assert sum(den.values()) == 4.0


def test_exclusions_newborn_and_obstetric(stays: ir.Table, catalog: Catalog) -> None:
    # version 1 (every surgical patient): S1, S3, S4; complications not POA: S3, S4 -> 2 / 3.
    # version 2 (elective, O/P chapters and newborns excluded): S3 (O82) and S4 (newborn, P07)
    # leave; S1 remains, without complication -> 0 / 1 = 0 %.
    diff = compare_versions(catalog, "surgical_complication_rate", {"stay_fact": stays},
                            period="2024-03")
    row = diff.iloc[0]
    assert (row["numerator@1"], row["denominator@1"]) == (2.0, 3.0)
    assert row["value@1"] == pytest.approx(200 / 3)
    assert (row["numerator@2"], row["denominator@2"], row["value@2"]) == (0.0, 1.0, 0.0)
    assert row["difference"] == pytest.approx(-200 / 3)


def test_zero_denominator_is_not_computable_never_zero_or_inf(stays: ir.Table,
                                                              catalog: Catalog) -> None:
    # by department, version 2: OBS and NEO lose their only surgical patient to exclusions ->
    # denominator 0 -> no value; SUR: S1 -> 0 / 1 = 0 % (a real zero)
    r = compute(catalog, ["surgical_complication_rate@2"], {"stay_fact": stays},
                period="2024-03", by=["department"])
    cells = _cells(r, "department")
    for dept in ("OBS", "NEO"):
        assert cells[dept,]["status"] == "not_computable"
        assert cells[dept,]["reason"] == "denominator is 0"
        assert math.isnan(cells[dept,]["value"])
    assert (cells["SUR",]["value"], cells["SUR",]["status"]) == (0.0, "ok")
    assert not r["value"].isin([math.inf, -math.inf]).any()


def test_empty_denominator_across_facts_is_not_computable(stays: ir.Table,
                                                          catalog: Catalog) -> None:
    # outpatient visits ÷ discharges by department: OPD has 2 visits and no discharge ->
    # denominator 0, no value (not inf); SUR has 0 visits and 2 discharges -> 0.0
    visits = fact_memtable("visit_fact", [
        {"institution_id": "H1", "visit_id": f"V{i}", "dept_id": "OPD",
         "visit_type": "outpatient", "is_cancelled": False, "visit_time": dt(2024, 3, 2)}
        for i in range(2)])
    r = compute(catalog, ["outpatient_discharge_ratio"],
                {"stay_fact": stays, "visit_fact": visits}, period="2024-03", by=["department"])
    cells = _cells(r, "department")
    assert cells["OPD",]["numerator"] == 2.0 and cells["OPD",]["denominator"] == 0.0
    assert cells["OPD",]["status"] == "not_computable" and math.isnan(cells["OPD",]["value"])
    assert (cells["SUR",]["numerator"], cells["SUR",]["value"]) == (0.0, 0.0)


def test_year_over_year_of_a_ratio_divides_the_ratios(catalog: Catalog) -> None:
    # mean cost per discharge: 2023 (100 + 300) / 2 = 200; 2024 (150 + 150 + 600) / 3 = 300;
    # growth = (300 - 200) / 200 = 50 %. Growth of the summed costs would be
    # (900 - 400) / 400 = 125 %; of the counts 50 % only by accident of these numbers? no:
    # (3 - 2) / 2 = 50 % as well, so check the numerator and denominator are the two means.
    rows = [{"institution_id": "H1", "stay_id": f"A{i}", "discharge_time": dt(2023, 5, 1),
             "total_cost": c} for i, c in enumerate((100, 300))]
    rows += [{"institution_id": "H1", "stay_id": f"B{i}", "discharge_time": dt(2024, 5, 1),
              "total_cost": c} for i, c in enumerate((150, 150, 600))]
    r = compute(catalog, ["inpatient_mean_cost_growth"],
                {"stay_fact": fact_memtable("stay_fact", rows)}, period="2024")
    row = r.iloc[0]
    assert (row.numerator, row.denominator) == (300.0, 200.0)
    assert row.value == pytest.approx(50.0)


def test_growth_without_a_prior_value_is_not_computable(catalog: Catalog) -> None:
    rows = [{"institution_id": "H1", "stay_id": "B1", "discharge_time": dt(2024, 5, 1),
             "total_cost": 100}]
    r = compute(catalog, ["inpatient_mean_cost_growth"],
                {"stay_fact": fact_memtable("stay_fact", rows)}, period="2024",
                by=["institution"])
    row = r.iloc[0]
    assert (row.status, row.reason) == ("not_computable", "no value in the period before")
    assert math.isnan(row.value)


def test_null_flags_are_not_counted_and_not_excluded(catalog: Catalog) -> None:
    # a stay whose flags are null (unknown) is neither a surgical patient nor excluded:
    # denominator of surgery_share 2, numerator 1
    rows = [{"institution_id": "H1", "stay_id": "S1", "discharge_time": dt(2024, 3, 1),
             "has_surgery": True},
            {"institution_id": "H1", "stay_id": "S2", "discharge_time": dt(2024, 3, 2)}]
    r = compute(catalog, ["surgery_share"], {"stay_fact": fact_memtable("stay_fact", rows)},
                period="2024-03")
    assert (r.iloc[0].numerator, r.iloc[0].denominator) == (1.0, 2.0)


def test_a_bare_id_computes_the_version_in_force_in_the_period(catalog: Catalog) -> None:
    # surgical_complication_rate: version 1 (2019-2021, every surgical patient), version 2 (from
    # 2022, elective only). One emergency (non-elective) surgical stay with a complication:
    # in 2020 version 1 applies -> 1 / 1 = 100 %; in 2024 version 2 -> 0 / 0, not computable.
    def stays(year: int) -> dict[str, ir.Table]:
        return {"stay_fact": fact_memtable("stay_fact", [
            {"institution_id": "H1", "stay_id": "S1", "discharge_time": dt(year, 5, 1),
             "has_surgery": True, "has_elective_surgery": False,
             "has_complication_not_poa": True}])}
    old = compute(catalog, ["surgical_complication_rate"], stays(2020), period="2020").iloc[0]
    new = compute(catalog, ["surgical_complication_rate"], stays(2024), period="2024").iloc[0]
    assert (old.version, old.value) == ("1", 100.0)
    assert (new.version, new.status) == ("2", "not_computable")


def _workload_inputs() -> tuple[dict, pd.DataFrame]:
    stays = fact_memtable("stay_fact", [
        {"institution_id": "H1", "stay_id": f"S{i}", "discharge_dept_id": dept,
         "discharge_time": dt(2024, month, 1), "los_days": 365}
        for i, (dept, month) in enumerate((("SUR", 1), ("MED", 7)))])
    reported = pd.DataFrame([{"institution_id": "H1", "period": "2024", "value_number": 2.0,
                              "indicator_id": "average_licensed_physicians", "version": "1"}])
    return {"stay_fact": stays}, reported


def test_a_composite_with_a_reported_part_is_per_institution_and_year(catalog: Catalog) -> None:
    # bed-days 365 + 365 = 730 / 2 physicians / 365 = 1.0 by institution and year
    source, reported = _workload_inputs()
    r = compute(catalog, ["inpatient_workload_per_physician"], source, period="2024",
                by=["institution"], reported=reported)
    assert r[["institution", "numerator", "denominator", "value", "status"]].values.tolist() == [
        ["H1", 730.0, 2.0, 1.0, "ok"]]
    # by department: the physicians are not known per department -> cut by institution only
    r = compute(catalog, ["inpatient_workload_per_physician"], source, period="2024",
                by=["institution", "department"], reported=reported)
    assert r[["institution", "department", "value", "cut"]].values.tolist() == [
        ["H1", None, 1.0, "institution"]]
    # a group total (no institution cut) or a month has no value, and says why
    r = compute(catalog, ["inpatient_workload_per_physician"], source, period="2024",
                reported=reported)
    assert (r.loc[0, "status"], r.loc[0, "reason"]) == (
        "not_computable", "a part is a reported value per institution: cut by institution")
    assert math.isnan(r.loc[0, "value"])
    r = compute(catalog, ["inpatient_workload_per_physician"], source, period="2024",
                by=["institution", "month"], reported=reported)
    assert set(r["reason"]) == {"a part is a yearly reported value: not computable by month"}
    assert r["value"].isna().all() and len(r) >= 1


def test_a_fact_the_source_lacks_leaves_only_its_indicators_without_a_value(
        stays: ir.Table, catalog: Catalog) -> None:
    # a lakehouse built before visit_fact existed: the stay indicator is computed (March: S1,
    # S3, S4 surgical of S1-S4 discharged), the visit indicator says which table is missing
    # (not a crash of the whole request)
    r = compute(catalog, ["surgery_share", "outpatient_visits"], {"stay_fact": stays},
                period="2024-03", by=["institution"])
    share = r[r["indicator_id"] == "surgery_share"].iloc[0]
    assert (share["status"], share["numerator"], share["denominator"]) == ("ok", 3.0, 4.0)
    visits = r[r["indicator_id"] == "outpatient_visits"]
    assert len(visits) == 1 and visits.iloc[0]["status"] == "not_computable"
    assert visits.iloc[0]["reason"].startswith("the source holds no fact table 'visit_fact'")
