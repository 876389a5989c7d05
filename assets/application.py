"""The application layer: what users consume.

``quality_scorecard``
    the latest result of every data-quality check per table and month, from the persisted
    history that every layer's assets append to (``lake.application.quality_check_history``),
    materialised as ``lake.application.quality_scorecard`` and exported as report files.
``activity_report``
    monthly activity by institution and department from the aggregated summaries, as report
    files.
``indicator_value``
    every fact-based indicator of the catalog (``national_assessments/``) by institution ×
    department × month, month-partitioned like the facts it reads
    (:mod:`hospital_sdk.indicators.results`), as ``lake.application.indicator_value``.
``indicator_signal``
    an XmR control chart with run rules over every monthly series of ``indicator_value`` (one
    per indicator version and cell), read by the indicator's direction: which months signal an
    improvement or a deterioration (:func:`hospital_sdk.indicators.results.
    refresh_indicator_signals`), as ``lake.application.indicator_signal``.
``assessment_report``
    every national assessment (tertiary, secondary, high-quality) in the edition in force for
    the latest complete year, computed, scored and exported (xlsx, HTML, PDF) under
    ``<home>/reports/assessment`` (:func:`hospital_sdk.reports.edition_report.report_edition`).
"""


import dagster as dg

from assets.aggregated import KEYS as AGGREGATED
from assets.cleaned import KEYS as CLEANED
from assets.raw import KEYS as RAW
from assets.reported import KEY as REPORTED
from assets.resources import POOL, LakeResource
from hospital_sdk.assessments.compute import latest_complete_year
from hospital_sdk.assessments.editions import load_assessments
from hospital_sdk.indicators import load_catalog
from hospital_sdk.indicators.results import refresh_indicator_signals, refresh_indicator_values
from hospital_sdk.quality.scorecard import latest_scorecard, write_scorecard
from hospital_sdk.reports import write_activity_report, write_quality_report
from hospital_sdk.reports.edition_report import report_edition

GROUP = "application"
KEYS = {name: dg.AssetKey([GROUP, name])
        for name in ("quality_scorecard", "activity_report", "indicator_value",
                     "indicator_signal", "assessment_report")}
FACTS_READ = ("stay_fact", "procedure_fact", "visit_fact", "exam_fact", "procurement_fact")


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


def _indicator_value(months: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(key=KEYS["indicator_value"], group_name=GROUP, pool=POOL, kinds={"duckdb"},
              deps=[AGGREGATED[f] for f in FACTS_READ], partitions_def=months,
              backfill_policy=dg.BackfillPolicy.single_run(),
              metadata={"table": "lake.application.indicator_value"})
    def indicator_value(context: dg.AssetExecutionContext,
                        lake: LakeResource) -> dg.MaterializeResult:
        """Every fact-based indicator of the catalog by institution, department and month
        (numerator, denominator, value, status and reason), computed in one batch."""
        first, last = context.partition_key_range.start, context.partition_key_range.end
        result = refresh_indicator_values(lake.lake, first=first, last=last)
        return dg.MaterializeResult(metadata=result.metadata())

    return indicator_value


@dg.asset(key=KEYS["indicator_signal"], group_name=GROUP, pool=POOL, kinds={"duckdb"},
          deps=[KEYS["indicator_value"]],
          metadata={"table": "lake.application.indicator_signal"})
def indicator_signal(lake: LakeResource) -> dg.MaterializeResult:
    """Control charts (XmR with run rules) of every monthly indicator series: the months that
    signal an improvement or a deterioration, by the indicator's direction."""
    return dg.MaterializeResult(metadata=refresh_indicator_signals(lake.lake).metadata())


@dg.asset(key=KEYS["assessment_report"], group_name=GROUP, kinds={"html", "xlsx", "pdf"},
          deps=[*(AGGREGATED[f] for f in FACTS_READ), REPORTED, CLEANED["department"],
                KEYS["quality_scorecard"]])
def assessment_report(lake: LakeResource) -> dg.MaterializeResult:
    """The national assessments (tertiary, secondary, high-quality) for the latest complete year,
    each in the edition in force then: computed, scored and exported as xlsx, HTML and PDF."""
    year = latest_complete_year(lake.lake)
    if year is None:
        return dg.MaterializeResult(metadata={"skipped": "no complete year of discharges"})
    catalog = load_catalog()
    written, notes = [], {}
    for assessment in load_assessments(catalog=catalog).values():
        edition = assessment.edition(year=int(year))
        _, files = report_edition(catalog, edition, lake.lake, period=year,
                                  out_dir=lake.reports_folder / "assessment")
        written += list(files)
        notes[f"{assessment.id} {edition.edition}"] = files.pdf.message if files.pdf else ""
    return dg.MaterializeResult(metadata={"year": year, **notes, **_files_metadata(written)})


def build(months: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every application-layer asset, monthly ones on ``months``."""
    return [quality_scorecard, activity_report, _indicator_value(months), indicator_signal,
            assessment_report]
