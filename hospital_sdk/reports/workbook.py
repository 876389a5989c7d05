"""Excel workbooks from pandas frames, byte-for-byte reproducible.

A workbook is a list of :class:`Sheet` (a name, a frame, number formats per column). Each sheet
has one header row of column names, then one row per frame row; the header is frozen and
filterable, column widths follow the content (a Chinese character counts two). An empty frame
gives a sheet whose second row says so, rather than a blank sheet or a crash.

Cells are written by type, never guessed from text: a reason that starts with ``=`` stays text
and never becomes a formula; missing values (``None``, ``NaN``, ``pd.NA``, ``NaT``) are empty
cells; dates get a date format. The workbook is built in memory with fixed document properties
(the creation date is a parameter, 1980-01-01 by default, the date Excel itself stamps on the
parts of the zip), so the same sheets give the same bytes.

Examples
--------
>>> import pandas as pd
>>> from hospital_sdk.reports.workbook import Sheet, workbook_bytes
>>> frame = pd.DataFrame({"dept_id": ["D01"], "bed_days": [15], "discharges": [2]})
>>> data = workbook_bytes([Sheet("by_department", frame)], title="demo")
>>> data[:2], data == workbook_bytes([Sheet("by_department", frame)], title="demo")
(b'PK', True)
"""

from __future__ import annotations

import decimal
import io
import math
import numbers
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from hospital_sdk.errors import ReportError
from hospital_sdk.reports.files import WrittenFile, write_atomic
from hospital_sdk.reports.inputs import refuse_patient_identifiers

NO_DATA = "no data / 无数据"
"""What an empty sheet says in its first data cell."""
DEFAULT_CREATED = datetime(1980, 1, 1)
"""The creation date stamped in a workbook when none is passed (keeps the bytes reproducible)."""
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
_FORBIDDEN_IN_SHEET_NAME = set("[]:*?/\\")
_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True, eq=False)
class Sheet:
    """One worksheet: a frame under a header row of its column names.

    Attributes
    ----------
    name
        Sheet name: 1–31 characters, none of ``[]:*?/\\``, unique in its workbook.
    frame
        The rows to write; the index is not written.
    formats
        Excel number format per column name, e.g. ``{"rate": "0.00%", "month": "yyyy-mm"}``.
        Date columns default to ``yyyy-mm-dd``; other columns to Excel's General.
    empty_message
        What the first data cell says when ``frame`` has no rows.
    """

    name: str
    frame: pd.DataFrame
    formats: Mapping[str, str] = field(default_factory=dict)
    empty_message: str = NO_DATA


def glossary_sheet(rows: Iterable[tuple[str, str, str]], name: str = "README") -> Sheet:
    """A sheet explaining a report: one row per term, with its meaning in Chinese and English.

    Examples
    --------
    >>> s = glossary_sheet([("failed", "失败", "rate above threshold")])
    >>> s.name, list(s.frame.columns), s.frame.iloc[0].tolist()
    ('README', ['term', '中文', 'English'], ['failed', '失败', 'rate above threshold'])
    """
    return Sheet(name, pd.DataFrame(list(rows), columns=["term", "中文", "English"]))


def check_sheet_names(names: Sequence[str]) -> None:
    """Raise :class:`~hospital_sdk.errors.ReportError` unless every name is a valid, unique
    Excel sheet name.

    Examples
    --------
    >>> check_sheet_names(["summary", "all_results"])
    >>> check_sheet_names(["summary", "Summary"])
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: sheet name 'Summary' is used twice (Excel ignores case)
    """
    seen: set[str] = set()
    for name in names:
        bad = sorted(_FORBIDDEN_IN_SHEET_NAME & set(name))
        if not name or len(name) > 31 or bad or name.startswith("'") or name.endswith("'"):
            why = f"contains {''.join(bad)!r}" if bad else "must have 1 to 31 characters " \
                "and not start or end with an apostrophe"
            raise ReportError(f"sheet name {name!r} is not allowed by Excel: {why}")
        if name.lower() in seen:
            raise ReportError(f"sheet name {name!r} is used twice (Excel ignores case)")
        seen.add(name.lower())


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return False


def _display_width(value: Any) -> int:
    """Characters a cell needs, counting East Asian wide characters twice."""
    if _is_missing(value):
        return 0
    if isinstance(value, datetime | date | np.datetime64):
        return 16 if isinstance(value, datetime) and value.time() != datetime.min.time() else 10
    if isinstance(value, float | np.floating):
        text = f"{value:.6g}"
    else:
        text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Writer:
    """Writes one sheet's cells by type, with cached formats."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self._formats: dict[tuple[str, bool], Any] = {}
        self.header = book.add_format({"bold": True, "bottom": 1, "bg_color": "#E8EEF4",
                                       "text_wrap": False})

    def fmt(self, num_format: str | None) -> Any:
        if num_format is None:
            return None
        key = (num_format, False)
        if key not in self._formats:
            self._formats[key] = self.book.add_format({"num_format": num_format})
        return self._formats[key]

    def cell(self, ws: Any, row: int, col: int, value: Any, num_format: str | None) -> None:
        if _is_missing(value):
            return
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool):
            ws.write_boolean(row, col, value, self.fmt(num_format))
        elif isinstance(value, datetime | date):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)
            default = _DATETIME_FORMAT if (isinstance(value, datetime)
                                           and value.time() != datetime.min.time()) \
                else _DATE_FORMAT
            ws.write_datetime(row, col, value, self.fmt(num_format or default))
        elif isinstance(value, numbers.Real | decimal.Decimal):
            number = float(value)
            if math.isinf(number):
                ws.write_string(row, col, "inf" if number > 0 else "-inf")
            else:
                ws.write_number(row, col, number, self.fmt(num_format))
        else:
            ws.write_string(row, col, str(value), self.fmt(num_format))


def _write_sheet(writer: _Writer, sheet: Sheet) -> None:
    frame = sheet.frame
    refuse_patient_identifiers(frame.columns, where=f"sheet {sheet.name!r}")
    n_rows, n_cols = frame.shape
    if n_rows + 2 > MAX_ROWS or n_cols > MAX_COLUMNS:
        raise ReportError(f"sheet {sheet.name!r} has {n_rows} rows and {n_cols} columns; an "
                          f"Excel sheet holds at most {MAX_ROWS - 1} rows under its header and "
                          f"{MAX_COLUMNS} columns")
    unknown = sorted(set(sheet.formats) - {str(c) for c in frame.columns})
    if unknown:
        raise ReportError(f"sheet {sheet.name!r}: formats given for missing column(s) {unknown}")
    ws = writer.book.add_worksheet(sheet.name)
    headers = [str(c) for c in frame.columns]
    widths = [_display_width(h) for h in headers]
    for c, h in enumerate(headers):
        ws.write_string(0, c, h, writer.header)
    if n_cols:
        ws.freeze_panes(1, 0)
    if n_rows == 0:
        ws.write_string(1, 0, sheet.empty_message)
        if widths:
            widths[0] = max(widths[0], _display_width(sheet.empty_message))
    else:
        col_formats = [sheet.formats.get(h) for h in headers]
        for r, values in enumerate(frame.itertuples(index=False, name=None), start=1):
            for c, value in enumerate(values):
                writer.cell(ws, r, c, value, col_formats[c])
                w = _display_width(value)
                if w > widths[c]:
                    widths[c] = w
        ws.autofilter(0, 0, n_rows, n_cols - 1)
    for c, w in enumerate(widths):
        ws.set_column(c, c, float(min(max(w + 2, 8), 60)))


def workbook_bytes(sheets: Sequence[Sheet], *, title: str = "",
                   created: datetime | None = None) -> bytes:
    """The bytes of an ``.xlsx`` file holding ``sheets`` in order.

    Parameters
    ----------
    sheets
        At least one sheet; names valid and unique (see :func:`check_sheet_names`).
    title
        Document title (File › Properties).
    created
        Creation date stamped in the document properties; ``None`` means
        :data:`DEFAULT_CREATED`, so the same sheets give the same bytes.

    Raises
    ------
    ReportError
        No sheet, a bad sheet name, a sheet over Excel's size limits, a format for a column
        that is not there, or a column that identifies a patient.

    Examples
    --------
    >>> import pandas as pd
    >>> workbook_bytes([Sheet("x", pd.DataFrame({"medical_record_number": ["A1"]}))])
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: sheet 'x' has patient identifier column(s) [...]: ...
    """
    if not sheets:
        raise ReportError("a workbook needs at least one sheet")
    check_sheet_names([s.name for s in sheets])
    for s in sheets:  # refuse before building anything
        refuse_patient_identifiers(s.frame.columns, where=f"sheet {s.name!r}")
    stamp = created or DEFAULT_CREATED
    if stamp.tzinfo is not None:
        stamp = stamp.replace(tzinfo=None)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"title": title, "author": "hospital_sdk", "company": "",
                         "created": stamp})
    writer = _Writer(book)
    try:
        for s in sheets:
            _write_sheet(writer, s)
    finally:
        book.close()
    return buffer.getvalue()


def write_workbook(path: str | os.PathLike[str], sheets: Sequence[Sheet], *, title: str = "",
                   created: datetime | None = None) -> WrittenFile:
    """Write :func:`workbook_bytes` of ``sheets`` to ``path`` atomically.

    Examples
    --------
    >>> import tempfile, zipfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = write_workbook(Path(tmp) / "empty.xlsx", [Sheet("summary", pd.DataFrame())])
    ...     parts = zipfile.ZipFile(f.path).namelist()
    >>> "xl/worksheets/sheet1.xml" in parts
    True
    """
    return write_atomic(path, workbook_bytes(sheets, title=title, created=created))
