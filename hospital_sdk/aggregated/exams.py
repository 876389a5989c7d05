"""``exam_fact``: one row per examination ordered in the month, with the large-equipment flags.

The fact of indicator #11 大型医用设备检查阳性率 (national-indicators.md §1.4 #11; addendum §2.2
#11): large-equipment examinations with a positive finding ÷ large-equipment examinations.

Which month an examination belongs to
-------------------------------------
An examination belongs to the month of its ``order_time`` (申请时间), the cleaned layer's
partition column of ``exam``: a month is rebuilt from that month's cleaned partition alone, and
a row does not move between months when its ``exam_time`` or ``report_time`` is filled in
later. The manual's 同期 is not more precise than "in the period" ([K]); an examination ordered
on the last evening of a month and performed the next morning counts in the month it was
ordered. ``exam_time`` and ``report_time`` are kept for an indicator that would rather place
examinations by when they were performed (with a partition-crossing read).

Flags
-----
* ``is_large_equipment``: ``equipment_type`` in :data:`LARGE_EQUIPMENT_TYPES` — CT, MR, DSA,
  SPECT and PET-CT, the scope of the vendor item J108 "大型医用影像设备检查的阳性率(CT、MRI、
  DSA、SPECT、PET-CT)" ([C:S9]). PET-MR and linear accelerators (``PETMR``, ``LINAC`` in the
  code set ``equipment_type``) are **not** in that list and are left out (a choice: LINAC is
  treatment, not an examination; PET-MR is not named by the only source). ``equipment_type``
  itself is kept, so an indicator can use another scope with ``_.equipment_type.isin([...])``.
* ``is_performed``: ``exam_time`` is recorded (an order never performed has none).
* ``has_result``: ``is_positive`` is recorded (true or false); ``is_positive`` stays as
  delivered (null = no result recorded). How a missing result counts is the indicator's choice
  (``large_equipment_positive_rate`` leaves such examinations out, visibly, as an exclusion).
* ``report_hours``: ``exam_time`` → ``report_time`` in hours (float, null when either is
  missing).

Department and campus
---------------------
``ordering_dept_id`` (申请科室) is the conformed ``department`` dimension: the department that
ordered the examination owns its yield, as the discharge department owns a stay's flags.
``campus_id`` is the ordering department's campus (``department.campus_id``; the department's
latest row by ``valid_from`` when it has several, so the join cannot repeat an examination).

No patient identifier is copied (not ``patient_local_id``, not ``empi_id``): the indicator
counts examinations, not patients.

Examples
--------
>>> import datetime as dt
>>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
>>> t0 = dt.datetime(2024, 3, 4, 9, 0)
>>> tables = {
...     "exam": table("exam", institution_id=["H1", "H1", "H1"], exam_id=["E1", "E2", "E3"],
...                   setting=["outpatient", "inpatient", "outpatient"],
...                   equipment_type=["CT", None, "LINAC"], ordering_dept_id=["D1"] * 3,
...                   order_time=[t0] * 3, exam_time=[t0 + dt.timedelta(hours=2)] * 3,
...                   report_time=[t0 + dt.timedelta(hours=5)] * 3,
...                   is_positive=[True, False, None]),
...     "department": table("department", dept_id=["D1"], institution_id=["H1"],
...                         campus_id=["C1"], valid_from=[dt.date(2020, 1, 1)]),
... }
>>> out = build_exam_fact(tables, "2024-03").order_by("exam_id").execute()
>>> out[["exam_id", "campus_id", "is_large_equipment", "has_result", "report_hours"]]
  exam_id campus_id  is_large_equipment  has_result  report_hours
0      E1        C1                True        True           3.0
1      E2        C1               False        True           3.0
2      E3        C1               False       False           3.0
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis.expr.types as ir

from hospital_sdk.aggregated.grain import attach
from hospital_sdk.aggregated.inputs import Needs, require
from hospital_sdk.store.partitions import month_bounds

__all__ = ["COLUMNS", "EXAM_KEYS", "LARGE_EQUIPMENT_TYPES", "NEEDS", "build_exam_fact"]

EXAM_KEYS = ("institution_id", "exam_id")
LARGE_EQUIPMENT_TYPES: tuple[str, ...] = ("CT", "MR", "DSA", "SPECT", "PETCT")
"""``equipment_type`` codes in the scope of indicator #11 (J108: CT, MRI, DSA, SPECT, PET-CT)."""

NEEDS: Needs = {
    "exam": ("institution_id", "exam_id", "setting", "equipment_type", "exam_item_code",
             "body_part", "ordering_dept_id", "performing_dept_id", "order_time", "exam_time",
             "report_time", "is_positive"),
    "department": ("dept_id", "campus_id", "valid_from"),
}
"""The cleaned tables and columns :func:`build_exam_fact` reads."""

COLUMNS: tuple[str, ...] = (
    "institution_id", "exam_id", "campus_id", "ordering_dept_id", "performing_dept_id",
    "setting", "equipment_type", "exam_item_code", "body_part", "is_large_equipment",
    "is_performed", "has_result", "is_positive", "order_time", "exam_time", "report_time",
    "report_hours")
"""Columns of ``exam_fact``, in order."""


def _campus_per_department(department: ir.Table) -> ir.Table:
    """One row per ``dept_id``: the campus of its latest row (by ``valid_from``)."""
    return department.group_by(_dept=department.dept_id).aggregate(
        campus_id=department.campus_id.argmax(department.valid_from))


def build_exam_fact(tables: Mapping[str, ir.Table], month: str) -> ir.Table:
    """Build ``exam_fact`` for ``month``: one row per examination ordered in it.

    Parameters
    ----------
    tables
        Cleaned tables by name: ``exam`` and ``department`` (see :data:`NEEDS`).
    month
        ``'YYYY-MM'``; an examination belongs to the month of its ``order_time``.

    Returns
    -------
    Table
        One row per ``(institution_id, exam_id)`` with the columns of :data:`COLUMNS`.

    Raises
    ------
    ContractError
        An input table or column is missing.
    """
    require(tables, NEEDS, "exam_fact")
    start, end = month_bounds(month)
    e = tables["exam"]
    e = e.filter(e.order_time >= start, e.order_time < end)
    campus = _campus_per_department(tables["department"])
    j = attach(e.mutate(_dept=e.ordering_dept_id), campus, ("_dept",))
    report_hours = j.report_time.delta(j.exam_time, unit="millisecond").cast("float64") \
        / 3_600_000.0
    return j.select(
        "institution_id", "exam_id", "campus_id", "ordering_dept_id", "performing_dept_id",
        "setting", "equipment_type", "exam_item_code", "body_part",
        is_large_equipment=j.equipment_type.isin(LARGE_EQUIPMENT_TYPES).fill_null(False),
        is_performed=j.exam_time.notnull(),
        has_result=j.is_positive.notnull(),
        is_positive=j.is_positive,
        order_time=j.order_time,
        exam_time=j.exam_time,
        report_time=j.report_time,
        report_hours=report_hours,
    )
