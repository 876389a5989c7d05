"""The outpatient waiting queue per clinic and minute, and its daily maximum and mean.

Rules of :mod:`hospital_sdk.kernels.sweeps` (shared by both paths): a visit waits at minute
mark ``m`` when ``checkin_time <= m < call_time``; a visit never called waits until its
``end_time`` with ``uncalled="until_end"`` (the default) and is excluded without one;
``uncalled="exclude"`` excludes every visit never called. Excluded visits are counted by reason
(``no_checkin_time``, ``not_called``, ``left_before_checkin``) among the visits of the period
(``visit_time`` in ``[start, end)``, the column that places a visit in a period); every wait
that touches the period is counted in its minutes, whatever the visit's ``visit_time``. The
daily summary per clinic: ``max_waiting``, ``patient_minutes`` (the waiting summed over the
day's minutes), ``busy_minutes`` (minutes with someone waiting) and ``mean_waiting =
patient_minutes / busy_minutes`` (the mean queue while anyone waits). This is the basis of the
live outpatient monitoring to come.

Two paths: the SQL path :func:`waiting_queue_sql` (Ibis, the window sweep of
:func:`hospital_sdk.aggregated.occupancy.mark_segments` over minute marks) and the kernel
:func:`hospital_sdk.kernels.waiting_queue`; :func:`clinic_waiting_queue` chooses
(``method="auto"|"kernel"|"sql"``, see :func:`~hospital_sdk.aggregated.occupancy.use_kernel`).

Examples
--------
>>> import datetime as dt
>>> from hospital_sdk.aggregated.inputs import cleaned_memtable
>>> visits = cleaned_memtable("outpatient_visit", [
...     {"institution_id": "H1", "dept_id": "D1", "visit_time": dt.datetime(2024, 3, 1, 8),
...      "checkin_time": dt.datetime(2024, 3, 1, 8), "call_time": dt.datetime(2024, 3, 1, 8, 2)},
...     {"institution_id": "H1", "dept_id": "D1", "visit_time": dt.datetime(2024, 3, 1, 8),
...      "checkin_time": None, "call_time": None}])
>>> q = clinic_waiting_queue({"outpatient_visit": visits}, dt.date(2024, 3, 1),
...                          dt.date(2024, 3, 2), method="sql")
>>> q.minutes["waiting"].tolist(), q.daily["patient_minutes"].tolist(), q.excluded
([1, 1], [2], {'no_checkin_time': 1, 'not_called': 0, 'left_before_checkin': 0})
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import ibis
import ibis.expr.types as ir
import pandas as pd

from hospital_sdk.aggregated.inputs import Needs, require
from hospital_sdk.aggregated.occupancy import (
    Method,
    as_kernel_types,
    ceil_mark,
    fetch,
    mark_segments,
    period_days,
    require_complete,
    segments_to_marks,
    use_kernel,
)
from hospital_sdk.kernels.sweeps import Uncalled, WaitingQueue, waiting_queue

__all__ = ["QueueTables", "clinic_waiting_queue", "queue_needs", "waiting_queue_sql"]

_REASONS = ("no_checkin_time", "not_called", "left_before_checkin")


def queue_needs(by: Sequence[str]) -> Needs:
    """What the queue functions read from ``outpatient_visit`` with clinic columns ``by``."""
    return {"outpatient_visit": tuple(dict.fromkeys(
        (*by, "visit_time", "checkin_time", "call_time", "end_time")))}


class QueueTables(NamedTuple):
    """The SQL path's lazy tables (columns as :class:`~hospital_sdk.kernels.WaitingQueue`)."""

    minutes: ir.Table
    daily: ir.Table
    excluded: ir.Table
    """One row, one column per reason."""


def _visits(tables: Mapping[str, ir.Table], by: Sequence[str], uncalled: Uncalled
            ) -> tuple[ir.Table, ir.BooleanValue]:
    """The visits with their waiting end ``_stop`` and whether they are counted."""
    if uncalled not in ("until_end", "exclude"):
        raise ValueError(f"uncalled must be 'until_end' or 'exclude', got {uncalled!r}")
    require(tables, queue_needs(by), "waiting_queue")
    v = tables["outpatient_visit"].select(*queue_needs(by)["outpatient_visit"])
    stop = v.call_time if uncalled == "exclude" else ibis.coalesce(v.call_time, v.end_time)
    v = v.mutate(_stop=stop)
    return v, v.checkin_time.notnull() & v._stop.notnull() & (v._stop >= v.checkin_time)


def _bounds(first: dt.date, stop: dt.date) -> tuple[ir.TimestampScalar, ir.TimestampScalar]:
    return (ibis.timestamp(dt.datetime.combine(first, dt.time())),
            ibis.timestamp(dt.datetime.combine(stop, dt.time())))


def waiting_queue_sql(tables: Mapping[str, ir.Table], start: dt.date, end: dt.date, *,
                      by: Sequence[str] = ("institution_id", "dept_id"),
                      uncalled: Uncalled = "until_end") -> QueueTables:
    """The SQL path of :func:`clinic_waiting_queue` as lazy Ibis tables (the clinic columns
    are taken as complete: :func:`clinic_waiting_queue` checks).

    Raises
    ------
    ContractError
        ``outpatient_visit`` or one of its needed columns is missing.
    ValueError
        Bad period or ``uncalled``.
    """
    first, stop, days = period_days(start, end)
    by = list(by)
    v, counted = _visits(tables, by, uncalled)
    lo, hi = _bounds(first, stop)
    minutes = days * 1440
    waits = v.filter(counted, v.checkin_time < hi, v._stop > lo)
    intervals = waits.select(
        *by, lo=ceil_mark(waits.checkin_time, first, "m").clip(0, minutes).cast("int64"),
        hi=ceil_mark(waits._stop, first, "m").clip(0, minutes).cast("int64"))
    per_minute = segments_to_marks(mark_segments(intervals, by), by, first, "m", "minute",
                                   "waiting")
    per_day = per_minute.mutate(day=per_minute.minute.truncate("D"))
    daily = per_day.group_by([*by, "day"]).aggregate(
        max_waiting=per_day.waiting.max().cast("int64"),
        patient_minutes=per_day.waiting.sum().cast("int64"),
        busy_minutes=per_day.waiting.count().cast("int64"))
    daily = daily.mutate(mean_waiting=daily.patient_minutes.cast("float64")
                         / daily.busy_minutes.cast("float64"))
    period = v.filter(v.visit_time >= lo, v.visit_time < hi)
    reasons = {
        "no_checkin_time": period.checkin_time.isnull(),
        "not_called": period.checkin_time.notnull() & period._stop.isnull(),
        "left_before_checkin": period._stop < period.checkin_time}
    excluded = period.aggregate(**{k: ibis.coalesce(r, False).cast("int64").sum()
                                   for k, r in reasons.items()})
    return QueueTables(per_minute.order_by([*by, "minute"]), daily.order_by([*by, "day"]),
                       excluded)


def clinic_waiting_queue(tables: Mapping[str, ir.Table], start: dt.date, end: dt.date, *,
                         by: Sequence[str] = ("institution_id", "dept_id"),
                         uncalled: Uncalled = "until_end",
                         method: Method = "auto") -> WaitingQueue:
    """Patients waiting per clinic and minute of ``[start, end)``, daily summaries, exclusions.

    Parameters
    ----------
    tables
        Cleaned tables holding ``outpatient_visit``.
    start, end
        The period, whole days.
    by
        The clinic (``institution_id, dept_id``; add ``campus_id`` or use ``dept_id`` alone).
    uncalled
        ``"until_end"`` or ``"exclude"`` (see the module).
    method
        ``"kernel"``, ``"sql"`` or ``"auto"``.

    Returns
    -------
    WaitingQueue
        ``minutes`` (``*by, minute, waiting``; zero minutes absent), ``daily`` (``*by, day,
        max_waiting, patient_minutes, busy_minutes, mean_waiting``) and ``excluded`` (reason ->
        visits of the period not counted).

    Raises
    ------
    ContractError
        A needed table or column is missing, or a clinic column has missing values.
    ValueError
        Bad period, ``uncalled`` or ``method``.
    """
    by = tuple(by)
    first, stop, _ = period_days(start, end)
    v, counted = _visits(tables, by, uncalled)
    if not use_kernel(v, method, "waiting_queue"):
        require_complete(v, by, "waiting_queue")
        q = waiting_queue_sql(tables, first, stop, by=by, uncalled=uncalled)
        daily = fetch(q.daily)
        daily["day"] = pd.to_datetime(daily["day"]).astype("datetime64[ns]")
        row = q.excluded.execute().iloc[0]
        return WaitingQueue(as_kernel_types(fetch(q.minutes), "minute", "waiting"),
                            daily.reset_index(drop=True),
                            {k: int(row[k]) if pd.notna(row[k]) else 0 for k in _REASONS})
    lo, hi = _bounds(first, stop)
    touching = counted & (v.checkin_time < hi) & (v._stop > lo)
    in_period = (v.visit_time >= lo) & (v.visit_time < hi) & ~counted
    rows = fetch(v.filter(touching | in_period).drop("_stop", "visit_time"))
    return waiting_queue(rows, first, stop, by=by, uncalled=uncalled)
