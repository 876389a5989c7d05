"""A Dagster run killed in the middle of a write: the previous version stays readable and whole,
and the rerun completes it.

A small synthetic group (one year) is materialized once, the whole graph, through
:func:`assets.materialize.materialize`. Then the CLI (``python -m hospital_sdk materialize``)
re-materializes ``cleaned/charge_line`` or ``aggregated/stay_fact`` for the year in a child
process, and the child is killed with SIGKILL while it holds the writer lock for the table's
replace, at a point chosen by a seeded RNG (after the lock names the replace) or right after
the replace's first new Parquet file appears (the insert is under way, the commit is not). After
each kill a fresh reader must see every month of the table exactly as before (or, had the commit
won the race, exactly the complete new version), every other table untouched and the lock free;
the rerun must then give the clean rebuild again (same input, so the same rows: re-materializing
is idempotent).

This is the asset-graph version of
``tests/store/test_partitions.py::test_a_writer_killed_mid_write...`` (a bare writer), whose
helpers it reuses.

Slow: ≈ 2.3 min on the 2-core reference machine when it is otherwise idle (up to 4 under
load): the whole graph once ≈ 70 s, most of it fixed costs of the raw layer (load and checks per
file and table) that do not shrink with the scale, then ≈ 20 s per kill (the CLI's start-up of
≈ 10 s before its first write, the rerun, two fresh reads of every table).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from assets.materialize import materialize
from hospital_sdk.config import Settings
from hospital_sdk.store import Lakehouse
from hospital_sdk.store.writer import FileLock
from hospital_sdk.synth import generate
from tests.store.test_partitions import (  # noqa: F401 (procs is a fixture)
    data_files, delete_orphans, known_files, procs,
)

YEAR = 2025
FIRST, LAST = f"{YEAR}-01", f"{YEAR}-12"
SCALE = 0.002  # 140k charge lines: their replace holds the writer lock for ≈ 1.5 s here
PERIOD = {"cleaned.charge_line": "charge_time", "aggregated.stay_fact": "discharge_time"}
HISTORY = "application.quality_check_history"  # append-only: runs add rows, never change any

# (table whose replace is killed, when): "lock" = a seeded delay after the lock names the
# replace; "files" = as soon as the replace's first new Parquet file is on disk (before commit)
KILLS = (("cleaned.charge_line", "lock"), ("cleaned.charge_line", "files"),
         ("aggregated.stay_fact", "lock"))


@dataclass(frozen=True)
class Group:
    settings: Settings

    @property
    def home(self) -> Path:
        return self.settings.home


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> Group:
    base = tmp_path_factory.mktemp("killed_run")
    generate(base / "source", scale=SCALE, years=(YEAR,), seed=20250101)
    settings = Settings(home=base / "lake", source=base / "source", first_month=FIRST)
    result = materialize(settings, FIRST, LAST, progress=quiet)
    assert result.success, failures(result)
    return Group(settings)


def failures(result: object) -> list[str]:
    return [f"{e.step_key}: {e.step_failure_data.error}"  # type: ignore[attr-defined]
            for e in result.all_events  # type: ignore[attr-defined]
            if e.event_type_value == "STEP_FAILURE"]


# --- fingerprints, computed in SQL: order-independent ---------------------------------------

def lake_tables(duck: duckdb.DuckDBPyConnection) -> list[str]:
    return [f"{s}.{t}" for s, t in duck.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = 'lake' ORDER BY ALL").fetchall()]


def fingerprints(duck: duckdb.DuckDBPyConnection, table: str, key: str) -> dict[str, tuple]:
    """``{key value: (rows, sum of the rows' hashes)}`` of a table: equal iff the same multiset
    of rows (up to hash collisions); a duplicate or a missing row changes it."""
    return {k: (n, h) for k, n, h in duck.execute(
        f"SELECT {key} AS k, count(*), sum(hash(r)) FROM lake.{table} r GROUP BY k "
        f"ORDER BY k").fetchall()}


@dataclass(frozen=True)
class State:
    """What a reader sees: each monthly table month by month, every other table whole, and the
    check history run by run (a later run may only add its own rows)."""

    snapshot: int
    months: dict[str, dict[str, tuple]]
    tables: dict[str, tuple]
    history: dict[str, tuple]

    @classmethod
    def read(cls, duck: duckdb.DuckDBPyConnection) -> State:
        whole = [t for t in lake_tables(duck) if t not in PERIOD and t != HISTORY]
        rows = duck.execute(" UNION ALL ".join(  # one query: one pass over the catalog
            f"SELECT '{t}', count(*), coalesce(sum(hash(r)), 0) FROM lake.{t} r"
            for t in whole)).fetchall()
        return cls(
            snapshot=duck.execute("SELECT id FROM lake.current_snapshot()").fetchone()[0],
            months={t: fingerprints(duck, t, f"strftime({c}, '%Y-%m')")
                    for t, c in PERIOD.items()},
            tables={t: (n, h) for t, n, h in rows},
            history=fingerprints(duck, HISTORY, "run_id"))

    def keeps(self, earlier: State) -> bool:
        """Whether every run recorded in ``earlier``'s history still has exactly its rows."""
        return {r: h for r, h in self.history.items() if r in earlier.history} == earlier.history


def read_state(home: Path) -> State:
    with Lakehouse.open(home, read_only=True) as lake:  # a fresh connection: no cached state
        return State.read(lake.duck)


def quiet(event: str, step: str) -> None:
    """A progress callback that ignores the steps (and keeps Dagster's debug log quiet)."""


# --- the child run and its kill -------------------------------------------------------------

def selection(table: str) -> str:
    """The Dagster selection of ``table``'s asset: ``key:cleaned/charge_line``."""
    return "key:" + table.replace(".", "/")


def start_cli(group: Group, procs: list, table: str, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the child
        proc = subprocess.Popen(
            [sys.executable, "-m", "hospital_sdk", "materialize", "--first", FIRST, "--last",
             LAST, "--home", str(group.home), "--source", str(group.settings.source),
             "--select", selection(table)], stdout=out, stderr=subprocess.STDOUT, text=True,
            cwd=Path(__file__).parents[2])
    procs.append(proc)
    return proc


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen[str], log: Path,
               what: str, timeout: float = 300.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended (exit {proc.returncode}) before {what}:\n"
                                 f"{log.read_text()[-3000:]}")
        assert time.monotonic() < end, f"no {what} within {timeout} s"
        time.sleep(0.002)


def lock_text(home: Path) -> str:
    try:
        return (home / "writer.lock").read_text()
    except FileNotFoundError:
        return ""


def replacing(table: str, pid: int) -> str:
    """What the lock file says while ``pid`` replaces the year of ``table``."""
    return f"pid {pid}: replace {table} months {FIRST}..{LAST}"


def committed_replaces(home: Path, table: str, after: int) -> int:
    """Snapshots after ``after`` that committed a replace of ``table``."""
    with Lakehouse.open(home, read_only=True) as lake:
        snaps = lake.snapshots()
    later = snaps[snaps.snapshot_id > after]
    return int(later.commit_message.fillna("").str.startswith(f"replace {table} ").sum())


@pytest.mark.slow
def test_a_run_killed_mid_write_leaves_the_previous_version_and_the_rerun_completes_it(
        group: Group, tmp_path: Path, procs: list) -> None:  # noqa: F811 (fixture)
    home = group.home
    clean = state = read_state(home)
    assert all(len(months) == 12 for months in clean.months.values()), clean.months
    assert clean.tables["cleaned.inpatient_stay"][0] > 0 and clean.history
    rng = random.Random(20250301)
    mid_write = after_files = 0
    orphans: set[str] = set()

    for attempt, (table, trigger) in enumerate(KILLS, start=1):
        before = state  # what the previous rerun (or the first run) left

        log = tmp_path / f"run.{attempt}.log"
        proc = start_cli(group, procs, table, log)
        holding = replacing(table, proc.pid)
        wait_until(lambda: lock_text(home).startswith(holding), proc, log,
                   f"the lock naming {holding!r}")
        if trigger == "lock":
            delay = rng.uniform(0.05, 0.5)
            time.sleep(delay)
        else:  # the insert has started writing the table's files; the commit has not happened
            folder = home / "data" / Path(*table.split("."))
            known = data_files(home)
            wait_until(lambda: any(str(p) not in known for p in folder.rglob("*.parquet"))
                       or not lock_text(home).startswith(holding), proc, log,
                       "a new data file or the lock's release")
            delay = rng.uniform(0.0, 0.01)
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode in (-signal.SIGKILL, 0), log.read_text()[-3000:]
        held = lock_text(home)
        free = FileLock(home / "writer.lock", timeout=0)
        free.acquire()  # raises StoreError if the dead run still held it: flock died with it
        free.release()

        after = read_state(home)
        killed_inside = committed_replaces(home, table, before.snapshot) == 0  # before commit
        print(f"\nkill {attempt}: {table} after {trigger} + {delay:.3f} s: "
              f"{'inside the write' if killed_inside else 'after the commit'}")
        if killed_inside:
            mid_write += 1
            assert held.startswith(holding)  # it died holding the lock, in the replace
        # either way a reader sees every month whole: the previous version or, had the commit
        # won the race, the complete new one (the same rows: same input, idempotent build)
        assert after.months[table] == before.months[table], (attempt, table, trigger)
        assert after.months == before.months  # the other monthly table untouched
        assert after.tables == before.tables  # every other table untouched
        assert after.keeps(before)  # earlier check results kept, none changed
        with Lakehouse.open(home, read_only=True) as lake:
            left = data_files(home) - known_files(lake)
        if trigger == "files" and killed_inside:
            after_files += 1
            assert left - orphans, "the killed insert had written files; none are left over"
        orphans |= left

        result = materialize(group.settings, FIRST, LAST, selection=selection(table),
                             progress=quiet)  # the rerun, to completion
        assert result.success, failures(result)
        state = read_state(home)
        assert state.snapshot > after.snapshot
        assert state.months == clean.months  # the clean rebuild, exactly once
        assert state.tables == clean.tables
        assert state.keeps(after)  # the rerun only added its own check results
        assert sorted(state.months[table]) == [f"{YEAR}-{m:02d}" for m in range(1, 13)]

    assert mid_write >= 2  # the kills landed inside the writes (≈ 1.5 s and longer here)
    assert after_files >= 1  # one after the insert had written Parquet files, before commit

    # the killed inserts' Parquet files are on disk but unknown to the catalog: readers never see
    # them, and ducklake_delete_orphaned_files removes exactly them
    print(f"\norphan files left by {len(KILLS)} kills: {len(orphans)}")
    with Lakehouse.open(home) as lake:
        delete_orphans(lake, orphans)
    final = read_state(home)
    assert (final.months, final.tables) == (clean.months, clean.tables)
    assert final.keeps(state)
