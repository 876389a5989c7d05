"""The benchmarks: generator and loader throughput with same-run baselines, and the asset graph.

Run with ``make bench`` (or ``.venv/bin/python -m tests.benchmarks.run --scale 0.05``; one group
only with ``--only foundation``, ``--only asset_graph``, ``--only indicators``, ``--only
assessment`` or ``--only kernels``). Not part of the test run. Every measurement runs in a
fresh child process, so its peak RSS is its own; each is repeated (``--repeat``, default 3) and
the median reported. Results are written to ``BENCHMARKS.md`` at the top of the repository,
one section per group: a run of one group keeps the others' sections as they were, and the
notes below the notes marker are kept across runs.

Measured by the ``foundation`` group:

- ``generate (parquet)`` / ``generate (csv)``: :func:`hospital_sdk.synth.generate`, all tables.
- ``write floor``: the same tables read back and rewritten with pyarrow's Parquet writer — the
  cost of writing alone, the baseline the generator is compared with.
- ``load``: :func:`hospital_sdk.ingest.load_folder` of the Parquet output into a new lakehouse
  (validation, tokenisation, rejects, reconciliation, one DuckLake commit per file).
- ``copy floor``: plain DuckDB ``CREATE TABLE AS SELECT * FROM read_parquet(...)`` of the same
  files into a new DuckDB database file — no validation — the baseline the loader is compared
  with. (Until 2026-11-26 the copy went into an in-memory database, which holds every table in
  memory: 4.3 GB at SF 0.05, more than this machine has at SF 1.)

The ``asset_graph`` group: see :mod:`tests.benchmarks.bench_asset_graph` (the whole graph vs one
month of the monthly layers). Both groups use the same generated source folder
(``<workdir>/source``); ``--only asset_graph`` reuses it when its manifest has the same scale,
years and seed, and generates it otherwise.

The ``indicators`` group: see :mod:`tests.benchmarks.bench_indicators` (the whole indicator
catalog computed in one batch — one query per fact — vs one indicator at a time, and a plain
DuckDB scan of the same fact rows and columns as the floor, with both ways checked equal). It
runs on a lakehouse materialized from the same source folder (``<workdir>/indicators_lake``,
kept and reused while source and fact-building code are unchanged).

The ``kernels`` group: see :mod:`tests.benchmarks.bench_kernels` (each kernel against the SQL
path it may replace, on seeded random stays of ``--kernel-rows`` sizes, results checked equal).

The ``assessment`` group: see :mod:`tests.benchmarks.bench_assessment` (the whole tertiary
edition — ``compute_edition`` end to end, its engine calls alone, and scoring plus the xlsx/HTML
report — vs a plain DuckDB scan of the same fact rows and columns, at SF 0.05 and at SF 1, whose
facts are the ``indicators`` lakehouse's facts replicated 20× with distinct stay, visit and
patient ids into ``<workdir>/assessment_lake_x20``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

from tests.benchmarks import (
    bench_assessment,
    bench_asset_graph,
    bench_indicators,
    bench_kernels,
    bench_kernels_bootstrap,
    bench_kernels_reference,
    bench_kernels_spc,
    bench_kernels_sweeps,
)

ROOT = Path(__file__).resolve().parents[2]
NOTES_MARKER = "<!-- notes: kept across runs -->"
GROUPS = ("foundation", "asset_graph", "indicators", "assessment", "kernels")
KERNELS = {
    "episodes": ("episode linking (readmission, return to theatre, 72-h revisit), kernel vs SQL "
                 "path", bench_kernels),
    "bootstrap": ("bootstrap intervals, kernel vs SQL path", bench_kernels_bootstrap),
    "spc": ("statistical process control (XmR, CUSUM, EWMA), kernel vs SQL path",
            bench_kernels_spc),
    "sweeps": ("interval sweeps (bed-days, hourly census, waiting queue), kernel vs SQL path",
               bench_kernels_sweeps),
    "reference": ("every kernel against its slow reference", bench_kernels_reference),
}
"""The kernel families of the ``kernels`` group: (title, benchmark module)."""
REFERENCE_ROWS = (1_000, 10_000)
"""Sizes of the ``reference`` family (the references are quadratic or row-by-row Python, so
``--kernel-rows`` does not apply to them)."""

_CHILD: dict[str, str | tuple[str, str]] = {
    "generate": """
        from hospital_sdk.synth import generate
        r = generate(OUT, scale=SCALE, years=YEARS, seed=SEED, formats=(FMT,))
        RESULT = {"rows": r.rows}
    """,
    "write_floor": """
        import pyarrow.parquet as pq
        from pathlib import Path
        rows = 0
        for f in sorted(Path(SRC).rglob("*.parquet")):
            if any(p.startswith("_") for p in f.relative_to(SRC).parts):
                continue
            t = pq.read_table(f)
            dest = Path(OUT) / f.relative_to(SRC)
            dest.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(t, dest, compression="zstd")
            rows += t.num_rows
        RESULT = {"rows": rows}
    """,
    "load": """
        import os
        from hospital_sdk.ingest import load_folder
        from hospital_sdk.store import Lakehouse
        # the limit the asset graph's raw layer loads under (an explicit home takes none)
        with Lakehouse.open(OUT, memory_limit=os.environ.get("HOSPITAL_SDK_MEMORY_LIMIT")) as lake:
            r = load_folder(SRC, lake)
        RESULT = {"rows": r.rows_in, "rejected": r.rows_rejected}
    """,
    "copy_floor": """
        import duckdb
        from pathlib import Path
        con = duckdb.connect(OUT)  # a database file: streams, as the loader does, at any scale
        rows = 0
        tables = sorted({p.name.split(".")[0] if p.is_file() else p.name  # the Parquet tables;
                         for p in Path(SRC).iterdir()  # not the CSV entry forms of reported/
                         if not p.name.startswith(("_", ".")) and
                         (p.suffix == ".parquet" or any(p.glob("*.parquet")))})
        for t in tables:
            single = Path(SRC, t + ".parquet").exists()
            pattern = f"{SRC}/{t}.parquet" if single else f"{SRC}/{t}/*.parquet"
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{pattern}')")
            rows += con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        RESULT = {"rows": rows}
    """,
    **bench_asset_graph.CHILD,
    **bench_indicators.CHILD,
    **bench_assessment.CHILD,
    **{kind: code for _, module in KERNELS.values() for kind, code in module.CHILD.items()},
}
"""Child-process code per kind: the timed body, or (untimed setup such as imports, timed body)."""


def _measure(kind: str, **params: object) -> dict:
    """Run one measurement in a child process; return its RESULT with seconds and peak RSS (MB)."""
    assignments = "\n".join(f"{k.upper()} = {v!r}" for k, v in params.items())
    setup, body = _CHILD[kind] if isinstance(_CHILD[kind], tuple) else ("", _CHILD[kind])
    code = "\n".join([
        "import json, time", assignments, textwrap.dedent(setup), "t0 = time.perf_counter()",
        textwrap.dedent(body),
        'RESULT["seconds"] = time.perf_counter() - t0',
        'print("RESULT " + json.dumps(RESULT))',
    ])
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark {kind} failed with exit code {proc.returncode}")
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["rss_mb"] = usage.ru_maxrss / 1024
    return result


def _repeat(n: int, kind: str, fresh: Path | None = None, cleanup: Path | None = None,
            **params: object) -> dict[str, float]:
    """``n`` runs of ``kind``; ``fresh`` (a folder) is removed before each run, ``cleanup`` (a
    file and its DuckDB write-ahead log) after each."""
    runs = []
    for _ in range(n):
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
        runs.append(_measure(kind, **params))
        for path in (cleanup, cleanup and cleanup.with_name(cleanup.name + ".wal")):
            if path is not None:
                path.unlink(missing_ok=True)
    seconds = statistics.median(r["seconds"] for r in runs)
    return {"rows": runs[0]["rows"], "seconds": seconds, "rows_per_s": runs[0]["rows"] / seconds,
            "rss_mb": max(r["rss_mb"] for r in runs),
            "runs": [round(r["seconds"], 2) for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Benchmarks (generator, loader, asset graph, indicators, assessment).")
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--years", type=int, nargs="+", default=[2024, 2025])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-whole", type=int, default=None, metavar="N",
                        help="runs of the measurements that process the whole scale (generate, "
                             "write and copy floors, load, full graph); default: --repeat. One "
                             "SF 1 run of these takes about an hour on 2 cores")
    parser.add_argument("--repeat-month", type=int, default=None, metavar="N",
                        help="runs of each one-month measurement of the asset graph group (0: "
                             "none); default: --repeat")
    parser.add_argument("--no-csv", action="store_true",
                        help="skip the CSV generation of the foundation group")
    parser.add_argument("--graph-after-load", action="store_true",
                        help="one full graph run on the lakehouse the foundation group's last "
                             "load filled (its raw layer finds every file loaded), instead of "
                             "loading again: the load is measured once, by the foundation")
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--workdir", type=Path, default=ROOT / ".bench")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--kernel-rows", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="events per kernel measurement (the kernels group)")
    parser.add_argument("--assessment-factors", type=int, nargs="+", default=[1, 20],
                        metavar="FACTOR",
                        help="sizes of the assessment group: the scale's facts replicated FACTOR "
                             "times (default 1 20: at SF 0.05, SF 0.05 and SF 1-sized facts; at "
                             "--scale 1, pass 1 to run on the real SF 1 facts)")
    parser.add_argument("--assessment-large", type=int, default=None, metavar="FACTOR",
                        help="also the out-of-core check of the assessment group on the facts "
                             "replicated FACTOR times (200: SF 10-sized facts)")
    parser.add_argument("--kernel", choices=sorted(KERNELS), action="append",
                        help="only this kernel family (repeatable; default: all)")
    parser.add_argument("--only", choices=GROUPS, action="append",
                        help="run only this group (repeatable; default: all)")
    parser.add_argument("--memory-limit", default=None,
                        help="DuckDB memory limit of the product's lakehouse connections in the "
                             "measured runs (HOSPITAL_SDK_MEMORY_LIMIT, e.g. 4GB); default: "
                             "the product's default (40 %% of physical memory)")
    args = parser.parse_args()
    args.repeat_whole = args.repeat if args.repeat_whole is None else args.repeat_whole
    args.repeat_month = args.repeat if args.repeat_month is None else args.repeat_month
    loaded = args.workdir / f"sf{args.scale:g}" / "lake"
    if args.graph_after_load and "foundation" not in (args.only or GROUPS) and \
            not loaded.is_dir():
        parser.error(f"--graph-after-load starts from the lakehouse the foundation group's load "
                     f"filled ({loaded}): run that group too")
    if args.memory_limit:
        os.environ["HOSPITAL_SDK_MEMORY_LIMIT"] = args.memory_limit  # read by the children
    else:
        os.environ.pop("HOSPITAL_SDK_MEMORY_LIMIT", None)

    work = args.workdir / f"sf{args.scale:g}"  # one cache of source and lakes per scale
    work.mkdir(parents=True, exist_ok=True)
    src = work / "source"
    sections = _Sections(args.output)  # each group's section is written as soon as it is done
    if "foundation" in (args.only or GROUPS):
        sections[_key(args, "foundation")] = _foundation_report(
            args, _foundation(args, work, src))
    if "asset_graph" in (args.only or GROUPS):
        _ensure_source(args, src)
        later = {"indicators", "assessment"} & set(args.only or GROUPS)
        results = bench_asset_graph.run(  # its lakehouse serves the later groups of this run
            _measure, args.repeat_month, src, work, repeat_full=args.repeat_whole,
            keep=(lambda lake: bench_indicators.adopt_lake(lake, src, work, ROOT)) if later
            else None, loaded=work / "lake" if args.graph_after_load else None)
        sections[_key(args, "asset_graph")] = [
            f"## Asset graph at SF {args.scale:g}: the whole graph vs one month", "",
            _recorded(args, "asset_graph"), "", *bench_asset_graph.report(results)]
    if "indicators" in (args.only or GROUPS):
        _ensure_source(args, src)
        results = bench_indicators.run(_measure, args.repeat, src, work, ROOT)
        sections[_key(args, "indicators")] = [
            f"## Indicators at SF {args.scale:g}: the whole catalog in one batch vs one at a "
            "time", "",
            _recorded(args, "indicators"), "", *bench_indicators.report(results)]
    if "assessment" in (args.only or GROUPS):
        _ensure_source(args, src)
        lake = bench_indicators.ensure_lake(_measure, src, work, ROOT)
        results = bench_assessment.run(_measure, args.repeat, src, work, ROOT, lake,
                                       large=args.assessment_large, scale=args.scale,
                                       factors=args.assessment_factors)
        sections[_key(args, "assessment")] = [
            f"## Assessment from SF {args.scale:g}: the tertiary edition for one hospital-year vs "
            "the scan floor", "", _recorded(args, "assessment"), "",
            *bench_assessment.report(results)]
    if "kernels" in (args.only or GROUPS):
        for family in args.kernel or sorted(KERNELS):
            title, module = KERNELS[family]
            sizes = REFERENCE_ROWS if family == "reference" else args.kernel_rows
            results = module.run(_measure, args.repeat, sizes)
            sections[f"kernels.{family}"] = [
                f"## Kernels: {title}", "",
                _recorded(args, "kernels", family), "", *module.report(results)]


class _Sections(dict):
    """The sections of this run: setting one writes it into BENCHMARKS.md at once, so a group
    that fails later (or a stopped run) does not lose what the earlier groups measured."""

    def __init__(self, output: Path) -> None:
        super().__init__()
        self.output = output

    def __setitem__(self, key: str, lines: list[str]) -> None:
        super().__setitem__(key, lines)
        _write_report(self.output, {key: lines})


def _key(args: argparse.Namespace, group: str) -> str:
    """The section of ``group`` at this run's scale: ``foundation@sf0.1``."""
    return f"{group}@sf{args.scale:g}"


def _ensure_source(args: argparse.Namespace, src: Path) -> None:
    """Generate the source folder unless it holds exactly these parameters already."""
    manifest = src / "_manifest.json"
    if manifest.exists():
        params = json.loads(manifest.read_text())["parameters"]
        if (params["scale"], params["years"], params["seed"], params["formats"]) == (
                args.scale, list(args.years), args.seed, ["parquet"]):
            return
    shutil.rmtree(src, ignore_errors=True)
    _measure("generate", out=str(src), fmt="parquet", scale=args.scale,
             years=tuple(args.years), seed=args.seed)


def _foundation(args: argparse.Namespace, work: Path, src: Path) -> dict[str, dict[str, float]]:
    common = {"scale": args.scale, "years": tuple(args.years), "seed": args.seed}
    n = args.repeat_whole
    results = {
        "generate (parquet)": _repeat(n, "generate", src, out=str(src), fmt="parquet", **common),
    }
    results["write floor (pyarrow parquet)"] = _repeat(
        n, "write_floor", work / "rewrite", src=str(src), out=str(work / "rewrite"))
    shutil.rmtree(work / "rewrite", ignore_errors=True)
    if not args.no_csv:
        results["generate (csv)"] = _repeat(n, "generate", work / "csv", out=str(work / "csv"),
                                            fmt="csv", **common)
        shutil.rmtree(work / "csv", ignore_errors=True)
    results["load (parquet → lakehouse)"] = _repeat(n, "load", work / "lake", src=str(src),
                                                    out=str(work / "lake"))
    if not args.graph_after_load:  # else the asset graph group starts from it
        shutil.rmtree(work / "lake", ignore_errors=True)
    copy_db = work / "copy_floor.duckdb"
    results["copy floor (duckdb read_parquet)"] = _repeat(
        n, "copy_floor", src=str(src), out=str(copy_db), cleanup=copy_db)
    return results


def _recorded(args: argparse.Namespace, group: str, family: str | None = None) -> str:
    rows = REFERENCE_ROWS if family == "reference" else args.kernel_rows
    sizes = (f"--kernel {family} --kernel-rows {' '.join(map(str, rows))}"
             if group == "kernels" else
             f"--scale {args.scale:g} --years {' '.join(map(str, args.years))}")
    if group in ("foundation", "asset_graph") and args.repeat_whole != args.repeat:
        sizes += f" --repeat-whole {args.repeat_whole}"
    if group == "asset_graph" and args.repeat_month != args.repeat:
        sizes += f" --repeat-month {args.repeat_month}"
    if group in ("foundation", "asset_graph") and args.graph_after_load:
        sizes += " --graph-after-load"
    if group == "foundation" and args.no_csv:
        sizes += " --no-csv"
    if group == "assessment" and args.assessment_factors != [1, 20]:
        sizes += f" --assessment-factors {' '.join(map(str, args.assessment_factors))}"
    if group == "assessment" and args.assessment_large:
        sizes += f" --assessment-large {args.assessment_large}"
    limit = f" --memory-limit {args.memory_limit}" if args.memory_limit else ""
    only = ("foundation --only asset_graph" if group == "asset_graph" and args.graph_after_load
            else group)  # the graph starts from the foundation's load
    return (f"Recorded {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} "
            f"cores, {_memory_gb():.0f} GB RAM, Python {platform.python_version()}; command: "
            f"`.venv/bin/python -m tests.benchmarks.run --only {only} {sizes} "
            f"--repeat {args.repeat}{limit}` (or `make bench`).")


def _memory_gb() -> float:
    """Physical memory of this machine in GB (10^9 bytes)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9


def _foundation_report(args: argparse.Namespace,
                       results: dict[str, dict[str, float]]) -> list[str]:
    gen = results["generate (parquet)"]
    floor = results["write floor (pyarrow parquet)"]
    load = results["load (parquet → lakehouse)"]
    copy = results["copy floor (duckdb read_parquet)"]
    lines = [
        f"## Generator and loader at SF {args.scale:g}",
        "",
        _recorded(args, "foundation"),
        "",
        "| measurement | rows | median s | rows/s | peak RSS MB | runs (s) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['rows']:,} | {r['seconds']:.2f} | {r['rows_per_s']:,.0f} | "
                     f"{r['rss_mb']:,.0f} | {', '.join(map(str, r['runs']))} |")
    lines += [
        "",
        "Ratios:",
        "",
        f"- generator / write floor: {gen['seconds'] / floor['seconds']:.1f}× the time of "
        "only writing the same rows (target: generation ≥ 1M rows/s on this 2-core machine; "
        f"measured {gen['rows_per_s'] / 1e6:.2f}M rows/s).",
        f"- loader / copy floor: {load['seconds'] / copy['seconds']:.1f}× the time of a plain "
        "DuckDB copy (into a database file) without validation, tokenisation, rejects or "
        "lakehouse commits.",
    ]
    return lines


def _order(key: str) -> tuple[int, float, str]:
    """Sections in the order of :data:`GROUPS`, each group's scales ascending, kernel families
    by name."""
    group, _, scale = key.partition("@sf")
    family = group.split(".")[0]  # kernels.sweeps: a family of the kernels group
    return (GROUPS.index(family) if family in GROUPS else len(GROUPS), float(scale or 0), group)


def _section(group: str, body: str) -> str:
    return f"<!-- bench: {group} -->\n{body.strip()}\n<!-- /bench: {group} -->"


def _write_report(output: Path, sections: dict[str, list[str]]) -> None:
    """Write BENCHMARKS.md: the header, one section per group (groups not run this time keep
    their previous section), then the hand-written notes below the marker, kept as they were."""
    previous = output.read_text(encoding="utf-8") if output.exists() else ""
    notes = previous[previous.index(NOTES_MARKER):] if NOTES_MARKER in previous else ""
    kept = {m.group(1): m.group(0) for m in re.finditer(
        r"<!-- bench: ([\w@.]+) -->.*?<!-- /bench: \1 -->", previous, flags=re.DOTALL)}
    parts = [
        "# Benchmarks",
        "",
        "Each line is the median of the runs listed, each run in a fresh process; peak RSS is the "
        "largest of the runs. Baselines run in the same session, so the ratios hold across "
        "machines better than the absolute numbers.",
    ]
    for key in sorted({*kept, *sections}, key=_order):
        parts += ["", _section(key, "\n".join(sections[key])) if key in sections else kept[key]]
    text = "\n".join(parts) + "\n" + ("\n" + notes if notes else "")
    output.write_text(text, encoding="utf-8")
    for group, lines in sections.items():
        print("\n".join(lines))


if __name__ == "__main__":
    main()
