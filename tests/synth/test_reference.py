"""The generator's reference data: loads, validates, feeds the contract catalogs, is calibrated."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from hospital_sdk.errors import GeneratorError
from hospital_sdk.model import CONTRACT
from hospital_sdk.synth.reference import (
    CATALOG_SOURCES,
    COMPLICATION_PREFIXES,
    GROUPER_VERSION,
    REFERENCE_DIR,
    SINGLE_DISEASE_FILTERS,
    VALID_FROM,
    Reference,
    load_reference,
)

CATALOGS = sorted(CATALOG_SOURCES)


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def test_loads_and_is_cached(ref):
    assert isinstance(ref, Reference)
    assert load_reference() is ref
    for name in Reference.__dataclass_fields__:
        assert len(getattr(ref, name)) > 0, name


def test_loads_in_under_a_second(tmp_path):
    copy = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, copy)
    start = time.perf_counter()
    load_reference(copy)
    assert time.perf_counter() - start < 1.0


def test_dtypes_are_explicit(ref):
    d = ref.diagnoses
    assert d["principal_weight"].dtype == "float64"
    assert d["chemo_radio"].dtype == bool
    assert isinstance(d["code"].dtype, pd.StringDtype)
    assert isinstance(d["procedure_codes"].iloc[0], tuple)
    assert ref.procedures["duration_minutes"].dtype == "int64"


@pytest.mark.parametrize("table_name", CATALOGS)
def test_catalog_frame_has_exactly_the_contract_columns(ref, table_name):
    frame = ref.catalog_frame(table_name)
    table = CONTRACT.table(table_name)
    assert tuple(frame.columns) == table.column_names
    assert len(frame) == len(getattr(ref, CATALOG_SOURCES[table_name]))
    if "valid_from" in frame:
        assert (frame["valid_from"] == VALID_FROM).all()
        assert frame["valid_to"].isna().all()
    if table_name == "drg_group":
        assert (frame["grouper_version"] == GROUPER_VERSION).all()


@pytest.mark.parametrize("table_name", CATALOGS)
def test_catalog_frame_passes_the_contract(ref, table_name):
    frame = ref.catalog_frame(table_name)
    table = CONTRACT.table(table_name)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    for col in table.columns:
        values = frame[col.name]
        if not col.nullable:
            assert values.notna().all(), f"{table_name}.{col.name} has nulls"
        present = values.dropna()
        if col.pattern:
            bad = [v for v in present if not re.fullmatch(col.pattern, v)]
            assert not bad, f"{table_name}.{col.name}: {bad[:5]} do not match {col.pattern}"
        if col.codes:
            allowed = set(CONTRACT.code_set(col.codes).values)
            bad = sorted(set(present) - allowed)
            assert not bad, f"{table_name}.{col.name}: {bad} not in code set {col.codes}"
        if col.minimum is not None:
            assert (present.astype(float) >= col.minimum).all(), col.name
        if col.maximum is not None:
            assert (present.astype(float) <= col.maximum).all(), col.name
        kind = arrow.schema.field(col.name).type
        if col.dtype.startswith("decimal"):
            assert pa.types.is_decimal(kind), col.name
        else:
            expected = {"string": pa.string(), "boolean": pa.bool_(), "float64": pa.float64(),
                        "date": pa.date32()}[col.dtype]
            assert kind == expected, (col.name, kind)
    key = list(table.primary_key)
    assert not frame.duplicated(key).any()


def test_unknown_catalog_is_an_error(ref):
    with pytest.raises(GeneratorError, match="no reference data for table 'patient'"):
        ref.catalog_frame("patient")


def test_cross_references_resolve(ref):
    drgs = set(ref.drg_groups.drg_code)
    procs = set(ref.procedures.code)
    specialties = set(CONTRACT.code_set("specialty").values)
    dept_specialties = set(ref.departments.specialty_code)
    assert set(ref.diagnoses.drg_code.dropna()) <= drgs
    assert set(ref.procedures.drg_code.dropna()) <= drgs
    for column in ("procedure_codes", "nonsurgical_procedure_codes"):
        assert {p for ps in ref.diagnoses[column] for p in ps} <= procs
    assert {p for ps in ref.consumables.used_with_procedures for p in ps} <= procs
    for frame in (ref.diagnoses, ref.procedures, ref.drugs, ref.lab_tests, ref.exam_items):
        used = {s for ss in frame.specialty_codes for s in ss}
        assert used <= specialties and used <= dept_specialties
    assert dept_specialties <= specialties
    charges = set(ref.charge_items.code)
    assert set(ref.lab_tests.charge_item_code) <= charges
    assert set(ref.exam_items.charge_item_code) <= charges


def test_principal_surgeries_are_surgery_or_intervention(ref):
    category = dict(zip(ref.procedures.code, ref.procedures.category, strict=True))
    assert {category[p] for ps in ref.diagnoses.procedure_codes for p in ps} <= {"1", "4"}
    other = {category[p] for ps in ref.diagnoses.nonsurgical_procedure_codes for p in ps}
    assert other <= {"2", "3"}


def test_minimum_counts(ref):
    assert len(ref.departments) >= 32
    assert len(ref.diagnoses) >= 250
    assert len(ref.procedures) >= 150
    assert len(ref.drugs) >= 120
    assert len(ref.consumables) >= 40
    assert len(ref.charge_items) >= 60
    assert len(ref.drg_groups) >= 80


def test_department_template_covers_the_required_specialties(ref):
    specialties = set(ref.departments.specialty_code)
    required = {"26", "07", "07.07", "28", "31", "50", "16", "20", "30", "32", "69", "05.01",
                "05.02", "10", "11", "12", "13", "19", "21", "03.10"}
    required |= {c for c in CONTRACT.code_set("specialty").values
                 if re.fullmatch(r"0[34]\.\d\d", c)}
    assert required <= specialties
    geriatric = ref.departments.set_index("specialty_code").geriatric_weight
    assert geriatric[["05.01", "05.02", "07", "07.07", "08"]].sum() == 0
    assert geriatric[["03.10", "03.04", "03.03", "03.01", "21", "03.07"]].sum() > 0.7


def test_all_19_complication_categories_have_a_concrete_code(ref):
    assert len(COMPLICATION_PREFIXES) == 19
    complications = ref.diagnoses[ref.diagnoses.role == "complication"]
    assert set(complications.complication_category) == set(COMPLICATION_PREFIXES)


def test_all_10_single_diseases_are_present(ref):
    found = set(ref.diagnoses.single_disease.dropna()) | set(ref.procedures.single_disease.dropna())
    assert found == set(SINGLE_DISEASE_FILTERS)
    d = ref.diagnoses.set_index("code")
    assert pd.isna(d.loc["I63.301", "single_disease"])  # excluded from the stroke filter by A1
    assert d.loc["I63.900", "single_disease"] == "stroke"
    assert pd.isna(d.loc["J12.900", "single_disease"])  # viral pneumonia is outside J13-J18


def test_the_code_families_the_indicators_read_are_present(ref):
    codes = ref.diagnoses.code
    for prefix in ("A41", "C", "O", "P", "Z51.1", "Z51.0", "I10", "E11.900", "I25.1"):
        assert codes.str.startswith(prefix).any(), prefix
    assert set(ref.diagnoses.role) == {"principal", "comorbidity", "complication", "outpatient",
                                       "newborn", "obstetric", "external_cause"}
    procs = set(ref.procedures.code)
    assert {"00.6600", "36.0700", "88.5600", "81.5100", "81.5400", "74.1", "13.4100", "51.2300",
            "45.1300", "45.2300", "33.2200", "39.9500", "96.7100", "99.0400"} <= procs


def test_weighted_mean_los_and_mortality(ref):
    d = ref.diagnoses[ref.diagnoses.principal_weight > 0]
    w = d.principal_weight
    assert 7.5 <= (d.mean_los * w).sum() / w.sum() <= 9.5
    assert 0.002 <= (d.mortality * w).sum() / w.sum() <= 0.008


def test_calibration_targets(ref):
    c = ref.calibration()
    assert 13_000 <= c.cost_mean <= 15_000
    assert 0.30 <= c.surgical_share <= 0.40
    assert 0.20 <= c.minimally_invasive_share <= 0.32
    assert 0.20 <= c.level4_share <= 0.30
    assert 0.14 <= c.day_surgery_share_of_elective <= 0.16
    assert 0.004 <= c.complication_rate <= 0.012
    assert 30 <= c.ddds_per_100_patient_days <= 40
    assert c.low_risk_mortality < 0.0005 and c.low_risk_share > 0.2
    assert 1.0 <= c.case_mix_index <= 1.5


def test_drug_mix(ref):
    drugs = ref.drugs
    assert 0.40 <= drugs.is_essential.mean() <= 0.50
    assert 0.20 <= drugs.is_vbp.mean() <= 0.30
    assert 25 <= drugs.is_antibacterial.sum() <= 30
    assert set(drugs.revenue_category) == {"drug_western", "drug_chinese_patent", "drug_herbal"}


def test_antibacterial_ddds_are_present_and_positive(ref):
    ab = ref.drugs[ref.drugs.is_antibacterial]
    assert ab.atc_code.str.match(r"^J0[12]").all()
    assert (ab.ddd_value > 0).all() and ab.ddd_unit.notna().all()
    assert ab.antibacterial_tier.notna().all()
    anti_tb_and_antivirals = ref.drugs[ref.drugs.atc_code.str.match(r"^J0[45]").fillna(False)]
    assert len(anti_tb_and_antivirals) > 0 and not anti_tb_and_antivirals.is_antibacterial.any()
    ddd = ab.set_index("name_en").ddd_value
    assert ddd["Ceftriaxone sodium for injection 1 g"] == 2.0
    assert ddd["Meropenem for injection 0.5 g"] == 3.0
    assert ddd["Piperacillin-tazobactam for injection 4.5 g (piperacillin 4 g)"] == 14.0


def test_drg_weights_are_realistic(ref):
    g = ref.drg_groups
    assert g.relative_weight.between(0.3, 8.0).all()
    assert (g.risk_grade == 1).sum() >= 10


def _break(tmp_path: Path, file: str, line: int, column: str, value: str) -> Path:
    copy = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, copy)
    path = copy / file
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[line - 2, column] = value
    frame.to_csv(path, index=False)
    return copy


@pytest.mark.parametrize(("file", "column", "value", "message"), [
    ("diagnoses.csv", "drg_code", "ZZ99", "'ZZ99' not found in drg_groups.csv column drg_code"),
    ("procedures.csv", "code", "3607", "does not match"),
    ("departments.csv", "specialty_code", "03.99", "not in contract code set 'specialty'"),
    ("drugs.csv", "is_vbp", "yes", "is not true/false"),
])
def test_a_broken_file_names_file_line_and_column(tmp_path, file, column, value, message):
    broken = _break(tmp_path, file, 3, column, value)
    with pytest.raises(GeneratorError) as info:
        load_reference(broken)
    text = str(info.value)
    assert f"{file} line 3, column {column}" in text
    assert message in text


def test_an_inconsistent_flag_is_reported(tmp_path):
    codes = pd.read_csv(REFERENCE_DIR / "drugs.csv", dtype=str).code
    line = int(codes.index[codes.str.startswith("XJ01")][0]) + 2
    broken = _break(tmp_path, "drugs.csv", line, "ddd_value", "")
    with pytest.raises(GeneratorError, match=rf"drugs.csv line {line}, column ddd_value"):
        load_reference(broken)


def test_a_missing_column_is_reported(tmp_path):
    copy = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, copy)
    frame = pd.read_csv(copy / "lab_tests.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["abnormal_rate"]).to_csv(copy / "lab_tests.csv", index=False)
    with pytest.raises(GeneratorError, match=r"lab_tests.csv: columns differ .*'abnormal_rate'"):
        load_reference(copy)
