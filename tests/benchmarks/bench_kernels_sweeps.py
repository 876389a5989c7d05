"""Interval sweep kernels vs their SQL path: bed-days, hourly census, waiting queue per minute.

For ``rows`` events of a seeded random group — ward intervals (:func:`random_movements`: stays
over 2024 in 2 institutions × 25 wards, 20 % of them transferred once, 1 % still in the ward)
or outpatient visits (:func:`random_visits`: 2 institutions × 30 clinics, check-ins between
08:00 and 17:00, waits of about 20 minutes, some never called or never checked in) — each
measured in a fresh child process, medians of ``--repeat``, for each calculation:

- ``kernel``: the public wrapper on the pandas frame (:func:`hospital_sdk.kernels.
  occupied_bed_days`, ``hourly_census``, ``waiting_queue``): validation, factorising, mark
  indices, the sweep and the tidy output frame (compiled once before timing) — what the product
  pays on the kernel path;
- ``kernel alone``: the compiled sweep (and, for the queue, the daily summary) over the group
  codes and mark indices already computed;
- ``kernel path of the product``: :func:`~hospital_sdk.aggregated.occupancy.ward_bed_days`
  (``ward_hourly_census``, :func:`~hospital_sdk.aggregated.queues.clinic_waiting_queue`) with
  ``method="kernel"`` on the DuckDB tables: the rows fetched to pandas, then the wrapper — what
  ``method="auto"`` would run, so the verdict is taken on it;
- ``SQL``: the Ibis path (:func:`hospital_sdk.aggregated.occupancy.bed_days_sql`,
  ``hourly_census_sql``, :func:`hospital_sdk.aggregated.queues.waiting_queue_sql`) on DuckDB
  tables holding the same rows, fetched to Arrow;

over the whole year 2024 (366 days, 8,784 hour marks, 527,040 minute marks). All four ways
are checked equal (output rows and the total of the counts). The issue's rule: a kernel is used
in the product only where it is at least 5× faster than the SQL path on 10M events (taken here
on the product's kernel path, fetch included); the report states the ratios and the verdict,
and :data:`hospital_sdk.aggregated.occupancy.KERNEL_WINS` records it.

Run with the lead's runner (``--only kernels``), or in-process for a quick check::

    .venv/bin/python -m tests.benchmarks.bench_kernels_sweeps 100000
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tests.benchmarks.measurements import Measure, in_process, median_run

__all__ = ["CALCULATIONS", "CHILD", "random_movements", "random_visits", "report", "run"]

_MINUTE_NS = 60_000_000_000
_YEAR = pd.Timestamp("2024-01-01").value

CALCULATIONS: tuple[str, ...] = ("bed_days", "hourly_census", "waiting_queue")
"""The calculations measured, keys of ``KERNEL_WINS``."""


def random_movements(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` ward intervals of ``stay_movement`` (deterministic by ``seed``)."""
    rng = np.random.default_rng(seed)
    moved = rows // 5
    stays = rows - moved
    admit = _YEAR + rng.integers(0, 366 * 1440, stays).astype(np.int64) * _MINUTE_NS
    los = (rng.exponential(8 * 1440, stays).astype(np.int64) + rng.integers(0, 600, stays)
           ) * _MINUTE_NS
    out = admit + los
    ward = rng.integers(0, 50, stays)
    inst = np.where(ward < 25, "H1", "H2").astype(object)
    split = admit[:moved] + (los[:moved] * rng.random(moved)).astype(np.int64)
    split -= split % _MINUTE_NS
    end = out.copy()
    end[:moved] = split
    end_time = pd.Series(pd.to_datetime(np.concatenate([end, out[:moved]])))
    end_time[rng.random(rows) < 0.01] = pd.NaT
    second_ward = (ward[:moved] + 1 + rng.integers(0, 24, moved)) % 25 + np.where(
        ward[:moved] < 25, 0, 25)
    wards = np.concatenate([ward, second_ward])
    return pd.DataFrame({
        "institution_id": np.concatenate([inst, inst[:moved]]),
        "stay_id": np.concatenate([np.arange(stays), np.arange(moved)]).astype(str).astype(
            object),
        "seq": np.concatenate([np.ones(stays, np.int16), np.full(moved, 2, np.int16)]),
        "ward_id": np.char.add("W", wards.astype(str)).astype(object),
        "dept_id": np.char.add("D", (wards // 2).astype(str)).astype(object),
        "start_time": pd.to_datetime(np.concatenate([admit, split])),
        "end_time": end_time})


def random_visits(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` outpatient visits with check-in, call and end times (deterministic by ``seed``).
    """
    rng = np.random.default_rng(seed)
    day = rng.integers(0, 366, rows).astype(np.int64)
    checkin = _YEAR + day * 1440 * _MINUTE_NS + (8 * 3600 + rng.integers(0, 9 * 3600, rows)
                                                 ) * 1_000_000_000
    wait = rng.exponential(20 * 60, rows).astype(np.int64) * 1_000_000_000
    clinic = rng.integers(0, 60, rows)
    call = pd.Series(pd.to_datetime(checkin + wait))
    call[rng.random(rows) < 0.08] = pd.NaT
    end = pd.Series(pd.to_datetime(checkin + wait + 10 * _MINUTE_NS))
    end[rng.random(rows) < 0.3] = pd.NaT
    checkin_time = pd.Series(pd.to_datetime(checkin))
    checkin_time[rng.random(rows) < 0.03] = pd.NaT
    return pd.DataFrame({
        "institution_id": np.where(clinic < 30, "H1", "H2").astype(object),
        "dept_id": np.char.add("C", clinic.astype(str)).astype(object),
        "visit_time": pd.to_datetime(checkin), "checkin_time": checkin_time,
        "call_time": call, "end_time": end})


_START, _END = "'2024-01-01'", "'2025-01-01'"
_FRAME = {"bed_days": "random_movements", "hourly_census": "random_movements",
          "waiting_queue": "random_visits"}
_WRAPPER = {
    "bed_days": ("occupied_bed_days(frame, START, END)", "occupied_bed_days"),
    "hourly_census": ("hourly_census(frame, START, END)", "census"),
    "waiting_queue": ("waiting_queue(frame, START, END).minutes", "waiting")}
_CORE_SETUP = {
    "bed_days": """
    s = _nanoseconds(frame["start_time"], "start_time", "b")
    e = _nanoseconds(frame["end_time"], "end_time", "b")
    group, keys = _groups(frame, ("institution_id", "ward_id"))
    first = pd.Timestamp(START).value
    lo = np.clip(_first_mark(s, first, _DAY_NS, 367) - 1, 0, 366)
    hi = np.clip(_first_mark(e, first, _DAY_NS, 367) - 1, 0, 366)
    g, day = _same_day_stays(frame, group, s, e, first)
    inside = (day >= 0) & (day < 366)
    group = np.concatenate([group, g[inside]])
    lo, hi = np.concatenate([lo, day[inside]]), np.concatenate([hi, day[inside] + 1])
    N = 366
""", "hourly_census": """
    group, keys = _groups(frame, ("institution_id", "ward_id"))
    first, N = pd.Timestamp(START).value, 366 * 24
    lo = _first_mark(_nanoseconds(frame["start_time"], "s", "h"), first, _HOUR_NS, N)
    hi = _first_mark(_nanoseconds(frame["end_time"], "e", "h"), first, _HOUR_NS, N)
""", "waiting_queue": """
    checkin, call, keep, _ = _queue_intervals(frame, "until_end", "q")
    group, keys = _groups(frame[keep], ("institution_id", "dept_id"))
    first, N = pd.Timestamp(START).value, 366 * 1440
    lo = _first_mark(checkin[keep], first, _MINUTE_NS, N)
    hi = _first_mark(call[keep], first, _MINUTE_NS, N)
"""}
_PRODUCT = {
    "bed_days": ("ward_bed_days", 'ward_bed_days(tables, first, stop, method="kernel")'),
    "hourly_census": ("ward_hourly_census",
                      'ward_hourly_census(tables, first, stop, method="kernel")'),
    "waiting_queue": ("clinic_waiting_queue",
                      'clinic_waiting_queue(tables, first, stop, method="kernel").minutes')}
_SQL = {
    "bed_days": ("bed_days_sql", "stay_movement", "occupied_bed_days"),
    "hourly_census": ("hourly_census_sql", "stay_movement", "census"),
    "waiting_queue": ("waiting_queue_sql", "outpatient_visit", "waiting")}


def _child(calculation: str) -> dict[str, tuple[str, str]]:
    frame = _FRAME[calculation]
    call, value = _WRAPPER[calculation]
    head = f"""
    import datetime as dt
    import numpy as np
    import pandas as pd
    from tests.benchmarks.bench_kernels_sweeps import {frame}
    START, END = {_START}, {_END}
    frame = {frame}(ROWS)
    """
    kernel = (head + f"""
    from hospital_sdk.kernels.sweeps import hourly_census, occupied_bed_days, waiting_queue
    small = frame.head(200)
    {call.replace("frame", "small")}  # compile outside the timing
    """, f"""
    out = {call}
    RESULT = {{"rows": ROWS, "out_rows": len(out), "total": int(out["{value}"].sum())}}
    """)
    core = (head + """
    from hospital_sdk.kernels.sweeps import (_DAY_NS, _HOUR_NS, _MINUTE_NS, _daily,
        _dense_limit, _first_mark, _groups, _nanoseconds, _same_day_stays, _sweep,
        _queue_intervals)
    """ + _CORE_SETUP[calculation] + """
    G, LIMIT = len(keys), _dense_limit(len(group))
    for limit in (0, LIMIT):  # compile outside the timing
        _daily(*_sweep(group[:100], lo[:100], hi[:100], N, G, limit), 1440)
    """, f"""
    seg = _sweep(group, lo, hi, N, G, LIMIT)
    {"_daily(*seg, 1440)" if calculation == "waiting_queue" else ""}
    lengths = seg[2] - seg[1]
    RESULT = {{"rows": ROWS, "out_rows": int(lengths.sum()),
               "total": int((lengths * seg[3]).sum())}}
    """)
    function, table, value = _SQL[calculation]
    module = "queues" if calculation == "waiting_queue" else "occupancy"
    sql = (head + f"""
    import ibis
    from hospital_sdk.aggregated.{module} import {function}
    con = ibis.duckdb.connect()
    tables = {{"{table}": con.create_table("{table}", frame)}}
    first, stop = dt.date(2024, 1, 1), dt.date(2025, 1, 1)
    del frame
    """, f"""
    out = {function}(tables, first, stop)
    if isinstance(out, tuple):  # the queue: its daily summary is computed too, as the kernel's
        out.daily.to_pyarrow()
        out = out.minutes
    out = out.to_pyarrow()
    RESULT = {{"rows": ROWS, "out_rows": out.num_rows,
               "total": int(out.column("{value}").to_numpy().sum())}}
    """)
    product, product_call = _PRODUCT[calculation]
    through = (sql[0].replace(f"import {function}", f"import {product}") + f"""
    {product}({{"{table}": con.create_table("small", {frame}(200))}}, first, stop,
              method="kernel")  # compile outside the timing
    """, f"""
    out = {product_call}
    RESULT = {{"rows": ROWS, "out_rows": len(out), "total": int(out["{value}"].sum())}}
    """)
    return {f"kernel_{calculation}": kernel, f"kernel_core_{calculation}": core,
            f"sql_{calculation}": sql, f"kernel_product_{calculation}": through}


CHILD: dict[str, tuple[str, str]] = {k: v for c in CALCULATIONS for k, v in _child(c).items()}
"""Child-process code for the runner: (untimed setup, timed body)."""


def run(measure: Measure, repeat: int, sizes: Sequence[int]) -> list[dict]:
    """Kernel, kernel alone and SQL for each calculation and size; raises on disagreement."""
    out = []
    for rows in sizes:
        for calc in CALCULATIONS:
            ways = {way: median_run(measure, repeat, f"{prefix}_{calc}", rows=rows)
                    for way, prefix in (("kernel", "kernel"), ("core", "kernel_core"),
                                        ("product", "kernel_product"), ("sql", "sql"))}
            seen = {(w["out_rows"], w["total"]) for w in ways.values()}
            if len(seen) > 1:
                raise SystemExit(f"{calc}: the ways disagree at {rows:,} events: {ways}")
            out.append({"rows": rows, "calculation": calc, **ways})
    return out


def report(results: list[dict]) -> list[str]:
    """Markdown lines: one row per size, calculation and way, the ratios and the verdicts."""
    lines = ["| events | calculation | way | median s | peak RSS MB | output rows | runs (s) |",
             "|---:|---|---|---:|---:|---:|---|"]
    names = {"kernel": "kernel (pandas wrapper)", "core": "kernel alone (arrays ready)",
             "product": "kernel path of the product (DuckDB rows fetched, wrapper)",
             "sql": "SQL path (Ibis on DuckDB)"}
    for r in results:
        for way in ("kernel", "core", "product", "sql"):
            m = r[way]
            lines.append(f"| {r['rows']:,} | {r['calculation']} | {names[way]} | "
                         f"{m['seconds']:.2f} | {m['rss_mb']:,.0f} | {m['out_rows']:,} | "
                         f"{', '.join(map(str, m['runs']))} |")
    lines.append("")
    for r in results:
        ratio, core, product = (r["sql"]["seconds"] / r[k]["seconds"]
                                for k in ("kernel", "core", "product"))
        lines.append(f"- {r['rows']:,} events, {r['calculation']}: SQL path / kernel with its "
                     f"wrapper **{ratio:.2f}×**; SQL path / the product's kernel path "
                     f"(fetch included) **{product:.2f}×**; SQL path / kernel alone {core:.1f}× "
                     f"(same {r['kernel']['out_rows']:,} rows and total all four ways).")
    largest = max(r["rows"] for r in results)
    for r in (r for r in results if r["rows"] == largest):
        # the verdict is on what `method="auto"` would run: the fetch from DuckDB included
        ratio = r["sql"]["seconds"] / r["product"]["seconds"]
        verdict = (f"meets the 5× rule: with `KERNEL_WINS[{r['calculation']!r}]` set true, "
                   "`method=\"auto\"` takes the kernel on DuckDB" if ratio >= 5 else
                   "does not meet the 5× rule: the product keeps the SQL path (`KERNEL_WINS` "
                   "false)")
        note = "" if largest >= 10_000_000 else " (below the rule's 10M events)"
        lines.append(f"- {r['calculation']} at {largest:,} events{note}: {ratio:.2f}× through "
                     f"the product's kernel path, {verdict}.")
    return lines


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [10_000]
    print("\n".join(report(run(in_process(CHILD), 1, sizes))))
