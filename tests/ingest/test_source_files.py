"""Files that cannot be mapped or read fail loudly, naming the file and what was expected, and
before anything is written."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hospital_sdk.errors import ContractError, SourceFileError
from hospital_sdk.ingest import detect_encoding, discover, load_file, load_folder, table_for
from tests.ingest.corpus import PATIENT_CSV, write_csv

DIAGNOSIS_HEADER = "institution_id,stay_id,seq,diagnosis_code,diagnosis_name,diagnosis_date\n"


@pytest.fixture
def src(tmp_path):
    """Folder of source files (the lake fixture lives in tmp_path/lake)."""
    (tmp_path / "src").mkdir()
    return tmp_path / "src"


@pytest.mark.parametrize(("name", "table"), [
    ("stay.csv", "stay"),
    ("stay.parquet", "stay"),
    ("stay_2024.csv", "stay"),
    ("stay_diagnosis.csv", "stay_diagnosis"),
    ("stay_diagnosis_2024-01.csv", "stay_diagnosis"),   # longest prefix wins over "stay"
    ("stay_diagnosis/anything.parquet", "stay_diagnosis"),
    ("stay_diagnosis/2024/01.csv", "stay_diagnosis"),
    ("hospital_a/patient_2024.csv", "patient"),
    ("stays.csv", None),
    ("staying.csv", None),
])
def test_file_names_map_to_tables(name, table):
    assert table_for(name, ["stay", "stay_diagnosis", "patient"]) == table


def test_discover_ignores_underscore_and_dot_names(tmp_path, contract):
    for name in ("stay.csv", "_truth/stay.csv", ".hidden.csv", "stay_diagnosis/_draft.csv",
                 ".git/patient.csv", "patient/part-1.parquet"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    found = [(s.name, s.table, s.format) for s in discover(tmp_path, contract)]
    assert found == [("patient/part-1.parquet", "patient", "parquet"),
                     ("stay.csv", "stay", "csv")]


def test_unknown_file_name_suggests_the_table_and_lists_expected(src, lake, contract,
                                                                   settings):
    write_csv(src / "stay.csv", "institution_id\n")
    write_csv(src / "patients.csv", PATIENT_CSV)
    (src / "notes.txt").write_text("hello")
    with pytest.raises(SourceFileError) as err:
        load_folder(src, lake, contract=contract, settings=settings)
    message = str(err.value)
    assert "patients.csv: no contract table is called 'patients' (did you mean 'patient'?)" \
        in message
    assert "notes.txt: not a source file" in message
    assert "Expected tables: patient, stay, stay_diagnosis" in message  # source tables only
    assert lake.list_tables("raw") == []  # nothing written


def test_wrong_columns_are_listed_before_anything_is_written(src, lake, contract, settings):
    write_csv(src / "stay_diagnosis.csv", DIAGNOSIS_HEADER + "H1,S1,1,A01,x,\n")
    write_csv(src / "stay.csv", """
        institution_id,stay_id,admision_time,discharge_time,los_days,total_cost,ward
        H1,S1,2024-01-01,2024-01-02,1,3,W1
    """)
    with pytest.raises(SourceFileError) as err:
        load_folder(src, lake, contract=contract, settings=settings)
    message = str(err.value)
    assert message.startswith("stay.csv: does not have the columns of table 'stay'")
    assert "missing columns: admission_time, discharge_disposition" in message
    assert "unexpected columns: 'admision_time' (did you mean 'admission_time'?), 'ward'" \
        in message
    assert lake.list_tables("raw") == []  # stay_diagnosis.csv was fine but is not loaded either


def test_truncated_parquet(src, lake, contract, settings):
    path = src / "stay_diagnosis.parquet"
    pq.write_table(pa.table({"institution_id": ["H1"] * 100, "stay_id": ["S1"] * 100}), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceFileError, match=r"stay_diagnosis\.parquet: not a readable Parquet"):
        load_folder(src, lake, contract=contract, settings=settings)


def test_corrupt_parquet_data_rolls_the_file_back(src, lake, contract, settings):
    table = pa.table({"institution_id": ["H1"] * 1000, "stay_id": [f"S{i}" for i in range(1000)],
                      "seq": pa.array([1] * 1000, pa.int16()), "diagnosis_code": ["A01"] * 1000,
                      "diagnosis_name": [f"名称{i}" for i in range(1000)],
                      "diagnosis_date": pa.array([None] * 1000, pa.date32())})
    path = src / "stay_diagnosis.parquet"
    pq.write_table(table, path, row_group_size=100, compression="none")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = b"\xff" * 64  # footer intact, a data page destroyed
    path.write_bytes(bytes(data))
    with pytest.raises(SourceFileError, match=r"stay_diagnosis\.parquet"):
        load_folder(src, lake, contract=contract, settings=settings, batch_rows=100)
    assert lake.duck.execute("SELECT count(*) FROM lake.raw.stay_diagnosis").fetchone() == (0,)
    assert lake.duck.execute("SELECT count(*) FROM lake.raw.load_batches").fetchone() == (0,)


def test_ragged_csv_row_names_its_line(src, lake, contract, settings):
    write_csv(src / "stay_diagnosis.csv",
              DIAGNOSIS_HEADER + "H1,S1,1,A01,伤寒,\nH1,S2,1,A01,伤寒,,extra\nH1,S3,1,A01,x,\n")
    with pytest.raises(SourceFileError,
                       match=r"stay_diagnosis\.csv: line 3 has 7 values where the header has 6"):
        load_folder(src, lake, contract=contract, settings=settings)
    assert lake.duck.execute("SELECT count(*) FROM lake.raw.stay_diagnosis").fetchone() == (0,)


def test_undecodable_bytes_name_the_offset(src, lake, contract, settings):
    path = src / "stay_diagnosis.csv"
    body = (DIAGNOSIS_HEADER + "H1,S1,1,A01,").encode() + b"\xff\xff" + b",\n"
    path.write_bytes(body)
    offset = len(body) - 4
    with pytest.raises(SourceFileError) as err:
        load_folder(src, lake, contract=contract, settings=settings)
    assert f"not UTF-8 (byte offset {offset}: bytes ff ff 2c 0a)" in str(err.value)
    assert f"not GB18030/GBK (byte offset {offset}" in str(err.value)
    assert str(path) in str(err.value)


def test_encoding_override(src, lake, contract, settings):
    path = write_csv(src / "patient.csv", PATIENT_CSV, encoding="gbk")
    with pytest.raises(SourceFileError, match=r"byte offset \d+ .* does not decode as utf-8"):
        load_folder(src, lake, contract=contract, settings=settings, encoding="utf-8")
    report = load_folder(src, lake, contract=contract, settings=settings, encoding="gbk")
    assert report.files[0].encoding == "gbk"
    assert sorted(lake.duck.execute("SELECT name FROM lake.raw.patient").fetchall()) == [
        ("张三",), ("李四",)]
    assert detect_encoding(path) == "gb18030"


def test_detect_encoding_reports_offsets_across_chunks(tmp_path, monkeypatch):
    import hospital_sdk.ingest.source_files as sf

    monkeypatch.setattr(sf, "_CHUNK", 5)  # multi-byte characters straddle every chunk border
    path = tmp_path / "x.csv"
    text = "名称,说明\n急性阑尾炎,ok\n".encode()
    path.write_bytes(text + b"\xe6\x80" + b"\n")  # truncated UTF-8 sequence at the very end
    assert sf._first_undecodable(path, "utf-8") == len(text)
    path.write_bytes(text)
    assert detect_encoding(path) == "utf-8"
    path.write_bytes("名称\n急性阑尾炎\n".encode("gb18030"))
    assert detect_encoding(path) == "gb18030"


def test_empty_file_and_header_only_file(src, lake, contract, settings):
    (src / "stay.csv").write_bytes(b"")
    with pytest.raises(SourceFileError, match=r"stay\.csv: empty file; expected a header line"):
        load_folder(src, lake, contract=contract, settings=settings)
    (src / "stay.csv").unlink()
    write_csv(src / "stay_diagnosis.csv", DIAGNOSIS_HEADER)
    report = load_folder(src, lake, contract=contract, settings=settings)
    assert (report.rows_in, report.files[0].status) == (0, "loaded")


def test_load_file_errors(src, lake, contract, settings):
    path = write_csv(src / "stays.csv", PATIENT_CSV)
    with pytest.raises(SourceFileError, match=re.escape("did you mean 'stay'?")):
        load_file(path, lake, contract=contract, settings=settings)
    with pytest.raises(ContractError, match="not a source table"):
        load_file(path, lake, "stay_summary", contract=contract, settings=settings)
    report = load_file(path, lake, "patient", contract=contract, settings=settings)
    assert report.files[0].source_file == "stays.csv"
    assert report.rows_loaded == 2


def test_parquet_text_may_be_dictionary_encoded_and_blank(src, lake, contract, settings):
    names = pa.array(["伤寒", "", "肺炎"]).dictionary_encode()
    pq.write_table(pa.table({
        "institution_id": ["H1", "H1", "H1"], "stay_id": ["S1", "S2", "S3"],
        "seq": pa.array(["1", "2", " "]).dictionary_encode(),
        "diagnosis_code": pa.array(["A01", "J18.9", "J18.9"]).dictionary_encode(),
        "diagnosis_name": names, "diagnosis_date": pa.array([None] * 3, pa.date32())}),
        src / "stay_diagnosis.parquet")
    report = load_folder(src, lake, contract=contract, settings=settings)
    assert dict(report.files[0].reject_reasons) == {"required value missing": 1}  # seq " "
    assert sorted(lake.duck.execute("SELECT stay_id, diagnosis_name FROM lake.raw.stay_diagnosis")
                  .fetchall()) == [("S1", "伤寒"), ("S2", None)]
