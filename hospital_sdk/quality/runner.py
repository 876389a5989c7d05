"""Run check declarations on any Ibis backend and return one result row per check.

Every result has the same shape, whatever happened:

``passed``
    the violation rate is at most the threshold;
``failed``
    it is above; ``violating_rows`` says how many rows, not only the rate;
``not_applicable``
    the table or column is missing, or there is no row to check; ``reason`` says which;
``error``
    building or running the query raised; ``reason`` holds the message. An error is never
    counted as a failure, and never stops the other checks.

With ``by_month=True`` a check on a table with a period column gives one result per month of
that column present in the data (``partition`` ``YYYY-MM``), still from one aggregate query.

Examples
--------
>>> import ibis
>>> from hospital_sdk.quality import CheckDeclaration, run_checks
>>> visits = ibis.memtable({"visit_id": ["v1", "v2", "v3", "v4"],
...                         "payer": ["01", "02", None, "zz"]})
>>> decls = [
...     CheckDeclaration("payer.present", "not_null", "visit", "payer",
...                      kahn_category="completeness"),
...     CheckDeclaration("payer.valid", "in_code_set", "visit", "payer",
...                      params={"codes": ["01", "02"]}, threshold=0.5),
...     CheckDeclaration("doctor.present", "not_null", "visit", "doctor_id"),
... ]
>>> res = run_checks({"visit": visits}, decls)
>>> res[["check_id", "status", "violating_rows", "applicable_rows"]]
         check_id          status  violating_rows  applicable_rows
0   payer.present          failed               1                4
1     payer.valid          passed               1                3
2  doctor.present  not_applicable            <NA>             <NA>
>>> res.reason[2]
"table 'visit' has no column 'doctor_id'"

Per month, through the table's period column:

>>> from datetime import date
>>> visits = visits.mutate(visit_time=ibis.date("2024-01-31"))
>>> later = ibis.memtable({"visit_id": ["v5"], "payer": [None], "visit_time": [date(2024, 2, 1)]},
...                       schema={"visit_id": "string", "payer": "string", "visit_time": "date"})
>>> res = run_checks({"visit": visits.union(later)}, decls[:1], by_month=True,
...                  period_columns={"visit": "visit_time"})
>>> res[["check_id", "partition", "status", "violating_rows", "applicable_rows"]]
        check_id partition  status  violating_rows  applicable_rows
0  payer.present   2024-01  failed               1                4
1  payer.present   2024-02  failed               1                1
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound

from hospital_sdk.errors import ResultsError
from hospital_sdk.model import CONTRACT, Contract
from hospital_sdk.quality.checks import (
    CHECK_TYPES, PARTITION, CheckContext, CheckNotApplicable, Period, month_label,
)
from hospital_sdk.quality.declarations import CheckDeclaration

RESULT_COLUMNS: tuple[str, ...] = (
    "check_id", "table", "field", "check_type", "kahn_category", "severity", "status",
    "violating_rows", "applicable_rows", "rate", "threshold", "reason", "protects", "partition",
)
"""Columns of :func:`run_checks`' results; ``partition`` is ``YYYY-MM`` or ``None``."""
Tables = Mapping[str, ir.Table] | BaseBackend | tuple[BaseBackend, str | tuple[str, str] | None]


def _fetcher(source: Tables) -> Callable[[str], ir.Table]:
    """A ``name -> ibis table`` function raising :class:`CheckNotApplicable` when absent."""
    if isinstance(source, Mapping):
        def from_mapping(name: str) -> ir.Table:
            if name not in source:
                raise CheckNotApplicable(f"no table {name!r}")
            return source[name]
        return from_mapping
    con, database = source if isinstance(source, tuple) else (source, None)
    cache: dict[str, ir.Table] = {}

    def from_backend(name: str) -> ir.Table:
        if name not in cache:
            try:
                cache[name] = con.table(name, database=database)
            except TableNotFound:
                where = f" in {database!r}" if database is not None else ""
                raise CheckNotApplicable(f"no table {name!r}{where}") from None
        return cache[name]
    return from_backend


def _row(decl: CheckDeclaration, status: str, violating: int | None = None,
         applicable: int | None = None, reason: str = "",
         partition: str | None = None) -> dict[str, Any]:
    rate = violating / applicable if violating is not None and applicable else math.nan
    return {
        "check_id": decl.id, "table": decl.table, "field": ", ".join(decl.fields) or None,
        "check_type": decl.check_type, "kahn_category": decl.kahn_category,
        "severity": decl.severity, "status": status, "violating_rows": violating,
        "applicable_rows": applicable, "rate": rate, "threshold": decl.threshold,
        "reason": reason, "protects": decl.protects, "partition": partition,
    }


def _as_int(value: Any) -> int:
    """An aggregate as int: a sum over no rows comes back null, which is 0 rows."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(value)


def run_check(ctx: CheckContext, decl: CheckDeclaration) -> list[dict[str, Any]]:
    """Evaluate one declaration with one aggregate query (never raises).

    Returns one result row; with ``ctx.by_month`` and a checked table that has a period column,
    one per month present, in month order (rows without a period value last, as ``None``).
    When no month has rows, one ``not_applicable`` row with ``partition`` ``None``.
    """
    built = _build(ctx, decl)
    if isinstance(built, list):
        return built
    try:
        counts = built.to_pandas()
    except Exception as exc:  # noqa: BLE001 - an error is a result, never a crash of the run
        return [_row(decl, "error", reason=f"{type(exc).__name__}: {exc}".strip())]
    return _rows_of(decl, counts)


def _build(ctx: CheckContext, decl: CheckDeclaration) -> ir.Table | list[dict[str, Any]]:
    """The check's aggregate expression, or its result rows when it cannot be built."""
    try:
        return CHECK_TYPES[decl.check_type].build(ctx, decl)
    except CheckNotApplicable as exc:
        return [_row(decl, "not_applicable", reason=str(exc))]
    except Exception as exc:  # noqa: BLE001 - an error is a result, never a crash of the run
        return [_row(decl, "error", reason=f"{type(exc).__name__}: {exc}".strip())]


def _rows_of(decl: CheckDeclaration, counts: pd.DataFrame) -> list[dict[str, Any]]:
    """Result rows from the executed counts of one check."""
    if PARTITION not in counts.columns:
        return [_judge(decl, counts["violating"].iloc[0], counts["applicable"].iloc[0])]
    if counts.empty:
        return [_row(decl, "not_applicable", 0, 0, reason="no rows to check in any month")]
    months = counts.sort_values(PARTITION, na_position="last")
    return [_judge(decl, r.violating, r.applicable,
                   None if pd.isna(r[PARTITION]) else month_label(int(r[PARTITION])))
            for _, r in months.iterrows()]


def _judge(decl: CheckDeclaration, violating: Any, applicable: Any,
           partition: str | None = None) -> dict[str, Any]:
    """The result row of one ``(violating, applicable)`` pair of counts."""
    violating, applicable = _as_int(violating), _as_int(applicable)
    if applicable == 0:
        return _row(decl, "not_applicable", 0, 0, reason="no rows to check", partition=partition)
    passed = violating / applicable <= decl.threshold
    return _row(decl, "passed" if passed else "failed", violating, applicable,
                partition=partition)


def run_checks(con_or_tables: Tables, declarations: Iterable[CheckDeclaration], *,
               period: Period | None = None, as_of: date | datetime | None = None,
               contract: Contract | None = CONTRACT, by_month: bool = False,
               period_columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Run ``declarations`` and return one result row per check (and month), in declaration order.

    Parameters
    ----------
    con_or_tables
        A mapping table name -> Ibis table; or an Ibis backend; or ``(backend, database)``,
        e.g. ``(lakehouse.con, ("lake", "cleaned"))`` or ``(con, "cleaned")``.
    declarations
        The checks to run (see :mod:`hospital_sdk.quality.declarations`).
    period
        ``(start, end)``: restrict each checked table that has a period column to rows in
        ``[start, end)``. Tables it is compared with are read whole.
    as_of
        Reference date of ``not_in_future`` checks; today when omitted.
    contract
        Supplies the period columns and resolves ``code_set`` parameters.
    by_month
        One result per calendar month of the checked table's period column present in the data
        (within ``period``), labelled ``partition`` ``YYYY-MM``; checks on tables without a
        period column give one result with ``partition`` ``None``. Still one query per check.
        Months without rows do not appear; rows without a period value (possible only when
        there is no ``period``) are counted under ``partition`` ``None``.
    period_columns
        Table -> period column, overriding or adding to the contract's, e.g.
        ``{"stay_diagnosis": "discharge_time"}`` for a cleaned table that carries its stay's
        discharge time.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`; ``violating_rows`` and ``applicable_rows`` are
        nullable integers (missing for ``error`` and for a missing table or column), ``rate``
        is ``violating_rows / applicable_rows``, ``protects`` a tuple of indicator ids,
        ``partition`` ``YYYY-MM`` or ``None`` (always ``None`` unless ``by_month``).
    """
    periods = ({t.name: t.period_column for t in contract.tables if t.period_column}
               if contract is not None else {})
    periods.update(period_columns or {})
    ctx = CheckContext(_fetcher(con_or_tables), period=period, period_columns=periods,
                       contract=contract, as_of=as_of if as_of is not None else date.today(),
                       by_month=by_month)
    decls = list(declarations)
    built = {d.id: _build(ctx, d) for d in decls}
    batches: dict[tuple[str, tuple[str, ...]], list[CheckDeclaration]] = {}
    for d in decls:
        expr = built[d.id]
        if not isinstance(expr, list):
            batches.setdefault((d.table, tuple(expr.columns)), []).append(d)
    done: dict[str, list[dict[str, Any]]] = {}
    for batch in batches.values():
        done.update(_run_batch(batch, built))
    rows = [row for d in decls
            for row in (built[d.id] if isinstance(built[d.id], list) else done[d.id])]
    return results_frame(rows)


_BATCH_KEY = "__check_index"


def _run_batch(decls: list[CheckDeclaration],
               built: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Execute the checks of one table in one query (a UNION ALL of their aggregates), to pay
    the per-query overhead once per table; any failure falls back to one query per check, so
    an error stays the result of the check that caused it."""
    if len(decls) > 1:
        try:
            parts = [built[d.id].mutate(**{_BATCH_KEY: ibis.literal(i, type="int32")})
                     for i, d in enumerate(decls)]
            counts = ibis.union(*parts, distinct=False).to_pandas()
            return {d.id: _rows_of(d, counts[counts[_BATCH_KEY] == i].drop(columns=_BATCH_KEY)
                                   .reset_index(drop=True))
                    for i, d in enumerate(decls)}
        except Exception:  # noqa: BLE001, S110 - fall back below, one check at a time
            pass
    out = {}
    for d in decls:
        try:
            out[d.id] = _rows_of(d, built[d.id].to_pandas())
        except Exception as exc:  # noqa: BLE001 - an error is a result, never a crash
            out[d.id] = [_row(d, "error", reason=f"{type(exc).__name__}: {exc}".strip())]
    return out


def results_frame(rows: Iterable[Mapping[str, Any]],
                  columns: Sequence[str] = RESULT_COLUMNS) -> pd.DataFrame:
    """Result rows as a frame with ``columns`` and their types: counts ``Int64``, rates
    ``float64``; ``partition`` and ``failure_kind`` plain objects, so ``None`` stays ``None``."""
    rows = list(rows)
    frame = pd.DataFrame(rows, columns=list(columns))
    for col in ("partition", "failure_kind"):
        if col in frame:
            frame[col] = pd.Series([r.get(col) for r in rows], dtype=object, index=frame.index)
    for col in ("violating_rows", "applicable_rows", "quarantined_rows", "leaked_rows"):
        if col in frame:
            frame[col] = frame[col].astype("Int64")
    for col in ("rate", "threshold"):
        frame[col] = frame[col].astype("float64")
    return frame


def blocking_failures(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``results`` that must stop the data: blocking checks that failed or errored.

    A failure whose ``failure_kind`` is ``"quarantined"`` (see
    :func:`~hospital_sdk.quality.gate.with_gate`: the load gate stopped the bad rows,
    none reached the table) does not block.
    """
    mask = (results.severity == "blocking") & results.status.isin(["failed", "error"])
    if "failure_kind" in results:
        mask &= results.failure_kind.ne("quarantined").fillna(True).astype(bool)
    return results[mask]
