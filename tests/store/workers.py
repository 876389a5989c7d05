"""Processes the concurrency tests start: ``python workers.py <role> <json arguments>``.

Each role prints one JSON line with what it saw. Kept free of side effects on import, because
pytest imports every module for its doctests.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def reader(home: str, ready_file: str, stop_file: str, deadline: float) -> dict:
    """Read ``raw.t`` through Ibis until ``stop_file`` appears (then once more) or ``deadline``
    seconds pass."""
    from hospital_sdk.store import Lakehouse

    states: set[tuple[int, int]] = set()
    values: set[int] = set()
    errors: list[str] = []
    reads = 0
    last = None
    with Lakehouse.open(home) as lake:
        Path(ready_file).touch()
        end = time.monotonic() + deadline
        stop = False
        while not stop and time.monotonic() < end:
            stop = Path(stop_file).exists()  # the read after this sees the final commit
            try:
                t = lake.table("t")
                row = t.aggregate(n=t.count(), d=t.v.nunique(), v=t.v.min()).execute().iloc[0]
                states.add((int(row.n), int(row.d)))
                values.add(int(row.v))
                last = int(row.v)
                reads += 1
            except Exception as exc:  # recorded, the test asserts there are none
                errors.append(f"{type(exc).__name__}: {exc}")
    return {"states": sorted(states), "values": sorted(values), "errors": errors[:5],
            "n_errors": len(errors), "reads": reads, "last": last}


def writer(home: str, rows: int, commits: int, pause: float, go_file: str) -> dict:
    """Once ``go_file`` exists, replace ``raw.t`` ``commits`` times with ``rows`` rows all
    carrying ``v = i``."""
    import pyarrow as pa

    from hospital_sdk.store import Lakehouse

    with Lakehouse.open(home) as lake:
        while not Path(go_file).exists():
            time.sleep(0.005)
        for i in range(1, commits + 1):
            lake.replace("t", pa.table({"id": list(range(rows)), "v": [i] * rows}))
            time.sleep(pause)
    return {"commits": commits}


def inserter(home: str, worker: int, inserts: int, rows: int, ready_file: str,
             go_file: str) -> dict:
    """Open (maybe create) the lakehouse and ``raw.t``, wait for ``go_file``, then commit
    ``inserts`` transactions through ``Lakehouse.write``, each adding ``rows`` rows."""
    import ibis

    from hospital_sdk.store import Lakehouse

    with Lakehouse.open(home) as lake:
        lake.ensure_table("t", ibis.schema({"w": "!int32", "i": "!int32", "r": "!int64"}))
        Path(ready_file).touch()
        while not Path(go_file).exists():
            time.sleep(0.005)
        for i in range(inserts):
            lake.write(lambda duck, i=i: duck.execute(
                f"INSERT INTO lake.raw.t SELECT {worker}, {i}, range FROM range({rows})"))
    return {"inserts": inserts}


def holder(lock_file: str, ready_file: str) -> None:
    """Hold the writer lock until killed (at most a minute)."""
    import fcntl
    import os

    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"pid %d: test holder\n" % os.getpid())
    Path(ready_file).touch()
    time.sleep(60)


if __name__ == "__main__":
    role, args = sys.argv[1], json.loads(sys.argv[2])
    result = {"reader": reader, "writer": writer, "inserter": inserter,
              "holder": holder}[role](**args)
    print(json.dumps(result), flush=True)


def month_frame(month: str, rows: int, version: int):  # -> pyarrow.Table
    """``rows`` rows of ``month``: ``id``, timestamp ``t`` spread over the month, ``v = version``.

    Deterministic, so the test can rebuild the frame a worker wrote and compare checksums.
    """
    import numpy as np
    import pyarrow as pa

    from hospital_sdk.store.partitions import month_bounds

    start, end = month_bounds(month)
    seconds = int((end - start).total_seconds())
    ids = np.arange(rows, dtype=np.int64)
    stamps = np.datetime64(start, "s") + (ids * 7919 % seconds).astype("timedelta64[s]")
    return pa.table({"id": ids, "t": stamps, "v": np.full(rows, version, dtype=np.int64)})


def month_replacer(home: str, month: str, rows: int, version: int, ready_file: str) -> dict:
    """Build ``month_frame(month, rows, version)``, open the lakehouse, touch ``ready_file``
    right before the write, then replace ``month`` of ``raw.m`` with it (the crash test kills
    this process mid-write). Run as ``python -c`` (see ``test_partitions.run_worker``)."""
    from hospital_sdk.store import Lakehouse
    from hospital_sdk.store.partitions import replace_month

    frame = month_frame(month, rows, version)
    with Lakehouse.open(home) as lake:
        Path(ready_file).touch()
        started = time.monotonic()
        n = replace_month(lake, "m", frame, period_column="t", month=month)
        return {"rows": n, "seconds": time.monotonic() - started}
