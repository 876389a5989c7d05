"""The load gate as check results: quarantined rows attributed to the declarations they break.

The loader (:mod:`hospital_sdk.ingest.loader`) validates every source row and quarantines the
bad ones in ``lake.raw.load_rejects``, with ``problems``: a JSON list of every
``{field, reason, value}`` the row has. Those rows never reach the raw table, so a check run on
the table cannot see them. :func:`gate_results` counts them per declaration of
:func:`~hospital_sdk.quality.declarations.contract_declarations` -- a row breaking three rules
counts once for each -- and :func:`with_gate` adds them to the checks' results on the
loaded table, telling a *leak* (bad rows in the table: blocks) from a failure the gate already
*quarantined* (must not block).

The reason texts are those of :mod:`hospital_sdk.ingest.validation`; :data:`GATE_REASONS` is the
one place that reads them, and the tests hold it to what the validator actually writes.

Examples
--------
>>> import pandas as pd
>>> from hospital_sdk.quality import CheckDeclaration
>>> decls = [CheckDeclaration("visit.payer.not_null", "not_null", "visit", "payer")]
>>> rejects = pd.DataFrame({"table_name": ["visit", "visit"], "problems": [
...     '[{"field": "payer", "reason": "required value missing", "value": null}]',
...     '[{"field": "age", "reason": "not a valid int16", "value": "x"},'
...     ' {"field": "payer", "reason": "required value missing", "value": null}]']})
>>> gate_results(rejects, decls, contract=None)[["check_id", "field", "reason", "quarantined_rows"]]
               check_id  field             reason  quarantined_rows
0  visit.payer.not_null  payer               None                 2
1                  None    age  not a valid int16                 1
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from hospital_sdk.model import CONTRACT, Contract
from hospital_sdk.quality.declarations import CheckDeclaration
from hospital_sdk.quality.runner import RESULT_COLUMNS, ResultsError, results_frame

GATE_REASONS: Mapping[str, re.Pattern[str]] = {
    # validation._column_checks: 'required value missing'
    "not_null": re.compile(r"required value missing"),
    # validation._column_checks: "code '<value>' not in <code set id>"
    "in_code_set": re.compile(r"code '.*' not in \S+", re.S),
    # validation._column_checks: 'does not match <pattern>'
    "matches_pattern": re.compile(r"does not match .+", re.S),
    # validation._range_reason: 'out of range [a, b]', '(minimum a)', '(maximum b)'
    "in_range": re.compile(r"out of range (?:\[\S+, \S+\]|\(minimum \S+\)|\(maximum \S+\))"),
    # validation._rule_check: 'violates rule <name>: <rule text>'
    "row_rule": re.compile(r"violates rule (?P<rule>[^:\s]+): .*", re.S),
    # validation._duplicates_sql: ', first seen at row N' or ', already loaded from <file>'
    "unique_key": re.compile(
        r"duplicate primary key, (?:first seen at row \d+|already loaded from .+)", re.S),
}
"""Check type of the declaration a loader reason breaks (the reason must match in full)."""

UNDECLARED_REASONS: tuple[re.Pattern[str], ...] = (
    re.compile(r"not a valid .+", re.S),  # validation._column_checks: value does not convert
)
"""Loader reasons no declaration stands for: their rows are reported unattributed."""

GATE_COLUMNS: tuple[str, ...] = (
    "table", "check_id", "check_type", "field", "partition", "reason", "quarantined_rows",
)
"""Columns of :func:`gate_results`."""

GATED_RESULT_COLUMNS: tuple[str, ...] = (
    *RESULT_COLUMNS, "quarantined_rows", "leaked_rows", "failure_kind",
)
"""Columns of :func:`with_gate`: the result columns and how the violations split."""

_Attribution = tuple[str | None, str | None, str | None, str | None]
_CODE_VALUE = re.compile(r"^code '.*' not in ", re.S)
_ROW_NUMBER = re.compile(r"\brow \d+\b")
_MONTH = re.compile(r"^\s*(\d{4})[-/](\d{1,2})(?!\d)")


def reason_check_type(reason: str) -> str | None:
    """The check type a loader reason stands for; ``None`` when no declaration does.

    >>> reason_check_type("code '7' not in discharge_disposition")
    'in_code_set'
    >>> reason_check_type("duplicate primary key, first seen at row 12")
    'unique_key'
    >>> reason_check_type("not a valid timestamp") is None
    True
    """
    for check_type, pattern in GATE_REASONS.items():
        if pattern.fullmatch(reason):
            return check_type
    return None


def reason_check_id(table: str, field: str, reason: str, *,
                    contract: Contract | None = CONTRACT) -> str | None:
    """Id the contract declaration broken by ``reason`` has; ``None`` when no declaration does.

    ``field`` is the source column the loader names; with a ``contract`` it becomes the stored
    column (``id_number`` -> ``id_number_token``) as in the declarations' ids.

    >>> reason_check_id("inpatient_stay", "discharge_time",
    ...                 "violates rule discharge_after_admission: discharge_time is not before "
    ...                 "admission_time")
    'inpatient_stay.discharge_after_admission.row_rule'
    >>> reason_check_id("inpatient_stay", "stay_id", "required value missing")
    'inpatient_stay.stay_id.not_null'
    """
    check_type = reason_check_type(reason)
    if check_type is None:
        return None
    if check_type == "unique_key":
        return f"{table}.primary_key.unique_key"
    if check_type == "row_rule":
        match = GATE_REASONS["row_rule"].fullmatch(reason)
        assert match is not None
        return f"{table}.{match['rule']}.row_rule"
    return f"{table}.{_stored_name(table, field, contract)}.{check_type}"


def _stored_name(table: str, field: str, contract: Contract | None) -> str:
    if contract is None or table not in contract.table_names:
        return field
    columns = {c.name: c.stored_name for c in contract.table(table).columns}
    return columns.get(field, field)


def _general(reason: str) -> str:
    """A reason without the row's value or row number, so that like reasons count together."""
    return _ROW_NUMBER.sub("row N", _CODE_VALUE.sub("code '…' not in ", reason))


def _month(record: Any, column: str | None) -> str | None:
    """``YYYY-MM`` of ``column`` in a rejected row's JSON record, if it reads as a date."""
    if column is None or not isinstance(record, str):
        return None
    try:
        value = json.loads(record).get(column)
    except (ValueError, AttributeError):
        return None
    match = _MONTH.match(str(value)) if value is not None else None
    if match is None or not 1 <= int(match[2]) <= 12:
        return None
    return f"{match[1]}-{int(match[2]):02d}"


def gate_results(rejects: ir.Table | pd.DataFrame, declarations: Iterable[CheckDeclaration], *,
                 table: str | None = None, contract: Contract | None = CONTRACT,
                 by_month: bool = False,
                 period_columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Rows the load gate quarantined, per declaration they break.

    Parameters
    ----------
    rejects
        ``lake.raw.load_rejects`` (or a filtered part: one load, one file) with ``table_name``
        and ``problems``, and ``record`` when ``by_month``.
    declarations
        The declarations to attribute rows to, by id (as :func:`reason_check_id` writes them).
    table
        Only the rows rejected from this table.
    contract
        Maps source column names to stored names, and gives the period columns.
    by_month
        Split counts by the month of the row's period column, read from its ``record``
        (``partition`` ``YYYY-MM``; ``None`` when the table has no period column or the value
        does not read as a date). Use with results of ``run_checks(..., by_month=True)``.
    period_columns
        Table -> period column, overriding the contract's.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GATE_COLUMNS`, one row per ``(table, check_id, partition)`` with
        ``quarantined_rows``, each rejected row counted once per declaration it breaks. Rows
        breaking a rule no given declaration stands for (``not a valid <type>``, or a check not
        among ``declarations``) come as ``check_id`` ``None`` with the ``field`` and the
        ``reason`` (values and row numbers left out, e.g. ``code '…' not in sex``); attributed
        rows have ``reason`` ``None``.

    Raises
    ------
    ResultsError
        When ``rejects`` lacks a column it needs.
    """
    needed = ["table_name", "problems", *(["record"] if by_month else [])]
    missing = [c for c in needed if c not in rejects.columns]
    if missing:
        raise ResultsError(f"the rejects lack the columns {missing}; expected those of "
                           "lake.raw.load_rejects")
    if isinstance(rejects, ir.Table):
        if table is not None:
            rejects = rejects.filter(rejects.table_name == table)
        frame = rejects.select(*needed).to_pandas()
    else:
        frame = rejects.loc[rejects["table_name"] == table, needed] if table is not None \
            else rejects[needed]
    periods = ({t.name: t.period_column for t in contract.tables if t.period_column}
               if contract is not None else {})
    periods.update(period_columns or {})
    decls = {d.id: d for d in declarations}
    attribution: dict[tuple[str, str, str], _Attribution] = {}

    def attribute(tbl: str, field: str, reason: str) -> _Attribution:
        """``(check_id, check_type, field, reason)`` of one problem; computed once per kind."""
        if (tbl, field, reason) not in attribution:
            check_id = reason_check_id(tbl, field, reason, contract=contract)
            decl = decls.get(check_id) if check_id is not None else None
            attribution[(tbl, field, reason)] = (
                (decl.id, decl.check_type, ", ".join(decl.fields) or None, None)
                if decl is not None else
                (None, reason_check_type(reason), field, _general(reason)))
        return attribution[(tbl, field, reason)]

    counts: Counter[tuple[Any, ...]] = Counter()
    records = frame["record"] if by_month else [None] * len(frame)
    for tbl, problems, record in zip(frame["table_name"], frame["problems"], records):
        partition = _month(record, periods.get(tbl)) if by_month else None
        broken = {attribute(tbl, p.get("field") or "", p.get("reason") or "")
                  for p in json.loads(problems)}
        for check_id, check_type, field, reason in broken:
            counts[(tbl, check_id, check_type, field, partition, reason)] += 1
    rows = [dict(zip(GATE_COLUMNS, (*key, n))) for key, n in counts.items()]
    rows.sort(key=lambda r: (r["table"], r["check_id"] is None, r["check_id"] or "",
                             r["field"] or "", r["reason"] or "", r["partition"] is None,
                             r["partition"] or ""))
    out = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in GATE_COLUMNS})
    out["quarantined_rows"] = out["quarantined_rows"].astype("int64")
    return out


def with_gate(results: pd.DataFrame, gate: pd.DataFrame) -> pd.DataFrame:
    """Results on a loaded table plus the rows its load gate quarantined, per check and month.

    Per result row, with ``q`` the quarantined rows of the same check and ``partition``:
    ``leaked_rows`` = the violating rows found in the table, ``violating_rows`` = leaked + q,
    ``applicable_rows`` = applicable + q, ``quarantined_rows`` = q; the status is judged again
    on that rate. ``failure_kind`` says why a check failed: ``"leak"`` when the table's own rows
    fail it (bad rows got through: must block), ``"quarantined"`` when only the rows the gate
    stopped make it fail (must not block; :func:`~hospital_sdk.quality.blocking_failures`
    skips those); ``None`` otherwise. An ``error`` stays an error and a missing table or column
    stays ``not_applicable``, with ``quarantined_rows`` filled in. A month the gate quarantined
    rows of but the table has none of gets its own row. Unattributed gate rows are not checks
    and are left out (they stay in ``gate``).

    Parameters
    ----------
    results
        :func:`~hospital_sdk.quality.run_checks` results on the loaded (raw) table.
    gate
        :func:`gate_results` for the same declarations, with the same ``by_month``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GATED_RESULT_COLUMNS`, in the order of ``results``.

    Raises
    ------
    ResultsError
        When a frame lacks its columns, or the gate counts rows for a check not in ``results``.

    Examples
    --------
    >>> from hospital_sdk.quality import CheckDeclaration, run_checks
    >>> import ibis
    >>> d = CheckDeclaration("visit.payer.not_null", "not_null", "visit", "payer")
    >>> res = run_checks({"visit": ibis.memtable({"payer": ["01", "02", "03"]})}, [d])
    >>> gate = pd.DataFrame({"table": ["visit"], "check_id": [d.id], "check_type": ["not_null"],
    ...                      "field": ["payer"], "partition": [None], "reason": [None],
    ...                      "quarantined_rows": [1]})
    >>> out = with_gate(res, gate).iloc[0]
    >>> out.status, int(out.violating_rows), int(out.applicable_rows), out.failure_kind
    ('failed', 1, 4, 'quarantined')
    """
    _require(results, RESULT_COLUMNS, "results")
    _require(gate, GATE_COLUMNS, "gate results")
    quarantined: Counter[tuple[str, str | None]] = Counter()
    for check_id, partition, n in zip(gate["check_id"], gate["partition"],
                                      gate["quarantined_rows"]):
        if not _missing(check_id):
            quarantined[(check_id, _partition(partition))] += int(n)
    order = {c: i for i, c in enumerate(dict.fromkeys(results["check_id"]))}
    unknown = sorted({c for c, _ in quarantined if c not in order})
    if unknown:
        raise ResultsError("the gate counts rows for checks not in the results: "
                           + ", ".join(unknown) + "; run the same declarations on the table")
    records = results.to_dict("records")
    seen = {(r["check_id"], _partition(r["partition"])) for r in records}
    rows = [_gated(r, quarantined.get((r["check_id"], _partition(r["partition"])), 0))
            for r in records]
    for (check_id, partition), n in quarantined.items():
        if (check_id, partition) not in seen:  # rows of a month the table has none of
            template = next(r for r in records if r["check_id"] == check_id)
            rows.append(_gated(_empty_month(template, partition), n))
    rows.sort(key=lambda r: (order[r["check_id"]], r["partition"] is None, r["partition"] or ""))
    return results_frame(rows, GATED_RESULT_COLUMNS)


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ResultsError(f"the {what} lack the columns {missing}")


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _partition(value: Any) -> str | None:
    return None if _missing(value) else str(value)


def _empty_month(template: Mapping[str, Any], partition: str | None) -> dict[str, Any]:
    """The result a check would have on a month without table rows."""
    row = {**template, "partition": partition}
    if not _missing(template["applicable_rows"]):  # else an error or a missing column: kept
        row.update(status="not_applicable", violating_rows=0, applicable_rows=0,
                   rate=math.nan, reason="no rows to check")
    return row


def _gated(row: Mapping[str, Any], quarantined: int) -> dict[str, Any]:
    """One result row with ``quarantined`` gate rows added (see :func:`with_gate`)."""
    out = {**row, "quarantined_rows": quarantined, "leaked_rows": None, "failure_kind": None}
    violating, applicable = row["violating_rows"], row["applicable_rows"]
    if row["status"] == "error" or _missing(violating) or _missing(applicable):
        return out
    leaked = int(violating)
    total = int(applicable) + quarantined
    out.update(leaked_rows=leaked, violating_rows=leaked + quarantined, applicable_rows=total)
    if total == 0:
        return out  # not_applicable: no rows in the table, none quarantined
    rate = (leaked + quarantined) / total
    failed = rate > row["threshold"]
    out.update(rate=rate, status="failed" if failed else "passed", reason="")
    if failed:
        out["failure_kind"] = "leak" if row["status"] == "failed" else "quarantined"
    return out
