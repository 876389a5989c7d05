"""References for :mod:`hospital_sdk.kernels.sweeps`: every mark checked against every row.

Each function walks the marks of the period one by one and asks of each row "does
``start <= mark < end`` hold?" — the rule as written, with no sorting or segments. Results are
dicts ``(*keys, mark) -> count`` holding only non-zero counts, like the kernels' frames.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

__all__ = ["bed_days", "hourly_census", "waiting_queue"]

_DAY, _HOUR, _MINUTE = pd.Timedelta(days=1), pd.Timedelta(hours=1), pd.Timedelta(minutes=1)


def _marks(start: str, end: str, step: pd.Timedelta) -> list[pd.Timestamp]:
    out, t = [], pd.Timestamp(start)
    while t < pd.Timestamp(end):
        out.append(t)
        t += step
    return out


def _contains(s: pd.Timestamp, e: object, t: pd.Timestamp) -> bool:
    return s <= t and (pd.isna(e) or t < e)


def _count(rows: list[dict], by: tuple[str, ...], marks: list[pd.Timestamp],
           offset: pd.Timedelta) -> Counter:
    """``(*keys, mark)`` -> rows whose interval contains ``mark + offset``."""
    out: Counter = Counter()
    for r in rows:
        for t in marks:
            if _contains(r["start_time"], r["end_time"], t + offset):
                out[(*(r[c] for c in by), t)] += 1
    return out


def bed_days(movements: pd.DataFrame, start: str, end: str,
             by: tuple[str, ...] = ("institution_id", "ward_id"),
             same_day_counts_one: bool = True) -> dict:
    """Census at 24:00 of each day (= 00:00 of the next), plus 1 per stay with no midnight."""
    rows = movements.to_dict("records")
    days = _marks(start, end, _DAY)
    out = _count(rows, by, days, _DAY)
    if same_day_counts_one:
        stays: dict = {}
        for r in rows:
            stays.setdefault((r["institution_id"], r["stay_id"]), []).append(r)
        for intervals in stays.values():
            def has_midnight(r: dict) -> bool:
                midnight = r["start_time"].ceil("D")  # first midnight at or after the start
                return pd.isna(r["end_time"]) or midnight < r["end_time"]
            if any(has_midnight(r) for r in intervals):
                continue
            last = max(intervals, key=lambda r: (r["start_time"], r["seq"]))
            day = last["start_time"].normalize()
            if day in days:
                out[(*(last[c] for c in by), day)] += 1
    return dict(out)


def hourly_census(movements: pd.DataFrame, start: str, end: str,
                  by: tuple[str, ...] = ("institution_id", "ward_id")) -> dict:
    """Intervals containing each hour mark."""
    return dict(_count(movements.to_dict("records"), by, _marks(start, end, _HOUR),
                       pd.Timedelta(0)))


def waiting_queue(visits: pd.DataFrame, start: str, end: str,
                  by: tuple[str, ...] = ("institution_id", "dept_id"),
                  uncalled: str = "until_end") -> tuple[dict, dict, dict]:
    """(minute counts, ``(*keys, day) -> (max, patient-minutes, busy minutes)``, exclusions)."""
    excluded = {"no_checkin_time": 0, "not_called": 0, "left_before_checkin": 0}
    rows = []
    for r in visits.to_dict("records"):
        stop = r["call_time"]
        if pd.isna(stop) and uncalled == "until_end":
            stop = r["end_time"]
        if pd.isna(r["checkin_time"]):
            excluded["no_checkin_time"] += 1
        elif pd.isna(stop):
            excluded["not_called"] += 1
        elif stop < r["checkin_time"]:
            excluded["left_before_checkin"] += 1
        else:
            rows.append({**r, "start_time": r["checkin_time"], "end_time": stop})
    minutes = dict(_count(rows, by, _marks(start, end, _MINUTE), pd.Timedelta(0)))
    daily: dict = {}
    for (*keys, t), n in minutes.items():
        key = (*keys, t.normalize())
        top, total, busy = daily.get(key, (0, 0, 0))
        daily[key] = (max(top, n), total + n, busy + 1)
    return minutes, daily, excluded
