"""Check history and scorecard in the lakehouse: runs replace only their own rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pandas as pd
import pytest

from hospital_sdk.errors import StoreError
from hospital_sdk.quality import (
    HISTORY, HISTORY_SCHEMA, SCORECARD, ResultsError, latest_scorecard, record_results,
    results_frame, scorecard_summary, write_scorecard,
)
from hospital_sdk.store import Lakehouse

T1 = datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc)
T2 = datetime(2024, 3, 2, 2, 0, tzinfo=timezone.utc)


def result(check_id: str, status: str, violating: int | None, applicable: int | None, *,
           partition: str | None = None, table: str = "inpatient_stay",
           kahn: str = "completeness") -> dict:
    rate = violating / applicable if violating is not None and applicable else float("nan")
    return {"check_id": check_id, "table": table, "field": "x", "check_type": "not_null",
            "kahn_category": kahn, "severity": "blocking", "status": status,
            "violating_rows": violating, "applicable_rows": applicable, "rate": rate,
            "threshold": 0.0, "reason": "boom" if status == "error" else "",
            "protects": ("tertiary.01", "tertiary.04"), "partition": partition}


def frame(*rows: dict) -> pd.DataFrame:
    return results_frame(rows)


@pytest.fixture
def lake(tmp_path) -> Iterator[Lakehouse]:
    with Lakehouse.open(tmp_path / "lake") as lh:
        yield lh


def history(lake: Lakehouse) -> list[tuple]:
    h = lake.table(HISTORY, "application").to_pandas()
    partitions = [None if pd.isna(p) else p for p in h.partition]
    return sorted(zip(h.run_id, h.asset, h.check_id, partitions, h.status),
                  key=lambda r: tuple("" if v is None else v for v in r))


def stays(status: str, violating: int) -> pd.DataFrame:
    return frame(result("a", status, violating, 10, partition="2024-01"),
                 result("a", "passed", 0, 8, partition="2024-02"))


def test_history_rows_and_types(lake):
    n = record_results(lake, stays("failed", 2), layer="raw", asset="raw/inpatient_stay",
                       run_id="r1", evaluated_at=T1)
    assert n == 2
    h = lake.table(HISTORY, "application")
    assert list(h.columns) == list(HISTORY_SCHEMA)
    row = h.filter(h.partition == "2024-01").to_pandas().iloc[0]
    assert (row.protects, row.table_name, row.layer, row.violating_rows) == (
        "tertiary.01,tertiary.04", "inpatient_stay", "raw", 2)
    assert row.evaluated_at == pd.Timestamp(T1)
    assert pd.isna(row.quarantined_rows) and pd.isna(row.failure_kind)  # no gate columns given


def test_a_run_recorded_again_replaces_only_its_own_rows(lake):
    record_results(lake, stays("failed", 2), layer="raw", asset="raw/inpatient_stay",
                   run_id="r1", evaluated_at=T1)
    record_results(lake, frame(result("v", "passed", 0, 5, table="outpatient_visit")),
                   layer="raw", asset="raw/outpatient_visit", run_id="r2", evaluated_at=T2)
    record_results(lake, stays("failed", 3), layer="raw", asset="raw/inpatient_stay",
                   run_id="r2", evaluated_at=T2)
    # r2 recorded again for the stays (a retry): its stay rows are replaced, nothing else.
    again = record_results(lake, stays("passed", 0), layer="raw", asset="raw/inpatient_stay",
                           run_id="r2", evaluated_at=T2)
    assert again == 2
    assert history(lake) == [
        ("r1", "raw/inpatient_stay", "a", "2024-01", "failed"),
        ("r1", "raw/inpatient_stay", "a", "2024-02", "passed"),
        ("r2", "raw/inpatient_stay", "a", "2024-01", "passed"),
        ("r2", "raw/inpatient_stay", "a", "2024-02", "passed"),
        ("r2", "raw/outpatient_visit", "v", None, "passed"),
    ]


def test_a_run_may_record_its_partitions_one_call_at_a_time(lake):
    for month in ("2024-01", "2024-02", "2024-01"):
        record_results(lake, frame(result("a", "passed", 0, 1, partition=month)), layer="raw",
                       asset="raw/inpatient_stay", run_id="r1", evaluated_at=T1)
    assert history(lake) == [("r1", "raw/inpatient_stay", "a", "2024-01", "passed"),
                             ("r1", "raw/inpatient_stay", "a", "2024-02", "passed")]


def test_a_refused_recording_leaves_the_history_as_it_was(lake):
    record_results(lake, stays("failed", 2), layer="raw", asset="raw/inpatient_stay",
                   run_id="r1", evaluated_at=T1)
    before = history(lake)
    # The delete of r1's rows runs first, then the insert fails on a missing check id: the
    # transaction rolls back whole, so r1's rows are still there.
    broken = stays("passed", 0)
    broken.loc[1, "check_id"] = None
    with pytest.raises(StoreError, match="nothing was written"):
        record_results(lake, broken, layer="raw", asset="raw/inpatient_stay", run_id="r1",
                       evaluated_at=T2)
    assert history(lake) == before
    with pytest.raises(ResultsError, match="unknown statuses"):
        record_results(lake, frame(result("a", "warn", 0, 1)), layer="raw", asset="x",
                       run_id="r1", evaluated_at=T2)
    with pytest.raises(ResultsError, match="lack the columns"):
        record_results(lake, pd.DataFrame({"check_id": ["a"]}), layer="raw", asset="x",
                       run_id="r1", evaluated_at=T2)


def test_latest_scorecard_picks_the_newer_run(lake):
    assert latest_scorecard(lake).empty  # nothing recorded yet
    record_results(lake, stays("failed", 2), layer="raw", asset="raw/inpatient_stay",
                   run_id="r1", evaluated_at=T1)
    # r2 only re-checked January
    record_results(lake, frame(result("a", "passed", 0, 11, partition="2024-01")), layer="raw",
                   asset="raw/inpatient_stay", run_id="r2", evaluated_at=T2)
    # the same check id in another layer is another scorecard row
    record_results(lake, frame(result("a", "failed", 1, 9, partition="2024-01")),
                   layer="cleaned", asset="cleaned/inpatient_stay", run_id="r0",
                   evaluated_at=T1)
    latest = latest_scorecard(lake)
    got = list(zip(latest.layer, latest.partition, latest.run_id, latest.status))
    assert got == [("cleaned", "2024-01", "r0", "failed"),
                   ("raw", "2024-01", "r2", "passed"),
                   ("raw", "2024-02", "r1", "passed")]
    assert write_scorecard(lake) == 3
    stored = lake.table(SCORECARD, "application").to_pandas()
    assert sorted(zip(stored.layer, stored.partition, stored.run_id)) == sorted(
        (layer, p, r) for layer, p, r, _ in got)
    # written again after another run: replaced, not appended
    record_results(lake, frame(result("a", "error", None, None, partition="2024-02")),
                   layer="raw", asset="raw/inpatient_stay", run_id="r3", evaluated_at=T2)
    assert write_scorecard(lake) == 3


def test_scorecard_summary_counts_statuses_by_layer_category_and_table():
    latest = pd.DataFrame([
        {**result("a", "passed", 0, 10, partition="2024-01"), "layer": "raw"},
        {**result("a", "failed", 2, 10, partition="2024-02"), "layer": "raw"},
        {**result("b", "failed", 3, 10, partition="2024-02"), "layer": "raw"},
        {**result("c", "error", None, None), "layer": "raw"},
        {**result("d", "not_applicable", 0, 0, kahn="conformance"), "layer": "raw"},
        {**result("e", "failed", 7, 9, table="outpatient_visit"), "layer": "cleaned"},
    ]).rename(columns={"table": "table_name"})
    summary = scorecard_summary(latest)
    cols = ["layer", "kahn_category", "table_name", "checks", "passed", "failed", "error",
            "not_applicable", "violating_rows"]
    assert [tuple(r) for r in summary[cols].itertuples(index=False)] == [
        ("cleaned", "completeness", "outpatient_visit", 1, 0, 1, 0, 0, 7),
        ("raw", "completeness", "inpatient_stay", 4, 1, 2, 1, 0, 5),
        ("raw", "conformance", "inpatient_stay", 1, 0, 0, 0, 1, 0),
    ]
    monthly = scorecard_summary(latest, by_partition=True)
    raw = monthly[(monthly.layer == "raw") & (monthly.kahn_category == "completeness")]
    assert [(p, n, f, v) for p, n, f, v in zip(raw.partition, raw.checks, raw.failed,
                                               raw.violating_rows)] == [
        ("2024-01", 1, 0, 0), ("2024-02", 2, 2, 5), (None, 1, 0, 0)]
