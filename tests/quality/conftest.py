"""Tiny hand-made hospital tables; every expected count in the tests is worked out by hand."""

from __future__ import annotations

from datetime import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest

STAYS = pd.DataFrame({
    "institution_id": ["H1"] * 5,
    "stay_id": ["s1", "s2", "s3", "s4", "s5"],
    "patient_local_id": ["P1", "P2", "P3", "P1", "P9"],
    "admission_time": [dt(2024, 1, 1, 8), dt(2024, 1, 15), dt(2024, 1, 25), dt(2024, 1, 30),
                       dt(2024, 2, 8)],
    "discharge_time": [dt(2024, 1, 10, 10), dt(2024, 1, 20), dt(2024, 1, 31, 23),
                       dt(2024, 2, 5, 10), dt(2024, 2, 10, 12)],
})
# s1: one principal; s2: none (only admission seq 1 and discharge seq 2); s3: two principal rows;
# s4, s5: one each. H2/s1 must not count for H1/s1 (composite key).
DIAGNOSES = pd.DataFrame({
    "institution_id": ["H1", "H1", "H1", "H1", "H1", "H1", "H1", "H1", "H2"],
    "stay_id": ["s1", "s2", "s2", "s3", "s3", "s4", "s4", "s5", "s1"],
    "diagnosis_kind": ["discharge", "admission", "discharge", "discharge", "discharge",
                       "discharge", "other", "discharge", "discharge"],
    "seq": [1, 1, 2, 1, 1, 1, 2, 1, 1],
    "diagnosis_code": ["I10", "I10", "Z99", "I10", "J18.0", "K35", None, "Q00", "I10"],
})
DIAGNOSIS_CATALOG = pd.DataFrame({"code": ["I10", "J18.0", "K35", None]})
PROCEDURES = pd.DataFrame({
    "institution_id": ["H1"] * 7,
    "stay_id": ["s1", "s2", "s3", "s9", "s4", "s4", "s5"],
    "seq": [1, 1, 1, 1, 1, 2, 1],
    "procedure_code": ["01.01"] * 7,
    "procedure_time": [dt(2024, 1, 5), dt(2024, 1, 14), dt(2024, 2, 1), dt(2024, 1, 3),
                       dt(2024, 1, 31, 12), None, dt(2024, 2, 10, 12)],
})
# (H1, P3) only exists in H2; (H1, P1) is listed twice, which must not inflate counts.
PATIENTS = pd.DataFrame({
    "institution_id": ["H1", "H1", "H1", "H2"],
    "patient_local_id": ["P1", "P1", "P2", "P3"],
    "registered_at": [dt(2020, 1, 1)] * 4,
})
VISITS = pd.DataFrame({
    "institution_id": ["H1"] * 4,
    "visit_id": ["v1", "v2", "v3", "v4"],
    "visit_time": [dt(2024, 1, 2)] * 4,
    "checkin_time": [dt(2024, 1, 2, 8), dt(2024, 1, 2, 9), None, dt(2024, 1, 2, 10)],
    "call_time": [dt(2024, 1, 2, 8, 30), dt(2024, 1, 2, 8, 50), dt(2024, 1, 2, 9),
                  dt(2024, 1, 2, 10)],
})


@pytest.fixture
def tables() -> dict[str, ir.Table]:
    frames = {"inpatient_stay": STAYS, "stay_diagnosis": DIAGNOSES,
              "diagnosis_catalog": DIAGNOSIS_CATALOG, "stay_procedure": PROCEDURES,
              "patient": PATIENTS, "outpatient_visit": VISITS}
    return {name: ibis.memtable(df) for name, df in frames.items()}
