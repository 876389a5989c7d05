"""The synthetic group's filled reported-indicator forms agree with its reported tables.

Expected values are computed here, in SQL over the generated Parquet files, from each
indicator's definition (its YAML): EMR level as assessed; the outpatient survey score;
liabilities ÷ assets × 100 of the year's statement; registered nurses ÷ registered physicians
on 31 December (the X of 1:X).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from hospital_sdk.indicators import load_catalog
from hospital_sdk.indicators.reported_folder import reported_indicators
from hospital_sdk.indicators.submissions import read_entries
from hospital_sdk.synth import generate
from hospital_sdk.synth.reported_entries import SOURCES, write_entries

YEAR = 2025
TABLES = ("emr_assessment", "satisfaction_score", "finance_statement", "hr_snapshot", "eqa_result",
          "research_funding", "qualitative_item", "ward", "ward_beds")
FIRST_YEAR_BLANK = ("medical_revenue_growth", "average_licensed_physicians")
"""Needs the year before's statement: blank (with a note) in the only generated year."""
GRADES = ("equipment_qc_grade", "budget_management_grade", "public_credit_rating",
          "chief_accountant")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("entries")
    generate(folder, scale=0.001, years=(YEAR,), seed=7)
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _finance(top: str, bottom: str, scale: int) -> str:
    return f"""SELECT institution_id, {scale} * sum(amount) FILTER (line_code = '{top}')
        / sum(amount) FILTER (line_code = '{bottom}')
        FROM finance_statement WHERE period = '{YEAR}' GROUP BY 1"""


def _hr(tops: tuple[str, ...], bottom: str) -> str:
    top = " + ".join(f"sum(value) FILTER (metric_code = '{t}')" for t in tops)
    return f"""SELECT institution_id, 100 * ({top})
        / nullif(sum(value) FILTER (metric_code = '{bottom}'), 0)
        FROM hr_snapshot WHERE snapshot_date = DATE '{YEAR}-12-31' GROUP BY 1"""


def _per_100(kind: str) -> str:
    return f"""SELECT h.institution_id, coalesce(sum(r.amount), 0) / 10000 * 100 / h.value
        FROM hr_snapshot h LEFT JOIN research_funding r ON r.institution_id = h.institution_id
            AND r.year = {YEAR} AND r.kind = '{kind}'
        WHERE h.snapshot_date = DATE '{YEAR}-12-31' AND h.metric_code = 'health_technicians'
        GROUP BY h.institution_id, h.value"""


def _grade(item: str) -> str:
    return f"""SELECT institution_id, CASE grade WHEN 'yes' THEN '是' WHEN 'no' THEN '否'
        ELSE grade END FROM qualitative_item WHERE year = {YEAR} AND item_code = '{item}'"""


def expected(out: Path) -> dict[tuple[str, str], float | str]:
    con = duckdb.connect()
    for name in TABLES:
        con.register(name, pq.read_table(out / f"{name}.parquet"))
    queries = {
        **{c: f"SELECT institution_id, {c} FROM emr_assessment WHERE year = {YEAR}"
           for c in ("emr_level", "smart_service_level", "smart_management_level")},
        "outpatient_satisfaction": f"""SELECT institution_id, score FROM satisfaction_score
            WHERE year = {YEAR} AND survey_type = 'outpatient'""",
        "debt_to_asset_ratio": f"""SELECT institution_id,
            100 * sum(amount) FILTER (line_code = 'total_liabilities')
                / sum(amount) FILTER (line_code = 'total_assets')
            FROM finance_statement WHERE period = '{YEAR}' GROUP BY 1""",
        "physician_nurse_ratio": f"""SELECT institution_id,
            sum(value) FILTER (metric_code = 'registered_nurses')
                / sum(value) FILTER (metric_code = 'registered_physicians')
            FROM hr_snapshot WHERE snapshot_date = DATE '{YEAR}-12-31' GROUP BY 1""",
        **{f"{kind}_satisfaction": f"""SELECT institution_id, score FROM satisfaction_score
            WHERE year = {YEAR} AND survey_type = '{kind}'""" for kind in ("inpatient", "staff")},
        "personnel_expense_share": _finance("personnel_expense", "medical_expense", 100),
        "energy_per_10k_revenue": _finance("energy_expense", "total_revenue", 10000),
        "medical_surplus_rate": _finance("medical_surplus", "medical_revenue", 100),
        "talent_training_expense_share": _finance("training_expense", "total_expense", 100),
        "senior_title_share": _hr(("senior_title_technicians",
                                   "associate_senior_title_technicians"), "health_technicians"),
        "scarce_specialty_physician_share": _hr(
            ("physicians_anaesthesia", "physicians_paediatrics", "physicians_critical_care",
             "physicians_pathology", "physicians_tcm"), "registered_physicians"),
        "trainee_return_share": _hr(("trainees_returned_independent",), "trainees_admitted"),
        "licensing_first_pass_rate": _hr(("residents_first_exam_passed",),
                                         "residents_first_exam_takers"),
        "pharmacists_per_100_beds": f"""SELECT h.institution_id, 100 * h.value / sum(b.open_beds)
            FROM hr_snapshot h JOIN ward_beds b ON b.institution_id = h.institution_id
                AND b.valid_from <= DATE '{YEAR}-12-31'
                AND (b.valid_to IS NULL OR b.valid_to >= DATE '{YEAR}-12-31')
            WHERE h.snapshot_date = DATE '{YEAR}-12-31' AND h.metric_code = 'pharmacists'
            GROUP BY h.institution_id, h.value""",
        "quality_nursing_ward_coverage": f"""SELECT institution_id, 100 * count(*) FILTER (
                quality_nursing AND coalesce(quality_nursing_since <= DATE '{YEAR}-12-31', true))
                / count(*)
            FROM ward WHERE valid_from <= DATE '{YEAR}-12-31'
                AND (valid_to IS NULL OR valid_to >= DATE '{YEAR}-12-31') GROUP BY 1""",
        "eqa_items_passed": f"""SELECT institution_id,
            count(DISTINCT item_code) FILTER (participated AND coalesce(passed, false))
            FROM eqa_result WHERE year = {YEAR} AND scheme = 'national' GROUP BY 1""",
        "eqa_provincial_participation_rate": f"""SELECT institution_id,
            100 * count(*) FILTER (participated) / count(*) FILTER (is_performed)
            FROM eqa_result WHERE year = {YEAR} AND scheme = 'provincial' GROUP BY 1""",
        "eqa_provincial_pass_rate": f"""SELECT institution_id,
            100 * count(*) FILTER (participated AND coalesce(passed, false))
                / count(*) FILTER (participated)
            FROM eqa_result WHERE year = {YEAR} AND scheme = 'provincial' GROUP BY 1""",
        "research_funding_per_100_technicians": _per_100("grant"),
        "commercialisation_per_100_technicians": _per_100("commercialisation"),
        **{ind: _grade(item) for ind, item in (
            ("equipment_qc_grade", "equipment_maintenance_qc"),
            ("budget_management_grade", "budget_management"),
            ("public_credit_rating", "public_credit_rating"),
            ("chief_accountant", "chief_accountant"))},
    }
    return {(ind, inst): v if isinstance(v, str) else float(v) for ind, sql in queries.items()
            for inst, v in con.execute(sql).fetchall() if v is not None}


def test_the_form_holds_every_member_and_reported_indicator(out: Path) -> None:
    path = out / "reported" / f"reported_{YEAR}.csv"
    got = rows(path)
    members = sorted(pq.read_table(out / "emr_assessment.parquet")["institution_id"].to_pylist())
    reported = sorted(reported_indicators(load_catalog(), YEAR))
    assert reported == sorted(SOURCES)  # every reported indicator of the catalog has a source
    assert sorted((r["institution_id"], r["indicator_id"]) for r in got) == [
        (m, i) for m in members for i in reported]
    assert {r["period"] for r in got} == {str(YEAR)}
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"][f"reported/reported_{YEAR}.csv"] == hashlib.sha256(
        path.read_bytes()).hexdigest()
    assert "reported" not in manifest["row_counts"]


def test_values_equal_the_synthetic_tables(out: Path) -> None:
    truth = expected(out)
    got = rows(out / "reported" / f"reported_{YEAR}.csv")
    filled = [r for r in got if r["indicator_id"] not in FIRST_YEAR_BLANK]
    assert len(truth) == len(filled)
    for r in filled:
        want = truth[(r["indicator_id"], r["institution_id"])]
        assert r["entered_by"] == "合成数据" and r["note"] == ""
        if r["indicator_id"] in GRADES:
            assert r["value"] == want, r
            continue
        exact = r["indicator_id"] in ("emr_level", "smart_service_level",
                                      "smart_management_level", "eqa_items_passed") or r[
            "indicator_id"].endswith("_satisfaction")
        assert float(r["value"]) == pytest.approx(want, abs=1e-12 if exact else 0.005 + 1e-9), r
    for r in got:
        if r["indicator_id"] in FIRST_YEAR_BLANK:
            assert r["value"] == r["entered_by"] == "" and r["note"], r


def test_the_form_reads_back_without_a_reject(out: Path) -> None:
    path = out / "reported" / f"reported_{YEAR}.csv"
    load = read_entries(path, reported_indicators(load_catalog(), YEAR))
    assert load.rejected.empty, load.rejected.to_dict("records")
    assert len(load.accepted) + len(load.blank) == load.rows_in == len(rows(path))
    assert set(load.blank["indicator_id"]) <= set(FIRST_YEAR_BLANK)


def test_same_tables_give_the_same_bytes(out: Path, tmp_path: Path) -> None:
    tables = {name: pq.read_table(out / f"{name}.parquet") for name in TABLES}
    members = sorted(set(tables["emr_assessment"]["institution_id"].to_pylist()))
    again = write_entries(tmp_path, tables, institutions=members, years=[YEAR])
    assert [p.relative_to(tmp_path).as_posix() for p in again] == [f"reported/reported_{YEAR}.csv"]
    assert again[0].read_bytes() == (out / "reported" / f"reported_{YEAR}.csv").read_bytes()
    assert [p.name for p in (tmp_path / "reported").iterdir()] == [f"reported_{YEAR}.csv"]


def test_what_has_no_source_is_left_blank(out: Path, tmp_path: Path) -> None:
    # a reported indicator the generator knows nothing of, and a missing table: blank, noted
    root = tmp_path / "catalog"
    shutil.copytree(load_catalog().root, root)
    emr = (root / "indicators" / "emr_level.yaml").read_text(encoding="utf-8")
    (root / "indicators" / "telemedicine_level.yaml").write_text(
        emr.replace("id: emr_level", "id: telemedicine_level"), encoding="utf-8")
    tables = {name: pq.read_table(out / f"{name}.parquet") for name in TABLES
              if name != "hr_snapshot"}
    path = write_entries(tmp_path / "landing", tables, institutions=["HK001"], years=[YEAR],
                         catalog=load_catalog(root))[0]
    got = {r["indicator_id"]: r for r in rows(path)}
    for blank in ("telemedicine_level", "physician_nurse_ratio"):
        assert got[blank]["value"] == got[blank]["entered_by"] == "", blank
        assert got[blank]["note"], blank
    assert got["emr_level"]["value"] != ""


def test_average_physicians_are_the_mean_of_two_year_ends(tmp_path: Path) -> None:
    # H1: (120 + 100) / 2 = 110.00; H2 has no count at the end of 2024 -> blank, noted
    hr = pd.DataFrame({
        "institution_id": ["H1", "H1", "H2", "H1"],
        "snapshot_date": pd.to_datetime(["2025-12-31", "2024-12-31", "2025-12-31",
                                         "2025-12-31"]),
        "metric_code": ["licensed_physicians"] * 3 + ["registered_nurses"],
        "value": [120.0, 100.0, 80.0, 999.0]})
    path = write_entries(tmp_path, {"hr_snapshot": hr}, institutions=["H1", "H2"],
                         years=[2025])[0]
    got = {r["institution_id"]: r for r in rows(path)
           if r["indicator_id"] == "average_licensed_physicians"}
    assert float(got["H1"]["value"]) == 110.0
    assert got["H2"]["value"] == "" and got["H2"]["note"]
