"""Loading the landing folder's reported-indicator forms: counts per file, rejects kept visible
in raw.reported_value_rejects, unchanged files add nothing, a corrected file is the latest.

Expected counts are read off the rows written in each test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from hospital_sdk.errors import ReportedValueError
from hospital_sdk.indicators import load_catalog, reported_values
from hospital_sdk.indicators.reported import REPORTED_TABLE
from hospital_sdk.indicators.reported_folder import (
    REJECTS_TABLE,
    REPORTED_FOLDER,
    load_reported_folder,
)
from hospital_sdk.ingest.source_files import ENTRY_FOLDERS, discover
from hospital_sdk.model import CONTRACT
from hospital_sdk.store import Lakehouse

HEADER = "institution_id,period,indicator_id,version,value,note,entered_by\n"
GOOD = HEADER + ("H01,2025,emr_level,1,5,,质控办\n"
                 "H01,2025,outpatient_satisfaction,1,91.5,,质控办\n"
                 "H01,2025,debt_to_asset_ratio,1,42.1%,,财务处\n"
                 "H01,2025,physician_nurse_ratio,1,,,\n")
BAD = HEADER + ("H02,2025,emr_level,1,9,,质控办\n"        # above the maximum 8
                "H02,2025,outpatient_satisfaction,1,88,,质控办\n"
                "H09,2025,physician_nurse_ratio,1,1.6,,人事处\n")  # unknown institution
CATALOG = load_catalog()


@pytest.fixture
def lake(tmp_path: Path) -> Lakehouse:
    with Lakehouse.open(tmp_path / "lake") as lake:
        lake.replace("institution", pd.DataFrame({"institution_id": ["H01", "H02"]}), "raw")
        yield lake


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    forms = tmp_path / "landing" / REPORTED_FOLDER
    forms.mkdir(parents=True)
    (forms / "reported_2025.csv").write_text(GOOD, encoding="utf-8-sig")
    (forms / "reported_2025_branch.csv").write_text(BAD, encoding="gb18030")
    (forms / "~$reported_2025.xlsx").write_bytes(b"an Excel lock file")
    (forms / ".reported_2025.csv.tmp").write_text("half written")
    (forms / "notes.txt").write_text("not a form")
    return forms


def count(lake: Lakehouse, table: str) -> int:
    return int(lake.duck.execute(f"SELECT count(*) FROM lake.raw.{table}").fetchone()[0])


def test_counts_per_file_and_the_rejects_stay_visible(lake: Lakehouse, folder: Path) -> None:
    result = load_reported_folder(lake, folder, CATALOG)
    counts = {f.name: f.counts for f in result.files}
    assert counts == {
        "reported_2025.csv": {"rows_in": 4, "accepted": 3, "rejected": 0, "blank": 1,
                              "stored": 3, "rejects_stored": 0},
        "reported_2025_branch.csv": {"rows_in": 3, "accepted": 1, "rejected": 2, "blank": 0,
                                     "stored": 1, "rejects_stored": 2}}
    meta = result.metadata()
    assert (meta["files"], meta["rows_in"], meta["rows_accepted"], meta["rows_rejected"],
            meta["rows_blank"], meta["rows_stored_now"]) == (2, 7, 4, 2, 1, 4)
    stored = lake.table(REJECTS_TABLE).execute().sort_values("row")
    assert stored[["file", "row", "field", "value"]].values.tolist() == [
        ["reported_2025_branch.csv", 2, "value", "9"],
        ["reported_2025_branch.csv", 4, "institution_id", "H09"]]
    assert "above the maximum 8" in stored.reason.iloc[0]
    assert "unknown institution 'H09'" in stored.reason.iloc[1]
    assert result.rejected[["file", "row"]].values.tolist() == [
        ["reported_2025_branch.csv", 2], ["reported_2025_branch.csv", 4]]
    assert "reported_value_rejects WHERE file = 'reported_2025_branch.csv'" in result.markdown()
    values = reported_values(lake).set_index(["institution_id", "indicator_id"]).value_number
    assert values.to_dict() == {("H01", "emr_level"): 5.0, ("H01", "outpatient_satisfaction"): 91.5,
                                ("H01", "debt_to_asset_ratio"): 42.1,
                                ("H02", "outpatient_satisfaction"): 88.0}


def test_rerunning_adds_nothing(lake: Lakehouse, folder: Path) -> None:
    load_reported_folder(lake, folder, CATALOG)
    before = (count(lake, REPORTED_TABLE), count(lake, REJECTS_TABLE), lake.current_snapshot())
    again = load_reported_folder(lake, folder, CATALOG)
    assert [f.counts["stored"] + f.counts["rejects_stored"] for f in again.files] == [0, 0]
    assert again.metadata()["files_stored_now"] == 0
    assert (count(lake, REPORTED_TABLE), count(lake, REJECTS_TABLE),
            lake.current_snapshot()) == before  # not even an empty commit


def test_a_corrected_file_replaces_its_rejects_and_its_values_win(lake: Lakehouse,
                                                                  folder: Path) -> None:
    load_reported_folder(lake, folder, CATALOG)
    branch = folder / "reported_2025_branch.csv"
    branch.write_text(HEADER + "H02,2025,emr_level,1,4,,质控办\n"
                               "H02,2025,outpatient_satisfaction,1,89,,质控办\n", encoding="utf-8")
    later = branch.stat().st_mtime + 60
    os.utime(branch, (later, later))
    result = load_reported_folder(lake, folder, CATALOG)
    assert {f.name: f.counts["stored"] for f in result.files} == {
        "reported_2025.csv": 0, "reported_2025_branch.csv": 2}
    assert count(lake, REJECTS_TABLE) == 0
    assert count(lake, REPORTED_TABLE) == 3 + 1 + 2  # every submission is kept
    latest = reported_values(lake).set_index(["institution_id", "indicator_id"]).value_number
    assert latest[("H02", "outpatient_satisfaction")] == 89.0
    assert latest[("H02", "emr_level")] == 4.0


def test_the_reported_indicators_compute_from_the_stored_values(lake: Lakehouse,
                                                                folder: Path) -> None:
    load_reported_folder(lake, folder, CATALOG)
    result = CATALOG.select(kind="reported").compute(lake, period="2025", by=["institution"])
    ok = result[result.status == "ok"].set_index(["indicator_id", "institution"]).value
    assert ok[("emr_level", "H01")] == 5 and ok[("debt_to_asset_ratio", "H01")] == 42.1


def test_an_unreadable_form_is_named_after_the_others_are_stored(lake: Lakehouse,
                                                                 folder: Path) -> None:
    (folder / "reported_2024.csv").write_text("institution_id,value\nH01,5\n", encoding="utf-8")
    with pytest.raises(ReportedValueError, match=r"reported_2024\.csv.*missing column"):
        load_reported_folder(lake, folder, CATALOG)
    assert count(lake, REPORTED_TABLE) == 4


def test_a_missing_folder_loads_nothing(lake: Lakehouse, tmp_path: Path) -> None:
    result = load_reported_folder(lake, tmp_path / "nowhere", CATALOG)
    assert result.files == () and result.rejected.empty
    assert "no entry form" in result.markdown()


def test_the_source_file_loader_leaves_the_forms_alone(folder: Path) -> None:
    assert REPORTED_FOLDER in ENTRY_FOLDERS
    assert discover(folder.parent, CONTRACT) == []
