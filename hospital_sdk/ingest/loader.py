"""Loading source files into the raw layer: validate, tokenise, quarantine, reconcile.

Each file is loaded in one :meth:`~hospital_sdk.store.Lakehouse.write` transaction:

1. the file's previous rows and rejects (same table, same relative name) are deleted;
2. its rows are read in batches of about a million (the next batch is read while the current one
   is checked); each batch is validated by one DuckDB query
   (:mod:`hospital_sdk.ingest.validation`), its good rows go to ``lake.raw.<table>`` -- the
   table's stored schema (direct identifiers only as ``<name>_token``) plus lineage
   ``_load_id``, ``_source_file``, ``_source_row`` -- and its bad rows, with every problem, to
   ``lake.raw.load_rejects``; only a hash of each good row's key is kept (16 bytes a row, in a
   temporary table DuckDB can spill to disk), so memory stays bounded;
3. keys repeated within the file or found in other files' rows are looked for set-wise once the
   file is read, and those rows move from the table to the rejects;
4. rows in = rows loaded + rows rejected is checked, also against the lake, and the file's record
   is added to ``lake.raw.load_batches``.

A crash or error anywhere rolls the file back to its previous state. A file whose name and
SHA-256 match its current load is skipped (``unchanged``), so loading a folder twice leaves the
lake as it was. Files load in name order; a key already loaded from an earlier file is rejected
in the later one. Rows are stored in no particular order: ``_source_row`` gives the file order.

Examples
--------
>>> import tempfile, pathlib
>>> from hospital_sdk.model.contract import Column, Contract, Table
>>> from hospital_sdk.store import Lakehouse
>>> ward = Table("ward", "master", "病区", "Ward", "每个病区一行", "one row per ward", ("ward_id",),
...              (Column("ward_id", "string", "编号", "Id", nullable=False),
...               Column("beds", "int32", "床位", "Beds", minimum=0)))
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "ward.csv").write_text("ward_id,beds\\nW1,30\\nW2,-1\\nW1,12\\n")
>>> with Lakehouse.open(tempfile.mkdtemp()) as lake:
...     contract = Contract("1", (ward,), ())
...     print(load_folder(folder, lake, contract=contract).summary())
...     print([f.status for f in load_folder(folder, lake, contract=contract).files])
1 file: 3 rows in = 1 loaded + 2 rejected (1 loaded)
rejected rows by reason (details in lake.raw.load_rejects):
       1  duplicate primary key, first seen at row N
       1  out of range (minimum 0)
['unchanged']
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import ibis
import pyarrow as pa

from hospital_sdk.config import Settings
from hospital_sdk.errors import ContractError, SourceFileError
from hospital_sdk.ingest.identity import Tokeniser, token_key
from hospital_sdk.ingest.reconciliation import (
    BATCHES, BATCHES_SCHEMA, REJECTS, REJECTS_SCHEMA, FileLoad, LoadReport, check_balance,
)
from hospital_sdk.ingest.source_files import (
    CHUNK_ROWS, FORMATS, ROW_NUMBER, SourceFile, check_columns, detect_encoding, discover,
    file_sha256, read_batches, read_header, row_count, table_for, text_columns,
)
from hospital_sdk.ingest.validation import KEY_HASH, PROBLEMS, RECORD, compile_validation
from hospital_sdk.model.contract import Contract, Table, suggest

if TYPE_CHECKING:  # pragma: no cover
    from hospital_sdk.store import Lakehouse

Progress = Callable[[str, int, "int | None"], None]
"""``progress(file, rows_done, rows_total_or_None)``, called after each batch of a file."""

LAYER = "raw"
LINEAGE = {"_load_id": "!string", "_source_file": "!string", "_source_row": "!int64"}
"""Columns added to every raw table: which load, file and 1-based data row a row came from."""

_BATCH_VIEW = "_hospital_sdk_ingest_batch"    # a local of _load_batches, read by name
_CHECKED = "_hospital_sdk_ingest_checked"    # one validated batch, likewise
_KEYS = "_hospital_sdk_ingest_keys"          # key hashes of the file's good rows
_DUPLICATES = "_hospital_sdk_ingest_duplicates"
_GOOD = f"len({PROBLEMS}) = 0"


def raw_schema(table: Table) -> ibis.Schema:
    """Schema of ``lake.raw.<table>``: the stored schema plus the lineage columns.

    >>> from hospital_sdk.model.contract import Column, Table
    >>> t = Table("p", "patient", "患者", "Patient", "每人一行", "one row per patient", ("pid",),
    ...           (Column("pid", "string", "编号", "Id", nullable=False),
    ...            Column("id_number", "string", "身份证号", "Id number",
    ...                   sensitivity="direct_identifier")))
    >>> raw_schema(t).names
    ('pid', 'id_number_token', '_load_id', '_source_file', '_source_row')
    """
    return ibis.schema({**table.stored_schema(), **{k: ibis.dtype(v) for k, v in LINEAGE.items()}})


def load_folder(folder: Path | str, lake: Lakehouse, *, contract: Contract | None = None,
                encoding: str | None = None, progress: Progress | None = None,
                settings: Settings | None = None, batch_rows: int = 1_000_000,
                tables: Collection[str] | None = None) -> LoadReport:
    """Load every source file of ``folder`` into the raw layer of ``lake``.

    Parameters
    ----------
    folder
        Folder of Parquet/CSV files named after contract tables (see
        :mod:`hospital_sdk.ingest.source_files`).
    lake
        The lakehouse to write to.
    contract
        Contract to validate against; default :data:`hospital_sdk.model.CONTRACT`.
    encoding
        Encoding of every CSV file; default detect (UTF-8 with or without BOM, else GB18030).
    progress
        Optional ``progress(file, rows_done, rows_total_or_None)`` callback.
    settings
        Where the token key comes from (``token_key``); default from the environment, else the
        key file in the lakehouse home.
    batch_rows
        Rows read and validated at a time.
    tables
        Load only the files of these tables (default: every file of the folder).

    Raises
    ------
    SourceFileError
        Before anything is written, when a file name maps to no table or a file's columns are
        wrong; while loading, when a file turns out unreadable (that file is rolled back, files
        loaded before it stay loaded).
    """
    contract = contract if contract is not None else _default_contract()
    root = Path(folder)
    sources = discover(root, contract)
    if tables is not None:
        unknown = sorted(set(tables) - {t.name for t in contract.source_tables()})
        if unknown:
            raise ContractError(f"not source tables of the contract: {unknown}")
        sources = [s for s in sources if s.table in set(tables)]
    return _load(sources, lake, contract, encoding, progress, settings, batch_rows)


def load_file(path: Path | str, lake: Lakehouse, table: str | None = None, *,
              root: Path | str | None = None, contract: Contract | None = None,
              encoding: str | None = None, progress: Progress | None = None,
              settings: Settings | None = None, batch_rows: int = 1_000_000) -> LoadReport:
    """Load one source file into the raw layer of ``lake``.

    ``table`` defaults to the table the file's name maps to. The file is known in the lake by its
    path relative to ``root`` (default: its folder); give the folder :func:`load_folder` would be
    given so that reloads replace the same rows. Other parameters as in :func:`load_folder`.
    """
    contract = contract if contract is not None else _default_contract()
    path = Path(path)
    base = Path(root) if root is not None else path.parent
    try:
        name = path.relative_to(base).as_posix()
    except ValueError:
        raise SourceFileError(f"{path}: not inside the root folder {base}") from None
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None or not path.is_file():
        raise SourceFileError(f"{path}: not a .csv or .parquet file")
    tables = [t.name for t in contract.source_tables()]
    if table is None:
        table = table_for(name, tables) or table_for(f"{path.parent.name}/{path.name}", tables)
        if table is None:
            stem = path.name.split(".", 1)[0]
            raise SourceFileError(f"{name}: no contract table is called {stem!r}"
                                  f"{suggest(stem, tables)}; pass table=... or rename the file. "
                                  "Expected tables: " + ", ".join(sorted(tables)))
    elif table not in tables:
        raise ContractError(f"{table!r} is not a source table of the contract"
                            f"{suggest(table, tables)}")
    source = SourceFile(path, name, table, fmt)
    return _load([source], lake, contract, encoding, progress, settings, batch_rows)


def _load(sources: Sequence[SourceFile], lake: Lakehouse, contract: Contract,
          encoding: str | None, progress: Progress | None, settings: Settings | None,
          batch_rows: int) -> LoadReport:
    tables = {s.table: contract.table(s.table) for s in sources}
    for source in sources:  # every file's columns are checked before anything is written
        check_columns(source, read_header(source, encoding), tables[source.table])
    lake.ensure_table(BATCHES, BATCHES_SCHEMA, LAYER)
    lake.ensure_table(REJECTS, REJECTS_SCHEMA, LAYER)
    for table in tables.values():
        lake.ensure_table(table.name, raw_schema(table), LAYER)
    tokeniser = None
    if any(c.sensitivity == "direct_identifier" for t in tables.values() for c in t.columns):
        tokeniser = Tokeniser(token_key(lake.home, settings or Settings(home=lake.home)))
    current = _current_loads(lake.duck)
    loads = [_FileLoader(s, tables[s.table], contract, tokeniser, encoding, batch_rows,
                         progress).run(lake, current.get((s.table, s.name)))
             for s in sources]
    return LoadReport(tuple(loads))


def _current_loads(duck: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], FileLoad]:
    """The current (latest) load of every file, by table and file name."""
    rows = duck.execute(
        f"SELECT {', '.join(BATCHES_SCHEMA.names)} FROM lake.{LAYER}.{BATCHES} "
        "QUALIFY row_number() OVER (PARTITION BY table_name, source_file "
        "ORDER BY finished_at DESC) = 1").fetchall()
    return {(load.table_name, load.source_file): load for load in (FileLoad(*r) for r in rows)}


class _FileLoader:
    """Loads one file in one transaction; :meth:`run` may re-run the work on a commit conflict."""

    def __init__(self, source: SourceFile, table: Table, contract: Contract,
                 tokeniser: Tokeniser | None, encoding: str | None, batch_rows: int,
                 progress: Progress | None) -> None:
        self.source, self.table, self.contract = source, table, contract
        self.tokeniser, self.encoding, self.batch_rows = tokeniser, encoding, batch_rows
        self.progress = progress
        self.target = f"lake.{LAYER}.{table.name}"

    def run(self, lake: Lakehouse, previous: FileLoad | None) -> FileLoad:
        """Load the file unless ``previous`` (its current load, if any) has the same content."""
        started = _now()
        self.sha256 = file_sha256(self.source.path)
        if previous is not None and previous.file_sha256 == self.sha256:
            return self._unchanged(previous, started)
        self.file_encoding = (detect_encoding(self.source.path, self.encoding)
                              if self.source.format == "csv" else None)
        self.query = compile_validation(
            self.table, self.contract, source=_BATCH_VIEW, keys=_KEYS,
            rows=f"(SELECT * FROM {self.target} WHERE _source_file = $source_file)",
            existing=self.target, text_columns=text_columns(self.source))
        self.load_id = uuid.uuid4().hex
        # Rows carry their _source_row, so their order in tables is free: not keeping it halves
        # the cost of staging and writing. Batches are read from Python locals by name
        # (_load_batches), which Ibis's connection turns off. The settings are the connection's,
        # so they are restored.
        duck = lake.duck
        settings = {"preserve_insertion_order": False, "python_enable_replacements": True}
        kept = duck.execute("SELECT " + ", ".join(f"current_setting('{name}')"
                                                  for name in settings)).fetchone()
        for name, value in settings.items():
            duck.execute(f"SET {name} = {value}")
        try:
            return lake.write(lambda duck: self._work(duck, started),
                              description=f"load {self.source.name} into "
                                          f"{LAYER}.{self.table.name}")
        finally:
            for name, value in zip(settings, kept, strict=True):
                duck.execute(f"SET {name} = {bool(value)}")

    def _work(self, duck: duckdb.DuckDBPyConnection, started: datetime) -> FileLoad:
        previous = self._previous(duck)  # authoritative, under the writer lock
        if previous is not None and previous.file_sha256 == self.sha256:
            return self._unchanged(previous, started)
        name, table = self.source.name, self.table.name
        if previous is not None:  # rows and ledger are written together: no ledger, no rows
            duck.execute(f"DELETE FROM {self.target} WHERE _source_file = ?", [name])
            duck.execute(f"DELETE FROM lake.{LAYER}.{REJECTS} WHERE table_name = ? AND "
                         "source_file = ?", [table, name])
        rows_in, loaded, rejected, reasons = self._load_batches(duck)
        if loaded:
            duplicates, duplicate_reasons = self._reject_duplicates(duck)
            loaded, rejected = loaded - duplicates, rejected + duplicates
            reasons.update(duplicate_reasons)
        duck.execute(f"DROP TABLE IF EXISTS {_KEYS}")
        check_balance(name, rows_in, loaded, rejected)
        in_lake, rejects_in_lake = duck.execute(
            f"SELECT (SELECT count(*) FROM {self.target} WHERE _source_file = $name), "
            f"(SELECT count(*) FROM lake.{LAYER}.{REJECTS} WHERE table_name = $table AND "
            "source_file = $name)", {"name": name, "table": table}).fetchone()
        check_balance(name, rows_in, in_lake, rejects_in_lake)
        load = FileLoad(self.load_id, table, name, self.sha256, self.file_encoding, rows_in,
                        loaded, rejected, started, _now(),
                        "replaced" if previous is not None else "loaded", dict(reasons))
        row = load.ledger_row()
        duck.execute(f"INSERT INTO lake.{LAYER}.{BATCHES} ({', '.join(row)}) VALUES "
                     f"({', '.join('?' * len(row))})", list(row.values()))
        return load

    def _load_batches(self, duck: duckdb.DuckDBPyConnection
                      ) -> tuple[int, int, int, Counter[str]]:
        """Validate and write the file batch by batch, keeping the key hashes of the good rows.

        Returns rows read, loaded and rejected, and the rejected rows by reason.
        """
        params = self.query.parameters(self.tokeniser)
        total = row_count(self.source)
        rows_in = loaded = rejected = 0
        reasons: Counter[str] = Counter()
        batches = read_batches(self.source, self.table, encoding=self.file_encoding,
                               batch_rows=self.batch_rows)
        for batch in _read_ahead(batches):
            # DuckDB reads the batch and the checked batch from these two locals by their names
            # (a replacement scan). Registering them instead would keep every batch alive until
            # the file's transaction commits (duckdb-python issue 469): a month's file in memory.
            _hospital_sdk_ingest_batch = batch  # noqa: F841 - read by name in rows_sql
            checked = duck.execute(self.query.rows_sql, params).to_arrow_table(CHUNK_ROWS)
            _hospital_sdk_ingest_checked = checked  # noqa: F841 - read by name below
            loaded += int(duck.execute(*self._rows_insert()).fetchone()[0])
            bad = dict(duck.execute(
                f"SELECT {PROBLEMS}[1].reason, count(*) FROM {_CHECKED} WHERE NOT {_GOOD} "
                "GROUP BY ALL").fetchall())
            if bad:
                reasons.update(bad)
                rejected += int(duck.execute(*self._rejects_insert(
                    f"SELECT {ROW_NUMBER}, {PROBLEMS}, {RECORD} FROM {_CHECKED} "
                    f"WHERE NOT {_GOOD}")).fetchone()[0])
            into = (f"INSERT INTO {_KEYS}" if rows_in
                    else f"CREATE OR REPLACE TEMP TABLE {_KEYS} AS")
            duck.execute(f"{into} SELECT {ROW_NUMBER}, {KEY_HASH} FROM {_CHECKED} "
                         f"WHERE {_GOOD}")
            del _hospital_sdk_ingest_batch, _hospital_sdk_ingest_checked, checked
            rows_in += batch.num_rows
            if self.progress is not None:
                self.progress(self.source.name, rows_in, total)
        return rows_in, loaded, rejected, reasons

    def _reject_duplicates(self, duck: duckdb.DuckDBPyConnection) -> tuple[int, Counter[str]]:
        """Move the loaded rows whose key repeats to the rejects; return their count by reason."""
        name = self.source.name
        duck.execute(f"CREATE OR REPLACE TEMP TABLE {_DUPLICATES} AS {self.query.duplicates_sql}",
                     {"source_file": name})
        reasons = Counter(dict(duck.execute(f"SELECT {PROBLEMS}[1].reason, count(*) FROM "
                                            f"{_DUPLICATES} GROUP BY ALL").fetchall()))
        if reasons:
            duck.execute(*self._rejects_insert(
                f"SELECT d.{ROW_NUMBER}, d.{PROBLEMS}, {self.query.stored_record} AS {RECORD} "
                f"FROM {self.target} JOIN {_DUPLICATES} d USING ({ROW_NUMBER}) "
                "WHERE _source_file = $source_file"))
            duck.execute(f"DELETE FROM {self.target} WHERE _source_file = ? AND {ROW_NUMBER} IN "
                         f"(SELECT {ROW_NUMBER} FROM {_DUPLICATES})", [name])
        duck.execute(f"DROP TABLE {_DUPLICATES}")
        return sum(reasons.values()), reasons

    def _rows_insert(self) -> tuple[str, dict[str, object]]:
        """The statement inserting the checked batch's good rows, and its parameters."""
        cols = ", ".join(f'"{c.stored_name}"' for c in self.table.columns)
        return (f"INSERT INTO {self.target} ({cols}, _load_id, _source_file, _source_row) "
                f"SELECT {cols}, $load_id, $source_file, {ROW_NUMBER} FROM {_CHECKED} "
                f"WHERE {_GOOD}", {"load_id": self.load_id, "source_file": self.source.name})

    def _rejects_insert(self, rejected: str) -> tuple[str, dict[str, object]]:
        """The statement inserting ``rejected`` rows (``_source_row, _problems, _record``) into
        the rejects, and its parameters (run by the caller: ``rejected`` may read a local)."""
        return (f"INSERT INTO lake.{LAYER}.{REJECTS} (load_id, table_name, source_file, "
                "source_row, field, reason, problems, record, rejected_at) "
                f"SELECT $load_id, $table_name, $source_file, {ROW_NUMBER}, {PROBLEMS}[1].field, "
                f"{PROBLEMS}[1].reason, to_json({PROBLEMS})::VARCHAR, {RECORD}, now() "
                f"FROM ({rejected})",
                {"load_id": self.load_id, "table_name": self.table.name,
                 "source_file": self.source.name})

    def _previous(self, duck: duckdb.DuckDBPyConnection) -> FileLoad | None:
        """The current load of this file (its latest ``load_batches`` row), if any."""
        names = ", ".join(BATCHES_SCHEMA.names)
        row = duck.execute(
            f"SELECT {names} FROM lake.{LAYER}.{BATCHES} WHERE table_name = ? AND "
            "source_file = ? ORDER BY finished_at DESC LIMIT 1",
            [self.table.name, self.source.name]).fetchone()
        return None if row is None else FileLoad(*row)

    def _unchanged(self, previous: FileLoad, started: datetime) -> FileLoad:
        if self.progress is not None:
            self.progress(self.source.name, previous.rows_in, previous.rows_in)
        return FileLoad(previous.load_id, previous.table_name, previous.source_file,
                        previous.file_sha256, previous.encoding, previous.rows_in,
                        previous.rows_loaded, previous.rows_rejected, started, _now(),
                        "unchanged")


def _read_ahead(batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """Read the next batch in a background thread while the current one is validated.

    pyarrow and DuckDB both release the GIL, so reading and validating overlap.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="hospital_sdk-read") as pool:
        pending = pool.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = pool.submit(next, batches, None)
            yield batch


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _default_contract() -> Contract:
    from hospital_sdk.model import CONTRACT

    return CONTRACT
