"""Declarations: YAML validation that names file, check and key; contract-derived checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from hospital_sdk.errors import ContractError
from hospital_sdk.model import CONTRACT
from hospital_sdk.quality import (
    CheckDeclaration, contract_declarations, foundation_declarations, load_declarations,
    with_thresholds,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_errors_name_file_check_key_and_suggest(tmp_path):
    path = write(tmp_path, """
checks:
  - id: dx.present
    check_type: not_null
    table: stay_diagnosis
    field: diagnosis_code
    severty: blocking
  - id: dx.catalog
    check_type: catalog_membershp
    table: stay_diagnosis
    field: diagnosis_code
  - id: dx.catalog2
    check_type: catalog_membership
    table: stay_diagnosis
    field: diagnosis_code
    params: {catalg: diagnosis_catalog.code}
    kahn_category: conformity
""")
    with pytest.raises(ContractError) as err:
        load_declarations(path)
    msg = str(err.value)
    assert str(path) in msg
    # every problem is collected before failing
    assert "check 'dx.present': unknown key 'severty' (did you mean 'severity'?)" in msg
    assert ("check 'dx.catalog': key 'check_type': unknown check type 'catalog_membershp' "
            "(did you mean 'catalog_membership'?)") in msg
    assert "key 'params.catalg'" in msg and "(did you mean 'catalog'?)" in msg
    assert "key 'params.catalog': required by catalog_membership" in msg
    assert "key 'kahn_category'" in msg and "(did you mean 'conformance'?)" in msg


def test_yaml_checked_against_the_contract(tmp_path):
    path = write(tmp_path, """
checks:
  - {id: a, check_type: not_null, table: inpatient_stays, field: stay_id}
  - {id: b, check_type: not_null, table: inpatient_stay, field: stay_idd}
  - {id: b, check_type: not_null, table: inpatient_stay, field: stay_id}
""")
    with pytest.raises(ContractError) as err:
        load_declarations(path, contract=CONTRACT)
    msg = str(err.value)
    assert "check 'a': key 'table': no table 'inpatient_stays' in the contract " \
           "(did you mean 'inpatient_stay'?)" in msg
    assert "check 'b': key 'fields': table 'inpatient_stay' has no column 'stay_idd' " \
           "(did you mean 'stay_id'?)" in msg
    assert "check 'b': key 'id': repeated" in msg


def test_yaml_that_is_not_a_check_list(tmp_path):
    with pytest.raises(ContractError, match="expected a mapping with a 'checks' list"):
        load_declarations(write(tmp_path, "- 1\n"))
    with pytest.raises(ContractError, match="missing key 'table'"):
        load_declarations(write(tmp_path, "checks:\n  - {id: a, check_type: not_null}\n"))


def test_declaration_validates_itself():
    with pytest.raises(ContractError, match="key 'threshold'"):
        CheckDeclaration("a", "not_null", "t", "x", threshold=1.5)
    with pytest.raises(ContractError, match="takes exactly one field"):
        CheckDeclaration("a", "not_null", "t", ("x", "y"))
    with pytest.raises(ContractError, match="did you mean 'warning'"):
        CheckDeclaration("a", "not_null", "t", "x", severity="warn")  # type: ignore[arg-type]
    with pytest.raises(ContractError, match="no check 'b'"):
        with_thresholds([CheckDeclaration("a", "not_null", "t", "x")], {"b": 0.1})


def test_foundation_is_valid_against_the_contract():
    decls = foundation_declarations(CONTRACT)
    kinds = {d.check_type for d in decls}
    assert {"catalog_membership", "exactly_one_child", "within_parent_interval", "row_rule",
            "referential_integrity", "not_in_future"} <= kinds
    principal = next(d for d in decls if d.id == "inpatient_stay.principal_diagnosis_present")
    assert principal.protects == ("tertiary.08", "tertiary.10", "tertiary.14")


def test_contract_declarations_cover_every_non_null_column_of_inpatient_stay():
    table = CONTRACT.table("inpatient_stay")
    decls = [d for d in contract_declarations(CONTRACT) if d.table == "inpatient_stay"]
    not_null = {d.field for d in decls if d.check_type == "not_null"}
    assert not_null == {c.stored_name for c in table.columns if not c.nullable}
    assert {d.field for d in decls if d.check_type == "in_code_set"} == {
        c.name for c in table.columns if c.codes}
    assert {d.field for d in decls if d.check_type == "in_range"} == {
        c.name for c in table.columns if c.minimum is not None or c.maximum is not None}
    assert {d.fields for d in decls if d.check_type == "row_rule"} == {
        (r.left, r.right) for r in table.rules}
    assert [d.fields for d in decls if d.check_type == "unique_key"] == [table.primary_key]
    ids = [d.id for d in contract_declarations(CONTRACT)]
    assert len(ids) == len(set(ids))


def test_contract_declarations_use_stored_names_for_identifiers():
    decls = [d for d in contract_declarations(CONTRACT) if d.table == "patient"]
    assert all("id_number" not in d.fields for d in decls)
    assert not any(d.check_type == "matches_pattern" and d.field == "id_number_token"
                   for d in decls)
