"""The ``hospital-sdk`` command: exports, errors, and generate → load → snapshots end to end."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hospital_sdk.cli.main import app
from hospital_sdk.model import CONTRACT
from hospital_sdk.model.dictionary import from_json_schema

runner = CliRunner()


def test_contract_exports_json_schema_and_markdown(tmp_path):
    out = tmp_path / "contract.schema.json"
    result = runner.invoke(app, ["contract", "--format", "json-schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert from_json_schema(json.loads(out.read_text(encoding="utf-8"))) == CONTRACT
    md = tmp_path / "dictionary.md"
    assert runner.invoke(app, ["contract", "-f", "markdown", "-o", str(md)]).exit_code == 0
    assert "## inpatient_stay" in md.read_text(encoding="utf-8")


def test_contract_unknown_table_is_a_clear_error():
    result = runner.invoke(app, ["contract", "--table", "inpatient_stays"])
    assert result.exit_code == 2
    assert "did you mean 'inpatient_stay'" in result.output


def test_generate_load_snapshots(tmp_path):
    source, home = tmp_path / "source", tmp_path / "lake"
    result = runner.invoke(app, ["generate", str(source), "--scale", "0.0005", "--year", "2024",
                                 "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (source / "_manifest.json").exists()
    result = runner.invoke(app, ["load", str(source), "--home", str(home)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((source / "_manifest.json").read_text(encoding="utf-8"))
    total = sum(manifest["row_counts"].values())
    assert f"{total:,} rows in = {total:,} loaded + 0 rejected" in result.output
    result = runner.invoke(app, ["snapshots", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "lakehouse snapshots" in result.output and "load " in result.output
