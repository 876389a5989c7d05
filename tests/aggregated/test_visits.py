"""visit_fact on hand-made visits of March 2024 (a leap year: February has 29 days)."""

from __future__ import annotations

from datetime import datetime as dt

import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated import build_visit_fact
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.aggregated.visits import COLUMNS
from hospital_sdk.errors import ContractError


def _visit(inst: str, visit: str, when: dt, vtype: str = "outpatient", **kw: object) -> dict:
    row = {"institution_id": inst, "visit_id": visit, "campus_id": f"{inst}-C1",
           "dept_id": "D1", "visit_type": vtype, "visit_time": when, "is_appointment": False,
           "is_cancelled": False, "total_fee": 100.0, "drug_fee": 40.0}
    row.update(kw)
    return row


VISITS = [
    # first instant of March; booked 28 Feb 20:00 -> lead 2 calendar days (29 Feb exists);
    # checked in 08:05, called 08:35:30 (wait 30.5 min), done 08:45:30 (consult 10 min)
    _visit("H1", "V1", dt(2024, 3, 1), is_appointment=True, booked_at=dt(2024, 2, 28, 20),
           checkin_time=dt(2024, 3, 1, 8, 5), call_time=dt(2024, 3, 1, 8, 35, 30),
           end_time=dt(2024, 3, 1, 8, 45, 30)),
    _visit("H1", "V2", dt(2024, 3, 31, 23, 50), "emergency"),   # prescribed after midnight
    _visit("H1", "V3", dt(2024, 4, 1), is_appointment=True),    # April: excluded
    _visit("H1", "V4", dt(2024, 3, 15, 9), is_cancelled=True),  # cancelled: kept, flagged
    _visit("H2", "V1", dt(2024, 3, 2, 9)),                      # same visit_id, other hospital
]


def _order(inst: str, order: str, visit: str, when: dt, drug: str,
           setting: str = "outpatient", reviewed: bool = False) -> dict:
    return {"institution_id": inst, "order_id": order, "visit_id": visit, "setting": setting,
            "order_time": when, "drug_code": drug, "drug_code_local": drug,
            "is_reviewed": reviewed}


ORDERS = [
    _order("H1", "O1", "V1", dt(2024, 3, 1, 8, 40), "AB"),      # antibacterial
    _order("H1", "O2", "V1", dt(2024, 3, 1, 8, 40), "AB"),      # same drug again: 1 distinct
    _order("H1", "O3", "V1", dt(2024, 3, 1, 8, 41), "PLAIN"),
    _order("H1", "O4", "V1", dt(2024, 3, 1, 9), "OTHER", setting="inpatient",  # not outpatient
           reviewed=True),
    _order("H1", "O5", "V2", dt(2024, 4, 1, 0, 10), "AB", setting="emergency",  # grace day
           reviewed=True),
    _order("H2", "O1", "V1", dt(2024, 3, 2, 9, 30), "PLAIN"),   # H2's visit only
]


def _charge(inst: str, charge: str, visit: str, when: dt, item_type: str, code: str,
            category: str, amount: float, setting: str = "outpatient") -> dict:
    return {"institution_id": inst, "charge_id": charge, "visit_id": visit, "setting": setting,
            "charge_time": when, "item_type": item_type, "item_code": code,
            "item_code_local": code, "revenue_category": category, "amount": amount}


CHARGES = [
    _charge("H1", "C1", "V1", dt(2024, 3, 1, 8, 50), "drug", "PLAIN", "drug_western", 50.0),
    _charge("H1", "C2", "V1", dt(2024, 3, 1, 8, 50), "drug", "KMD", "drug_western", 20.0),
    _charge("H1", "C3", "V1", dt(2024, 3, 1, 8, 50), "material", "KMC", "material", 30.0),
    _charge("H1", "C4", "V1", dt(2024, 3, 1, 8, 50), "service", "S", "consultation", 15.0),
    _charge("H1", "C5", "V1", dt(2024, 3, 1, 8, 50), "service", "S", "examination", 100.0),
    _charge("H1", "C6", "V1", dt(2024, 3, 1, 8, 50), "service", "S", "laboratory", 40.0),
    _charge("H1", "C7", "V1", dt(2024, 3, 1, 9), "drug", "KMD", "drug_western", 999.0,
            setting="inpatient"),                                   # not an outpatient line
    _charge("H1", "C8", "V2", dt(2024, 4, 1, 0, 5), "service", "S", "registration", 5.0),
    _charge("H2", "C1", "V1", dt(2024, 3, 2, 9, 30), "drug", "PLAIN", "drug_western", 10.0),
]


def _tables() -> dict[str, ir.Table]:
    return {
        "outpatient_visit": cleaned_memtable("outpatient_visit", VISITS),
        "medication_order": cleaned_memtable("medication_order", ORDERS),
        "drug_catalog": cleaned_memtable("drug_catalog", [
            {"code": "AB", "is_antibacterial": True, "is_essential": False},
            {"code": "PLAIN", "is_antibacterial": False, "is_essential": True},
            {"code": "OTHER", "is_antibacterial": True, "is_essential": True},
            {"code": "KMD", "is_antibacterial": False, "is_key_monitored": True}]),
        "consumable_catalog": cleaned_memtable("consumable_catalog", [
            {"code": "KMC", "is_key_monitored": True}]),
        "charge_line": cleaned_memtable("charge_line", CHARGES),
    }


def _rows() -> dict[tuple[str, str], dict]:
    fact = build_visit_fact(_tables(), "2024-03")
    assert fact.columns == COLUMNS
    return {(r["institution_id"], r["visit_id"]): r for r in fact.to_pyarrow().to_pylist()}


def test_one_row_per_visit_of_the_month() -> None:
    assert sorted(_rows()) == [("H1", "V1"), ("H1", "V2"), ("H1", "V4"), ("H2", "V1")]


def test_durations_and_lead_time() -> None:
    v1, v2 = _rows()["H1", "V1"], _rows()["H1", "V2"]
    assert v1["wait_minutes"] == pytest.approx(30.5)
    assert v1["consult_minutes"] == pytest.approx(10.0)
    assert v1["booking_lead_days"] == 2
    assert (v2["wait_minutes"], v2["consult_minutes"], v2["booking_lead_days"]) == (
        None, None, None)


def test_prescription_flags() -> None:
    rows = _rows()
    # V1: AB twice + PLAIN -> 2 distinct drugs, one antibacterial; the inpatient order of
    # OTHER (antibacterial) is not an outpatient prescription
    assert (rows["H1", "V1"]["has_antibiotic_prescription"], rows["H1", "V1"]["n_prescribed_drugs"]
            ) == (True, 2)
    # V2 registered 23:50 on 31 March, prescribed 00:10 on 1 April: still its prescription
    assert (rows["H1", "V2"]["has_antibiotic_prescription"], rows["H1", "V2"]["n_prescribed_drugs"]
            ) == (True, 1)
    # H2/V1 got PLAIN only; H1/V1's AB is not H2's
    assert (rows["H2", "V1"]["has_antibiotic_prescription"], rows["H2", "V1"]["n_prescribed_drugs"]
            ) == (False, 1)
    assert (rows["H1", "V4"]["is_cancelled"], rows["H1", "V4"]["n_prescribed_drugs"]) == (True, 0)


def test_essential_and_reviewed_flags() -> None:
    rows = _rows()

    def flags(inst: str, visit: str) -> tuple[bool, bool]:
        r = rows[inst, visit]
        return r["has_essential_drug_prescription"], r["has_reviewed_prescription"]

    # V1: PLAIN is essential; its only reviewed order (O4, OTHER) is an inpatient one -> not
    # reviewed, and OTHER's essential flag does not count either
    assert flags("H1", "V1") == (True, False)
    # V2: AB (not essential), reviewed, prescribed on the grace day
    assert flags("H1", "V2") == (False, True)
    # H2/V1: PLAIN, not reviewed; V4 (cancelled) has no order at all
    assert flags("H2", "V1") == (True, False)
    assert flags("H1", "V4") == (False, False)


def test_charge_sums() -> None:
    rows = _rows()

    def sums(inst: str, visit: str) -> tuple[float, ...]:
        r = rows[inst, visit]
        return tuple(float(r[c]) for c in (
            "charge_revenue", "drug_cost", "consumable_cost", "medical_service_revenue",
            "key_monitored_drug_cost", "key_monitored_consumable_cost"))

    # V1: drugs 50 + 20 (KMD key-monitored), material 30 (KMC key-monitored), consultation 15,
    # examination 100, laboratory 40 -> 255; medical service = consultation only; the
    # inpatient-setting line (999) is not the visit's
    assert sums("H1", "V1") == (255.0, 70.0, 30.0, 15.0, 20.0, 30.0)
    # V2: registration charged 00:05 on 1 April, within the grace day
    assert sums("H1", "V2") == (5.0, 0.0, 0.0, 5.0, 0.0, 0.0)
    assert sums("H2", "V1") == (10.0, 10.0, 0.0, 0.0, 0.0, 0.0)
    assert sums("H1", "V4") == (0.0,) * 6


def test_missing_column_is_named() -> None:
    tables = _tables()
    tables["outpatient_visit"] = tables["outpatient_visit"].drop("checkin_time")
    with pytest.raises(ContractError, match=r"visit_fact: table 'outpatient_visit' lacks "
                                            r"column\(s\) 'checkin_time'"):
        build_visit_fact(tables, "2024-03")


def test_adjuvant_drug_cost() -> None:
    # V1 gets an adjuvant drug line of 12.00 and a 4.00 refund of it, plus a material line
    # coded ADJ (a drug code on a material line: not a drug) of 3.00; H2/V1 has none
    tables = _tables()
    tables["drug_catalog"] = tables["drug_catalog"].union(cleaned_memtable(
        "drug_catalog", [{"code": "ADJ", "is_antibacterial": False, "is_adjuvant": True}]))
    extra = [_charge("H1", "A1", "V1", dt(2024, 3, 1, 9), "drug", "ADJ", "drug_western", 12.0),
             _charge("H1", "A2", "V1", dt(2024, 3, 1, 9), "drug", "ADJ", "drug_western", -4.0),
             _charge("H1", "A3", "V1", dt(2024, 3, 1, 9), "material", "ADJ", "material", 3.0)]
    tables["charge_line"] = cleaned_memtable("charge_line", CHARGES + extra)
    rows = {(r["institution_id"], r["visit_id"]): r
            for r in build_visit_fact(tables, "2024-03").to_pyarrow().to_pylist()}
    # 12.00 - 4.00 = 8.00; KMD (key-monitored, not adjuvant) and the material line are not in it
    assert float(rows["H1", "V1"]["adjuvant_drug_cost"]) == 8.0
    assert float(rows["H2", "V1"]["adjuvant_drug_cost"]) == 0.0
    assert float(rows["H1", "V1"]["key_monitored_drug_cost"]) == 20.0  # unchanged
