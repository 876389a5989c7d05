"""The waiting queue: the SQL path (Ibis on DuckDB) equals the kernel and the slow reference.

Random visits come from :func:`tests.kernels.test_sweeps.random_visits`; the hand case repeats
the one of ``test_waiting_queue_by_hand`` (worked out there) with the visits' ``visit_time``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.aggregated.queues import clinic_waiting_queue
from hospital_sdk.errors import ContractError
from tests.kernels.naive import sweeps as naive
from tests.kernels.test_sweeps import as_dict, random_visits

T = pd.Timestamp
MARCH_1, MARCH_2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)


def _tables(visits: pd.DataFrame) -> dict:
    rows = visits.astype(object).where(visits.notna(), None).to_dict("records")
    return {"outpatient_visit": cleaned_memtable("outpatient_visit", rows)}


def _with_visit_time(visits: pd.DataFrame) -> pd.DataFrame:
    """``visit_time``: the check-in, or 09:00 of 1 March when there is none."""
    return visits.assign(visit_time=visits["checkin_time"].fillna(T("2024-03-01 09:00")))


def _equal(a: object, b: object) -> None:
    pd.testing.assert_frame_equal(a.minutes, b.minutes)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    assert a.excluded == b.excluded


@pytest.mark.parametrize(("seed", "uncalled"), [(4, "until_end"), (5, "exclude"),
                                                (6, "until_end")])
def test_random_visits_sql_equals_kernel_and_reference(seed: int, uncalled: str) -> None:
    visits = _with_visit_time(random_visits(seed, 200))
    sql, kernel = (clinic_waiting_queue(_tables(visits), MARCH_1, MARCH_2, uncalled=uncalled,
                                        method=m) for m in ("sql", "kernel"))
    _equal(sql, kernel)
    minutes, daily, _ = naive.waiting_queue(visits, "2024-03-01", "2024-03-02",
                                            uncalled=uncalled)
    assert minutes and as_dict(sql.minutes, "minute", "waiting") == minutes
    assert {(r.institution_id, r.dept_id, r.day): (r.max_waiting, r.patient_minutes,
                                                    r.busy_minutes)
            for r in sql.daily.itertuples()} == daily
    # the tally counts the period's visits only (visit_time in 1 March)
    in_period = visits[(visits["visit_time"] >= T("2024-03-01"))
                       & (visits["visit_time"] < T("2024-03-02"))]
    assert sql.excluded == naive.waiting_queue(in_period, "2024-03-01", "2024-03-02",
                                               uncalled=uncalled)[2]


def test_hand_visits_on_both_paths() -> None:
    rows = [
        ("D1", "2024-03-01 08:00:00", "2024-03-01 08:03:00", None),
        ("D1", "2024-03-01 08:00:30", "2024-03-01 08:02:00", None),
        ("D1", "2024-03-01 08:02:00", None, "2024-03-01 08:04:00"),
        ("D1", "2024-03-01 08:05:00", None, None),
        ("D1", None, "2024-03-01 08:05:00", None),
        ("D1", "2024-03-01 08:10:00", "2024-03-01 08:09:00", None),
        # registered on 29 Feb: its minute 00:00 counts, it is not in the period's tally
        ("D1", "2024-02-29 23:58:00", "2024-03-01 00:01:00", None),
        ("D2", "2024-03-01 08:00:00", "2024-03-01 08:00:00", None),
        # registered on 29 Feb and never checked in: outside the period's tally
        ("D1", None, None, None),
    ]
    visits = pd.DataFrame([{"institution_id": "H1", "dept_id": d, "checkin_time": T(c) if c
                            else pd.NaT, "call_time": T(k) if k else pd.NaT, "end_time":
                            T(e) if e else pd.NaT} for d, c, k, e in rows])
    visits["visit_time"] = visits["checkin_time"].fillna(T("2024-03-01 07:00"))
    visits.loc[8, "visit_time"] = T("2024-02-29 07:00")
    for method in ("sql", "kernel"):
        q = clinic_waiting_queue(_tables(visits), MARCH_1, MARCH_2, method=method)
        # minutes 00:00 1, 08:00 1, 08:01 2, 08:02 2, 08:03 1; max 2, 7 over 5 minutes
        assert q.minutes["waiting"].tolist() == [1, 1, 2, 2, 1]
        assert q.daily[["max_waiting", "patient_minutes", "busy_minutes", "mean_waiting"]
                       ].values.tolist() == [[2, 7, 5, 1.4]]
        assert q.excluded == {"no_checkin_time": 1, "not_called": 1, "left_before_checkin": 1}


def test_empty_nulls_and_bad_parameters() -> None:
    empty = {"outpatient_visit": cleaned_memtable("outpatient_visit")}
    for method in ("sql", "kernel"):
        q = clinic_waiting_queue(empty, MARCH_1, MARCH_2, method=method)
        assert q.minutes.empty and q.daily.empty
        assert q.excluded == {"no_checkin_time": 0, "not_called": 0, "left_before_checkin": 0}
    bad = _tables(pd.DataFrame({"institution_id": ["H1"], "dept_id": [None],
                                "visit_time": [T("2024-03-01 08:00")],
                                "checkin_time": [T("2024-03-01 08:00")],
                                "call_time": [T("2024-03-01 08:05")], "end_time": [pd.NaT]}))
    for method in ("sql", "kernel"):
        with pytest.raises(ContractError, match="dept_id"):
            clinic_waiting_queue(bad, MARCH_1, MARCH_2, method=method)
    with pytest.raises(ValueError, match="uncalled"):
        clinic_waiting_queue(empty, MARCH_1, MARCH_2, uncalled="drop")  # type: ignore[arg-type]
    with pytest.raises(ContractError, match="outpatient_visit"):
        clinic_waiting_queue({}, MARCH_1, MARCH_2)
