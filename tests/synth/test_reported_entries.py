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
import pyarrow.parquet as pq
import pytest

from hospital_sdk.indicators import load_catalog
from hospital_sdk.indicators.reported_folder import reported_indicators
from hospital_sdk.indicators.submissions import read_entries
from hospital_sdk.synth import generate
from hospital_sdk.synth.reported_entries import SOURCES, write_entries

YEAR = 2025
TABLES = ("emr_assessment", "satisfaction_score", "finance_statement", "hr_snapshot")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("entries")
    generate(folder, scale=0.001, years=(YEAR,), seed=7)
    return folder


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def expected(out: Path) -> dict[tuple[str, str], float]:
    con = duckdb.connect()
    for name in TABLES:
        con.register(name, pq.read_table(out / f"{name}.parquet"))
    queries = {
        "emr_level": f"SELECT institution_id, emr_level FROM emr_assessment WHERE year = {YEAR}",
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
    }
    return {(ind, inst): float(v) for ind, sql in queries.items()
            for inst, v in con.execute(sql).fetchall()}


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
    assert len(truth) == len(got)
    for r in got:
        want = truth[(r["indicator_id"], r["institution_id"])]
        rounded = r["indicator_id"] in ("debt_to_asset_ratio", "physician_nurse_ratio")
        assert float(r["value"]) == pytest.approx(want, abs=0.005 + 1e-9 if rounded else 1e-12), r
        assert r["entered_by"] == "合成数据" and r["note"] == ""


def test_the_form_reads_back_without_a_reject(out: Path) -> None:
    path = out / "reported" / f"reported_{YEAR}.csv"
    load = read_entries(path, reported_indicators(load_catalog(), YEAR))
    assert load.rejected.empty, load.rejected.to_dict("records")
    assert len(load.accepted) == load.rows_in == len(rows(path)) and load.blank.empty


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
    (root / "indicators" / "smart_service_level.yaml").write_text(
        emr.replace("id: emr_level", "id: smart_service_level"), encoding="utf-8")
    tables = {name: pq.read_table(out / f"{name}.parquet") for name in TABLES
              if name != "hr_snapshot"}
    path = write_entries(tmp_path / "landing", tables, institutions=["HK001"], years=[YEAR],
                         catalog=load_catalog(root))[0]
    got = {r["indicator_id"]: r for r in rows(path)}
    for blank in ("smart_service_level", "physician_nurse_ratio"):
        assert got[blank]["value"] == got[blank]["entered_by"] == "", blank
        assert got[blank]["note"], blank
    assert got["emr_level"]["value"] != ""
