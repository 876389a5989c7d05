"""Building the aggregated layer in the lakehouse, behind the blocking data-quality checks.

:func:`refresh_aggregated` builds one table of :data:`~hospital_sdk.aggregated.AGGREGATED_TABLES`
for a range of months (each month by its builder, inside DuckDB) and replaces exactly those
months in one transaction, or rebuilds an unpartitioned table whole. Before anything is built it
asks the scorecard (:mod:`hospital_sdk.quality.scorecard`) for the latest result of every
blocking check of the cleaned tables it reads, in those months: if one failed (or errored) with
bad rows in the lake, it refuses with :class:`~hospital_sdk.errors.BlockedByChecksError`
naming the checks. Bad data does not reach this layer, whichever run found it.
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis.expr.types as ir
import pandas as pd

from hospital_sdk.aggregated import AGGREGATED_TABLES, AggregatedTable
from hospital_sdk.cleaned.refresh import RefreshResult
from hospital_sdk.errors import BlockedByChecksError, ContractError
from hospital_sdk.quality.scorecard import latest_scorecard
from hospital_sdk.store import Lakehouse
from hospital_sdk.store.partitions import month_bounds, replace_months

__all__ = ["LAYER", "blocking_failures_for", "months_between", "refresh_aggregated"]

LAYER = "aggregated"
_HISTORY = "quality_check_history"


def months_between(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive.

    >>> months_between("2024-11", "2025-02")
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    out, month = [], month_bounds(first)[0]
    end = month_bounds(last)[0]
    while month <= end:
        out.append(f"{month:%Y-%m}")
        month = month_bounds(month)[1]
    return out


def blocking_failures_for(lake: Lakehouse, tables: tuple[str, ...], months: list[str] | None,
                          *, layer: str = "cleaned") -> pd.DataFrame:
    """Latest results of blocking checks on ``tables`` of ``layer`` that failed or errored with
    bad rows in the lake, in ``months`` (``None``: any month) or for the whole table."""
    if not lake.has_table(_HISTORY, "application"):
        return pd.DataFrame()
    latest = latest_scorecard(lake)
    bad = latest[(latest.layer == layer) & latest.table_name.isin(tables)
                 & (latest.severity == "blocking") & latest.status.isin(["failed", "error"])
                 & (latest.failure_kind.fillna("") != "quarantined")]
    if months is not None:
        bad = bad[bad.partition.isna() | bad.partition.isin(months)]
    return bad


def _inputs(lake: Lakehouse, table: AggregatedTable) -> dict[str, ir.Table]:
    inputs = {}
    for name in table.reads:
        if not lake.has_table(name, "cleaned"):
            raise ContractError(f"aggregated.{table.name} reads cleaned.{name}, which is not "
                                "built yet")
        inputs[name] = lake.table(name, "cleaned")
    for name in table.uses:
        if not lake.has_table(name, LAYER):
            raise ContractError(f"aggregated.{table.name} is built from aggregated.{name}, "
                                "which is not built yet")
        inputs[name] = lake.table(name, LAYER)
    return inputs


def refresh_aggregated(lake: Lakehouse, name: str, *, first: str | None = None,
                       last: str | None = None,
                       tables: Mapping[str, AggregatedTable] = AGGREGATED_TABLES
                       ) -> RefreshResult:
    """Rebuild aggregated table ``name`` for months ``first`` .. ``last`` (monthly tables), or
    whole (``first`` and ``last`` omitted).

    Raises
    ------
    BlockedByChecksError
        A blocking check of a cleaned table it reads failed in those months (latest result).
    ContractError
        Unknown table, months wrong for the table, or an input not built yet.
    """
    if name not in tables:
        raise ContractError(f"{name!r} is not an aggregated table ({sorted(tables)})")
    table = tables[name]
    monthly = table.period_column is not None
    if monthly and (first is None or last is None):
        raise ContractError(f"aggregated.{name} is split into months: give first and last")
    if not monthly and (first is not None or last is not None):
        raise ContractError(f"aggregated.{name} is rebuilt whole: give no months")
    months = months_between(first, last) if monthly else None  # type: ignore[arg-type]
    failures = blocking_failures_for(lake, table.reads, months)
    if not failures.empty:
        listed = "; ".join(f"{r.check_id} ({r.partition or 'whole table'}: {r.status}, "
                           f"{r.violating_rows} rows)" for r in failures.itertuples())
        raise BlockedByChecksError(
            f"aggregated.{name} not built for {months or 'all months'}: blocking checks of "
            f"the cleaned tables it reads failed: {listed}. Fix the data (or the check's "
            f"threshold) and rerun the cleaned layer first")
    inputs = _inputs(lake, table)
    if months is None:
        written = lake.replace(name, table.build(inputs, None), LAYER)
        return RefreshResult(name, None, None, written, written)
    parts = [table.build(inputs, m) for m in months]
    expr = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    assert table.period_column is not None
    written = replace_months(lake, name, expr, layer=LAYER, period_column=table.period_column,
                             first=months[0], last=months[-1])
    return RefreshResult(name, months[0], months[-1], written, written)
