"""End to end: the synthetic group's injected defects are each rejected on load, by the check
meant for them, and nothing else is (generator defect log = loader rejects, exactly)."""

from __future__ import annotations

from collections import Counter

import pyarrow.parquet as pq
import pytest

from hospital_sdk.ingest import load_file
from hospital_sdk.store import Lakehouse
from hospital_sdk.synth import generate
from hospital_sdk.synth.defects import DefectSpec

DAMAGED = ("inpatient_stay", "stay_diagnosis", "outpatient_visit", "charge_line")


def _kind_of(reason: str) -> str:
    """The defect kind a loader reason stands for (the reason texts are the loader's contract)."""
    if reason.startswith("duplicate primary key"):
        return "duplicate_row"
    if reason == "required value missing":
        return "missing_principal_diagnosis"
    if reason.startswith("violates rule discharge_after_admission"):
        return "discharge_before_admission"
    if reason.startswith(("code '", "does not match")):
        return "invalid_code"
    return f"unexpected: {reason}"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("defects")
    source = root / "source"
    generate(source, scale=0.001, years=(2024,), seed=7,
             defects=DefectSpec(rate=0.002, gbk_tables=("stay_diagnosis",)))
    log = pq.read_table(source / "_truth" / "defect_log.parquet").to_pandas()
    with Lakehouse.open(root / "lake") as lake:
        reports = [load_file(f, lake, table, root=source)
                   for table in DAMAGED for f in sorted((source / table).iterdir())]
        rejects = lake.table("load_rejects").select("table_name", "field", "reason").to_pandas()
        batches = lake.table("load_batches").to_pandas()
        names = lake.table("stay_diagnosis").select("diagnosis_name").to_pandas()
    return log, reports, rejects, batches, names


def test_every_injected_defect_is_rejected_by_its_check(loaded):
    log, _, rejects, _, _ = loaded
    expected = Counter(zip(log.table_name, log.kind))
    found = Counter((t, _kind_of(r)) for t, r in zip(rejects.table_name, rejects.reason))
    assert found == expected
    # every damaged table got every kind meant for it (at least one row each)
    assert expected[("stay_diagnosis", "missing_principal_diagnosis")] >= 1
    assert expected[("inpatient_stay", "discharge_before_admission")] >= 1


def test_principal_diagnosis_defect_names_the_field(loaded):
    _, _, rejects, _, _ = loaded
    missing = rejects[rejects.reason == "required value missing"]
    assert set(missing.field) == {"diagnosis_code"}


def test_gbk_files_load_with_chinese_text_intact(loaded):
    _, _, _, batches, names = loaded
    gbk = batches[batches.table_name == "stay_diagnosis"]
    assert len(gbk) == 12
    assert set(gbk.encoding) == {"gb18030"}  # detected: GB18030 is the superset of GBK
    assert names.diagnosis_name.str.contains("肺炎|高血压|糖尿病|心").any()


def test_rows_in_equal_loaded_plus_rejected(loaded):
    _, reports, rejects, batches, _ = loaded
    assert (batches.rows_in == batches.rows_loaded + batches.rows_rejected).all()
    assert sum(r.rows_rejected for r in reports) == len(rejects)
