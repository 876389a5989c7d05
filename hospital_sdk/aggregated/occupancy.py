"""Ward occupancy from ``stay_movement``: occupied bed-days per day and the census per hour.

The rules are those of :mod:`hospital_sdk.kernels.sweeps` (one source for both paths): the
interval ``[start_time, end_time)`` contains the instant ``t`` when ``start_time <= t <
end_time``; a missing ``end_time`` is open (still in the ward: counted up to the period's end);
day ``d``'s occupied bed-days are the patients in the ward at 24:00 of ``d`` (the instant
``d + 1 00:00``), plus, with ``same_day_counts_one``, 1 for each stay none of whose intervals
holds a midnight (in the ward of its last interval, on the day that interval starts); the
census at hour mark ``h`` counts the intervals containing ``h``. Only non-zero counts are rows.

Two paths compute the same frames:

* the **SQL path** (:func:`bed_days_sql`, :func:`hourly_census_sql`), written with Ibis so it
  runs where the tables live (DuckDB, Spark): each interval becomes the range of mark indices it
  contains (integer arithmetic on the date, hour and minute of its ends, so no epoch or time
  zone is involved), a ``+1``/``-1`` event at the two ends of that range, a running sum over
  the events of each group (a window) gives run-length segments, expanded to marks with
  ``unnest(range(from, to))`` — see :func:`mark_segments`;
* the **kernel** (:func:`hospital_sdk.kernels.occupied_bed_days`, ``hourly_census``), the same
  sweep compiled with Numba over the rows fetched to pandas.

:func:`ward_bed_days` and :func:`ward_hourly_census` choose (``method="auto"|"kernel"|"sql"``)
and return pandas frames. ``"auto"`` takes the kernel only on a local (DuckDB) backend *and*
only where the benchmark (``tests/benchmarks/bench_kernels_sweeps.py``) found it at least 5×
faster than the SQL path; see :data:`KERNEL_WINS`.

Examples
--------
>>> import datetime as dt
>>> from hospital_sdk.aggregated.inputs import cleaned_memtable
>>> moves = cleaned_memtable("stay_movement", [
...     {"institution_id": "H1", "stay_id": "A", "seq": 1, "ward_id": "W1", "dept_id": "D1",
...      "start_time": dt.datetime(2024, 3, 1, 10), "end_time": dt.datetime(2024, 3, 3, 8)}])
>>> ward_bed_days({"stay_movement": moves}, dt.date(2024, 3, 1), dt.date(2024, 3, 4),
...               method="sql")
  institution_id ward_id        day  occupied_bed_days
0             H1      W1 2024-03-01                  1
1             H1      W1 2024-03-02                  1
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from hospital_sdk.aggregated.inputs import Needs, require
from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.sweeps import hourly_census, occupied_bed_days

__all__ = ["KERNEL_WINS", "Method", "as_kernel_types", "bed_days_sql", "ceil_mark", "fetch",
           "floor_mark", "hourly_census_sql", "mark_segments", "occupancy_needs", "period_days",
           "require_complete", "segments_to_marks", "use_kernel", "ward_bed_days",
           "ward_hourly_census"]

Method = Literal["auto", "kernel", "sql"]
Unit = Literal["D", "h", "m"]

KERNEL_WINS: Mapping[str, bool] = {"bed_days": False, "hourly_census": False,
                                   "waiting_queue": False}
"""Whether the kernel met the issue's rule (≥ 5× faster than the SQL path on 10M events) per
calculation; ``method="auto"`` takes the kernel only where this is ``True`` (and the backend is
local). Measured at 10M events (2026-11-26, medians of 3, BENCHMARKS.md "interval sweeps"),
SQL path / the product's kernel path (rows fetched from DuckDB, then the wrapper): bed-days
0.99× (9.0 s vs 9.1 s), hourly census 2.5× (4.0 s vs 1.6 s), waiting queue 4.8× (24.9 s vs
5.2 s): none meets the rule, so the SQL path is kept everywhere. The kernels alone are 44–380×
faster than SQL; what remains is fetching rows and the wrapper's grouping on string keys
(factorising 10M stay ids is most of the bed-days wrapper's 6 s)."""

_PER_DAY = {"D": 1, "h": 24, "m": 1440}
_LOCAL_BACKENDS = frozenset({"duckdb"})


def occupancy_needs(by: Sequence[str]) -> Needs:
    """What the occupancy functions read from ``stay_movement`` with grouping ``by``."""
    return {"stay_movement": tuple(dict.fromkeys(
        (*by, "institution_id", "stay_id", "seq", "start_time", "end_time")))}


def floor_mark(t: ir.TimestampValue, first: dt.date, unit: Unit) -> ir.IntegerValue:
    """Index of the last mark (``first + k`` units) at or before ``t``."""
    days = t.date().delta(ibis.date(first), unit="day")
    if unit == "D":
        return days
    if unit == "h":
        return days * 24 + t.hour()
    return days * 1440 + t.hour() * 60 + t.minute()


def ceil_mark(t: ir.TimestampValue, first: dt.date, unit: Unit) -> ir.IntegerValue:
    """Index of the first mark at or after ``t`` (the first mark ``[t, ...)`` contains)."""
    return floor_mark(t, first, unit) + ibis.ifelse(t == t.truncate(unit), 0, 1)


def mark_segments(intervals: ir.Table, by: Sequence[str]) -> ir.Table:
    """Run-length counts of ``intervals`` (``*by, lo, hi``: marks ``[lo, hi)``, clipped).

    Returns ``*by, mark_from, mark_to, count``: ``count > 0`` intervals contain each mark of
    ``[mark_from, mark_to)`` — the endpoint sweep as a window running sum.
    """
    keep = intervals.filter(intervals.lo < intervals.hi)
    cols = list(by)
    events = keep.select(*cols, k=keep.lo, d=ibis.literal(1, "int64")).union(
        keep.select(*cols, k=keep.hi, d=ibis.literal(-1, "int64")), distinct=False)
    delta = events.group_by([*cols, "k"]).aggregate(d=events.d.sum())
    window = ibis.window(group_by=cols, order_by=delta.k, preceding=None, following=0)
    swept = delta.mutate(count=delta.d.sum().over(window),
                         mark_to=delta.k.lead().over(group_by=cols, order_by=delta.k))
    swept = swept.filter(swept["count"] > 0)
    return swept.select(*cols, mark_from=swept.k, mark_to=swept.mark_to,
                        count=swept["count"].cast("int64"))


def segments_to_marks(segments: ir.Table, by: Sequence[str], first: dt.date, unit: Unit,
                      label: str, value: str) -> ir.Table:
    """One row per group and mark of each segment: ``*by, label (timestamp), value``."""
    marks = segments.mutate(
        _mark=ibis.range(segments.mark_from, segments.mark_to).unnest())
    origin = ibis.timestamp(dt.datetime.combine(first, dt.time()))
    step = marks._mark.as_interval("D" if unit == "D" else unit)
    return marks.select(*by, **{label: origin + step, value: marks["count"]})


def _movements(tables: Mapping[str, ir.Table], by: Sequence[str], builder: str) -> ir.Table:
    require(tables, occupancy_needs(by), builder)
    m = tables["stay_movement"]
    return m.select(*occupancy_needs(by)["stay_movement"])


def period_days(start: object, end: object) -> tuple[dt.date, dt.date, int]:
    """First day, end day and number of days of the whole-day period ``[start, end)``."""
    first, stop = pd.Timestamp(start), pd.Timestamp(end)
    if first != first.normalize() or stop != stop.normalize():
        raise ValueError(f"the period must be whole days, got {start!r} to {end!r}")
    if stop < first:
        raise ValueError(f"the period ends ({end!r}) before it starts ({start!r})")
    return first.date(), stop.date(), (stop - first).days


def _touching(m: ir.Table, first: dt.date, stop: dt.date) -> ir.Table:
    """Every interval of the stays with an interval that may count in ``[first, stop)``."""
    lo = ibis.timestamp(dt.datetime.combine(first, dt.time()))
    hi = ibis.timestamp(dt.datetime.combine(stop, dt.time()))
    # a missing start_time is kept so that the kernel's wrapper reports it
    near = m.filter(m.start_time.isnull() | (m.start_time <= hi),
                    m.end_time.isnull() | (m.end_time >= lo))
    stays = near.select("institution_id", "stay_id").distinct()
    return m.semi_join(stays, ["institution_id", "stay_id"])


def bed_days_sql(tables: Mapping[str, ir.Table], start: dt.date, end: dt.date, *,
                 by: Sequence[str] = ("institution_id", "ward_id"),
                 same_day_counts_one: bool = True) -> ir.Table:
    """The SQL path of :func:`ward_bed_days`: ``*by, day, occupied_bed_days`` (lazy).

    Rows are taken as complete (a row without ``start_time`` would count nothing):
    :func:`ward_bed_days` checks that before running it.

    Raises
    ------
    ContractError
        ``stay_movement`` or one of its needed columns is missing.
    """
    first, stop, days = period_days(start, end)
    m = _touching(_movements(tables, by, "bed_days"), first, stop)
    cols = list(by)
    s_mark, e_mark = ceil_mark(m.start_time, first, "D"), ceil_mark(m.end_time, first, "D")
    # mark j of the ceil-index is first + j days; day k's census is mark k + 1
    census = m.select(*cols, lo=(s_mark - 1).clip(0, days),
                      hi=ibis.coalesce(e_mark - 1, days).clip(0, days))
    parts = [census]
    if same_day_counts_one:
        stay = ["institution_id", "stay_id"]
        flagged = m.mutate(
            _midnight=(m.end_time.isnull() | (e_mark > s_mark)).cast("int8").max().over(
                group_by=stay),
            _last=ibis.row_number().over(group_by=stay, order_by=[ibis.desc(m.start_time),
                                                                  ibis.desc(m.seq)]),
            _day=floor_mark(m.start_time, first, "D"))
        same = flagged.filter(flagged._midnight == 0, flagged._last == 0, flagged._day >= 0,
                              flagged._day < days)
        parts.append(same.select(*cols, lo=same._day.cast("int64"),
                                 hi=(same._day + 1).cast("int64")))
    intervals = parts[0].union(parts[1], distinct=False) if len(parts) > 1 else parts[0]
    intervals = intervals.mutate(lo=intervals.lo.cast("int64"), hi=intervals.hi.cast("int64"))
    out = segments_to_marks(mark_segments(intervals, cols), cols, first, "D", "day",
                            "occupied_bed_days")
    return out.order_by([*cols, "day"])


def hourly_census_sql(tables: Mapping[str, ir.Table], start: dt.date, end: dt.date, *,
                      by: Sequence[str] = ("institution_id", "ward_id")) -> ir.Table:
    """The SQL path of :func:`ward_hourly_census`: ``*by, hour, census`` (lazy); rows are taken
    as complete (:func:`ward_hourly_census` checks)."""
    first, stop, days = period_days(start, end)
    m = _movements(tables, by, "hourly_census")
    hours = days * 24
    intervals = m.select(*by, lo=ceil_mark(m.start_time, first, "h").clip(0, hours).cast("int64"),
                         hi=ibis.coalesce(ceil_mark(m.end_time, first, "h"), hours).clip(
                             0, hours).cast("int64"))
    out = segments_to_marks(mark_segments(intervals, by), by, first, "h", "hour", "census")
    return out.order_by([*by, "hour"])


def fetch(table: ir.Table) -> pd.DataFrame:
    """``table``'s rows as pandas for a kernel, through Arrow (Arrow's own conversion: 1M
    intervals in 0.1 s where Ibis's ``to_pandas`` took 1.3 s on the benchmark's machine)."""
    return table.to_pyarrow().to_pandas()


def use_kernel(table: ir.Table, method: Method, calculation: str) -> bool:
    """Whether ``method`` picks the kernel for ``calculation`` over ``table``'s backend."""
    if method not in ("auto", "kernel", "sql"):
        raise ValueError(f"method must be 'auto', 'kernel' or 'sql', got {method!r}")
    if method != "auto":
        return method == "kernel"
    return KERNEL_WINS[calculation] and ibis.get_backend(table).name in _LOCAL_BACKENDS


def require_complete(table: ir.Table, columns: Sequence[str], builder: str) -> None:
    """Raise ContractError naming each column of ``columns`` holding missing values."""
    counts = table.aggregate(**{c: table[c].isnull().cast("int64").sum() for c in columns})
    row = counts.execute().iloc[0]
    bad = {c: int(row[c]) for c in columns if pd.notna(row[c]) and int(row[c])}
    if bad:
        raise ContractError(f"{builder}: column(s) with missing values {bad}; they must be "
                            f"complete")


def as_kernel_types(frame: pd.DataFrame, label: str, value: str) -> pd.DataFrame:
    """An executed SQL-path frame with the kernel's dtypes (``label`` ns timestamps, int64)."""
    frame[label] = pd.to_datetime(frame[label]).astype("datetime64[ns]")
    frame[value] = frame[value].astype("int64")
    return frame.reset_index(drop=True)


def ward_bed_days(tables: Mapping[str, ir.Table], start: dt.date, end: dt.date, *,
                  by: Sequence[str] = ("institution_id", "ward_id"),
                  same_day_counts_one: bool = True, method: Method = "auto") -> pd.DataFrame:
    """Occupied bed-days per ``by`` group and day of ``[start, end)`` (see the module).

    Parameters
    ----------
    tables
        Cleaned tables holding ``stay_movement`` (every interval, not only the period's).
    start, end
        The period, whole days.
    by
        Grouping columns of ``stay_movement`` (``institution_id, ward_id``; add ``dept_id``).
    same_day_counts_one
        A stay holding no midnight counts 1 bed-day (default ``True``).
    method
        ``"kernel"``, ``"sql"`` or ``"auto"`` (see :func:`use_kernel`).

    Returns
    -------
    pandas.DataFrame
        ``*by, day, occupied_bed_days`` ordered by ``by`` and day; zero days are absent.

    Raises
    ------
    ContractError
        A needed table or column is missing, or a grouping column, ``stay_id`` or
        ``start_time`` has missing values.
    ValueError
        Bad period or ``method``.
    """
    by = tuple(by)
    first, stop, _ = period_days(start, end)
    m = _movements(tables, by, "bed_days")
    kernel = use_kernel(m, method, "bed_days")
    if not kernel:
        require_complete(m, tuple(dict.fromkeys((*by, "institution_id", "stay_id", "start_time"))),
                  "bed_days")
        return as_kernel_types(fetch(bed_days_sql(tables, first, stop, by=by,
                                                  same_day_counts_one=same_day_counts_one)),
                               "day", "occupied_bed_days")
    rows = fetch(_touching(m, first, stop))
    return occupied_bed_days(rows, first, stop, by=by, same_day_counts_one=same_day_counts_one)


def ward_hourly_census(tables: Mapping[str, ir.Table], start: dt.date, end: dt.date, *,
                       by: Sequence[str] = ("institution_id", "ward_id"),
                       method: Method = "auto") -> pd.DataFrame:
    """Patients per ``by`` group at each hour mark of ``[start, end)`` (see the module).

    Parameters, errors and ``method`` as :func:`ward_bed_days`; returns ``*by, hour, census``
    ordered by ``by`` and hour, zero hours absent.
    """
    by = tuple(by)
    first, stop, _ = period_days(start, end)
    m = _movements(tables, by, "hourly_census")
    if not use_kernel(m, method, "hourly_census"):
        require_complete(m, tuple(dict.fromkeys((*by, "start_time"))), "hourly_census")
        return as_kernel_types(fetch(hourly_census_sql(tables, first, stop, by=by)), "hour",
                               "census")
    lo = ibis.timestamp(dt.datetime.combine(first, dt.time()))
    hi = ibis.timestamp(dt.datetime.combine(stop, dt.time()))
    rows = m.filter(m.start_time.isnull() | (m.start_time < hi),  # the wrapper reports nulls
                    m.end_time.isnull() | (m.end_time > lo))
    rows = fetch(rows)
    return hourly_census(rows, first, stop, by=by)
