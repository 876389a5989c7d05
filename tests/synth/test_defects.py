"""Injected defects: exact counts, one defect per row, determinism, what the loader rejects."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from hospital_sdk.errors import ContractError, GeneratorError
from hospital_sdk.synth.defects import (
    DEFAULT_KINDS,
    DefectSpec,
    expected_rejects,
    inject_defects,
)
from tests.synth.test_reported import T0 as _T0
from tests.synth.test_reported import assert_conforms, rejected
from tests.synth.test_reported import contract_table as _contract_table


def _tables(stays: int = 100, visits: int = 300, charges: int = 500) -> dict[str, pa.Table]:
    stay_ids = [f"S{i}" for i in range(stays)]
    kinds = ["discharge", "discharge", "discharge", "outpatient"]
    seqs = [1, 2, 3, 1]
    inpatient = _contract_table(
        "inpatient_stay", stays, institution_id=["HQ"] * stays, stay_id=stay_ids,
        admission_time=[_T0 + dt.timedelta(hours=i) for i in range(stays)],
        discharge_time=[_T0 + dt.timedelta(days=3, hours=i) for i in range(stays)])
    diagnoses = _contract_table(
        "stay_diagnosis", 4 * stays, institution_id=["HQ"] * 4 * stays,
        stay_id=[s for s in stay_ids for _ in kinds], diagnosis_kind=kinds * stays,
        seq=seqs * stays, diagnosis_code=["I21.000", "E11.900", "K35.800x001", "J18.9"] * stays)
    return {
        "inpatient_stay": inpatient,
        "stay_diagnosis": diagnoses,
        "outpatient_visit": _contract_table("outpatient_visit", visits,
                                            institution_id=["B1"] * visits),
        "charge_line": _contract_table("charge_line", charges, institution_id=["B1"] * charges),
        "department": _contract_table("department", 3),
    }


def _counts(log: pa.Table) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for row in log.select(["table_name", "kind"]).to_pylist():
        out[row["table_name"], row["kind"]] = out.get((row["table_name"], row["kind"]), 0) + 1
    return out


def test_fixture_tables_conform():
    for name, table in _tables().items():
        assert_conforms(name, table)


def test_exact_counts_per_kind_and_table():
    tables = _tables()
    damaged, log = inject_defects(tables, DefectSpec(rate=0.01), np.random.default_rng(1))
    assert _counts(log) == {
        ("stay_diagnosis", "missing_principal_diagnosis"): 4,
        ("stay_diagnosis", "invalid_code"): 4,
        ("inpatient_stay", "invalid_code"): 1,
        ("outpatient_visit", "invalid_code"): 3,
        ("inpatient_stay", "discharge_before_admission"): 1,
        ("outpatient_visit", "duplicate_row"): 3,
        ("charge_line", "duplicate_row"): 5,
        ("inpatient_stay", "duplicate_row"): 1,
    }
    assert damaged["outpatient_visit"].num_rows == 303
    assert damaged["department"] is tables["department"]
    assert expected_rejects(log) == {"charge_line": 5, "inpatient_stay": 3, "outpatient_visit": 6,
                                     "stay_diagnosis": 8}


def test_the_loader_rejects_exactly_the_logged_rows():
    damaged, log = inject_defects(_tables(), DefectSpec(rate=0.03), np.random.default_rng(5))
    for name in ("inpatient_stay", "stay_diagnosis", "outpatient_visit", "charge_line"):
        logged = sorted(pc.filter(log.column("row_index"),
                                  pc.equal(log.column("table_name"), name)).to_pylist())
        assert np.flatnonzero(rejected(name, damaged[name])).tolist() == logged, name


def test_each_row_is_damaged_once_and_duplicates_copy_clean_rows():
    damaged, log = inject_defects(_tables(stays=10, visits=20, charges=20), DefectSpec(rate=0.3),
                                  np.random.default_rng(3))
    places = list(zip(log.column("table_name").to_pylist(), log.column("row_index").to_pylist(),
                      strict=True))
    assert len(places) == len(set(places))
    for row in log.to_pylist():
        if row["kind"] == "duplicate_row":
            source = int(row["detail"].removeprefix("copy of row "))
            assert (row["table_name"], source) not in places
            table = damaged[row["table_name"]]
            assert table.slice(source, 1).equals(table.slice(row["row_index"], 1))
            key = json.loads(row["key"])
            assert key == table.select(list(key)).slice(source, 1).to_pylist()[0]


def test_missing_principal_diagnosis_hits_only_seq1_discharge_rows():
    damaged, log = inject_defects(_tables(), DefectSpec(rate=0.2,
                                                        kinds=("missing_principal_diagnosis",)),
                                  np.random.default_rng(11))
    rows = log.column("row_index").to_pylist()
    assert len(rows) == 80 and set(log.column("field").to_pylist()) == {"diagnosis_code"}
    hit = damaged["stay_diagnosis"].take(rows)
    assert set(hit.column("diagnosis_kind").to_pylist()) == {"discharge"}
    assert set(hit.column("seq").to_pylist()) == {1}
    assert hit.column("diagnosis_code").null_count == 80
    assert damaged["stay_diagnosis"].schema.field("diagnosis_code").nullable


def test_eligible_rows_cap_the_count():
    _, log = inject_defects(_tables(stays=5), DefectSpec(rate=1.0,
                                                         kinds=("missing_principal_diagnosis",)),
                            np.random.default_rng(0))
    assert log.num_rows == 5


def test_damage_values():
    damaged, log = inject_defects(_tables(), DefectSpec(rate=0.05), np.random.default_rng(2))
    by_kind = {(r["table_name"], r["kind"]): r for r in log.to_pylist()}
    stay = damaged["inpatient_stay"]
    before = by_kind["inpatient_stay", "discharge_before_admission"]["row_index"]
    gap = (stay.column("admission_time")[before].as_py()
           - stay.column("discharge_time")[before].as_py())
    assert dt.timedelta(hours=1) <= gap <= dt.timedelta(hours=72)
    row = by_kind["inpatient_stay", "invalid_code"]["row_index"]
    assert stay.column("discharge_disposition")[row].as_py() == "7"
    row = by_kind["outpatient_visit", "invalid_code"]["row_index"]
    assert damaged["outpatient_visit"].column("visit_type")[row].as_py() == "clinic"
    row = by_kind["stay_diagnosis", "invalid_code"]
    assert row["detail"].split(" -> ")[1].strip("'")[2] == "l"


def test_unknown_code_is_off_by_default_and_loads():
    assert "unknown_code" not in DefectSpec().kinds == DEFAULT_KINDS
    _, log = inject_defects(_tables(), DefectSpec(), np.random.default_rng(0))
    assert "unknown_code" not in log.column("kind").to_pylist()
    catalog = _contract_table("diagnosis_catalog", 1, code=["Z99.999"], category3=["Z99"],
                              subcategory4=["Z99.9"], chapter=["XXI"])
    damaged, log = inject_defects({**_tables(), "diagnosis_catalog": catalog},
                                  DefectSpec(rate=0.01, kinds=("unknown_code",)),
                                  np.random.default_rng(0))
    rows = log.column("row_index").to_pylist()
    assert len(rows) == 4 and expected_rejects(log) == {}
    codes = damaged["stay_diagnosis"].column("diagnosis_code").take(rows).to_pylist()
    assert codes == ["Z99.998"] * 4  # Z99.999 is in the catalog, so the next candidate is used
    assert not rejected("stay_diagnosis", damaged["stay_diagnosis"]).any()


def test_deterministic_from_the_generator_state():
    tables = _tables()
    a_tables, a_log = inject_defects(tables, DefectSpec(rate=0.02), np.random.default_rng(42))
    b_tables, b_log = inject_defects(tables, DefectSpec(rate=0.02), np.random.default_rng(42))
    _, c_log = inject_defects(tables, DefectSpec(rate=0.02), np.random.default_rng(43))
    assert a_log.equals(b_log) and not a_log.equals(c_log)
    assert all(a_tables[n].equals(b_tables[n]) for n in tables)


def test_small_and_missing_tables():
    tables = _tables(stays=1, visits=1, charges=1)
    damaged, log = inject_defects({k: v for k, v in tables.items() if k != "charge_line"},
                                  DefectSpec(rate=1e-6), np.random.default_rng(0))
    assert "charge_line" not in damaged
    # one stay: missing principal + invalid code hit 2 of its 4 diagnoses; the stay itself
    # gets invalid_code only (no clean row is left for the other kinds)
    assert _counts(log) == {("stay_diagnosis", "missing_principal_diagnosis"): 1,
                            ("stay_diagnosis", "invalid_code"): 1,
                            ("inpatient_stay", "invalid_code"): 1,
                            ("outpatient_visit", "invalid_code"): 1}
    _, none = inject_defects(tables, DefectSpec(rate=0.0), np.random.default_rng(0))
    assert none.num_rows == 0 and none.schema.names == log.schema.names


def test_spec_is_validated():
    with pytest.raises(GeneratorError, match="within \\[0, 1\\]"):
        DefectSpec(rate=1.5)
    with pytest.raises(GeneratorError, match="unknown defect kind 'duplicate'"):
        DefectSpec(kinds=("duplicate",))
    with pytest.raises(ContractError, match="did you mean 'inpatient_stay'"):
        DefectSpec(gbk_tables=("inpatient_stays",))
