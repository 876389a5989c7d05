"""The writer lock and the transaction retry."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import pytest

from hospital_sdk.errors import StoreError, WriteConflictError
from hospital_sdk.store import Lakehouse
from hospital_sdk.store.writer import FileLock, backoff_delay, run_transaction


# -- lock -------------------------------------------------------------------------------------
def test_lock_excludes_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    path = tmp_path / "writer.lock"
    first, second = FileLock(path, 1.0), FileLock(path, 0.2)
    first.acquire(note="nightly load")
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        second.acquire()  # flock excludes a second open of the file, even in one process
    assert 0.2 <= time.monotonic() - started < 2
    assert str(path) in str(caught.value)
    assert f"pid {__import__('os').getpid()}: nightly load" in str(caught.value)
    first.release()
    with second:
        assert second.locked
    assert not second.locked and not first.locked
    first.release()  # releasing twice is harmless


def test_lock_waits_for_the_holder_to_finish(tmp_path: Path) -> None:
    path = tmp_path / "writer.lock"
    holder = FileLock(path, 1.0)
    holder.acquire()
    threading.Timer(0.2, holder.release).start()
    started = time.monotonic()
    with FileLock(path, 5.0):
        waited = time.monotonic() - started
    assert 0.15 <= waited < 2


def test_backoff_grows_jittered_and_capped() -> None:
    for attempt in range(1, 12):
        ceiling = min(2.0, 0.05 * 2 ** (attempt - 1))
        delays = [backoff_delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


# -- retry ------------------------------------------------------------------------------------
class Flaky:
    """Inserts a row, then raises ``error`` on the first ``failures`` calls."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self, duck: duckdb.DuckDBPyConnection) -> str:
        self.calls += 1
        duck.execute("INSERT INTO lake.raw.t VALUES (?)", [self.calls])
        if self.calls <= self.failures:
            raise self.error
        return "done"


@pytest.fixture
def table_t(lake: Lakehouse) -> Lakehouse:
    lake.write(lambda duck: duck.execute("CREATE TABLE lake.raw.t (call INT)"))
    return lake


def calls_in(lake: Lakehouse) -> list[int]:
    return [c for (c,) in lake.duck.execute("SELECT call FROM lake.raw.t ORDER BY 1").fetchall()]


def test_conflict_twice_then_success_is_retried(table_t: Lakehouse) -> None:
    fn = Flaky(2, duckdb.TransactionException("Failed to commit: database is locked"))
    assert table_t.write(fn) == "done"
    assert fn.calls == 3
    assert calls_in(table_t) == [3]  # the two failed attempts were rolled back


def test_busy_catalog_error_is_retried_too(table_t: Lakehouse) -> None:
    fn = Flaky(1, duckdb.Error("Failed to prepare query ...: database is locked"))
    assert table_t.write(fn) == "done"
    assert calls_in(table_t) == [2]


def test_endless_conflict_ends_in_write_conflict_error(table_t: Lakehouse) -> None:
    fn = Flaky(99, duckdb.TransactionException("Failed to commit"))
    with pytest.raises(WriteConflictError, match=r"after 3 attempts.*Failed to commit"):
        table_t.write(fn, attempts=3, description="flaky")
    assert fn.calls == 3
    assert calls_in(table_t) == []


def test_retry_sleeps_between_attempts_only(table_t: Lakehouse) -> None:
    slept: list[float] = []
    fn = Flaky(99, duckdb.TransactionException("conflict"))
    with pytest.raises(WriteConflictError):
        run_transaction(table_t.duck, fn, attempts=8, sleep=slept.append)
    assert fn.calls == 8
    ceilings = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0]  # doubling from 50 ms, capped at 2 s
    assert len(slept) == len(ceilings)
    assert all(c / 2 <= s <= c for s, c in zip(slept, ceilings, strict=True)), slept


def test_other_errors_roll_back_and_propagate_at_once(table_t: Lakehouse) -> None:
    fn = Flaky(99, KeyError("not a conflict"))
    with pytest.raises(KeyError):
        table_t.write(fn)
    assert fn.calls == 1
    assert calls_in(table_t) == []
    table_t.write(lambda duck: duck.execute("INSERT INTO lake.raw.t VALUES (5)"))
    assert calls_in(table_t) == [5]  # the connection is usable again


def test_a_transaction_left_open_is_reported(table_t: Lakehouse) -> None:
    table_t.duck.execute("BEGIN")
    try:
        with pytest.raises(StoreError, match="already open"):
            table_t.write(lambda duck: None)
    finally:
        table_t.duck.execute("ROLLBACK")


def test_attempts_must_be_positive(table_t: Lakehouse) -> None:
    with pytest.raises(ValueError, match="attempts"):
        table_t.write(lambda duck: None, attempts=0)
