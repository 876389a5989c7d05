"""``procedure_fact``: one row per procedure of each stay discharged in the month, with its flags.

The flags are defined here once and reused by ``stay_fact`` (which rolls them up to one row per
stay), so a procedure counts the same way in both tables.

Which procedures count as surgery
---------------------------------
The catalog's ``category`` (code set ``procedure_category``) is 1 手术 surgery, 2 诊断性操作
diagnostic procedure, 3 治疗性操作 therapeutic procedure, 4 介入治疗 interventional treatment.
``is_surgery`` is **category 1 or 4**: the national assessment counts surgery and
interventional treatment together and excludes diagnostic and therapeutic 操作
(national-indicators.md §1.3, [C:S2], [C:S4]); ``is_interventional`` keeps category 4 apart for
indicators that need it. A code missing from the catalog is not surgery.

* ``is_level4``: a surgery on the **national level-4 list** (``procedure_catalog.
  is_level4_national``), which §1.4 #6 uses rather than the level the hospital recorded;
  ``is_level4_recorded`` is the recorded ``operation_level = '4'`` on a surgery, for comparison.
* ``is_level3``: a surgery whose **national** level in the catalog (``procedure_catalog.
  operation_level``) is 3 — the secondary assessment's #3 (vendors keep a national level-3
  list, [C:A4]); the recorded level is not used, as for level 4. Not a ``procedure_fact``
  column: ``stay_fact.has_level3_surgery`` rolls it up.
* ``is_minimally_invasive``: a surgery on the national minimally-invasive list
  (``procedure_catalog.is_minimally_invasive``).
* ``is_elective_surgery``: a surgery with ``surgery_type = '1'`` (择期), the denominator of
  indicators #3 and #8.
* ``is_class1_incision``: ``incision_class = '1'``; ``is_class1_incision_infection``: the same
  row with ``healing_grade = '3'`` (丙), indicator #9 ("Ⅰ/丙").

Examples
--------
>>> import datetime as dt
>>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
>>> when = dt.datetime(2024, 3, 10)
>>> tables = {
...     "inpatient_stay": table("inpatient_stay", institution_id=["H1"], stay_id=["S1"],
...                             campus_id=["C1"], discharge_time=[when],
...                             discharge_dept_id=["D1"]),
...     "stay_procedure": table("stay_procedure", institution_id=["H1", "H1"],
...                             stay_id=["S1", "S1"], seq=[1, 2],
...                             procedure_code=["47.0100", "87.4400"],
...                             discharge_time=[when, when]),
...     "procedure_catalog": table("procedure_catalog", code=["47.0100", "87.4400"],
...                                category=["1", "2"], is_minimally_invasive=[True, False],
...                                is_level4_national=[False, False]),
... }
>>> out = build_procedure_fact(tables, "2024-03").order_by("seq").execute()
>>> out[["seq", "category", "is_surgery", "is_minimally_invasive"]]
   seq category  is_surgery  is_minimally_invasive
0    1        1        True                   True
1    2        2       False                  False
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import ibis.expr.types as ir

from hospital_sdk.aggregated.inputs import Needs, require
from hospital_sdk.store.partitions import month_bounds

__all__ = ["INTERVENTIONAL_CATEGORY", "NEEDS", "PROCEDURE_ROW_NEEDS", "STAY_KEYS",
           "SURGERY_CATEGORIES", "build_procedure_fact", "procedure_flags_per_stay",
           "procedure_rows"]

STAY_KEYS = ("institution_id", "stay_id")
SURGERY_CATEGORIES: tuple[str, ...] = ("1", "4")
"""``procedure_category`` codes counted as surgery: 1 手术 and 4 介入治疗 (§1.3)."""
INTERVENTIONAL_CATEGORY = "4"

PROCEDURE_ROW_NEEDS: Needs = {
    "stay_procedure": (
        "institution_id", "stay_id", "seq", "procedure_code", "procedure_time",
        "operation_level", "surgeon_id", "incision_class", "healing_grade", "anaesthesia_method",
        "surgery_type", "is_day_surgery", "is_unplanned_reoperation", "discharge_time"),
    "procedure_catalog": ("code", "category", "operation_level", "is_minimally_invasive",
                          "is_level4_national"),
}
"""What :func:`procedure_rows` reads."""

NEEDS: Needs = {
    "inpatient_stay": ("institution_id", "stay_id", "campus_id", "discharge_time",
                       "discharge_dept_id"),
    **PROCEDURE_ROW_NEEDS,
}
"""What :func:`build_procedure_fact` reads."""

COLUMNS: tuple[str, ...] = (
    "institution_id", "campus_id", "stay_id", "seq", "procedure_code", "category", "is_surgery",
    "is_interventional", "operation_level", "is_level4", "is_level4_recorded",
    "is_minimally_invasive", "incision_class", "healing_grade", "is_class1_incision",
    "is_class1_incision_infection", "surgery_type", "is_elective_surgery", "is_day_surgery",
    "is_unplanned_reoperation", "anaesthesia_method", "surgeon_id", "procedure_time",
    "discharge_time", "discharge_dept_id")
"""Columns of ``procedure_fact``, in order."""


def procedure_rows(tables: Mapping[str, ir.Table], start: datetime, end: datetime) -> ir.Table:
    """Procedures of the stays discharged in ``[start, end)``, with the catalog's flags.

    Reads ``stay_procedure`` by its ``discharge_time`` (the cleaned layer's partition column) and
    left-joins ``procedure_catalog`` on the code (one catalog row per code, its primary key).
    Returns one row per ``(institution_id, stay_id, seq)`` with the flags described in the module.
    """
    require(tables, PROCEDURE_ROW_NEEDS, "procedure rows")
    p = tables["stay_procedure"]
    p = p.filter(p.discharge_time >= start, p.discharge_time < end)
    c = tables["procedure_catalog"]
    cat = c.select(_code=c.code, _category=c.category, _mi=c.is_minimally_invasive,
                   _l4=c.is_level4_national, _level=c.operation_level)
    j = p.left_join(cat, p.procedure_code == cat._code)
    is_surgery = j._category.isin(SURGERY_CATEGORIES).fill_null(False)
    class1 = (j.incision_class == "1").fill_null(False)
    return j.select(
        "institution_id", "stay_id", "seq", "procedure_code",
        category=j._category,
        is_surgery=is_surgery,
        is_interventional=(j._category == INTERVENTIONAL_CATEGORY).fill_null(False),
        operation_level=j.operation_level,
        is_level4=is_surgery & j._l4.fill_null(False),
        is_level4_recorded=is_surgery & (j.operation_level == "4").fill_null(False),
        is_level3=is_surgery & (j._level == "3").fill_null(False),
        is_minimally_invasive=is_surgery & j._mi.fill_null(False),
        incision_class=j.incision_class,
        healing_grade=j.healing_grade,
        is_class1_incision=class1,
        is_class1_incision_infection=class1 & (j.healing_grade == "3").fill_null(False),
        surgery_type=j.surgery_type,
        is_elective_surgery=is_surgery & (j.surgery_type == "1").fill_null(False),
        is_day_surgery=j.is_day_surgery.fill_null(False),
        is_unplanned_reoperation=j.is_unplanned_reoperation.fill_null(False),
        anaesthesia_method=j.anaesthesia_method,
        surgeon_id=j.surgeon_id,
        procedure_time=j.procedure_time,
    )


def procedure_flags_per_stay(rows: ir.Table) -> ir.Table:
    """Roll :func:`procedure_rows` up to one row per stay (the stay grain, before any join).

    Returns ``institution_id, stay_id, n_operations`` (surgical rows) and the ``has_*`` flags:
    surgery, elective surgery, level-3, level-4, minimally invasive, day surgery, class-I
    incision, class-I incision infection, unplanned reoperation.
    """
    return rows.group_by(*STAY_KEYS).aggregate(
        n_operations=rows.is_surgery.cast("int64").sum(),
        has_surgery=rows.is_surgery.any(),
        has_elective_surgery=rows.is_elective_surgery.any(),
        has_level3_surgery=rows.is_level3.any(),
        has_level4_surgery=rows.is_level4.any(),
        has_minimally_invasive_surgery=rows.is_minimally_invasive.any(),
        has_day_surgery=rows.is_day_surgery.any(),
        has_class1_incision=rows.is_class1_incision.any(),
        has_class1_incision_infection=rows.is_class1_incision_infection.any(),
        has_unplanned_reoperation=rows.is_unplanned_reoperation.any(),
    )


def build_procedure_fact(tables: Mapping[str, ir.Table], month: str) -> ir.Table:
    """Build ``procedure_fact`` for ``month``: every procedure of the stays discharged in it.

    Parameters
    ----------
    tables
        Cleaned tables by name: ``inpatient_stay``, ``stay_procedure``, ``procedure_catalog``.
    month
        ``'YYYY-MM'``; a stay belongs to the month of its ``discharge_time``.

    Returns
    -------
    Table
        One row per ``(institution_id, stay_id, seq)`` with the columns of :data:`COLUMNS`;
        ``discharge_time`` (the period column), ``campus_id`` and ``discharge_dept_id`` come from
        the stay.

    Raises
    ------
    ContractError
        An input table or column is missing.
    """
    require(tables, NEEDS, "procedure_fact")
    start, end = month_bounds(month)
    s = tables["inpatient_stay"]
    stays = s.filter(s.discharge_time >= start, s.discharge_time < end).select(
        "institution_id", "stay_id", "campus_id", "discharge_time", "discharge_dept_id")
    rows = procedure_rows(tables, start, end)
    # inner join on the stay key: one stay row per key, so procedure rows are not repeated
    return rows.inner_join(stays, list(STAY_KEYS)).select(*COLUMNS)
