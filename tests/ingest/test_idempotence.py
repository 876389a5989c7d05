"""Reloading is safe: an unchanged file is a no-op, a changed file replaces exactly its own rows
and rejects, and a load that fails half-way leaves the previous state."""

from __future__ import annotations

import pytest

from hospital_sdk.ingest import load_folder
from tests.ingest.corpus import DIAGNOSIS_2024_01, EXPECTED_COUNTS, rows, write_corpus, write_csv

TABLES = ("stay", "stay_diagnosis", "patient", "load_rejects")


def _contents(lake) -> dict[str, list[tuple]]:
    out = {t: rows(lake, f"SELECT * EXCLUDE (rejected_at) FROM lake.raw.{t}"
                         if t == "load_rejects" else f"SELECT * FROM lake.raw.{t}")
           for t in TABLES}
    out["load_batches"] = rows(lake, "SELECT * FROM lake.raw.load_batches")
    return out


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "source")


def test_loading_a_folder_twice_changes_nothing(corpus, lake, contract, settings):
    load_folder(corpus, lake, contract=contract, settings=settings)
    before, snapshot = _contents(lake), lake.current_snapshot()
    again = load_folder(corpus, lake, contract=contract, settings=settings)
    assert [f.status for f in again.files] == ["unchanged"] * len(EXPECTED_COUNTS)
    assert {f.source_file: (f.rows_in, f.rows_loaded, f.rows_rejected)
            for f in again.files} == EXPECTED_COUNTS
    assert _contents(lake) == before
    assert lake.current_snapshot() == snapshot  # not even an empty commit


def test_changed_file_replaces_exactly_its_rows_and_rejects(corpus, lake, contract, settings):
    first = load_folder(corpus, lake, contract=contract, settings=settings)
    other_files = "_source_file <> 'stay_diagnosis_2024-01.csv'"
    before_other = rows(lake, f"SELECT * FROM lake.raw.stay_diagnosis WHERE {other_files}")
    # new version: row 2's date fixed, the duplicate row 8 dropped, a new stay S08 added
    new_text = (DIAGNOSIS_2024_01.replace("2024-02-30", "2024-02-03")
                .replace("H1,S06,1,A01.0,伤寒,2024-01-06\nH1,S06,1,A01.0,伤寒,2024-01-06\n",
                         "H1,S06,1,A01.0,伤寒,2024-01-06\nH1,S08,1,B20,艾滋病,\n"))
    write_csv(corpus / "stay_diagnosis_2024-01.csv", new_text, encoding="utf-8-sig")
    second = load_folder(corpus, lake, contract=contract, settings=settings)
    status = {f.source_file: f.status for f in second.files}
    assert status.pop("stay_diagnosis_2024-01.csv") == "replaced"
    assert set(status.values()) == {"unchanged"}
    changed = second.file("stay_diagnosis_2024-01.csv")
    assert (changed.rows_in, changed.rows_loaded, changed.rows_rejected) == (8, 4, 4)
    assert changed.load_id != first.file("stay_diagnosis_2024-01.csv").load_id
    assert rows(lake, "SELECT stay_id, seq, _source_row FROM lake.raw.stay_diagnosis WHERE "
                      "_source_file = 'stay_diagnosis_2024-01.csv'") == [
        ("S03", 1, 1), ("S03", 2, 2), ("S06", 1, 7), ("S08", 1, 8)]
    assert rows(lake, "SELECT source_row, reason FROM lake.raw.load_rejects WHERE source_file = "
                      "'stay_diagnosis_2024-01.csv'") == sorted([
        (3, r"does not match ^[A-Z][0-9]{2}(\.[0-9A-Z]{1,3}(x[0-9]{3})?)?$"),
        (4, "duplicate primary key, already loaded from stay_diagnosis/extra.parquet"),
        (5, "required value missing"), (6, "out of range [1, 99]")], key=repr)
    assert rows(lake, f"SELECT * FROM lake.raw.stay_diagnosis WHERE {other_files}") == \
        before_other
    # the ledger keeps the history: two loads of the changed file, the latest is current
    assert rows(lake, "SELECT status, rows_loaded FROM lake.raw.load_batches WHERE source_file = "
                      "'stay_diagnosis_2024-01.csv'") == [("loaded", 2), ("replaced", 4)]


def test_failure_half_way_leaves_the_previous_state(corpus, lake, contract, settings):
    load_folder(corpus, lake, contract=contract, settings=settings)
    before, snapshot = _contents(lake), lake.current_snapshot()
    write_csv(corpus / "stay.csv", (corpus / "stay.csv").read_text().replace("S13", "S99"))

    def crash(file: str, done: int, total: int | None) -> None:
        if file == "stay.csv" and done >= 4:  # after two batches were written
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        load_folder(corpus, lake, contract=contract, settings=settings, batch_rows=2,
                    progress=crash)
    assert _contents(lake) == before
    assert lake.current_snapshot() == snapshot
    report = load_folder(corpus, lake, contract=contract, settings=settings)
    assert report.file("stay.csv").status == "replaced"
    assert ("S99",) in rows(lake, "SELECT stay_id FROM lake.raw.stay")


def test_reconciliation_is_checked_against_the_lake(corpus, lake, contract, settings,
                                                    monkeypatch):
    from hospital_sdk.errors import HospitalSDKError
    from hospital_sdk.ingest import loader

    def count_but_do_not_insert(self, rejected: str) -> tuple[str, dict[str, object]]:
        params = {"source_file": self.source.name} if "$source_file" in rejected else {}
        return f"SELECT count(*) FROM ({rejected})", params

    # the counts add up, but the rejects never reach the lake: the check against the lake fails
    monkeypatch.setattr(loader._FileLoader, "_rejects_insert", count_but_do_not_insert)
    with pytest.raises(HospitalSDKError, match="reconciliation failed for patient.csv: 5 rows "
                                               "in, but 2 loaded \\+ 0 rejected = 2"):
        load_folder(corpus, lake, contract=contract, settings=settings)
    assert rows(lake, "SELECT count(*) FROM lake.raw.patient") == [(0,)]
