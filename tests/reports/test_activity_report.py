"""The monthly activity summary, on six hand-made department-months.

Expected figures, worked out by hand from ``department_month()``:

- H1 2025-01: D01 (1 discharge, 10 bed-days) + D02 (1, 5) → mean LOS 15 / 2 = 7.5; surgical
  share 1 / 2; antibiotic DDDs (4 + 2) × 100 / 15 = 40; appointments 210 / 300 = 0.7;
  mortality 1 / 2.
- H1 2025-02: D01 (3, 12) + D02 (1, 3) → mean LOS 15 / 4 = 3.75, not the average of 4 and 3
  (3.5); surgical share 3 / 4; DDDs 3 × 100 / 15 = 20.
- H2 2025-01: no discharge → mean LOS blank, not 0 or infinity.
- H2 2025-02: bed-days unknown → the month's bed-days and mean LOS are blank.
- By department over the period: H1/D01 22 bed-days / 4 discharges = 5.5, H1/D02 8 / 2 = 4.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from hospital_sdk.errors import ReportError
from hospital_sdk.reports import write_activity_report
from hospital_sdk.reports.activity_report import (
    ACTIVITY_COLUMNS,
    MEASURES,
    RATIOS,
    activity_by_department,
    activity_by_institution_month,
    prepare_department_month,
)
from tests.reports.xlsx_cells import excel_date, read_workbook, records


def department_month() -> pd.DataFrame:
    rows = [
        # institution, campus, dept, month, discharges, deaths, surgical, bed_days, ddds,
        # outpatient, appointments, total_cost, drug_cost
        ("H1", "C1", "D01", "2025-01-01", 1, 1, 1, 10, 4.0, 200, 150, 1000.5, 300.25),
        ("H1", "C1", "D02", "2025-01-01", 1, 0, 0, 5, 2.0, 100, 60, 999.5, 99.75),
        ("H1", "C1", "D01", "2025-02-01", 3, 0, 2, 12, 3.0, 0, 0, 0.0, 0.0),
        ("H1", "C1", "D02", "2025-02-01", 1, 0, 1, 3, 0.0, 0, 0, 0.0, 0.0),
        ("H2", "C9", "D10", "2025-01-01", 0, 0, 0, 0, 0.0, 100, 10, 0.0, 0.0),
        ("H2", "C9", "D10", "2025-02-01", 2, 0, 0, None, 1.0, 50, 5, 0.0, 0.0),
    ]
    given = ["institution_id", "campus_id", "dept_id", "month", "discharges", "deaths",
             "surgical_stays", "bed_days", "antibiotic_ddds", "outpatient_visits",
             "appointment_visits", "total_cost", "drug_cost"]
    frame = pd.DataFrame(rows, columns=given)
    for col in MEASURES:
        if col not in frame:
            frame[col] = 0
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame[list(ACTIVITY_COLUMNS)]


DEPARTMENTS = pd.DataFrame({"dept_id": ["D01", "D02"], "name_zh": ["心血管内科", "普外科"],
                            "name_en": ["Cardiology", "General surgery"]})


def _row(frame: pd.DataFrame, **keys: str) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for k, v in keys.items():
        mask &= frame[k].astype(str).str.startswith(v)
    (i,) = frame.index[mask]
    return frame.loc[i]


def test_ratios_come_from_sums_never_from_averages() -> None:
    m = activity_by_institution_month(department_month())
    jan, feb = _row(m, institution_id="H1", month="2025-01"), _row(m, institution_id="H1",
                                                                   month="2025-02")
    assert int(jan.bed_days) == 15 and int(jan.discharges) == 2 and jan.mean_los == 7.5
    assert feb.mean_los == 3.75  # (12 + 3) / (3 + 1); the average of 4 and 3 would be 3.5
    assert jan.surgical_share == 0.5 and feb.surgical_share == 0.75
    assert jan.antibiotic_ddds_per_100_bed_days == pytest.approx(40.0)
    assert feb.antibiotic_ddds_per_100_bed_days == pytest.approx(20.0)
    assert jan.appointment_rate == pytest.approx(0.7) and jan.mortality_rate == 0.5
    assert jan.total_cost == 2000.0 and jan.drug_cost_share == pytest.approx(0.2)


def test_zero_or_unknown_denominators_and_unknown_values_give_blanks() -> None:
    m = activity_by_institution_month(department_month())
    h2_jan, h2_feb = _row(m, institution_id="H2", month="2025-01"), _row(m, institution_id="H2",
                                                                       month="2025-02")
    assert math.isnan(h2_jan.mean_los) and math.isnan(h2_jan.surgical_share)
    assert pd.isna(h2_feb.bed_days) and math.isnan(h2_feb.mean_los)
    assert int(h2_feb.discharges) == 2  # other sums of the month are still there
    assert math.isnan(h2_feb.antibiotic_ddds_per_100_bed_days)


def test_by_department_totals_the_period_with_names() -> None:
    d = activity_by_department(department_month(), DEPARTMENTS)
    assert list(d.columns[:7]) == ["institution_id", "dept_id", "name_zh", "name_en",
                                   "first_month", "last_month", "months"]
    d01 = _row(d, dept_id="D01")
    assert (d01.name_zh, int(d01.months), int(d01.bed_days), d01.mean_los) == \
        ("心血管内科", 2, 22, 5.5)
    assert _row(d, dept_id="D02").mean_los == 4.0
    d10 = _row(d, dept_id="D10")
    assert pd.isna(d10.name_zh) and pd.isna(d10.bed_days) and math.isnan(d10.mean_los)
    assert "name_zh" not in activity_by_department(department_month()).columns


def test_workbook_sheets_headers_and_cells(tmp_path: Path) -> None:
    paths = write_activity_report(department_month(), tmp_path, DEPARTMENTS)
    assert [p.name for p in paths] == ["activity_summary.xlsx", "activity_summary.html",
                                       "activity_summary_manifest.json"]
    book = read_workbook(paths[0])
    assert list(book) == ["by_institution_month", "by_department", "README"]
    assert book["by_institution_month"][0] == ["institution_id", "month", *MEASURES,
                                               *[r.name for r in RATIOS]]
    months = records(book["by_institution_month"])
    assert [(r["institution_id"], excel_date(r["month"]).strftime("%Y-%m")) for r in months] == [
        ("H1", "2025-01"), ("H1", "2025-02"), ("H2", "2025-01"), ("H2", "2025-02")]
    assert months[0]["bed_days"] == 15.0 and months[0]["discharges"] == 2.0
    assert months[0]["mean_los"] == 7.5 and months[1]["mean_los"] == 3.75
    assert months[2]["mean_los"] is None and months[3]["bed_days"] is None
    depts = records(book["by_department"])
    assert [(r["dept_id"], r["name_en"], r["mean_los"]) for r in depts] == [
        ("D01", "Cardiology", 5.5), ("D02", "General surgery", 4.0), ("D10", None, None)]
    readme = {r["term"]: r for r in records(book["README"])}
    assert readme["mean_los"]["English"] == "mean length of stay (days) = bed_days ÷ discharges"
    assert readme["antibiotic_ddds_per_100_bed_days"]["中文"].endswith(
        "antibiotic_ddds × 100 ÷ bed_days")
    assert readme["period"]["English"] == "2025-01 – 2025-02"


def test_html_has_trends_bilingual_headings_and_no_cdn(tmp_path: Path) -> None:
    html = write_activity_report(department_month(), tmp_path, DEPARTMENTS)[1].read_text("utf-8")
    for heading in ("医疗活动月度汇总 / Monthly activity summary", "出院人次 / Discharges",
                    "门诊人次 / Outpatient visits",
                    "手术患者占比 / Surgical share (surgical stays ÷ discharges)",
                    "平均住院日 / Mean length of stay (bed-days ÷ discharges)",
                    "抗菌药物使用强度 / Antibiotic DDDs per 100 bed-days",
                    "按机构与月份 / By institution and month"):
        assert f"<h2>{heading}</h2>" in html or f"<h1>{heading}</h1>" in html
    assert "cdn.plot.ly" not in html
    assert all(f'id="figure-{i}"' in html for i in range(1, 6))
    assert "<td>心血管内科</td>" in html and '<td class="num">7.50</td>' in html


def test_same_input_gives_identical_files_whatever_the_row_order(tmp_path: Path) -> None:
    first = write_activity_report(department_month(), tmp_path / "a", DEPARTMENTS)
    shuffled = department_month().sample(frac=1.0, random_state=3)
    second = write_activity_report(shuffled, tmp_path / "b", DEPARTMENTS.iloc[::-1])
    assert read_workbook(first[0]) == read_workbook(second[0])
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_generated_at_appears_only_when_passed(tmp_path: Path) -> None:
    plain = write_activity_report(department_month(), tmp_path / "a")
    stamped = write_activity_report(department_month(), tmp_path / "b",
                                    generated_at=datetime(2025, 3, 2, 7, 15))
    assert "2025-03-02 07:15:00" in stamped[1].read_text("utf-8")
    assert "生成时间" not in plain[1].read_text("utf-8")


def test_empty_input_gives_a_report_that_says_no_data(tmp_path: Path) -> None:
    paths = write_activity_report(pd.DataFrame(columns=list(ACTIVITY_COLUMNS)), tmp_path,
                                  DEPARTMENTS)
    book = read_workbook(paths[0])
    assert book["by_institution_month"][1][0] == "no data / 无数据"
    assert book["by_department"][1][0] == "no data / 无数据"
    html = paths[1].read_text("utf-8")
    assert html.count("无数据 / no data") >= 7 and "Plotly" not in html


def test_patient_identifiers_are_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"department_month has patient identifier.*empi_id"):
        write_activity_report(department_month().assign(empi_id="E1"), tmp_path / "x")
    with pytest.raises(ReportError, match=r"department lookup has patient identifier"):
        write_activity_report(department_month(), tmp_path / "x",
                              DEPARTMENTS.assign(medical_record_number="M1"))
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns="bed_days"), r"lack column\(s\) \['bed_days'\]"),
    (lambda f: pd.concat([f, f.iloc[[0]]]), "repeat a key.*'H1' department 'D01' month 2025-01"),
    (lambda f: f.assign(deaths=-1), "'deaths' is negative in 6 row"),
    (lambda f: f.assign(discharges=1.5), "count column 'discharges' has 6 value"),
    (lambda f: f.assign(month="not a month"), "'month' cannot be read as dates"),
    (lambda f: f.assign(dept_id=None), "'dept_id' is null in 6 row"),
])
def test_bad_input_is_named(change, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        prepare_department_month(change(department_month()))


def test_money_net_of_refunds_may_be_negative() -> None:
    # A stay discharged in the first month of the data whose drugs were billed before it: its
    # refund is the month's only drug line, -1.80; the ledger says so and so does the report.
    frame = department_month()
    frame.loc[0, "drug_cost"] = -1.80
    assert prepare_department_month(frame).drug_cost.min() == -1.80
    with pytest.raises(ReportError, match="'bed_days' is negative in 1 row"):
        prepare_department_month(frame.assign(bed_days=[-1, *frame.bed_days[1:]]))


def test_a_department_twice_in_the_lookup_is_refused() -> None:
    twice = pd.concat([DEPARTMENTS, DEPARTMENTS.iloc[[0]]])
    with pytest.raises(ReportError, match=r"dept_id\(s\) \['D01'\] appear more than once"):
        activity_by_department(department_month(), twice)


def test_department_month_read_back_from_parquet_gives_the_same_report(tmp_path: Path) -> None:
    department_month().to_parquet(tmp_path / "dm.parquet")
    a = write_activity_report(department_month(), tmp_path / "a")
    b = write_activity_report(pd.read_parquet(tmp_path / "dm.parquet"), tmp_path / "b")
    assert a[0].read_bytes() == b[0].read_bytes() and a[1].read_bytes() == b[1].read_bytes()
