"""Reported indicators: values no patient record holds, entered through a generated template.

Finance, HR, satisfaction scores, external quality assessment, the EMR level (0–8), qualitative
items graded A/B/C/D and yes/no items are *reported*: a person types them in. Each is declared
with a :class:`ReportedRule` (type, unit, range, the period grain it is entered for), so

1. :func:`write_template` writes the form to fill (xlsx with drop-downs and range checks, and a
   CSV), one row per institution × indicator × period;
2. :func:`~hospital_sdk.indicators.submissions.read_entries` reads a filled form back: every
   row is accepted, rejected with the field and the reason, or counted as not entered (blank
   value) — never dropped;
3. :func:`~hospital_sdk.indicators.submissions.store_entries` appends the accepted rows to
   ``raw.reported_value``, once per file content; a corrected file is a new submission and the
   earlier one is kept;
4. :func:`~hospital_sdk.indicators.submissions.latest_values` picks the latest submitted value
   of each institution, period, indicator and version.

This module holds the rules, the layout of the form and of the stored table, and the template;
:mod:`~hospital_sdk.indicators.submissions` reads, stores and picks submissions.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from hospital_sdk.errors import (
    IndicatorError,
    ReportedValueError,
    SpecError,
)
from hospital_sdk.indicators.periods import parse_period
from hospital_sdk.indicators.reported_xlsx import number_text as _num
from hospital_sdk.indicators.reported_xlsx import write_files
from hospital_sdk.model.contract import suggest

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = [
    "ACCEPTED_COLUMNS", "BLANK_COLUMNS", "KEY", "REJECTED_COLUMNS", "REPORTED_SCHEMA",
    "REPORTED_TABLE", "REQUIRED_COLUMNS", "TEMPLATE_COLUMNS", "VALUE_TYPES", "ReportedIndicator",
    "ReportedRule", "entered_period", "write_template",
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
