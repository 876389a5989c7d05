"""``department_month``: one row per institution × campus × department × month of activity.

Built from the month's ``stay_fact`` and ``visit_fact`` (already at their grains, so nothing can
fan out): stays count at their **discharging** department (``discharge_dept_id``) and campus,
visits at the department and campus where they were registered. Each side is aggregated to the
department key, the two are stacked with zeros in the other side's columns and summed again — a
full outer combination, so a department with only visits (or only discharges) still appears,
with zeros on the side it lacks.

Definitions
-----------
* Inpatient counts are numbers of *stays* with the flag (a stay with two level-4 operations is
  one ``level4_stays``), as the national indicators count persons per admission;
  ``bed_days`` is the sum of ``los_days`` (the DDD indicator's patient-days).
* Visits exclude cancelled registrations. ``outpatient_visits`` / ``emergency_visits`` /
  ``health_check_visits`` by ``visit_type``; ``appointment_visits`` are *outpatient* visits with
  ``is_appointment`` (the appointment-rate indicator excludes emergency and health check);
  ``wait_minutes_sum`` and ``visits_with_wait`` cover every non-cancelled visit with a wait.
* Money columns are ``decimal(18,2)`` sums, counts ``int64``, ``antibiotic_ddds`` float64.
* ``month`` is the first day of the month (DATE), the period column.

Examples
--------
>>> import datetime as dt, ibis
>>> stays = ibis.memtable({"institution_id": ["H1"], "campus_id": ["C1"],
...     "discharge_dept_id": ["D1"], "discharge_time": [dt.datetime(2024, 3, 9)],
...     "los_days": [5], "total_cost": [900.0], "drug_cost": [300.0],
...     "consumable_cost": [100.0], "antibiotic_ddds": [2.5],
...     **{flag: [False] for flag in STAY_FLAG_COUNTS.values()}})
>>> visits = ibis.memtable({"institution_id": ["H1", "H1"], "campus_id": ["C1", "C1"],
...     "dept_id": ["D1", "D2"], "visit_time": [dt.datetime(2024, 3, 2)] * 2,
...     "visit_type": ["outpatient"] * 2, "is_appointment": [True, False],
...     "is_cancelled": [False, False], "wait_minutes": [10.0, None]})
>>> out = build_department_month(stays, visits, "2024-03").order_by("dept_id")
>>> out[["dept_id", "month", "discharges", "bed_days", "outpatient_visits"]].execute()
  dept_id       month  discharges  bed_days  outpatient_visits
0      D1  2024-03-01           1         5                  1
1      D2  2024-03-01           0         0                  1
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from hospital_sdk.aggregated.inputs import require_columns
from hospital_sdk.store.partitions import month_bounds

__all__ = ["COLUMNS", "DEPARTMENT_KEYS", "STAY_FLAG_COUNTS", "STAY_MEASURES", "VISIT_MEASURES",
           "build_department_month"]

DEPARTMENT_KEYS = ("institution_id", "campus_id", "dept_id")
_MONEY = "decimal(18,2)"

STAY_FLAG_COUNTS: Mapping[str, str] = {
    "deaths": "is_death",
    "surgical_stays": "has_surgery",
    "level4_stays": "has_level4_surgery",
    "minimally_invasive_stays": "has_minimally_invasive_surgery",
    "day_surgery_stays": "has_day_surgery",
    "class1_incision_stays": "has_class1_incision",
    "class1_incision_infections": "has_class1_incision_infection",
}
"""Measure -> the ``stay_fact`` flag it counts."""
STAY_MONEY: Mapping[str, str] = {"total_cost": "total_cost", "drug_cost": "drug_cost",
                                 "consumable_cost": "consumable_cost"}

STAY_MEASURES: tuple[str, ...] = ("discharges", *STAY_FLAG_COUNTS, "bed_days", *STAY_MONEY,
                                  "antibiotic_ddds")
VISIT_MEASURES: tuple[str, ...] = ("outpatient_visits", "emergency_visits",
                                   "health_check_visits", "appointment_visits",
                                   "wait_minutes_sum", "visits_with_wait")
COLUMNS: tuple[str, ...] = (*DEPARTMENT_KEYS, "month", *STAY_MEASURES, *VISIT_MEASURES)
"""Columns of ``department_month``, in order."""

_STAY_NEEDS = ("institution_id", "campus_id", "discharge_dept_id", "discharge_time",
               *STAY_FLAG_COUNTS.values(), "los_days", *STAY_MONEY.values(), "antibiotic_ddds")
_VISIT_NEEDS = ("institution_id", "campus_id", "dept_id", "visit_time", "visit_type",
                "is_appointment", "is_cancelled", "wait_minutes")


def _zero(measure: str) -> ir.Value:
    if measure in STAY_MONEY:
        return ibis.literal(0).cast(_MONEY)
    if measure in ("antibiotic_ddds", "wait_minutes_sum"):
        return ibis.literal(0.0, "float64")
    return ibis.literal(0, "int64")


def _count(flag: ir.BooleanValue) -> ir.IntegerValue:
    return flag.fill_null(False).cast("int64").sum()


def _stay_side(stays: ir.Table) -> ir.Table:
    agg = stays.group_by(institution_id=stays.institution_id, campus_id=stays.campus_id,
                         dept_id=stays.discharge_dept_id).aggregate(
        discharges=stays.count().cast("int64"),
        **{m: _count(stays[f]) for m, f in STAY_FLAG_COUNTS.items()},
        bed_days=stays.los_days.cast("int64").sum(),
        **{m: stays[c].sum().cast(_MONEY) for m, c in STAY_MONEY.items()},
        antibiotic_ddds=stays.antibiotic_ddds.cast("float64").sum())
    return agg.mutate(**{m: _zero(m) for m in VISIT_MEASURES})


def _visit_side(visits: ir.Table) -> ir.Table:
    v = visits.filter(~visits.is_cancelled.fill_null(False))
    agg = v.group_by(*DEPARTMENT_KEYS).aggregate(
        outpatient_visits=_count(v.visit_type == "outpatient"),
        emergency_visits=_count(v.visit_type == "emergency"),
        health_check_visits=_count(v.visit_type == "health_check"),
        appointment_visits=_count((v.visit_type == "outpatient") & v.is_appointment),
        wait_minutes_sum=v.wait_minutes.cast("float64").sum(),
        visits_with_wait=v.wait_minutes.count().cast("int64"))
    return agg.mutate(**{m: _zero(m) for m in STAY_MEASURES})


def _exact(value: ir.NumericValue) -> ir.NumericValue:
    """A float as DECIMAL(38, 9) (summed exactly, so in any order alike); others unchanged."""
    return value.cast("decimal(38, 9)") if value.type().is_floating() else value


def build_department_month(stay_fact: ir.Table, visit_fact: ir.Table, month: str) -> ir.Table:
    """Build ``department_month`` for ``month`` from that month's stay and visit facts.

    Parameters
    ----------
    stay_fact, visit_fact
        The ``stay_fact`` and ``visit_fact`` tables (of this month, or more: rows outside
        ``month`` by ``discharge_time`` / ``visit_time`` are left out).
    month
        ``'YYYY-MM'``.

    Returns
    -------
    Table
        One row per ``(institution_id, campus_id, dept_id, month)`` with the columns of
        :data:`COLUMNS`.

    Raises
    ------
    ContractError
        A fact table lacks a needed column (the message names the table and the column).
    """
    start, end = month_bounds(month)
    require_columns(stay_fact, "stay_fact", _STAY_NEEDS, "department_month")
    require_columns(visit_fact, "visit_fact", _VISIT_NEEDS, "department_month")
    stays = stay_fact.filter(stay_fact.discharge_time >= start, stay_fact.discharge_time < end)
    visits = visit_fact.filter(visit_fact.visit_time >= start, visit_fact.visit_time < end)
    measures = (*STAY_MEASURES, *VISIT_MEASURES)
    both = ibis.union(_stay_side(stays).select(*DEPARTMENT_KEYS, *measures),
                      _visit_side(visits).select(*DEPARTMENT_KEYS, *measures), distinct=False)
    # sums are never null: a department without a wait recorded has waited 0 minutes in all;
    # floats are summed as decimals, so a rerun gives the same bits whatever the order the
    # engine adds them in (a parallel float sum is not reproducible in its last digits)
    out = both.group_by(*DEPARTMENT_KEYS).aggregate(
        **{m: _exact(both[m]).sum().cast(both[m].type()).fill_null(_zero(m))
           for m in measures})
    return out.mutate(month=ibis.literal(start.date(), "date")).select(*COLUMNS)

