"""Writing generated tables as source files: Parquet or CSV (UTF-8, GBK or GB18030), atomically.

A file is written under a temporary name in its own folder (``.<file>.<random>.tmp``, which the
loader ignores because it starts with ``.``) and moved into place with :func:`os.replace`, so a
reader sees either the previous file or the complete new one, never a half-written file; a failed
write removes its temporary file and leaves any previous file untouched.

Parquet bytes are a pure function of the table (and the pyarrow version): fixed zstd level, fixed
row-group size, Parquet format 2.6, no schema metadata carried over from pandas or elsewhere.

CSV files have a header line and render values the way the loader reads them back:

============  ==============================================================
type          rendering
============  ==============================================================
timestamp     ``YYYY-MM-DD HH:MM:SS`` (sub-second parts are truncated)
date          ``YYYY-MM-DD``
boolean       ``true`` / ``false``
decimal       plain number with its scale, e.g. ``12.50``, ``-3.00``
string        double-quoted (``"`` doubled inside); an empty string is ``""``
null          nothing between the delimiters
============  ==============================================================

Examples
--------
>>> import tempfile, pyarrow as pa
>>> folder = Path(tempfile.mkdtemp())
>>> t = pa.table({"name": ["阑尾炎", None], "ok": [True, False]})
>>> [p.name for p in write_table(t, folder, "demo", fmt="csv", encoding="gbk")]
['demo.csv']
>>> (folder / "demo.csv").read_bytes().decode("gbk")
'"name","ok"\\n"阑尾炎",true\\n,false\\n'
>>> [p.relative_to(folder).as_posix() for p in write_table(t, folder, "demo", fmt="parquet",
...                                                          part="2024-01")]
['demo/2024-01.parquet']
"""

from __future__ import annotations

import codecs
import io
import os
import re
import secrets
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hospital_sdk.errors import GeneratorError

Format = Literal["parquet", "csv"]

PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 3
PARQUET_ROW_GROUP_ROWS = 1_000_000
"""Rows per Parquet row group (fixed, so the bytes do not depend on how the table is chunked)."""
CSV_BATCH_ROWS = 200_000
"""Rows rendered at a time when a CSV file is transcoded to a non-UTF-8 encoding."""

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-.]*$")


def write_table(table: pa.Table, folder: Path, name: str, *, fmt: Format,
                encoding: str = "utf-8", part: str | None = None) -> list[Path]:
    """Write ``table`` as ``<folder>/<name>.<fmt>``, or ``<folder>/<name>/<part>.<fmt>``.

    Parameters
    ----------
    table
        The rows to write, with the column names and types they should have in the file.
    folder
        Output folder; created when missing.
    name
        File stem, usually the contract table name.
    fmt
        ``"parquet"`` or ``"csv"``.
    encoding
        Text encoding of a CSV file: ``"utf-8"`` (default), ``"gbk"`` or ``"gb18030"`` (any Python
        codec is accepted). Parquet files are always UTF-8 inside.
    part
        When given, the file is one part of a table split over several files, written inside a
        folder named after the table.

    Returns
    -------
    list of Path
        The files written (one).

    Raises
    ------
    GeneratorError
        For an unknown format or encoding, an unsafe name, or a value the encoding cannot
        represent (naming table, column, row and character); nothing is left behind in that case.
    """
    if fmt not in ("parquet", "csv"):
        raise GeneratorError(f"{name}: unknown file format {fmt!r}; expected 'parquet' or 'csv'")
    codec = _codec_name(encoding, name)
    if fmt == "parquet" and codec != "utf-8":
        raise GeneratorError(f"{name}: encoding {encoding!r} applies to CSV only; Parquet text is "
                             "always UTF-8")
    for label, value in (("name", name), ("part", part)):
        if value is not None and not _SAFE_NAME.match(value):
            raise GeneratorError(f"{label} {value!r} is not a safe file name (letters, digits, "
                                 "'_', '-', '.'; no path separators)")
    base = Path(folder) / name if part is not None else Path(folder)
    target = base / f"{part if part is not None else name}.{fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        if fmt == "parquet":
            _write_parquet(table, tmp)
        else:
            _write_csv(table, tmp, codec, name)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return [target]


def _codec_name(encoding: str, name: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise GeneratorError(f"{name}: unknown encoding {encoding!r}") from None


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Write deterministic Parquet bytes to ``path``."""
    pq.write_table(
        table.replace_schema_metadata(None), path,
        compression=PARQUET_COMPRESSION, compression_level=PARQUET_COMPRESSION_LEVEL,
        row_group_size=PARQUET_ROW_GROUP_ROWS, version="2.6", use_dictionary=True,
        write_statistics=True, store_schema=True,
    )


def csv_ready(table: pa.Table) -> pa.Table:
    """The table with every column in a type whose CSV rendering follows the module's rules.

    Timestamps become second-precision, dictionary columns their value type; other types already
    render as required.

    >>> import datetime
    >>> t = pa.table({"t": pa.array([datetime.datetime(2024, 1, 2, 3, 4, 5, 678)])})
    >>> csv_ready(t).schema.field("t").type
    TimestampType(timestamp[s])
    """
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        kind = field.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        if pa.types.is_timestamp(kind) and kind.unit != "s":
            column = column.cast(pa.timestamp("s", tz=kind.tz), safe=False)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _write_csv(table: pa.Table, path: Path, codec: str, name: str) -> None:
    """Write ``table`` as CSV in ``codec``; non-UTF-8 text is transcoded batch by batch."""
    ready = csv_ready(table)
    if codec == "utf-8":
        with open(path, "xb") as f:
            pacsv.write_csv(ready, f)
        return
    with open(path, "xb") as f:
        for start in range(0, max(ready.num_rows, 1), CSV_BATCH_ROWS):
            chunk = ready.slice(start, CSV_BATCH_ROWS)
            buffer = io.BytesIO()
            pacsv.write_csv(chunk, buffer, pacsv.WriteOptions(include_header=start == 0))
            text = buffer.getvalue().decode("utf-8")
            try:
                f.write(text.encode(codec))
            except UnicodeEncodeError as exc:
                raise GeneratorError(_unencodable(chunk, start, codec, name, exc)) from None


def _unencodable(chunk: pa.Table, start: int, codec: str, name: str,
                 exc: UnicodeEncodeError) -> str:
    """The first value of ``chunk`` that ``codec`` cannot encode (slow; on errors only)."""
    for column in chunk.column_names:
        if not pa.types.is_string(chunk.schema.field(column).type) and \
                not pa.types.is_large_string(chunk.schema.field(column).type):
            continue
        for offset, value in enumerate(chunk.column(column).to_pylist()):
            if value is None:
                continue
            try:
                value.encode(codec)
            except UnicodeEncodeError as bad:
                char = bad.object[bad.start]
                return (f"table {name!r}, column {column!r}, row {start + offset} (0-based): "
                        f"character {char!r} (U+{ord(char):04X}) in {value!r} cannot be encoded "
                        f"as {codec}; write this table as UTF-8 or GB18030")
    char = exc.object[exc.start]
    return (f"table {name!r}: character {char!r} (U+{ord(char):04X}) cannot be encoded as {codec}")
