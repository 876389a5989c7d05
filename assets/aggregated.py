"""The aggregated layer: facts at a declared grain with the indicators' flags, and summaries.

One asset per table of :data:`hospital_sdk.aggregated.AGGREGATED_TABLES` (one row per stay, per
procedure of a stay, per visit; the DRG risk table; monthly summaries by institution × campus ×
department). Monthly tables replace exactly the months of the run, in one transaction; each
child table is pre-aggregated to the stay/visit grain before any join (the builders' contract),
and every grain is checked unique after the write.

A month whose latest blocking check results in the cleaned layer failed (in this run or an
earlier one) is refused with an error naming the checks: bad data does not reach this layer.
"""


from collections.abc import Iterator
from datetime import date, datetime, timezone

import dagster as dg

from assets.checks import check_results, check_specs
from assets.cleaned import KEYS as CLEANED
from assets.resources import POOL, LakeResource
from hospital_sdk.aggregated import AGGREGATED_TABLES, AggregatedTable
from hospital_sdk.aggregated.refresh import refresh_aggregated
from hospital_sdk.quality import CheckDeclaration, run_checks
from hospital_sdk.quality.scorecard import record_results
from hospital_sdk.store.partitions import month_bounds

GROUP = "aggregated"
KEYS: dict[str, dg.AssetKey] = {t: dg.AssetKey([GROUP, t]) for t in AGGREGATED_TABLES}


def grain_check(table: AggregatedTable) -> CheckDeclaration:
    """The uniqueness check of a table's declared grain (blocking)."""
    return CheckDeclaration(
        f"{table.name}.grain.unique_key", "unique_key", table.name, table.grain,
        kahn_category="conformance", severity="blocking",
        description_en=f"one row per {', '.join(table.grain)}: pre-aggregation kept the grain",
        description_zh=f"每个（{'、'.join(table.grain)}）仅一行")


DECLARATIONS = tuple(grain_check(t) for t in AGGREGATED_TABLES.values())
PERIOD_COLUMNS = {t.name: t.period_column for t in AGGREGATED_TABLES.values() if t.period_column}


def _deps(table: AggregatedTable) -> list[dg.AssetKey]:
    keys = {CLEANED[r] for r in table.reads if r in CLEANED}
    keys |= {KEYS[u] for u in table.uses}
    return sorted(keys, key=lambda k: k.to_user_string())


def _table_asset(table: AggregatedTable, months: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    decls = [d for d in DECLARATIONS if d.table == table.name]
    monthly = table.period_column is not None

    @dg.asset(key=KEYS[table.name], group_name=GROUP, deps=_deps(table),
              description=f"{table.description_en} ({table.description_zh}). Grain: one row per "
                          f"{', '.join(table.grain)}.",
              check_specs=check_specs(decls, KEYS), partitions_def=months if monthly else None,
              backfill_policy=dg.BackfillPolicy.single_run() if monthly else None, pool=POOL,
              kinds={"duckdb"}, metadata={"table": f"lake.aggregated.{table.name}",
                                          "grain": ", ".join(table.grain)})
    def _asset(context: dg.AssetExecutionContext,
               lake: LakeResource) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        if monthly:
            first, last = context.partition_key_range.start, context.partition_key_range.end
            window = (month_bounds(first)[0], month_bounds(last)[1])
        else:
            first = last = None
            window = None
        result = refresh_aggregated(lake.lake, table.name, first=first, last=last)
        yield dg.MaterializeResult(metadata=result.metadata())
        results = run_checks((lake.lake.con, ("lake", GROUP)), decls, period=window,
                             by_month=monthly, period_columns=PERIOD_COLUMNS, contract=None,
                             as_of=date.today())
        record_results(lake.lake, results, layer=GROUP, asset=f"{GROUP}/{table.name}",
                       run_id=context.run.run_id, evaluated_at=datetime.now(timezone.utc))
        yield from check_results(results, decls, KEYS, set(context.selected_asset_check_keys))

    return _asset


def build(months: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every aggregated-layer asset, monthly ones on ``months``."""
    return [_table_asset(t, months) for t in AGGREGATED_TABLES.values()]
