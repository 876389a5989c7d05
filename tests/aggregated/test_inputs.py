"""Input checks and the cleaned input shape used by the builders and their tests."""

from __future__ import annotations

from datetime import datetime as dt

import pytest

from hospital_sdk.aggregated.inputs import cleaned_memtable, cleaned_schema, require
from hospital_sdk.errors import ContractError
from hospital_sdk.model import CONTRACT


def test_cleaned_schema_adds_the_cleaned_layer_columns() -> None:
    stay = cleaned_schema("inpatient_stay")
    assert list(stay)[:len(CONTRACT.table("inpatient_stay").columns)] == list(
        CONTRACT.table("inpatient_stay").stored_schema())
    assert "empi_id" in stay and "discharge_time" in stay
    assert cleaned_schema("stay_diagnosis")["discharge_time"].is_timestamp()
    assert "empi_id" not in cleaned_schema("stay_diagnosis")      # no patient_local_id there
    assert "item_code_local" in cleaned_schema("charge_line")
    assert "exam_item_code_local" in cleaned_schema("exam")
    assert "id_number_token" in cleaned_schema("patient")         # stored, tokenised


def test_cleaned_memtable_fills_nulls_and_checks_names() -> None:
    t = cleaned_memtable("inpatient_stay", stay_id=["S1"], discharge_time=[dt(2024, 3, 1)])
    row = t.to_pyarrow().to_pylist()[0]
    assert row["stay_id"] == "S1" and row["institution_id"] is None
    assert int(cleaned_memtable("inpatient_stay").count().execute()) == 0
    with pytest.raises(ContractError, match=r"no column\(s\) 'stay_idd' \(did you mean"):
        cleaned_memtable("inpatient_stay", stay_idd=["S1"])
    with pytest.raises(ContractError, match="differ in length"):
        cleaned_memtable("inpatient_stay", stay_id=["S1"], los_days=[1, 2])


def test_require_lists_every_missing_column() -> None:
    tables = {"charge_line": cleaned_memtable("charge_line").drop("amount", "item_type")}
    with pytest.raises(ContractError, match=r"x: table 'charge_line' lacks column\(s\) "
                                            r"'item_type'.*'amount'"):
        require(tables, {"charge_line": ("item_type", "amount")}, "x")
