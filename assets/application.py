"""The application layer: what users consume.

``quality_scorecard``
    the latest result of every data-quality check per table and month, from the persisted
    history that every layer's assets append to (``lake.application.quality_check_history``),
    materialised as ``lake.application.quality_scorecard`` and exported as report files.
``activity_report``
    monthly activity by institution and department from the aggregated summaries, as report
    files.

The indicator results of the national assessments join this layer with the indicator and
assessment work (they read the aggregated facts).
"""


import dagster as dg

from assets.aggregated import KEYS as AGGREGATED
from assets.cleaned import KEYS as CLEANED
from assets.raw import KEYS as RAW
from assets.resources import POOL, LakeResource
from hospital_sdk.quality.scorecard import latest_scorecard, write_scorecard
from hospital_sdk.reports import write_activity_report, write_quality_report

GROUP = "application"
KEYS = {name: dg.AssetKey([GROUP, name]) for name in ("quality_scorecard", "activity_report")}


def _files_metadata(files: list) -> dict[str, object]:  # type: ignore[type-arg]
    return {"files": "\n".join(str(f) for f in files), "folder": str(files[0].parent) if files
            else ""}


@dg.asset(key=KEYS["quality_scorecard"], group_name=GROUP, pool=POOL, kinds={"duckdb", "html"},
          deps=sorted({*RAW.values(), *CLEANED.values(), *AGGREGATED.values()},
                      key=lambda k: k.to_user_string()),
          metadata={"table": "lake.application.quality_scorecard"})
def quality_scorecard(lake: LakeResource) -> dg.MaterializeResult:
    """Data-quality scorecard: latest result of every check per table and month (with counts of
    violating rows, rates, the Kahn category and the indicators each check protects)."""
    rows = write_scorecard(lake.lake)
    latest = latest_scorecard(lake.lake)
    files = write_quality_report(latest, lake.reports_folder / "quality")
    counts = latest.status.value_counts()
    return dg.MaterializeResult(metadata={
        "rows": rows, **{f"checks {s}": int(counts.get(s, 0))
                         for s in ("passed", "failed", "error", "not_applicable")},
        **_files_metadata(files)})


@dg.asset(key=KEYS["activity_report"], group_name=GROUP, kinds={"html", "xlsx"},
          deps=[AGGREGATED["department_month"], CLEANED["department"]])
def activity_report(lake: LakeResource) -> dg.MaterializeResult:
    """Monthly activity by institution and department (discharges, visits, surgery, length of
    stay, antibiotic use) as xlsx and HTML."""
    summary = lake.lake.table("department_month", "aggregated").to_pandas()
    departments = lake.lake.table("department", "cleaned").select(
        "dept_id", "name_zh", "name_en").to_pandas()
    files = write_activity_report(summary, lake.reports_folder / "activity",
                                  departments=departments)
    return dg.MaterializeResult(metadata={"months": int(summary.month.nunique()),
                                          **_files_metadata(files)})


def build() -> list[dg.AssetsDefinition]:
    """Every application-layer asset."""
    return [quality_scorecard, activity_report]
