"""The DuckLake catalog: a SQLite file in WAL mode, attached as ``lake`` to new connections.

WAL mode is what lets readers in other processes run while a writer commits: without it a
reader holds SQLite's shared lock and each commit waits for it. The mode is stored in the file,
so it is set once, when the catalog is created.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "catalog.sqlite"
>>> create_catalog(path)
>>> catalog_ready(path)  # DuckLake has not initialised it yet
False
>>> attach_statement(path, pathlib.Path("/lake/data"), read_only=True).split(" (")[1]
"DATA_PATH '/lake/data/', OVERRIDE_DATA_PATH true, READ_ONLY)"
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import duckdb
import ibis
from ibis.backends.duckdb import Backend

from hospital_sdk.errors import StoreError
from hospital_sdk.store.extensions import install_extensions, load_extensions
from hospital_sdk.store.tables import literal
from hospital_sdk.store.writer import FileLock

CATALOG = "lake"
"""Name the DuckLake catalog is attached under in every store connection."""


def create_catalog(path: Path) -> None:
    """Create the SQLite file ``path`` in WAL journal mode (DuckLake fills it on ATTACH)."""
    with closing(sqlite3.connect(path)) as db:
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"SQLite refused WAL mode for {path} (got {mode!r}); is it on a "
                         f"network file system? The catalog must live on a local disk")


def catalog_ready(path: Path) -> bool:
    """Whether ``path`` exists and DuckLake finished initialising it (snapshot 0 exists)."""
    if not path.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            return db.execute("SELECT count(*) FROM ducklake_snapshot").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def attach_statement(path: Path, data: Path, *, read_only: bool) -> str:
    """``ATTACH`` of catalog ``path`` with Parquet files under ``data``.

    DuckLake stores file paths relative to the data path, and ``OVERRIDE_DATA_PATH`` makes the
    folder given here win over the one recorded at creation: a home folder can be moved or
    copied whole and still opens.
    """
    options = f"DATA_PATH '{literal(data)}/', OVERRIDE_DATA_PATH true"
    if read_only:
        options += ", READ_ONLY"
    return f"ATTACH 'ducklake:sqlite:{literal(path)}' AS {CATALOG} ({options})"


def connect_catalog(home: Path, *, read_only: bool, lock_timeout: float,
                    memory_limit: str | None) -> Backend:
    """New Ibis DuckDB connection with the catalog in ``home`` attached as ``lake`` and in use.

    Installs the extensions on first use and creates the catalog if missing; the first
    creation runs under the writer lock so two processes opening a new home do not both
    initialise it.
    """
    catalog = home / "catalog.sqlite"
    if read_only and not catalog.is_file():
        raise StoreError(f"no lakehouse catalog at {catalog}; open it read-write once first")
    for sub in ("data", "extensions", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    config = {
        "extension_directory": str(home / "extensions"),
        "autoinstall_known_extensions": False,
        "temp_directory": str(home / "tmp"),  # DuckDB would spill into ./.tmp otherwise
        "memory_limit": memory_limit or default_memory_limit(),
    }
    con = ibis.duckdb.connect(**{k: v for k, v in config.items() if v is not None})
    duck = con.con
    try:
        install_extensions(duck, home / "extensions", timeout=lock_timeout)
        load_extensions(duck)
        attach = attach_statement(catalog, home / "data", read_only=read_only)
        if catalog_ready(catalog):
            duck.execute(attach)
        else:
            with FileLock(home / "writer.lock", lock_timeout):
                if not catalog.exists():
                    create_catalog(catalog)
                duck.execute(attach)
        duck.execute(f"USE {CATALOG}")
    except duckdb.Error as exc:
        con.disconnect()
        raise StoreError(f"cannot open the lakehouse in {home}: {exc}") from exc
    except BaseException:
        con.disconnect()
        raise
    return con


def default_memory_limit() -> str | None:
    """40 % of physical memory, so a notebook and the scheduler can both run big queries."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None  # DuckDB's default: 80 %
    return f"{max(256, int(total * 0.4) >> 20)}MiB"
