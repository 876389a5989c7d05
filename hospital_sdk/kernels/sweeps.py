"""Interval sweeps: occupied bed-days, hourly ward census and the waiting queue per minute.

All three count, at regular **marks** (instants ``first + k * step``), how many intervals of a
group contain the mark. The one rule of containment, everywhere in this module and in its SQL
path (:mod:`hospital_sdk.aggregated.occupancy`, :mod:`hospital_sdk.aggregated.queues`):

    the interval ``[in, out)`` contains the instant ``t`` when ``in <= t < out``.

So a zero-length interval (``in == out``) contains no mark, a patient leaving exactly at a mark
is not counted at it and a patient arriving exactly at a mark is. An interval with no ``out``
(still in the ward, never called) is open: it contains every mark from ``in`` to the period's
end. Marks outside the requested period are never produced (intervals are clipped to it).

The kernel (:func:`_sweep`) is the classic endpoint sweep: each interval becomes a ``+1`` event
at the first mark it contains and a ``-1`` event at the first mark after it, the events are
ordered by (group, mark) and a running sum gives the count between consecutive events, as
run-length **segments** ``(group, from_mark, to_mark, count)`` with ``count > 0``. The events
are ordered by bucketing (a counting sort over all (group, mark) keys: linear work) when that
key space is small next to the intervals, else by sorting (``O(n log n)``, independent of the
number of marks). The wrappers expand the segments to tidy frames (only marks with a non-zero
count are rows).

Occupied bed-days (实际占用床日数) — the midnight census
-------------------------------------------------------
The occupied bed-days of a ward on day ``d`` are the patients in the ward at 24:00 of ``d``
(the mark ``d + 1 day 00:00``: a patient admitted at exactly 00:00 of ``d + 1`` is in at that
instant and counts for ``d``). Source: the national health-statistics definition of
实际占用总床日数 ("每日夜晚12点实际占用病床数之和；病人入院后于当晚12点前死亡或因故出院的，作为实际
占用床位1天统计") — from the catalog's background knowledge [K], **not** found in
``national-indicators*.md`` (which only names 实际占用总床日数 in indicators 13 and 25), so the
second half is a switch: with ``same_day_counts_one=True`` (default) a **stay** none of whose
intervals contains a midnight (admitted and discharged before 24:00 of the same day, zero-length
stays included) counts **1** bed-day, in the ward of its last interval (latest ``start_time``,
then largest ``seq``: the discharging ward) on the calendar day that interval starts. The rule
is applied per stay, not per interval, so a same-day transfer does not add a bed-day to a stay
that is counted at a midnight anyway.

Waiting queue per minute
------------------------
A visit waits at minute mark ``m`` when ``checkin_time <= m < call_time``. A visit never called
(``call_time`` missing) waits until its ``end_time`` with ``uncalled="until_end"`` (default: a
patient who left without being called was still in the queue until then) and is excluded when
it has no ``end_time`` either; ``uncalled="exclude"`` excludes every visit never called.
Excluded visits are never dropped silently: :class:`WaitingQueue` ``.excluded`` counts them by
reason (``no_checkin_time``, ``not_called``, ``left_before_checkin``: the call, or the end when
used, is earlier than the check-in).

Examples
--------
>>> import pandas as pd
>>> moves = pd.DataFrame({
...     "institution_id": ["H1"] * 3, "stay_id": ["A", "B", "C"], "seq": [1, 1, 1],
...     "ward_id": ["W1"] * 3, "start_time": pd.to_datetime(
...         ["2024-03-01 10:00", "2024-03-02 09:00", "2024-03-02 08:00"]),
...     "end_time": pd.to_datetime(["2024-03-03 08:00", "2024-03-02 15:00", None])})
>>> occupied_bed_days(moves, "2024-03-01", "2024-03-04")
  institution_id ward_id        day  occupied_bed_days
0             H1      W1 2024-03-01                  1
1             H1      W1 2024-03-02                  3
2             H1      W1 2024-03-03                  1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.config import kernel

__all__ = ["MOVEMENT_COLUMNS", "VISIT_COLUMNS", "Uncalled", "WaitingQueue", "hourly_census",
           "occupied_bed_days", "waiting_queue"]

MOVEMENT_COLUMNS: tuple[str, ...] = ("institution_id", "stay_id", "seq", "start_time",
                                     "end_time")
"""The columns the occupancy sweeps read besides the grouping columns (``by``)."""

VISIT_COLUMNS: tuple[str, ...] = ("checkin_time", "call_time", "end_time")
"""The columns :func:`waiting_queue` reads besides the grouping columns (``by``)."""

_MINUTE_NS, _HOUR_NS, _DAY_NS = 60_000_000_000, 3_600_000_000_000, 86_400_000_000_000
_OPEN = np.iinfo(np.int64).max
Uncalled = Literal["until_end", "exclude"]
"""How a visit never called is treated: waits until its ``end_time``, or is excluded."""


@kernel
def _sweep(group: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_marks: int, n_groups: int,
           dense_limit: int) -> tuple:  # pragma: no cover - compiled; py_func is tested
    """Segments ``(group, from, to, count > 0)`` of marks ``[lo, hi)`` of each interval.

    ``lo``/``hi`` are mark indices already clipped to ``[0, n_marks]``; empty ranges are
    skipped; ``group`` codes are in ``[0, n_groups)``. Segments come ordered by group, then
    mark. When ``n_groups * (n_marks + 1) <= dense_limit`` the events are bucketed into one
    array of all (group, mark) keys (a counting sort: linear in intervals plus keys); otherwise
    the keys are sorted. The two give the same marks and counts; the sorted way may split a
    run where events cancel.
    """
    n = group.shape[0]
    width = n_marks + 1
    seg_group = np.empty(2 * n, np.int64)
    seg_from = np.empty(2 * n, np.int64)
    seg_to = np.empty(2 * n, np.int64)
    seg_count = np.empty(2 * n, np.int64)
    s = 0
    if n_groups * width <= dense_limit:
        diff = np.zeros(n_groups * width, np.int32)
        for i in range(n):
            if lo[i] < hi[i]:
                diff[group[i] * width + lo[i]] += 1
                diff[group[i] * width + hi[i]] -= 1
        for g in range(n_groups):
            count = 0
            begin = 0
            for k in range(n_marks):
                d = diff[g * width + k]
                if d != 0:
                    if count > 0:
                        seg_group[s] = g
                        seg_from[s] = begin
                        seg_to[s] = k
                        seg_count[s] = count
                        s += 1
                    count += d
                    begin = k
            if count > 0:
                seg_group[s] = g
                seg_from[s] = begin
                seg_to[s] = n_marks
                seg_count[s] = count
                s += 1
        return seg_group[:s], seg_from[:s], seg_to[:s], seg_count[:s]
    # the sorted way: each event is the key (group, mark) shifted left once, its low bit set
    # for a start (+1) and clear for an end (-1); one plain sort orders them (sums per key do
    # not depend on the order within a key)
    events = np.empty(2 * n, np.int64)
    m = 0
    for i in range(n):
        if lo[i] < hi[i]:
            events[m] = (group[i] * width + lo[i]) * 2 + 1
            events[m + 1] = (group[i] * width + hi[i]) * 2
            m += 2
    events = np.sort(events[:m])
    count = 0
    j = 0
    while j < m:
        key = events[j] // 2
        while j < m and events[j] // 2 == key:
            count += 1 if events[j] % 2 == 1 else -1
            j += 1
        if count > 0:  # an end event of this group follows, so j < m here
            seg_group[s] = key // width
            seg_from[s] = key % width
            seg_to[s] = (events[j] // 2) % width
            seg_count[s] = count
            s += 1
    return seg_group[:s], seg_from[:s], seg_to[:s], seg_count[:s]


def _dense_limit(n: int) -> int:
    """Largest (group, mark) key space bucketed rather than sorted for ``n`` intervals: about
    at most 256 bytes of int32 counts per interval (at least 16 MB): 60 clinics' minutes of a
    year (31.6M keys) are bucketed from 500,000 visits on."""
    return max(64 * n, 1 << 22)


def _run_sweep(group: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_marks: int,
               n_groups: int, jit: bool) -> tuple:
    run = _sweep if jit else _sweep.py_func
    return run(np.ascontiguousarray(group, np.int64), np.ascontiguousarray(lo, np.int64),
               np.ascontiguousarray(hi, np.int64), n_marks, n_groups, _dense_limit(len(group)))


@kernel
def _daily(seg_group: np.ndarray, seg_from: np.ndarray, seg_to: np.ndarray,
           seg_count: np.ndarray, per_day: int) -> tuple:  # pragma: no cover - compiled
    """Per (group, day) of ``per_day`` marks: max count, count total, marks with a count.

    Segments must be ordered by group then mark (as :func:`_sweep` returns them); days with no
    segment are absent.
    """
    n = seg_group.shape[0]
    size = 0
    for i in range(n):
        size += (seg_to[i] - 1) // per_day - seg_from[i] // per_day + 1
    out_group = np.empty(size, np.int64)
    out_day = np.empty(size, np.int64)
    out_max = np.zeros(size, np.int64)
    out_total = np.zeros(size, np.int64)
    out_busy = np.zeros(size, np.int64)
    b = -1
    for i in range(n):
        start = seg_from[i]
        while start < seg_to[i]:
            day = start // per_day
            stop = min(seg_to[i], (day + 1) * per_day)
            if b < 0 or out_group[b] != seg_group[i] or out_day[b] != day:
                b += 1
                out_group[b] = seg_group[i]
                out_day[b] = day
            out_max[b] = max(out_max[b], seg_count[i])
            out_total[b] += seg_count[i] * (stop - start)
            out_busy[b] += stop - start
            start = stop
    b += 1
    return out_group[:b], out_day[:b], out_max[:b], out_total[:b], out_busy[:b]


def _nanoseconds(values: pd.Series, name: str, caller: str) -> np.ndarray:
    """Naive timestamps as int64 nanoseconds; missing values become :data:`_OPEN`."""
    try:
        stamps = pd.to_datetime(values)
    except (TypeError, ValueError) as error:
        raise ContractError(f"{caller}: {name} is not a timestamp column ({error})") from None
    if getattr(stamps.dt, "tz", None) is not None:
        raise ContractError(f"{caller}: {name} must be a naive (local) timestamp")
    ns = stamps.to_numpy(dtype="datetime64[ns]").view(np.int64).copy()
    ns[stamps.isna().to_numpy()] = _OPEN
    return ns


def _first_mark(ns: np.ndarray, first: int, step: int, n_marks: int) -> np.ndarray:
    """Index of the first mark ``first + k * step`` at or after each instant, in ``[0, n]``."""
    out = np.full(ns.shape, n_marks, np.int64)
    known = ns != _OPEN
    out[known] = np.clip(-((first - ns[known]) // step), 0, n_marks)
    return out


def _period(start: object, end: object) -> tuple[pd.Timestamp, pd.Timestamp, int]:
    first, stop = pd.Timestamp(start), pd.Timestamp(end)
    if first != first.normalize() or stop != stop.normalize():
        raise ValueError(f"the period must be whole days, got {start!r} to {end!r}")
    if stop < first:
        raise ValueError(f"the period ends ({end!r}) before it starts ({start!r})")
    return first, stop, (stop - first) // pd.Timedelta(days=1)


def _checked(frame: pd.DataFrame, by: tuple[str, ...], needed: tuple[str, ...],
             not_null: tuple[str, ...], caller: str) -> pd.DataFrame:
    if not by:
        raise ValueError(f"{caller}: by must name at least one grouping column")
    columns = list(dict.fromkeys((*by, *needed)))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ContractError(f"{caller}: input lacks column(s) {missing}; it reads {columns}")
    for c in dict.fromkeys((*by, *not_null)):
        nulls = int(frame[c].isna().sum())
        if nulls:
            raise ContractError(f"{caller}: column {c!r} has {nulls} missing value(s); it must "
                                f"be complete")
    return frame[columns]


def _groups(frame: pd.DataFrame, by: tuple[str, ...]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code of each row (ordered by the key values) and the key values of each code."""
    grouped = frame.groupby(list(by), sort=True)
    codes = grouped.ngroup().to_numpy(np.int64)
    return codes, grouped.size().index.to_frame(index=False)[list(by)]


def _tidy(keys: pd.DataFrame, group: np.ndarray, extra: dict[str, object]) -> pd.DataFrame:
    out = keys.iloc[group].reset_index(drop=True)
    return out.assign(**extra)


def _expand(seg: tuple, keys: pd.DataFrame, first: pd.Timestamp, step: int,
            label: str, value: str) -> pd.DataFrame:
    """One row per group and mark with a non-zero count: keys, ``label`` instant, ``value``."""
    seg_group, seg_from, seg_to, seg_count = seg
    lengths = seg_to - seg_from
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths - seg_from, lengths)
    mark = np.arange(total, dtype=np.int64) - starts
    stamps = (first.value + mark * step).astype("datetime64[ns]")
    return _tidy(keys, np.repeat(seg_group, lengths), {
        label: stamps, value: np.repeat(seg_count, lengths)})


def _occupancy(movements: pd.DataFrame, start: object, end: object, by: tuple[str, ...],
               caller: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray,
                                     pd.DataFrame, pd.Timestamp, int]:
    m = _checked(movements, by, MOVEMENT_COLUMNS,
                 ("institution_id", "stay_id", "seq", "start_time"), caller)
    first, _, days = _period(start, end)
    s = _nanoseconds(m["start_time"], "start_time", caller)
    e = _nanoseconds(m["end_time"], "end_time", caller)
    bad = int((e < s).sum())
    if bad:
        raise ContractError(f"{caller}: {bad} row(s) have end_time before start_time (rule "
                            f"end_after_start of stay_movement)")
    group, keys = _groups(m, by)
    return m, group, s, e, keys, first, days


def occupied_bed_days(movements: pd.DataFrame, start: object, end: object, *,
                      by: tuple[str, ...] = ("institution_id", "ward_id"),
                      same_day_counts_one: bool = True, jit: bool = True) -> pd.DataFrame:
    """Occupied bed-days per group and day of ``[start, end)`` by the midnight census.

    Parameters
    ----------
    movements
        ``stay_movement`` rows (one per stay and ward interval) with :data:`MOVEMENT_COLUMNS`
        and the ``by`` columns; a missing ``end_time`` is an open interval (still in the ward).
        Give every interval of a stay (not only those in the period) so that the same-day rule
        sees the whole stay.
    start, end
        The period, whole days: day ``d`` is in it when ``start <= d < end``.
    by
        Grouping columns (``("institution_id", "ward_id")``; add ``"dept_id"`` for ward and
        department).
    same_day_counts_one
        A stay containing no midnight counts 1 bed-day (see the module; default ``True``).
    jit
        ``False`` runs the kernel's Python body.

    Returns
    -------
    pandas.DataFrame
        ``*by, day, occupied_bed_days`` (int64), ordered by ``by`` and day; days with no
        occupied bed are absent.

    Raises
    ------
    ContractError
        A column is missing, a ``by`` column, ``institution_id``, ``stay_id``, ``seq`` or
        ``start_time`` has a missing value, a time is not naive, or an interval ends before it
        starts.
    ValueError
        The period is not whole days or ends before it starts; ``by`` is empty.
    """
    caller = "occupied_bed_days"
    m, group, s, e, keys, first, days = _occupancy(movements, start, end, by, caller)
    # mark j of the ceil-index is first + j days; day k's census is mark k + 1
    lo = np.clip(_first_mark(s, first.value, _DAY_NS, days + 1) - 1, 0, days)
    hi = np.clip(_first_mark(e, first.value, _DAY_NS, days + 1) - 1, 0, days)
    if same_day_counts_one and len(m):
        extra = _same_day_stays(m, group, s, e, first.value)
        day = extra[1]
        inside = (day >= 0) & (day < days)
        group = np.concatenate([group, extra[0][inside]])
        lo = np.concatenate([lo, day[inside]])
        hi = np.concatenate([hi, day[inside] + 1])
    seg = _run_sweep(group, lo, hi, days, len(keys), jit)
    return _expand(seg, keys, first, _DAY_NS, "day", "occupied_bed_days")


def _same_day_stays(m: pd.DataFrame, group: np.ndarray, s: np.ndarray, e: np.ndarray,
                    first: int) -> tuple[np.ndarray, np.ndarray]:
    """Group and day index of the last interval of each stay that contains no midnight."""
    lo = -((first - s) // _DAY_NS)  # first midnight at or after the start, unclipped
    hi = np.where(e == _OPEN, _OPEN, -((first - np.where(e == _OPEN, first, e)) // _DAY_NS))
    stay = m.groupby(["institution_id", "stay_id"], sort=False).ngroup().to_numpy(np.int64)
    with_midnight = np.bincount(stay, weights=hi > lo) > 0
    rows = np.flatnonzero(~with_midnight[stay])  # the intervals of stays with no midnight
    order = rows[np.lexsort((m["seq"].to_numpy(np.int64)[rows], s[rows], stay[rows]))]
    ordered = stay[order]
    pick = order[np.r_[ordered[1:] != ordered[:-1], True][:len(order)]]  # each stay's last
    return group[pick], (s[pick] - first) // _DAY_NS


def hourly_census(movements: pd.DataFrame, start: object, end: object, *,
                  by: tuple[str, ...] = ("institution_id", "ward_id"),
                  jit: bool = True) -> pd.DataFrame:
    """Patients in each group at each hour mark (00:00, 01:00, ...) of ``[start, end)``.

    The census at hour mark ``h`` counts the intervals with ``start_time <= h < end_time``.
    Parameters, errors and inputs as :func:`occupied_bed_days` (no same-day rule here).

    Returns
    -------
    pandas.DataFrame
        ``*by, hour, census`` (int64), ordered by ``by`` and hour; hours with a census of zero
        are absent.

    Examples
    --------
    >>> moves = pd.DataFrame({"institution_id": ["H1", "H1"], "stay_id": ["A", "B"],
    ...     "seq": [1, 1], "ward_id": ["W1", "W1"],
    ...     "start_time": pd.to_datetime(["2024-03-01 00:00", "2024-03-01 00:30"]),
    ...     "end_time": pd.to_datetime(["2024-03-01 02:00", "2024-03-01 01:00"])})
    >>> hourly_census(moves, "2024-03-01", "2024-03-02")
      institution_id ward_id                hour  census
    0             H1      W1 2024-03-01 00:00:00       1
    1             H1      W1 2024-03-01 01:00:00       1
    """
    m, group, s, e, keys, first, days = _occupancy(movements, start, end, by, "hourly_census")
    hours = days * 24
    lo = _first_mark(s, first.value, _HOUR_NS, hours)
    hi = _first_mark(e, first.value, _HOUR_NS, hours)
    return _expand(_run_sweep(group, lo, hi, hours, len(keys), jit), keys, first, _HOUR_NS,
                   "hour", "census")


@dataclass(frozen=True)
class WaitingQueue:
    """What :func:`waiting_queue` returns.

    Attributes
    ----------
    minutes
        ``*by, minute, waiting``: patients waiting at each minute mark; zero minutes absent.
    daily
        ``*by, day, max_waiting, patient_minutes, busy_minutes, mean_waiting``: the day's
        largest queue, the waiting summed over its minutes, the minutes with someone waiting,
        and ``patient_minutes / busy_minutes`` (the mean queue while anyone waits); days with
        nobody waiting are absent.
    excluded
        Reason -> number of the given visits not counted (see the module); every reason is
        present.
    """

    minutes: pd.DataFrame
    daily: pd.DataFrame
    excluded: dict[str, int]


def _queue_intervals(visits: pd.DataFrame, uncalled: Uncalled, caller: str
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Waiting start and end (ns) of the counted visits, their mask and the exclusion tally."""
    if uncalled not in ("until_end", "exclude"):
        raise ValueError(f"uncalled must be 'until_end' or 'exclude', got {uncalled!r}")
    checkin = _nanoseconds(visits["checkin_time"], "checkin_time", caller)
    call = _nanoseconds(visits["call_time"], "call_time", caller)
    if uncalled == "until_end":
        call = np.where(call == _OPEN, _nanoseconds(visits["end_time"], "end_time", caller),
                        call)
    no_checkin = checkin == _OPEN
    not_called = ~no_checkin & (call == _OPEN)
    left_before = ~no_checkin & ~not_called & (call < checkin)
    keep = ~(no_checkin | not_called | left_before)
    excluded = {"no_checkin_time": int(no_checkin.sum()), "not_called": int(not_called.sum()),
                "left_before_checkin": int(left_before.sum())}
    return checkin, call, keep, excluded


def waiting_queue(visits: pd.DataFrame, start: object, end: object, *,
                  by: tuple[str, ...] = ("institution_id", "dept_id"),
                  uncalled: Uncalled = "until_end", jit: bool = True) -> WaitingQueue:
    """Patients waiting per clinic at each minute of ``[start, end)``, and daily summaries.

    Parameters
    ----------
    visits
        ``outpatient_visit`` rows with :data:`VISIT_COLUMNS` and the ``by`` columns.
    start, end
        The period, whole days.
    by
        The clinic: ``("institution_id", "dept_id")`` (add ``"campus_id"`` or drop the
        institution as needed).
    uncalled
        ``"until_end"`` (a visit never called waits until its ``end_time``) or ``"exclude"``.
    jit
        ``False`` runs the kernels' Python bodies.

    Returns
    -------
    WaitingQueue
        ``minutes``, ``daily`` and ``excluded`` (see :class:`WaitingQueue`).

    Raises
    ------
    ContractError
        A column is missing, a ``by`` column has a missing value, or a time is not naive.
    ValueError
        The period is not whole days, ``by`` is empty or ``uncalled`` unknown.

    Examples
    --------
    >>> visits = pd.DataFrame({"institution_id": ["H1"] * 3, "dept_id": ["D1"] * 3,
    ...     "checkin_time": pd.to_datetime(["2024-03-01 08:00:00", "2024-03-01 08:01:30", None]),
    ...     "call_time": pd.to_datetime(["2024-03-01 08:03:00", "2024-03-01 08:02:00", None]),
    ...     "end_time": pd.to_datetime([None, None, None])})
    >>> q = waiting_queue(visits, "2024-03-01", "2024-03-02")  # 8:01:30-8:02 holds no mark
    >>> q.minutes["waiting"].tolist(), q.daily["max_waiting"].tolist(), q.excluded
    ([1, 1, 1], [1], {'no_checkin_time': 1, 'not_called': 0, 'left_before_checkin': 0})
    """
    caller = "waiting_queue"
    v = _checked(visits, by, VISIT_COLUMNS, (), caller)
    first, _, days = _period(start, end)
    checkin, call, keep, excluded = _queue_intervals(v, uncalled, caller)
    v = v[keep]
    group, keys = _groups(v, by)
    minutes = days * 1440
    lo = _first_mark(checkin[keep], first.value, _MINUTE_NS, minutes)
    hi = _first_mark(call[keep], first.value, _MINUTE_NS, minutes)
    daily = _daily if jit else _daily.py_func
    seg = _run_sweep(group, lo, hi, minutes, len(keys), jit)
    d_group, d_day, d_max, d_total, d_busy = daily(*seg, 1440)
    days_out = _tidy(keys, d_group, {
        "day": (first.value + d_day * _DAY_NS).astype("datetime64[ns]"), "max_waiting": d_max,
        "patient_minutes": d_total, "busy_minutes": d_busy,
        "mean_waiting": d_total / np.maximum(d_busy, 1)})
    return WaitingQueue(_expand(seg, keys, first, _MINUTE_NS, "minute", "waiting"), days_out,
                        excluded)
