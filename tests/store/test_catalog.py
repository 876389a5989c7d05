"""The catalog file: created in WAL mode, recognised once DuckLake has initialised it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hospital_sdk.store import Lakehouse
from hospital_sdk.store.catalog import attach_statement, catalog_ready, create_catalog


def test_catalog_is_created_in_wal_mode_and_ready_after_first_open(home: Path) -> None:
    catalog = home / "catalog.sqlite"
    assert not catalog_ready(catalog)
    create_catalog(catalog)
    db = sqlite3.connect(catalog)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    assert not catalog_ready(catalog)  # a file, but no DuckLake tables yet
    Lakehouse.open(home).close()
    assert catalog_ready(catalog)


def test_attach_statement_escapes_quotes(tmp_path: Path) -> None:
    sql = attach_statement(tmp_path / "o'brien" / "catalog.sqlite", tmp_path / "data",
                           read_only=False)
    assert "o''brien" in sql
    assert "READ_ONLY" not in sql


def test_home_with_a_quote_in_its_path_opens(tmp_path: Path) -> None:
    with Lakehouse.open(tmp_path / "o'brien") as lake:
        lake.write(lambda duck: duck.execute("CREATE TABLE lake.raw.t AS SELECT 1 AS a"))
        assert lake.table("t").count().execute() == 1
