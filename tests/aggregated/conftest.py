"""A tiny hand-made hospital month (March 2024) for the aggregated builders.

Every expected value in the tests is worked out by hand from the rows below; the comments say
what each row is there to prove.

Stays (institution H1 unless noted):

* H1/S1 — admitted 25 Feb, discharged 5 Mar: 3 discharge diagnoses + 1 outpatient diagnosis,
  2 procedures (a level-4, minimally-invasive class-I surgery that got infected (丙), and a
  diagnostic procedure), antibacterial orders in February and March, charges in both months.
* H1/S2 — discharged on the last second of March; died; one interventional procedure (category
  4) with a clean class-I wound; its T81.400 complication was present on admission (POA 1).
* H1/S3 — discharged at 2024-04-01 00:00:00, the first instant of April: not in March.
* H1/S4 — discharged at 2024-03-01 00:00:00, the first instant of March: in March; nothing else.
* H2/S1 — another institution's stay with the *same* stay_id, with its own orders and charges,
  which must never be counted for H1/S1.
"""

from __future__ import annotations

from datetime import datetime as dt

import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated.inputs import cleaned_memtable

MONTH = "2024-03"
S1_OUT = dt(2024, 3, 5, 10)
S2_OUT = dt(2024, 3, 31, 23, 59, 59)
S3_OUT = dt(2024, 4, 1)
S4_OUT = dt(2024, 3, 1)
H2_OUT = dt(2024, 3, 20, 9)


def _stay(inst: str, stay: str, admitted: dt, discharged: dt, **kw: object) -> dict:
    row = {"institution_id": inst, "stay_id": stay, "campus_id": f"{inst}-C1",
           "patient_local_id": f"P-{stay}", "empi_id": f"E-{inst}-{stay}",
           "admission_time": admitted, "discharge_time": discharged,
           "discharge_dept_id": f"{inst}-SURG", "admission_dept_id": f"{inst}-SURG",
           "los_days": (discharged - admitted).days, "discharge_disposition": "1",
           "total_cost": 1000.0, "is_day_surgery": False}
    row.update(kw)
    return row


STAYS = [
    _stay("H1", "S1", dt(2024, 2, 25, 10), S1_OUT, drg_code="AA11", grouper_version="V1",
          total_cost=5000.0),                                               # los 9
    _stay("H1", "S2", dt(2024, 3, 10, 8), S2_OUT, drg_code="BB11", grouper_version="V1",
          discharge_disposition="5", total_cost=8000.0),                    # los 21
    _stay("H1", "S3", dt(2024, 3, 20), S3_OUT, drg_code="AA11", grouper_version="V1"),
    _stay("H1", "S4", dt(2024, 2, 28), S4_OUT, discharge_dept_id="H1-MED"),  # los 2
    _stay("H2", "S1", dt(2024, 3, 3), H2_OUT, drg_code="AA11", grouper_version="V1"),  # los 17
]


def _diag(inst: str, stay: str, out: dt, seq: int, code: str, poa: str | None,
          kind: str = "discharge") -> dict:
    return {"institution_id": inst, "stay_id": stay, "diagnosis_kind": kind, "seq": seq,
            "diagnosis_code": code, "present_on_admission": poa, "discharge_time": out}


DIAGNOSES = [
    _diag("H1", "S1", S1_OUT, 1, "K80.100", "1"),        # principal: gallstones
    _diag("H1", "S1", S1_OUT, 2, "T81.400", "4"),        # complication, not present on admission
    _diag("H1", "S1", S1_OUT, 3, "I10.x00", "1"),
    _diag("H1", "S1", S1_OUT, 1, "K81.000", None, kind="outpatient"),  # not the principal
    _diag("H1", "S2", S2_OUT, 1, "J18.000", "1"),
    _diag("H1", "S2", S2_OUT, 2, "T81.400", "1"),        # complication present on admission
    _diag("H1", "S3", S3_OUT, 1, "T81.400", "4"),        # April: not this month
    _diag("H2", "S1", H2_OUT, 1, "T81.400", "4"),        # H2's own stay: its own flag
]


def _proc(inst: str, stay: str, out: dt, seq: int, code: str, **kw: object) -> dict:
    row = {"institution_id": inst, "stay_id": stay, "seq": seq, "procedure_code": code,
           "procedure_time": out, "discharge_time": out, "is_day_surgery": False,
           "is_unplanned_reoperation": False}
    row.update(kw)
    return row


PROCEDURES = [
    _proc("H1", "S1", S1_OUT, 1, "51.2300", operation_level="4", incision_class="1",
          healing_grade="3", surgery_type="1"),           # surgery, level 4, MI, class I, 丙
    _proc("H1", "S1", S1_OUT, 2, "87.4400"),              # diagnostic procedure
    _proc("H1", "S2", S2_OUT, 1, "36.0700", operation_level="4", incision_class="1",
          healing_grade="1", surgery_type="2", is_unplanned_reoperation=True),  # interventional
    _proc("H1", "S3", S3_OUT, 1, "51.2300", incision_class="1", healing_grade="3"),  # April
]

PROCEDURE_CATALOG = [
    {"code": "51.2300", "category": "1", "is_minimally_invasive": True,
     "is_level4_national": True},
    {"code": "87.4400", "category": "2", "is_minimally_invasive": False,
     "is_level4_national": False},
    # an interventional code *not* on the national level-4 list, though recorded as level 4
    {"code": "36.0700", "category": "4", "is_minimally_invasive": True,
     "is_level4_national": False},
]


def _order(inst: str, order: str, stay: str | None, when: dt, drug: str, dose: float | None,
           unit: str | None = "mg", setting: str = "inpatient", visit: str | None = None,
           reviewed: bool = False) -> dict:
    return {"institution_id": inst, "order_id": order, "stay_id": stay, "visit_id": visit,
            "setting": setting, "order_time": when, "drug_code": drug, "drug_code_local": drug,
            "dispensed_dose": dose, "dose_unit": unit, "is_reviewed": reviewed}


ORDERS = [
    # H1/S1: 3000 mg of a 2 g DDD drug = 1.5 DDD, ordered in February (previous month)
    _order("H1", "O1", "S1", dt(2024, 2, 26, 9), "AB-MG", 3000.0),
    # 1000 mg = 0.5 DDD in March; then 500 mg returned = -0.25 DDD
    _order("H1", "O2", "S1", dt(2024, 3, 2, 9), "AB-MG", 1000.0, reviewed=True),  # 点评
    _order("H1", "O3", "S1", dt(2024, 3, 3, 9), "AB-MG", -500.0),
    _order("H1", "O4", "S1", dt(2024, 3, 2, 9), "NOT-AB", 99999.0),   # not AB; essential
    # H2/S1: same stay_id, other institution: 10 000 mg = 5 DDD that must stay with H2/S1
    _order("H2", "O1", "S1", dt(2024, 3, 4, 9), "AB-MG", 10000.0),
    # H1/S3 (discharged in April): never in March's facts
    _order("H1", "O5", "S3", dt(2024, 3, 21, 9), "AB-MG", 2000.0),
    # H1/S4: an essential drug, reviewed, but in the outpatient setting: not an inpatient order
    _order("H1", "O6", "S4", dt(2024, 2, 28, 9), "NOT-AB", 100.0, setting="outpatient",
           reviewed=True),
]

DRUG_CATALOG = [
    {"code": "AB-MG", "is_antibacterial": True, "strength_unit": "mg", "ddd_value": 2.0,
     "ddd_unit": "g", "is_essential": False},
    {"code": "NOT-AB", "is_antibacterial": False, "strength_unit": "mg", "ddd_value": 1.0,
     "ddd_unit": "g", "is_essential": True},
    {"code": "KM-DRUG", "is_antibacterial": False, "is_key_monitored": True},
]

CONSUMABLE_CATALOG = [
    {"code": "KM-STENT", "is_high_value": True, "is_key_monitored": True},
    {"code": "X", "is_high_value": False, "is_key_monitored": False},
]


_CATEGORY = {"drug": "drug_western", "material": "material", "service": "treatment"}


def _charge(inst: str, charge: str, stay: str, when: dt, item_type: str, amount: float,
            code: str = "X", category: str | None = None) -> dict:
    return {"institution_id": inst, "charge_id": charge, "stay_id": stay, "setting": "inpatient",
            "charge_time": when, "item_type": item_type, "item_code": code,
            "item_code_local": code, "amount": amount,
            "revenue_category": category or _CATEGORY[item_type]}


CHARGES = [
    _charge("H1", "C1", "S1", dt(2024, 2, 27), "drug", 120.50),     # February, included
    _charge("H1", "C2", "S1", dt(2024, 3, 1), "drug", -20.50),      # refund: subtracts
    _charge("H1", "C3", "S1", dt(2024, 3, 2), "material", 30.00, code="KM-STENT"),  # key-monitored
    _charge("H1", "C4", "S1", dt(2024, 3, 2), "service", 500.00),   # neither drug nor material
    _charge("H1", "C6", "S1", dt(2024, 3, 3), "service", 80.00, category="examination"),
    _charge("H1", "C7", "S1", dt(2024, 3, 3), "service", 40.00, category="laboratory"),
    _charge("H1", "C8", "S1", dt(2024, 3, 3), "service", 25.00, category="bed"),
    _charge("H1", "C5", "S1", dt(2024, 4, 2), "drug", 7.00),        # after the month: not read
    _charge("H2", "C1", "S1", dt(2024, 3, 4), "drug", 999.00, code="AB-MG"),  # H2's, not H1's
    _charge("H2", "C2", "S1", dt(2024, 3, 4), "drug", 1.00, code="KM-DRUG"),   # key-monitored
    # a material line whose code is a key-monitored *drug* code: not a key-monitored consumable
    _charge("H2", "C3", "S1", dt(2024, 3, 4), "material", 2.00, code="KM-DRUG"),
]

DRG_GROUPS = [
    {"grouper_version": "V1", "drg_code": "AA11", "relative_weight": 1.5},
    {"grouper_version": "V1", "drg_code": "BB11", "relative_weight": 0.8},
]


def build_inputs() -> dict[str, ir.Table]:
    """The cleaned tables of the hand-made month, by name."""
    return {
        "inpatient_stay": cleaned_memtable("inpatient_stay", STAYS),
        "stay_diagnosis": cleaned_memtable("stay_diagnosis", DIAGNOSES),
        "stay_procedure": cleaned_memtable("stay_procedure", PROCEDURES),
        "procedure_catalog": cleaned_memtable("procedure_catalog", PROCEDURE_CATALOG),
        "medication_order": cleaned_memtable("medication_order", ORDERS),
        "drug_catalog": cleaned_memtable("drug_catalog", DRUG_CATALOG),
        "consumable_catalog": cleaned_memtable("consumable_catalog", CONSUMABLE_CATALOG),
        "charge_line": cleaned_memtable("charge_line", CHARGES),
        "drg_group": cleaned_memtable("drg_group", DRG_GROUPS),
    }


@pytest.fixture
def inputs() -> dict[str, ir.Table]:
    return build_inputs()
