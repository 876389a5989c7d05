"""stay_fact on the hand-made March of conftest.py: grain, flags, DDDs, costs, month bounds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import ibis
import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated import build_stay_fact
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.aggregated.stays import COLUMNS
from hospital_sdk.errors import ContractError
from tests.aggregated.conftest import MONTH


def _rows(fact: ir.Table) -> dict[tuple[str, str], dict]:
    rows = fact.to_pyarrow().to_pylist()
    return {(r["institution_id"], r["stay_id"]): r for r in rows}


def test_one_row_per_stay_of_the_month(inputs: dict[str, ir.Table]) -> None:
    fact = build_stay_fact(inputs, MONTH)
    assert fact.columns == COLUMNS
    rows = _rows(fact)
    # H1/S3 left at 2024-04-01 00:00:00 (April); H1/S4 at 2024-03-01 00:00:00 (March)
    assert sorted(rows) == [("H1", "S1"), ("H1", "S2"), ("H1", "S4"), ("H2", "S1")]
    # H1/S1 has 3 discharge diagnoses, 1 outpatient diagnosis, 2 procedures, 4 orders and
    # 5 charges: still one row, and the sum of total_cost is the stays' own sum, not inflated:
    # 5000 (H1/S1) + 8000 (H1/S2) + 1000 (H1/S4) + 1000 (H2/S1) = 15000
    assert int(fact.count().execute()) == 4
    assert fact.total_cost.sum().execute() == Decimal("15000.00")


def test_principal_diagnosis_and_complication_flag(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(build_stay_fact(inputs, MONTH))
    s1, s2, s4 = rows["H1", "S1"], rows["H1", "S2"], rows["H1", "S4"]
    # discharge seq 1 is K80.100; the outpatient-kind seq 1 (K81.000) is not the principal
    assert (s1["principal_diagnosis_code"], s1["principal_diagnosis_category"]) == (
        "K80.100", "K80")
    # T81.400 is on the list (prefix T81.4): POA '4' (无) counts, POA '1' (有) does not
    assert s1["has_complication_not_poa"] is True
    assert s2["has_complication_not_poa"] is False
    assert s4["has_complication_not_poa"] is False and s4["principal_diagnosis_code"] is None
    # H2/S1 has its own not-POA T81.400 — flagged on H2's row only
    assert rows["H2", "S1"]["has_complication_not_poa"] is True


def test_procedure_flags(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(build_stay_fact(inputs, MONTH))
    s1, s2, s4 = rows["H1", "S1"], rows["H1", "S2"], rows["H1", "S4"]
    # S1: 51.2300 (category 1, national level 4, MI, class I, 丙) + 87.4400 (diagnostic)
    assert s1["n_operations"] == 1  # the diagnostic procedure is not an operation
    assert (s1["has_surgery"], s1["has_elective_surgery"], s1["has_level4_surgery"],
            s1["has_minimally_invasive_surgery"]) == (True, True, True, True)
    assert (s1["has_class1_incision"], s1["has_class1_incision_infection"]) == (True, True)
    # S2: interventional (category 4) counts as surgery; recorded level 4 but not on the
    # national list -> no level-4 surgery; class I healed 甲 -> no infection; emergency type
    assert (s2["has_surgery"], s2["n_operations"], s2["has_level4_surgery"]) == (True, 1, False)
    assert (s2["has_class1_incision"], s2["has_class1_incision_infection"]) == (True, False)
    assert (s2["has_elective_surgery"], s2["has_unplanned_reoperation"]) == (False, True)
    # the seq-1 procedure is the principal one, whatever its kind
    assert (s1["principal_procedure_code"], s2["principal_procedure_code"]) == (
        "51.2300", "36.0700")
    assert s4["principal_procedure_code"] is None
    # S4: no procedure at all -> every flag false, zero operations (not null)
    assert (s4["has_surgery"], s4["n_operations"], s4["has_day_surgery"]) == (False, 0, False)


def test_antibiotic_ddds_with_unit_conversion_and_stay_scope(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(build_stay_fact(inputs, MONTH))
    # AB-MG: dose in mg (strength unit), DDD 2 g = 2000 mg.
    # H1/S1: 3000 mg (26 Feb, previous month: included) = 1.5, + 1000 mg = 0.5,
    # - 500 mg returned = -0.25 -> 1.75; the non-antibacterial order adds nothing;
    # H2/S1's 10 000 mg (same stay_id, other institution) is not H1/S1's.
    assert rows["H1", "S1"]["antibiotic_ddds"] == pytest.approx(1.75)
    assert rows["H1", "S1"]["used_antibiotic"] is True
    # H2/S1: 10 000 mg / 2000 mg = 5.0
    assert rows["H2", "S1"]["antibiotic_ddds"] == pytest.approx(5.0)
    # S2 has no orders: 0, not null
    assert (rows["H1", "S2"]["antibiotic_ddds"], rows["H1", "S2"]["used_antibiotic"]) == (
        0.0, False)


def test_drug_use_essential_and_review_flags(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(build_stay_fact(inputs, MONTH))

    def flags(inst: str, stay: str) -> tuple[bool, bool, bool]:
        r = rows[inst, stay]
        return r["used_any_drug"], r["used_essential_drug"], r["has_reviewed_order"]

    # H1/S1: AB-MG (not essential; O2 reviewed) and NOT-AB (essential)
    assert flags("H1", "S1") == (True, True, True)
    # H2/S1: AB-MG only, none reviewed; H1/S1's flags are not H2's
    assert flags("H2", "S1") == (True, False, False)
    # S2: no order; S4: only an outpatient-setting order (essential, reviewed) -> all false
    assert flags("H1", "S2") == (False, False, False)
    assert flags("H1", "S4") == (False, False, False)


def test_drug_and_consumable_cost(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(build_stay_fact(inputs, MONTH))
    # H1/S1 drug: 120.50 (February) - 20.50 refund = 100.00; the 7.00 charged on 2 April is
    # after the month's end and not read; H2's 999.00 + 1.00 belong to H2/S1
    assert rows["H1", "S1"]["drug_cost"] == Decimal("100.00")
    assert rows["H1", "S1"]["consumable_cost"] == Decimal("30.00")
    assert rows["H2", "S1"]["drug_cost"] == Decimal("1000.00")
    assert rows["H1", "S4"]["drug_cost"] == Decimal("0.00")


def test_revenue_structure_sums(inputs: dict[str, ir.Table]) -> None:
    rows = _rows(build_stay_fact(inputs, MONTH))

    def sums(inst: str, stay: str) -> tuple[Decimal, ...]:
        r = rows[inst, stay]
        return (r["charge_revenue"], r["medical_service_revenue"], r["key_monitored_drug_cost"],
                r["key_monitored_consumable_cost"])

    # H1/S1 lines of the window: drug 120.50 - 20.50, material 30 (KM-STENT, key-monitored),
    # treatment 500, examination 80, laboratory 40, bed 25 -> 775.00 in all; medical service
    # = treatment + bed = 525.00 (drugs, material, exam and lab out); no key-monitored drug
    assert sums("H1", "S1") == (Decimal("775.00"), Decimal("525.00"), Decimal("0.00"),
                                Decimal("30.00"))
    # H2/S1: drug 999 + KM-DRUG 1 (key-monitored), and a material line coded KM-DRUG (a drug
    # code: not a key-monitored consumable) 2 -> 1002.00, no medical service
    assert sums("H2", "S1") == (Decimal("1002.00"), Decimal("0.00"), Decimal("1.00"),
                                Decimal("0.00"))
    assert rows["H2", "S1"]["consumable_cost"] == Decimal("2.00")
    # S4: no charge line -> zeros, not nulls
    assert sums("H1", "S4") == (Decimal("0.00"),) * 4


def test_death_weight_and_low_risk(inputs: dict[str, ir.Table]) -> None:
    risk = ibis.memtable({"grouper_version": ["V1", "V1"], "drg_code": ["AA11", "BB11"],
                          "is_low_risk": [True, False], "mortality": [0.001, 0.25],
                          "mean_cost": [2000.0, 9000.5], "mean_los": [5.0, 12.5]})
    rows = _rows(build_stay_fact(inputs, MONTH, drg_risk=risk))
    assert rows["H1", "S2"]["is_death"] is True and rows["H1", "S1"]["is_death"] is False
    assert rows["H1", "S1"]["relative_weight"] == 1.5
    assert rows["H1", "S1"]["is_low_risk_drg"] is True      # AA11 is low-risk
    assert rows["H1", "S2"]["is_low_risk_drg"] is False     # BB11 is not
    assert rows["H1", "S4"]["is_low_risk_drg"] is False     # no DRG: false, not null
    assert rows["H1", "S4"]["relative_weight"] is None
    # expected mortality is the group's: AA11 0.001, BB11 0.25, no DRG null
    assert rows["H1", "S1"]["drg_mortality"] == 0.001
    assert rows["H1", "S2"]["drg_mortality"] == 0.25
    assert rows["H1", "S4"]["drg_mortality"] is None
    # expected cost and LOS are the group's means too: AA11 2000 / 5, BB11 9000.5 / 12.5
    assert (rows["H1", "S1"]["drg_expected_cost"], rows["H1", "S1"]["drg_expected_los"]) == (
        2000.0, 5.0)
    assert (rows["H1", "S2"]["drg_expected_cost"], rows["H1", "S2"]["drg_expected_los"]) == (
        9000.5, 12.5)
    assert (rows["H1", "S4"]["drg_expected_cost"], rows["H1", "S4"]["drg_expected_los"]) == (
        None, None)
    # without a risk table, nothing is low-risk
    assert not any(r["is_low_risk_drg"] for r in _rows(build_stay_fact(inputs, MONTH)).values())


def test_repeated_risk_rows_do_not_duplicate_stays(inputs: dict[str, ir.Table]) -> None:
    risk = ibis.memtable({"grouper_version": ["V1", "V1"], "drg_code": ["AA11", "AA11"],
                          "is_low_risk": [True, True], "mortality": [0.01, 0.01],
                          "mean_cost": [100.0, 100.0], "mean_los": [2.0, 2.0]})
    assert int(build_stay_fact(inputs, MONTH, drg_risk=risk).count().execute()) == 4


def test_missing_column_names_table_and_column(inputs: dict[str, ir.Table]) -> None:
    inputs["medication_order"] = inputs["medication_order"].drop("dispensed_dose")
    with pytest.raises(ContractError, match=r"stay_fact: table 'medication_order' lacks "
                                            r"column\(s\) 'dispensed_dose'"):
        build_stay_fact(inputs, MONTH)


def test_missing_table_is_named(inputs: dict[str, ir.Table]) -> None:
    del inputs["charge_line"]
    with pytest.raises(ContractError, match="stay_fact: needs table 'charge_line'"):
        build_stay_fact(inputs, MONTH)


def test_risk_table_without_its_flag_is_refused(inputs: dict[str, ir.Table]) -> None:
    risk = ibis.memtable({"grouper_version": ["V1"], "drg_code": ["AA11"], "low_risk": [True]})
    with pytest.raises(ContractError, match=r"table 'drg_risk' lacks column\(s\) 'is_low_risk' "
                                            r"\(did you mean 'low_risk'\?\), 'mortality'"):
        build_stay_fact(inputs, MONTH, drg_risk=risk)


def test_adjuvant_drug_cost(inputs: dict[str, ir.Table]) -> None:
    # H1/S1 gets an adjuvant drug line of 60.00 and a 15.00 refund of it; a material line coded
    # ADJ (not a drug line) of 9.00 does not count; H2/S1's KM-DRUG is key-monitored, not adjuvant
    inputs["drug_catalog"] = inputs["drug_catalog"].union(cleaned_memtable(
        "drug_catalog", [{"code": "ADJ", "is_antibacterial": False, "is_adjuvant": True}]))
    extra = cleaned_memtable("charge_line", [
        {"institution_id": "H1", "stay_id": "S1", "setting": "inpatient", "item_type": t,
         "item_code": "ADJ", "amount": a, "charge_time": datetime(2024, 3, 2),
         "revenue_category": c}
        for t, a, c in (("drug", 60.0, "drug_western"), ("drug", -15.0, "drug_western"),
                        ("material", 9.0, "material"))])
    inputs["charge_line"] = inputs["charge_line"].union(extra)
    rows = _rows(build_stay_fact(inputs, MONTH))
    assert rows["H1", "S1"]["adjuvant_drug_cost"] == Decimal("45.00")  # 60 - 15
    assert rows["H2", "S1"]["adjuvant_drug_cost"] == Decimal("0.00")
    assert rows["H1", "S4"]["adjuvant_drug_cost"] == Decimal("0.00")   # no charge line at all
    assert rows["H2", "S1"]["key_monitored_drug_cost"] == Decimal("1.00")
