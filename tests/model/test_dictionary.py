"""The data dictionary exports (Markdown, JSON Schema) and the round trip back to a contract."""

from __future__ import annotations

import json

import jsonschema
import pytest

from hospital_sdk.errors import ContractError
from hospital_sdk.model import CONTRACT
from hospital_sdk.model.dictionary import from_json_schema, to_json_schema, to_markdown


def test_json_schema_round_trip_rebuilds_the_identical_contract():
    text = json.dumps(to_json_schema(CONTRACT), ensure_ascii=False)
    assert from_json_schema(text) == CONTRACT


def test_json_schema_is_valid_and_validates_rows():
    doc = to_json_schema(CONTRACT)
    jsonschema.Draft202012Validator.check_schema(doc)
    row_schema = {**doc, "$ref": "#/$defs/tables/stay_diagnosis"}
    validator = jsonschema.Draft202012Validator(row_schema)
    good = {"institution_id": "HQ", "stay_id": "S1", "diagnosis_kind": "discharge", "seq": 1,
            "diagnosis_code": "I21.000", "diagnosis_name": "急性心肌梗死",
            "present_on_admission": None}
    assert list(validator.iter_errors(good)) == []
    bad = {**good, "diagnosis_kind": "primary", "diagnosis_code": "I2l.0O0"}
    bad.pop("seq")
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert len(messages) == 3  # unknown code, malformed ICD-10 code, missing required seq
    assert any("'seq' is a required property" in m for m in messages)


def test_markdown_lists_every_table_column_and_code():
    md = to_markdown(CONTRACT)
    for table in CONTRACT.tables:
        assert f"## {table.name}" in md
        for column in table.columns:
            assert f"| `{column.name}` |" in md
    assert "| `5` | 死亡 | died |" in md
    assert "tokenised on load as `id_number_token`" in md


def test_reading_a_foreign_document_is_a_clear_error():
    with pytest.raises(ContractError, match="not a hospital_sdk contract schema"):
        from_json_schema({"title": "something else"})


def test_committed_data_dictionary_is_current():
    """DATA_DICTIONARY.md at the top of the repository starts with the exported contract (the
    indicator section after it is checked by tests/indicators/test_lineage.py); regenerate it
    with ``hospital-sdk contract --format markdown --out DATA_DICTIONARY.md`` after a change."""
    from pathlib import Path

    committed = Path(__file__).resolve().parents[2] / "DATA_DICTIONARY.md"
    assert committed.read_text(encoding="utf-8").startswith(to_markdown(CONTRACT))
