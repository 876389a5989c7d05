"""Interval sweeps: the kernels (compiled and Python bodies) against the slow references.

Random inputs are compared with :mod:`tests.kernels.naive.sweeps` (every mark checked against
every row); every expected value of the hand cases is worked out in the comments. The SQL paths
are compared with the kernels in ``tests/aggregated/test_occupancy.py`` and ``test_queues.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.sweeps import hourly_census, occupied_bed_days, waiting_queue
from tests.kernels.naive import sweeps as naive

T = pd.Timestamp


def as_dict(frame: pd.DataFrame, label: str, value: str) -> dict:
    """``(*keys, mark) -> count`` of a kernel frame (its other columns are the keys)."""
    keys = [c for c in frame.columns if c not in (label, value)]
    return {(*(getattr(r, c) for c in keys), getattr(r, label)): int(getattr(r, value))
            for r in frame.itertuples()}


def random_movements(seed: int, stays: int = 150) -> pd.DataFrame:
    """Stays of 1–3 contiguous ward intervals from 25 Feb to 20 Mar 2024: times on the quarter
    hour (so many fall exactly on hour marks and midnights), short stays, zero-length
    intervals and open last intervals."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(stays):
        t = T("2024-02-25") + pd.Timedelta(minutes=15 * int(rng.integers(0, 24 * 4 * 24)))
        inst = str(rng.choice(["H1", "H2"]))
        for seq in range(1, int(rng.integers(1, 4)) + 1):
            kind = rng.random()
            length = (pd.Timedelta(0) if kind < 0.1 else pd.Timedelta(
                minutes=15 * int(rng.integers(1, 4 * 8 if kind < 0.4 else 4 * 24 * 5))))
            end = None if rng.random() < 0.05 else t + length
            rows.append({"institution_id": inst, "stay_id": f"S{i:03d}", "seq": seq,
                         "ward_id": str(rng.choice(["W1", "W2", "W3"])),
                         "dept_id": str(rng.choice(["D1", "D2"])),
                         "start_time": t, "end_time": end})
            if end is None:
                break
            t = end
    frame = pd.DataFrame(rows)
    frame["end_time"] = pd.to_datetime(frame["end_time"])
    return frame


def random_visits(seed: int, n: int = 300) -> pd.DataFrame:
    """Visits over 29 Feb – 2 Mar 2024 with second-resolution times (some on minute marks),
    uncalled visits with and without an end, no check-in, and calls before the check-in."""
    rng = np.random.default_rng(seed)
    checkin = T("2024-02-29 22:00") + pd.to_timedelta(
        rng.integers(0, 2 * 1440 * 60, n) // np.where(rng.random(n) < 0.3, 60, 1) * np.where(
            rng.random(n) < 0.3, 60, 1), unit="s")
    wait = pd.to_timedelta(rng.integers(-300, 40 * 60, n), unit="s")
    call = pd.Series(checkin + wait)
    call[rng.random(n) < 0.15] = pd.NaT
    end = pd.Series(checkin + wait + pd.Timedelta(minutes=10))
    end[rng.random(n) < 0.5] = pd.NaT
    checkin = pd.Series(checkin)
    checkin[rng.random(n) < 0.05] = pd.NaT
    return pd.DataFrame({"institution_id": rng.choice(["H1", "H2"], n),
                         "dept_id": rng.choice(["D1", "D2", "D3"], n),
                         "checkin_time": checkin, "call_time": call, "end_time": end})


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("jit", [True, False])
def test_random_occupancy_equals_the_reference(seed: int, jit: bool) -> None:
    moves = random_movements(seed)
    by = ("institution_id", "ward_id", "dept_id")
    for same_day in (True, False):
        want = naive.bed_days(moves, "2024-03-01", "2024-03-15", by, same_day)
        got = occupied_bed_days(moves, "2024-03-01", "2024-03-15", by=by,
                                same_day_counts_one=same_day, jit=jit)
        assert want and as_dict(got, "day", "occupied_bed_days") == want
    want = naive.hourly_census(moves, "2024-03-01", "2024-03-04")
    got = hourly_census(moves, "2024-03-01", "2024-03-04", jit=jit)
    assert want and as_dict(got, "hour", "census") == want


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("uncalled", ["until_end", "exclude"])
def test_random_queues_equal_the_reference(seed: int, uncalled: str) -> None:
    visits = random_visits(seed)
    minutes, daily, excluded = naive.waiting_queue(visits, "2024-03-01", "2024-03-02",
                                                   uncalled=uncalled)
    for jit in (True, False):
        q = waiting_queue(visits, "2024-03-01", "2024-03-02", uncalled=uncalled, jit=jit)
        assert minutes and as_dict(q.minutes, "minute", "waiting") == minutes
        assert {(r.institution_id, r.dept_id, r.day): (r.max_waiting, r.patient_minutes,
                                                        r.busy_minutes)
                for r in q.daily.itertuples()} == daily
        assert np.allclose(q.daily["mean_waiting"], q.daily["patient_minutes"]
                           / q.daily["busy_minutes"])
        assert q.excluded == excluded and excluded["not_called"] > 0


def _moves(*rows: tuple) -> pd.DataFrame:
    """(stay, seq, ward, start, end) in institution H1."""
    return pd.DataFrame([{"institution_id": "H1", "stay_id": s, "seq": q, "ward_id": w,
                          "start_time": T(a), "end_time": T(b) if b else pd.NaT}
                         for s, q, w, a, b in rows],
                        columns=["institution_id", "stay_id", "seq", "ward_id", "start_time",
                                 "end_time"])


HAND_MOVES = _moves(
    # period 1-3 March: census marks 03-02 00:00 (day 03-01), 03-03 00:00, 03-04 00:00
    # A crosses the period start and leaves exactly at 03-02 00:00: not in at that mark -> 0
    ("A", 1, "W1", "2024-02-28 10:00", "2024-03-02 00:00"),
    # B arrives exactly at 03-02 00:00 (in at that mark: day 03-01) and is in at 03-03 00:00
    ("B", 1, "W1", "2024-03-02 00:00", "2024-03-03 12:00"),
    # C same day, D zero-length: no midnight -> 1 bed-day each on 03-03 (same-day rule)
    ("C", 1, "W1", "2024-03-03 09:00", "2024-03-03 15:00"),
    ("D", 1, "W1", "2024-03-03 10:00", "2024-03-03 10:00"),
    # E still in (open): in at 03-04 00:00 (day 03-03); the period end clips it
    ("E", 1, "W1", "2024-03-03 20:00", None),
    # F after the period: nothing
    ("F", 1, "W1", "2024-03-05 09:00", "2024-03-06 09:00"),
    # G: a same-day stay with a transfer: its 1 bed-day goes to the last ward, W2, on 03-01
    ("G", 1, "W1", "2024-03-01 09:00", "2024-03-01 14:00"),
    ("G", 2, "W2", "2024-03-01 14:00", "2024-03-01 18:00"),
    # H: transferred the same day, in W2 at 03-02 00:00: W2 day 03-01; W1 gets nothing
    ("H", 1, "W1", "2024-03-01 09:00", "2024-03-01 14:00"),
    ("H", 2, "W2", "2024-03-01 14:00", "2024-03-02 10:00"),
)


def test_bed_days_by_hand() -> None:
    # W1: 03-01 B = 1; 03-02 B = 1; 03-03 C + D + E = 3. W2: 03-01 G + H = 2
    want = {("H1", "W1", T("2024-03-01")): 1, ("H1", "W1", T("2024-03-02")): 1,
            ("H1", "W1", T("2024-03-03")): 3, ("H1", "W2", T("2024-03-01")): 2}
    for jit in (True, False):
        got = occupied_bed_days(HAND_MOVES, "2024-03-01", "2024-03-04", jit=jit)
        assert as_dict(got, "day", "occupied_bed_days") == want
    assert naive.bed_days(HAND_MOVES, "2024-03-01", "2024-03-04") == want
    # without the same-day rule C, D and G count nothing: W1 03-03 = E only; W2 03-01 = H
    got = occupied_bed_days(HAND_MOVES, "2024-03-01", "2024-03-04", same_day_counts_one=False)
    assert as_dict(got, "day", "occupied_bed_days") == {
        ("H1", "W1", T("2024-03-01")): 1, ("H1", "W1", T("2024-03-02")): 1,
        ("H1", "W1", T("2024-03-03")): 1, ("H1", "W2", T("2024-03-01")): 1}
    # one ward-level total: 1 + 1 + 3 + 2 = 7 bed-days in the period
    by_inst = occupied_bed_days(HAND_MOVES, "2024-03-01", "2024-03-04", by=("institution_id",))
    assert by_inst["occupied_bed_days"].sum() == 7 and list(by_inst.columns) == [
        "institution_id", "day", "occupied_bed_days"]


def test_hourly_census_by_hand() -> None:
    moves = _moves(
        ("P", 1, "W1", "2024-03-01 00:00", "2024-03-01 02:00"),  # marks 00:00, 01:00
        ("Q", 1, "W1", "2024-03-01 00:30", "2024-03-01 01:00"),  # leaves at 01:00: no mark
        ("R", 1, "W1", "2024-03-01 01:00", "2024-03-01 01:00"),  # zero-length: no mark
        ("S", 1, "W1", "2024-02-29 23:30", "2024-03-01 00:00"),  # leaves at the first mark
        ("T", 1, "W1", "2024-03-01 22:59:59", None),  # open: 23:00 (period ends 03-02 00:00)
    )
    want = {("H1", "W1", T("2024-03-01 00:00")): 1, ("H1", "W1", T("2024-03-01 01:00")): 1,
            ("H1", "W1", T("2024-03-01 23:00")): 1}
    for jit in (True, False):
        assert as_dict(hourly_census(moves, "2024-03-01", "2024-03-02", jit=jit), "hour",
                       "census") == want


def _visits(*rows: tuple) -> pd.DataFrame:
    """(clinic, checkin, call, end) in institution H1."""
    return pd.DataFrame([{"institution_id": "H1", "dept_id": d,
                          **{k: T(v) if v else pd.NaT for k, v in zip(
                              ("checkin_time", "call_time", "end_time"), times)}}
                         for d, *times in rows])


def test_waiting_queue_by_hand() -> None:
    visits = _visits(
        ("D1", "2024-03-01 08:00:00", "2024-03-01 08:03:00", None),  # 08:00, 08:01, 08:02
        ("D1", "2024-03-01 08:00:30", "2024-03-01 08:02:00", None),  # 08:01 only
        ("D1", "2024-03-01 08:02:00", None, "2024-03-01 08:04:00"),  # until end: 08:02, 08:03
        ("D1", "2024-03-01 08:05:00", None, None),  # never called, no end: not_called
        ("D1", None, "2024-03-01 08:05:00", None),  # no check-in
        ("D1", "2024-03-01 08:10:00", "2024-03-01 08:09:00", None),  # left_before_checkin
        ("D1", "2024-02-29 23:58:00", "2024-03-01 00:01:00", None),  # in the period: 00:00
        ("D2", "2024-03-01 08:00:00", "2024-03-01 08:00:00", None),  # zero wait: nothing
    )
    day = T("2024-03-01")
    for jit in (True, False):
        q = waiting_queue(visits, "2024-03-01", "2024-03-02", jit=jit)
        # 00:00 -> 1; 08:00 -> 1; 08:01 -> 2 (first two); 08:02 -> 2 (first, third); 08:03 -> 1
        assert as_dict(q.minutes, "minute", "waiting") == {
            ("H1", "D1", T("2024-03-01 00:00")): 1, ("H1", "D1", T("2024-03-01 08:00")): 1,
            ("H1", "D1", T("2024-03-01 08:01")): 2, ("H1", "D1", T("2024-03-01 08:02")): 2,
            ("H1", "D1", T("2024-03-01 08:03")): 1}
        # max 2; patient-minutes 1 + 1 + 2 + 2 + 1 = 7 over 5 busy minutes: mean 1.4
        assert q.daily.to_dict("records") == [{
            "institution_id": "H1", "dept_id": "D1", "day": day, "max_waiting": 2,
            "patient_minutes": 7, "busy_minutes": 5, "mean_waiting": 1.4}]
        assert q.excluded == {"no_checkin_time": 1, "not_called": 1, "left_before_checkin": 1}
    # excluding the uncalled: the third visit is excluded too; 08:02 -> 1, 08:03 -> 0
    q = waiting_queue(visits, "2024-03-01", "2024-03-02", uncalled="exclude")
    assert q.excluded["not_called"] == 2
    assert q.minutes["waiting"].tolist() == [1, 1, 2, 1]


def test_a_queue_crossing_midnight_splits_its_days() -> None:
    # 23:58 -> 00:02 over a two-day period: 23:58, 23:59 on 29 Feb; 00:00, 00:01 on 1 Mar
    visits = _visits(("D1", "2024-02-29 23:58:00", "2024-03-01 00:02:00", None))
    daily = waiting_queue(visits, "2024-02-29", "2024-03-02").daily
    assert daily[["day", "patient_minutes", "busy_minutes"]].values.tolist() == [
        [T("2024-02-29"), 2, 2], [T("2024-03-01"), 2, 2]]


def test_empty_one_row_determinism_and_bad_input() -> None:
    empty = HAND_MOVES.iloc[:0]
    out = occupied_bed_days(empty, "2024-03-01", "2024-03-04")
    assert out.empty and list(out.columns) == ["institution_id", "ward_id", "day",
                                               "occupied_bed_days"]
    assert hourly_census(empty, "2024-03-01", "2024-03-04").empty
    q = waiting_queue(_visits(("D1", None, None, None)).iloc[:0], "2024-03-01", "2024-03-02")
    assert q.minutes.empty and q.daily.empty and sum(q.excluded.values()) == 0
    # one row: B alone -> days 03-01 and 03-02
    one = HAND_MOVES.iloc[[1]]
    assert occupied_bed_days(one, "2024-03-01", "2024-03-04")["occupied_bed_days"].tolist() == [
        1, 1]
    # an empty period gives nothing
    assert occupied_bed_days(HAND_MOVES, "2024-03-01", "2024-03-01").empty
    first = occupied_bed_days(HAND_MOVES, "2024-03-01", "2024-03-04")
    pd.testing.assert_frame_equal(first, occupied_bed_days(HAND_MOVES, "2024-03-01",
                                                           "2024-03-04"))
    with pytest.raises(ContractError, match=r"lacks column\(s\) \['ward_id'\]"):
        occupied_bed_days(HAND_MOVES.drop(columns="ward_id"), "2024-03-01", "2024-03-04")
    with pytest.raises(ContractError, match="'ward_id' has 1 missing"):
        occupied_bed_days(HAND_MOVES.assign(ward_id=["W1"] * 9 + [None]), "2024-03-01",
                          "2024-03-04")
    with pytest.raises(ContractError, match="'start_time' has 1 missing"):
        hourly_census(HAND_MOVES.assign(start_time=HAND_MOVES["start_time"].where(
            HAND_MOVES["stay_id"] != "A")), "2024-03-01", "2024-03-04")
    with pytest.raises(ContractError, match="1 row"):
        hourly_census(_moves(("X", 1, "W1", "2024-03-02", "2024-03-01")), "2024-03-01",
                      "2024-03-04")
    with pytest.raises(ContractError, match="naive"):
        hourly_census(HAND_MOVES.assign(start_time=HAND_MOVES["start_time"].dt.tz_localize(
            "UTC")), "2024-03-01", "2024-03-04")
    with pytest.raises(ValueError, match="whole days"):
        occupied_bed_days(HAND_MOVES, "2024-03-01 08:00", "2024-03-04")
    with pytest.raises(ValueError, match="before it starts"):
        occupied_bed_days(HAND_MOVES, "2024-03-04", "2024-03-01")
    with pytest.raises(ValueError, match="by must name"):
        occupied_bed_days(HAND_MOVES, "2024-03-01", "2024-03-04", by=())
    with pytest.raises(ValueError, match="uncalled"):
        waiting_queue(_visits(("D1", None, None, None)), "2024-03-01", "2024-03-02",
                      uncalled="drop")  # type: ignore[arg-type]
    with pytest.raises(ContractError, match="'dept_id' has 1 missing"):
        waiting_queue(_visits((None, None, None, None)), "2024-03-01", "2024-03-02")


@pytest.mark.parametrize("jit", [True, False])
def test_bucketed_and_sorted_sweeps_give_the_same_marks(jit: bool) -> None:
    from hospital_sdk.kernels.sweeps import _sweep

    rng = np.random.default_rng(9)
    group = rng.integers(0, 4, 300)
    lo = rng.integers(0, 50, 300)
    hi = np.minimum(lo + rng.integers(-3, 20, 300), 50)  # some empty or reversed: skipped
    run = _sweep if jit else _sweep.py_func

    def marks(dense_limit: int) -> np.ndarray:
        g, a, b, c = run(group, lo, hi, 50, 4, dense_limit)
        out = np.zeros((4, 50), np.int64)
        for gi, ai, bi, ci in zip(g, a, b, c):
            assert ci > 0 and ai < bi
            out[gi, ai:bi] += ci
        return out

    want = np.zeros((4, 50), np.int64)  # the rule as written: each interval adds 1 on [lo, hi)
    for gi, a, b in zip(group, lo, hi):
        want[gi, a:max(a, b)] += 1
    assert (marks(0) == want).all() and (marks(4 * 51) == want).all()
