"""``visit_fact``: one row per outpatient, emergency or health-check visit registered in the month.

A visit belongs to the month of its ``visit_time`` (registration on the day of the visit).
Cancelled registrations (退号) are kept, flagged ``is_cancelled``; the summaries leave them out.

Definitions
-----------
* ``wait_minutes``: check-in → call-in (``call_time − checkin_time``), the raw interval of
  indicator #23; the manual's rule that an early arrival waits from the slot start is
  UNCONFIRMED ([K]) and left to the indicator, which has ``slot_start`` in the cleaned table.
* ``consult_minutes``: call-in → end of consultation.
* ``booking_lead_days``: calendar days from ``booked_at`` to ``visit_time`` (0 = booked the
  same day); null when the visit was not booked.
* ``has_antibiotic_prescription`` / ``n_prescribed_drugs``: over the visit's medication orders
  (setting other than ``inpatient``, matched on ``institution_id, visit_id``): any drug with
  ``is_antibacterial``, and the number of distinct standard drug codes. Orders are read from
  ``[month start, month end + 1 day)``: a visit registered late on the last evening may be
  prescribed after midnight.
* ``has_essential_drug_prescription`` / ``has_reviewed_prescription``: over the same orders, any
  drug with the catalog's ``is_essential`` (国家基本药物, indicator #18), and any order with
  ``is_reviewed`` (点评, indicator #16's outpatient part, counted per visit with a prescription).
* Revenue structure (indicators #31, #32, 增1, outpatient side), over the visit's charge lines
  (setting other than ``inpatient``, matched on ``institution_id, visit_id``, read from
  ``[month start, month end + 1 day)``), as on ``stay_fact``
  (:mod:`hospital_sdk.aggregated.stays`): ``charge_revenue`` (all lines), ``drug_cost`` /
  ``consumable_cost`` (item type ``drug`` / ``material``; ``drug_fee`` stays the visit's own
  figure), ``medical_service_revenue`` (revenue categories other than drugs, ``material``,
  ``examination`` and ``laboratory``), ``key_monitored_drug_cost`` /
  ``key_monitored_consumable_cost`` (lines of key-monitored catalog products),
  ``adjuvant_drug_cost`` (drug lines of adjuvant drugs, ``drug_catalog.is_adjuvant``). 0 when
  none.

All durations are minutes as float64 (millisecond precision), null when a time is missing.

Examples
--------
>>> import datetime as dt
>>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
>>> t0 = dt.datetime(2024, 3, 4, 8, 0)
>>> tables = {
...     "outpatient_visit": table("outpatient_visit", institution_id=["H1"], visit_id=["V1"],
...         visit_type=["outpatient"], visit_time=[t0], checkin_time=[t0],
...         call_time=[t0 + dt.timedelta(minutes=12, seconds=30)]),
...     "medication_order": table("medication_order", institution_id=["H1", "H1"],
...         visit_id=["V1", "V1"], setting=["outpatient"] * 2, drug_code=["A", "B"],
...         order_time=[t0 + dt.timedelta(minutes=20)] * 2),
...     "drug_catalog": table("drug_catalog", code=["A", "B"], is_antibacterial=[True, False]),
...     "consumable_catalog": table("consumable_catalog"), "charge_line": table("charge_line"),
... }
>>> build_visit_fact(tables, "2024-03")[["wait_minutes", "has_antibiotic_prescription",
...                                      "n_prescribed_drugs"]].execute()
   wait_minutes  has_antibiotic_prescription  n_prescribed_drugs
0          12.5                         True                   2
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from hospital_sdk.aggregated.grain import attach
from hospital_sdk.aggregated.inputs import Needs, require
from hospital_sdk.aggregated.stays import NOT_MEDICAL_SERVICE, with_key_monitored
from hospital_sdk.store.partitions import month_bounds

__all__ = ["CHARGE_SUMS", "COLUMNS", "NEEDS", "ORDER_GRACE", "VISIT_KEYS", "build_visit_fact"]

VISIT_KEYS = ("institution_id", "visit_id")
ORDER_GRACE = timedelta(days=1)
"""How far past the month's end a visit's prescriptions are looked for."""

_VISIT_HEAD: tuple[str, ...] = (
    "institution_id", "visit_id", "campus_id", "dept_id", "doctor_id", "empi_id",
    "patient_local_id", "visit_type", "payer", "registration_channel", "is_appointment",
    "is_cancelled", "is_special_needs", "down_referral", "booked_at", "visit_time",
    "slot_start", "checkin_time", "call_time", "end_time")
"""Columns of the visit copied first, unchanged."""
_FEES = ("total_fee", "drug_fee", "insurance_paid")
_VISIT_COLUMNS: tuple[str, ...] = (*_VISIT_HEAD, *_FEES)
CHARGE_SUMS: tuple[str, ...] = (
    "charge_revenue", "drug_cost", "consumable_cost", "medical_service_revenue",
    "key_monitored_drug_cost", "key_monitored_consumable_cost", "adjuvant_drug_cost")
_MONEY = "decimal(18,2)"

NEEDS: Needs = {
    "outpatient_visit": _VISIT_COLUMNS,
    "medication_order": ("institution_id", "visit_id", "setting", "drug_code", "order_time",
                         "is_reviewed"),
    "drug_catalog": ("code", "is_antibacterial", "is_essential", "is_key_monitored",
                     "is_adjuvant"),
    "consumable_catalog": ("code", "is_key_monitored"),
    "charge_line": ("institution_id", "visit_id", "setting", "item_type", "item_code",
                    "revenue_category", "amount", "charge_time"),
}
"""The cleaned tables and columns :func:`build_visit_fact` reads."""

COLUMNS: tuple[str, ...] = (
    *_VISIT_HEAD, "wait_minutes", "consult_minutes", "booking_lead_days", *_FEES,
    "has_antibiotic_prescription", "n_prescribed_drugs", "has_essential_drug_prescription",
    "has_reviewed_prescription", *CHARGE_SUMS)
"""Columns of ``visit_fact``, in order."""


def _minutes(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    return later.delta(earlier, unit="millisecond").cast("float64") / 60_000.0


def _prescriptions_per_visit(tables: Mapping[str, ir.Table], visits: ir.Table,
                             start: datetime, end: datetime) -> ir.Table:
    o = tables["medication_order"]
    o = o.filter(o.setting != "inpatient", o.order_time >= start,
                 o.order_time < end + ORDER_GRACE)
    o = o.semi_join(visits.select(*VISIT_KEYS), list(VISIT_KEYS))
    c = tables["drug_catalog"]
    c = c.select(_code=c.code, _antibacterial=c.is_antibacterial, _essential=c.is_essential)
    j = o.left_join(c, o.drug_code == c._code)
    return j.group_by(*VISIT_KEYS).aggregate(
        has_antibiotic_prescription=j._antibacterial.fill_null(False).any(),
        n_prescribed_drugs=j.drug_code.nunique(),
        has_essential_drug_prescription=j._essential.fill_null(False).any(),
        has_reviewed_prescription=j.is_reviewed.fill_null(False).any(),
    )


def _charges_per_visit(tables: Mapping[str, ir.Table], visits: ir.Table,
                       start: datetime, end: datetime) -> ir.Table:
    ch = tables["charge_line"]
    ch = ch.filter(ch.setting != "inpatient", ch.charge_time >= start,
                   ch.charge_time < end + ORDER_GRACE)
    ch = ch.semi_join(visits.select(*VISIT_KEYS), list(VISIT_KEYS))
    ch = with_key_monitored(tables, ch)
    return ch.group_by(*VISIT_KEYS).aggregate(
        charge_revenue=ch.amount.sum(),
        drug_cost=ch.amount.sum(where=ch.item_type == "drug"),
        consumable_cost=ch.amount.sum(where=ch.item_type == "material"),
        medical_service_revenue=ch.amount.sum(
            where=ch.revenue_category.notin(NOT_MEDICAL_SERVICE).fill_null(True)),
        key_monitored_drug_cost=ch.amount.sum(where=ch._km_drug),
        key_monitored_consumable_cost=ch.amount.sum(where=ch._km_consumable),
        adjuvant_drug_cost=ch.amount.sum(where=ch._adjuvant_drug),
    )


def build_visit_fact(tables: Mapping[str, ir.Table], month: str) -> ir.Table:
    """Build ``visit_fact`` for ``month``: one row per visit whose ``visit_time`` is in it.

    Parameters
    ----------
    tables
        Cleaned tables by name (see :data:`NEEDS`).
    month
        ``'YYYY-MM'``.

    Returns
    -------
    Table
        One row per ``(institution_id, visit_id)`` with the columns of :data:`COLUMNS`.

    Raises
    ------
    ContractError
        An input table or column is missing.
    """
    require(tables, NEEDS, "visit_fact")
    start, end = month_bounds(month)
    v = tables["outpatient_visit"]
    visits = v.filter(v.visit_time >= start, v.visit_time < end).select(*_VISIT_COLUMNS)
    fact = attach(visits, _prescriptions_per_visit(tables, visits, start, end), VISIT_KEYS)
    fact = attach(fact, _charges_per_visit(tables, visits, start, end), VISIT_KEYS)
    lead = fact.visit_time.date().delta(fact.booked_at.date(), unit="day")
    return fact.select(
        *_VISIT_HEAD,
        wait_minutes=_minutes(fact.call_time, fact.checkin_time),
        consult_minutes=_minutes(fact.end_time, fact.call_time),
        booking_lead_days=fact.booked_at.isnull().ifelse(ibis.null("int32"), lead.cast("int32")),
        **{c: fact[c] for c in _FEES},
        has_antibiotic_prescription=fact.has_antibiotic_prescription.fill_null(False),
        n_prescribed_drugs=fact.n_prescribed_drugs.fill_null(0).cast("int64"),
        has_essential_drug_prescription=fact.has_essential_drug_prescription.fill_null(False),
        has_reviewed_prescription=fact.has_reviewed_prescription.fill_null(False),
        **{c: fact[c].cast(_MONEY).fill_null(ibis.literal(0).cast(_MONEY)) for c in CHARGE_SUMS},
    )
