"""Identity-document numbers never reach the lake in clear; tokens are keyed and link patients."""

from __future__ import annotations

import hashlib
import hmac
import stat

import pytest

from hospital_sdk.config import Settings
from hospital_sdk.errors import ConfigError
from hospital_sdk.ingest import Tokeniser, load_folder, token_key
from hospital_sdk.store import Lakehouse
from tests.ingest.corpus import CLEAR_IDS, CONTRACT, PATIENT_CSV, write_corpus, write_csv


def test_token_is_hmac_sha256_of_the_normalised_value():
    tok = Tokeniser(b"k")
    expected = hmac.new(b"k", b"11010119850512432X", hashlib.sha256).hexdigest()
    assert tok.token(" 11010119850512432x ") == expected
    assert Tokeniser(b"other").token("11010119850512432X") != expected


def test_sql_tokens_equal_python_tokens_for_any_key_length():
    import duckdb

    values = ["110101199003071234", " 11010119850512432x", "张三", ""]
    for key in (b"k", b"x" * 64, b"y" * 65, "中文密钥".encode()):
        tok = Tokeniser(key)
        got = duckdb.execute(f"SELECT {tok.sql('v')} FROM unnest($values) t(v)",
                             {**tok.params(), "values": values}).fetchall()
        assert [g[0] for g in got] == [tok.token(v) for v in values]


def test_key_file_is_created_once_with_owner_only_permissions(tmp_path):
    first = token_key(tmp_path)
    assert token_key(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "token.key").stat().st_mode)
    assert mode == 0o600
    assert len(first) == 64
    assert token_key(tmp_path, Settings(home=tmp_path, token_key="set")) == b"set"
    (tmp_path / "token.key").write_text("")
    with pytest.raises(ConfigError, match="token key file .* is empty"):
        token_key(tmp_path)


def test_raw_table_has_tokens_and_no_clear_identity_anywhere(tmp_path, lake, contract, settings):
    load_folder(write_corpus(tmp_path / "source"), lake, contract=contract, settings=settings)
    columns = [c for c, in lake.duck.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = 'lake' AND "
        "schema_name = 'raw' AND table_name = 'patient'").fetchall()]
    assert "id_number_token" in columns and "id_number" not in columns
    tok = Tokeniser(b"test-token-key")
    assert sorted(lake.duck.execute("SELECT id_number_token FROM lake.raw.patient")
                  .fetchall()) == sorted([(tok.token("110101199003071234"),),
                                          (tok.token("11010119850512432X"),)])
    # scan every string column of every raw table for every clear value
    text_columns = lake.duck.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'lake' AND "
        "schema_name = 'raw' AND data_type = 'VARCHAR'").fetchall()
    assert len(text_columns) > 20
    for table, column in text_columns:
        for clear in CLEAR_IDS:
            hits = lake.duck.execute(f'SELECT count(*) FROM lake.raw."{table}" WHERE '
                                     f'contains("{column}", ?)', [clear]).fetchone()[0]
            assert hits == 0, f"{clear} found in raw.{table}.{column}"
    # the rejects show that an identity number was there, masked
    records = [r for r, in lake.duck.execute(
        "SELECT record FROM lake.raw.load_rejects WHERE table_name = 'patient'").fetchall()]
    assert sum('"id_number":"***"' in r for r in records) == 2  # P3 and P5; P4 had none
    problems = lake.duck.execute("SELECT problems FROM lake.raw.load_rejects WHERE field = "
                                 "'id_number'").fetchone()[0]
    assert '"value":"***"' in problems


def test_same_key_same_token_across_institutions_and_lakes(tmp_path):
    settings = Settings(home=tmp_path, token_key="group-key")
    tokens = []
    for name in ("a", "b"):
        folder = tmp_path / f"src_{name}"
        write_csv(folder / "patient.csv", PATIENT_CSV.replace("H1,", f"{name.upper()}1,"),
                  encoding="gbk")

        with Lakehouse.open(tmp_path / f"lake_{name}") as lake:
            load_folder(folder, lake, contract=CONTRACT, settings=settings)
            tokens.append(sorted(lake.duck.execute(
                "SELECT id_number_token FROM lake.raw.patient").fetchall()))
    assert tokens[0] == tokens[1] and len(tokens[0]) == 2


def test_without_a_configured_key_the_lake_key_file_is_used(tmp_path, lake, contract,
                                                          monkeypatch):
    monkeypatch.delenv("HOSPITAL_SDK_TOKEN_KEY", raising=False)
    write_csv(tmp_path / "src" / "patient.csv", PATIENT_CSV, encoding="gbk")
    load_folder(tmp_path / "src", lake, contract=contract)
    key = (lake.home / "token.key").read_text().strip().encode()
    assert lake.duck.execute("SELECT id_number_token FROM lake.raw.patient WHERE "
                             "patient_local_id = 'P1'").fetchone()[0] == \
        Tokeniser(key).token("110101199003071234")
