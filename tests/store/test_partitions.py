"""Monthly partitions: replacing a month is idempotent, checked, and survives a killed writer."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from hospital_sdk.errors import StoreError
from hospital_sdk.store import Lakehouse
from hospital_sdk.store.partitions import month_bounds, replace_month
from hospital_sdk.store.writer import FileLock
from tests.store.test_concurrency import Workers
from tests.store.workers import month_frame  # the frames the worker writes, rebuilt here

WORKERS = Path(__file__).parent


def months(year: int = 2024) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def rows_of(lake: Lakehouse, where: str = "true") -> list[tuple]:
    return lake.duck.execute(f"SELECT id, t, v FROM lake.raw.m WHERE {where} ORDER BY ALL"
                             ).fetchall()


def in_month(month: str) -> str:
    start, end = month_bounds(month)
    return f"t >= TIMESTAMP '{start}' AND t < TIMESTAMP '{end}'"


def fingerprint(con: duckdb.DuckDBPyConnection, source: str, where: str = "true") -> tuple:
    """Count, checksum and version range of ``source``'s rows matching ``where``."""
    return con.execute(f"SELECT count(*), sum(hash(id, t, v)), min(v), max(v), "
                       f"count(DISTINCT id) FROM {source} WHERE {where}").fetchone()


def frame_fingerprint(frame: pa.Table) -> tuple:
    con = duckdb.connect()
    con.register("frame", frame)
    return fingerprint(con, "frame")


# --- month_bounds ---------------------------------------------------------------------------

def test_month_bounds() -> None:
    assert month_bounds("2024-02") == (datetime(2024, 2, 1), datetime(2024, 3, 1))
    assert month_bounds("2023-12") == (datetime(2023, 12, 1), datetime(2024, 1, 1))
    assert month_bounds(date(2024, 2, 29)) == month_bounds("2024-02")
    assert month_bounds(datetime(2024, 2, 29, 23, 59)) == month_bounds("2024-02")
    for bad in ("2024-13", "2024-00", "2024-3", "March", "2024-03-01"):
        with pytest.raises(ValueError):
            month_bounds(bad)


# --- replace_month --------------------------------------------------------------------------

def test_replacing_a_month_twice_gives_the_same_rows_and_leaves_other_months(lake) -> None:
    for m in ("2024-02", "2024-03", "2024-04"):
        assert replace_month(lake, "m", month_frame(m, 500, 0), period_column="t", month=m) == 500
    others = rows_of(lake, f"NOT ({in_month('2024-03')})")
    new = month_frame("2024-03", 700, 1)

    assert replace_month(lake, "m", new, period_column="t", month="2024-03") == 700
    first = rows_of(lake)
    assert replace_month(lake, "m", new, period_column="t", month="2024-03") == 700
    assert rows_of(lake) == first  # idempotent: same rows, no duplicates
    assert rows_of(lake, in_month("2024-03")) == sorted(
        zip(*(new[c].to_pylist() for c in ("id", "t", "v")), strict=True))
    assert rows_of(lake, f"NOT ({in_month('2024-03')})") == others
    assert lake.duck.execute("SELECT count(*) FROM lake.raw.m").fetchone()[0] == 2 * 500 + 700
    assert lake.snapshots().commit_message.iloc[-1] == "replace raw.m month 2024-03"


def test_rows_outside_the_month_raise_and_write_nothing(lake) -> None:
    bad = pa.concat_tables([month_frame("2024-03", 10, 0), month_frame("2024-04", 3, 0)])
    before = lake.current_snapshot()
    with pytest.raises(StoreError, match=r"month 2024-03 of lake\.raw\.m: 3 of 13 rows") as e:
        replace_month(lake, "m", bad, period_column="t", month="2024-03")
    assert "[2024-03-01, 2024-04-01)" in str(e.value)
    assert not lake.has_table("m")  # not even created
    assert lake.current_snapshot() == before

    replace_month(lake, "m", month_frame("2024-03", 10, 0), period_column="t", month="2024-03")
    kept, before = rows_of(lake), lake.current_snapshot()
    with_null = pa.table({"id": [1, 2], "t": pa.array([datetime(2024, 3, 5), None]),
                          "v": [9, 9]})
    with pytest.raises(StoreError, match=r"1 of 2 rows .*\(1 of them NULL\)"):
        replace_month(lake, "m", with_null, period_column="t", month="2024-03")
    with pytest.raises(StoreError, match="no column 'when'"):
        replace_month(lake, "m", month_frame("2024-03", 5, 1), period_column="when",
                      month="2024-03")
    with pytest.raises(StoreError, match="by 'v': it is BIGINT, expected DATE or TIMESTAMP"):
        replace_month(lake, "m", month_frame("2024-03", 5, 1), period_column="v",
                      month="2024-03")
    assert rows_of(lake) == kept
    assert lake.current_snapshot() == before


def test_a_year_backfill_month_by_month_gives_exactly_the_union(lake, home: Path) -> None:
    frames = {m: month_frame(m, 100 + i, i) for i, m in enumerate(months())}
    for m, frame in frames.items():
        replace_month(lake, "m", frame, period_column="t", month=m)
    replace_month(lake, "m", frames["2024-06"], period_column="t", month="2024-06")  # rerun

    union = pa.concat_tables(frames.values())
    assert rows_of(lake) == sorted(zip(*(union[c].to_pylist() for c in ("id", "t", "v")),
                                       strict=True))
    per_month = lake.duck.execute("SELECT month(t), count(*), min(v), max(v) FROM lake.raw.m "
                                  "GROUP BY ALL ORDER BY ALL").fetchall()
    assert per_month == [(i + 1, 100 + i, i, i) for i in range(12)]
    # partitioned by year and month of t: each month's files in their own folder
    files = [Path(f) for (f,) in lake.duck.execute(
        "SELECT data_file FROM ducklake_list_files('lake', 'm', schema => 'raw')").fetchall()]
    assert sorted({(f.parent.parent.name, f.parent.name) for f in files}) == sorted(
        ("year=2024", f"month={i}") for i in range(1, 13))


def test_dates_december_and_a_query_on_the_table_itself(lake) -> None:
    days = pa.table({"d": [date(2023, 12, 1), date(2023, 12, 31)], "n": [1, 2]})
    assert replace_month(lake, "days", days, period_column="d", month="2023-12") == 2
    jan = pa.table({"d": [date(2024, 1, 1)], "n": [3]})
    assert replace_month(lake, "days", jan, period_column="d", month=date(2024, 1, 15)) == 1
    # an Ibis query reading the month it replaces: staged before the delete
    t = lake.table("days")
    doubled = t.filter(t.d < date(2024, 1, 1)).mutate(n=t.n * 10)
    assert replace_month(lake, "days", doubled, period_column="d", month="2023-12") == 2
    assert lake.duck.execute("SELECT d, n FROM lake.raw.days ORDER BY d").fetchall() == [
        (date(2023, 12, 1), 10), (date(2023, 12, 31), 20), (date(2024, 1, 1), 3)]


# --- a writer killed mid-write --------------------------------------------------------------

BIG = 3_000_000  # a replace of this many rows takes 0.5-1 s here


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    try:
        yield started
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def run_worker(procs: list, **args: object) -> subprocess.Popen[str]:
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import workers; "
            "print(json.dumps(workers.month_replacer(**json.loads(sys.argv[2]))), flush=True)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(WORKERS), json.dumps(args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.append(proc)
    return proc


def data_files(home: Path) -> set[str]:
    return {str(p) for p in (home / "data").rglob("*") if p.is_file()}


def delete_orphans(lake: Lakehouse, orphans: set[str]) -> None:
    """Assert the files on disk the catalog does not know are exactly ``orphans`` (left by killed
    writers), remove them with ``ducklake_delete_orphaned_files`` and assert only known files
    remain."""
    assert data_files(lake.home) - known_files(lake) == orphans
    lake.write(lambda duck: duck.execute(
        "CALL ducklake_delete_orphaned_files('lake', cleanup_all => true)").fetchall())
    assert data_files(lake.home) == known_files(lake)


def known_files(lake: Lakehouse) -> set[str]:
    """Every data and delete file the catalog knows, current or kept for time travel."""
    meta = "__ducklake_metadata_lake"
    rows = lake.duck.execute(" UNION ".join(
        f"SELECT DISTINCT CASE WHEN f.path_is_relative THEN s.path || t.path || f.path "
        f"ELSE f.path END FROM {meta}.{kind} f JOIN {meta}.ducklake_table t USING (table_id) "
        f"JOIN {meta}.ducklake_schema s USING (schema_id)"
        for kind in ("ducklake_data_file", "ducklake_delete_file"))).fetchall()
    return {str(lake.home / "data" / p) for (p,) in rows}


@pytest.mark.slow
def test_a_writer_killed_mid_write_leaves_the_previous_month_and_the_rerun_completes(
        home: Path, tmp_path: Path, procs: list) -> None:
    month, others = "2024-03", ("2024-02", "2024-04")
    with Lakehouse.open(home) as lake:
        for m in (*others, month):
            replace_month(lake, "m", month_frame(m, 1000, 0), period_column="t", month=m)
        untouched = rows_of(lake, f"NOT ({in_month(month)})")
    rng = random.Random(20240301)  # the write takes >= 0.5 s: these kills land inside it
    delays = [rng.uniform(0.05, 0.3) for _ in range(3)]
    orphans: set[str] = set()
    mid_write = 0

    for version, delay in enumerate(delays, start=1):
        with Lakehouse.open(home) as lake:
            previous = fingerprint(lake.duck, "lake.raw.m", in_month(month))
            snapshot = lake.current_snapshot()
        ready = tmp_path / f"ready.{version}"
        proc = run_worker(procs, home=str(home), month=month, rows=BIG, version=version,
                          ready_file=str(ready))
        Workers.wait_for(ready, proc)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        out = proc.stdout.read()
        assert proc.returncode in (-signal.SIGKILL, 0), proc.stderr.read()
        if proc.returncode == -signal.SIGKILL:
            # it died holding the writer lock: the file still names it, but flock died with it
            assert f"pid {proc.pid}: " in (home / "writer.lock").read_text()
            free = FileLock(home / "writer.lock", timeout=0)
            free.acquire()  # would raise StoreError if the dead process still held it
            free.release()

        with Lakehouse.open(home, lock_timeout=5) as lake:  # fresh process state, reads fine
            if lake.current_snapshot() == snapshot:  # killed before its commit: nothing of it
                mid_write += 1
                assert fingerprint(lake.duck, "lake.raw.m", in_month(month)) == previous
            else:  # on a machine fast enough to commit first, the new month is whole
                assert fingerprint(lake.duck, "lake.raw.m", in_month(month)) == (
                    frame_fingerprint(month_frame(month, BIG, version))), out
            assert rows_of(lake, f"NOT ({in_month(month)})") == untouched
            orphans |= data_files(home) - known_files(lake)

            frame = month_frame(month, BIG, version)  # the rerun, to completion
            assert replace_month(lake, "m", frame, period_column="t", month=month) == BIG
        with Lakehouse.open(home) as lake:
            assert fingerprint(lake.duck, "lake.raw.m", in_month(month)) == (
                frame_fingerprint(frame))  # the new version, exactly once
            assert rows_of(lake, f"NOT ({in_month(month)})") == untouched
    assert mid_write >= 1  # at least one kill landed inside a write (0.5-1 s long here)

    # Parquet files the killed writers left behind are on disk but unknown to the catalog:
    # harmless to readers; ducklake_delete_orphaned_files removes them, the catalog's own
    # files stay.
    print(f"\norphan files left by {len(delays)} kills: {len(orphans)}")
    with Lakehouse.open(home) as lake:
        delete_orphans(lake, orphans)
        assert fingerprint(lake.duck, "lake.raw.m", in_month(month)) == frame_fingerprint(frame)
        assert rows_of(lake, f"NOT ({in_month(month)})") == untouched


def test_a_query_on_another_layer_streams_and_is_checked_after_the_insert(
        lake, monkeypatch) -> None:
    # cleaned.m built from raw.m: the query never reads the table it replaces, so nothing is
    # staged (staging a year of charge lines spilled > 30 GB at SF 1); the month check then
    # counts what the emptied months hold after the insert.
    from hospital_sdk.store.tables import RowSource

    for m, n in (("2024-03", 10), ("2024-04", 3)):
        replace_month(lake, "m", month_frame(m, n, 0), period_column="t", month=m)
    monkeypatch.setattr(RowSource, "stage", lambda *a: pytest.fail("the rows were staged"))
    raw = lake.table("m")
    march = raw.filter(raw.t < datetime(2024, 4, 1)).mutate(v=raw.v + 1)
    assert replace_month(lake, "m", march, layer="cleaned", period_column="t",
                         month="2024-03") == 10
    assert lake.duck.execute("SELECT count(*), sum(v) FROM lake.cleaned.m").fetchone() == (10, 10)

    before = lake.current_snapshot()
    with pytest.raises(StoreError, match=r"month 2024-03 of lake\.cleaned\.m: 3 of 13 rows "
                                         r"have t outside \[2024-03-01, 2024-04-01\) \(0 of "):
        replace_month(lake, "m", raw.mutate(v=raw.v + 2), layer="cleaned", period_column="t",
                      month="2024-03")
    assert lake.current_snapshot() == before  # rolled back: the 10 rows of v = 1 remain
    assert lake.duck.execute("SELECT count(*), sum(v) FROM lake.cleaned.m").fetchone() == (10, 10)
    with pytest.raises(StoreError, match=r"3 of 3 rows have t outside .* nothing was written"):
        replace_month(lake, "m", raw.filter(raw.t >= datetime(2024, 4, 1)), layer="aggregated",
                      period_column="t", month="2024-03")
    assert not lake.has_table("m", layer="aggregated")
