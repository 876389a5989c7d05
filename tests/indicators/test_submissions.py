"""Storing submissions of reported values: once per file content, the latest value per key.

Expected values are counted by hand from the inputs written in each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import ibis
import pandas as pd
import pytest

from hospital_sdk.indicators.reported import (
    REPORTED_SCHEMA,
    REPORTED_TABLE,
    ReportedIndicator,
    ReportedRule,
)
from hospital_sdk.indicators.submissions import (
    latest_values,
    read_entries,
    store_entries,
)
from hospital_sdk.store import Lakehouse


def ind(id_: str, rule: ReportedRule) -> ReportedIndicator:
    return ReportedIndicator(id_, "1", f"{id_} 中文名", f"{id_} English", rule)


EMR = ind("emr_level", ReportedRule("level", "level", minimum=0, maximum=8))
EQUIPMENT = ind("equipment_qc", ReportedRule("grade", "", allowed=("A", "B", "C", "D")))
MDT = ind("has_mdt", ReportedRule("boolean", ""))
ALL = {i.id: i for i in (EMR, EQUIPMENT, MDT)}


# --- storing submissions ------------------------------------------------------------------------

@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lakehouse]:
    with Lakehouse.open(tmp_path / "home") as lh:
        yield lh


def entries(tmp_path: Path, name: str, emr: str, grade: str = "B", note: str = "") -> Path:
    path = tmp_path / name
    path.write_text("institution_id,period,indicator_id,version,value,note\n"
                    f"H01,2024,emr_level,1,{emr},{note}\n"
                    f"H01,2024,equipment_qc,1,{grade},\n"
                    "H01,2024,has_mdt,1,否,\n", encoding="utf-8")
    return path


T1 = datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
T2 = datetime(2025, 2, 10, 8, 0, tzinfo=UTC)


def test_store_is_idempotent_and_typed(lake: Lakehouse, tmp_path: Path) -> None:
    load = read_entries(entries(tmp_path, "first.csv", "5"), ALL)
    assert store_entries(lake, load, submitted_at=T1) == 3
    assert store_entries(lake, load, submitted_at=T2) == 0
    (tmp_path / "copy").mkdir()
    renamed = entries(tmp_path / "copy", "renamed.csv", "5")  # same bytes, another name
    assert store_entries(lake, read_entries(renamed, ALL)) == 0
    table = lake.table(REPORTED_TABLE, "raw")
    assert {n: (type(t), t.nullable) for n, t in table.schema().items()} == \
        {n: (type(t), t.nullable) for n, t in REPORTED_SCHEMA.items()}  # DuckDB adds scale 6
    stored = table.order_by("source_row").to_pandas()
    assert stored["source_row"].tolist() == [2, 3, 4]
    assert stored["value_number"].tolist()[0] == 5.0 and pd.isna(stored["value_number"][1])
    assert stored["value_number"].tolist()[2] == 0.0
    assert stored["value_text"].tolist()[1:] == ["B", "否"]
    assert set(stored["source_file"]) == {"first.csv"}
    assert set(stored["source_sha256"]) == {load.sha256}
    assert stored["submitted_at"].tolist()[0] == pd.Timestamp(T1)


def test_a_corrected_file_supersedes_and_the_first_stays(lake: Lakehouse,
                                                          tmp_path: Path) -> None:
    first = read_entries(entries(tmp_path, "emr.csv", "5"), ALL)
    store_entries(lake, first, submitted_at=T1)
    after_first = lake.current_snapshot()
    corrected = entries(tmp_path, "emr_fixed.csv", "6", note="复核后更正")
    second = read_entries(corrected, ALL)
    assert second.sha256 != first.sha256
    assert store_entries(lake, second, submitted_at=T2) == 3
    table = lake.table(REPORTED_TABLE, "raw")
    assert table.count().execute() == 6
    latest = latest_values(table).order_by("indicator_id").to_pandas()
    assert latest["indicator_id"].tolist() == ["emr_level", "equipment_qc", "has_mdt"]
    assert latest["value_number"].tolist()[0] == 6.0
    assert latest["note"].tolist()[0] == "复核后更正"
    assert set(latest["source_file"]) == {"emr_fixed.csv"}
    was = lake.table(REPORTED_TABLE, "raw", version=after_first)  # time travel
    assert was.count().execute() == 3
    assert latest_values(was).filter(ibis._.indicator_id == "emr_level") \
        .value_number.execute().tolist() == [5.0]


def test_a_later_file_without_a_value_keeps_the_earlier_one(lake: Lakehouse,
                                                             tmp_path: Path) -> None:
    store_entries(lake, read_entries(entries(tmp_path, "a.csv", "5", "C"), ALL), submitted_at=T1)
    store_entries(lake, read_entries(entries(tmp_path, "b.csv", "", "D"), ALL), submitted_at=T2)
    latest = latest_values(lake.table(REPORTED_TABLE)).order_by("indicator_id").to_pandas()
    assert latest["value_number"].tolist()[0] == 5.0  # b.csv left emr_level blank
    assert latest["value_text"].tolist()[1] == "D"


def test_only_accepted_rows_are_stored(lake: Lakehouse, tmp_path: Path) -> None:
    load = read_entries(entries(tmp_path, "bad.csv", "11", "Z"), ALL)
    assert load.counts == {"rows_in": 3, "accepted": 1, "rejected": 2, "blank": 0}
    assert store_entries(lake, load, submitted_at=T1) == 1
    none = read_entries(entries(tmp_path, "blank.csv", "", ""), {"emr_level": EMR})
    assert none.counts == {"rows_in": 3, "accepted": 0, "rejected": 1, "blank": 2}
    assert store_entries(lake, none, submitted_at=T2) == 0
    assert lake.table(REPORTED_TABLE).count().execute() == 1


def test_latest_values_breaks_ties_deterministically() -> None:
    t = ibis.memtable(pd.DataFrame({
        "institution_id": ["H01", "H01", "H01", "H02"], "period": ["2024"] * 4,
        "indicator_id": ["emr_level"] * 4, "version": ["1"] * 4,
        "value_number": [4.0, 5.0, 7.0, 3.0],
        "source_sha256": ["bb", "aa", "cc", "aa"], "source_row": [2, 2, 2, 3],
        "submitted_at": [T2, T2, T1, T1]}))
    latest = latest_values(t).order_by("institution_id").to_pandas()
    # H01: T2 beats T1 (7.0 out); between the two at T2 the larger sha 'bb' wins -> 4.0
    assert latest["value_number"].tolist() == [4.0, 3.0]
    sql = ibis.to_sql(latest_values(t), dialect="postgres")  # no DuckDB-only SQL
    assert "ROW_NUMBER() OVER" in sql.upper()


