"""The raw layer: one asset per source table of the data contract, landed as delivered.

One multi-asset loads the landing folder (:func:`hospital_sdk.ingest.load_folder`: validation,
quarantine of bad rows in ``lake.raw.load_rejects``, rows in = loaded + rejected per file,
unchanged files skipped), subsettable so a run can land just the tables whose files changed. Each
table's asset carries the load reconciliation as metadata, and the contract's checks as asset
checks: rows the load gate quarantined are counted against the check they break (they were
stopped: a warning), rows breaking a blocking check *inside* the table would be a leak (an error
that stops the run).
"""


import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, timezone

import dagster as dg

from assets.checks import check_results, check_specs
from assets.resources import POOL, LakeResource
from hospital_sdk.ingest import LoadReport, load_folder
from hospital_sdk.model import CONTRACT
from hospital_sdk.cleaned.tables import STAY_CHILDREN
from hospital_sdk.quality import (
    contract_declarations, foundation_declarations, gate_results, run_checks, with_gate,
)
from hospital_sdk.quality.scorecard import record_results

GROUP = "raw"
TABLES: tuple[str, ...] = tuple(t.name for t in CONTRACT.source_tables())
KEYS: dict[str, dg.AssetKey] = {t: dg.AssetKey([GROUP, t]) for t in TABLES}
ORPHAN_CHECKS = tuple(
    dataclasses.replace(d, severity="warning") for d in foundation_declarations(CONTRACT)
    if d.check_type == "referential_integrity" and d.table in STAY_CHILDREN)
"""References from the parts of the discharge record to their stay are checked here, in the raw
layer, where orphans can exist: the cleaned layer carries a part only with its stay (orphans are
reported as excluded rows), so there they hold by construction and cannot reach an indicator —
hence a warning, not a block."""
DECLARATIONS = (*(d for d in contract_declarations(CONTRACT) if d.table in KEYS), *ORPHAN_CHECKS)


def _spec(name: str) -> dg.AssetSpec:
    t = CONTRACT.table(name)
    return dg.AssetSpec(
        KEYS[name], group_name=GROUP, kinds={"duckdb", "parquet"},
        description=f"{t.en} ({t.zh}), as delivered: {t.grain_en}. Bad rows are quarantined in "
                    "lake.raw.load_rejects with file, row, field and reason.",
        metadata={"table": f"lake.raw.{name}", "grain": t.grain_en,
                  "primary_key": ", ".join(t.primary_key)})


@dg.multi_asset(name="raw_layer", specs=[_spec(t) for t in TABLES],
                check_specs=check_specs(DECLARATIONS, KEYS), can_subset=True, pool=POOL)
def raw_layer(context: dg.AssetExecutionContext,
              lake: LakeResource) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Load the landing folder's files of the selected tables into ``lake.raw``."""
    tables = [k.path[-1] for k in context.selected_asset_keys]
    report = load_folder(lake.source_folder, lake.lake, tables=tables)
    context.log.info(report.summary())
    for name in tables:
        files = [f for f in report.files if f.table_name == name]
        reasons = LoadReport(tuple(files)).reject_reasons(by_kind=True)
        yield dg.MaterializeResult(asset_key=KEYS[name], metadata={
            "files": len(files), "files_loaded_now": sum(f.status != "unchanged" for f in files),
            "rows_in": sum(f.rows_in for f in files),
            "rows_loaded": sum(f.rows_loaded for f in files),
            "rows_rejected": sum(f.rows_rejected for f in files),
            "rejected_by_reason": dg.MetadataValue.md(
                "\n".join(f"- {n:,} {reason}" for reason, n in reasons.most_common(20))
                or "none"),
            "rejects": f"lake.raw.load_rejects WHERE table_name = '{name}'"})
    decls = [d for d in DECLARATIONS if d.table in tables]
    results = with_gate(run_checks((lake.lake.con, ("lake", "raw")), decls, as_of=date.today()),
                        gate_results(lake.lake.table("load_rejects", "raw"), decls))
    record_results(lake.lake, results, layer=GROUP, asset="raw_layer", run_id=context.run.run_id,
                   evaluated_at=datetime.now(timezone.utc))
    yield from check_results(results, decls, KEYS, set(context.selected_asset_check_keys))
