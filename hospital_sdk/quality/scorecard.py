"""Quality results kept over time: the check history and the scorecard of the latest results.

Every evaluation of an asset's checks is appended to ``lake.application.quality_check_history``
(one row per check and partition, with the run that produced it); the scorecard is the latest
result of each check of each asset and partition, and its summary counts the statuses by layer,
Kahn category and table. Each recording is one lakehouse transaction: a crash leaves the history
as it was before, never half a run.

Examples
--------
>>> import tempfile
>>> from datetime import datetime, timezone
>>> import ibis
>>> from hospital_sdk.quality import CheckDeclaration, run_checks
>>> from hospital_sdk.store import Lakehouse
>>> d = CheckDeclaration("visit.payer.not_null", "not_null", "visit", "payer")
>>> res = run_checks({"visit": ibis.memtable({"payer": ["01", None]})}, [d])
>>> with Lakehouse.open(tempfile.mkdtemp()) as lake:
...     record_results(lake, res, layer="raw", asset="visit", run_id="r1",
...                    evaluated_at=datetime(2024, 3, 1, tzinfo=timezone.utc))
...     latest = latest_scorecard(lake)
...     write_scorecard(lake)
1
1
>>> latest[["run_id", "check_id", "status", "violating_rows", "applicable_rows"]]
  run_id              check_id  status  violating_rows  applicable_rows
0     r1  visit.payer.not_null  failed               1                2
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from hospital_sdk.errors import StoreError
from hospital_sdk.quality.runner import RESULT_COLUMNS, ResultsError

if TYPE_CHECKING:  # pragma: no cover
    from hospital_sdk.store import Lakehouse

LAYER = "application"
HISTORY = "quality_check_history"
"""Application-layer table of every recorded result."""
SCORECARD = "quality_scorecard"
"""Application-layer table of the latest result per layer, asset, check and partition."""

HISTORY_SCHEMA = ibis.schema({
    "run_id": "!string", "evaluated_at": "!timestamp('UTC')", "layer": "!string",
    "asset": "!string", "check_id": "!string", "check_type": "string", "table_name": "string",
    "field": "string", "partition": "string", "status": "!string", "violating_rows": "int64",
    "applicable_rows": "int64", "rate": "float64", "threshold": "float64", "severity": "string",
    "kahn_category": "string", "protects": "string", "reason": "string",
    "quarantined_rows": "int64", "leaked_rows": "int64", "failure_kind": "string",
})
"""Columns of :data:`HISTORY` and :data:`SCORECARD`: the result columns (``table`` stored as
``table_name``, ``protects`` comma-joined, the gate's ``quarantined_rows``, ``leaked_rows`` and
``failure_kind`` null when the results had none) and which run, when, which layer and asset."""

SCORECARD_KEY: tuple[str, ...] = ("layer", "asset", "check_id", "partition")
"""A scorecard has one row per value of these columns."""

STATUSES: tuple[str, ...] = ("passed", "failed", "error", "not_applicable")

_ARROW = pa.schema([pa.field(name, dtype.to_pyarrow(), nullable=dtype.nullable)
                    for name, dtype in HISTORY_SCHEMA.items()])
_STAGE = "__hospital_sdk_quality_results"


def record_results(lake: Lakehouse, results: pd.DataFrame, *, layer: str, asset: str,
                   run_id: str, evaluated_at: datetime) -> int:
    """Append ``results`` to the check history; return the number of rows written.

    Idempotent per run: the rows this ``run_id`` recorded earlier for the same ``layer``,
    ``asset`` and the partitions in ``results`` are replaced, in the same transaction as the
    insert (delete + insert commit together or not at all). Other partitions recorded by the
    run are kept, so a run may record its partitions one call at a time.

    Parameters
    ----------
    lake
        The lakehouse; the table is created in its application layer on first use.
    results
        :func:`~hospital_sdk.quality.run_checks` results (one row per check and partition),
        possibly with the gate columns of :func:`~hospital_sdk.quality.with_gate`.
    layer, asset
        Where the checked data lives, e.g. ``"raw"`` and ``"raw/inpatient_stay"``.
    run_id
        The run (e.g. the Dagster run id).
    evaluated_at
        When the checks ran; a naive datetime is local time, stored as UTC.

    Raises
    ------
    ResultsError
        When ``results`` lacks a result column or has an unknown status.
    StoreError
        When the lakehouse refuses the rows (e.g. a missing ``check_id``); the transaction is
        rolled back, so the history is as it was.
    """
    missing = [c for c in RESULT_COLUMNS if c not in results.columns]
    if missing:
        raise ResultsError(f"the results lack the columns {missing}")
    unknown = sorted(set(results["status"].dropna()) - set(STATUSES))
    if unknown:
        raise ResultsError(f"unknown statuses {unknown}; expected {STATUSES}")
    when = evaluated_at if evaluated_at.tzinfo is not None else evaluated_at.astimezone()
    rows = _history_rows(results, run_id=run_id, layer=layer, asset=asset,
                         evaluated_at=when.astimezone(timezone.utc))
    lake.ensure_table(HISTORY, HISTORY_SCHEMA, LAYER)
    target = f"lake.{LAYER}.{HISTORY}"

    def work(duck: duckdb.DuckDBPyConnection) -> int:
        duck.register(_STAGE, rows)
        try:
            duck.execute(
                f"DELETE FROM {target} h WHERE run_id = ? AND layer = ? AND asset = ? AND EXISTS "
                f"(SELECT 1 FROM {_STAGE} s WHERE s.partition IS NOT DISTINCT FROM h.partition)",
                [run_id, layer, asset])
            if rows.num_rows == 0:
                return 0
            return int(duck.execute(f"INSERT INTO {target} BY NAME FROM {_STAGE}").fetchone()[0])
        finally:
            duck.unregister(_STAGE)

    label = asset if asset.startswith(f"{layer}/") else f"{layer}/{asset}"
    try:
        return lake.write(work, description=f"record quality results of {label} ({run_id})")
    except duckdb.Error as exc:
        raise StoreError(f"cannot record the results of {label} ({run_id}) in "
                         f"{target}; nothing was written: {exc}") from exc


def _history_rows(results: pd.DataFrame, **run: Any) -> pa.Table:
    """``results`` as rows of :data:`HISTORY`, typed as its schema."""
    n = len(results)

    def column(name: str) -> list[Any]:
        if name in run:
            return [run[name]] * n
        source = {"table_name": "table"}.get(name, name)
        if source not in results.columns:
            return [None] * n
        values = [None if _missing(v) else v for v in results[source].tolist()]
        if name == "protects":
            return [v if v is None or isinstance(v, str) else ",".join(v) for v in values]
        return values

    return pa.table({f.name: pa.array(column(f.name), type=f.type) for f in _ARROW}, schema=_ARROW)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and math.isnan(value))


def _latest(lake: Lakehouse) -> ir.Table:
    """The newest row of each :data:`SCORECARD_KEY` (ties: the larger ``run_id``)."""
    history = lake.table(HISTORY, LAYER)
    rank = ibis.row_number().over(group_by=[history[c] for c in SCORECARD_KEY],
                                  order_by=[history.evaluated_at.desc(), history.run_id.desc()])
    return history.mutate(_rank=rank).filter(ibis._._rank == 0).drop("_rank")


def latest_scorecard(lake: Lakehouse) -> pd.DataFrame:
    """The latest result of every check per layer, asset and partition (columns
    :data:`HISTORY_SCHEMA`), sorted by those; empty before anything was recorded."""
    if not lake.has_table(HISTORY, LAYER):
        return _ARROW.empty_table().to_pandas()
    latest = _latest(lake).order_by([*SCORECARD_KEY]).to_pandas()
    return _none_for_missing(latest.reset_index(drop=True))


def _none_for_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as objects with ``None`` for missing values, as in the check results."""
    for name in frame.columns:
        if pd.api.types.is_string_dtype(frame[name]):
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


def scorecard_summary(latest: pd.DataFrame, *, by_partition: bool = False) -> pd.DataFrame:
    """Statuses and violating rows of a scorecard by layer, Kahn category and table.

    Parameters
    ----------
    latest
        :func:`latest_scorecard` (or any frame with its columns).
    by_partition
        Also split by ``partition``.

    Returns
    -------
    pandas.DataFrame
        One row per ``layer, kahn_category, table_name`` (and ``partition``): ``checks``, the
        count of each status (``passed``, ``failed``, ``error``, ``not_applicable``) and the
        total ``violating_rows``.

    Examples
    --------
    >>> latest = pd.DataFrame({"layer": ["raw"] * 3, "kahn_category": ["conformance"] * 3,
    ...                        "table_name": ["visit"] * 3, "partition": [None] * 3,
    ...                        "status": ["passed", "failed", "error"],
    ...                        "violating_rows": [0, 4, None]})
    >>> scorecard_summary(latest).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'layer': 'raw', 'kahn_category': 'conformance', 'table_name': 'visit', 'checks': 3,
     'passed': 1, 'failed': 1, 'error': 1, 'not_applicable': 0, 'violating_rows': 4}
    """
    keys = ["layer", "kahn_category", "table_name", *(["partition"] if by_partition else [])]
    missing = [c for c in (*keys, "status", "violating_rows") if c not in latest.columns]
    if missing:
        raise ResultsError(f"the scorecard lacks the columns {missing}")
    frame = latest[keys].astype(object).where(latest[keys].notna(), None)
    for status in STATUSES:
        frame[status] = (latest["status"] == status).astype("int64")
    frame["violating_rows"] = pd.to_numeric(latest["violating_rows"]).fillna(0).astype("int64")
    frame["checks"] = 1
    summary = frame.groupby(keys, dropna=False, sort=True)[
        ["checks", *STATUSES, "violating_rows"]].sum().reset_index()
    summary = summary.astype({c: "int64" for c in ("checks", *STATUSES, "violating_rows")})
    return _none_for_missing(summary)


def write_scorecard(lake: Lakehouse) -> int:
    """Materialise :func:`latest_scorecard` as ``lake.application.quality_scorecard`` (replaced
    whole, in one transaction, computed inside DuckDB); return its number of rows."""
    lake.ensure_table(HISTORY, HISTORY_SCHEMA, LAYER)
    lake.ensure_table(SCORECARD, HISTORY_SCHEMA, LAYER)
    return lake.replace(SCORECARD, _latest(lake), LAYER)

