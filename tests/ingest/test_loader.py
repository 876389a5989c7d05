"""The bad-input corpus: every defect is caught with the right reason, nothing is dropped, and
the good rows arrive typed and intact (Chinese text from GBK and UTF-8-BOM files included)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from hospital_sdk.config import Settings
from hospital_sdk.ingest import load_file, load_folder
from hospital_sdk.ingest.reconciliation import FileLoad
from hospital_sdk.store import Lakehouse
from tests.ingest.corpus import (
    CONTRACT, EXPECTED_COUNTS, EXPECTED_REJECTS, STAY_LOADED, rows, write_corpus, write_csv,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "source")


@pytest.fixture(scope="module")
def loaded_lake(corpus, tmp_path_factory):
    """The corpus loaded once for the read-only tests of this module."""
    home = tmp_path_factory.mktemp("lake")
    with Lakehouse.open(home) as lake:
        report = load_folder(corpus, lake, contract=CONTRACT,
                             settings=Settings(home=home, token_key="test-token-key"))
        yield report, lake


@pytest.fixture
def loaded(loaded_lake):
    return loaded_lake[0]


@pytest.fixture
def lake(loaded_lake):
    return loaded_lake[1]


def test_reconciliation_per_file(loaded, lake):
    frame = loaded.to_frame().set_index("source_file")
    assert sorted(frame.index) == sorted(EXPECTED_COUNTS)  # _truth/ and .DS_Store ignored
    for name, (rows_in, ok, bad) in EXPECTED_COUNTS.items():
        counts = tuple(frame.loc[name, ["rows_in", "rows_loaded", "rows_rejected"]])
        assert counts == (rows_in, ok, bad)
        assert frame.loc[name, "status"] == "loaded"
    ledger = rows(lake, "SELECT source_file, rows_in, rows_loaded, rows_rejected "
                        "FROM lake.raw.load_batches")
    assert ledger == sorted((k, *v) for k, v in EXPECTED_COUNTS.items())
    assert (loaded.rows_in, loaded.rows_loaded, loaded.rows_rejected) == (36, 12, 24)


def test_reject_counts_per_reason(loaded, lake):
    found: dict[str, dict[str, int]] = {}
    for source_file, reason, n in rows(lake, "SELECT source_file, reason, count(*) "
                                             "FROM lake.raw.load_rejects GROUP BY ALL"):
        found.setdefault(source_file, {})[reason] = n
    assert found == EXPECTED_REJECTS
    assert {f.source_file: dict(f.reject_reasons) for f in loaded.files} == EXPECTED_REJECTS


def test_rows_in_lake_match_each_file(loaded, lake):
    for name, (_, ok, bad) in EXPECTED_COUNTS.items():
        table = "patient" if name.startswith("patient") else \
            "stay" if name == "stay.csv" else "stay_diagnosis"
        assert rows(lake, f"SELECT count(*) FROM lake.raw.{table} WHERE _source_file = ?",
                    [name]) == [(ok,)]
        assert rows(lake, "SELECT count(*) FROM lake.raw.load_rejects WHERE source_file = ?",
                    [name]) == [(bad,)]


def test_good_rows_are_typed_with_lineage(loaded, lake):
    got = rows(lake, "SELECT stay_id, _source_row FROM lake.raw.stay")
    assert set(got) == STAY_LOADED
    s01 = lake.duck.execute("SELECT admission_time, los_days, total_cost, _source_file, _load_id "
                            "FROM lake.raw.stay WHERE stay_id = 'S01'").fetchone()
    assert s01[:4] == (datetime(2024, 1, 1, 8), 4, Decimal("1000.50"), "stay.csv")
    assert s01[4] == loaded.file("stay.csv").load_id
    # empty and quoted-empty values are nulls, not empty strings
    assert rows(lake, "SELECT los_days, total_cost FROM lake.raw.stay WHERE stay_id IN "
                      "('S11', 'S14')") == [(1, None), (None, None)]


def test_chinese_text_arrives_intact_from_gbk_and_utf8_bom(loaded, lake):
    assert rows(lake, "SELECT name FROM lake.raw.patient") == [("张三",), ("李四",)]
    assert rows(lake, "SELECT diagnosis_name FROM lake.raw.stay_diagnosis WHERE _source_file = "
                      "'stay_diagnosis_2024-01.csv'") == [("伤寒",), ("急性阑尾炎",)]
    encodings = dict(rows(lake, "SELECT source_file, encoding FROM lake.raw.load_batches"))
    assert encodings == {"patient.csv": "gb18030", "stay.csv": "utf-8",
                         "stay_diagnosis/extra.parquet": None,
                         "stay_diagnosis_2024-01.csv": "utf-8-sig",
                         "stay_diagnosis_2024-02.csv": "utf-8"}


def test_reject_rows_carry_every_problem_and_the_record(loaded, lake):
    field, reason, problems, record = lake.duck.execute(
        "SELECT field, reason, problems, record FROM lake.raw.load_rejects "
        "WHERE source_file = 'stay.csv' AND source_row = 13").fetchone()
    assert (field, reason) == ("los_days", "not a valid int32")
    assert json.loads(problems) == [
        {"field": "los_days", "reason": "not a valid int32", "value": "x"},
        {"field": "discharge_disposition", "reason": "code '8' not in discharge_disposition",
         "value": "8"},
    ]
    assert json.loads(record)["stay_id"] == "S12"
    rule = json.loads(lake.duck.execute(
        "SELECT problems FROM lake.raw.load_rejects WHERE source_file = 'stay.csv' "
        "AND source_row = 2").fetchone()[0])
    assert rule == [{"field": "discharge_time",
                     "reason": "violates rule discharge_after_admission: discharge_time is not "
                               "before admission_time",
                     "value": "discharge_time=2024-01-01 10:00:00; "
                              "admission_time=2024-01-02 08:00:00"}]
    # the parquet row's record keeps its typed values as JSON
    record = json.loads(lake.duck.execute(
        "SELECT record FROM lake.raw.load_rejects WHERE source_file = "
        "'stay_diagnosis/extra.parquet'").fetchone()[0])
    assert record == {"institution_id": "H1", "stay_id": "S02", "seq": 1, "diagnosis_code": None,
                      "diagnosis_name": None, "diagnosis_date": None}


def test_small_batches_give_the_same_result(corpus, lake, contract, settings, tmp_path):
    with Lakehouse.open(tmp_path / "other") as other:
        progress: list[tuple[str, int, int | None]] = []
        load_folder(corpus, other, contract=contract, settings=settings, batch_rows=2,
                    progress=lambda *args: progress.append(args))
        for query in ("SELECT * EXCLUDE (_load_id) FROM lake.raw.stay",
                      "SELECT * EXCLUDE (_load_id) FROM lake.raw.stay_diagnosis",
                      "SELECT * EXCLUDE (_load_id) FROM lake.raw.patient",
                      "SELECT source_file, source_row, reason, problems, record "
                      "FROM lake.raw.load_rejects"):
            assert rows(lake, query) == rows(other, query)
    stay_progress = [p for p in progress if p[0] == "stay.csv"]
    assert stay_progress == [("stay.csv", n, None) for n in (2, 4, 6, 8, 10, 12, 14, 16, 17)]
    assert ("stay_diagnosis/extra.parquet", 3, 3) in progress


def test_load_file_maps_by_name_and_folder(tmp_path, fresh_lake, contract, settings):
    lake = fresh_lake
    src = write_csv(tmp_path / "in" / "stay_diagnosis" / "jan.csv", """
        institution_id,stay_id,seq,diagnosis_code,diagnosis_name,diagnosis_date
        H1,S1,1,I21.000,急性心肌梗死,2024-01-02
    """)
    report = load_file(src, lake, contract=contract, settings=settings, root=tmp_path / "in")
    assert report.files[0].table_name == "stay_diagnosis"
    assert report.files[0].source_file == "stay_diagnosis/jan.csv"
    assert rows(lake, "SELECT stay_id, _source_file FROM lake.raw.stay_diagnosis") == [
        ("S1", "stay_diagnosis/jan.csv")]


def test_header_order_may_differ_names_may_have_blanks(tmp_path, fresh_lake, contract,
                                                       settings):
    lake = fresh_lake
    write_csv(tmp_path / "src" / "stay_diagnosis.csv", """
        diagnosis_date, seq ,stay_id,institution_id,diagnosis_name,diagnosis_code
        2024-01-02,1,S1,H1,肺炎,J18.9
    """)
    load_folder(tmp_path / "src", lake, contract=contract, settings=settings)
    assert rows(lake, "SELECT institution_id, stay_id, seq, diagnosis_code, "
                      "diagnosis_date::VARCHAR FROM lake.raw.stay_diagnosis") == [
        ("H1", "S1", 1, "J18.9", "2024-01-02")]


def test_summary_and_report_frame(loaded):
    text = loaded.summary()
    assert text.startswith("5 files: 36 rows in = 12 loaded + 24 rejected (5 loaded)")
    assert "required value missing" in text
    assert isinstance(loaded.files[0], FileLoad)
    assert list(loaded.to_frame().columns[:3]) == ["load_id", "table_name", "source_file"]


def test_a_files_batches_are_not_kept_until_its_commit(tmp_path, fresh_lake, contract,
                                                         settings):
    # a file loads in one transaction; a batch registered with DuckDB inside it stays alive until
    # the commit (duckdb-python issue 469), which held a month's file of 10M rows in memory
    import pyarrow as pa
    import pyarrow.parquet as pq

    n, batch = 60_000, 10_000
    table = pa.table({"institution_id": ["H1"] * n, "stay_id": [f"S{i}" for i in range(n)],
                      "seq": pa.array([1] * n, pa.int16()), "diagnosis_code": ["I21.0"] * n,
                      "diagnosis_name": [f"{i:0>200}" for i in range(n)],
                      "diagnosis_date": pa.array([None] * n, pa.date32())})
    path = tmp_path / "in" / "stay_diagnosis" / "big.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    held: list[int] = []
    load_file(path, fresh_lake, contract=contract, settings=settings, root=tmp_path / "in",
              batch_rows=batch, progress=lambda *_: held.append(pa.total_allocated_bytes()))
    assert len(held) == 6
    one_batch = table.slice(0, batch).nbytes  # ≈ 2.3 MB; kept batches would add 2 a batch
    assert max(held) - held[0] < 2 * one_batch
    assert rows(fresh_lake, "SELECT count(*) FROM lake.raw.stay_diagnosis") == [(n,)]
