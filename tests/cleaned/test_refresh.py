"""Refreshing cleaned tables in the lakehouse: exact months replaced, reconciled, as-of queries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from hospital_sdk.cleaned import status_as_of
from hospital_sdk.cleaned.refresh import (
    refresh_patient_index,
    refresh_status_intervals,
    refresh_table,
)
from hospital_sdk.errors import ConfigError, ContractError
from hospital_sdk.store import Lakehouse


@pytest.fixture()
def lake(tmp_path: Path):
    with Lakehouse.open(tmp_path / "lake") as lh:
        stays = pa.table({
            "institution_id": ["H1"] * 3, "stay_id": ["S1", "S2", "S3"],
            "patient_local_id": ["p1", "p2", "p1"],
            "discharge_time": [datetime(2024, 1, 9), datetime(2024, 2, 3),
                               datetime(2024, 3, 1)]})
        dx = pa.table({"institution_id": ["H1"] * 5, "stay_id": ["S1", "S1", "S2", "S3", "S9"],
                       "diagnosis_kind": ["discharge"] * 5, "seq": [1, 2, 1, 1, 1]})
        patients = pa.table({"institution_id": ["H1", "H1"], "patient_local_id": ["p1", "p2"],
                             "medical_record_number": ["M1", "M2"],
                             "id_number_token": ["t1", None]})
        for name, rows in {"inpatient_stay": stays, "stay_diagnosis": dx,
                           "patient": patients}.items():
            lh.replace(name, rows, "raw")
        yield lh


def rows(lake: Lakehouse, name: str) -> list[tuple]:
    return sorted(lake.duck.execute(f"SELECT stay_id FROM lake.cleaned.{name}").fetchall())


def test_a_month_range_is_replaced_exactly_and_reruns_change_nothing(lake: Lakehouse) -> None:
    refresh_patient_index(lake, linked_at=datetime(2024, 4, 1))
    first = refresh_table(lake, "inpatient_stay", first="2024-01", last="2024-02")
    assert (first.rows_in, first.rows_written) == (2, 2)  # S3 is discharged in March
    assert dict(first.rows_by_month) == {"2024-01": 1, "2024-02": 1}
    again = refresh_table(lake, "inpatient_stay", first="2024-02", last="2024-03")
    assert (again.rows_written, again.first, again.last) == (2, "2024-02", "2024-03")
    assert rows(lake, "inpatient_stay") == [("S1",), ("S2",), ("S3",)]  # no duplicate of S2
    empi = lake.duck.execute("SELECT stay_id, empi_id FROM lake.cleaned.inpatient_stay "
                             "ORDER BY stay_id").fetchall()
    assert empi[0][1] == empi[2][1] != empi[1][1]  # S1 and S3 are p1's, S2 is p2's


def test_diagnoses_reconcile_with_the_orphan_of_a_missing_stay(lake: Lakehouse) -> None:
    result = refresh_table(lake, "stay_diagnosis", first="2024-01", last="2024-03")
    # 4 diagnoses of stays S1..S3 written; S9 has no stay: in = 4 + 1 orphan
    assert (result.rows_in, result.rows_written, sum(result.excluded.values())) == (5, 4, 1)
    assert "stay not in the raw layer" in next(iter(result.excluded))
    assert result.metadata()["months"] == "2024-01..2024-03"


def test_months_are_required_exactly_for_monthly_tables(lake: Lakehouse) -> None:
    with pytest.raises(ContractError, match="split into months"):
        refresh_table(lake, "stay_diagnosis")
    with pytest.raises(ContractError, match="rebuilt whole"):
        refresh_table(lake, "patient", first="2024-01", last="2024-01")
    with pytest.raises(ContractError, match="load the source files first"):
        refresh_table(lake, "department")


def test_status_history_answers_as_it_was_and_the_lake_travels_back(lake: Lakehouse) -> None:
    events = pa.table({
        "institution_id": ["H1"] * 3, "event_id": ["e1", "e2", "e3"],
        "entity_type": ["stay"] * 3, "entity_id": ["S1"] * 3,
        "from_status": [None, "admitted", "discharged"],
        "to_status": ["admitted", "discharged", "settled"],
        "event_time": [datetime(2024, 1, 2), datetime(2024, 1, 9), datetime(2024, 1, 20)],
        "recorded_time": [datetime(2024, 1, 2), datetime(2024, 1, 9), datetime(2024, 1, 21)],
        "operator_id": ["u1"] * 3}, schema=pa.schema([
            ("institution_id", pa.string()), ("event_id", pa.string()),
            ("entity_type", pa.string()), ("entity_id", pa.string()),
            ("from_status", pa.string()), ("to_status", pa.string()),
            ("event_time", pa.timestamp("us")), ("recorded_time", pa.timestamp("us")),
            ("operator_id", pa.string())]))
    lake.replace("status_event", events, "raw")
    refresh_table(lake, "status_event", first="2024-01", last="2024-01")
    before = lake.current_snapshot()
    assert refresh_status_intervals(lake).rows_written == 3
    cleaned = lake.table("status_event", "cleaned")
    on_the_10th = status_as_of(cleaned, datetime(2024, 1, 10)).execute()
    assert on_the_10th.status.tolist() == ["discharged"]
    # settled on the 20th but recorded on the 21st: a report run on the 20th still saw discharged
    seen = status_as_of(cleaned, datetime(2024, 1, 20, 12), known_at=datetime(2024, 1, 20, 12))
    assert seen.execute().status.tolist() == ["discharged"]
    assert before < lake.current_snapshot()


def test_an_earlier_version_of_a_cleaned_table_is_read_back_by_snapshot(lake: Lakehouse) -> None:
    refresh_patient_index(lake, linked_at=datetime(2024, 4, 1))
    refresh_table(lake, "inpatient_stay", first="2024-01", last="2024-02")
    january_and_february = lake.current_snapshot()
    refresh_table(lake, "inpatient_stay", first="2024-03", last="2024-03")
    now = lake.table("inpatient_stay", "cleaned").count().execute()
    then = lake.table("inpatient_stay", "cleaned", version=january_and_february).count().execute()
    assert (int(then), int(now)) == (2, 3)


def _status_events(entities: int) -> pa.Table:
    """``entities`` stays with 1-3 events each; every third stay has two events at one instant."""
    rows: dict[str, list] = {c: [] for c in ("institution_id", "event_id", "entity_type",
                                             "entity_id", "from_status", "to_status",
                                             "event_time", "recorded_time", "operator_id")}
    chain = [None, "admitted", "discharged", "settled"]
    for i in range(entities):
        for k in range(1 + i % 3):
            at = datetime(2024, 1, 2 + k - (1 if i % 3 == 2 and k == 2 else 0))
            for column, value in (("institution_id", "H1"), ("event_id", f"e{i}-{k}"),
                                  ("entity_type", "stay"), ("entity_id", f"S{i}"),
                                  ("from_status", chain[k]), ("to_status", chain[k + 1]),
                                  ("event_time", at), ("recorded_time", at),
                                  ("operator_id", "u1")):
                rows[column].append(value)
    return pa.table(rows, schema=pa.schema([
        *((c, pa.string()) for c in ("institution_id", "event_id", "entity_type", "entity_id",
                                     "from_status", "to_status")),
        ("event_time", pa.timestamp("us")), ("recorded_time", pa.timestamp("us")),
        ("operator_id", pa.string())]))


def _intervals(lake: Lakehouse) -> list[tuple]:
    t = lake.table("status_interval", "cleaned").execute()
    t = t.astype(object).where(t.notna(), None)
    return sorted(t.itertuples(index=False, name=None), key=repr)


def test_status_intervals_in_entity_buckets_equal_one_rebuild(lake: Lakehouse) -> None:
    lake.replace("status_event", _status_events(30), "raw")  # 30 stays, 60 events
    refresh_table(lake, "status_event", first="2024-01", last="2024-01")
    whole = refresh_status_intervals(lake)
    assert (whole.rows_in, whole.rows_written) == (60, 60)
    expected = _intervals(lake)
    # a stale interval of a stay that no longer has events goes, as in a single replace
    stale = lake.table("status_interval", "cleaned").limit(1).to_pyarrow()
    gone = stale.set_column(stale.schema.get_field_index("entity_id"), "entity_id",
                            pa.array(["GONE"]))
    lake.replace("status_interval", gone, "cleaned", where="entity_id = 'GONE'")
    assert len(_intervals(lake)) == 61
    for _ in range(2):  # 60 events in buckets of 7: 9 buckets; a rerun changes nothing
        bucketed = refresh_status_intervals(lake, bucket_events=7, incremental=False)
        assert (bucketed.rows_in, bucketed.rows_written) == (60, 60)
        assert _intervals(lake) == expected


def test_status_interval_buckets_must_hold_an_event(lake: Lakehouse) -> None:
    lake.replace("status_event", _status_events(2), "raw")
    refresh_table(lake, "status_event", first="2024-01", last="2024-01")
    with pytest.raises(ConfigError, match="bucket_events must be >= 1, got 0"):
        refresh_status_intervals(lake, bucket_events=0)


def _intervals_rebuilt_whole(lake: Lakehouse) -> list[tuple]:
    refresh_status_intervals(lake, incremental=False)
    return _intervals(lake)


def test_status_intervals_rebuild_only_the_entities_whose_events_changed(
        lake: Lakehouse) -> None:
    events = _status_events(30)  # 60 events in January: S0..S29 with 1, 2, 3 events
    lake.replace("status_event", events, "raw")
    refresh_table(lake, "status_event", first="2024-01", last="2024-01")
    assert refresh_status_intervals(lake).rows_in == 60  # the first build: every entity
    unchanged = refresh_status_intervals(lake)
    assert (unchanged.rows_in, unchanged.rows_written) == (0, 0)
    # February: S1 (2 January events) is settled, and a new stay S99 is admitted
    february = pa.table({
        "institution_id": ["H1", "H1"], "event_id": ["f1", "f2"],
        "entity_type": ["stay", "stay"], "entity_id": ["S1", "S99"],
        "from_status": ["discharged", None], "to_status": ["settled", "admitted"],
        "event_time": [datetime(2024, 2, 5), datetime(2024, 2, 6)],
        "recorded_time": [datetime(2024, 2, 5), datetime(2024, 2, 6)],
        "operator_id": ["u1", "u1"]}, schema=events.schema)
    lake.replace("status_event", pa.concat_tables([events, february]), "raw")
    refresh_table(lake, "status_event", first="2024-02", last="2024-02")
    result = refresh_status_intervals(lake)
    # S1's three events and S99's one: four intervals rewritten, S1's January one now closed
    assert (result.rows_in, result.rows_written) == (4, 4)
    s1 = [r for r in _intervals(lake) if r[2] == "S1"]
    assert [(r[3], r[5]) for r in sorted(s1, key=lambda r: r[9])] == [
        ("admitted", datetime(2024, 1, 3)), ("discharged", datetime(2024, 2, 5)),
        ("settled", None)]
    assert len(_intervals(lake)) == 62
    assert _intervals(lake) == _intervals_rebuilt_whole(lake)


def test_status_intervals_rebuild_everything_when_the_change_feed_is_gone(
        lake: Lakehouse) -> None:
    lake.replace("status_event", _status_events(30), "raw")
    refresh_table(lake, "status_event", first="2024-01", last="2024-01")
    refresh_status_intervals(lake)
    expected = _intervals(lake)
    # a recorded snapshot the lake does not have (as after expiring snapshots)
    lake.replace("status_interval_built",
                 pa.table({"built_from_snapshot": pa.array([10**6], pa.int64())}), "cleaned")
    assert refresh_status_intervals(lake).rows_in == 60
    assert _intervals(lake) == expected
