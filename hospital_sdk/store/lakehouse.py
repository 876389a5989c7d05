"""The embedded lakehouse: DuckLake tables in four layers, in one folder, one writer at a time.

Layout of the home folder::

    <home>/catalog.sqlite   DuckLake catalog (SQLite, WAL mode: readers never block the writer)
    <home>/data/            Parquet files, <layer>/<table>/...
    <home>/extensions/      DuckDB extensions installed from their wheels
    <home>/writer.lock      cross-process writer lock (see :mod:`hospital_sdk.store.writer`)
    <home>/tmp/             DuckDB spill space

Readers in any process see each commit whole on their next query, never half of one. Every
write goes through :meth:`Lakehouse.write`, which serialises writers across processes.

Examples
--------
>>> import tempfile, pyarrow as pa
>>> with Lakehouse.open(tempfile.mkdtemp()) as lh:
...     lh.replace("visits", pa.table({"month": ["2024-01", "2024-02"], "n": [3, 4]}))
...     int(lh.table("visits").n.sum().execute())
2
7
"""

from __future__ import annotations

import difflib
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import ClassVar, TypeVar

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends.duckdb import Backend
from ibis.common.exceptions import TableNotFound

from hospital_sdk.config import Settings
from hospital_sdk.errors import StoreError
from hospital_sdk.store.catalog import CATALOG, connect_catalog
from hospital_sdk.store.tables import (
    RowSource,
    check_columns,
    column_definitions,
    expected_columns,
    ident,
    table_columns,
)
from hospital_sdk.store.writer import COMMIT_AUTHOR, FileLock, run_transaction

T = TypeVar("T")


class Lakehouse:
    """A DuckLake lakehouse in one folder, opened by one process through one connection.

    Use :meth:`open` to get one. ``con`` is an Ibis DuckDB backend with ``USE lake`` done, so
    ``con.table("x", database="raw")`` reads ``lake.raw.x``; ``duck`` is the raw DuckDB
    connection underneath. Writes from several threads of one instance are serialised, but
    queries from other threads would see an open write's uncommitted rows: give each thread
    its own instance (or ``duck.cursor()``) for reading.
    """

    LAYERS: ClassVar[tuple[str, ...]] = ("raw", "cleaned", "aggregated", "application")

    def __init__(self, home: Path, con: Backend, *, read_only: bool, lock_timeout: float) -> None:
        self.home = home
        self.con = con
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self._thread_lock = threading.RLock()
        self._writing = 0
        self._closed = False

    @classmethod
    def open(cls, home: str | os.PathLike[str] | None = None, *, settings: Settings | None = None,
             read_only: bool = False, lock_timeout: float = 600.0,
             memory_limit: str | None = None) -> Lakehouse:
        """Open the lakehouse in ``home``, creating folder, catalog and layers on first use.

        Parameters
        ----------
        home
            Lakehouse folder; ``None`` takes ``settings.home`` (``HOSPITAL_SDK_HOME``).
        settings
            Settings to read ``home`` from when ``home`` is ``None``.
        read_only
            Attach the catalog read-only; :meth:`write` then raises :class:`StoreError`.
        lock_timeout
            Seconds a write waits for the cross-process writer lock.
        memory_limit
            DuckDB ``memory_limit`` such as ``"4GB"``; default ``settings.memory_limit``
            (``HOSPITAL_SDK_MEMORY_LIMIT``) when ``home`` comes from the settings, else 40 % of
            physical memory.
        """
        if home is None or (memory_limit is None and settings is not None):
            resolved = settings or Settings()
            memory_limit = memory_limit or resolved.memory_limit
            home = resolved.home if home is None else home
        path = Path(home).expanduser().absolute()
        con = connect_catalog(path, read_only=read_only, lock_timeout=lock_timeout,
                              memory_limit=memory_limit)
        lakehouse = cls(path, con, read_only=read_only, lock_timeout=lock_timeout)
        try:
            if lakehouse._missing_layers(lakehouse.duck) and not read_only:
                lakehouse.write(lambda duck: [
                    duck.execute(f"CREATE SCHEMA {CATALOG}.{ident(layer)}")
                    for layer in lakehouse._missing_layers(duck)  # again, under the lock
                ], description="create layers")
        except BaseException:
            lakehouse.close()
            raise
        return lakehouse

    def _missing_layers(self, duck: duckdb.DuckDBPyConnection) -> list[str]:
        existing = {r[0] for r in duck.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = ?", [CATALOG]
        ).fetchall()}
        return [layer for layer in self.LAYERS if layer not in existing]

    @property
    def duck(self) -> duckdb.DuckDBPyConnection:
        """The raw DuckDB connection under :attr:`con`."""
        return self.con.con

    def table(self, name: str, layer: str = "raw", *, version: int | None = None,
              at: datetime | None = None) -> ir.Table:
        """Table ``lake.<layer>.<name>``, now or as of snapshot ``version`` or time ``at``.

        A naive ``at`` is local time, as :meth:`datetime.astimezone` reads it.
        """
        target = self._qualified(name, layer)
        if version is not None and at is not None:
            raise ValueError("give version or at, not both")
        if version is None and at is None:
            try:
                return self.con.table(name, database=(CATALOG, layer))
            except TableNotFound:
                raise StoreError(self._not_found(name, layer)) from None
        if version is not None:
            clause = f"VERSION => {int(version)}"
        else:
            assert at is not None
            stamp = at if at.tzinfo is not None else at.astimezone()
            clause = f"TIMESTAMP => TIMESTAMPTZ '{stamp.isoformat()}'"
        try:
            return self.con.sql(f"SELECT * FROM {self._sql(name, layer)} AT ({clause})")
        except duckdb.Error as exc:
            raise StoreError(f"cannot read {target} AT ({clause}): {exc}") from exc

    def list_tables(self, layer: str = "raw") -> list[str]:
        """Names of the tables and views in ``layer``, sorted."""
        self._check_layer(layer)
        rows = self.duck.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
            "AND table_schema = ? ORDER BY table_name", [CATALOG, layer]).fetchall()
        return [r[0] for r in rows]

    def has_table(self, name: str, layer: str = "raw") -> bool:
        """Whether ``lake.<layer>.<name>`` exists."""
        return name in self.list_tables(layer)

    def snapshots(self) -> pd.DataFrame:
        """One row per snapshot: snapshot_id, snapshot_time, schema_version, changes, author,
        commit_message (the ``description`` given to :meth:`write`)."""
        with warnings.catch_warnings():  # duckdb's pandas conversion warns under pandas 3.1
            warnings.filterwarnings("ignore", message=".*inplace keyword")
            return self.duck.execute(
                "SELECT snapshot_id, snapshot_time, schema_version, changes, author, "
                f"commit_message FROM {CATALOG}.snapshots() ORDER BY snapshot_id").df()

    def current_snapshot(self) -> int:
        """Id of the newest committed snapshot."""
        return int(self.duck.execute(f"SELECT id FROM {CATALOG}.current_snapshot()").fetchone()[0])

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T], *, attempts: int = 8,
              description: str = "") -> T:
        """Run ``fn(duck)`` as one transaction under the cross-process writer lock.

        Takes ``<home>/writer.lock`` (waiting up to ``lock_timeout``, then :class:`StoreError`
        naming the lock file), then ``BEGIN; fn(duck); COMMIT``. On
        :class:`duckdb.TransactionException` or "database is locked" (a SQLite catalog busy
        past its timeout) it rolls back and reruns ``fn`` after a short
        jittered backoff, up to ``attempts`` times, then raises :class:`WriteConflictError`.
        Any other exception rolls back and propagates. ``fn`` may run more than once. A
        ``write`` called from inside ``fn`` joins the open transaction. Returns ``fn``'s result.
        """
        if self.read_only:
            raise StoreError(f"the lakehouse in {self.home} is open read-only; cannot write")
        if not self._thread_lock.acquire(timeout=self.lock_timeout):
            raise StoreError(f"timed out after {self.lock_timeout:g} s waiting for another "
                             f"thread's write on this Lakehouse ({self.home})")
        try:
            if self._writing:
                return fn(self.duck)
            lock = FileLock(self.home / "writer.lock", self.lock_timeout)
            lock.acquire(note=description)
            self._writing += 1
            try:
                return run_transaction(self.duck, fn, attempts=attempts,
                                       description=description, author=COMMIT_AUTHOR)
            finally:
                self._writing -= 1
                lock.release()
        finally:
            self._thread_lock.release()

    def ensure_table(self, name: str, schema: ibis.Schema, layer: str = "raw", *,
                     partition_by: Sequence[str] = ()) -> None:
        """Create ``lake.<layer>.<name>`` with ``schema`` unless it exists with the same columns.

        Ibis types map to DuckDB types; non-nullable columns (``!int64``) become ``NOT NULL``.
        ``partition_by`` names columns whose values split the Parquet files (new tables only),
        which makes replacing or reading one period touch only its files. Column order is not
        compared. Raises :class:`StoreError` naming the table and every difference.
        """
        schema = ibis.schema(schema)
        target = self._qualified(name, layer)
        if not len(schema):
            raise StoreError(f"cannot create {target} without columns")
        if unknown := [c for c in partition_by if c not in schema]:
            raise StoreError(f"cannot partition {target} by {unknown}: not among its columns")
        expected = expected_columns(schema)
        if check_columns(table_columns(self.duck, CATALOG, layer, name), expected, target):
            return

        def create(duck: duckdb.DuckDBPyConnection) -> None:
            if check_columns(table_columns(duck, CATALOG, layer, name), expected, target):
                return  # another process created it meanwhile
            sql = self._sql(name, layer)
            duck.execute(f"CREATE TABLE {sql} ({column_definitions(expected)})")
            if partition_by:
                keys = ", ".join(ident(c) for c in partition_by)
                duck.execute(f"ALTER TABLE {sql} SET PARTITIONED BY ({keys})")

        self.write(create, description=f"create table {layer}.{name}")

    def replace(self, name: str, obj: pa.Table | pd.DataFrame | ir.Table, layer: str = "raw", *,
                where: str | None = None) -> int:
        """Replace the rows matching ``where`` (all rows if ``None``) by ``obj``, atomically.

        ``obj`` is a pyarrow Table, a pandas DataFrame or an Ibis table expression (one on this
        lakehouse's ``con`` runs inside DuckDB without passing through Python). Columns are
        matched by name. ``where`` is a SQL predicate written by the caller (never user input),
        e.g. ``"month = '2024-01'"``. The table is created from ``obj`` if missing. Returns the
        number of rows inserted.
        """
        target, sql = self._qualified(name, layer), self._sql(name, layer)
        source = RowSource.of(obj, self.con)
        stage = f"__hospital_sdk_replace_{threading.get_ident()}"

        # A query that may read the table it replaces is staged before the DELETE; any other is
        # streamed straight into the table (no copy of the result held in memory or spilled).
        # The test is conservative (RowSource.may_read): a false alarm only stages.
        streamed = source.query is not None and not source.may_read(layer, name)

        def work(duck: duckdb.DuckDBPyConnection) -> int:
            if streamed:
                rows = f"({source.query})"
            else:
                source.stage(duck, stage)  # before the DELETE: obj may read the table
                rows = ident(stage)
            try:
                if table_columns(duck, CATALOG, layer, name) is None:
                    return int(duck.execute(f"CREATE TABLE {sql} AS FROM {rows}").fetchone()[0])
                duck.execute(f"DELETE FROM {sql}" + (f" WHERE {where}" if where else ""))
                return int(duck.execute(f"INSERT INTO {sql} BY NAME FROM {rows}").fetchone()[0])
            finally:
                if not streamed:
                    source.unstage(duck, stage)

        slice_ = f" where {where}" if where else ""
        try:
            return self.write(work, description=f"replace {layer}.{name}{slice_}")
        except duckdb.Error as exc:
            raise StoreError(f"cannot replace rows of {target}{slice_}: {exc}") from exc

    def compact(self, *, older_than: timedelta | None = None,
                grace: timedelta = timedelta(hours=1)) -> None:
        """Merge small adjacent Parquet files and move inlined rows to Parquet.

        With ``older_than``, also expire snapshots older than that (time travel to them stops
        working) and delete files that were expired more than ``grace`` ago, so a query that
        started before the expiry can still finish. The default keeps every snapshot.
        """
        def work(duck: duckdb.DuckDBPyConnection) -> None:
            duck.execute(f"CALL ducklake_merge_adjacent_files('{CATALOG}')").fetchall()
            duck.execute(f"CALL ducklake_flush_inlined_data('{CATALOG}')").fetchall()
            if older_than is not None:
                for call, age in (("expire_snapshots", older_than), ("cleanup_old_files", grace)):
                    duck.execute(f"CALL ducklake_{call}('{CATALOG}', older_than => now() - "
                                 f"INTERVAL '{age.total_seconds()} seconds')").fetchall()

        self.write(work, description="compact")

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if not self._closed:
            self._closed = True
            self.con.disconnect()

    def __enter__(self) -> Lakehouse:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"Lakehouse({str(self.home)!r}{mode})"

    def _check_layer(self, layer: str) -> None:
        if layer not in self.LAYERS:
            near = difflib.get_close_matches(layer, self.LAYERS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise StoreError(f"unknown layer {layer!r}, expected one of {self.LAYERS}{hint}")

    def _qualified(self, name: str, layer: str) -> str:
        """Checked ``lake.<layer>.<name>`` for messages."""
        self._check_layer(layer)
        if not isinstance(name, str) or not name:
            raise StoreError(f"a table name must be a non-empty string, got {name!r}")
        return f"{CATALOG}.{layer}.{name}"

    @staticmethod
    def _sql(name: str, layer: str) -> str:
        return f"{CATALOG}.{ident(layer)}.{ident(name)}"

    def _not_found(self, name: str, layer: str) -> str:
        tables = self.list_tables(layer)
        near = difflib.get_close_matches(name, tables, n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"it has {tables or 'no tables'}"
        return f"no table {name!r} in layer {layer!r} of {self.home}; {hint}"

