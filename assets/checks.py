"""Data-quality checks as Dagster asset checks: declarations in, check specs and results out.

The checks themselves are data (:mod:`hospital_sdk.quality`): each declaration names its check
type, table, fields, threshold, severity and Kahn category, and the indicators it protects. This
module only translates them for Dagster:

* one :class:`dagster.AssetCheckSpec` per declaration on the asset of its table, *blocking*
  when the declaration's severity is ``blocking`` (a failure stops the downstream assets of the
  run);
* the result rows of :func:`hospital_sdk.quality.run_checks` (one per check and month) folded
  into one :class:`dagster.AssetCheckResult` per check, with the counts of violating and
  applicable rows as metadata; ``error`` and ``not_applicable`` keep their status and reason in
  the metadata (an error fails the check, a not-applicable check passes and says why).

Every result row is also appended to the persisted history (the scorecard) by the asset that
ran it, before the Dagster results are yielded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

import dagster as dg
import pandas as pd

from hospital_sdk.quality import CheckDeclaration

_NAME = re.compile(r"[^A-Za-z0-9_]")


def check_name(check_id: str) -> str:
    """The Dagster check name of a declaration id (Dagster names allow ``[A-Za-z0-9_]``).

    >>> check_name("stay_diagnosis.diagnosis_code.not_null")
    'stay_diagnosis__diagnosis_code__not_null'
    """
    return _NAME.sub("__", check_id)


def check_specs(declarations: Iterable[CheckDeclaration],
                key_of: dict[str, dg.AssetKey]) -> list[dg.AssetCheckSpec]:
    """One spec per declaration whose table has an asset in ``key_of`` (table -> asset key)."""
    return [dg.AssetCheckSpec(
        check_name(d.id), asset=key_of[d.table], blocking=d.severity == "blocking",
        description=d.description_en or d.id,
        metadata={"check_id": d.id, "check_type": d.check_type, "severity": d.severity,
                  "kahn_category": d.kahn_category, "threshold": d.threshold,
                  "fields": ", ".join(d.fields), "protects": ", ".join(d.protects),
                  "description_zh": d.description_zh})
        for d in declarations if d.table in key_of]


def _int(value: object) -> int:
    return 0 if value is None or pd.isna(value) else int(value)  # type: ignore[arg-type]


def _status(statuses: Sequence[str]) -> str:
    for status in ("error", "failed", "passed"):
        if status in statuses:
            return status
    return "not_applicable"


def check_results(results: pd.DataFrame, declarations: Iterable[CheckDeclaration],
                  key_of: dict[str, dg.AssetKey],
                  selected: set[dg.AssetCheckKey] | None = None
                  ) -> Iterator[dg.AssetCheckResult]:
    """Fold result rows (one per check and month) into one Dagster result per check.

    ``results`` has the columns of :func:`hospital_sdk.quality.run_checks`; when it has
    ``leaked_rows`` (raw layer: rows quarantined at the load gate vs rows that reached the
    lake), a blocking check is reported with severity ERROR only if bad rows leaked into the
    table: quarantined rows were stopped and must not stop the run.
    """
    for check_id, rows in results.groupby("check_id", sort=False):
        first = rows.iloc[0]
        key = dg.AssetCheckKey(key_of[first.table], check_name(str(check_id)))
        if selected is not None and key not in selected:
            continue
        status = _status(list(rows.status))
        violating = sum(_int(v) for v in rows.violating_rows)
        applicable = sum(_int(v) for v in rows.applicable_rows)
        meta: dict[str, object] = {
            "check_id": str(check_id), "status": status, "violating_rows": violating,
            "applicable_rows": applicable,
            "rate": round(violating / applicable, 6) if applicable else 0.0,
            "threshold": float(first.threshold), "kahn_category": str(first.kahn_category)}
        bad = rows[rows.status.isin(["failed", "error"])]
        if "partition" in rows and rows.partition.notna().any():
            meta["months_failed"] = ", ".join(sorted(str(p) for p in bad.partition.dropna()))
        reasons = sorted({str(r) for r in rows.reason.dropna() if str(r)})
        if reasons:
            meta["reason"] = "; ".join(reasons)[:2000]
        leaked = True
        if "leaked_rows" in rows:
            meta["quarantined_rows"] = sum(_int(v) for v in rows.quarantined_rows)
            meta["leaked_rows"] = sum(_int(v) for v in rows.leaked_rows)
            leaked = meta["leaked_rows"] > 0 or status == "error"  # type: ignore[operator]
        blocking = first.severity == "blocking" and leaked
        yield dg.AssetCheckResult(
            asset_key=key.asset_key, check_name=key.name,
            passed=status in ("passed", "not_applicable"), metadata=meta,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN)
