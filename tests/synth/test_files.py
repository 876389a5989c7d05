"""Files written by the generator: round trips, encodings, determinism, atomic replacement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from hospital_sdk.errors import GeneratorError
from hospital_sdk.synth import files
from hospital_sdk.synth.files import write_table


def _sample() -> pa.Table:
    ts = [dt.datetime(2024, 1, 31, 23, 59, 58), None, dt.datetime(2023, 12, 1, 0, 0, 0)]
    return pa.table({
        "institution_id": pa.array(["HQ", "B1", "B2"]),
        "name": pa.array(["急性心肌梗死，未特指", None, 'quote " and, comma\nnewline']),
        "empty": pa.array(["", "x", None]),
        "admitted": pa.array(ts, pa.timestamp("us")),
        "day": pa.array([dt.date(2024, 2, 29), dt.date(1999, 1, 1), None]),
        "flag": pa.array([True, None, False]),
        "fee": pa.array([Decimal("12345.60"), Decimal("-0.05"), None], pa.decimal128(18, 2)),
        "qty": pa.array([1.5, None, -2.0]),
        "seq": pa.array([1, 2, None], pa.int16()),
    })


def _read_csv(path: Path, schema: pa.Schema, encoding: str = "utf8") -> pa.Table:
    return pacsv.read_csv(
        path, read_options=pacsv.ReadOptions(encoding=encoding),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True,
                                             quoted_strings_can_be_null=False))


def test_parquet_round_trip_keeps_types_and_values(tmp_path):
    table = _sample()
    [path] = write_table(table, tmp_path, "sample", fmt="parquet")
    assert path == tmp_path / "sample.parquet"
    assert pq.read_table(path).equals(table)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "gb18030"])
def test_csv_round_trip_keeps_chinese_nulls_decimals_and_timestamps(tmp_path, encoding):
    table = _sample()
    [path] = write_table(table, tmp_path, "sample", fmt="csv", encoding=encoding)
    back = _read_csv(path, table.schema, encoding)
    assert back.equals(table)
    text = path.read_bytes().decode(encoding)
    assert "2024-01-31 23:59:58," in text and "2024-02-29" in text
    assert "12345.60" in text and "-0.05" in text and "true" in text and "false" in text


def test_gbk_csv_is_gbk_and_not_utf8(tmp_path):
    [path] = write_table(_sample(), tmp_path, "sample", fmt="csv", encoding="gbk")
    raw = path.read_bytes()
    assert "急性心肌梗死".encode("gbk") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_timestamps_are_written_to_the_second(tmp_path):
    table = pa.table({"t": pa.array([dt.datetime(2024, 5, 6, 7, 8, 9, 999_999)])})
    [path] = write_table(table, tmp_path, "t", fmt="csv")
    assert path.read_text() == '"t"\n2024-05-06 07:08:09\n'


def test_gbk_transcodes_batch_by_batch_with_one_header(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CSV_BATCH_ROWS", 2)
    table = pa.table({"s": ["甲", "乙", "丙", "丁", "戊"]})
    [path] = write_table(table, tmp_path, "s", fmt="csv", encoding="gbk")
    assert path.read_bytes().decode("gbk") == '"s"\n"甲"\n"乙"\n"丙"\n"丁"\n"戊"\n'
    [empty] = write_table(table.slice(0, 0), tmp_path, "e", fmt="csv", encoding="gbk")
    assert empty.read_bytes() == b'"s"\n'


def test_unencodable_character_names_table_column_and_row(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CSV_BATCH_ROWS", 2)
    table = pa.table({"id": ["a", "b", "c"], "name": ["阑尾炎", "ok", "emoji 🙂"]})
    with pytest.raises(GeneratorError, match=r"'patient'.*column 'name', row 2.*U\+1F642.*gbk"):
        write_table(table, tmp_path, "patient", fmt="csv", encoding="gbk")
    assert list(tmp_path.iterdir()) == []
    [path] = write_table(table, tmp_path, "patient", fmt="csv", encoding="gb18030")
    assert _read_csv(path, table.schema, "gb18030").equals(table)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_two_writes_give_identical_bytes(tmp_path, fmt):
    table = _sample()
    [a] = write_table(table, tmp_path / "a", "sample", fmt=fmt)
    rechunked = pa.concat_tables([table.slice(0, 1), table.slice(1)])  # chunking must not matter
    [b] = write_table(rechunked, tmp_path / "b", "sample", fmt=fmt)
    assert a.read_bytes() == b.read_bytes()


def test_schema_metadata_is_not_written(tmp_path):
    table = _sample().replace_schema_metadata({"written_at": "2024-01-01T00:00:00"})
    [path] = write_table(table, tmp_path, "sample", fmt="parquet")
    assert b"written_at" not in path.read_bytes()


def test_parts_go_into_a_folder_named_after_the_table(tmp_path):
    paths = [write_table(_sample(), tmp_path, "charge_line", fmt="parquet", part=p)[0]
             for p in ("2024-01", "2024-02")]
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "charge_line/2024-01.parquet", "charge_line/2024-02.parquet"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_no_temporary_file_is_left_and_a_rewrite_replaces(tmp_path, fmt):
    write_table(_sample(), tmp_path, "sample", fmt=fmt)
    write_table(_sample().slice(0, 1), tmp_path, "sample", fmt=fmt)
    assert [p.name for p in tmp_path.iterdir()] == [f"sample.{fmt}"]


@pytest.mark.parametrize("fmt,writer", [("parquet", "_write_parquet"), ("csv", "_write_csv")])
def test_failure_mid_write_keeps_the_previous_file(tmp_path, monkeypatch, fmt, writer):
    [path] = write_table(_sample(), tmp_path, "sample", fmt=fmt)
    before = path.read_bytes()

    def broken(table, tmp, *args):
        tmp.write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(files, writer, broken)
    with pytest.raises(OSError, match="disk full"):
        write_table(_sample().slice(0, 1), tmp_path, "sample", fmt=fmt)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [f"sample.{fmt}"]


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(GeneratorError, match="unknown file format 'xlsx'"):
        write_table(_sample(), tmp_path, "s", fmt="xlsx")  # type: ignore[arg-type]
    with pytest.raises(GeneratorError, match="CSV only"):
        write_table(_sample(), tmp_path, "s", fmt="parquet", encoding="gbk")
    with pytest.raises(GeneratorError, match="unknown encoding 'klingon'"):
        write_table(_sample(), tmp_path, "s", fmt="csv", encoding="klingon")
    with pytest.raises(GeneratorError, match="not a safe file name"):
        write_table(_sample(), tmp_path, "../s", fmt="csv")
