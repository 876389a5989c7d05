"""The cleaned layer: typed, deduplicated, conformed tables, one asset each.

Facts are split into monthly partitions (visit month, discharge month, ...: see
:mod:`hospital_sdk.cleaned.tables`); re-materializing a partition replaces exactly those months,
and a backfill of a range of months runs as one run (single-run backfill policy) writing one
transaction per table. Master data, catalogs, the reported inputs, the patient master index and
the status intervals are rebuilt whole.

The hand-written checks (:func:`hospital_sdk.quality.foundation_declarations`: codes known to the
catalogs, the principal diagnosis present, procedures within their stay, check-in before call,
references between tables, timeliness of arrivals, ...) run as asset checks of the table they
check, month by month for monthly tables, after the table is written; their results are kept in
the scorecard history. A blocking check that fails stops the aggregated layer in the same run,
and the aggregated assets refuse months whose latest blocking results failed in any run.
"""


from collections.abc import Iterator
from datetime import date, datetime, timezone

import dagster as dg

from assets.checks import check_results, check_specs
from assets.raw import KEYS as RAW
from assets.raw import ORPHAN_CHECKS
from assets.resources import POOL, LakeResource
from hospital_sdk.cleaned.refresh import (
    refresh_patient_index, refresh_status_intervals, refresh_table,
)
from hospital_sdk.cleaned.tables import STAY_CHILDREN, TABLES, CleanedTable
from hospital_sdk.model import CONTRACT
from hospital_sdk.quality import CheckDeclaration, foundation_declarations, run_checks
from hospital_sdk.quality.scorecard import record_results
from hospital_sdk.store.partitions import month_bounds

GROUP = "cleaned"
DERIVED = ("patient_index", "status_interval")
KEYS: dict[str, dg.AssetKey] = {t: dg.AssetKey([GROUP, t]) for t in (*TABLES, *DERIVED)}
DECLARATIONS = tuple(d for d in foundation_declarations(CONTRACT)
                     if d.table in KEYS and d.id not in {o.id for o in ORPHAN_CHECKS})
PERIOD_COLUMNS = {child: "discharge_time" for child in STAY_CHILDREN}
"""Period columns of the cleaned tables that differ from the contract's (checks by month)."""


def referenced_tables(decl: CheckDeclaration) -> set[str]:
    """Tables a check reads besides its own (catalog, parent, child).

    >>> from hospital_sdk.quality import CheckDeclaration
    >>> referenced_tables(CheckDeclaration("x", "catalog_membership", "stay_diagnosis",
    ...                   "diagnosis_code", {"catalog": "diagnosis_catalog.code"}))
    {'diagnosis_catalog'}
    """
    out = {str(decl.params[p]) for p in ("parent", "child") if p in decl.params}
    if "catalog" in decl.params:
        out.add(str(decl.params["catalog"]).split(".", 1)[0])
    return out - {decl.table}


RECORD: tuple[str, ...] = ("inpatient_stay", *STAY_CHILDREN)
"""The discharge record (病案首页): the stay and its diagnoses, procedures and ward movements are
one asset step, written together and then checked together, so a failed check of one part (an
unknown diagnosis code) cannot keep the others from being built and checked (the missing
principal diagnoses are still counted); a blocking failure stops the layers after this one."""


def _deps(specs: list[CleanedTable], decls: list[CheckDeclaration]) -> list[dg.AssetKey]:
    deps: set[dg.AssetKey] = set()
    for spec in specs:
        deps |= {RAW[spec.name]}
        deps |= {RAW["code_map"]} if spec.codes else set()
        deps |= {RAW[spec.parent]} if spec.parent else set()
        deps |= {KEYS["patient_index"]} if spec.links_patient else set()
    for d in decls:  # a check reading another cleaned table needs it built first
        deps |= {KEYS[t] for t in referenced_tables(d) if t in KEYS}
    return sorted(deps - {KEYS[spec.name] for spec in specs}, key=lambda k: k.to_user_string())


def _description(name: str) -> str:
    t = CONTRACT.table(name)
    spec = TABLES.get(name)
    split = (f" Monthly partitions by {spec.period_column}." if spec and spec.monthly
             else " Rebuilt whole.")
    return f"{t.en} ({t.zh}), cleaned: {t.grain_en}.{split}"


def _run_checks(context: dg.AssetExecutionContext, lake: LakeResource,
                decls: list[CheckDeclaration],
                window: tuple[datetime, datetime] | None) -> Iterator[dg.AssetCheckResult]:
    if not decls:
        return
    results = run_checks((lake.lake.con, ("lake", GROUP)), decls, period=window,
                         by_month=window is not None, period_columns=PERIOD_COLUMNS,
                         as_of=date.today())
    for table, rows in results.groupby("table", sort=False):
        record_results(lake.lake, rows, layer=GROUP, asset=f"{GROUP}/{table}",
                       run_id=context.run.run_id, evaluated_at=datetime.now(timezone.utc))
    yield from check_results(results, decls, KEYS, set(context.selected_asset_check_keys))


def _tables_asset(specs: list[CleanedTable], months: dg.PartitionsDefinition,
                  name: str) -> dg.AssetsDefinition:
    """One step building ``specs`` (all monthly or all whole), then running their checks."""
    tables = [spec.name for spec in specs]
    decls = [d for d in DECLARATIONS if d.table in tables]
    monthly = specs[0].monthly
    assert all(spec.monthly == monthly for spec in specs)

    own = {KEYS[t] for t in tables}

    def deps_of(spec: CleanedTable) -> list[dg.AssetKey]:
        return [k for k in _deps([spec], [d for d in decls if d.table == spec.name])
                if k not in own]

    @dg.multi_asset(
        name=name, group_name=GROUP, pool=POOL,
        specs=[dg.AssetSpec(KEYS[spec.name], description=_description(spec.name),
                            kinds={"duckdb"}, deps=deps_of(spec),
                            metadata={"table": f"lake.cleaned.{spec.name}"}) for spec in specs],
        check_specs=check_specs(decls, KEYS), partitions_def=months if monthly else None,
        backfill_policy=dg.BackfillPolicy.single_run() if monthly else None)
    def _asset(context: dg.AssetExecutionContext,
               lake: LakeResource) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        window = None
        for table in tables:
            if monthly:
                first, last = context.partition_key_range.start, context.partition_key_range.end
                result = refresh_table(lake.lake, table, first=first, last=last)
                window = (month_bounds(first)[0], month_bounds(last)[1])
            else:
                result = refresh_table(lake.lake, table)
            yield dg.MaterializeResult(asset_key=KEYS[table], metadata=result.metadata())
        yield from _run_checks(context, lake, decls, window)

    return _asset


@dg.asset(key=KEYS["patient_index"], group_name=GROUP, deps=[RAW["patient"]], pool=POOL,
          kinds={"duckdb"}, metadata={"table": "lake.cleaned.patient_index"})
def patient_index(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult:
    """Patient master index (EMPI): every institution's patient record linked to a group-wide
    id by identity-document token, then record number within an institution (rule recorded)."""
    result = refresh_patient_index(lake.lake, linked_at=datetime.now(timezone.utc)
                                   .replace(tzinfo=None))
    links = (lake.lake.table("patient_index", GROUP).group_by("link_rule")
             .aggregate(n=lambda t: t.count()).execute())
    linked = {f"linked by {r}": int(n) for r, n in zip(links.link_rule, links.n, strict=True)}
    persons = int(lake.lake.table("patient_index", GROUP).empi_id.nunique().execute())
    return dg.MaterializeResult(metadata={**result.metadata(), **linked, "persons": persons})


@dg.asset(key=KEYS["status_interval"], group_name=GROUP, deps=[KEYS["status_event"]],
          pool=POOL, kinds={"duckdb"}, metadata={"table": "lake.cleaned.status_interval"})
def status_interval(lake: LakeResource) -> dg.MaterializeResult:
    """Validity interval of every business status of every visit, stay and order (the full
    history): the basis of as-of queries (hospital_sdk.cleaned.status_as_of)."""
    return dg.MaterializeResult(metadata=refresh_status_intervals(lake.lake).metadata())


def build(months: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every cleaned-layer asset, monthly ones on ``months``."""
    singles = [_tables_asset([spec], months, f"{GROUP}__{spec.name}")
               for spec in TABLES.values() if spec.name not in RECORD]
    record = _tables_asset([TABLES[t] for t in RECORD], months, f"{GROUP}__discharge_record")
    return [*singles, record, patient_index, status_interval]
