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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import ibis.expr.types as ir
import pandas as pd
from ibis.backends import BaseBackend
from ibis.common.exceptions import TableNotFound

from hospital_sdk.model import CONTRACT, Contract
from hospital_sdk.quality.checks import CHECK_TYPES, CheckContext, CheckNotApplicable
from hospital_sdk.quality.declarations import CheckDeclaration

RESULT_COLUMNS: tuple[str, ...] = (
    "check_id", "table", "field", "check_type", "kahn_category", "severity", "status",
    "violating_rows", "applicable_rows", "rate", "threshold", "reason", "protects",
)
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
         applicable: int | None = None, reason: str = "") -> dict[str, Any]:
    rate = violating / applicable if violating is not None and applicable else math.nan
    return {
        "check_id": decl.id, "table": decl.table, "field": ", ".join(decl.fields) or None,
        "check_type": decl.check_type, "kahn_category": decl.kahn_category,
        "severity": decl.severity, "status": status, "violating_rows": violating,
        "applicable_rows": applicable, "rate": rate, "threshold": decl.threshold,
        "reason": reason, "protects": decl.protects,
    }


def _as_int(value: Any) -> int:
    """An aggregate as int: a sum over no rows comes back null, which is 0 rows."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(value)


def run_check(ctx: CheckContext, decl: CheckDeclaration) -> dict[str, Any]:
    """Evaluate one declaration: one aggregate query, one result row (never raises)."""
    try:
        expr = CHECK_TYPES[decl.check_type].build(ctx, decl)
        counts = expr.to_pandas()
    except CheckNotApplicable as exc:
        return _row(decl, "not_applicable", reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - an error is a result, never a crash of the run
        return _row(decl, "error", reason=f"{type(exc).__name__}: {exc}".strip())
    violating = _as_int(counts["violating"].iloc[0])
    applicable = _as_int(counts["applicable"].iloc[0])
    if applicable == 0:
        return _row(decl, "not_applicable", 0, 0, reason="no rows to check")
    passed = violating / applicable <= decl.threshold
    return _row(decl, "passed" if passed else "failed", violating, applicable)


def run_checks(con_or_tables: Tables, declarations: Iterable[CheckDeclaration], *,
               period: tuple[date | datetime, date | datetime] | None = None,
               as_of: date | datetime | None = None,
               contract: Contract | None = CONTRACT) -> pd.DataFrame:
    """Run ``declarations`` and return one result row per check, in declaration order.

    Parameters
    ----------
    con_or_tables
        A mapping table name -> Ibis table; or an Ibis backend; or ``(backend, database)``,
        e.g. ``(lakehouse.con, ("lake", "cleaned"))`` or ``(con, "cleaned")``.
    declarations
        The checks to run (see :mod:`hospital_sdk.quality.declarations`).
    period
        ``(start, end)``: restrict each checked table that has a contract ``period_column``
        to rows in ``[start, end)``. Tables it is compared with are read whole.
    as_of
        Reference date of ``not_in_future`` checks; today when omitted.
    contract
        Supplies the period columns and resolves ``code_set`` parameters.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RESULT_COLUMNS`; ``violating_rows`` and ``applicable_rows`` are
        nullable integers (missing for ``error`` and for a missing table or column), ``rate``
        is ``violating_rows / applicable_rows``, ``protects`` a tuple of indicator ids.
    """
    periods = ({t.name: t.period_column for t in contract.tables if t.period_column}
               if contract is not None else {})
    ctx = CheckContext(_fetcher(con_or_tables), period=period, period_columns=periods,
                       contract=contract, as_of=as_of if as_of is not None else date.today())
    rows = [run_check(ctx, d) for d in declarations]
    frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    for col in ("violating_rows", "applicable_rows"):
        frame[col] = frame[col].astype("Int64")
    frame["rate"] = frame["rate"].astype("float64")
    frame["threshold"] = frame["threshold"].astype("float64")
    return frame


def blocking_failures(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``results`` that must stop the data: blocking checks that failed or errored."""
    mask = (results.severity == "blocking") & results.status.isin(["failed", "error"])
    return results[mask]
