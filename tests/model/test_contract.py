"""The contract's building blocks refuse inconsistent definitions, and the contract holds what
the national indicators read (reference catalog §1.5)."""

from __future__ import annotations

import pytest

from hospital_sdk.errors import ContractError
from hospital_sdk.model import CONTRACT, Column, Contract, RowRule, Table, code_set


def _table(**overrides):
    base = dict(
        name="t", domain="master", zh="表", en="Table", grain_zh="行", grain_en="row",
        primary_key=("id",), columns=(Column("id", "string", "编号", "Id", nullable=False),),
    )
    base.update(overrides)
    return Table(**base)


def test_key_column_must_exist_and_be_required():
    with pytest.raises(ContractError, match="has no column 'idd'.*did you mean 'id'"):
        _table(primary_key=("idd",))
    with pytest.raises(ContractError, match="key column 'id' must be non-null"):
        _table(columns=(Column("id", "string", "编号", "Id"),))


def test_types_names_and_rules_are_checked():
    with pytest.raises(ContractError, match="not a contract type"):
        Column("x", "varchar", "x", "x")
    with pytest.raises(ContractError, match="snake_case"):
        Column("Bad Name", "string", "x", "x")
    with pytest.raises(ContractError, match="has no column 'b'"):
        _table(rules=(RowRule("r", "规则", "rule", "id", ">=", "b"),))


def test_contract_cross_checks_code_sets_and_references():
    table = _table(columns=(Column("id", "string", "编号", "Id", nullable=False, codes="sexx"),))
    sex = code_set("sex", "性别", "Sex", [("1", "男", "male")])
    with pytest.raises(ContractError, match="unknown code set 'sexx'.*did you mean 'sex'"):
        Contract("0", (table,), (sex,))
    dangling = _table(columns=(Column("id", "string", "编号", "Id", nullable=False,
                                      references="nowhere.id"),))
    with pytest.raises(ContractError, match="references unknown table 'nowhere'"):
        Contract("0", (dangling,), (sex,))


def test_direct_identifiers_are_stored_as_tokens_only():
    stored = CONTRACT.table("patient").stored_schema()
    assert "id_number" not in stored and "id_number_token" in stored
    sensitive = [(t.name, c.name) for t in CONTRACT.tables for c in t.columns
                 if c.sensitivity == "direct_identifier"]
    assert sensitive == [("patient", "id_number")]


@pytest.mark.parametrize(("table", "columns"), [
    # §1.5 of the national-indicator catalog: the minimum patient-level fields
    ("inpatient_stay", ["discharge_time", "discharge_disposition", "los_days", "drg_code",
                        "age_days", "is_newborn", "readmission_plan", "cost_drug_western",
                        "cost_material", "payer", "is_day_surgery"]),
    ("stay_diagnosis", ["diagnosis_kind", "seq", "diagnosis_code", "present_on_admission"]),
    ("stay_procedure", ["procedure_code", "procedure_time", "operation_level", "incision_class",
                        "healing_grade", "surgery_type", "is_day_surgery",
                        "is_unplanned_reoperation"]),
    ("procedure_catalog", ["category", "is_minimally_invasive", "is_level4_national"]),
    ("drug_catalog", ["is_essential", "is_vbp", "is_antibacterial", "ddd_value", "ddd_unit",
                      "is_key_monitored"]),
    ("outpatient_visit", ["visit_type", "is_appointment", "slot_start", "checkin_time",
                          "call_time", "end_time", "down_referral"]),
    ("medication_order", ["dispensed_dose", "is_reviewed"]),
    ("charge_line", ["revenue_category", "amount", "insurance_paid"]),
    ("exam", ["equipment_type", "is_positive"]),
    ("department", ["specialty_code"]),
    ("ward", ["quality_nursing"]),
])
def test_contract_holds_what_the_national_indicators_read(table, columns):
    names = CONTRACT.table(table).column_names
    assert [c for c in columns if c not in names] == []


def test_homepage_codes_follow_the_national_coding():
    assert CONTRACT.code_set("discharge_disposition").values == ("1", "2", "3", "4", "5", "9")
    assert CONTRACT.code_set("present_on_admission").values == ("1", "2", "3", "4")
    assert CONTRACT.code_set("present_on_admission").label("4", "zh") == "无"
    assert set(CONTRACT.code_set("procedure_category").values) == {"1", "2", "3", "4"}
    specialties = set(CONTRACT.code_set("specialty").values)
    assert {"26", "07", "28", "31", "50"} <= specialties  # indicator 45's scarce specialties


def test_every_fact_table_has_a_period_column():
    facts = {"outpatient", "inpatient", "order", "charge", "diagnostic", "referral", "event"}
    missing = [t.name for t in CONTRACT.tables if t.domain in facts and t.name not in
               ("stay_diagnosis",) and t.period_column is None]
    assert missing == []
