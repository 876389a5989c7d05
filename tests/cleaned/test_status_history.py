"""Status history and as-of queries on hand-made events with hand-computed expectations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest

from hospital_sdk.cleaned.status_history import (
    INTERVAL_COLUMNS,
    StatusHistoryError,
    status_as_of,
    status_intervals,
    transition_breaks,
)


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, 1, hour, minute)


def ev(event_id: str, entity_id: str, frm: str | None, to: str, at: datetime,
       rec: datetime | None = None, *, entity_type: str = "visit", inst: str = "H1") -> dict:
    return {"institution_id": inst, "event_id": event_id, "entity_type": entity_type,
            "entity_id": entity_id, "from_status": frm, "to_status": to, "event_time": at,
            "recorded_time": rec or at, "operator_id": None}


# V1: booked 8:00 -> checked_in 9:00 -> called 9:30 -> completed 9:50
# V2: booked 8:00 -> cancelled 8:40
# V3: booked 8:00 -> checked_in 9:00 -> completed 10:00, but completed recorded only at 12:00
# V4: created (booked) at 11:00
# V5: checked_in and called both at 9:00; called recorded first (9:01), checked_in at 9:05:
#     the from_status chain (created -> checked_in -> called) decides, not the recording order
# V6: two unrelated events at 9:00 recorded at the same time; order falls to event_id (a1 < a2)
# V7: two unrelated events at 9:00; registered recorded before booked -> recorded order decides
# O1: ordered -> verified -> dispensed all at 9:00, recorded dispensed, ordered, verified
# S1: a stay with the same entity_id as V1 -- a different entity (entity_type in the key)
EVENTS = [
    ev("e01", "V1", None, "booked", t(8)),
    ev("e02", "V1", "booked", "checked_in", t(9)),
    ev("e03", "V1", "checked_in", "called", t(9, 30)),
    ev("e04", "V1", "called", "completed", t(9, 50)),
    ev("e05", "V2", None, "booked", t(8)),
    ev("e06", "V2", "booked", "cancelled", t(8, 40)),
    ev("e07", "V3", None, "booked", t(8)),
    ev("e08", "V3", "booked", "checked_in", t(9)),
    ev("e09", "V3", "checked_in", "completed", t(10), t(12)),
    ev("e10", "V4", None, "booked", t(11)),
    ev("e12", "V5", None, "checked_in", t(9), t(9, 5)),
    ev("e11", "V5", "checked_in", "called", t(9), t(9, 1)),
    ev("a2", "V6", None, "registered", t(9)),
    ev("a1", "V6", None, "booked", t(9)),
    ev("b1", "V7", None, "booked", t(9), t(9, 2)),
    ev("b2", "V7", None, "registered", t(9), t(9, 1)),
    ev("o1", "O1", None, "ordered", t(9), t(9, 2), entity_type="order"),
    ev("o2", "O1", "ordered", "verified", t(9), t(9, 3), entity_type="order"),
    ev("o3", "O1", "verified", "dispensed", t(9), t(9, 1), entity_type="order"),
    ev("s1", "V1", None, "admitted", t(7), entity_type="stay"),
]


def _memtable() -> ir.Table:
    df = pd.DataFrame(EVENTS)
    return ibis.memtable(df, schema={
        "institution_id": "string", "event_id": "string", "entity_type": "string",
        "entity_id": "string", "from_status": "string", "to_status": "string",
        "event_time": "timestamp", "recorded_time": "timestamp", "operator_id": "string"})


def _duckdb() -> ir.Table:
    con = ibis.duckdb.connect()
    return con.create_table("status_event", _memtable())


@pytest.fixture(params=[_memtable, _duckdb], ids=["memtable", "duckdb"])
def events(request: pytest.FixtureRequest) -> ir.Table:
    make: Callable[[], ir.Table] = request.param
    return make()


def as_of(events: ir.Table, at: datetime, known_at: datetime | None = None,
          entity_type: str = "visit") -> dict[str, str]:
    r = status_as_of(events, at, known_at=known_at)
    df = r.filter(r.entity_type == entity_type).to_pandas()
    assert not df.duplicated(["institution_id", "entity_type", "entity_id"]).any()
    return dict(zip(df.entity_id, df.status))


def intervals(events: ir.Table, entity_id: str, entity_type: str = "visit") -> list[tuple]:
    iv = status_intervals(events)
    df = (iv.filter((iv.entity_id == entity_id) & (iv.entity_type == entity_type))
          .order_by("seq").to_pandas())
    return [(r.seq, r.status, r.valid_from, None if pd.isna(r.valid_to) else r.valid_to,
             r.event_id) for r in df.itertuples()]


def test_intervals_of_a_visit(events: ir.Table) -> None:
    assert intervals(events, "V1") == [
        (1, "booked", t(8), t(9), "e01"),
        (2, "checked_in", t(9), t(9, 30), "e02"),
        (3, "called", t(9, 30), t(9, 50), "e03"),
        (4, "completed", t(9, 50), None, "e04"),
    ]
    assert tuple(status_intervals(events).columns) == INTERVAL_COLUMNS


def test_recorded_from_and_to(events: ir.Table) -> None:
    iv = status_intervals(events)
    df = iv.filter(iv.entity_id == "V3").order_by("seq").to_pandas()
    assert df.recorded_from.tolist() == [t(8), t(9), t(12)]
    assert df.recorded_to.tolist()[:2] == [t(9), t(12)]
    assert pd.isna(df.recorded_to.iloc[2])


@pytest.mark.parametrize(("at", "expected"), [
    (t(7, 59), None),
    (t(8), "booked"),          # exactly at an event time the new status applies
    (t(8, 59), "booked"),
    (t(9), "checked_in"),
    (t(9, 29), "checked_in"),
    (t(9, 30), "called"),
    (t(9, 50), "completed"),
    (t(23), "completed"),
])
def test_as_of_each_boundary(events: ir.Table, at: datetime, expected: str | None) -> None:
    assert as_of(events, at).get("V1") == expected


def test_cancelled_visit(events: ir.Table) -> None:
    assert as_of(events, t(8, 39))["V2"] == "booked"
    assert as_of(events, t(8, 40))["V2"] == "cancelled"
    assert as_of(events, t(20))["V2"] == "cancelled"
    assert intervals(events, "V2")[-1] == (2, "cancelled", t(8, 40), None, "e06")


def test_late_recorded_event_changes_only_later_knowledge(events: ir.Table) -> None:
    # At 10:30 V3 had completed (event_time 10:00) but the system learnt it at 12:00.
    assert as_of(events, t(10, 30), known_at=t(11))["V3"] == "checked_in"
    assert as_of(events, t(10, 30), known_at=t(12))["V3"] == "completed"
    assert as_of(events, t(10, 30))["V3"] == "completed"
    # A report run at 11:00 also saw no end to the checked_in interval.
    r = status_as_of(events, t(10, 30), known_at=t(11))
    row = r.filter(r.entity_id == "V3").to_pandas().iloc[0]
    assert pd.isna(row.valid_to) and row.valid_from == t(9)
    # Knowledge before an entity's first record: the entity is unknown.
    assert "V3" not in as_of(events, t(10, 30), known_at=t(7))


def test_ties_follow_the_from_status_chain(events: ir.Table) -> None:
    # V5: called recorded 9:01 before checked_in 9:05, but called comes from checked_in.
    assert [(s, st, eid) for s, st, _, _, eid in intervals(events, "V5")] == [
        (1, "checked_in", "e12"), (2, "called", "e11")]
    assert intervals(events, "V5")[0][2:4] == (t(9), t(9))  # empty interval, never returned
    assert as_of(events, t(9))["V5"] == "called"
    # Known at 9:02 only the called event exists.
    assert as_of(events, t(9), known_at=t(9, 2))["V5"] == "called"
    assert as_of(events, t(9), known_at=t(9, 6))["V5"] == "called"
    # A three-step chain at one instant, recorded in scrambled order.
    assert [r[1] for r in intervals(events, "O1", "order")] == ["ordered", "verified", "dispensed"]
    assert as_of(events, t(9), entity_type="order") == {"O1": "dispensed"}
    assert as_of(events, t(9), known_at=t(9, 2), entity_type="order") == {"O1": "dispensed"}


def test_unrelated_ties_ordered_by_recorded_time_then_event_id(events: ir.Table) -> None:
    # V7: no chain between the two; registered (9:01) was recorded before booked (9:02).
    assert [r[4] for r in intervals(events, "V7")] == ["b2", "b1"]
    assert as_of(events, t(9))["V7"] == "booked"
    # V6: same event_time and recorded_time -> event_id decides: a1 (booked), then a2.
    assert [r[4] for r in intervals(events, "V6")] == ["a1", "a2"]
    assert as_of(events, t(9))["V6"] == "registered"


def test_entity_created_after_at_is_absent(events: ir.Table) -> None:
    assert "V4" not in as_of(events, t(10, 59))
    assert as_of(events, t(11))["V4"] == "booked"
    assert set(as_of(events, t(7, 59))) == set()


def test_entity_type_is_part_of_the_key(events: ir.Table) -> None:
    assert as_of(events, t(7), entity_type="stay") == {"V1": "admitted"}
    assert "V1" not in as_of(events, t(7))
    assert intervals(events, "V1", "stay") == [(1, "admitted", t(7), None, "s1")]


def test_transition_breaks(events: ir.Table) -> None:
    # V6 and V7 are each "created" twice: the later creation is a break.
    assert sorted(transition_breaks(events).event_id.to_pandas()) == ["a2", "b1"]
    events = events.filter(~events.entity_id.isin(["V6", "V7"]))
    assert transition_breaks(events).count().to_pyarrow().as_py() == 0
    # Drop V1's check-in: its call now claims checked_in where the history says booked.
    broken = events.filter(events.event_id != "e02")
    df = transition_breaks(broken).to_pandas()
    assert df.event_id.tolist() == ["e03"]
    assert df.from_status.iloc[0] == "checked_in" and df.expected_from_status.iloc[0] == "booked"
    # A first event that claims a previous status is a break too (expected: created = null).
    df = transition_breaks(events.filter(events.event_id != "e05")).to_pandas()
    assert df.event_id.tolist() == ["e06"] and pd.isna(df.expected_from_status.iloc[0])


def test_missing_column_is_a_loud_error() -> None:
    bad = _memtable().drop("recorded_time")
    with pytest.raises(StatusHistoryError, match="recorded_time"):
        status_intervals(bad)


@pytest.mark.slow
def test_invariants_on_synthetic_status_events(tmp_path: Path) -> None:
    from hospital_sdk.synth import generate

    generate(tmp_path, scale=0.0005, years=(2024,), seed=5)
    con = ibis.duckdb.connect()
    events = con.read_parquet(str(tmp_path / "status_event" / "*.parquet"))
    n_events = events.count().to_pyarrow().as_py()
    assert n_events > 0
    iv = status_intervals(events)
    key = ["institution_id", "entity_type", "entity_id"]

    # Every entity has exactly one current interval.
    per_entity = iv.group_by(key).aggregate(current=iv.valid_to.isnull().sum().cast("int64"))
    bad = per_entity.filter(per_entity.current != 1).count().to_pyarrow().as_py()
    assert bad == 0
    assert iv.count().to_pyarrow().as_py() == n_events

    # Intervals of one entity do not overlap: the next one starts where this one ends.
    w = ibis.window(group_by=key, order_by=["valid_from", "seq"])
    nxt = iv.mutate(next_from=iv.valid_from.lead().over(w))
    overlap = nxt.filter(nxt.valid_to.isnull() & nxt.next_from.notnull()
                         | (nxt.valid_to > nxt.next_from)
                         | (nxt.valid_to < nxt.valid_from))
    assert overlap.count().to_pyarrow().as_py() == 0

    # Ties replay in the source's from_status order: the history chains without a break.
    assert transition_breaks(events).count().to_pyarrow().as_py() == 0

    # As-of gives at most one status per entity, and fewer entities when known earlier.
    mid = datetime(2024, 6, 15, 12)
    now = status_as_of(events, mid)
    n_now = now.count().to_pyarrow().as_py()
    assert n_now > 0
    assert n_now == now.select(*key).distinct().count().to_pyarrow().as_py()
    earlier = status_as_of(events, mid, known_at=datetime(2024, 6, 15, 11))
    assert earlier.count().to_pyarrow().as_py() <= n_now
