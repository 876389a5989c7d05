"""Several processes on one lakehouse: a reader during writes, two writers, the writer lock.

Each test starts real processes (``workers.py``) and bounds every wait, so a hang fails the
test instead of stalling the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from hospital_sdk.errors import StoreError
from hospital_sdk.store import Lakehouse

WORKERS = Path(__file__).with_name("workers.py")
pytestmark = pytest.mark.slow


class Workers:
    """Starts worker processes and kills whatever is still running at the end of the test."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, role: str, **args: object) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, str(WORKERS), role, json.dumps(args)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        return proc

    @staticmethod
    def result(proc: subprocess.Popen[str], timeout: float = 45.0) -> dict:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err[-3000:]
        return json.loads(out.strip().splitlines()[-1])

    @staticmethod
    def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not path.exists():
            if proc.poll() is not None:
                raise AssertionError(f"worker died before {path.name}: {proc.stderr.read()}")
            assert time.monotonic() < end, f"{path.name} did not appear within {timeout} s"
            time.sleep(0.02)

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def workers() -> Iterator[Workers]:
    running = Workers()
    try:
        yield running
    finally:
        running.kill_all()


N, COMMITS = 2000, 30


def test_reader_sees_only_whole_commits_while_a_writer_runs(home: Path, tmp_path: Path,
                                                            workers: Workers) -> None:
    with Lakehouse.open(home) as lake:
        lake.replace("t", pa.table({"id": list(range(N)), "v": [0] * N}))
    ready, stop = tmp_path / "reader.ready", tmp_path / "stop"
    reader = workers.start("reader", home=str(home), ready_file=str(ready),
                           stop_file=str(stop), deadline=40.0)
    writer = workers.start("writer", home=str(home), rows=N, commits=COMMITS, pause=0.05,
                           go_file=str(ready))  # starts committing once the reader reads
    assert workers.result(writer) == {"commits": COMMITS}
    stop.touch()
    seen = workers.result(reader)

    assert seen["n_errors"] == 0, seen["errors"]
    assert seen["states"] == [[N, 1]]  # every read: all N rows of one commit, never a mix
    assert any(0 < v < COMMITS for v in seen["values"]), seen  # saw commits as they happened
    assert len(seen["values"]) > 2
    assert seen["last"] == COMMITS  # the read after the writer finished sees its last commit


def test_two_writers_create_one_home_and_lose_nothing(tmp_path: Path,
                                                      workers: Workers) -> None:
    home, go = tmp_path / "new", tmp_path / "go"  # a new home: both processes create it
    inserts, rows = 40, 50
    procs = [workers.start("inserter", home=str(home), worker=w, inserts=inserts, rows=rows,
                           ready_file=str(tmp_path / f"{w}.ready"), go_file=str(go))
             for w in (1, 2)]
    for w, proc in zip((1, 2), procs, strict=True):
        workers.wait_for(tmp_path / f"{w}.ready", proc)
    go.touch()  # both start writing at once
    assert [workers.result(p) for p in procs] == [{"inserts": inserts}] * 2

    with Lakehouse.open(home, read_only=True) as lake:
        per_worker = lake.duck.execute(
            "SELECT w, count(*), count(DISTINCT i) FROM lake.raw.t GROUP BY w ORDER BY w"
        ).fetchall()
        messages = lake.snapshots().commit_message.tolist()
    assert per_worker == [(1, inserts * rows, inserts), (2, inserts * rows, inserts)]
    # creating the catalog, the layers and the table happened once, under the writer lock
    assert messages.count("create layers") == 1, messages
    assert messages.count("create table raw.t") == 1, messages
    assert len(messages) == 1 + 2 + 2 * inserts  # snapshot 0, the two above, the inserts


def test_write_times_out_naming_the_lock_file(home: Path, tmp_path: Path,
                                              workers: Workers) -> None:
    with Lakehouse.open(home, lock_timeout=0.3) as lake:
        ready = tmp_path / "holder.ready"
        holder = workers.start("holder", lock_file=str(home / "writer.lock"),
                               ready_file=str(ready))
        workers.wait_for(ready, holder)
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"writer\.lock") as caught:
            lake.write(lambda duck: duck.execute("CREATE TABLE lake.raw.t (a INT)"))
        waited = time.monotonic() - started
        assert str(home / "writer.lock") in str(caught.value)
        assert "test holder" in str(caught.value)  # names who holds it
        assert 0.3 <= waited < 5
        assert not lake.has_table("t")

        holder.kill()  # a dead holder frees the lock: no stale lock after a crash
        holder.wait(timeout=10)
        lake.write(lambda duck: duck.execute("CREATE TABLE lake.raw.t (a INT)"))
        assert lake.has_table("t")
