"""department_month from the hand-made March of conftest.py plus hand-made visits.

By hand, from conftest.py (stays of March at their discharging department):

* H1-SURG: H1/S1 (los 9, surgery level 4 + MI, class I infected, 5000 yuan, drug 100.00,
  material 30.00, 1.75 DDD) and H1/S2 (los 21, died, interventional MI surgery, class I clean,
  8000 yuan): 2 discharges, 1 death, 2 surgical, 1 level-4, 2 MI, 2 class I, 1 infection,
  30 bed-days, 13000.00 / 100.00 / 30.00 yuan, 1.75 DDD.
* H1-MED: H1/S4 (los 2, 1000 yuan).
* H2-SURG: H2/S1 (los 17, 1000 yuan, drug 999.00, 5.0 DDD).
* H1-ENT, H1-EYE: visits only (below).
"""

from __future__ import annotations

from datetime import datetime as dt
from decimal import Decimal

import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated import build_department_month, build_stay_fact, build_visit_fact
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.aggregated.summaries import COLUMNS
from hospital_sdk.errors import ContractError
from tests.aggregated.conftest import MONTH


def _visit(visit: str, dept: str, vtype: str, wait: float | None, **kw: object) -> dict:
    t = dt(2024, 3, 12, 9)
    row = {"institution_id": "H1", "visit_id": visit, "campus_id": "H1-C1", "dept_id": dept,
           "visit_type": vtype, "visit_time": t, "is_appointment": False, "is_cancelled": False,
           "checkin_time": t, "call_time": None if wait is None else t.replace(minute=wait)}
    row.update(kw)
    return row


VISITS = [
    _visit("V1", "H1-SURG", "outpatient", 10, is_appointment=True),   # wait 10 min
    _visit("V2", "H1-ENT", "outpatient", 20),                         # wait 20 min
    _visit("V3", "H1-ENT", "emergency", 5),                           # wait 5 min
    _visit("V4", "H1-ENT", "health_check", None),                     # no wait recorded
    _visit("V5", "H1-ENT", "outpatient", 50, is_appointment=True, is_cancelled=True),  # ignored
    _visit("V6", "H1-EYE", "outpatient", None),                       # only a visit, no wait
]


def _facts(inputs: dict[str, ir.Table]) -> tuple[ir.Table, ir.Table]:
    # April's stay_fact (H1/S3, H1-SURG) is stacked in: department_month of March ignores it
    stays = build_stay_fact(inputs, MONTH).union(build_stay_fact(inputs, "2024-04"))
    tables = {"outpatient_visit": cleaned_memtable("outpatient_visit", VISITS),
              "medication_order": cleaned_memtable("medication_order"),
              "drug_catalog": cleaned_memtable("drug_catalog"),
              "consumable_catalog": cleaned_memtable("consumable_catalog"),
              "charge_line": cleaned_memtable("charge_line")}
    return stays, build_visit_fact(tables, MONTH)


def _rows(inputs: dict[str, ir.Table]) -> dict[str, dict]:
    out = build_department_month(*_facts(inputs), MONTH)
    assert out.columns == COLUMNS
    return {r["dept_id"]: r for r in out.to_pyarrow().to_pylist()}


def test_departments_from_either_side(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(inputs)
    assert sorted(rows) == ["H1-ENT", "H1-EYE", "H1-MED", "H1-SURG", "H2-SURG"]
    assert {r["month"].isoformat() for r in rows.values()} == {"2024-03-01"}
    # discharges add up to the 4 stays of March (H1/S3 of April is not counted)
    assert sum(r["discharges"] for r in rows.values()) == 4


def test_department_with_only_visits(inputs: dict[str, ir.Table]) -> None:
    ent = _rows(inputs)["H1-ENT"]
    assert (ent["discharges"], ent["bed_days"], ent["total_cost"]) == (0, 0, Decimal("0.00"))
    # V2 outpatient, V3 emergency, V4 health check; V5 cancelled is not a visit
    assert (ent["outpatient_visits"], ent["emergency_visits"], ent["health_check_visits"],
            ent["appointment_visits"]) == (1, 1, 1, 0)
    # waits of V2 and V3: 20 + 5 minutes over 2 visits (V4 has none, V5 is cancelled)
    assert (ent["wait_minutes_sum"], ent["visits_with_wait"]) == (25.0, 2)
    # H1-EYE: one visit without a recorded wait -> 0 minutes over 0 visits, not null
    eye = _rows(inputs)["H1-EYE"]
    assert (eye["outpatient_visits"], eye["wait_minutes_sum"], eye["visits_with_wait"]) == (
        1, 0.0, 0)


def test_department_with_stays_and_visits(inputs: dict[str, ir.Table]) -> None:
    surg = _rows(inputs)["H1-SURG"]
    assert (surg["discharges"], surg["deaths"], surg["surgical_stays"], surg["level4_stays"],
            surg["minimally_invasive_stays"], surg["day_surgery_stays"],
            surg["class1_incision_stays"], surg["class1_incision_infections"]) == (
        2, 1, 2, 1, 2, 0, 2, 1)
    assert surg["bed_days"] == 30
    assert (surg["total_cost"], surg["drug_cost"], surg["consumable_cost"]) == (
        Decimal("13000.00"), Decimal("100.00"), Decimal("30.00"))
    assert surg["antibiotic_ddds"] == pytest.approx(1.75)
    assert (surg["outpatient_visits"], surg["appointment_visits"], surg["wait_minutes_sum"],
            surg["visits_with_wait"]) == (1, 1, 10.0, 1)


def test_department_with_only_stays(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(inputs)
    assert (rows["H1-MED"]["discharges"], rows["H1-MED"]["bed_days"],
            rows["H1-MED"]["outpatient_visits"], rows["H1-MED"]["wait_minutes_sum"]) == (
        1, 2, 0, 0.0)
    h2 = rows["H2-SURG"]
    assert (h2["institution_id"], h2["campus_id"], h2["bed_days"], h2["drug_cost"]) == (
        "H2", "H2-C1", 17, Decimal("1000.00"))  # 999.00 + the key-monitored drug's 1.00
    assert h2["antibiotic_ddds"] == pytest.approx(5.0)


def test_fact_without_a_needed_column(inputs: dict[str, ir.Table]) -> None:
    stays, visits = _facts(inputs)
    with pytest.raises(ContractError, match=r"table 'stay_fact' lacks column\(s\) 'is_death'"):
        build_department_month(stays.drop("is_death"), visits, MONTH)
