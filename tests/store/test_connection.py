"""connect(): the embedded lakehouse by default, any Ibis backend by URL."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from hospital_sdk.store import Lakehouse, connect


def test_connect_to_a_folder_reads_layers_as_databases(lake: Lakehouse) -> None:
    lake.replace("x", pa.table({"n": [1, 2]}))
    con = connect(lake.home)
    assert isinstance(con, ibis.backends.duckdb.Backend)
    assert con.table("x", database="raw").count().execute() == 2
    assert con.list_tables(database="raw") == ["x"]
    con.disconnect()
    ro = connect(str(lake.home), read_only=True)
    assert ro.table("x", database="raw").n.sum().execute() == 3
    ro.disconnect()


def test_connect_defaults_to_hospital_sdk_home(home: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSPITAL_SDK_HOME", str(home))
    con = connect()
    con.raw_sql("CREATE TABLE lake.cleaned.y AS SELECT 1 AS a")
    con.disconnect()
    assert (home / "catalog.sqlite").is_file()
    with Lakehouse.open(home) as lake:
        assert lake.list_tables("cleaned") == ["y"]


def test_connect_with_a_url_uses_ibis_connect(tmp_path: Path) -> None:
    memory = connect("duckdb://")
    assert memory.name == "duckdb"
    assert memory.list_tables() == []
    assert not (tmp_path / "catalog.sqlite").exists()
    memory.create_table("t", pa.table({"a": [1]}))
    assert memory.table("t").count().execute() == 1
    file_db = tmp_path / "x.duckdb"
    on_file = connect(f"duckdb:///{file_db}")
    on_file.create_table("t", pa.table({"a": [1]}))
    on_file.disconnect()
    assert file_db.is_file()
