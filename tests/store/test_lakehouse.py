"""The Lakehouse in one process: layout, tables, atomic writes, time travel, maintenance."""

from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pytest

from hospital_sdk.config import Settings
from hospital_sdk.errors import StoreError
from hospital_sdk.store import Lakehouse


def rows(lake: Lakehouse, name: str, layer: str = "raw", **at: object) -> list[tuple]:
    """All rows of a table, sorted, as tuples."""
    table = lake.table(name, layer, **at).to_pyarrow()  # type: ignore[arg-type]
    return sorted(tuple(row.values()) for row in table.to_pylist())


# -- opening ----------------------------------------------------------------------------------
def test_first_open_creates_layout_and_layers(tmp_path: Path) -> None:
    home = tmp_path / "fresh"  # not the fixture: this one installs the extensions itself
    with Lakehouse.open(home) as lake:
        assert lake.home == home
        schemas = lake.duck.execute("SELECT schema_name FROM duckdb_schemas() "
                                    "WHERE database_name = 'lake' ORDER BY 1").fetchall()
        assert [s for (s,) in schemas] == ["aggregated", "application", "cleaned", "main", "raw"]
        assert lake.duck.execute("SELECT current_database()").fetchone() == ("lake",)
    assert (home / "catalog.sqlite").is_file()
    assert (home / "data").is_dir()
    assert sorted(p.name for p in (home / "extensions").rglob("*.duckdb_extension")) == [
        "ducklake.duckdb_extension", "sqlite_scanner.duckdb_extension"]
    db = sqlite3.connect(home / "catalog.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


def test_reopen_keeps_tables_and_adds_no_snapshot(lake: Lakehouse) -> None:
    lake.replace("visits", pa.table({"n": [1, 2]}))
    snapshot = lake.current_snapshot()
    with Lakehouse.open(lake.home) as again:
        assert rows(again, "visits") == [(1,), (2,)]
        assert again.current_snapshot() == snapshot


def test_home_comes_from_settings(home: Path) -> None:
    with Lakehouse.open(settings=Settings(home=home)) as lake:
        assert lake.home == home
        assert lake.list_tables() == []


def test_moved_home_still_opens(lake: Lakehouse, tmp_path: Path) -> None:
    lake.replace("visits", pa.table({"n": list(range(100))}))  # > 10 rows: a Parquet file
    lake.close()
    moved = tmp_path / "moved"
    shutil.move(lake.home, moved)
    with Lakehouse.open(moved) as again:
        assert again.table("visits").count().execute() == 100


def test_read_only_reads_but_refuses_writes(lake: Lakehouse) -> None:
    lake.replace("visits", pa.table({"n": [1]}))
    with Lakehouse.open(lake.home, read_only=True) as reader:
        assert rows(reader, "visits") == [(1,)]
        with pytest.raises(StoreError, match="read-only"):
            reader.replace("visits", pa.table({"n": [2]}))
        with pytest.raises(duckdb.Error, match="read-only"):  # even around write()
            reader.duck.execute("INSERT INTO lake.raw.visits VALUES (3)")
    assert rows(lake, "visits") == [(1,)]


def test_read_only_needs_an_existing_lakehouse(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"catalog\.sqlite"):
        Lakehouse.open(tmp_path / "none", read_only=True)


# -- tables -----------------------------------------------------------------------------------
SCHEMA = ibis.schema({"stay_id": "!int64", "cost": "decimal(18,2)", "admitted": "timestamp",
                      "day": "date", "emergency": "boolean", "ward": "!string"})


def test_ensure_table_maps_ibis_types_and_not_null(lake: Lakehouse) -> None:
    lake.ensure_table("stays", SCHEMA, "cleaned")
    lake.ensure_table("stays", SCHEMA, "cleaned")  # second call: no-op
    described = lake.duck.execute("DESCRIBE lake.cleaned.stays").fetchall()
    assert [(c, t, n) for c, t, n, *_ in described] == [
        ("stay_id", "BIGINT", "NO"), ("cost", "DECIMAL(18,2)", "YES"),
        ("admitted", "TIMESTAMP", "YES"), ("day", "DATE", "YES"),
        ("emergency", "BOOLEAN", "YES"), ("ward", "VARCHAR", "NO")]
    assert lake.table("stays", "cleaned").schema() == ibis.schema(
        {**SCHEMA, "admitted": "timestamp(6)"})  # DuckDB timestamps are microseconds
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
        lake.write(lambda duck: duck.execute(
            "INSERT INTO lake.cleaned.stays (stay_id, ward) VALUES (NULL, 'A')"))
    lake.write(lambda duck: duck.execute(
        "INSERT INTO lake.cleaned.stays VALUES (1, 12.345, '2024-01-02 03:04:05', '2024-01-02', "
        "true, 'A')"))
    assert rows(lake, "stays", "cleaned") == [
        (1, Decimal("12.35"), datetime(2024, 1, 2, 3, 4, 5), date(2024, 1, 2), True, "A")]
    assert lake.list_tables("cleaned") == ["stays"]
    assert lake.has_table("stays", "cleaned") and not lake.has_table("stays", "raw")


def test_ensure_table_names_every_difference(lake: Lakehouse) -> None:
    lake.ensure_table("stays", SCHEMA)
    changed = ibis.schema({"stay_id": "int64", "cost": "decimal(18,3)", "admitted": "timestamp",
                           "day": "date", "emergency": "boolean", "bed": "string"})
    with pytest.raises(StoreError) as caught:
        lake.ensure_table("stays", changed)
    assert str(caught.value) == (
        "lake.raw.stays exists with different columns: missing columns ['bed']; unexpected "
        "columns ['ward']; stay_id is NOT NULL, expected nullable; cost is DECIMAL(18,2), "
        "expected DECIMAL(18,3)")


def test_ensure_table_partitions_files(lake: Lakehouse) -> None:
    lake.ensure_table("visits", ibis.schema({"month": "!string", "n": "int64"}),
                      partition_by=["month"])
    frame = pa.table({"month": ["2024-01"] * 20 + ["2024-02"] * 20, "n": list(range(40))})
    lake.replace("visits", frame)
    files = [Path(f) for (f,) in lake.duck.execute(
        "SELECT data_file FROM ducklake_list_files('lake', 'visits', schema => 'raw')").fetchall()]
    assert sorted(f.parent.name for f in files) == ["month=2024-01", "month=2024-02"]
    with pytest.raises(StoreError, match=r"by \['nope'\]"):
        lake.ensure_table("other", ibis.schema({"n": "int64"}), partition_by=["nope"])


def test_unknown_layer_and_table_suggest_names(lake: Lakehouse) -> None:
    lake.replace("visits", pa.table({"n": [1]}))
    with pytest.raises(StoreError, match="did you mean 'cleaned'"):
        lake.table("visits", "claened")
    with pytest.raises(StoreError, match="did you mean 'visits'"):
        lake.table("visit")


# -- writing ----------------------------------------------------------------------------------
def test_failed_write_leaves_table_unchanged(lake: Lakehouse) -> None:
    lake.replace("visits", pa.table({"n": [1, 2, 3]}))
    before = lake.current_snapshot()

    def half_done(duck: duckdb.DuckDBPyConnection) -> None:
        duck.execute("DELETE FROM lake.raw.visits")
        duck.execute("INSERT INTO lake.raw.visits VALUES (99)")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        lake.write(half_done)
    assert rows(lake, "visits") == [(1,), (2,), (3,)]
    assert lake.current_snapshot() == before
    with pytest.raises(StoreError, match=r"cannot replace rows of lake\.raw\.visits"):
        lake.replace("visits", pa.table({"n": [4], "nope": [5]}))  # unknown column
    assert rows(lake, "visits") == [(1,), (2,), (3,)]


def test_write_returns_result_and_records_description(lake: Lakehouse) -> None:
    result = lake.write(lambda duck: duck.execute("CREATE TABLE lake.raw.t AS SELECT 7 AS a")
                        .fetchone(), description="make t")
    assert result == (1,)
    last = lake.snapshots().iloc[-1]
    assert last.commit_message == "make t"
    assert "@" in last.author
    assert last.snapshot_id == lake.current_snapshot()


def test_nested_write_joins_the_open_transaction(lake: Lakehouse) -> None:
    def outer(duck: duckdb.DuckDBPyConnection) -> None:
        duck.execute("CREATE TABLE lake.raw.t (a INT)")
        lake.replace("t", pa.table({"a": [1]}))
        raise RuntimeError("undo both")

    with pytest.raises(RuntimeError):
        lake.write(outer)
    assert not lake.has_table("t")


MONTHS = pd.DataFrame({"month": ["2024-01", "2024-01", "2024-02", "2024-03"],
                       "n": [1, 2, 3, 4]})


def test_replace_one_slice_is_idempotent(lake: Lakehouse) -> None:
    assert lake.replace("visits", MONTHS) == 4
    january = pa.table({"month": ["2024-01"] * 3, "n": [10, 20, 30]})
    for _ in range(2):
        assert lake.replace("visits", january, where="month = '2024-01'") == 3
        assert rows(lake, "visits") == [("2024-01", 10), ("2024-01", 20), ("2024-01", 30),
                                        ("2024-02", 3), ("2024-03", 4)]
    assert lake.replace("visits", MONTHS.iloc[:1]) == 1  # no where: everything replaced
    assert rows(lake, "visits") == [("2024-01", 1)]


def test_replace_from_an_ibis_expression_reading_the_same_table(lake: Lakehouse) -> None:
    lake.replace("visits", MONTHS)
    visits = lake.table("visits")
    doubled = visits.filter(visits.month == "2024-01").mutate(n=visits.n * 2)
    assert lake.replace("visits", doubled, where="month = '2024-01'") == 2
    assert rows(lake, "visits") == [("2024-01", 2), ("2024-01", 4), ("2024-02", 3),
                                    ("2024-03", 4)]
    wards = ibis.memtable({"month": ["2024-02"], "ward": ["A"]})  # joins an in-memory table
    assert lake.replace("by_ward", lake.table("visits").join(wards, "month"), "aggregated") == 1
    assert rows(lake, "by_ward", "aggregated") == [("2024-02", 3, "A")]
    other = ibis.duckdb.connect().create_table("x", pa.table({"n": [5]}))  # another backend
    assert lake.replace("from_elsewhere", other) == 1


def test_replace_rejects_other_objects(lake: Lakehouse) -> None:
    with pytest.raises(TypeError, match="not list"):
        lake.replace("visits", [1, 2])  # type: ignore[arg-type]


# -- time travel and snapshots ----------------------------------------------------------------
def test_time_travel_by_version_and_timestamp(lake: Lakehouse) -> None:
    lake.replace("visits", pa.table({"n": [1, 2, 3]}))
    version = lake.current_snapshot()
    time.sleep(0.02)
    moment = datetime.now(UTC)
    time.sleep(0.02)
    lake.replace("visits", pa.table({"n": [4, 5, 6, 7, 8]}))
    assert rows(lake, "visits") == [(4,), (5,), (6,), (7,), (8,)]
    assert rows(lake, "visits", version=version) == [(1,), (2,), (3,)]
    assert rows(lake, "visits", at=moment) == [(1,), (2,), (3,)]
    local_naive = moment.astimezone().replace(tzinfo=None)  # naive = local time
    assert rows(lake, "visits", at=local_naive) == [(1,), (2,), (3,)]
    with pytest.raises(StoreError, match="VERSION => 1"):
        lake.table("visits", version=1)  # before the table existed
    with pytest.raises(ValueError, match="not both"):
        lake.table("visits", version=version, at=moment)


def test_snapshots_list_every_commit(lake: Lakehouse) -> None:
    first = lake.current_snapshot()
    lake.replace("visits", pa.table({"n": [1]}))
    lake.replace("visits", pa.table({"n": [2]}))
    frame = lake.snapshots()
    assert list(frame.columns) == ["snapshot_id", "snapshot_time", "schema_version", "changes",
                                   "author", "commit_message"]
    assert frame.snapshot_id.tolist() == list(range(first + 1 + 2))
    assert frame.commit_message.tolist()[-2:] == ["replace raw.visits"] * 2
    assert frame.snapshot_time.is_monotonic_increasing


def test_compact_merges_files_and_expires_snapshots(lake: Lakehouse) -> None:
    for month in range(1, 5):  # four inserts of 20 rows: four Parquet files
        lake.write(lambda duck, m=month: duck.execute(
            f"INSERT INTO lake.raw.visits SELECT {m} AS month, range AS n FROM range(20)")
            if m > 1 else duck.execute("CREATE TABLE lake.raw.visits AS "
                                       "SELECT 1 AS month, range AS n FROM range(20)"))
    old = lake.current_snapshot()

    def files() -> int:
        return lake.duck.execute(
            "SELECT count(*) FROM ducklake_list_files('lake', 'visits', schema => 'raw')"
        ).fetchone()[0]

    assert files() == 4
    lake.compact()  # keeps every snapshot
    assert files() == 1
    assert rows(lake, "visits", version=old) == rows(lake, "visits")
    on_disk = len(list((lake.home / "data").rglob("*.parquet")))
    lake.compact(older_than=timedelta(0), grace=timedelta(0))
    assert lake.snapshots().snapshot_id.min() > old
    with pytest.raises(StoreError):
        lake.table("visits", version=old)
    assert len(list((lake.home / "data").rglob("*.parquet"))) < on_disk
    assert lake.table("visits").count().execute() == 80
