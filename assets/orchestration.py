"""Jobs, schedules and the landing-folder sensor.

``ingest_and_clean``
    raw and cleaned layers. Run daily for the month in progress (late rows of the previous month
    are picked up by the monthly run below), and by the sensor when files land.
``aggregate_and_report``
    aggregated and application layers (plus a refresh of the cleaned months they read) and the
    reported-indicator forms (``raw/reported_value``). Run monthly, on the 2nd at 03:00, for
    the month just ended.

The sensor looks at the landing folder every minute; when files are new or changed (by size and
modification time, kept in the cursor) it asks for one ingest run over the months named by the
files (``<table>/YYYY-MM.parquet``), or the month in progress for files without a month.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG,
)

from assets.reported import KEY as REPORTED
from assets.resources import LakeResource

_MONTH_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)")
_SOURCE_SUFFIXES = (".parquet", ".csv")


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags asking for partitions ``first`` .. ``last`` in one run.

    >>> range_tags("2024-01", "2024-12")["dagster/asset_partition_range_start"]
    '2024-01'
    """
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


def previous_month(today: date) -> str:
    """``YYYY-MM`` of the month before ``today``'s.

    >>> previous_month(date(2025, 1, 2)), previous_month(date(2025, 3, 31))
    ('2024-12', '2025-02')
    """
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"


def jobs() -> tuple[dg.UnresolvedAssetJobDefinition, ...]:
    """The two jobs (see the module docstring); their monthly partitions come from the assets."""
    ingest = dg.define_asset_job(
        "ingest_and_clean", selection=dg.AssetSelection.groups("raw", "cleaned"),
        description="Land new source files (raw) and rebuild the cleaned layer for the months "
                    "asked for.")
    aggregate = dg.define_asset_job(
        "aggregate_and_report",
        selection=dg.AssetSelection.groups("aggregated", "application")
        | dg.AssetSelection.assets(REPORTED),
        description="Build the aggregated facts and summaries of a month, then the application "
                    "layer (scorecard, report files); pick up new reported-indicator forms.")
    return ingest, aggregate


def schedules(ingest: dg.UnresolvedAssetJobDefinition,
              aggregate: dg.UnresolvedAssetJobDefinition) -> list[dg.ScheduleDefinition]:
    """Daily ingest-and-clean of the month in progress; monthly aggregation of the last month."""

    @dg.schedule(job=ingest, cron_schedule="30 1 * * *", name="daily_ingest_and_clean",
                 execution_timezone="Asia/Shanghai")
    def daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        day = context.scheduled_execution_time.date()
        month = f"{day:%Y-%m}"
        return dg.RunRequest(run_key=f"daily-{day}", partition_key=month)

    @dg.schedule(job=aggregate, cron_schedule="0 3 2 * *", name="monthly_aggregate_and_report",
                 execution_timezone="Asia/Shanghai")
    def monthly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        month = previous_month(context.scheduled_execution_time.date())
        return dg.RunRequest(run_key=f"monthly-{month}", partition_key=month)

    return [daily, monthly]


def landed_files(folder: Path) -> dict[str, list[int]]:
    """``{relative path: [size, mtime_ns]}`` of the source files in ``folder`` (none if absent)."""
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and path.suffix.lower() in _SOURCE_SUFFIXES \
                and not any(part.startswith(("_", ".")) for part in rel.split("/")):
            st = path.stat()
            out[rel] = [st.st_size, st.st_mtime_ns]
    return out


def months_named(files: list[str], fallback: str) -> tuple[str, str]:
    """The range of months named by ``files`` (``fallback`` for files naming none).

    >>> months_named(["visit/2024-03.parquet", "visit/2024-01.parquet"], "2025-06")
    ('2024-01', '2024-03')
    >>> months_named(["department.parquet"], "2025-06")
    ('2025-06', '2025-06')
    """
    found = [f"{m.group(1)}-{m.group(2)}" for f in files if (m := _MONTH_IN_NAME.search(f))]
    if len(found) < len(files):
        found.append(fallback)
    return min(found), max(found)


def landing_sensor(ingest: dg.UnresolvedAssetJobDefinition,
                   months: dg.TimeWindowPartitionsDefinition) -> dg.SensorDefinition:
    """Starts ``ingest`` when files are new or changed in the landing folder."""

    @dg.sensor(job=ingest, name="landing_folder_sensor", minimum_interval_seconds=60,
               description="Starts ingestion and cleaning when source files land or change.")
    def sensor(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
        seen = json.loads(context.cursor) if context.cursor else {}
        now = landed_files(lake.source_folder)
        changed = sorted(f for f, sig in now.items() if seen.get(f) != sig)
        if not changed:
            return dg.SensorResult(skip_reason=dg.SkipReason(
                f"no new or changed files in {lake.source_folder}"), cursor=json.dumps(now))
        keys = months.get_partition_keys(current_time=datetime.now())
        latest = keys[-1] if keys else f"{date.today():%Y-%m}"
        first, last = months_named(changed, latest)
        first, last = max(first, keys[0]) if keys else first, min(last, latest)
        signature = json.dumps({f: now[f] for f in changed}, sort_keys=True).encode()
        request = dg.RunRequest(run_key="landed-" + hashlib.sha256(signature).hexdigest()[:16],
                                tags=range_tags(first, last))
        return dg.SensorResult(run_requests=[request], cursor=json.dumps(now))

    return sensor
