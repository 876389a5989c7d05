"""Data-quality checks as data, run on any Ibis backend.

Check *types* live in :mod:`~hospital_sdk.quality.checks` (one set-wise aggregate each),
*declarations* apply them to tables and fields (:mod:`~hospital_sdk.quality.declarations`:
derived from the contract, or written in YAML), and :func:`run_checks` returns one result per
check: passed / failed (with violating row counts) / not_applicable (with a reason) / error.
Nothing here knows Dagster: an asset check wraps :func:`run_checks` on its own table.

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

from hospital_sdk.quality.checks import CHECK_TYPES, CheckContext, CheckNotApplicable, CheckType
from hospital_sdk.quality.declarations import (
    FOUNDATION,
    CheckDeclaration,
    contract_declarations,
    foundation_declarations,
    load_declarations,
    with_thresholds,
)
from hospital_sdk.quality.runner import RESULT_COLUMNS, blocking_failures, run_check, run_checks

__all__ = [
    "CHECK_TYPES", "FOUNDATION", "RESULT_COLUMNS", "CheckContext", "CheckDeclaration",
    "CheckNotApplicable", "CheckType", "blocking_failures", "contract_declarations",
    "foundation_declarations", "load_declarations", "run_check", "run_checks",
    "with_thresholds",
]
