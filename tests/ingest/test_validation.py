"""The compiled validation, run on Arrow batches in a bare DuckDB: conversions, blanks, masking,
and duplicate keys."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa
import pytest

from hospital_sdk.ingest import Tokeniser, compile_validation
from hospital_sdk.ingest.source_files import SourceFile, read_batches
from hospital_sdk.ingest.validation import duckdb_type
from hospital_sdk.model.contract import Column, Contract, Table, code_set
from tests.ingest.corpus import CONTRACT, PATIENT, write_csv

MEASURE = Table(
    "measure", "diagnostic", "测量", "Measure", "每次测量一行", "one row per measurement", ("id",),
    (
        Column("id", "string", "编号", "Id", nullable=False),
        Column("value", "float64", "值", "Value", minimum=0, maximum=1e6),
        Column("count", "int64", "计数", "Count"),
        Column("flag", "boolean", "标志", "Flag"),
        Column("amount", "decimal(10,2)", "金额", "Amount"),
        Column("day", "date", "日期", "Day"),
        Column("unit", "string", "单位", "Unit", codes="unit"),
    ),
)
MEASURES = Contract("t", (MEASURE,), (code_set("unit", "单位", "Unit", [("g", "克", "gram")]),))


def _run(table: Table, contract: Contract, data: dict, *, text_columns=None,
         tokeniser: Tokeniser | None = None) -> dict[int, list[str]]:
    """Reasons of each row, by source row."""
    query = compile_validation(table, contract, source="batch", text_columns=text_columns)
    batch = pa.table({**data, "_source_row": list(range(1, len(next(iter(data.values()))) + 1))})
    con = duckdb.connect()
    con.register("batch", batch)
    got = con.execute(query.rows_sql, query.parameters(tokeniser)).fetchall()
    return {row[0]: [p["reason"] for p in row[-3]] for row in got}


def test_conversions_accept_what_they_should_and_nothing_more():
    reasons = _run(MEASURE, MEASURES, {
        "id": ["a", "b", "c", "d", "e", "f"],
        "value": ["1.5", "nan", "inf", "-1", " 2 ", "1e7"],
        "count": ["12", "12.0", "1.5", "1e3", "x", None],
        "flag": ["true", "0", "maybe", None, "T", "no"],
        "amount": ["12.34", "1e2", "abc", None, "99999999.99", "123456789"],
        "day": ["2024-01-31", "2024-1-5", "2024-02-30", "31/01/2024", None, "2024-12-31"],
        "unit": ["g", "kg", None, "G", "g", "g"],
    })
    assert reasons == {
        1: [],
        2: ["not a valid float64", "code 'kg' not in unit"],
        3: ["not a valid float64", "not a valid int64", "not a valid boolean",
            "not a valid decimal(10,2)", "not a valid date"],
        4: ["out of range [0, 1000000]", "not a valid date", "code 'G' not in unit"],
        5: ["not a valid int64"],
        6: ["out of range [0, 1000000]", "not a valid decimal(10,2)"],
    }


def test_blank_text_is_missing_and_quoted_values_are_kept():
    table = Table("t", "master", "t", "t", "t", "t", ("id",),
                  (Column("id", "string", "编号", "Id", nullable=False),
                   Column("name", "string", "名称", "Name", nullable=False)))
    reasons = _run(table, Contract("t", (table,), ()),
                   {"id": ["a", "b", "c", "d"], "name": ["", "   ", " x ", "\t"]})
    assert reasons == {1: ["required value missing"], 2: ["required value missing"], 3: [], 4: []}


def test_typed_parquet_columns_are_not_treated_as_text():
    reasons = _run(MEASURE, MEASURES, {
        "id": ["a", "b"], "value": pa.array([1.0, -3.0]), "count": pa.array([1, None], pa.int64()),
        "flag": pa.array([True, None]), "amount": pa.array([1.5, 2.25]),
        "day": pa.array([None, None], pa.date32()), "unit": ["g", ""],
    }, text_columns=["id", "unit"])
    assert reasons == {1: [], 2: ["out of range [0, 1000000]"]}


def test_direct_identifiers_are_masked_and_tokenised():
    tok = Tokeniser(b"k")
    query = compile_validation(PATIENT, CONTRACT, source="batch")
    con = duckdb.connect()
    con.register("batch", pa.table({
        "institution_id": ["H1", "H1"], "patient_local_id": ["P1", "P2"], "name": ["张三", "李四"],
        "id_number": [" 11010119850512432x", "123"], "sex": ["1", "1"],
        "birth_date": ["1985-05-12", None], "_source_row": [1, 2]}))
    good, bad = con.execute(query.rows_sql, query.parameters(tok)).fetchall()
    assert good[4] == tok.token("11010119850512432X") and good[7] == []
    assert bad[4] is None or bad[4] == tok.token("123")
    assert bad[7] == [{"field": "id_number", "reason": r"does not match ^[0-9]{17}[0-9X]$",
                       "value": "***"}]
    assert json.loads(bad[8]) == {"institution_id": "H1", "patient_local_id": "P2",
                                  "name": "李四", "id_number": "***", "sex": "1",
                                  "birth_date": None}
    with pytest.raises(Exception, match="Tokeniser is needed"):
        query.parameters(None)


def test_duplicates_keep_the_first_good_row():
    query = compile_validation(MEASURE, MEASURES, source="batch", keys="checked")
    con = duckdb.connect()
    con.register("batch", pa.table({
        "id": ["a", "a", "a", "b", "b"], "value": ["x", "1", "2", "1", "1"],
        "count": [None] * 5, "flag": [None] * 5, "amount": [None] * 5, "day": [None] * 5,
        "unit": [None] * 5, "_source_row": [1, 2, 3, 4, 5]}))
    con.execute(f"CREATE TABLE checked AS {query.rows_sql}")
    dups = con.execute(query.duplicates_sql).fetchall()
    assert sorted((row[0], row[1][0]["reason"], row[1][0]["value"]) for row in dups) == [
        (3, "duplicate primary key, first seen at row 2", "a"),   # row 1 was bad: row 2 is first
        (5, "duplicate primary key, first seen at row 4", "b")]
    record = con.execute(f"SELECT {query.stored_record} FROM checked WHERE _source_row = 3")
    assert json.loads(record.fetchone()[0]) == {
        "id": "a", "value": 2.0, "count": None, "flag": None, "amount": None, "day": None,
        "unit": None}


def test_row_numbers_and_ragged_lines_are_exact_across_csv_blocks(tmp_path, monkeypatch):
    import hospital_sdk.ingest.source_files as sf

    monkeypatch.setattr(sf, "_CSV_BLOCK", 128)  # many small pyarrow blocks
    header = "institution_id,stay_id,seq,diagnosis_code,diagnosis_name,diagnosis_date\n"
    body = "".join(f"H1,S{i},1,A01,名称{i},\n" for i in range(1, 101))
    path = write_csv(tmp_path / "stay_diagnosis.csv", header + body)
    source = SourceFile(path, path.name, "stay_diagnosis", "csv")
    table = CONTRACT.table("stay_diagnosis")
    batches = list(read_batches(source, table, encoding="utf-8", batch_rows=7))
    assert [b.num_rows for b in batches] == [7] * 14 + [2]
    numbers = [n for b in batches for n in b.column("_source_row").to_pylist()]
    ids = [s for b in batches for s in b.column("stay_id").to_pylist()]
    assert numbers == list(range(1, 101)) and ids == [f"S{i}" for i in range(1, 101)]
    path.write_text(header + body.replace("H1,S77,1,A01,名称77,\n", "H1,S77,1,A01,名称77\n"))
    with pytest.raises(Exception, match="line 78 has 5 values where the header has 6"):
        list(read_batches(source, table, encoding="utf-8", batch_rows=7))


@pytest.mark.parametrize(("dtype", "sql"), [
    ("string", "VARCHAR"), ("int16", "SMALLINT"), ("decimal(18,2)", "DECIMAL(18,2)"),
    ("timestamp", "TIMESTAMP"), ("boolean", "BOOLEAN")])
def test_duckdb_types(dtype, sql):
    assert duckdb_type(dtype) == sql
