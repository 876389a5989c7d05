"""Reported-indicator template files: the xlsx workbook and its CSV twin, written and read back.

Writing uses xlsxwriter; reading uses only the standard library (``zipfile`` and ElementTree),
because the environment has no xlsx reader (no openpyxl, so no ``pandas.read_excel``). The
reader knows exactly what a filled template needs, not the whole of Office Open XML:

- text from shared strings (rich-text runs joined, phonetic guides left out), inline strings and
  formula string results; numbers; booleans; error values as their text (``#DIV/0!``);
- a number in a cell formatted as a percentage comes back as text ``"12.5%"`` (Excel stores a
  typed ``12.5%`` as ``0.125``), a number formatted as a date as ``"2024-03-01"``;
- a formula cell gives its cached result, or ``"=<formula>"`` when the file has none, so it is
  rejected loudly rather than read as empty.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from hospital_sdk.indicators.reported import ReportedRule
>>> grade = ReportedRule("grade", "", allowed=("A", "B"))
>>> data = template_bytes(["id", "value"], [["a", None], ["b", None]], [(grade, [0, 1])], "2024")
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "t.xlsx"
...     _ = path.write_bytes(data)
...     rows = read_rows(path)
>>> rows
[(1, ['id', 'value']), (2, ['a']), (3, ['b'])]
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import xlsxwriter

from hospital_sdk.errors import ReportedValueError
from hospital_sdk.store.files import replace_file

if TYPE_CHECKING:  # pragma: no cover
    from hospital_sdk.indicators.reported import ReportedRule

DATA_SHEET = "data"
"""Name of the sheet holding one row per institution, period and indicator."""
INSTRUCTIONS_SHEET = "instructions"
"""Name of the sheet explaining how to fill the template (Chinese and English)."""
INPUT_COLUMNS = ("value", "note", "entered_by")
"""Columns the person filling the template writes in (shaded)."""
CREATED = datetime(1980, 1, 1)
"""Creation date stamped in every template, so the same template gives the same bytes."""
MAX_PART_BYTES = 256 << 20
"""Largest uncompressed workbook part the reader accepts (a template is far smaller)."""

_M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")
_DATE_IDS = {*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)}
_PERCENT_IDS = {9, 10}
_TYPE_ZH = {"number": "数值", "integer": "整数", "percent": "百分比", "level": "等级",
            "grade": "评级", "boolean": "是否", "text": "文本"}


def number_text(x: float) -> str:
    """A number as people write it: ``120``, ``12.5``, ``1000000`` (never ``1e+06``).

    >>> number_text(120.0), number_text(12.5), number_text(1e6), number_text(1 / 3)
    ('120', '12.5', '1000000', '0.333333333333333')
    """
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:.15g}"


def template_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]],
                   rules: Sequence[tuple[ReportedRule, Sequence[int]]], period: str) -> bytes:
    """The bytes of a template workbook.

    Parameters
    ----------
    header
        Column names of the data sheet (one is ``value``); the header row is frozen.
    rows
        Cell values (``str``, ``int``, ``float`` or ``None`` for empty) under the header.
    rules
        Each rule with the 0-based indexes of the ``rows`` whose ``value`` cell it checks.
    period
        The template's period, named on the instructions sheet.

    Raises
    ------
    ReportedValueError
        xlsxwriter refuses a validation (e.g. a list over Excel's 255 characters).
    """
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"title": "reported indicators / 上报指标填报", "author": "hospital_sdk",
                         "created": CREATED})
    head = book.add_format({"bold": True, "bottom": 1, "bg_color": "#E8EEF4"})
    text = book.add_format({"num_format": "@"})
    entry = book.add_format({"bg_color": "#FFF8DC"})
    value_col = list(header).index("value")
    try:
        ws = book.add_worksheet(DATA_SHEET)
        for c, name in enumerate(header):
            ws.write_string(0, c, name, head)
            width = max([len(name), *(_width(r[c]) for r in rows)]) + 2
            # typed-over ids stay text (2024-03 must not become a date)
            fmt = entry if name in INPUT_COLUMNS else None if c > value_col else text
            ws.set_column(c, c, float(min(max(width, 10), 50)), fmt)
        for r, values in enumerate(rows, start=1):
            for c, v in enumerate(values):
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                elif v is not None:
                    ws.write_number(r, c, float(v))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, len(rows), len(header) - 1)
        letter = xlsxwriter.utility.xl_col_to_name(value_col)
        for rule, indexes in rules:
            options = _validation(rule)
            cells = " ".join(f"{letter}{a + 2}" if a == b else f"{letter}{a + 2}:{letter}{b + 2}"
                             for a, b in _runs(indexes))
            first = f"{letter}{indexes[0] + 2}"
            if ws.data_validation(first, {**options, "multi_range": cells}) != 0:
                raise ReportedValueError(f"xlsxwriter refused the data validation {options}")
        notes = book.add_worksheet(INSTRUCTIONS_SHEET)
        for c, name in enumerate(("中文", "English")):
            notes.write_string(0, c, name, head)
            notes.set_column(c, c, 70.0, book.add_format({"text_wrap": True}))
        for r, (zh, en) in enumerate(_instructions(period), start=1):
            notes.write_string(r, 0, zh)
            notes.write_string(r, 1, en)
    finally:
        book.close()
    return buffer.getvalue()


def _runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending ``indexes`` as ``(first, last)`` runs of consecutive numbers.

    >>> _runs([0, 1, 2, 5, 7, 8])
    [(0, 2), (5, 5), (7, 8)]
    """
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _hint(rule: ReportedRule) -> str:
    """What a value must be, in Chinese and English (for Excel's input and error messages)."""
    lo, hi, unit = rule.minimum, rule.maximum, f" {rule.unit}" if rule.unit else ""
    if rule.value_type in ("grade", "boolean"):
        return f"选择 / choose: {' '.join(rule.allowed)}"
    if rule.value_type == "text":
        return "文本 / text"
    span = (f"{number_text(lo)} – {number_text(hi)}" if lo is not None and hi is not None
            else f"≥ {number_text(lo)}" if lo is not None
            else f"≤ {number_text(hi)}" if hi is not None else "")
    whole = "整数 / whole number" if rule.value_type in ("integer", "level") else "数 / number"
    extra = "; 12.5 = 12.5%" if rule.value_type == "percent" else ""
    return f"{whole} {span}{unit}{extra}".replace("  ", " ").strip()


def _validation(rule: ReportedRule) -> dict[str, Any]:
    """xlsxwriter ``data_validation`` options for a value cell of ``rule``."""
    hint = _hint(rule)
    base = {"input_title": f"{_TYPE_ZH[rule.value_type]} / {rule.value_type}",
            "input_message": hint, "error_title": "不符合要求 / not allowed",
            "error_message": hint}
    if rule.value_type in ("grade", "boolean"):
        return {**base, "validate": "list", "source": list(rule.allowed)}
    lo, hi = rule.minimum, rule.maximum
    if rule.value_type == "text" or (lo is None and hi is None):
        return {**base, "validate": "any"}
    kind = "whole" if rule.value_type in ("integer", "level") else "decimal"
    if lo is not None and hi is not None:
        return {**base, "validate": kind, "criteria": "between", "minimum": lo, "maximum": hi}
    return {**base, "validate": kind, "criteria": ">=" if lo is not None else "<=",
            "value": lo if lo is not None else hi}


_INSTRUCTIONS = (
    (("每行为一个机构、一个周期、一个指标。只在 value 列填写数值；note（备注）与 entered_by"
      "（填报人）可选。"),
     ("One row per institution, period and indicator. Write the value in the value column; "
      "note and entered_by (who entered it) are optional.")),
    ("请勿修改表头及 institution_id、period、indicator_id、version 列，请勿增删列。",
     ("Do not change the header, the institution_id, period, indicator_id and version "
      "columns, or add or remove columns.")),
    ("数值须在 minimum 与 maximum 之间（含两端）。整数（integer）与等级（level）填写整数。",
     "Values lie between minimum and maximum inclusive; integer and level values are whole."),
    ("百分比（percent）填写百分数：12.5 或 12.5% 都表示 12.5%，不要填写 0.125。",
     "Percent: 12.5 and 12.5% both mean 12.5 %; do not write 0.125."),
    ("评级（grade）与是否（boolean）从下拉列表中选择（见 allowed 列）。",
     "Grades and yes/no items: choose from the drop-down (see the allowed column)."),
    ("value 留空表示未填报：该行既不会被采用，也不会被拒绝。",
     "A blank value means not entered: the row is neither accepted nor rejected."),
    ("可另存为 CSV（UTF-8 或 GB18030 编码）提交。",
     "The form may be saved and submitted as CSV (UTF-8 or GB18030)."),
    ("更正后重新提交：以前的提交会保留，以最新一次提交为准。",
     ("To correct a value, submit the corrected file: earlier submissions are kept and the "
      "latest one counts.")),
)


def _instructions(period: str) -> list[tuple[str, str]]:
    return [(f"填报周期：{period}。本表用于填报无法从病历数据计算的上报类指标。",
             (f"Period: {period}. Enter the reported indicators: values no patient record "
             "holds.")), *_INSTRUCTIONS]


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def write_files(stem: Path, formats: Sequence[str], header: Sequence[str],
                rows: Sequence[Sequence[Any]], rules: Sequence[tuple[ReportedRule, Sequence[int]]],
                period: str) -> list[Path]:
    """Write ``<stem>.xlsx`` (:func:`template_bytes`) and/or ``<stem>.csv`` (UTF-8 with BOM, so
    Excel in China opens it; numbers as people write them), each atomically."""
    written = []
    for fmt in formats:
        if fmt == "xlsx":
            data = template_bytes(header, rows, rules, period)
        else:
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows([["" if v is None else number_text(v) if isinstance(v, float) else v
                               for v in row] for row in rows])
            data = text.getvalue().encode("utf-8-sig")
        written.append(_write_atomic(stem.with_name(f"{stem.name}.{fmt}"), data))
    return written


def read_file(path: Path) -> tuple[list[tuple[int, list[Any]]], str]:
    """Rows of a filled template (:func:`read_rows` for xlsx, CSV records for csv) and the
    hex SHA-256 of the bytes they were read from.

    A CSV is UTF-8 (with or without BOM) or else GB18030; record *n* is row *n*, as Excel shows
    it; records with every cell blank are left out.

    Raises
    ------
    ReportedValueError
        The file cannot be read, has another suffix, or does not decode (names the file).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportedValueError(f"cannot read {path}: {exc}") from exc
    sha256 = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_rows(path, data=data), sha256
    if suffix != ".csv":
        raise ReportedValueError(f"{path}: a filled template is an .xlsx or .csv file, "
                                 f"not {suffix or 'a file without suffix'}")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            error = exc
    else:
        raise ReportedValueError(f"{path}: not UTF-8 or GB18030 text (byte {error.start} does "
                                 "not decode); save it as CSV UTF-8")
    records = csv.reader(io.StringIO(text, newline=""))
    try:
        return [(n, cells) for n, cells in enumerate(records, start=1)
                if any(c.strip() for c in cells)], sha256
    except csv.Error as exc:
        raise ReportedValueError(f"{path}: cannot read it as CSV (line "
                                 f"{records.line_num}): {exc}") from exc


def _write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` so readers see the old file or the new one, never a part."""
    try:
        return replace_file(path, data)
    except OSError as exc:
        raise ReportedValueError(f"cannot write the template {str(path)!r}: {exc}") from exc


def read_rows(path: Path, sheet: str = DATA_SHEET, *,
              data: bytes | None = None) -> list[tuple[int, list[Any]]]:
    """Rows of sheet ``sheet`` (else the first sheet) as ``(row number, cells)``.

    Row numbers are the spreadsheet's (1-based); rows without any cell are left out, trailing
    empty cells are cut. A cell is ``str``, ``float``, ``bool`` or ``None``. ``data``, when
    given, is the file's content already read (``path`` then only names it in messages).

    Raises
    ------
    ReportedValueError
        The file is not an xlsx workbook or a part of it cannot be read (names the file).
    """
    try:
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as z:
            return _read(z, sheet)
    except (zipfile.BadZipFile, KeyError, IndexError, ElementTree.ParseError, ValueError) as exc:
        raise ReportedValueError(f"{path}: cannot read it as an xlsx workbook: {exc}") from exc


def _xml(z: zipfile.ZipFile, part: str) -> ElementTree.Element:
    if z.getinfo(part).file_size > MAX_PART_BYTES:
        raise ValueError(f"part {part} is larger than {MAX_PART_BYTES >> 20} MB")
    return ElementTree.fromstring(z.read(part))


def _read(z: zipfile.ZipFile, wanted: str) -> list[tuple[int, list[Any]]]:
    book = _xml(z, "xl/workbook.xml")
    pr = book.find(f"{_M}workbookPr")
    epoch = datetime(1904, 1, 1) if pr is not None and pr.get("date1904") in ("1", "true") \
        else datetime(1899, 12, 30)
    rels = _xml(z, "xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_REL}Relationship")}
    sheets = [(s.get("name", ""), targets[s.get(f"{_R}id")])
              for s in book.iter(f"{_M}sheet")]
    if not sheets:
        raise ValueError("the workbook has no sheet")
    target = next((t for n, t in sheets if n.lower() == wanted.lower()), sheets[0][1])
    part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    names = set(z.namelist())
    shared = [_si_text(si) for si in _xml(z, "xl/sharedStrings.xml").iter(f"{_M}si")] \
        if "xl/sharedStrings.xml" in names else []
    kinds = _style_kinds(_xml(z, "xl/styles.xml")) if "xl/styles.xml" in names else []
    out: list[tuple[int, list[Any]]] = []
    row_number = 0
    for row in _xml(z, part).iter(f"{_M}row"):
        row_number = int(row.get("r") or row_number + 1)
        cells: dict[int, Any] = {}
        col = -1
        for c in row.iter(f"{_M}c"):
            ref = _REF.match(c.get("r") or "")
            col = _column(ref.group(1)) if ref else col + 1
            style = int(c.get("s") or 0)
            value = _cell(c, shared, kinds[style] if style < len(kinds) else None, epoch)
            if value is not None:
                cells[col] = value
        if cells:
            out.append((row_number, [cells.get(i) for i in range(max(cells) + 1)]))
    return out


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _si_text(si: ElementTree.Element) -> str:
    """Text of a shared string: its own ``t`` or its runs' ``r/t``, never phonetic ``rPh``."""
    return "".join(t.text or "" for t in [*si.findall(f"{_M}t"), *si.findall(f"{_M}r/{_M}t")])


def _style_kinds(styles: ElementTree.Element) -> list[str | None]:
    """``"percent"``, ``"date"`` or None for each cell style index."""
    custom = {int(f.get("numFmtId", -1)): f.get("formatCode", "")
              for f in styles.iter(f"{_M}numFmt")}
    xfs = styles.find(f"{_M}cellXfs")
    kinds: list[str | None] = []
    for xf in [] if xfs is None else xfs.findall(f"{_M}xf"):
        fid = int(xf.get("numFmtId") or 0)
        code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", custom.get(fid, ""))
        if fid in _PERCENT_IDS or "%" in code:
            kinds.append("percent")
        elif fid in _DATE_IDS or (fid in custom and re.search(r"[ymdhs]", code, re.IGNORECASE)):
            kinds.append("date")
        else:
            kinds.append(None)
    return kinds


def _cell(c: ElementTree.Element, shared: list[str], kind: str | None, epoch: datetime) -> Any:
    t, v, f = c.get("t", "n"), c.find(f"{_M}v"), c.find(f"{_M}f")
    if t == "inlineStr":
        node = c.find(f"{_M}is")
        return None if node is None else _si_text(node)
    if v is None or v.text is None:
        return f"={f.text or ''}" if f is not None else None
    if t == "s":
        return shared[int(v.text)]
    if t == "b":
        return v.text.strip() in ("1", "true")
    if t in ("str", "e", "d"):
        return v.text
    number = float(v.text)
    if kind == "percent":
        return f"{round(number * 100, 9):.15g}%"
    if kind == "date":
        moment = epoch + timedelta(days=number)
        return moment.date().isoformat() if moment.time() == datetime.min.time() \
            else moment.isoformat(sep=" ")
    return number
