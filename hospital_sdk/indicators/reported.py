"""Reported indicators: values no patient record holds, entered through a generated template.

Finance, HR, satisfaction scores, external quality assessment, the EMR level (0–8), qualitative
items graded A/B/C/D and yes/no items are *reported*: a person types them in. Each is declared
with a :class:`ReportedRule` (type, unit, range, the period grain it is entered for), so

1. :func:`write_template` writes the form to fill (xlsx with drop-downs and range checks, and a
   CSV), one row per institution × indicator × period;
2. :func:`read_entries` reads a filled form back: every row is accepted, rejected with the field
   and the reason, or counted as not entered (blank value) — never dropped;
3. :func:`store_entries` appends the accepted rows to ``raw.reported_value``, once per file
   content; a corrected file is a new submission and the earlier one is kept;
4. :func:`latest_values` picks the latest submitted value of each institution, period,
   indicator and version.

Examples
--------
>>> rule = ReportedRule("percent", "%", minimum=0, maximum=100)
>>> rule.validate("12.5%"), rule.validate(120), rule.validate("")
((12.5, None), (None, 'value 120 is above the maximum 100 (%)'), (None, 'value is empty'))
>>> ReportedRule("level", "level", minimum=0, maximum=8).validate("5级")
(5, None)
"""

from __future__ import annotations

import math
import numbers
import os
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from hospital_sdk.errors import (
    IndicatorError,
    ReconciliationError,
    ReportedValueError,
    SpecError,
    StoreError,
)
from hospital_sdk.indicators.periods import parse_period
from hospital_sdk.indicators.reported_xlsx import number_text as _num
from hospital_sdk.indicators.reported_xlsx import read_file, write_files
from hospital_sdk.model.contract import suggest
from hospital_sdk.store.catalog import CATALOG
from hospital_sdk.store.tables import ident

if TYPE_CHECKING:  # pragma: no cover
    from hospital_sdk.store import Lakehouse

__all__ = [
    "ACCEPTED_COLUMNS", "BLANK_COLUMNS", "KEY", "REJECTED_COLUMNS", "REPORTED_SCHEMA",
    "REPORTED_TABLE", "REQUIRED_COLUMNS", "TEMPLATE_COLUMNS", "VALUE_TYPES", "ReportedIndicator",
    "ReportedLoad", "ReportedRule", "entered_period", "latest_values", "read_entries",
    "store_entries", "write_template",
]

VALUE_TYPES = ("number", "integer", "percent", "level", "grade", "boolean", "text")
"""What a reported value can be; ``percent`` is in percentage points (12.5 means 12.5 %)."""
PERIODS = ("year", "quarter", "month")
"""Period grains, written ``2024``, ``2024-Q1`` and ``2024-03``."""
NUMERIC = ("number", "integer", "percent", "level")
TEMPLATE_COLUMNS = ("institution_id", "period", "indicator_id", "version", "name_zh", "name_en",
                    "value_type", "unit", "minimum", "maximum", "allowed", "value", "note",
                    "entered_by")
"""Columns of a template, in order; the person filling it writes ``value``, ``note``,
``entered_by``. Reading needs only :data:`REQUIRED_COLUMNS`."""
REQUIRED_COLUMNS = ("institution_id", "period", "indicator_id", "version", "value")
ACCEPTED_COLUMNS = ("row", "institution_id", "period", "indicator_id", "version", "value_number",
                    "value_text", "unit", "note", "entered_by")
REJECTED_COLUMNS = ("file", "row", "field", "value", "reason")
BLANK_COLUMNS = ("row", "institution_id", "period", "indicator_id", "version")
REPORTED_TABLE = "reported_value"
"""Table of every accepted submission, in the lakehouse's ``raw`` layer."""
REPORTED_SCHEMA = ibis.schema({
    "institution_id": "!string", "period": "!string", "indicator_id": "!string",
    "version": "!string", "value_number": "float64", "value_text": "string", "unit": "!string",
    "note": "string", "entered_by": "string", "source_file": "!string", "source_row": "!int64",
    "source_sha256": "!string", "submitted_at": "!timestamp('UTC')",
})
"""Columns of :data:`REPORTED_TABLE`. ``value_number`` holds number, integer, percent and level
values and booleans as 1/0; ``value_text`` holds grades, text and booleans as the rule's yes/no
words (``是``/``否`` by default). ``source_file`` is the file name only."""
KEY = ("institution_id", "period", "indicator_id", "version")
"""One reported value per key; later submissions supersede earlier ones."""

_YES = ("是", "true", "yes", "y", "1")
_NO = ("否", "false", "no", "n", "0")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _blank(raw: object) -> bool:
    return raw is None or raw is pd.NA or (isinstance(raw, float) and math.isnan(raw)) or (
        isinstance(raw, str) and not raw.strip())


def _text(raw: object) -> str:
    """A cell as text: NFKC-normalised (full-width ``１２％`` → ``12%``), stripped."""
    if isinstance(raw, numbers.Real) and not isinstance(raw, bool):
        return _num(float(raw))
    return unicodedata.normalize("NFKC", str(raw)).strip()


def _plain(raw: object) -> str:
    """A cell as typed (stripped, no NFKC: a note's ``，`` stays ``，``); numbers as written."""
    if isinstance(raw, numbers.Real) and not isinstance(raw, bool):
        return _num(float(raw))
    return str(raw).strip()


def _problems(value_type: str, unit: str, minimum: float | None, maximum: float | None,
              allowed: tuple[str, ...], period: str) -> list[str]:
    """Every inconsistency of a rule's fields, each as ``reported.<key>: <what>``."""
    out = []
    if value_type not in VALUE_TYPES:
        out.append(f"reported.value_type: unknown type {value_type!r}"
                   f"{suggest(str(value_type), VALUE_TYPES)}; expected one of "
                   f"{', '.join(VALUE_TYPES)}")
    if period not in PERIODS:
        out.append(f"reported.period: unknown period {period!r}{suggest(str(period), PERIODS)}; "
                   f"expected one of {', '.join(PERIODS)}")
    bounded = minimum is not None or maximum is not None
    if bounded and value_type not in NUMERIC and value_type in VALUE_TYPES:
        out.append(f"reported.minimum: minimum and maximum apply to {', '.join(NUMERIC)} "
                   f"values, not {value_type}")
    if minimum is not None and maximum is not None and minimum > maximum:
        out.append(f"reported.minimum: {_num(minimum)} is above the maximum {_num(maximum)}")
    if value_type == "level" and (minimum is None or maximum is None):
        out.append("reported.maximum: a level needs a minimum and a maximum (e.g. 0 and 8)")
    if value_type == "percent" and unit != "%":
        out.append(f"reported.unit: a percent's unit is '%', not {unit!r}")
    if value_type in ("number", "integer") and not unit:
        out.append(f"reported.unit: a {value_type} needs a unit (e.g. yuan, persons)")
    if value_type == "grade" and not allowed:
        out.append("reported.allowed: a grade needs its allowed values, e.g. [A, B, C, D]")
    if value_type == "boolean" and len(allowed) != 2:
        out.append(f"reported.allowed: a boolean lists its yes and no words, e.g. [是, 否]; "
                   f"got {len(allowed)}")
    if allowed and value_type not in ("grade", "boolean") and value_type in VALUE_TYPES:
        out.append(f"reported.allowed: allowed applies to grade and boolean values, "
                   f"not {value_type}")
    folded = [a.casefold() for a in allowed]
    out += [f"reported.allowed: {a!r} is listed twice" for i, a in enumerate(allowed)
            if folded.index(a.casefold()) != i]
    return out


def _raise(problems: list[str]) -> None:
    if problems:
        head = "" if len(problems) == 1 else f"{len(problems)} problems in the reported block:\n"
        raise SpecError(head + "\n".join(problems), tuple(problems))


@dataclass(frozen=True)
class ReportedRule:
    """How one reported indicator's value is checked: the spec's ``reported:`` block.

    Attributes
    ----------
    value_type
        One of :data:`VALUE_TYPES`.
    unit
        E.g. ``"%"`` (required for percent), ``"yuan"``, ``"persons"``, ``"level"``, ``""``.
    minimum, maximum
        Inclusive bounds of numeric types (a level needs both).
    allowed
        A grade's values (e.g. ``("A", "B", "C", "D")``), or a boolean's yes and no words.
    period
        The grain a value is entered for: ``"year"``, ``"quarter"`` or ``"month"``.

    Raises
    ------
    SpecError
        The fields contradict each other (every problem listed).

    Examples
    --------
    >>> ReportedRule("grade", "", allowed=("A", "B", "C", "D")).validate(" b ")
    ('B', None)
    >>> ReportedRule("integer", "persons", minimum=0).validate(3.2)
    (None, 'value 3.2 is not a whole number')
    >>> ReportedRule("boolean", "", allowed=("是", "否")).validate("TRUE")
    (True, None)
    """

    value_type: str
    unit: str
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] = ()
    period: str = "year"

    def __post_init__(self) -> None:
        default = ("是", "否") if self.value_type == "boolean" else ()
        object.__setattr__(self, "allowed", tuple(self.allowed) or default)
        _raise(_problems(self.value_type, self.unit, self.minimum, self.maximum, self.allowed,
                         self.period))

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> ReportedRule:
        """The rule a spec's ``reported:`` mapping declares.

        ``unit`` may be left out for percent (``%``), level (``level``), grade, boolean and
        text (``""``); a boolean's ``allowed`` defaults to ``[是, 否]``.

        Raises
        ------
        SpecError
            Every problem at once, each ``reported.<key>: <what>``: unknown or missing keys,
            values of the wrong type, and the inconsistencies :class:`ReportedRule` refuses.

        Examples
        --------
        >>> ReportedRule.from_mapping({"value_type": "level", "minimum": 0, "maximum": 8})
        ReportedRule(value_type='level', unit='level', minimum=0.0, maximum=8.0, allowed=(), \
period='year')
        >>> ReportedRule.from_mapping({"value_type": "precent", "maximun": 100})
        Traceback (most recent call last):
        ...
        hospital_sdk.errors.SpecError: 2 problems in the reported block:
        reported: unknown key 'maximun' (did you mean 'maximum'?)
        reported.value_type: unknown type 'precent' (did you mean 'percent'?); expected one of \
number, integer, percent, level, grade, boolean, text
        """
        if not isinstance(data, Mapping):
            _raise([f"reported: expected a mapping, got {type(data).__name__}"])
        keys = ("value_type", "unit", "minimum", "maximum", "allowed", "period")
        problems = [f"reported: unknown key {k!r}{suggest(str(k), keys)}"
                    for k in data if k not in keys]
        value_type = data.get("value_type")
        if value_type is None:
            problems.append("reported.value_type: missing")
        default_unit = {"percent": "%", "level": "level"}.get(str(value_type), "")
        unit = data.get("unit", None if value_type in ("number", "integer") else default_unit)
        if unit is None:
            problems.append(f"reported.unit: missing; a {value_type} needs a unit (e.g. yuan)")
        bounds: dict[str, float | None] = {}
        for key in ("minimum", "maximum"):
            v = data.get(key)
            ok = v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)
                               and math.isfinite(v))
            if not ok:
                problems.append(f"reported.{key}: expected a number, got {v!r}")
            bounds[key] = float(v) if ok and v is not None else None
        allowed = data.get("allowed", [])
        if not isinstance(allowed, list | tuple) or not all(
                isinstance(a, str | int) and not isinstance(a, bool) for a in allowed):
            problems.append(f"reported.allowed: expected a list of words, got {allowed!r}")
            allowed = []
        for key, v in (("value_type", value_type), ("unit", unit), ("period", data.get("period"))):
            if v is not None and not isinstance(v, str):
                problems.append(f"reported.{key}: expected text, got {v!r}")
        if not isinstance(unit, str) or not isinstance(value_type, str):
            _raise(problems)
        words = tuple(str(a) for a in allowed) or (("是", "否") if value_type == "boolean" else ())
        period = data.get("period", "year")
        period = period if isinstance(period, str) else "year"  # its problem is listed above
        lo, hi = bounds["minimum"], bounds["maximum"]
        _raise(problems + _problems(value_type, unit, lo, hi, words, period))
        return cls(value_type, unit, lo, hi, words, period)

    def validate(self, raw: object) -> tuple[object | None, str | None]:
        """``(normalised value, None)`` if ``raw`` is a valid value, else ``(None, reason)``.

        Text is NFKC-normalised and stripped first (full-width digits and ``％`` work).
        Numbers: a decimal (``1,234.5`` too) within the bounds; integer and level: whole
        (``3.0`` gives ``3``; a level may end in ``级``); percent: ``12.5`` or ``12.5%`` give
        ``12.5``; grade: one of ``allowed``, any case, given back as declared; boolean: the
        rule's yes/no words, ``true/false``, ``yes/no``, ``y/n``, ``1/0`` give ``True/False``;
        text: any non-empty text.
        """
        if _blank(raw):
            return None, "value is empty"
        kind = self.value_type
        text = _text(raw)
        if kind == "text":
            return _plain(raw), None
        if kind == "grade":
            match = [a for a in self.allowed if a.casefold() == text.casefold()]
            return (match[0], None) if match else (
                None, f"value {text!r} is not one of {', '.join(self.allowed)}")
        if kind == "boolean":
            if isinstance(raw, bool):
                return raw, None
            yes, no = self.allowed
            word = text.casefold()
            if word in (yes.casefold(), *_YES) or word in (no.casefold(), *_NO):
                return word in (yes.casefold(), *_YES), None
            return None, f"value {text!r} is not yes or no ({yes}/{no}, true/false, 1/0)"
        return self._number(raw, text)

    def _number(self, raw: object, text: str) -> tuple[object | None, str | None]:
        kind, shown = self.value_type, text if isinstance(raw, numbers.Real) else repr(text)
        if isinstance(raw, bool):
            return None, f"value {raw} is not a number"
        if kind == "percent" and text.endswith("%"):
            text = text[:-1].strip()
        if kind == "level" and text.endswith("级"):
            text = text[:-1].strip()
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        if not _DECIMAL.match(text):
            hint = " (write 12.5 or 12.5%)" if kind == "percent" else ""
            return None, f"value {shown} is not a {'percent' if hint else 'number'}{hint}"
        number = float(text)
        if not math.isfinite(number):
            return None, f"value {shown} is not a finite number"
        value: float | int = number
        if kind in ("integer", "level"):
            if not number.is_integer():
                return None, f"value {_num(number)} is not a whole number"
            value = int(number)
        unit = f" ({self.unit})" if self.unit else ""
        if self.minimum is not None and number < self.minimum:
            return None, f"value {_num(number)} is below the minimum {_num(self.minimum)}{unit}"
        if self.maximum is not None and number > self.maximum:
            return None, f"value {_num(number)} is above the maximum {_num(self.maximum)}{unit}"
        return value, None


@dataclass(frozen=True)
class ReportedIndicator:
    """What a template and a read need of a reported indicator: its identity, names and rule."""

    id: str
    version: str
    name_zh: str
    name_en: str
    rule: ReportedRule


def entered_period(raw: object) -> tuple[str | None, str | None]:
    """``(canonical period, None)`` for a cell holding a year, quarter or month, else
    ``(None, reason)``.

    Examples
    --------
    >>> entered_period("2024-q1"), entered_period(2024.0)
    (('2024-Q1', None), ('2024', None))
    >>> entered_period("2024-13")
    (None, "period '2024-13' is not a year (2024), quarter (2024-Q1) or month (2024-03)")
    """
    if _blank(raw):
        return None, "period is empty"
    text = _text(raw).upper()
    try:
        period = parse_period(text)
    except IndicatorError:
        period = None
    if period is None or period.grain not in PERIODS:
        return None, f"period {text!r} is not a year (2024), quarter (2024-Q1) or month (2024-03)"
    return period.label, None


def _within(period: str, grain: str) -> list[str]:
    """The periods of ``grain`` (not coarser than ``period``'s) that make up ``period``."""
    months = parse_period(period).months()
    if grain == "quarter":
        return sorted({f"{m[:4]}-Q{(int(m[5:]) + 2) // 3}" for m in months})
    return months if grain == "month" else [period[:4]]


def write_template(indicators: Sequence[ReportedIndicator], institutions: Sequence[str],
                   period: str, out_dir: str | os.PathLike[str], *,
                   formats: Sequence[str] = ("xlsx", "csv")) -> list[Path]:
    """Write the form for entering ``indicators`` of ``institutions`` for ``period``.

    One row per institution × indicator × period of the indicator's grain within ``period``:
    for ``"2024"`` a yearly indicator has one row, a quarterly one four (``2024-Q1`` …), a
    monthly one twelve; for ``"2024-Q1"`` a monthly one has three and a yearly one is refused.
    Columns are :data:`TEMPLATE_COLUMNS`; ``value``, ``note`` and ``entered_by`` are blank.

    - ``reported_<period>.xlsx``: sheet ``data`` (header frozen, filterable; ids formatted as
      text; the value cell checked by Excel: whole or decimal numbers within the bounds, a
      drop-down for grades and yes/no) and sheet ``instructions`` in Chinese and English;
    - ``reported_<period>.csv``: UTF-8 with a byte-order mark, so Excel in China opens it.

    Each file is written atomically (temporary file, then rename); the same arguments give the
    same bytes.

    Raises
    ------
    ReportedValueError
        No indicator or institution, one given twice, an unknown format, or ``period`` not a
        period or shorter than an indicator's grain.

    Examples
    --------
    >>> import tempfile
    >>> emr = ReportedIndicator("emr_level", "1", "电子病历应用功能水平分级", "EMR level",
    ...                         ReportedRule("level", "level", minimum=0, maximum=8))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_template([emr], ["H01", "H02"], "2024", tmp)
    ...     lines = paths[1].read_text(encoding="utf-8-sig").splitlines()
    >>> [p.name for p in paths], len(lines)
    (['reported_2024.xlsx', 'reported_2024.csv'], 3)
    >>> lines[1]
    'H01,2024,emr_level,1,电子病历应用功能水平分级,EMR level,level,level,0,8,,,,'
    """
    if not indicators or not institutions:
        raise ReportedValueError("a template needs at least one indicator and one institution")
    for what, ids in (("indicator", [i.id for i in indicators]), ("institution", institutions)):
        if twice := sorted({i for i in ids if list(ids).count(i) > 1}):
            raise ReportedValueError(f"{what}(s) {twice} given more than once")
    if not formats or any(f not in ("xlsx", "csv") for f in formats):
        raise ReportedValueError(f"template formats {list(formats)}: expected xlsx, csv or both")
    canonical, reason = entered_period(period)
    if canonical is None:
        raise ReportedValueError(str(reason))
    grain = parse_period(canonical).grain
    if coarser := [f"{i.id} (per {i.rule.period})" for i in indicators
                   if PERIODS.index(i.rule.period) < PERIODS.index(grain)]:
        raise ReportedValueError(f"period {canonical!r} is a {grain}; {', '.join(coarser)} cannot "
                                 "be entered for it: make their template for a whole period")
    rows: list[list[Any]] = []
    groups: dict[ReportedRule, list[int]] = {}
    for inst in institutions:
        for ind in indicators:
            r = ind.rule
            for p in _within(canonical, r.period):
                groups.setdefault(r, []).append(len(rows))
                rows.append([inst, p, ind.id, ind.version, ind.name_zh, ind.name_en,
                             r.value_type, r.unit, r.minimum, r.maximum,
                             ", ".join(r.allowed) or None, None, None, None])
    return write_files(Path(out_dir) / f"reported_{canonical}", formats, TEMPLATE_COLUMNS, rows,
                       list(groups.items()), canonical)


@dataclass(frozen=True, eq=False)
class ReportedLoad:
    """What :func:`read_entries` made of one filled template.

    Attributes
    ----------
    file
        The file read.
    rows_in
        Its data rows (rows with at least one cell, under the header);
        ``rows_in == len(accepted) + len(rejected) + len(blank)``, checked at construction.
    accepted
        :data:`ACCEPTED_COLUMNS`: one row per valid entry, value split into ``value_number``
        and ``value_text`` as in :data:`REPORTED_SCHEMA`; ``row`` is the spreadsheet row.
    rejected
        :data:`REJECTED_COLUMNS`: one row per refused row; when a row has several problems,
        ``field``, ``value`` and ``reason`` list them all, joined by ``"; "``.
    blank
        :data:`BLANK_COLUMNS`: rows whose value is empty — not entered, so neither accepted
        nor rejected (the list of what is still missing).
    sha256
        Hex SHA-256 of the file's bytes: the submission's identity in :func:`store_entries`.
    """

    file: Path
    rows_in: int
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    blank: pd.DataFrame
    sha256: str

    def __post_init__(self) -> None:
        counted = len(self.accepted) + len(self.rejected) + len(self.blank)
        if counted != self.rows_in:
            raise ReconciliationError(
                f"{self.file}: {self.rows_in} rows in but {len(self.accepted)} accepted + "
                f"{len(self.rejected)} rejected + {len(self.blank)} blank = {counted}")

    @property
    def counts(self) -> dict[str, int]:
        """``{"rows_in", "accepted", "rejected", "blank"}`` counts."""
        return {"rows_in": self.rows_in, "accepted": len(self.accepted),
                "rejected": len(self.rejected), "blank": len(self.blank)}


def read_entries(path: str | os.PathLike[str], indicators: Mapping[str, ReportedIndicator], *,
                 institutions: Collection[str] | None = None) -> ReportedLoad:
    """Read a filled template (``.xlsx``, or ``.csv`` in UTF-8 with or without BOM or GB18030).

    Only :data:`REQUIRED_COLUMNS` are needed; ``note`` and ``entered_by`` are read when present;
    the descriptive columns are ignored (the spec in ``indicators`` is the authority). Rows with
    no cell at all are not rows. Every other row under the header ends up in exactly one of
    ``accepted``, ``rejected`` or ``blank`` (value empty: not entered), so
    ``rows_in == accepted + rejected + blank``. A row is rejected, with its spreadsheet row
    number (header = row 1), for: an empty or (when ``institutions`` is given) unknown
    institution, a period that is not a year/quarter/month or not the indicator's grain, an
    unknown indicator (near spelling suggested), another version, a value its rule refuses, or
    the same institution, period, indicator and version entered on several rows (all of them).

    Raises
    ------
    ReportedValueError
        The file cannot be read, is neither xlsx nor csv, has no header, repeats a column or
        lacks required columns (named with the file).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> eqa = ReportedIndicator("eqa_items", "1", "室间质评通过项目数", "EQA items passed",
    ...                         ReportedRule("integer", "items", minimum=0))
    >>> text = ("institution_id,period,indicator_id,version,value\\n"
    ...         "H01,2024,eqa_items,1,35\\nH02,2024,eqa_items,1,-2\\nH03,2024,eqa_items,1,\\n")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "eqa.csv").write_text(text, encoding="gb18030")
    ...     load = read_entries(Path(tmp) / "eqa.csv", {"eqa_items": eqa})
    >>> load.counts
    {'rows_in': 3, 'accepted': 1, 'rejected': 1, 'blank': 1}
    >>> load.rejected[["row", "field", "reason"]].values.tolist()
    [[3, 'value', 'value -2 is below the minimum 0 (items)']]
    """
    file = Path(path)
    rows, sha256 = read_file(file)
    if not rows:
        raise ReportedValueError(f"{file}: no header row; expected the columns "
                                 f"{list(TEMPLATE_COLUMNS)}")
    header = ["" if _blank(c) else _text(c).lower() for c in rows[0][1]]
    if twice := sorted({h for h in header if h and header.count(h) > 1}):
        raise ReportedValueError(f"{file}: column(s) {twice} appear more than once")
    if missing := [c for c in REQUIRED_COLUMNS if c not in header]:
        raise ReportedValueError(f"{file}: missing column(s) {missing}; the header has {header}")
    where = {name: header.index(name) for name in (*REQUIRED_COLUMNS, "note", "entered_by")
             if name in header}
    accepted, rejected, blank = [], [], []
    for number, cells in rows[1:]:
        cell = {n: cells[i] if i < len(cells) else None for n, i in where.items()}
        ids = {n: None if _blank(cell[n]) else _text(cell[n])
               for n in ("institution_id", "indicator_id", "version")}
        if _blank(cell["value"]):
            blank.append((number, ids["institution_id"],
                          None if _blank(cell["period"]) else _text(cell["period"]),
                          ids["indicator_id"], ids["version"]))
            continue
        problems, indicator, value = _row_problems(cell, ids, indicators, institutions)
        if problems or indicator is None:
            rejected.append((str(file), number, *("; ".join(p[i] for p in problems)
                                                 for i in range(3))))
            continue
        kind = indicator.rule.value_type
        if kind == "boolean":
            number_v, text_v = float(bool(value)), indicator.rule.allowed[0 if value else 1]
        else:
            number_v, text_v = (float(value), None) if kind in NUMERIC else (None, str(value))
        accepted.append((number, ids["institution_id"], entered_period(cell["period"])[0],
                         indicator.id, indicator.version, number_v, text_v, indicator.rule.unit,
                         *(None if _blank(cell.get(n)) else _plain(cell[n])
                           for n in ("note", "entered_by"))))
    accepted, repeated = _without_repeats(accepted, file)
    frame = pd.DataFrame(accepted, columns=list(ACCEPTED_COLUMNS))
    return ReportedLoad(
        file, len(rows) - 1,
        frame.astype({"row": "int64", "value_number": "float64"}),
        pd.DataFrame(rejected + repeated, columns=list(REJECTED_COLUMNS))
        .sort_values("row", kind="stable").reset_index(drop=True).astype({"row": "int64"}),
        pd.DataFrame(blank, columns=list(BLANK_COLUMNS)).astype({"row": "int64"}),
        sha256)


def _row_problems(cell: dict[str, Any], ids: dict[str, str | None],
                  indicators: Mapping[str, ReportedIndicator],
                  institutions: Collection[str] | None,
                  ) -> tuple[list[tuple[str, str, str]], ReportedIndicator | None, object]:
    """``(field, value, reason)`` of every problem of a row with a value, in column order;
    the row's indicator and normalised value."""
    out: list[tuple[str, str, str]] = []
    inst, ind_id, version = ids["institution_id"], ids["indicator_id"], ids["version"]
    if inst is None:
        out.append(("institution_id", "", "institution_id is empty"))
    elif institutions is not None and inst not in institutions:
        out.append(("institution_id", inst,
                    f"unknown institution {inst!r}{suggest(inst, institutions)}"))
    indicator = indicators.get(ind_id) if ind_id is not None else None
    period, reason = entered_period(cell["period"])
    if reason is not None:
        out.append(("period", "" if _blank(cell["period"]) else _text(cell["period"]), reason))
    elif indicator is not None and (grain := parse_period(period).grain) != indicator.rule.period:
        out.append(("period", str(period), (f"period {period!r} is a {grain}; {indicator.id} is "
                    f"entered per {indicator.rule.period}")))
    if ind_id is None:
        out.append(("indicator_id", "", "indicator_id is empty"))
    elif indicator is None:
        out.append(("indicator_id", ind_id,
                    f"unknown indicator {ind_id!r}{suggest(ind_id, indicators)}"))
    if version is None:
        out.append(("version", "", "version is empty"))
    elif indicator is not None and version != indicator.version:
        out.append(("version", version, (f"version {version!r} does not match {indicator.id}'s "
                    f"version {indicator.version!r}")))
    value = None
    if indicator is not None:
        value, reason = indicator.rule.validate(cell["value"])
        if reason is not None:
            out.append(("value", _text(cell["value"]), reason))
    return out, indicator, value


def _without_repeats(accepted: list[tuple[Any, ...]], file: Path,
                     ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Accepted rows minus those whose key is on several rows (those become rejects)."""
    rows_of: dict[tuple[Any, ...], list[int]] = {}
    for r in accepted:
        rows_of.setdefault(r[1:5], []).append(r[0])
    keep, repeated = [], []
    for r in accepted:
        rows = rows_of[r[1:5]]
        if len(rows) == 1:
            keep.append(r)
            continue
        value = _num(r[5]) if r[5] is not None and r[6] is None else str(r[6])
        repeated.append((str(file), r[0], "value", value,
                         (f"{r[3]} of {r[1]} for {r[2]} is entered on rows "
                         f"{', '.join(map(str, rows))}; keep one")))
    return keep, repeated


_ARROW = pa.schema([pa.field(n, t.to_pyarrow(), nullable=t.nullable)
                    for n, t in REPORTED_SCHEMA.items()])


def store_entries(lake: Lakehouse, load: ReportedLoad, *,
                  submitted_at: datetime | None = None) -> int:
    """Append ``load.accepted`` to ``raw.reported_value`` as one submission; return the rows added.

    Idempotent by content: when rows with ``load.sha256`` are already stored, nothing is added
    (0 is returned), whatever the file's name. A corrected file has other bytes, so it is a new
    submission: every submission is kept (and the lakehouse's snapshots give each state back),
    and :func:`latest_values` picks the newest. A blank value never erases a stored one, and
    re-storing an earlier file's exact bytes is a no-op, not a revert: to go back to its
    values, submit them in a changed file (e.g. with a note). The check and the insert are one
    transaction under the writer lock.

    Parameters
    ----------
    submitted_at
        When the file was submitted; default now. A naive datetime is local time, stored as UTC.

    Examples
    --------
    >>> import tempfile
    >>> from hospital_sdk.store import Lakehouse
    >>> accepted = pd.DataFrame([(2, "H01", "2024", "q12", "1", None, "B", "", None, None)],
    ...                         columns=list(ACCEPTED_COLUMNS))
    >>> load = ReportedLoad(Path("q12.csv"), 1, accepted, pd.DataFrame(), pd.DataFrame(), "ab12")
    >>> with Lakehouse.open(tempfile.mkdtemp()) as lake:
    ...     first, again = store_entries(lake, load), store_entries(lake, load)
    ...     stored = lake.table(REPORTED_TABLE).value_text.execute().tolist()
    >>> first, again, stored
    (1, 0, ['B'])
    """
    when = submitted_at or datetime.now(UTC)
    when = (when if when.tzinfo is not None else when.astimezone()).astimezone(UTC)
    accepted = load.accepted
    columns = {c: [None if _blank(v) and not isinstance(v, str) else v  # keep unit ""
                   for v in accepted[c].tolist()]
               for c in ACCEPTED_COLUMNS if c != "row"}
    n = len(accepted)
    columns |= {"source_row": accepted["row"].tolist(), "source_file": [load.file.name] * n,
                "source_sha256": [load.sha256] * n, "submitted_at": [when] * n}
    rows = pa.table({f.name: pa.array(columns[f.name], type=f.type) for f in _ARROW},
                    schema=_ARROW)
    lake.ensure_table(REPORTED_TABLE, REPORTED_SCHEMA, "raw")
    target, stage = f"{CATALOG}.raw.{ident(REPORTED_TABLE)}", "__hospital_sdk_reported_rows"

    def work(duck: duckdb.DuckDBPyConnection) -> int:
        if duck.execute(f"SELECT count(*) FROM {target} WHERE source_sha256 = ?",
                        [load.sha256]).fetchone()[0] or not n:
            return 0
        duck.register(stage, rows)
        try:
            return int(duck.execute(f"INSERT INTO {target} BY NAME FROM {stage}").fetchone()[0])
        finally:
            duck.unregister(stage)

    try:
        return lake.write(work, description=f"store reported values of {load.file.name} "
                                            f"({load.sha256[:12]})")
    except duckdb.Error as exc:
        raise StoreError(f"cannot store the reported values of {load.file}; nothing was "
                         f"written: {exc}") from exc


def latest_values(table: ir.Table) -> ir.Table:
    """The latest submitted row of each :data:`KEY` in a ``raw.reported_value`` table.

    Newest ``submitted_at`` wins; equal times are broken by the larger ``source_sha256``, then
    the larger ``source_row``, so the answer never depends on storage order. Pure Ibis: it runs
    on any backend.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> t = ibis.memtable({"institution_id": ["H01", "H01"], "period": ["2024", "2024"],
    ...     "indicator_id": ["emr_level"] * 2, "version": ["1", "1"], "value_number": [4.0, 5.0],
    ...     "source_sha256": ["aa", "bb"], "source_row": [2, 2],
    ...     "submitted_at": [datetime(2025, 1, 5, tzinfo=timezone.utc),
    ...                      datetime(2025, 2, 1, tzinfo=timezone.utc)]})
    >>> latest_values(t).value_number.execute().tolist()
    [5.0]
    """
    order = [table.submitted_at.desc(), table.source_sha256.desc(), table.source_row.desc()]
    rank = ibis.row_number().over(group_by=[table[c] for c in KEY], order_by=order)
    return table.mutate(_latest=rank).filter(ibis._._latest == 0).drop("_latest")
