"""exam_fact on hand-made examinations of March 2024 (a leap year: February has 29 days)."""

from __future__ import annotations

from datetime import date
from datetime import datetime as dt

import pandas as pd
import pytest

from hospital_sdk.aggregated import build_exam_fact
from hospital_sdk.aggregated.exams import COLUMNS
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.errors import ContractError


def _exam(inst: str, exam: str, kind: str | None, ordered: dt, performed: dt | None,
          positive: bool | None, dept: str = "D1", **kw: object) -> dict:
    row = {"institution_id": inst, "exam_id": exam, "setting": "outpatient",
           "patient_local_id": "P-SECRET", "equipment_type": kind, "exam_item_code": "X1",
           "ordering_dept_id": dept, "order_time": ordered, "exam_time": performed,
           "is_positive": positive}
    row.update(kw)
    return row


EXAMS = [
    # first instant of March; CT, positive, reported 2 h 30 min after the exam
    _exam("H1", "E1", "CT", dt(2024, 3, 1), dt(2024, 3, 1, 10), True,
          report_time=dt(2024, 3, 1, 12, 30)),
    # ordered on the last evening of March, performed in April: still March's (order month)
    _exam("H1", "E2", "MR", dt(2024, 3, 31, 23, 50), dt(2024, 4, 1, 8), False,
          setting="inpatient", report_time=dt(2024, 4, 1, 9, 15)),
    _exam("H1", "E3", "PETMR", dt(2024, 3, 5), dt(2024, 3, 5), True),  # not in J108's list
    _exam("H1", "E4", None, dt(2024, 3, 5), dt(2024, 3, 5), True),     # ultrasound, DR...
    _exam("H1", "E5", "DSA", dt(2024, 3, 6), None, None),              # never performed
    _exam("H1", "E6", "CT", dt(2024, 2, 29, 23, 59), dt(2024, 3, 1), True),  # February's
    _exam("H1", "E7", "CT", dt(2024, 4, 1), dt(2024, 4, 1), True),           # April's
    # department D2 moved campus in 2023: its latest row (campus C2b) is used, E8 stays one row
    _exam("H2", "E8", "SPECT", dt(2024, 3, 7), dt(2024, 3, 7), False, dept="D2"),
]
DEPARTMENTS = [
    {"dept_id": "D1", "institution_id": "H1", "campus_id": "C1", "valid_from": date(2020, 1, 1)},
    {"dept_id": "D2", "institution_id": "H2", "campus_id": "C2a", "valid_from": date(2020, 1, 1)},
    {"dept_id": "D2", "institution_id": "H2", "campus_id": "C2b", "valid_from": date(2023, 1, 1)},
]


@pytest.fixture
def fact() -> pd.DataFrame:
    tables = {"exam": cleaned_memtable("exam", EXAMS),
              "department": cleaned_memtable("department", DEPARTMENTS)}
    return build_exam_fact(tables, "2024-03").order_by("institution_id", "exam_id").execute()


def test_one_row_per_examination_ordered_in_the_month(fact: pd.DataFrame) -> None:
    # E6 (29 Feb 23:59) and E7 (1 Apr 00:00) are outside; E2 ordered 31 Mar 23:50 is inside
    assert fact.exam_id.tolist() == ["E1", "E2", "E3", "E4", "E5", "E8"]
    assert tuple(fact.columns) == COLUMNS


def test_large_equipment_is_ct_mr_dsa_spect_petct(fact: pd.DataFrame) -> None:
    assert fact.is_large_equipment.tolist() == [True, True, False, False, True, True]


def test_performed_and_result_flags_keep_a_missing_result_missing(fact: pd.DataFrame) -> None:
    assert fact.is_performed.tolist() == [True, True, True, True, False, True]
    assert fact.has_result.tolist() == [True, True, True, True, False, True]
    assert fact.is_positive.tolist()[:4] == [True, False, True, True]
    assert pd.isna(fact.is_positive.iloc[4]) and fact.is_positive.iloc[5] == False  # noqa: E712


def test_report_hours_and_campus_of_the_ordering_department(fact: pd.DataFrame) -> None:
    # E1 10:00 -> 12:30 = 2.5 h; E2 08:00 -> 09:15 = 1.25 h; no report time -> null
    assert fact.report_hours.iloc[0] == 2.5 and fact.report_hours.iloc[1] == 1.25
    assert fact.report_hours.iloc[2:].isna().all()
    assert fact.campus_id.tolist() == ["C1"] * 5 + ["C2b"]
    assert fact.ordering_dept_id.tolist() == ["D1"] * 5 + ["D2"]


def test_no_patient_identifier_is_copied(fact: pd.DataFrame) -> None:
    assert not {"patient_local_id", "empi_id"} & set(fact.columns)
    assert "P-SECRET" not in fact.astype(str).to_numpy()


def test_a_missing_input_is_named() -> None:
    with pytest.raises(ContractError, match="exam_fact: needs table 'department'"):
        build_exam_fact({"exam": cleaned_memtable("exam", EXAMS)}, "2024-03")
