"""Episodes across stays: unplanned readmissions and unplanned returns to theatre.

Both link a stay (or an operation) to the same patient's *earlier* care in the same institution,
so both only ever look **back**: a month's figures are computed from stays discharged in that
month and before, and never change when later months are loaded (``stay_fact`` is built once
per month). The two functions here are the SQL (Ibis) path; each is one self-contained
computation that a Numba kernel may later replace with the same inputs and output.

Unplanned readmission within 0–31 days (national-indicators.md §4.1)
--------------------------------------------------------------------
For a stay S discharged in ``[start, end)`` whose ``empi_id`` is known, its **index** stay P is
the same patient's (same ``institution_id``, same ``empi_id``) stay with the latest
``discharge_time`` at or before S's ``admission_time`` (ties: the later admission, then the
larger ``stay_id``). ``gap = date(S.admission_time) − date(P.discharge_time)`` in days. S is an
**unplanned readmission** when

* ``0 <= gap <= max_gap_days`` (31; [C:S5]);
* P's ``readmission_plan`` is ``'1'`` (无, code set ``readmission_plan``) or missing ([C:S6]);
* P did not end in death (``discharge_disposition = '5'``) — a dead patient is not readmitted;
  a data error of this kind is therefore not counted;
* the principal diagnoses of P and S (``diagnosis_kind = 'discharge'``, ``seq = 1``) share the
  ICD-10 **subcategory**: their first ``subcategory_length`` (4) characters once the dot is
  removed (``I21.000`` → ``I210``), [C:S6] "first 4 characters", read on the undotted code
  (our reading: the dotted first 4 characters ``I21.`` would be the 3-character category).
  Both must be known.

A stay without ``empi_id`` is never a readmission (the patient cannot be linked). Only the
*immediately* preceding stay is examined: when it fails a test, an earlier stay is not tried.
Planned chemotherapy/radiotherapy cycles are excluded only through their ``readmission_plan``.

The look-back reads stays, and their principal diagnoses (``stay_diagnosis`` is partitioned by
``discharge_time``), discharged from ``max_gap_days + 1`` days before the earlier of ``start``
and the earliest admission among the month's stays, so a long stay admitted before the month
still finds its index stay.

Unplanned return to theatre within 48 hours / 31 days (§4.2)
------------------------------------------------------------
For each surgery (``is_surgery``, see :mod:`~hospital_sdk.aggregated.procedures`) flagged
``is_unplanned_reoperation`` in a stay discharged in ``[start, end)``, its **previous
operation** is the same patient's latest surgery with a ``procedure_time`` strictly earlier, in
the same institution, in this stay or an earlier one. "Same patient" is the ``empi_id``; a stay
without one is linked only to itself (its own earlier operations). ``hours`` is the elapsed
time between the two ``procedure_time``\\ s; the return is *within 48 h* when
``hours <= 48`` and *within 31 days* when ``hours <= 31 × 24``. A reoperation with no earlier
operation on record (or no ``procedure_time``) is in neither window; it still counts in the
overall rate (``has_unplanned_reoperation``). The look-back reads procedures of stays
discharged from 31 days before the earlier of ``start`` and the earliest admission among the
month's stays: enough for both windows. Beyond 31 days ``hours`` may be measured from an older
operation than the true previous one (whose stay was not read); it is outside both windows
either way.

Two ways to compute each: ``method``
-----------------------------------
``"sql"`` is the Ibis path above: one lazy expression, runs on any backend (DuckDB, Spark).
``"kernel"`` lets the backend (DuckDB) do the preparation — the same filters and joins, rows
sorted by institution, patient and time — fetches the columns as Arrow and then NumPy (the
integer group of each patient and the diagnosis codes are read off the sorted Arrow columns,
see :func:`arrays` and :func:`codes`), and runs the Numba kernel of
:mod:`hospital_sdk.kernels.episodes` over them; its result is the same table, materialized
(an in-memory table), so it runs only on a local DuckDB backend. ``"auto"`` chooses the kernel
on DuckDB where the benchmark showed it at least 5× faster than SQL on 10M events
(:data:`KERNEL_PAYS`, tests/benchmarks/bench_kernels.py), else SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hospital_sdk.aggregated.inputs import Needs, require
from hospital_sdk.aggregated.procedures import STAY_KEYS, SURGERY_CATEGORIES
from hospital_sdk.kernels.episodes import link_readmissions, previous_operation_hours

__all__ = ["KERNEL_PAYS", "METHODS", "READMISSION_NEEDS", "READMISSION_WINDOWS",
           "REOPERATION_NEEDS", "REOPERATION_WINDOWS_HOURS", "Method", "arrays",
           "choose_method", "codes", "readmission_links", "reoperation_intervals"]

Method = Literal["auto", "kernel", "sql"]
METHODS: tuple[str, ...] = ("auto", "kernel", "sql")
"""The ways to compute a link (see the module)."""

KERNEL_PAYS: Mapping[str, bool] = {
    # measured 2026-11-26 at 10M events, medians of 3 (BENCHMARKS.md "episode linking"):
    # 1.02× (SQL 8.7 s, kernel path 8.5 s of which the linking 0.21 s): DuckDB's join and sort
    # cost what the SQL path does
    "readmission": False,
    # 0.45× (SQL 2.6 s, kernel path 5.9 s, linking 0.25 s)
    "reoperation": False,
    # 0.78× (SQL 4.3 s, kernel path 5.5 s, linking 0.06 s): SQL's lead() is the same one sort,
    # without fetching every row into Python
    "revisit": False,
}
"""Whether ``method="auto"`` takes the kernel (on DuckDB): only where the benchmark measured it
at least 5× faster than the SQL path on 10M events (the issue's rule); the measured ratio is
written next to each."""

READMISSION_NEEDS: Needs = {
    "inpatient_stay": ("institution_id", "stay_id", "empi_id", "admission_time",
                       "discharge_time", "readmission_plan", "discharge_disposition"),
    "stay_diagnosis": ("institution_id", "stay_id", "diagnosis_kind", "seq", "diagnosis_code",
                       "discharge_time"),
}
"""What :func:`readmission_links` reads."""

REOPERATION_NEEDS: Needs = {
    "inpatient_stay": ("institution_id", "stay_id", "empi_id", "admission_time",
                       "discharge_time"),
    "stay_procedure": ("institution_id", "stay_id", "seq", "procedure_code", "procedure_time",
                       "is_unplanned_reoperation", "discharge_time"),
    "procedure_catalog": ("code", "category"),
}
"""What :func:`reoperation_intervals` reads."""

READMISSION_WINDOWS: Mapping[str, tuple[int, int]] = {
    "same_day": (0, 1), "2_15d": (2, 15), "16_31d": (16, 31)}
"""The reported windows of ``readmission_gap_days``, inclusive ([C:S7]: 出院当天 = gap < 2)."""

NO_PLAN = "1"
"""``readmission_plan`` code 无 (no plan to readmit within 31 days)."""
DEATH = "5"
"""``discharge_disposition`` code 死亡."""
REOPERATION_WINDOWS_HOURS: Mapping[str, float] = {"48h": 48.0, "31d": 31 * 24.0}
"""The windows of a return to theatre, in hours since the previous operation, inclusive
(§4.2: within 48 hours / within 31 days of the operation)."""


def choose_method(method: str, table: ir.Table, topic: str) -> str:
    """``"kernel"`` or ``"sql"`` for ``method`` on the backend of ``table``.

    ``topic`` is a key of :data:`KERNEL_PAYS`. ``"kernel"`` on another backend than DuckDB
    is refused (the kernel needs the rows in this process).

    >>> from hospital_sdk.aggregated.inputs import cleaned_memtable
    >>> t = cleaned_memtable("inpatient_stay")
    >>> choose_method("auto", t, "readmission"), choose_method("kernel", t, "readmission")
    ('sql', 'kernel')
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "sql":
        return "sql"
    backend = table._find_backend(use_default=True).name
    if method == "kernel" and backend != "duckdb":
        raise ValueError(f"method='kernel' needs the tables on DuckDB, they are on {backend!r}; "
                         f"use method='sql' (or 'auto')")
    return "kernel" if method == "kernel" or (backend == "duckdb" and KERNEL_PAYS[topic]) \
        else "sql"


def arrays(prepared: ir.Table, group_by: tuple[str, ...] = ()) -> tuple[
        pa.Table, dict[str, np.ndarray]]:
    """Execute ``prepared`` (sorted by ``group_by`` first) to Arrow and return it with the
    NumPy array of each column whose name starts with ``_`` (one contiguous chunk each:
    zero-copy for numbers and times without nulls, a copy for booleans, which Arrow packs in
    bits) and, under ``"_group"``, the kernels' int64 group: a new group wherever a
    ``group_by`` column changes from the row before (a null never equals: a row with a null
    key is a group of its own). Comparing neighbours of the sorted Arrow columns is one
    vectorized pass, where a ``dense_rank`` window would sort the rows once more."""
    table = prepared.to_pyarrow()
    out = {}
    for name in table.column_names:
        if name.startswith("_"):
            column = table.column(name).combine_chunks()
            out[name] = np.ascontiguousarray(column.to_numpy(zero_copy_only=False))
    n = table.num_rows
    new = np.zeros(n, bool)
    new[:1] = True
    for key in group_by if n > 1 else ():
        c = table.column(key).combine_chunks()
        differs = pc.fill_null(pc.not_equal(c.slice(1), c.slice(0, n - 1)), True)
        new[1:] |= differs.to_numpy(zero_copy_only=False)
    out["_group"] = np.cumsum(new, dtype=np.int64) - 1
    return table, out


def codes(column: pa.ChunkedArray) -> np.ndarray:
    """int64 codes of a string column: equal strings equal codes, -1 for null (a hash
    dictionary, no sort)."""
    indices = column.combine_chunks().dictionary_encode().indices
    return np.ascontiguousarray(pc.fill_null(indices, -1).to_numpy(), dtype=np.int64)


def _principal(tables: Mapping[str, ir.Table], since: ir.Value, end: datetime) -> ir.Table:
    d = tables["stay_diagnosis"]
    d = d.filter(d.discharge_time >= since, d.discharge_time < end,
                 d.diagnosis_kind == "discharge", d.seq == 1)
    return d.group_by(*STAY_KEYS).aggregate(_dx=d.diagnosis_code.min())


def _subcategory(code: ir.StringValue, length: int) -> ir.StringValue:
    return code.replace(".", "").substr(0, length)


def readmission_links(tables: Mapping[str, ir.Table], start: datetime, end: datetime, *,
                      max_gap_days: int = 31, subcategory_length: int = 4,
                      method: Method = "auto") -> ir.Table:
    """Unplanned readmissions among the stays discharged in ``[start, end)`` (see the module).

    Parameters
    ----------
    tables
        Cleaned tables by name (see :data:`READMISSION_NEEDS`).
    start, end
        The month's bounds; a stay belongs to it by ``discharge_time``.
    max_gap_days
        Largest gap in days between the index discharge and the readmission (31).
    subcategory_length
        Characters of the undotted principal diagnosis that must match (4: the subcategory).
    method
        ``"sql"``, ``"kernel"`` (DuckDB only) or ``"auto"`` (see the module and
        :func:`choose_method`).

    Returns
    -------
    Table
        ``institution_id, stay_id, readmission_gap_days`` (int32) for every stay of the month
        that *is* an unplanned readmission, one row each; stays that are not are absent.

    Raises
    ------
    ContractError
        An input table or column is missing.
    ValueError
        ``max_gap_days`` is negative, ``subcategory_length`` not positive, or ``method``
        unknown (or ``"kernel"`` off DuckDB).

    Examples
    --------
    >>> import datetime as dt
    >>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
    >>> t = lambda d: dt.datetime(2024, 3, d)
    >>> stays = table("inpatient_stay", institution_id=["H1", "H1"], stay_id=["A", "B"],
    ...     empi_id=["E1", "E1"], admission_time=[t(1), t(20)], discharge_time=[t(5), t(25)],
    ...     readmission_plan=["1", "1"], discharge_disposition=["1", "1"])
    >>> dx = table("stay_diagnosis", institution_id=["H1", "H1"], stay_id=["A", "B"],
    ...     diagnosis_kind=["discharge"] * 2, seq=[1, 1], diagnosis_code=["I21.000", "I21.001"],
    ...     discharge_time=[t(5), t(25)])
    >>> links = readmission_links({"inpatient_stay": stays, "stay_diagnosis": dx},
    ...                           t(1), dt.datetime(2024, 4, 1))
    >>> links.execute()
      institution_id stay_id  readmission_gap_days
    0             H1       B                    15
    >>> readmission_links({"inpatient_stay": stays, "stay_diagnosis": dx}, t(1),
    ...                   dt.datetime(2024, 4, 1), method="kernel").execute()
      institution_id stay_id  readmission_gap_days
    0             H1       B                    15
    """
    if max_gap_days < 0:
        raise ValueError(f"max_gap_days must be >= 0, got {max_gap_days!r}")
    if subcategory_length < 1:
        raise ValueError(f"subcategory_length must be >= 1, got {subcategory_length!r}")
    require(tables, READMISSION_NEEDS, "readmission links")
    s = tables["inpatient_stay"]
    month = s.filter(s.discharge_time >= start, s.discharge_time < end, s.empi_id.notnull())
    since = ibis.least(ibis.literal(start), month.admission_time.min()) - ibis.interval(
        days=max_gap_days + 1)
    seen = s.filter(s.discharge_time >= since, s.discharge_time < end, s.empi_id.notnull())
    dx = _principal(tables, since, end)
    if choose_method(method, s, "readmission") == "kernel":
        return _readmission_kernel(seen, dx, start, max_gap_days, subcategory_length)
    later = month.select(*STAY_KEYS, "empi_id", "admission_time")
    later = later.left_join(dx, list(STAY_KEYS)).select(
        *STAY_KEYS, "empi_id", "admission_time", dx_s=dx._dx)
    earlier = seen.left_join(dx, list(STAY_KEYS))
    earlier = earlier.select(
        p_institution=earlier.institution_id, p_empi=earlier.empi_id, p_stay=earlier.stay_id,
        p_admission=earlier.admission_time, p_discharge=earlier.discharge_time,
        p_plan=earlier.readmission_plan, p_disposition=earlier.discharge_disposition,
        dx_p=earlier._dx)
    gap = later.admission_time.date().delta(earlier.p_discharge.date(), unit="day")
    j = later.inner_join(earlier, [
        later.institution_id == earlier.p_institution, later.empi_id == earlier.p_empi,
        later.stay_id != earlier.p_stay, earlier.p_discharge <= later.admission_time,
        gap <= max_gap_days])
    j = j.mutate(_gap=j.admission_time.date().delta(j.p_discharge.date(), unit="day"))
    latest = ibis.window(group_by=list(STAY_KEYS),
                         order_by=[ibis.desc("p_discharge"), ibis.desc("p_admission"),
                                   ibis.desc("p_stay")])
    j = j.mutate(_rank=ibis.row_number().over(latest))
    j = j.filter(j._rank == 0)
    unplanned = (
        (j.p_plan.isnull() | (j.p_plan == NO_PLAN))
        & (j.p_disposition != DEATH).fill_null(True)
        & (_subcategory(j.dx_s, subcategory_length)
           == _subcategory(j.dx_p, subcategory_length)).fill_null(False)
        & (j._gap >= 0))
    return j.filter(unplanned).select(*STAY_KEYS,
                                      readmission_gap_days=j._gap.cast("int32"))


def _patient(t: ir.Table) -> ir.StringValue:
    # the EMPI when known; otherwise the stay itself (it can only be linked to itself)
    return t.empi_id.isnull().ifelse("stay:" + t.stay_id, "empi:" + t.empi_id)


def reoperation_intervals(tables: Mapping[str, ir.Table], start: datetime, end: datetime, *,
                          method: Method = "auto") -> ir.Table:
    """Hours from each unplanned reoperation to the patient's previous operation (see module).

    Parameters
    ----------
    tables
        Cleaned tables by name (see :data:`REOPERATION_NEEDS`).
    start, end
        The month's bounds; a reoperation belongs to it by its stay's ``discharge_time``.
    method
        ``"sql"``, ``"kernel"`` (DuckDB only) or ``"auto"`` (see the module and
        :func:`choose_method`).

    Returns
    -------
    Table
        ``institution_id, stay_id, seq, hours_since_previous`` (float64; null when no earlier
        operation is on record or the reoperation has no ``procedure_time``): one row per
        surgery flagged ``is_unplanned_reoperation`` in the stays discharged in the month.

    Raises
    ------
    ContractError
        An input table or column is missing.
    ValueError
        ``method`` is unknown (or ``"kernel"`` off DuckDB).

    Examples
    --------
    >>> import datetime as dt
    >>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
    >>> out = dt.datetime(2024, 3, 20)
    >>> tables = {
    ...     "inpatient_stay": table("inpatient_stay", institution_id=["H1"], stay_id=["S1"],
    ...         empi_id=["E1"], admission_time=[dt.datetime(2024, 3, 1)], discharge_time=[out]),
    ...     "stay_procedure": table("stay_procedure", institution_id=["H1"] * 2,
    ...         stay_id=["S1"] * 2, seq=[1, 2], procedure_code=["47.0100"] * 2,
    ...         procedure_time=[dt.datetime(2024, 3, 2, 8), dt.datetime(2024, 3, 3, 20)],
    ...         is_unplanned_reoperation=[False, True], discharge_time=[out, out]),
    ...     "procedure_catalog": table("procedure_catalog", code=["47.0100"], category=["1"]),
    ... }
    >>> reoperation_intervals(tables, dt.datetime(2024, 3, 1), dt.datetime(2024, 4, 1)).execute()
      institution_id stay_id  seq  hours_since_previous
    0             H1      S1    2                  36.0
    >>> march = dt.datetime(2024, 3, 1), dt.datetime(2024, 4, 1)
    >>> reoperation_intervals(tables, *march, method="kernel").execute()
      institution_id stay_id  seq  hours_since_previous
    0             H1      S1    2                  36.0
    """
    require(tables, REOPERATION_NEEDS, "reoperation intervals")
    s = tables["inpatient_stay"]
    month = s.filter(s.discharge_time >= start, s.discharge_time < end)
    since = ibis.least(ibis.literal(start), month.admission_time.min()) - ibis.interval(days=31)
    seen = s.filter(s.discharge_time >= since, s.discharge_time < end)
    seen = seen.select(*STAY_KEYS, _patient=_patient(seen))
    p = tables["stay_procedure"]
    p = p.filter(p.discharge_time >= since, p.discharge_time < end)
    c = tables["procedure_catalog"]
    c = c.select(_code=c.code, _category=c.category)
    p = p.left_join(c, p.procedure_code == c._code)
    p = p.filter(p._category.isin(SURGERY_CATEGORIES).fill_null(False))
    p = p.inner_join(seen, list(STAY_KEYS))
    p = p.select(*STAY_KEYS, "seq", "procedure_time", "_patient", _in_month=(
        (p.discharge_time >= start) & (p.discharge_time < end)).fill_null(False),
        _reop=p.is_unplanned_reoperation.fill_null(False))
    if choose_method(method, s, "reoperation") == "kernel":
        return _reoperation_kernel(p)
    reops = p.filter(p._in_month, p._reop)
    before = p.select(b_institution=p.institution_id, b_patient=p._patient,
                      b_time=p.procedure_time)
    j = reops.left_join(before, [reops.institution_id == before.b_institution,
                                 reops._patient == before.b_patient,
                                 before.b_time < reops.procedure_time])
    j = j.group_by(*STAY_KEYS, "seq").aggregate(
        _time=j.procedure_time.max(), _previous=j.b_time.max())
    seconds = j._time.epoch_seconds() - j._previous.epoch_seconds()
    return j.select(*STAY_KEYS, "seq",
                    hours_since_previous=(seconds.cast("float64") / 3600.0))



def _readmission_kernel(seen: ir.Table, dx: ir.Table, start: datetime, max_gap_days: int,
                        subcategory_length: int) -> ir.Table:
    """:func:`readmission_links` by :func:`~hospital_sdk.kernels.episodes.link_readmissions`:
    DuckDB joins and sorts (by patient, admission, discharge, then ``stay_id``: a row's position
    is the kernel's tie-break rank); groups and diagnosis codes are read off the Arrow result."""
    j = seen.left_join(dx, list(STAY_KEYS))
    prepared = j.select(
        *STAY_KEYS, "empi_id", subcategory=_subcategory(j._dx, subcategory_length),
        _admission=j.admission_time, _discharge=j.discharge_time,
        _plan_ok=(j.readmission_plan.isnull() | (j.readmission_plan == NO_PLAN)).fill_null(
            False),
        _died=(j.discharge_disposition == DEATH).fill_null(False),
        _in_month=j.discharge_time >= start,
    ).order_by("institution_id", "empi_id", "_admission", "_discharge", "stay_id")
    rows, a = arrays(prepared, ("institution_id", "empi_id"))
    gaps = link_readmissions(
        a["_group"], a["_admission"], a["_discharge"], np.arange(rows.num_rows, dtype=np.int64),
        a["_plan_ok"], a["_died"], codes(rows.column("subcategory")),
        max_gap_days=max_gap_days)
    keep = (gaps >= 0) & a["_in_month"]
    out = rows.select(list(STAY_KEYS)).filter(pa.array(keep)).append_column(
        "readmission_gap_days", pa.array(gaps[keep], pa.int32()))
    return ibis.memtable(out)


def _reoperation_kernel(p: ir.Table) -> ir.Table:
    """:func:`reoperation_intervals` by
    :func:`~hospital_sdk.kernels.episodes.previous_operation_hours` over ``p`` (every surgery
    of the stays read, with ``_patient``, ``_in_month`` and ``_reop``)."""
    prepared = p.select(*STAY_KEYS, "seq", "_in_month", "_reop", patient=p._patient,
                        _time=p.procedure_time).order_by("institution_id", "patient", "_time")
    rows, a = arrays(prepared, ("institution_id", "patient"))
    hours = previous_operation_hours(a["_group"], a["_time"])
    keep = pa.array(a["_in_month"] & a["_reop"])
    out = rows.select([*STAY_KEYS, "seq"]).filter(keep).append_column(
        "hours_since_previous", pa.array(hours, pa.float64(), from_pandas=True).filter(keep))
    return ibis.memtable(out)
