"""Episode linking over patient-sorted rows: readmission, return to theatre, emergency revisit.

Three calculations that link an event to the same patient's neighbouring events, each as one
pass over arrays sorted by patient (``group``: an integer per institution + patient, equal
groups contiguous):

* :func:`link_readmissions` (and its pandas wrapper :func:`readmission_gaps`): 0–31-day
  unplanned readmission, by the rule of :mod:`hospital_sdk.aggregated.episodes`
  (national-indicators.md §4.1): the index stay is the same patient's (same institution, same
  non-null ``empi_id``) stay with the latest discharge at or before this admission (ties: the
  later admission, then the larger ``stay_id``); the stay is an unplanned readmission when
  ``0 <= gap <= max_gap_days`` (calendar days between the index discharge and this admission),
  the index had no readmission plan (``readmission_plan`` ``'1'`` or missing), did not end in
  death (disposition ``'5'``), and both principal diagnoses share their first
  ``subcategory_length`` characters once the dot is removed.
* :func:`previous_operation_hours`: hours from each operation to the same patient's latest
  operation with a strictly earlier time (§4.2, unplanned return to theatre within 48 h /
  31 days; the windows are applied by the caller).
* :func:`revisits_within`: whether an emergency visit is followed by the same patient's next
  emergency visit within a window (急诊 72 小时内重返; the anchor times are chosen in
  :mod:`hospital_sdk.aggregated.revisits`).

Each is the same calculation as its SQL (Ibis) path in :mod:`hospital_sdk.aggregated` over the
same rows; the tests compare them on seeded random groups. The kernels take contiguous NumPy
arrays only: the caller (pandas here, DuckDB in the aggregated layer) does the sorting and the
integer coding.

Examples
--------
>>> import pandas as pd
>>> stays = pd.DataFrame({
...     "institution_id": ["H1"] * 3, "stay_id": ["A", "B", "C"], "empi_id": ["E1"] * 3,
...     "admission_time": pd.to_datetime(["2024-03-01", "2024-03-20", "2024-05-01"]),
...     "discharge_time": pd.to_datetime(["2024-03-05", "2024-03-25", "2024-05-03"]),
...     "readmission_plan": ["1", "1", None], "discharge_disposition": ["1", "1", "1"],
...     "principal_diagnosis_code": ["I21.000", "I21.001", "I21.000"]})
>>> readmission_gaps(stays)
  institution_id stay_id  readmission_gap_days
0             H1       B                    15
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.config import kernel

__all__ = ["READMISSION_COLUMNS", "link_readmissions", "previous_operation_hours",
           "readmission_gaps", "revisits_within"]

READMISSION_COLUMNS: tuple[str, ...] = (
    "institution_id", "stay_id", "empi_id", "admission_time", "discharge_time",
    "readmission_plan", "discharge_disposition", "principal_diagnosis_code")
"""The columns :func:`readmission_gaps` reads (one row per stay)."""

_NO_PLAN, _DEATH = "1", "5"
_DAY_NS = 86_400_000_000_000
_NAT = np.iinfo(np.int64).min  # numpy's NaT viewed as int64


@kernel
def _link(group: np.ndarray, admit_ns: np.ndarray, discharge_ns: np.ndarray,
          admit_day: np.ndarray, discharge_day: np.ndarray, rank: np.ndarray,
          plan_ok: np.ndarray, died: np.ndarray, subcategory: np.ndarray,
          max_gap: int) -> np.ndarray:  # pragma: no cover - compiled; py_func is tested
    """Gap in days of each unplanned readmission, -1 elsewhere; rows sorted by ``group``.

    A missing time (``_NAT``) never links: such a stay has no index and is never one."""
    n = group.shape[0]
    out = np.full(n, -1, np.int32)
    start = 0
    while start < n:
        end = start + 1
        while end < n and group[end] == group[start]:
            end += 1
        for i in range(start, end):
            if admit_ns[i] == _NAT:
                continue
            best = -1
            for j in range(start, end):
                if j == i or discharge_ns[j] == _NAT or discharge_ns[j] > admit_ns[i]:
                    continue
                if best < 0 or discharge_ns[j] > discharge_ns[best] or (
                        discharge_ns[j] == discharge_ns[best] and (
                            admit_ns[j] > admit_ns[best] or (
                                admit_ns[j] == admit_ns[best] and rank[j] > rank[best]))):
                    best = j
            if best >= 0:
                gap = admit_day[i] - discharge_day[best]
                if (0 <= gap <= max_gap and plan_ok[best] and not died[best]
                        and subcategory[i] >= 0 and subcategory[i] == subcategory[best]):
                    out[i] = gap
        start = end
    return out


@kernel
def _previous(group: np.ndarray, time: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Index of each row's previous operation (latest strictly earlier time in its group), -1
    when none or when its time is missing; rows sorted by group then time (``_NAT`` anywhere)."""
    n = group.shape[0]
    out = np.full(n, -1, np.int64)
    last = -1       # the latest row seen in this group with a time
    before = -1     # the latest row of this group whose time is strictly before last's
    for i in range(n):
        if i > 0 and group[i] != group[i - 1]:
            last, before = -1, -1
        if time[i] == _NAT:
            continue
        if last >= 0 and time[last] < time[i]:
            before = last
        out[i] = before
        last = i
    return out


@kernel
def _revisits(group: np.ndarray, time: np.ndarray, window: int) -> np.ndarray:  # pragma: no cover
    """True where the group's next row (sorted by group, time, tie-break) starts within
    ``window`` time units after this row (inclusive); rows with ``_NAT`` are skipped."""
    n = group.shape[0]
    out = np.zeros(n, np.bool_)
    following = -1  # the next row with a time in this group, scanning backwards
    for i in range(n - 1, -1, -1):
        if i < n - 1 and group[i] != group[i + 1]:
            following = -1
        if time[i] == _NAT:
            continue
        if following >= 0 and time[following] - time[i] <= window:
            out[i] = True
        following = i
    return out


def _python(compiled: Any) -> Any:
    """The Python body of a kernel (itself when ``NUMBA_DISABLE_JIT=1`` left it uncompiled)."""
    return getattr(compiled, "py_func", compiled)


def _contiguous(caller: str, arrays: dict[str, np.ndarray], kinds: dict[str, str]) -> int:
    """Check each array is 1-D, C-contiguous, of its kind (``numpy.dtype.kind`` letters) and all
    of one length; return that length."""
    lengths = set()
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray) or a.ndim != 1:
            raise ContractError(f"{caller}: {name} must be a 1-D numpy array")
        if not a.flags.c_contiguous:
            raise ContractError(f"{caller}: {name} must be C-contiguous "
                                f"(numpy.ascontiguousarray)")
        if a.dtype.kind not in kinds[name] or (a.dtype.kind == "i" and a.dtype != np.int64):
            raise ContractError(f"{caller}: {name} has dtype {a.dtype}; expected "
                                f"{_KIND_NAMES[kinds[name]]}")
        lengths.add(a.shape[0])
    if len(lengths) > 1:
        raise ContractError(f"{caller}: the arrays differ in length {sorted(lengths)}")
    return lengths.pop() if lengths else 0


_KIND_NAMES = {"i": "int64", "b": "bool", "M": "datetime64"}


def _time_unit(caller: str, **times: np.ndarray) -> str:
    units = {name: np.datetime_data(t.dtype)[0] for name, t in times.items()}
    if len(set(units.values())) > 1:
        raise ContractError(f"{caller}: the times have different units {units}")
    return next(iter(units.values()))


def _check_sorted(caller: str, group: np.ndarray, time: np.ndarray | None = None) -> None:
    """``group`` non-decreasing; within a group, the non-missing ``time``\\ s non-decreasing."""
    if group.shape[0] > 1 and bool((group[1:] < group[:-1]).any()):
        raise ContractError(f"{caller}: rows must be sorted by group (group decreases)")
    if time is None:
        return
    known = ~np.isnat(time)
    g, t = group[known], time[known].view(np.int64)
    if g.shape[0] > 1 and bool(((g[1:] == g[:-1]) & (t[1:] < t[:-1])).any()):
        raise ContractError(f"{caller}: rows must be sorted by group then time (time decreases "
                            f"within a group)")


def _per_hour(unit: str) -> int:
    return int(np.timedelta64(1, "h") // np.timedelta64(1, unit))


def link_readmissions(group: np.ndarray, admission: np.ndarray, discharge: np.ndarray,
                      rank: np.ndarray, plan_ok: np.ndarray, died: np.ndarray,
                      subcategory: np.ndarray, *, max_gap_days: int = 31,
                      jit: bool = True) -> np.ndarray:
    """Gap in days of each unplanned readmission over arrays sorted by patient (see the module).

    Parameters
    ----------
    group
        int64, one value per institution + patient (stays without ``empi_id`` left out, or each
        its own group); rows sorted by it (equal groups contiguous, non-decreasing).
    admission, discharge
        datetime64 of one unit (naive local times); ``NaT`` never links.
    rank
        int64 tie-break of stays with the same discharge and admission: the larger is the index
        (the order of ``stay_id``; a row's position does when rows are sorted by it in ties).
    plan_ok, died
        bool: the stay had no readmission plan (``'1'`` or missing); it ended in death.
    subcategory
        int64 code of the principal diagnosis' subcategory, equal codes for equal
        subcategories, -1 when unknown (never matches).
    max_gap_days
        Largest gap between the index discharge and the readmission (31).
    jit
        ``False`` runs the kernel's Python body.

    Returns
    -------
    numpy.ndarray
        int32 per row: the gap in days when the row is an unplanned readmission, else -1.

    Raises
    ------
    ContractError
        An array is not 1-D contiguous of its dtype, the lengths differ, the times' units
        differ, or the rows are not sorted by group.
    ValueError
        ``max_gap_days`` is negative.

    Examples
    --------
    >>> t = np.array(["2024-03-01", "2024-03-05", "2024-03-20", "2024-03-25"], "datetime64[us]")
    >>> link_readmissions(np.zeros(2, np.int64), t[[0, 2]], t[[1, 3]], np.arange(2),
    ...                   np.ones(2, bool), np.zeros(2, bool), np.zeros(2, np.int64))
    array([-1, 15], dtype=int32)
    """
    caller = "link_readmissions"
    if max_gap_days < 0:
        raise ValueError(f"max_gap_days must be >= 0, got {max_gap_days!r}")
    arrays = {"group": group, "admission": admission, "discharge": discharge, "rank": rank,
              "plan_ok": plan_ok, "died": died, "subcategory": subcategory}
    _contiguous(caller, arrays, {"group": "i", "admission": "M", "discharge": "M", "rank": "i",
                                 "plan_ok": "b", "died": "b", "subcategory": "i"})
    _time_unit(caller, admission=admission, discharge=discharge)
    _check_sorted(caller, group)
    run = _link if jit else _python(_link)
    return run(group, admission.view(np.int64), discharge.view(np.int64),
               admission.astype("datetime64[D]").view(np.int64),
               discharge.astype("datetime64[D]").view(np.int64), rank, plan_ok, died,
               subcategory, int(max_gap_days))


def previous_operation_hours(group: np.ndarray, time: np.ndarray, *,
                             jit: bool = True) -> np.ndarray:
    """Hours from each operation back to the same patient's previous one (§4.2).

    The previous operation is the latest of the group with a time *strictly* earlier: two
    operations at the same instant are not each other's previous one. Hours are computed as
    the SQL path does: ``(epoch seconds − epoch seconds of the previous) / 3600``.

    Parameters
    ----------
    group
        int64 per institution + patient; rows sorted by it.
    time
        datetime64 operation times, non-decreasing within a group (``NaT`` rows anywhere: they
        have no previous operation and are nobody's).
    jit
        ``False`` runs the kernel's Python body.

    Returns
    -------
    numpy.ndarray
        float64 hours per row; ``NaN`` when there is no previous operation or no time.

    Raises
    ------
    ContractError
        An array is not 1-D contiguous of its dtype, the lengths differ, or the rows are not
        sorted by group then time.

    Examples
    --------
    >>> t = np.array(["2024-03-02T08", "2024-03-04T08", "2024-03-04T08"], "datetime64[us]")
    >>> previous_operation_hours(np.zeros(3, np.int64), t)
    array([nan, 48., 48.])
    """
    caller = "previous_operation_hours"
    _contiguous(caller, {"group": group, "time": time}, {"group": "i", "time": "M"})
    _check_sorted(caller, group, time)
    run = _previous if jit else _python(_previous)
    previous = run(group, time.view(np.int64))
    per_second = np.timedelta64(1, "s") / np.timedelta64(1, _time_unit(caller, time=time))
    seconds = time.view(np.int64) / per_second  # epoch seconds as float64, as DuckDB's epoch()
    hours = np.full(group.shape[0], np.nan)
    has = previous >= 0
    hours[has] = (seconds[has] - seconds[previous[has]]) / 3600.0
    return hours


def revisits_within(group: np.ndarray, time: np.ndarray, *, window_hours: float = 72.0,
                    jit: bool = True) -> np.ndarray:
    """Whether each visit's next visit of the same group starts within ``window_hours``.

    The next visit is the following row of the group: rows are sorted by group, then time,
    then a tie-break (the aggregated layer uses ``visit_id``), so of two visits at the same
    instant the first returns in 0 hours and the second does not return (unless a third
    follows).

    Parameters
    ----------
    group
        int64 per institution + patient; rows sorted by it.
    time
        datetime64 anchor times, non-decreasing within a group (``NaT`` rows are skipped: never
        revisited, never a revisit).
    window_hours
        Largest time from a visit to the next, inclusive (72). Converted to the unit of
        ``time`` (rounded to it).
    jit
        ``False`` runs the kernel's Python body.

    Returns
    -------
    numpy.ndarray
        bool per row.

    Raises
    ------
    ContractError
        As :func:`previous_operation_hours`.
    ValueError
        ``window_hours`` is negative or not finite.

    Examples
    --------
    >>> t = np.array(["2024-03-01T10", "2024-03-04T10", "2024-03-07T10:01"], "datetime64[us]")
    >>> revisits_within(np.zeros(3, np.int64), t)  # 72 h exactly, then 72 h 1 min
    array([ True, False, False])
    """
    caller = "revisits_within"
    if not np.isfinite(window_hours) or window_hours < 0:
        raise ValueError(f"window_hours must be a finite number >= 0, got {window_hours!r}")
    _contiguous(caller, {"group": group, "time": time}, {"group": "i", "time": "M"})
    _check_sorted(caller, group, time)
    window = int(round(window_hours * _per_hour(_time_unit(caller, time=time))))
    run = _revisits if jit else _python(_revisits)
    return run(group, time.view(np.int64), window)


def _nanoseconds(values: pd.Series, name: str) -> np.ndarray:
    stamps = pd.to_datetime(values)
    if getattr(stamps.dt, "tz", None) is not None:
        raise ContractError(f"readmission_gaps: {name} must be a naive (local) timestamp")
    return stamps.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _arrays(s: pd.DataFrame, subcategory_length: int) -> tuple[pd.DataFrame, tuple]:
    """The stays sorted by patient and admission, and the kernel's input arrays in that order
    (everything :func:`_link` takes but ``max_gap``)."""
    s = s.assign(
        _group=s.groupby(["institution_id", "empi_id"], sort=True).ngroup().to_numpy(),
        _rank=pd.factorize(s["stay_id"].astype(str), sort=True)[0],
        _admit=_nanoseconds(s["admission_time"], "admission_time"),
        _discharge=_nanoseconds(s["discharge_time"], "discharge_time"))
    s = s.sort_values(["_group", "_admit", "_discharge", "_rank"], kind="stable")
    code = s["principal_diagnosis_code"].astype("string").str.replace(".", "", regex=False)
    subcategory = pd.factorize(code.str.slice(0, subcategory_length))[0]  # -1 when missing
    admit, discharge = s["_admit"].to_numpy(), s["_discharge"].to_numpy()
    return s, (s["_group"].to_numpy(np.int64), admit, discharge, admit // _DAY_NS,
               discharge // _DAY_NS, s["_rank"].to_numpy(np.int64),
               (s["readmission_plan"].isna() | (s["readmission_plan"] == _NO_PLAN)).to_numpy(),
               (s["discharge_disposition"] == _DEATH).fillna(False).to_numpy(bool),
               subcategory.astype(np.int64))


def readmission_gaps(stays: pd.DataFrame, *, max_gap_days: int = 31,
                     subcategory_length: int = 4, jit: bool = True) -> pd.DataFrame:
    """Unplanned readmissions among ``stays`` and their gaps in days (see the module).

    Parameters
    ----------
    stays
        One row per stay with :data:`READMISSION_COLUMNS` (others are ignored): every stay a
        readmission may be linked to, so include the look-back (31 days before the first stay
        whose flag is wanted). Stays without ``empi_id`` or times are never linked.
    max_gap_days
        Largest gap between the index discharge and the readmission (31).
    subcategory_length
        Characters of the undotted principal diagnosis that must match (4).
    jit
        ``False`` runs the kernel's Python body (the reference for coverage and debugging).

    Returns
    -------
    pandas.DataFrame
        ``institution_id, stay_id, readmission_gap_days`` (int32) for each stay that is an
        unplanned readmission, ordered by institution and stay; the others are absent.

    Raises
    ------
    ContractError
        A column is missing, or a time is not a naive timestamp.
    ValueError
        ``max_gap_days`` is negative or ``subcategory_length`` not positive.
    """
    if max_gap_days < 0:
        raise ValueError(f"max_gap_days must be >= 0, got {max_gap_days!r}")
    if subcategory_length < 1:
        raise ValueError(f"subcategory_length must be >= 1, got {subcategory_length!r}")
    missing = [c for c in READMISSION_COLUMNS if c not in stays.columns]
    if missing:
        raise ContractError(f"readmission_gaps: stays lack column(s) {missing}; it reads "
                            f"{list(READMISSION_COLUMNS)}")
    empty = pd.DataFrame({"institution_id": pd.Series(dtype=object),
                          "stay_id": pd.Series(dtype=object),
                          "readmission_gap_days": pd.Series(dtype=np.int32)})
    s = stays.loc[stays["empi_id"].notna() & stays["admission_time"].notna()
                  & stays["discharge_time"].notna(), list(READMISSION_COLUMNS)]
    if s.empty:
        return empty
    s, arrays = _arrays(s, subcategory_length)
    run = _link if jit else _python(_link)
    gaps = run(*arrays, int(max_gap_days))
    out = s.loc[gaps >= 0, ["institution_id", "stay_id"]].assign(
        readmission_gap_days=gaps[gaps >= 0].astype(np.int32))
    if out.empty:
        return empty
    return out.sort_values(["institution_id", "stay_id"], kind="stable").reset_index(drop=True)
