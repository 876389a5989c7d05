"""Assessment benchmark: the full tertiary edition for one data year at SF 1 vs the scan floor.

Run by the benchmark runner (``make bench``, or only this one:
``.venv/bin/python -m tests.benchmarks.run --only assessment --scale 0.05``). It answers the
national-assessments issue's "time to compute the full tertiary set for one hospital-year at
SF 1 next to the time DuckDB takes to scan the same columns once".

**Sizes** (``--assessment-factors``): the facts of the runner's scale as the asset graph made
them (×1), and those facts replicated ``FACTOR`` = 20 times (by default; SF 1-sized facts from
SF 0.05 without the two-hour SF 1 pipeline; at ``--scale 1``, ×1 alone is the real SF 1):

- the source is the ``indicators`` group's lakehouse (``<workdir>/indicators_lake``,
  materialized by the whole asset graph from the runner's source folder and reused
  while source and fact code are unchanged), for every year of the data — the data year and
  the year before, which the edition reads for growth and prior-year values;
- every fact of :data:`hospital_sdk.indicators.facts.FACTS` (enumerated, not listed here) is
  copied ``factor`` times into a new lakehouse with one ``INSERT … SELECT … FROM fact,
  range(factor)``, into a table partitioned as the asset graph partitions facts (by year and
  month of the fact's time field). Replica 0 keeps its rows as they are; replica ``r > 0``
  gets ``~r<r>`` appended to every identifier of a patient or an encounter
  (:data:`REPLICA_KEYS`: ``stay_id``, ``visit_id``, ``empi_id``, ``patient_local_id``), so a
  ``count_distinct`` of stays, visits or patients counts 20× as many things and no replica's
  stay joins another's procedures. Institution, campus, department, doctor and DRG keys are
  kept as they are, so every group-by has the cardinality of the real group (the same
  institutions and departments, each 20× busier); timestamps are kept, so each month holds
  20× its rows;
- the other tables :func:`~hospital_sdk.assessments.compute.compute_edition` reads
  (:data:`COPIED`: department names, reported values, data-quality history) are copied
  unchanged.

What this does not reproduce: the value distributions of a real SF 1 group (each stay occurs
20 times, so DuckDB's hash tables see 20× the rows but the SF 0.05 number of distinct values in
non-key columns), and the file layout of a lake filled month by month (here one insert per
fact: one Parquet file per month). Rates, means and growth are the same at ×1 and
×20 by construction; the check process verifies it (a mismatch is reported, not hidden). The
SF 0.05 numbers come from the same method with ``factor`` = 1, so both sizes are read from
lakes built the same way.

**Out of core** (``--assessment-large 200``, :func:`run_large`): the same replication ×200
gives SF 10-sized facts (100M visits over two years); the edition and the computable set are
computed there and their peak RSS recorded — the check that the indicator layer completes in
this machine's memory at SF 10. The pandas baseline is not run at that size.

Every measurement is a fresh child process (peak RSS is its own), repeated ``--repeat`` times
(median reported). Untimed setup: imports, :func:`~hospital_sdk.indicators.load_catalog`, the
edition, opening the lakehouse read-only and one ``count(*)`` per fact (catalog attached, fact
files in the page cache). Timed, for the tertiary edition :data:`EDITION` and the last year of
the data (:data:`PERIOD` from the source):

- ``edition``: :func:`~hospital_sdk.assessments.compute.compute_edition` end to end — every
  institution × item with the prior year and change, departments, the monthly trend, reported
  inputs and data quality;
- ``engine``: only the four :func:`~hospital_sdk.indicators.compute` calls ``compute_edition``
  makes (:func:`edition_calls`; the reported values read in the setup);
- ``scan floor``: plain DuckDB through the same lakehouse connection, one query per fact:
  ``count(*)`` and ``sum(hash(…))`` of every fact column the four calls' batches read, over the
  union of their time windows — reading those rows and columns once;
- ``score + report``: :func:`~hospital_sdk.assessments.scoring.score_items` with the edition's
  options and :func:`~hospital_sdk.reports.assessment_report.write_assessment_report` without
  the PDF (xlsx, HTML, manifest), on a result computed in the setup;
- ``pandas``: the issue's analyst baseline (:mod:`tests.benchmarks.pandas_baseline`): the
  edition's computable records by institution × department × month for the data year, loaded
  from the lakehouse into pandas once (load seconds reported apart) and computed one indicator
  at a time with masks and ``groupby``;
- ``engine, same indicators``: one :func:`~hospital_sdk.indicators.compute` over exactly the
  indicators the pandas baseline covers, by the same institution, department and month — the
  fair other side of the "product ≥ 20× faster than pandas at SF 1" target.

An untimed check process per size counts the rows, the batches, the columns and the window
rows per fact, splits a warm engine run into building the Ibis queries, running their SQL and
the rest, profiles one warm ``compute_edition`` with :mod:`cProfile` (where the time goes),
and returns the items, so the runner can verify the ×20 values against ×1. Another untimed
process per size runs :func:`tests.benchmarks.pandas_baseline.check`: pandas and the engine on
the same indicators, compared cell by cell (cells, statuses, largest difference of values).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.benchmarks.bench_asset_graph import source_months

ASSESSMENT, EDITION = "tertiary", "2024"
FACTOR = 20
"""Replicas of the SF 0.05 facts that make the SF 1 facts."""
REPLICA_KEYS = ("stay_id", "visit_id", "empi_id", "patient_local_id")
"""Columns made distinct per replica (in every fact that has them)."""
COPIED = (("cleaned", "department"), ("raw", "reported_value"),
          ("application", "quality_check_history"))
"""Tables besides the facts that ``compute_edition`` reads, copied unchanged when present."""
SCALE_VERSION = "1"
"""Bump to force a rebuild of the scaled lakes (a change to :func:`scale_lake` does too)."""

Measure = Callable[..., dict]


def edition_calls(catalog: Any, ed: Any, year: str) -> list[tuple[list, str, tuple[str, ...]]]:
    """The engine calls of :func:`~hospital_sdk.assessments.compute.compute_edition`, as
    ``(indicators, period, by)`` — mirrored from it (keep in step)."""
    chosen = list(dict.fromkeys(catalog.get(ref) for ref in ed.refs))
    records = [i for i in chosen if i.kind != "reported"]
    prior = str(int(year) - 1)
    return [(chosen, year, ("institution",)), (chosen, prior, ("institution",)),
            (records, year, ("institution", "department")),
            (records, year, ("institution", "month"))]


def scale_lake(src: str, out: str, factor: int) -> dict:
    """Write the facts of lakehouse ``src`` ``factor`` times (distinct keys per replica) and
    the :data:`COPIED` tables into a new lakehouse ``out``; returns rows written per table."""
    from hospital_sdk.indicators.facts import FACTS
    from hospital_sdk.store import Lakehouse
    from hospital_sdk.store.catalog import CATALOG
    from hospital_sdk.store.tables import ident, literal

    home = Path(src)
    rows: dict[str, int] = {}
    with Lakehouse.open(out) as lake:
        lake.duck.execute(
            f"ATTACH 'ducklake:sqlite:{literal(home / 'catalog.sqlite')}' AS src "
            f"(DATA_PATH '{literal(home / 'data')}/', OVERRIDE_DATA_PATH true, READ_ONLY)")
        for name, fact in FACTS.items():
            columns = [r[0] for r in lake.duck.execute(
                f"DESCRIBE src.aggregated.{ident(name)}").fetchall()]
            exprs = ", ".join(
                f"CASE WHEN rep.r = 0 THEN {ident(c)} ELSE {ident(c)} || '~r' || rep.r END "
                f"AS {ident(c)}" if c in REPLICA_KEYS else ident(c) for c in columns)
            target, t = f"{CATALOG}.aggregated.{ident(name)}", ident(fact.time_field)

            def work(duck: Any, name: str = name, exprs: str = exprs, target: str = target,
                     t: str = t) -> int:
                duck.execute(f"CREATE TABLE {target} AS FROM src.aggregated.{ident(name)} "
                             f"LIMIT 0")
                duck.execute(f"ALTER TABLE {target} SET PARTITIONED BY (year({t}), month({t}))")
                return int(duck.execute(
                    f"INSERT INTO {target} SELECT {exprs} FROM src.aggregated.{ident(name)}, "
                    f"range({int(factor)}) AS rep(r)").fetchone()[0])

            rows[name] = lake.write(work, description=f"scale {name} ×{factor}")
        for layer, name in COPIED:
            if not lake.duck.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'src' AND "
                    f"schema_name = '{layer}' AND table_name = '{name}'").fetchone()[0]:
                continue
            rows[f"{layer}.{name}"] = lake.write(
                lambda duck, layer=layer, name=name: int(duck.execute(
                    f"CREATE TABLE {CATALOG}.{layer}.{ident(name)} AS "
                    f"FROM src.{layer}.{ident(name)}").fetchone()[0]),
                description=f"copy {layer}.{name}")
        lake.duck.execute("DETACH src")
    return rows


_SETUP = """
    from hospital_sdk.assessments.compute import compute_edition
    from hospital_sdk.assessments.editions import edition as load_edition
    from hospital_sdk.indicators import compute, load_catalog
    from hospital_sdk.indicators.facts import FACTS, FactTables
    from hospital_sdk.indicators.selection import reported_values
    from hospital_sdk.store import Lakehouse
    from hospital_sdk.store.catalog import CATALOG
    from tests.benchmarks.bench_assessment import edition_calls
    catalog = load_catalog(CATALOG_DIR)
    ed = load_edition(ASSESSMENT, EDITION, root=CATALOG_DIR, catalog=catalog)
    lake = Lakehouse.open(LAKE, read_only=True)
    for fact in FACTS:  # attach the catalog and warm the page cache: every way starts alike
        lake.duck.execute(f"SELECT count(*) FROM {CATALOG}.aggregated.{fact}").fetchall()
    calls = edition_calls(catalog, ed, PERIOD)
    reported = reported_values(lake)
"""
_EDITION = """
    result = compute_edition(catalog, ed, lake, period=PERIOD)
    RESULT = {"rows": len(result.items) + len(result.departments) + len(result.trend)}
"""
_ENGINE = """
    rows, facts = 0, FactTables(lake)  # as compute_edition: each fact's table read once
    for chosen, period, by in calls:
        rows += len(compute(catalog, chosen, facts, period=period, by=by, reported=reported))
    RESULT = {"rows": rows}
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
_REPORT_SETUP = _SETUP + """
    from hospital_sdk.assessments.scoring import score_items
    from hospital_sdk.reports.assessment_report import write_assessment_report
    result = compute_edition(catalog, ed, lake, period=PERIOD)
"""
_REPORT = """
    scored = score_items(result, **ed.scoring.score_options())
    files = write_assessment_report(scored, OUT, pdf=False)
    RESULT = {"rows": len(scored.items) + len(scored.departments) + len(scored.trend),
              "files": [str(f) for f in files]}
"""
_PANDAS_SETUP = _SETUP + """
    from tests.benchmarks import pandas_baseline
    pd_ids = pandas_baseline.edition_ids(catalog, ed)
    pd_chosen, _ = pandas_baseline.covered(catalog, pd_ids, int(PERIOD))
"""
_PANDAS = """
    result = pandas_baseline.compute(lake, [i.key for i in pd_chosen], PERIOD, catalog=catalog)
    RESULT = {"rows": len(result), "load_s": result.attrs["load_s"],
              "compute_s": result.attrs["compute_s"]}
"""
_ENGINE_SAME = """
    result = compute(catalog, pd_chosen, lake, period=PERIOD, by=(*pandas_baseline.DIMS, "month"))
    RESULT = {"rows": len(result)}
"""
_PANDAS_CHECK = """
    RESULT = {"rows": 0, **pandas_baseline.check(lake, catalog, pd_ids, PERIOD)}
"""
_CHECK = """
    import cProfile, io, pstats
    import numpy as np
    import ibis.expr.operations as ops
    from hospital_sdk.indicators.engine import batch_queries

    floor, batches = {}, []
    for chosen, period, by in calls:
        for b, query in batch_queries(catalog, chosen, lake, period=period, by=by):
            names = set(FACTS[b.fact].schema().names)
            columns = sorted({f.name for f in query.op().find(ops.Field)} & names)
            start, end = str(b.period.start), str(b.period.end)
            if b.fact in floor:
                _, s0, e0, c0 = floor[b.fact]
                start, end, columns = min(s0, start), max(e0, end), sorted(set(c0) | set(columns))
            floor[b.fact] = (b.time_field, start, end, columns)
            grain = [b.time_grain] if b.time_grain else []
            batches.append({"fact": b.fact, "period": b.period.label,
                            "dims": [*b.dims, *grain], "terms": len(b.terms)})
    facts = {}
    for fact, (time_field, start, end, columns) in floor.items():
        total, window = lake.duck.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {time_field} >= TIMESTAMP '{start}' "
            f"AND {time_field} < TIMESTAMP '{end}') FROM {CATALOG}.aggregated.{fact}").fetchone()
        facts[fact] = {"rows": total, "window_rows": window, "window": f"{start}..{end}",
                       "columns": len(columns)}

    result = compute_edition(catalog, ed, lake, period=PERIOD)
    phases = {"build": [], "sql": [], "engine": [], "edition": []}  # warm, in this process
    for _ in range(REPEAT):
        t = time.perf_counter()
        facts = FactTables(lake)
        queries = [lake.con.compile(q) for chosen, period, by in calls
                   for _, q in batch_queries(catalog, chosen, facts, period=period, by=by)]
        phases["build"].append(time.perf_counter() - t)
        t = time.perf_counter()
        for sql in queries:
            lake.duck.execute(sql).to_arrow_table()
        phases["sql"].append(time.perf_counter() - t)
        t = time.perf_counter()
        facts = FactTables(lake)
        for chosen, period, by in calls:
            compute(catalog, chosen, facts, period=period, by=by, reported=reported)
        phases["engine"].append(time.perf_counter() - t)
        t = time.perf_counter()
        compute_edition(catalog, ed, lake, period=PERIOD)
        phases["edition"].append(time.perf_counter() - t)
    phases = {k: float(np.median(v)) for k, v in phases.items()}
    for info, sql in zip(batches, queries, strict=True):  # each batch's query alone, warm
        runs = []
        for _ in range(REPEAT):
            t = time.perf_counter()
            lake.duck.execute(sql).to_arrow_table()
            runs.append(time.perf_counter() - t)
        info["sql_s"] = float(np.median(runs))

    profiler = cProfile.Profile()
    profiler.enable()
    compute_edition(catalog, ed, lake, period=PERIOD)
    profiler.disable()
    stats = pstats.Stats(profiler)
    def short(key):
        file, line, func = key
        for mark in ("site-packages/", "hospital_sdk/"):
            if mark in file:
                file = ("" if mark == "site-packages/" else mark) + file.split(mark, 1)[1]
        return f"{file}:{line}({func})"
    total = max(v[3] for v in stats.stats.values())
    in_engine = sum(v[3] for k, v in stats.stats.items()
                    if k[0].endswith("hospital_sdk/indicators/engine.py") and k[2] == "compute")
    rows = [(short(k), v[2], v[3], v[1]) for k, v in stats.stats.items()]
    own = sorted(rows, key=lambda r: -r[1])[:12]
    ours = sorted((r for r in rows if r[0].startswith("hospital_sdk/")), key=lambda r: -r[2])[:14]

    items = result.items
    kept = items[["institution", "item", "kind", "status", "value", "numerator", "denominator",
                  "prior_value"]].astype(object)
    RESULT = {"rows": len(items), "institutions": int(items["institution"].nunique()),
              "items": int(items["item"].nunique()),
              "ok_items": int((items["status"] == "ok").sum()),
              "departments": len(result.departments), "trend": len(result.trend),
              "reported": len(result.reported), "quality": len(result.quality),
              "computable": sum(it.indicator is not None for it in ed.items),
              "batches": batches, "facts": facts, "floor": floor, "phases": phases,
              "profile_total": total, "outside_engine": total - in_engine,
              "profile_own": own, "profile_cum": ours,
              "values": kept.where(kept.notna(), None).values.tolist()}
"""

CHILD: dict[str, tuple[str, str] | str] = {
    "assessment_scale": """
        from tests.benchmarks.bench_assessment import scale_lake
        RESULT = {"rows": scale_lake(SRC, OUT, FACTOR)}
    """,
    "assessment_edition": (_SETUP, _EDITION),
    "assessment_engine": (_SETUP, _ENGINE),
    "assessment_floor": (_SETUP, _FLOOR),
    "assessment_report": (_REPORT_SETUP, _REPORT),
    "assessment_check": (_SETUP, _CHECK),
    "assessment_pandas": (_PANDAS_SETUP, _PANDAS),
    "assessment_engine_same": (_PANDAS_SETUP, _ENGINE_SAME),
    "assessment_pandas_check": (_PANDAS_SETUP, _PANDAS_CHECK),
}
"""Child-process code of this benchmark for the runner: (untimed setup, timed body)."""


def ensure_scaled(measure: Measure, src_lake: Path, src_stamp: str, work: Path,
                  factor: int) -> tuple[Path, dict]:
    """The lakehouse of ``factor`` replicas: reused when built from the same source lake by the
    same code, rebuilt otherwise."""
    lake = work / f"assessment_lake_x{factor}"
    stamp_file = lake.with_name(lake.name + ".stamp")
    code = inspect.getsource(scale_lake) + repr((REPLICA_KEYS, COPIED))
    stamp = hashlib.sha256(f"{src_stamp}|{factor}|{SCALE_VERSION}|{code}".encode()).hexdigest()
    if lake.is_dir() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return lake, {"reused": True}
    shutil.rmtree(lake, ignore_errors=True)
    stamp_file.unlink(missing_ok=True)
    built = measure("assessment_scale", src=str(src_lake), out=str(lake), factor=factor)
    stamp_file.write_text(stamp)
    return lake, {"reused": False, "seconds": built["seconds"], "rss_mb": built["rss_mb"],
                  "tables": built["rows"]}


def _repeat(measure: Measure, n: int, kind: str, **params: object) -> dict:
    runs = [measure(kind, **params) for _ in range(n)]
    parts = {k: statistics.median(r[k] for r in runs) for k in ("load_s", "compute_s")
             if k in runs[0]}  # the pandas baseline's phases
    return {"rows": runs[0]["rows"], "seconds": statistics.median(r["seconds"] for r in runs),
            "rss_mb": max(r["rss_mb"] for r in runs),
            "runs": [round(r["seconds"], 2) for r in runs], **parts}


def _compare(small: list, big: list) -> dict:
    """Items whose value differs between ×1 and ×20 (rates, means and growth must not change;
    counts of things scale by the factor, so numerators and denominators are not compared)."""
    key = {(r[0], r[1]): r for r in small}
    same, differ = 0, []
    for r in big:
        s = key.get((r[0], r[1]))
        if s is None or s[3] != "ok" or r[3] != "ok":
            continue
        a, b = s[4], r[4]
        if abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0):
            same += 1
        else:
            differ.append({"institution": r[0], "item": r[1], "kind": r[2], "x1": a,
                           f"x{FACTOR}": b})
    return {"same": same, "differ": differ}


def run(measure: Measure, repeat: int, src: Path, work: Path, root: Path,
        indicators_lake: tuple[Path, dict], large: int | None = None, *, scale: float = 0.05,
        factors: Sequence[int] = (1, FACTOR)) -> dict:
    """Run the measurements on the lakes of ``factors`` replicas of ``indicators_lake`` (×1: its
    facts as the graph made them, at the source's ``scale``), and the out-of-core check on a
    ×``large`` lake when given (:func:`run_large`)."""
    src_lake, _ = indicators_lake
    src_stamp = (work / "indicators_lake.stamp").read_text()
    _, last = source_months(src)
    period = last[:4]
    out: dict[str, Any] = {"period": period, "repeat": repeat, "sizes": {}}
    for factor in factors:
        label = f"SF {scale * factor:g} (×{factor})"
        lake, build = ensure_scaled(measure, src_lake, src_stamp, work, factor)
        common = {"lake": str(lake), "catalog_dir": str(root / "national_assessments"),
                  "period": period, "assessment": ASSESSMENT, "edition": EDITION}
        check = measure("assessment_check", repeat=repeat, **common)
        reports = work / "assessment_reports"
        times = {
            "edition": _repeat(measure, repeat, "assessment_edition", **common),
            "engine": _repeat(measure, repeat, "assessment_engine", **common),
            "scan floor": _repeat(measure, repeat, "assessment_floor", floor=check["floor"],
                                  **common),
            "score + report": _repeat(measure, repeat, "assessment_report", out=str(reports),
                                      **common),
            "pandas": _repeat(measure, repeat, "assessment_pandas", **common),
            "engine, same indicators": _repeat(measure, repeat, "assessment_engine_same",
                                               **common),
        }
        shutil.rmtree(reports, ignore_errors=True)
        out["sizes"][label] = {"factor": factor, "sf": scale * factor, "build": build,
                               "check": check,
                               "pandas_check": measure("assessment_pandas_check", **common),
                               "times": times}
    sizes = list(out["sizes"].values())
    out["compare"] = (_compare(sizes[0]["check"]["values"], sizes[-1]["check"]["values"])
                      if len(sizes) > 1 else None)
    if large:
        out["large"] = run_large(measure, repeat, src_lake, src_stamp, work, root, period,
                                 floor=sizes[-1]["check"]["floor"], factor=large)
    return out


def run_large(measure: Measure, repeat: int, src_lake: Path, src_stamp: str, work: Path,
              root: Path, period: str, *, floor: Any, factor: int) -> dict:
    """The out-of-core check: the SF 0.05 facts replicated ``factor`` times (200: SF 10-sized
    facts, 100M visits over two years), the edition, the computable set by institution ×
    department × month and the scan floor (the same columns as at ×20). The pandas baseline is
    not run there: it holds every column it reads in memory (several GB at ×20, so tens at
    ×200), which is the point of the check."""
    lake, build = ensure_scaled(measure, src_lake, src_stamp, work, factor)
    common = {"lake": str(lake), "catalog_dir": str(root / "national_assessments"),
              "period": period, "assessment": ASSESSMENT, "edition": EDITION}
    times = {
        "edition": _repeat(measure, repeat, "assessment_edition", **common),
        "engine, same indicators": _repeat(measure, repeat, "assessment_engine_same", **common),
        "scan floor": _repeat(measure, repeat, "assessment_floor", floor=floor, **common),
    }
    return {"factor": factor, "build": build, "times": times,
            "limit": os.environ.get("HOSPITAL_SDK_MEMORY_LIMIT")}


def _large_lines(large: dict) -> list[str]:
    """The out-of-core check's table and ratios."""
    f, t = large["factor"], large["times"]
    lines = ["", f"Out-of-core check: SF 10-sized facts (the SF 0.05 facts ×{f}; DuckDB memory "
             f"limit {large['limit'] or 'the default, 40 % of RAM'}):", "",
             "| measurement | result rows | median s | peak RSS MB | runs (s) |",
             "|---|---:|---:|---:|---|"]
    for name, r in t.items():
        rows = f"{r['rows']:,}" if name != "scan floor" else "–"
        lines.append(f"| {name} | {rows} | {r['seconds']:.2f} | {r['rss_mb']:,.0f} | "
                     f"{', '.join(map(str, r['runs']))} |")
    fl = t["scan floor"]["seconds"]
    b = large["build"]
    built = ("reused" if b["reused"] else f"built in {b['seconds']:.0f} s at "
             f"{b['rss_mb']:,.0f} MB peak RSS: " + ", ".join(
                 f"{k} {v:,}" for k, v in b["tables"].items()))
    lines += ["", f"- ×{f}: the computable set by institution × department × month / scan floor "
              f"{t['engine, same indicators']['seconds'] / fl:.1f}×; the edition / scan floor "
              f"{t['edition']['seconds'] / fl:.1f}×; largest peak RSS "
              f"{max(r['rss_mb'] for r in t.values()):,.0f} MB — completed within the "
              f"machine's memory. Lakehouse {built}."]
    return lines


def _pandas_lines(sizes: dict) -> list[str]:
    """The product against the analyst's pandas on the same indicators, and their check."""
    lines = []
    for label, s in sizes.items():
        t, c = s["times"], s["pandas_check"]
        pd_, eng = t["pandas"], t["engine, same indicators"]
        ratio = pd_["seconds"] / eng["seconds"]
        verdict = (f" (target ≥ 20× at SF 1: **{'met' if ratio >= 20 else 'missed'}**)"
                   if abs(s["sf"] - 1) < 1e-9 else " (the ≥ 20× target is for SF 1)")
        lines.append(
            f"- {label}: the computable tertiary records by institution × department × month "
            f"({c['indicators']} indicators, {c['cells_engine']:,} cells): pandas "
            f"{pd_['seconds']:.2f} s (loading the columns {pd_['load_s']:.2f} s, computing "
            f"{pd_['compute_s']:.2f} s) vs the engine on the same indicators "
            f"{eng['seconds']:.2f} s: pandas / engine **{ratio:.1f}×**{verdict}; pandas "
            f"computing alone (data already in memory) / engine "
            f"{pd_['compute_s'] / eng['seconds']:.1f}×.")
        differ = c["mismatching"]
        lines.append(
            f"  Check of the same cells: {c['only_pandas']} cells only in pandas, "
            f"{c['only_engine']} only in the engine, {c['status_mismatch']} with another status; "
            f"{c['compared']:,} `ok` values compared, largest difference {c['max_abs_diff']:.3g} "
            f"(relative {c['max_rel_diff']:.3g}, from float vs exact decimal sums); "
            + ("no indicator differs by more than 1e-9 relative." if not differ else
               f"{len(differ)} indicators differ: " + ", ".join(
                   f"{k} ({v:.3g})" for k, v in list(differ.items())[:8]) + "."))
    left = next(iter(sizes.values()))["pandas_check"]["not_covered"]
    if left:
        lines.append("  Records not in the pandas comparison: " + "; ".join(
            f"`{k}`: {why}" for k, why in left.items()) + ".")
    return lines


def report(results: dict) -> list[str]:
    """Markdown lines: the timings per size, the ratios, how the facts were made, the check and
    where the time goes."""
    sizes = results["sizes"]
    first = next(iter(sizes.values()))["check"]
    big_factor = max(s["factor"] for s in sizes.values())
    lines = [
        f"Tertiary edition {EDITION} for the data year {results['period']} (and "
        f"{int(results['period']) - 1} for prior-year values and growth): {first['items']} items "
        f"({first['computable']} with a catalog indicator) × {first['institutions']} "
        "institutions, departments, monthly trend, reported inputs, data quality. " + (
            f"The ×{big_factor} facts are the ×1 facts replicated with distinct stay, visit and "
            "patient ids (institution, campus, department, doctor and DRG keys unchanged; "
            "method in `tests/benchmarks/bench_assessment.py`): facts of that size without "
            "running its pipeline." if big_factor > 1 else
            "The facts are this scale's own, made by the whole asset graph from the generated "
            "source (no replication)."),
        "",
        "| size | measurement | fact rows read | result rows | median s | peak RSS MB | "
        "runs (s) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for label, s in sizes.items():
        window = sum(f["window_rows"] for f in s["check"]["facts"].values())
        for name, r in s["times"].items():
            read = f"{window:,}" if name in ("edition", "engine", "scan floor") else "–"
            rows = f"{r['rows']:,}" if name != "scan floor" else "–"
            lines.append(f"| {label} | {name} | {read} | {rows} | {r['seconds']:.2f} | "
                         f"{r['rss_mb']:,.0f} | {', '.join(map(str, r['runs']))} |")
    lines.append("")
    for label, s in sizes.items():
        t = s["times"]
        ed, eng, floor = (t[k]["seconds"] for k in ("edition", "engine", "scan floor"))
        ph = s["check"]["phases"]
        same = t["engine, same indicators"]["seconds"]
        lines += [
            f"- {label}: the computable tertiary set in one engine call by institution × "
            f"department × month (the issue's measure) / scan floor **{same / floor:.1f}×** "
            f"(target ≤ 3×: **{'met' if same / floor <= 3 else 'missed'}**; the floor reads "
            f"the columns of all four edition calls, a superset); the whole edition (four "
            f"calls: institutions this year and last, departments, months; items, reported "
            f"inputs, quality) / scan floor {ed / floor:.1f}×; engine calls alone / scan "
            f"floor {eng / floor:.1f}×; score + report (xlsx, HTML; no PDF) "
            f"{t['score + report']['seconds']:.2f} s on top.",
            f"  Warm, medians of {results['repeat']} in one process: building and compiling "
            f"the Ibis queries {ph['build']:.2f} s, running their SQL to Arrow {ph['sql']:.2f} s "
            f"({ph['sql'] / floor:.1f}× the floor), the rest of the four engine calls (results "
            f"to pandas, combining terms, tidy frames) {ph['engine'] - ph['build'] - ph['sql']:.2f}"
            f" s of {ph['engine']:.2f} s; `compute_edition` {ph['edition']:.2f} s. Profiled "
            f"(one warm run): {s['check']['outside_engine']:.2f} s of "
            f"{s['check']['profile_total']:.2f} s outside the four engine calls (items, "
            "departments, trend, reported values, data quality, checks).",
        ]
    lines += _pandas_lines(sizes)
    labels = list(sizes)
    if len(labels) > 1:
        a, b = (sizes[k]["times"] for k in (labels[0], labels[-1]))
        grew = {k: b[k]["seconds"] / a[k]["seconds"] for k in a}
        lines.append(
            f"- scaling the rows ×{big_factor}: edition {grew['edition']:.1f}× the time, engine "
            f"{grew['engine']:.1f}×, scan floor {grew['scan floor']:.1f}×, score + report "
            f"{grew['score + report']:.1f}×.")
    cmp_ = results["compare"]
    if cmp_ is not None:  # only with a replicated size
        lines.append(
            f"- check of the scale-up: {cmp_['same']} `ok` item values equal at ×1 and "
            f"×{FACTOR}" + (f"; {len(cmp_['differ'])} differ: " + "; ".join(
                f"item {d['item']} ({d['kind']}) {d['institution']}: {d['x1']:.6g} vs "
                f"{d[f'x{FACTOR}']:.6g}" for d in cmp_["differ"][:8])
                + (" …" if len(cmp_["differ"]) > 8 else "") if cmp_["differ"] else
                " (rates, means, ratios and growth do not change when every stay and visit is "
                "repeated with new ids)."))
    for label, s in sizes.items():
        b = s["build"]
        lines.append(f"- {label} lakehouse: " + (
            "reused (same source lakehouse and scale-up code)." if b["reused"] else
            f"built for this run in {b['seconds']:.0f} s, {b['rss_mb']:,.0f} MB peak RSS "
            "(not measured): " + ", ".join(f"{k} {v:,}" for k, v in b["tables"].items()) + "."))
    lines += ["", "Fact rows and columns read (the scan floor's queries):", "",
              "| size | fact | rows | rows in the window | window | columns read |",
              "|---|---|---:|---:|---|---:|"]
    for label, s in sizes.items():
        for fact, f in s["check"]["facts"].items():
            lines.append(f"| {label} | {fact} | {f['rows']:,} | {f['window_rows']:,} | "
                         f"{f['window']} | {f['columns']} |")
    big_label, big = labels[-1], sizes[labels[-1]]["check"]
    lines += ["", f"Engine batches of the four calls ({len(big['batches'])} queries; the same at "
              "both sizes) with each query's SQL alone, warm (median of "
              f"{results['repeat']}, seconds):", "",
              "| fact | period | dimensions | terms | " + " | ".join(labels) + " |",
              "|---|---|---|---:|" + "---:|" * len(labels)]
    for n, b in enumerate(big["batches"]):
        cells = " | ".join(f"{sizes[k]['check']['batches'][n]['sql_s']:.2f}" for k in labels)
        lines.append(f"| {b['fact']} | {b['period']} | {', '.join(b['dims']) or '–'} | "
                     f"{b['terms']} | {cells} |")
    lines += ["", f"Where a warm `compute_edition` spends its time at {big_label} (cProfile, "
              f"one run, {big['profile_total']:.2f} s profiled; profiling inflates Python-heavy "
              "parts). Cumulative time of the package's functions:", "",
              "| function | cumulative s | calls |", "|---|---:|---:|"]
    for name, _, cum, calls in big["profile_cum"]:
        lines.append(f"| `{name}` | {cum:.2f} | {calls:,} |")
    lines += ["", "Own time (excluding callees), all code:", "",
              "| function | own s | calls |", "|---|---:|---:|"]
    for name, own, _, calls in big["profile_own"]:
        lines.append(f"| `{name}` | {own:.2f} | {calls:,} |")
    if results.get("large"):
        lines += _large_lines(results["large"])
    return lines
