"""The loader on the real contract's tables: a tiny discharge abstract and its diagnoses."""

from __future__ import annotations

import csv
import io

import pytest

from hospital_sdk.ingest import load_folder, raw_schema
from hospital_sdk.model import CONTRACT
from tests.ingest.corpus import rows, write_csv


def _stay(**values: str) -> dict[str, str]:
    """A valid inpatient_stay row (every cost 0), overridden by ``values``."""
    row = {c.name: "0" if c.dtype.startswith("decimal") else "" for c in
           CONTRACT.table("inpatient_stay").columns}
    row.update(institution_id="H001", campus_id="C01", stay_id="ST1", patient_local_id="P1",
               medical_record_number="MR001", admission_count="1",
               admission_time="2024-03-01 09:00:00", admission_dept_id="D01",
               discharge_time="2024-03-08 10:00:00", discharge_dept_id="D01", los_days="7",
               admission_route="2", discharge_disposition="1", readmission_plan="1",
               age_years="67", is_newborn="0", payer="1", is_day_surgery="false",
               is_special_needs="false", drg_code="ES11", total_cost="15000.00",
               self_pay_cost="3000.00", cost_drug_western="2000", cost_drug_antibacterial="500")
    row.update(values)
    return row


def _csv(rows_: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows_[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows_)
    return out.getvalue()


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "src"
    write_csv(folder / "inpatient_stay_2024-03.csv", _csv([
        _stay(),                                                                 # row 1 ok
        _stay(stay_id="ST2", discharge_time="2024-02-28 10:00:00"),              # row 2 rule
        _stay(stay_id="ST3", cost_drug_antibacterial="2500"),                    # row 3 rule
        _stay(stay_id="ST4", discharge_disposition="6"),                         # row 4 code
        _stay(stay_id="ST5", drg_code="es11"),                                   # row 5 pattern
        _stay(stay_id="ST6", is_newborn="1", age_years="0", age_days="3",
              newborn_birth_weight_g="3200"),                                    # row 6 ok
    ]))
    write_csv(folder / "stay_diagnosis" / "2024-03.csv", """
        institution_id,stay_id,diagnosis_kind,seq,diagnosis_code,diagnosis_name,present_on_admission
        H001,ST1,discharge,1,I21.000,急性前壁心肌梗死,1
        H001,ST1,discharge,2,E11.900,2型糖尿病,1
        H001,ST6,discharge,1,,,1
        H001,ST6,discharge,1,P07.100,低出生体重儿,1
        H001,ST6,admission,1,P07.100,低出生体重儿,
    """, encoding="gbk")
    return folder


def test_real_tables_load_with_the_expected_rejects(source, lake, settings):
    report = load_folder(source, lake, settings=settings)
    stay = report.file("inpatient_stay_2024-03.csv")
    assert (stay.rows_in, stay.rows_loaded, stay.rows_rejected) == (6, 2, 4)
    assert dict(stay.reject_reasons) == {
        "violates rule discharge_after_admission: discharge_time is not before admission_time": 1,
        "violates rule antibacterial_within_western: cost_drug_antibacterial is not more than "
        "cost_drug_western": 1,
        "code '6' not in discharge_disposition": 1,
        "does not match ^[A-Z]{2}[A-Z0-9][0-9]{1,2}$": 1,
    }
    diagnosis = report.file("stay_diagnosis/2024-03.csv")
    # row 3: principal diagnosis code empty; row 5: 'admission' is not a diagnosis kind.
    # Row 4 reuses row 3's key, but row 3 was rejected, so row 4 is the first valid one.
    assert (diagnosis.rows_in, diagnosis.rows_loaded, diagnosis.rows_rejected) == (5, 3, 2)
    assert dict(diagnosis.reject_reasons) == {
        "required value missing": 1, "code 'admission' not in diagnosis_kind": 1}
    assert rows(lake, "SELECT stay_id, seq, diagnosis_name FROM lake.raw.stay_diagnosis") == [
        ("ST1", 1, "急性前壁心肌梗死"), ("ST1", 2, "2型糖尿病"), ("ST6", 1, "低出生体重儿")]
    assert rows(lake, "SELECT stay_id, los_days, is_newborn, newborn_birth_weight_g, total_cost "
                      "FROM lake.raw.inpatient_stay") == sorted([
        ("ST1", 7, False, None, pytest.approx(15000)),
        ("ST6", 7, True, 3200, pytest.approx(15000))], key=repr)


def test_raw_schema_of_patient_tokenises_the_identity_number():
    names = raw_schema(CONTRACT.table("patient")).names
    assert "id_number_token" in names and "id_number" not in names
    assert names[-3:] == ("_load_id", "_source_file", "_source_row")
