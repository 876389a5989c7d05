"""Required columns, allowed values, and the patient-identifier guard."""

from __future__ import annotations

import pandas as pd
import pytest

from hospital_sdk.errors import HospitalSDKError, ReportError
from hospital_sdk.reports.inputs import (
    patient_identifier_columns,
    refuse_patient_identifiers,
    require_columns,
    require_values,
)


@pytest.mark.parametrize("name", [
    "patient_local_id", "empi_id", "EMPI_ID", "id_number", "id_number_token", "id_number_raw",
    "medical_record_number", "mother_empi_id", "linked_patient_local_id", " empi_id ",
])
def test_identifier_columns_are_refused(name: str) -> None:
    with pytest.raises(ReportError, match="patient identifier") as info:
        refuse_patient_identifiers(["dept_id", name], where="department_month")
    assert isinstance(info.value, HospitalSDKError)
    assert name.strip() in str(info.value) and "department_month" in str(info.value)


@pytest.mark.parametrize("name", [
    "patient_days", "patients", "dept_id", "stay_id", "institution_id", "record_count",
    "empi_id_count", "valid_id_number_share", "identity_checks",
])
def test_aggregate_columns_pass(name: str) -> None:
    assert patient_identifier_columns([name]) == []


def test_require_columns_names_all_missing_with_near_spelling() -> None:
    frame = pd.DataFrame(columns=["table", "staus", "layer"])
    with pytest.raises(ReportError) as info:
        require_columns(frame, ["layer", "table_name", "status"], where="quality results")
    message = str(info.value)
    assert "['table_name', 'status']" in message
    assert "did you mean 'table'?" in message and "did you mean 'staus'?" in message


def test_require_columns_refuses_identifiers_first() -> None:
    frame = pd.DataFrame(columns=["medical_record_number"])
    with pytest.raises(ReportError, match="patient identifier"):
        require_columns(frame, ["dept_id"], where="x")


def test_require_columns_wants_a_data_frame() -> None:
    with pytest.raises(ReportError, match="must be a pandas DataFrame, not list"):
        require_columns([1, 2], ["a"], where="department_month")  # type: ignore[arg-type]


def test_require_values_counts_each_bad_value() -> None:
    values = pd.Series(["passed", "FAILED", "FAILED", None, "error"], dtype="string")
    with pytest.raises(ReportError) as info:
        require_values(values, ["passed", "failed", "error"], where="status")
    assert "'FAILED' ×2" in str(info.value) and "null ×1" in str(info.value)
