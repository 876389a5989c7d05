"""``stay_fact``: one row per inpatient stay discharged in the month, with its indicator flags.

Everything an inpatient indicator needs about a stay sits on its one row: the discharge abstract
(keys, department, times, payer, DRG, costs), the principal diagnosis, and flags and sums rolled
up from its diagnoses, procedures, medication orders and charge lines.

No fan-out
----------
Each child table is aggregated to one row per ``(institution_id, stay_id)`` *before* it is
joined to the stays (:func:`hospital_sdk.aggregated.grain.attach`), so a stay with three
diagnoses and two procedures is still one row, counted once.

Which rows of the child tables
------------------------------
* Diagnoses and procedures: by their ``discharge_time`` (the cleaned layer's partition column,
  copied from the stay), i.e. the same month.
* Medication orders and charge lines: by the stay's key (a semi-join on ``institution_id,
  stay_id``), restricted to ``[earliest admission_time of the month's stays, month end)`` so the
  scan stays bounded. Orders of a stay admitted last month are therefore included; another
  stay's orders are not; a line timed after the month's end (a late charge) is not.

Definitions
-----------
* ``is_death``: ``discharge_disposition = '5'`` (死亡).
* ``principal_diagnosis_code``: the ``diagnosis_kind = 'discharge'``, ``seq = 1`` code;
  ``principal_diagnosis_category`` its first 3 characters.
* ``principal_procedure_code``: the code of the stay's procedure with ``seq = 1`` (the 病案首页's
  主要手术操作), null when it has none; single-disease items (#10) defined by a procedure use it.
* Procedure flags: see :mod:`hospital_sdk.aggregated.procedures` (surgery = categories 1 and 4).
  ``has_day_surgery`` comes from the procedures; the abstract's own flag is kept as
  ``is_day_surgery_case``.
* ``has_complication_not_poa``: a *discharge* diagnosis (the only kind with 入院病情) on the
  surgical-complication list (:func:`~hospital_sdk.aggregated.value_sets.surgical_complications`)
  with ``present_on_admission = '4'`` (无). Kept raw for every stay; indicator #8 restricts it to
  surgical stays.
* ``antibiotic_ddds``: over the stay's ``setting = 'inpatient'`` orders of drugs with
  ``is_antibacterial``, the sum of DDDs (:func:`~hospital_sdk.aggregated.doses.ddd_count`: dose in
  the drug's strength unit, mg↔g and U/TU/MU converted); 0 when none. ``used_antibiotic``: any
  such order, whatever its dose.
* ``used_any_drug`` / ``used_essential_drug`` / ``has_reviewed_order``: over the same
  ``setting = 'inpatient'`` orders of the stay (any drug, whatever its dose): at least one order;
  at least one of a drug with the catalog's ``is_essential`` (国家基本药物, indicator #19); at
  least one with ``is_reviewed`` (indicator #16's inpatient part counts a discharge once however
  many of its orders were reviewed). False when the stay has no order.
* ``drug_cost`` / ``consumable_cost``: sums of the stay's charge-line ``amount`` with
  ``item_type`` ``'drug'`` / ``'material'`` (refunds, negative, subtract); 0 when none.
* Revenue structure (indicators #31, #32, 增1, inpatient side), over the same charge lines:
  ``charge_revenue`` the sum of every line's ``amount`` (the stay's 医疗收入 as billed);
  ``medical_service_revenue`` the lines whose ``revenue_category`` is none of the drug
  categories (``drug_western``, ``drug_chinese_patent``, ``drug_herbal``), ``material``,
  ``examination`` or ``laboratory`` (医疗服务收入 in the subtraction form: registration, bed,
  consultation, treatment, surgery, nursing, pharmacy service and other);
  ``key_monitored_drug_cost`` the ``item_type = 'drug'`` lines whose ``item_code`` is a
  ``drug_catalog`` drug with ``is_key_monitored``; ``key_monitored_consumable_cost`` the
  ``item_type = 'material'`` lines whose ``item_code`` is a ``consumable_catalog`` product with
  ``is_key_monitored``; ``adjuvant_drug_cost`` the ``item_type = 'drug'`` lines of a
  ``drug_catalog`` drug with ``is_adjuvant`` (辅助用药, the 2019 form of indicator #32). All 0
  when none.
* ``is_low_risk_drg``: the stay's ``(grouper_version, drg_code)`` is low-risk in the ``drg_risk``
  table passed in (:func:`~hospital_sdk.aggregated.drg_risk.build_drg_risk`); false when the
  group is unknown, the stay has no DRG, or no table is passed.
* ``drg_mortality``: the in-hospital mortality of the stay's DRG group in that table — the
  stay's expected probability of death, whose sum is the expected deaths of a standardized
  mortality ratio (observed ÷ expected); null when the group is unknown or no table is passed.
* ``drg_expected_cost`` / ``drg_expected_los``: the group's mean total cost and mean length of
  stay in that table, the expected values of the cost- and time-efficiency indices (actual ÷
  expected); null as ``drg_mortality``.
* ``is_unplanned_readmission`` / ``readmission_gap_days``: the stay is an unplanned readmission
  within 0–31 days of the same patient's previous discharge in the institution, and that gap in
  days (null unless it is one); see :func:`~hospital_sdk.aggregated.episodes.readmission_links`.
  The readmission is counted in the month *it* is discharged in, looking back only.
* ``has_unplanned_reoperation_48h`` / ``_31d``: at least one of the stay's unplanned
  reoperations came at most 48 hours / 31 days after the same patient's previous operation in
  the institution (this stay or an earlier one); see
  :func:`~hospital_sdk.aggregated.episodes.reoperation_intervals`. A reoperation with no earlier
  operation on record is in neither window (still in ``has_unplanned_reoperation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import ibis
import ibis.expr.types as ir

from hospital_sdk.aggregated.doses import ddd_count
from hospital_sdk.aggregated.episodes import (
    REOPERATION_WINDOWS_HOURS, readmission_links, reoperation_intervals,
)
from hospital_sdk.aggregated.grain import attach
from hospital_sdk.aggregated.inputs import Needs, require, require_columns
from hospital_sdk.aggregated.procedures import (
    PROCEDURE_ROW_NEEDS, STAY_KEYS, procedure_flags_per_stay, procedure_rows,
)
from hospital_sdk.aggregated.value_sets import surgical_complications
from hospital_sdk.model import CONTRACT
from hospital_sdk.store.partitions import month_bounds

__all__ = ["COLUMNS", "NEEDS", "NOT_MEDICAL_SERVICE", "build_stay_fact",
           "with_key_monitored"]

COST_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in CONTRACT.table("inpatient_stay").columns if c.name.startswith("cost_"))

_STAY_HEAD: tuple[str, ...] = (
    "institution_id", "stay_id", "campus_id", "empi_id", "patient_local_id", "admission_dept_id",
    "discharge_dept_id", "attending_doctor_id", "admission_time", "discharge_time", "los_days",
    "age_years", "is_newborn", "payer", "admission_route", "discharge_disposition",
    "transfer_facility_level", "readmission_plan")
"""Columns of the stay copied first, unchanged."""
_STAY_COLUMNS: tuple[str, ...] = (
    *_STAY_HEAD, "is_day_surgery", "is_special_needs", "drg_code", "grouper_version",
    "total_cost", "self_pay_cost", "insurance_paid", *COST_COLUMNS)

NEEDS: Needs = {
    "inpatient_stay": _STAY_COLUMNS,
    "stay_diagnosis": ("institution_id", "stay_id", "diagnosis_kind", "seq", "diagnosis_code",
                       "present_on_admission", "discharge_time"),
    **PROCEDURE_ROW_NEEDS,
    "medication_order": ("institution_id", "stay_id", "setting", "drug_code", "order_time",
                         "dispensed_dose", "dose_unit", "is_reviewed"),
    "drug_catalog": ("code", "is_antibacterial", "ddd_value", "ddd_unit", "strength_unit",
                     "is_essential", "is_key_monitored", "is_adjuvant"),
    "consumable_catalog": ("code", "is_key_monitored"),
    "charge_line": ("institution_id", "stay_id", "item_type", "amount", "charge_time",
                    "item_code", "revenue_category"),
    "drg_group": ("grouper_version", "drg_code", "relative_weight"),
}
"""The cleaned tables and columns :func:`build_stay_fact` reads."""

DRG_RISK_COLUMNS = ("grouper_version", "drg_code", "is_low_risk", "mortality", "mean_cost",
                    "mean_los")

COLUMNS: tuple[str, ...] = (
    *_STAY_HEAD, "is_day_surgery_case", "is_special_needs",
    "drg_code", "grouper_version", "relative_weight", "total_cost", "self_pay_cost",
    "insurance_paid", *COST_COLUMNS, "principal_diagnosis_code", "principal_diagnosis_category",
    "principal_procedure_code", "is_death", "has_surgery", "has_elective_surgery", "n_operations",
    "has_level3_surgery", "has_level4_surgery",
    "has_minimally_invasive_surgery", "has_day_surgery", "has_class1_incision",
    "has_class1_incision_infection", "has_complication_not_poa", "has_unplanned_reoperation",
    "has_unplanned_reoperation_48h", "has_unplanned_reoperation_31d",
    "used_antibiotic", "antibiotic_ddds", "used_any_drug", "used_essential_drug",
    "has_reviewed_order", "drug_cost", "consumable_cost", "charge_revenue",
    "medical_service_revenue", "key_monitored_drug_cost", "key_monitored_consumable_cost",
    "adjuvant_drug_cost", "is_low_risk_drg",
    "drg_mortality", "drg_expected_cost", "drg_expected_los", "is_unplanned_readmission",
    "readmission_gap_days")
"""Columns of ``stay_fact``, in order."""

_MONEY = "decimal(18,2)"
NOT_MEDICAL_SERVICE: tuple[str, ...] = (
    "drug_western", "drug_chinese_patent", "drug_herbal", "material", "examination", "laboratory")
"""Revenue categories that are not 医疗服务收入 (#31: drugs, consumables, exams and lab tests)."""


def _diagnoses_per_stay(tables: Mapping[str, ir.Table], start: datetime,
                        end: datetime) -> ir.Table:
    d = tables["stay_diagnosis"]
    d = d.filter(d.discharge_time >= start, d.discharge_time < end)
    discharge = (d.diagnosis_kind == "discharge").fill_null(False)
    principal = discharge & (d.seq == 1).fill_null(False)
    complication = (discharge & surgical_complications().predicate(d.diagnosis_code)
                    & (d.present_on_admission == "4").fill_null(False))
    return d.group_by(*STAY_KEYS).aggregate(
        principal_diagnosis_code=d.diagnosis_code.min(where=principal),
        has_complication_not_poa=complication.any(),
    )


def _inpatient_orders(tables: Mapping[str, ir.Table], stays: ir.Table,
                      end: datetime) -> ir.Table:
    o = tables["medication_order"]
    o = o.filter(o.setting == "inpatient", o.order_time >= stays.admission_time.min(),
                 o.order_time < end)
    return o.semi_join(stays.select(*STAY_KEYS), list(STAY_KEYS))


def _drugs_per_stay(tables: Mapping[str, ir.Table], stays: ir.Table,
                    end: datetime) -> ir.Table:
    o = _inpatient_orders(tables, stays, end)
    c = tables["drug_catalog"]
    c = c.select(_code=c.code, _essential=c.is_essential)
    j = o.left_join(c, o.drug_code == c._code)
    return j.group_by(*STAY_KEYS).aggregate(
        used_any_drug=j.count() > 0,
        used_essential_drug=j._essential.fill_null(False).any(),
        has_reviewed_order=j.is_reviewed.fill_null(False).any(),
    )


def _antibiotics_per_stay(tables: Mapping[str, ir.Table], stays: ir.Table,
                          end: datetime) -> ir.Table:
    o = _inpatient_orders(tables, stays, end)
    c = tables["drug_catalog"]
    c = c.filter(c.is_antibacterial.fill_null(False)).select(
        _code=c.code, _ddd_value=c.ddd_value, _ddd_unit=c.ddd_unit, _strength_unit=c.strength_unit)
    j = o.inner_join(c, o.drug_code == c._code)
    ddds = ddd_count(j.dispensed_dose, j._strength_unit.coalesce(j.dose_unit), j._ddd_value,
                     j._ddd_unit)
    return j.group_by(*STAY_KEYS).aggregate(used_antibiotic=j.count() > 0,
                                           antibiotic_ddds=ddds.sum())


def _charges_per_stay(tables: Mapping[str, ir.Table], stays: ir.Table,
                      end: datetime) -> ir.Table:
    ch = tables["charge_line"]
    ch = ch.filter(ch.charge_time >= stays.admission_time.min(), ch.charge_time < end)
    ch = ch.semi_join(stays.select(*STAY_KEYS), list(STAY_KEYS))
    ch = with_key_monitored(tables, ch)
    return ch.group_by(*STAY_KEYS).aggregate(
        drug_cost=ch.amount.sum(where=ch.item_type == "drug"),
        consumable_cost=ch.amount.sum(where=ch.item_type == "material"),
        charge_revenue=ch.amount.sum(),
        medical_service_revenue=ch.amount.sum(
            where=ch.revenue_category.notin(NOT_MEDICAL_SERVICE).fill_null(True)),
        key_monitored_drug_cost=ch.amount.sum(where=ch._km_drug),
        key_monitored_consumable_cost=ch.amount.sum(where=ch._km_consumable),
        adjuvant_drug_cost=ch.amount.sum(where=ch._adjuvant_drug),
    )


def with_key_monitored(tables: Mapping[str, ir.Table], ch: ir.Table) -> ir.Table:
    """``ch`` with ``_km_drug`` / ``_km_consumable``: a drug (material) line of a key-monitored
    catalog product, and ``_adjuvant_drug``: a drug line of an adjuvant drug (catalog codes are
    unique, so the joins keep one row per line)."""
    d = tables["drug_catalog"]
    d = d.select(_dcode=d.code, _dkm=d.is_key_monitored, _dadj=d.is_adjuvant)
    m = tables["consumable_catalog"]
    m = m.select(_mcode=m.code, _mkm=m.is_key_monitored)
    ch = ch.left_join(d, (ch.item_code == d._dcode) & (ch.item_type == "drug"))
    ch = ch.left_join(m, (ch.item_code == m._mcode) & (ch.item_type == "material"))
    return ch.mutate(_km_drug=ch._dkm.fill_null(False), _km_consumable=ch._mkm.fill_null(False),
                     _adjuvant_drug=ch._dadj.fill_null(False))


def _reoperation_windows(tables: Mapping[str, ir.Table], start: datetime,
                         end: datetime) -> ir.Table:
    r = reoperation_intervals(tables, start, end)
    within = {name: (r.hours_since_previous <= hours).fill_null(False)
              for name, hours in REOPERATION_WINDOWS_HOURS.items()}
    return r.group_by(*STAY_KEYS).aggregate(
        **{f"has_unplanned_reoperation_{name}": w.any() for name, w in within.items()})


def _low_risk_groups(drg_risk: ir.Table) -> ir.Table:
    require_columns(drg_risk, "drg_risk", DRG_RISK_COLUMNS, "stay_fact")
    # one row per group even if the table passed in repeats one
    return drg_risk.group_by("grouper_version", "drg_code").aggregate(
        _low_risk=drg_risk.is_low_risk.fill_null(False).any(),
        _mortality=drg_risk.mortality.cast("float64").max(),
        _expected_cost=drg_risk.mean_cost.cast("float64").max(),
        _expected_los=drg_risk.mean_los.cast("float64").max())


def build_stay_fact(tables: Mapping[str, ir.Table], month: str,
                    drg_risk: ir.Table | None = None) -> ir.Table:
    """Build ``stay_fact`` for ``month``: one row per stay discharged in it.

    Parameters
    ----------
    tables
        Cleaned tables by name (see :data:`NEEDS`).
    month
        ``'YYYY-MM'``; a stay belongs to the month of its ``discharge_time``
        (``start <= discharge_time < end``, :func:`~hospital_sdk.store.partitions.month_bounds`).
    drg_risk
        The ``drg_risk`` table (at least ``grouper_version, drg_code, is_low_risk, mortality,
        mean_cost, mean_los``), or ``None``: then ``is_low_risk_drg`` is false and
        ``drg_mortality``, ``drg_expected_cost`` and ``drg_expected_los`` null for every stay.

    Returns
    -------
    Table
        One row per ``(institution_id, stay_id)`` with the columns of :data:`COLUMNS`.

    Raises
    ------
    ContractError
        An input table or column is missing (the message names both).

    Examples
    --------
    >>> import datetime as dt
    >>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
    >>> out = dt.datetime(2024, 3, 5)
    >>> tables = {name: table(name) for name in NEEDS}
    >>> tables["inpatient_stay"] = table("inpatient_stay", institution_id=["H1", "H1"],
    ...     stay_id=["S1", "S2"], admission_time=[dt.datetime(2024, 2, 27)] * 2,
    ...     discharge_time=[out, dt.datetime(2024, 4, 1)], discharge_disposition=["5", "1"])
    >>> fact = build_stay_fact(tables, "2024-03").execute()
    >>> fact[["stay_id", "is_death", "has_surgery", "antibiotic_ddds", "is_low_risk_drg"]]
      stay_id  is_death  has_surgery  antibiotic_ddds  is_low_risk_drg
    0      S1      True        False              0.0            False
    """
    require(tables, NEEDS, "stay_fact")
    start, end = month_bounds(month)
    s = tables["inpatient_stay"]
    stays = s.filter(s.discharge_time >= start, s.discharge_time < end).select(*_STAY_COLUMNS)

    fact = attach(stays, _diagnoses_per_stay(tables, start, end), STAY_KEYS)
    procedures = procedure_rows(tables, start, end)
    fact = attach(fact, procedure_flags_per_stay(procedures), STAY_KEYS)
    fact = attach(fact, procedures.group_by(*STAY_KEYS).aggregate(
        principal_procedure_code=procedures.procedure_code.min(
            where=(procedures.seq == 1).fill_null(False))), STAY_KEYS)
    fact = attach(fact, _antibiotics_per_stay(tables, stays, end), STAY_KEYS)
    fact = attach(fact, _drugs_per_stay(tables, stays, end), STAY_KEYS)
    fact = attach(fact, _charges_per_stay(tables, stays, end), STAY_KEYS)
    fact = attach(fact, readmission_links(tables, start, end), STAY_KEYS)
    fact = attach(fact, _reoperation_windows(tables, start, end), STAY_KEYS)
    g = tables["drg_group"]
    weights = g.group_by("grouper_version", "drg_code").aggregate(
        relative_weight=g.relative_weight.max())  # the primary key: at most one row anyway
    fact = attach(fact, weights, ("grouper_version", "drg_code"))
    if drg_risk is not None:
        fact = attach(fact, _low_risk_groups(drg_risk), ("grouper_version", "drg_code"))
        low_risk = fact._low_risk.fill_null(False)
        mortality = fact._mortality
        expected_cost, expected_los = fact._expected_cost, fact._expected_los
    else:
        low_risk = ibis.literal(False)
        mortality = expected_cost = expected_los = ibis.null("float64")

    zero = ibis.literal(0).cast(_MONEY)
    return fact.select(
        *_STAY_HEAD,
        is_day_surgery_case=fact.is_day_surgery,
        is_special_needs=fact.is_special_needs,
        drg_code=fact.drg_code,
        grouper_version=fact.grouper_version,
        relative_weight=fact.relative_weight,
        total_cost=fact.total_cost,
        self_pay_cost=fact.self_pay_cost,
        insurance_paid=fact.insurance_paid,
        **{c: fact[c] for c in COST_COLUMNS},
        principal_diagnosis_code=fact.principal_diagnosis_code,
        principal_diagnosis_category=fact.principal_diagnosis_code.substr(0, 3),
        principal_procedure_code=fact.principal_procedure_code,
        is_death=(fact.discharge_disposition == "5").fill_null(False),
        has_surgery=fact.has_surgery.fill_null(False),
        has_elective_surgery=fact.has_elective_surgery.fill_null(False),
        n_operations=fact.n_operations.fill_null(0).cast("int64"),
        has_level3_surgery=fact.has_level3_surgery.fill_null(False),
        has_level4_surgery=fact.has_level4_surgery.fill_null(False),
        has_minimally_invasive_surgery=fact.has_minimally_invasive_surgery.fill_null(False),
        has_day_surgery=fact.has_day_surgery.fill_null(False),
        has_class1_incision=fact.has_class1_incision.fill_null(False),
        has_class1_incision_infection=fact.has_class1_incision_infection.fill_null(False),
        has_complication_not_poa=fact.has_complication_not_poa.fill_null(False),
        has_unplanned_reoperation=fact.has_unplanned_reoperation.fill_null(False),
        has_unplanned_reoperation_48h=fact.has_unplanned_reoperation_48h.fill_null(False),
        has_unplanned_reoperation_31d=fact.has_unplanned_reoperation_31d.fill_null(False),
        used_antibiotic=fact.used_antibiotic.fill_null(False),
        antibiotic_ddds=fact.antibiotic_ddds.fill_null(0.0).cast("float64"),
        used_any_drug=fact.used_any_drug.fill_null(False),
        used_essential_drug=fact.used_essential_drug.fill_null(False),
        has_reviewed_order=fact.has_reviewed_order.fill_null(False),
        drug_cost=fact.drug_cost.cast(_MONEY).fill_null(zero),
        consumable_cost=fact.consumable_cost.cast(_MONEY).fill_null(zero),
        **{c: fact[c].cast(_MONEY).fill_null(zero) for c in (
            "charge_revenue", "medical_service_revenue", "key_monitored_drug_cost",
            "key_monitored_consumable_cost", "adjuvant_drug_cost")},
        is_low_risk_drg=low_risk,
        drg_mortality=mortality,
        drg_expected_cost=expected_cost,
        drg_expected_los=expected_los,
        is_unplanned_readmission=fact.readmission_gap_days.notnull(),
        readmission_gap_days=fact.readmission_gap_days,
    )
