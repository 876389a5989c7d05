"""Source files: which contract table each file feeds, its encoding, and its rows as Arrow batches.

A folder of source files maps onto the contract by name:

* ``<table>.csv`` / ``<table>.parquet``;
* ``<table>_<anything>.csv|parquet`` -- the longest table name that prefixes the file name wins,
  so ``stay_diagnosis_2024-01.csv`` feeds ``stay_diagnosis``, not a table called ``stay``;
* any CSV or Parquet file (at any depth) inside a folder named ``<table>/``.

Files and folders whose name starts with ``_`` or ``.`` are ignored (the synthetic generator keeps
its ground truth in ``_truth/``), and so are the top-level :data:`ENTRY_FOLDERS` (``reported/``:
filled reported-indicator forms, read by :mod:`hospital_sdk.indicators.reported_folder`).
Anything else is an error raised before anything is loaded.

Rows are numbered from 1 in file order (``source_row``). In a CSV file the header is line 1, so the
line of a row is ``source_row + 1`` when no quoted value spans several lines.

Examples
--------
>>> table_for("stay_diagnosis_2024-01.csv", ["stay", "stay_diagnosis", "inpatient_stay"])
'stay_diagnosis'
>>> table_for("inpatient_stay/part-0.parquet", ["inpatient_stay"])
'inpatient_stay'
>>> table_for("stays.csv", ["inpatient_stay"]) is None
True
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hospital_sdk.errors import ConfigError, SourceFileError
from hospital_sdk.model.contract import Contract, Table, suggest

Format = Literal["csv", "parquet"]
FORMATS: dict[str, Format] = {".csv": "csv", ".parquet": "parquet"}
ENTRY_FOLDERS: tuple[str, ...] = ("reported",)
"""Top-level folders of a landing folder that hold entry forms, not source tables (skipped)."""
ROW_NUMBER = "_source_row"
"""Name of the 1-based row-number column added to every batch."""

CHUNK_ROWS = 131_072
"""Rows per Arrow chunk inside a batch: DuckDB scans the chunks of a batch in parallel."""
_CHUNK = 8 << 20  # bytes read at a time when hashing and decoding
_CSV_BLOCK = 16 << 20


@dataclass(frozen=True)
class SourceFile:
    """One source file and the contract table it feeds.

    Parameters
    ----------
    path
        Where the file is.
    name
        Its path relative to the loaded folder, with ``/`` separators: the file's identity in the
        lake (``_source_file``); reloading a file with the same name replaces its rows.
    table
        Name of the contract table.
    format
        ``"csv"`` or ``"parquet"``, from the file suffix.
    """

    path: Path
    name: str
    table: str
    format: Format


def table_for(name: str, table_names: Iterable[str]) -> str | None:
    """The table a file feeds, from its relative name; ``None`` when no table matches.

    A folder named after a table claims every file below it; otherwise the file stem must be a
    table name or start with ``<table>_`` (the longest such table name wins).
    """
    names = set(table_names)
    parts = PurePosixPath(name).parts
    for folder in parts[:-1]:
        if folder in names:
            return folder
    stem = PurePosixPath(name).name.split(".", 1)[0]
    matches = [t for t in names if stem == t or stem.startswith(t + "_")]
    return max(matches, key=len) if matches else None


def discover(folder: Path | str, contract: Contract) -> list[SourceFile]:
    """Every source file of ``folder``, mapped to its table, in name order.

    Raises
    ------
    SourceFileError
        If a file has an unsupported suffix or a name that maps to no source table; the message
        names the file, the nearest table name and the names expected.
    """
    root = Path(folder)
    if not root.is_dir():
        raise SourceFileError(f"{root}: not a folder of source files")
    tables = [t.name for t in contract.source_tables()]
    found: list[SourceFile] = []
    problems: list[str] = []
    for path in _walk(root):
        name = path.relative_to(root).as_posix()
        fmt = FORMATS.get(path.suffix.lower())
        table = table_for(name, tables)
        if fmt is None:
            problems.append(f"{name}: not a source file (expected .csv or .parquet)")
        elif table is None:
            stem = path.name.split(".", 1)[0]
            problems.append(f"{name}: no contract table is called {stem!r}"
                            f"{suggest(stem, tables)}")
        else:
            found.append(SourceFile(path, name, table, fmt))
    if problems:
        raise SourceFileError(
            f"{root}: cannot map these files to contract tables:\n  " + "\n  ".join(problems)
            + "\nName files <table>.csv|parquet or <table>_<part>.csv|parquet, or put them in a "
            "folder named <table>/; files and folders starting with '_' or '.' are ignored.\n"
            "Expected tables: " + ", ".join(sorted(tables)))
    return found


def _walk(root: Path) -> list[Path]:
    """Files below ``root`` in name order, skipping names that start with ``_`` or ``.`` and
    the top-level :data:`ENTRY_FOLDERS`."""
    files: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(("_", "."))
                   and not (d in ENTRY_FOLDERS and Path(folder) == root)]
        files.extend(Path(folder) / n for n in names if not n.startswith(("_", ".")))
    return sorted(files)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex (the file's fingerprint for idempotent reloads)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def detect_encoding(path: Path, encoding: str | None = None) -> str:
    """Encoding of a text file, checked over the whole file.

    Without ``encoding``: ``"utf-8-sig"`` when the file starts with a UTF-8 byte-order mark,
    ``"utf-8"`` when every byte decodes as UTF-8, else ``"gb18030"`` (a superset of GBK and GB2312).
    With ``encoding``, only that one is checked.

    Raises
    ------
    SourceFileError
        Naming the byte offset of the first byte that does not decode.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes("名称\\n阑尾炎\\n".encode("gbk"))
    >>> detect_encoding(p)
    'gb18030'
    """
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise ConfigError(f"unknown encoding {encoding!r}") from None
        offset = _first_undecodable(path, name)
        if offset is not None:
            raise SourceFileError(f"{path}: byte offset {offset} ({_bytes_at(path, offset)}) "
                                  f"does not decode as {encoding}")
        return name
    with open(path, "rb") as f:
        if f.read(3) == codecs.BOM_UTF8:
            offset = _first_undecodable(path, "utf-8")
            if offset is None:
                return "utf-8-sig"
            raise SourceFileError(f"{path}: starts with a UTF-8 byte-order mark, but byte offset "
                                  f"{offset} ({_bytes_at(path, offset)}) is not UTF-8")
    utf8 = _first_undecodable(path, "utf-8")
    if utf8 is None:
        return "utf-8"
    gb = _first_undecodable(path, "gb18030")
    if gb is None:
        return "gb18030"
    raise SourceFileError(
        f"{path}: undecodable bytes: not UTF-8 (byte offset {utf8}: {_bytes_at(path, utf8)}) and "
        f"not GB18030/GBK (byte offset {gb}: {_bytes_at(path, gb)}); re-export the file as UTF-8 "
        "or pass its encoding")


def _first_undecodable(path: Path, encoding: str) -> int | None:
    """Byte offset of the first byte of ``path`` that does not decode, or ``None``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    fed = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            pending = decoder.getstate()[0]
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:  # exc.object is pending bytes + this chunk
                return fed - len(pending) + exc.start
            if not chunk:
                return None
            fed += len(chunk)


def _bytes_at(path: Path, offset: int) -> str:
    with open(path, "rb") as f:
        f.seek(offset)
        return "bytes " + f.read(4).hex(" ")


def read_header(source: SourceFile, encoding: str | None) -> list[str]:
    """Column names of a source file, as written (surrounding blanks removed).

    Raises
    ------
    SourceFileError
        If the file is empty, not decodable in its header, or not a readable Parquet file.
    """
    if source.format == "parquet":
        return [name.strip() for name in _parquet(source).schema_arrow.names]
    return [name.strip() for name in _csv_header(source, encoding)]


def _csv_header(source: SourceFile, encoding: str | None) -> list[str]:
    """Header names exactly as written (the keys pyarrow uses), blanks included.

    Only the first line is decoded: as ``encoding``, or else as UTF-8 and then GB18030 (the whole
    file is checked later by :func:`detect_encoding`).
    """
    with open(source.path, "rb") as f:
        line = f.readline(_CHUNK)
    if not line.strip():
        raise SourceFileError(f"{source.name}: empty file; expected a header line with the "
                              "column names")
    tries = [_python_encoding(encoding)] if encoding else ["utf-8-sig", "gb18030"]
    for name in tries:
        try:
            text = line.decode(name)
            break
        except UnicodeDecodeError as exc:
            problem = exc
    else:
        raise SourceFileError(f"{source.name}: cannot read the header line as "
                              f"{' or '.join(tries)}: {problem}")
    return next(csv.reader([text.rstrip("\r\n")]))


def _python_encoding(encoding: str) -> str:
    """Codec for Python text reading: UTF-8 reads a byte-order mark if there is one."""
    return "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding


def check_columns(source: SourceFile, header: list[str], table: Table) -> None:
    """Check that a file has exactly the table's columns (in any order).

    Raises
    ------
    SourceFileError
        Listing the missing, unexpected and repeated column names.
    """
    expected = table.column_names
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if not (missing or extra or repeated):
        return
    parts = []
    if missing:
        parts.append("missing columns: " + ", ".join(missing))
    if extra:
        parts.append("unexpected columns: " + ", ".join(
            f"{c!r}{suggest(c, missing)}" for c in extra))
    if repeated:
        parts.append("repeated columns: " + ", ".join(repeated))
    raise SourceFileError(f"{source.name}: does not have the columns of table {table.name!r}: "
                          + "; ".join(parts) + ". Expected: " + ", ".join(expected))


def text_columns(source: SourceFile) -> list[str] | None:
    """Columns whose values arrive as text: ``None`` (all) for CSV, the string columns of Parquet.

    Text values are converted to the contract type and blank text counts as missing; typed
    Parquet values are only cast.
    """
    if source.format == "csv":
        return None

    def is_text(t: pa.DataType) -> bool:
        if pa.types.is_dictionary(t):
            t = t.value_type
        return pa.types.is_string(t) or pa.types.is_large_string(t)

    return [f.name.strip() for f in _parquet(source).schema_arrow if is_text(f.type)]


def row_count(source: SourceFile) -> int | None:
    """Number of data rows when the file says so without reading it (Parquet), else ``None``."""
    return _parquet(source).metadata.num_rows if source.format == "parquet" else None


def read_batches(source: SourceFile, table: Table, *, encoding: str | None,
                 batch_rows: int = 1_000_000) -> Iterator[pa.Table]:
    """The file's rows in batches of about ``batch_rows``, with columns in contract order.

    CSV values arrive as strings (empty strings as null); Parquet values keep their stored type.
    Each batch carries :data:`ROW_NUMBER`, the 1-based data row, exact across batches.

    Raises
    ------
    SourceFileError
        On a ragged CSV row (naming its line), a corrupt or truncated Parquet file, or any other
        failure to read the file.
    """
    header = read_header(source, encoding)
    check_columns(source, header, table)
    if source.format == "parquet":
        raw = _parquet_batches(source, batch_rows)
    else:
        raw = _csv_batches(source, header, encoding or "utf-8")
    names = list(table.column_names)
    first = 1
    for batch in _rebatch(raw, batch_rows):
        batch = batch.rename_columns(header).select(names)
        numbers = pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64))
        first += batch.num_rows
        yield batch.append_column(ROW_NUMBER, numbers)


def _rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Regroup record batches into tables of exactly ``rows`` rows (the last one fewer)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            table = pa.Table.from_batches(pending)
            start = 0
            while count - start >= rows:
                yield table.slice(start, rows)
                start += rows
            pending = table.slice(start).to_batches()
            count -= start
    if count:
        yield pa.Table.from_batches(pending)


def _parquet(source: SourceFile) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(source.path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceFileError(f"{source.name}: not a readable Parquet file (truncated or "
                              f"corrupt?): {exc}") from None


def _parquet_batches(source: SourceFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
    file = _parquet(source)
    try:
        # chunks smaller than a batch let DuckDB scan a batch with several threads
        yield from file.iter_batches(batch_size=min(batch_rows, CHUNK_ROWS))
    except (pa.ArrowException, OSError) as exc:
        raise SourceFileError(f"{source.name}: Parquet data cannot be read (truncated or "
                              f"corrupt?): {exc}") from None


def _csv_batches(source: SourceFile, header: list[str],
                 encoding: str) -> Iterator[pa.RecordBatch]:
    ragged: list[str] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        line = f"line {row.number}" if row.number is not None else "a line"
        ragged.append(f"{line} has {row.actual_columns} values where the header has "
                      f"{row.expected_columns}: {row.text[:200]!r}")
        return "error"

    try:
        reader = pacsv.open_csv(
            source.path,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
                block_size=_CSV_BLOCK, use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True,
                                             invalid_row_handler=on_invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types={raw: pa.string() for raw in _csv_header(source, encoding)},
                strings_can_be_null=True, null_values=[""], quoted_strings_can_be_null=True),
        )
        yield from reader
    except (pa.ArrowException, OSError, UnicodeError) as exc:
        if ragged:
            raise SourceFileError(f"{source.name}: {ragged[0]}") from None
        raise SourceFileError(f"{source.name}: cannot be read as CSV ({encoding}): {exc}") from None
