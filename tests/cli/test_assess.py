"""``hospital-sdk assess`` and ``assess diff`` on a small lakehouse."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from typer.testing import CliRunner

from hospital_sdk.cli.main import app
from hospital_sdk.indicators import fact_memtable
from hospital_sdk.store import Lakehouse


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    # two institutions, a discharge every month of 2024 and 2025 (so 2025 is the latest
    # complete year); H01's stays all had surgery, H02's none
    stays = [{"institution_id": inst, "stay_id": f"{inst}-{y}-{m}", "discharge_dept_id": "D1",
              "discharge_time": datetime(y, m, 15), "los_days": 5, "total_cost": 1000,
              "has_surgery": inst == "H01"}
             for inst in ("H01", "H02") for y in (2024, 2025) for m in range(1, 13)]
    path = tmp_path_factory.mktemp("assess") / "lake"
    with Lakehouse.open(path) as lake:
        for name, rows in (("stay_fact", stays), ("visit_fact", []), ("procedure_fact", [])):
            lake.replace(name, fact_memtable(name, rows).to_pyarrow(), "aggregated")
    return path


def test_assess_writes_the_report_for_the_latest_complete_year(home: Path,
                                                              tmp_path: Path) -> None:
    result = run("assess", "--assessment", "tertiary", "--home", str(home), "--out",
                 str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "data year 2025" in result.output
    stem = tmp_path / "assessment_tertiary_2024_2025"
    for suffix in (".xlsx", ".html", ".pdf"):
        assert str(stem) + suffix in result.output
        assert Path(str(stem) + suffix).stat().st_size > 0
    with zipfile.ZipFile(str(stem) + ".xlsx") as book:
        assert any(n.startswith("xl/worksheets/") for n in book.namelist())
    text = "".join(p.extract_text() for p in pypdf.PdfReader(str(stem) + ".pdf").pages[:2])
    assert "三级公立医院绩效考核" in text


def test_english_and_one_institution(home: Path, tmp_path: Path) -> None:
    result = run("assess", "--period", "2025", "--lang", "en", "--institution", "H01",
                 "--home", str(home), "--out", str(tmp_path), )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "assessment_tertiary_2024_2025_en.html").exists()
    bad = run("assess", "--lang", "fr", "--home", str(home))
    assert bad.exit_code == 2 and "--lang must be zh or en" in bad.output


def test_diff_lists_what_changed_between_editions(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "diff.csv"
    result = run("assess", "diff", "--editions", "2019", "2024", "--period", "2025", "--home",
                 str(home), "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"item": str})
    changed = table[table["change"] != "same"].groupby("item")["change"].first().to_dict()
    # 增1 is new in 2024; item 32 changed its definition (2019's adjuvant-drug form is not in the
    # catalog, 2024's key-monitored form is); item 8 moved to surgical_complication_rate@2
    assert changed == {"增1": "added", "32": "other indicator", "8": "new version"}
    # item 4 (surgery share) is the same indicator: H01 100 %, H02 0 % under both editions
    same = table[table["item"] == "4"].set_index("institution")
    assert same.loc["H01", "value_a"] == same.loc["H01", "value_b"] == 100.0
    assert same.loc["H02", "value_b"] == 0.0


def test_unknown_assessment(home: Path) -> None:
    result = run("assess", "--assessment", "quaternary", "--home", str(home))
    assert result.exit_code == 2 and "unknown assessment 'quaternary'" in result.output
