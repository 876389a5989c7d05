"""Indicator benchmark: the whole catalog in one batched computation vs one indicator at a time.

Run by the benchmark runner (``make bench``, or only this one:
``.venv/bin/python -m tests.benchmarks.run --only indicators --scale 0.05``), on a lakehouse
materialized from the runner's synthetic source folder: the whole asset graph, as the
``asset_graph`` group's full run builds it, into ``<workdir>/indicators_lake``. That lakehouse is
kept and reused while it was built from the same source files and the same cleaned/aggregated
code (a stamp beside it records both); delete the folder to force a rebuild. Its build time is
reported but is not one of the measurements.

Every measurement is a fresh child process (peak RSS is its own). Untimed setup: the imports,
:func:`~hospital_sdk.indicators.load_catalog`, opening the lakehouse read-only, and one
``count(*)`` per fact, so each measurement starts with the DuckLake catalog attached and the
fact files in the OS page cache. Timed, for the latest version of every indicator of the catalog
except the reported ones (they read reported values and run no query; excluded from both
ways), over the last full year of the data (its growth indicators then find their base year in
the data), cut by institution, department and month:

- ``batch``: one :func:`~hospital_sdk.indicators.compute` of all of them — one ``GROUP BY`` per
  fact, time window and dimension set (the plan's batches).
- ``one at a time``: one ``compute([indicator])`` per indicator, in sequence: the terms of each
  indicator are a query of their own, and nothing is shared between indicators.
- ``scan floor``: plain DuckDB, one query per fact through the same lakehouse connection:
  ``count(*)`` and ``sum(hash(…))`` of every fact column the batches read, over the union of the
  batches' time windows of that fact — the cost of reading those rows and columns once, without
  filters per term, grouping, Ibis or pandas.

An untimed check process computes both ways and asserts the results are equal (sorted by
indicator, period and dimensions; floats to a relative 1e-9); it also counts the queries of each
way (the plans' batches, :func:`~hospital_sdk.indicators.engine.batch_queries`), the terms, the
columns read and the fact rows, and splits a warm batch computation (medians of ``--repeat``
runs in that one process) into building the Ibis queries, running their compiled SQL on DuckDB,
and the rest of ``compute`` (results to pandas, combining terms, the tidy frame).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

from tests.benchmarks.bench_asset_graph import source_months

BY = ("institution", "department", "month")
"""Dimensions every computation is cut by."""
STAMP_CODE = ("hospital_sdk/cleaned", "hospital_sdk/aggregated")
"""Code the facts are computed by: a change here rebuilds the lakehouse (the orchestration in
``assets/`` is left out, so work on other assets does not force a rebuild)."""

_SETUP = """
    from hospital_sdk.indicators import load_catalog, compute
    from hospital_sdk.indicators.facts import FACTS
    from hospital_sdk.store import Lakehouse
    from hospital_sdk.store.catalog import CATALOG
    catalog = load_catalog(CATALOG_DIR)
    indicators = [i for i in catalog.latest() if i.kind != "reported"]
    lake = Lakehouse.open(LAKE, read_only=True)
    for fact in FACTS:  # attach the catalog and warm the page cache: every way starts alike
        lake.duck.execute(f"SELECT count(*) FROM {CATALOG}.aggregated.{fact}").fetchall()
"""
_BATCH = """
    out = compute(catalog, indicators, lake, period=PERIOD, by=BY)
    RESULT = {"rows": len(out)}
"""
_ONE_AT_A_TIME = """
    outs = [compute(catalog, [ind], lake, period=PERIOD, by=BY) for ind in indicators]
    RESULT = {"rows": sum(len(o) for o in outs)}
"""
_FLOOR = """
    rows = 0
    for fact, (time_field, start, end, columns) in FLOOR.items():
        rows += lake.duck.execute(
            f"SELECT count(*), sum(hash({', '.join(columns)})) FROM {CATALOG}.aggregated.{fact} "
            f"WHERE {time_field} >= TIMESTAMP '{start}' AND {time_field} < TIMESTAMP '{end}'"
        ).fetchone()[0]
    RESULT = {"rows": rows}
"""
_CHECK = """
    import numpy as np
    import pandas as pd
    import ibis.expr.operations as ops
    from hospital_sdk.indicators.engine import batch_queries

    def plan(chosen):
        return batch_queries(catalog, chosen, lake, period=PERIOD, by=BY)

    batches = plan(indicators)
    floor, batch_info = {}, []
    for b, query in batches:
        names = set(FACTS[b.fact].schema().names)
        columns = sorted({f.name for f in query.op().find(ops.Field)} & names)
        start, end = str(b.period.start), str(b.period.end)
        if b.fact in floor:
            _, s0, e0, c0 = floor[b.fact]
            start, end, columns = min(s0, start), max(e0, end), sorted(set(c0) | set(columns))
        floor[b.fact] = (b.time_field, start, end, columns)
        grain = [b.time_grain] if b.time_grain else []
        batch_info.append({"fact": b.fact, "period": b.period.label, "dims": [*b.dims, *grain],
                           "terms": len(b.terms)})
    one_queries = sum(len(plan([ind])) for ind in indicators)
    facts = {}
    for fact, (time_field, start, end, columns) in floor.items():
        total, window = lake.duck.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {time_field} >= TIMESTAMP '{start}' "
            f"AND {time_field} < TIMESTAMP '{end}') FROM {CATALOG}.aggregated.{fact}").fetchone()
        facts[fact] = {"rows": total, "window_rows": window, "window": f"{start}..{end}",
                       "columns": len(columns)}

    keys = ["indicator_id", "version", "period", *[d for d in BY if d != "month"]]
    def tidy(frame):
        return frame.sort_values(keys, ignore_index=True, na_position="first")
    batch = tidy(compute(catalog, indicators, lake, period=PERIOD, by=BY))
    one = tidy(pd.concat([compute(catalog, [ind], lake, period=PERIOD, by=BY)
                          for ind in indicators], ignore_index=True))
    pd.testing.assert_frame_equal(batch, one, check_exact=False, rtol=1e-9, atol=0.0)

    phases = {"build": [], "sql": [], "compute": []}  # where the batch's time goes (warm)
    for _ in range(REPEAT):
        t = time.perf_counter()
        queries = [lake.con.compile(q) for _, q in plan(indicators)]
        phases["build"].append(time.perf_counter() - t)
        t = time.perf_counter()
        for sql in queries:
            lake.duck.execute(sql).to_arrow_table()
        phases["sql"].append(time.perf_counter() - t)
        t = time.perf_counter()
        compute(catalog, indicators, lake, period=PERIOD, by=BY)
        phases["compute"].append(time.perf_counter() - t)
    phases = {k: float(np.median(v)) for k, v in phases.items()}
    num = batch.select_dtypes("number").columns
    diff = float(np.nanmax(np.abs(batch[num].to_numpy() - one[num].to_numpy()), initial=0.0))
    RESULT = {"rows": len(batch), "indicators": len(indicators),
              "reported_excluded": sum(i.kind == "reported" for i in catalog.latest()),
              "kinds": {k: int(n) for k, n in
                        pd.Series([i.kind for i in indicators]).value_counts().items()},
              "ok_rows": int((batch["status"] == "ok").sum()), "max_abs_diff": diff,
              "batch_queries": len(batches), "one_queries": one_queries, "batches": batch_info,
              "facts": facts, "floor": floor, "phases": phases}
"""

CHILD: dict[str, tuple[str, str]] = {
    "indicators_batch": (_SETUP, _BATCH),
    "indicators_one": (_SETUP, _ONE_AT_A_TIME),
    "indicators_floor": (_SETUP, _FLOOR),
    "indicators_check": (_SETUP, _CHECK),
}
"""Child-process code of this benchmark for the runner: (untimed setup, timed body)."""

Measure = Callable[..., dict]


def _stamp(src: Path, root: Path) -> str:
    """What the lakehouse was built from: the source files' hashes and the facts' code."""
    digest = hashlib.sha256(json.dumps(json.loads((src / "_manifest.json").read_text())["files"],
                                       sort_keys=True).encode())
    for folder in STAMP_CODE:
        for f in sorted((root / folder).rglob("*.py")):
            digest.update(f.relative_to(root).as_posix().encode() + f.read_bytes())
    return digest.hexdigest()


def ensure_lake(measure: Measure, src: Path, work: Path, root: Path) -> tuple[Path, dict]:
    """The materialized lakehouse: reused when its stamp matches, rebuilt (whole graph) else."""
    lake, stamp_file = work / "indicators_lake", work / "indicators_lake.stamp"
    stamp = _stamp(src, root)
    if lake.is_dir() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return lake, {"reused": True}
    shutil.rmtree(lake, ignore_errors=True)
    stamp_file.unlink(missing_ok=True)
    first, last = source_months(src)
    built = measure("asset_graph", src=str(src), out=str(lake), first=first, last=last,
                    selection=None)
    stamp_file.write_text(stamp)
    return lake, {"reused": False, "seconds": built["seconds"], "rss_mb": built["rss_mb"]}


def adopt_lake(lake: Path, src: Path, work: Path, root: Path) -> None:
    """Make ``lake`` — materialized by the whole graph from ``src`` (the ``asset_graph`` group's
    last run) — the ``indicators`` lakehouse, so a large scale is not materialized twice."""
    target, stamp_file = work / "indicators_lake", work / "indicators_lake.stamp"
    shutil.rmtree(target, ignore_errors=True)
    stamp_file.unlink(missing_ok=True)
    lake.rename(target)
    stamp_file.write_text(_stamp(src, root))


def _repeat(measure: Measure, n: int, kind: str, **params: object) -> dict:
    runs = [measure(kind, **params) for _ in range(n)]
    return {"rows": runs[0]["rows"], "seconds": statistics.median(r["seconds"] for r in runs),
            "rss_mb": max(r["rss_mb"] for r in runs),
            "runs": [round(r["seconds"], 2) for r in runs]}


def run(measure: Measure, repeat: int, src: Path, work: Path, root: Path) -> dict:
    """Run the measurements (``measure(kind, **params)`` is the runner's child-process timer)."""
    lake, build = ensure_lake(measure, src, work, root)
    _, last = source_months(src)
    common = {"lake": str(lake), "catalog_dir": str(root / "national_assessments"),
              "period": last[:4], "by": BY}
    check = measure("indicators_check", repeat=repeat, **common)
    times = {
        "batch": _repeat(measure, repeat, "indicators_batch", **common),
        "one at a time": _repeat(measure, repeat, "indicators_one", **common),
        "scan floor": _repeat(measure, repeat, "indicators_floor", floor=check["floor"],
                              **common),
    }
    return {"build": build, "check": check, "times": times, "period": last[:4],
            "repeat": repeat}


def report(results: dict) -> list[str]:
    """Markdown lines: the three timings, the ratios, the check, and what the batches hold."""
    check, times, build = results["check"], results["times"], results["build"]
    ph = check["phases"]
    queries = {"batch": check["batch_queries"], "one at a time": check["one_queries"],
               "scan floor": len(check["facts"])}
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(check["kinds"].items()))
    lines = [
        f"{check['indicators']} indicators (latest versions; {kinds}; "
        f"{check['reported_excluded']} reported excluded from both ways), period "
        f"{results['period']}, cut by {', '.join(BY)}: {check['rows']:,} result rows, "
        f"{check['ok_rows']:,} of them `ok`. Lakehouse: "
        + ("reused (same source and code)." if build["reused"] else
           f"materialized for this run in {build['seconds']:.0f} s (whole graph, not measured)."),
        "",
        "| measurement | queries | median s | peak RSS MB | runs (s) |",
        "|---|---:|---:|---:|---|",
    ]
    for name, r in times.items():
        lines.append(f"| {name} | {queries[name]} | {r['seconds']:.2f} | {r['rss_mb']:,.0f} | "
                     f"{', '.join(map(str, r['runs']))} |")
    batch, one, floor = (times[k]["seconds"] for k in ("batch", "one at a time", "scan floor"))
    extra = queries["one at a time"] - queries["batch"]
    lines += [
        "",
        f"- one at a time / batch: **{one / batch:.1f}×** ({queries['one at a time']} queries "
        f"instead of {queries['batch']}; ≈ {(one - batch) / extra * 1000:.0f} ms per extra "
        "query, planning and combining included)." if extra else
        f"- one at a time / batch: **{one / batch:.1f}×** (same number of queries).",
        f"- batch / scan floor: **{batch / floor:.1f}×** the time of reading the same rows and "
        "columns once with plain DuckDB.",
        f"- where the batch's time goes (medians of {results['repeat']} warm runs in one "
        f"process): building and compiling the Ibis queries {ph['build']:.2f} s, running their "
        f"SQL on DuckDB to Arrow {ph['sql']:.2f} s ({ph['sql'] / floor:.1f}× the floor), the rest "
        f"of `compute` — results to pandas, combining terms into values, the tidy frame — "
        f"{ph['compute'] - ph['build'] - ph['sql']:.2f} s of {ph['compute']:.2f} s.",
        f"- check: both ways give the same {check['rows']:,} rows (sorted; largest absolute "
        f"difference of a number {check['max_abs_diff']:.3g}).",
        "",
        "| fact | rows | rows in the window | window | columns read |",
        "|---|---:|---:|---|---:|",
    ]
    for fact, f in check["facts"].items():
        lines.append(f"| {fact} | {f['rows']:,} | {f['window_rows']:,} | {f['window']} | "
                     f"{f['columns']} |")
    lines += ["", "Batches of the whole catalog (one query each):", "",
              "| fact | period | dimensions | terms |", "|---|---|---|---:|"]
    for b in check["batches"]:
        lines.append(f"| {b['fact']} | {b['period']} | {', '.join(b['dims']) or '–'} | "
                     f"{b['terms']} |")
    return lines
