"""Data-quality checks as data, run on any Ibis backend.

Check *types* live in :mod:`~hospital_sdk.quality.checks` (one set-wise aggregate each),
*declarations* apply them to tables and fields (:mod:`~hospital_sdk.quality.declarations`:
derived from the contract, or written in YAML), and :func:`run_checks` returns one result per
check (per month with ``by_month``): passed / failed (with violating row counts) /
not_applicable (with a reason) / error. :mod:`~hospital_sdk.quality.gate` turns the loader's
quarantined rows into counts per declaration and adds them to the raw layer's results;
:mod:`~hospital_sdk.quality.scorecard` keeps every result in the lakehouse and derives the
scorecard. Nothing here knows Dagster: an asset check wraps :func:`run_checks` on its own table.

Examples
--------
>>> import ibis
>>> from hospital_sdk.model import CONTRACT
>>> from hospital_sdk.quality import contract_declarations, run_checks
>>> stays = ibis.memtable({"institution_id": ["H1", "H1", "H1"], "stay_id": ["s1", "s2", "s2"]})
>>> decls = [d for d in contract_declarations(CONTRACT)
...          if d.id == "inpatient_stay.primary_key.unique_key"]
>>> r = run_checks({"inpatient_stay": stays}, decls).iloc[0]
>>> r.status, int(r.violating_rows), int(r.applicable_rows)
('failed', 1, 3)
"""

from __future__ import annotations

from hospital_sdk.quality.checks import (
    CHECK_TYPES,
    PARTITION,
    CheckContext,
    CheckNotApplicable,
    CheckType,
    month_index,
    month_label,
)
from hospital_sdk.quality.declarations import (
    FOUNDATION,
    CheckDeclaration,
    contract_declarations,
    foundation_declarations,
    load_declarations,
    with_thresholds,
)
from hospital_sdk.quality.gate import (
    GATE_COLUMNS,
    GATE_REASONS,
    GATED_RESULT_COLUMNS,
    gate_results,
    reason_check_id,
    reason_check_type,
    with_gate,
)
from hospital_sdk.quality.runner import (
    RESULT_COLUMNS,
    ResultsError,
    blocking_failures,
    results_frame,
    run_check,
    run_checks,
)
from hospital_sdk.quality.scorecard import (
    HISTORY,
    HISTORY_SCHEMA,
    SCORECARD,
    latest_scorecard,
    record_results,
    scorecard_summary,
    write_scorecard,
)

__all__ = [
    "CHECK_TYPES", "CheckContext", "CheckDeclaration", "CheckNotApplicable", "CheckType",
    "FOUNDATION", "GATED_RESULT_COLUMNS", "GATE_COLUMNS", "GATE_REASONS", "HISTORY",
    "HISTORY_SCHEMA", "PARTITION", "RESULT_COLUMNS", "ResultsError", "SCORECARD",
    "blocking_failures", "contract_declarations", "foundation_declarations", "gate_results",
    "latest_scorecard", "load_declarations", "month_index", "month_label", "reason_check_id",
    "reason_check_type", "record_results", "results_frame", "run_check", "run_checks",
    "scorecard_summary", "with_gate", "with_thresholds", "write_scorecard",
]
