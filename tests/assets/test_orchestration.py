"""Schedules, the landing-folder sensor and the month helpers."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import dagster as dg

from assets.definitions import build_definitions
from assets.orchestration import landed_files, months_named, previous_month
from assets.resources import LakeResource
from hospital_sdk.config import Settings


def definitions(tmp_path: Path) -> dg.Definitions:
    return build_definitions(Settings(home=tmp_path / "lake", source=tmp_path / "landing",
                                      first_month="2024-01"))


def test_previous_month_and_months_named_by_files() -> None:
    assert previous_month(date(2024, 1, 15)) == "2023-12"
    assert months_named(["a/2024-02.csv", "b/2024-11.parquet", "c.parquet"], "2025-01") == \
        ("2024-02", "2025-01")


def test_the_monthly_schedule_asks_for_the_month_just_ended(tmp_path: Path) -> None:
    defs = definitions(tmp_path)
    monthly = next(s for s in defs.schedules if s.name == "monthly_aggregate_and_report")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 3, 2, 3))
    request = monthly(context)
    assert (request.partition_key, request.run_key) == ("2025-02", "monthly-2025-02")
    daily = next(s for s in defs.schedules if s.name == "daily_ingest_and_clean")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2025, 3, 2, 1, 30))
    assert daily(context).partition_key == "2025-03"


def test_the_sensor_starts_one_run_per_change_over_the_months_the_files_name(
        tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "outpatient_visit").mkdir(parents=True)
    (landing / "_truth").mkdir()
    for name in ("outpatient_visit/2024-02.parquet", "outpatient_visit/2024-05.parquet",
                 "_truth/x.parquet", "notes.txt"):
        (landing / name).write_bytes(b"x")
    assert sorted(landed_files(landing)) == ["outpatient_visit/2024-02.parquet",
                                            "outpatient_visit/2024-05.parquet"]
    sensor = next(s for s in definitions(tmp_path).sensors if s.name == "landing_folder_sensor")
    resources = {"lake": LakeResource(home=str(tmp_path / "lake"), source=str(landing))}

    def tick(cursor: str | None) -> dg.SensorResult:
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            return sensor(context)

    first = tick(None)
    (request,) = first.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "2024-02"
    assert request.tags["dagster/asset_partition_range_end"] == "2024-05"

    unchanged = tick(first.cursor)
    assert not unchanged.run_requests and unchanged.skip_reason is not None

    path = landing / "outpatient_visit/2024-05.parquet"
    path.write_bytes(b"xy")  # changed size: only this month is asked for again
    os.utime(path, ns=(1, 1))
    changed = tick(first.cursor)
    (again,) = changed.run_requests
    assert again.tags["dagster/asset_partition_range_start"] == "2024-05"
    assert again.run_key != request.run_key
    assert set(json.loads(changed.cursor)) == set(json.loads(first.cursor))
