"""Foundation benchmarks: generator and loader throughput, with same-run baselines.

Run with ``make bench`` (or ``.venv/bin/python -m tests.benchmarks.run --scale 0.05``). Not part
of the test run. Every measurement runs in a fresh child process, so its peak RSS is its own;
each is repeated (``--repeat``, default 3) and the median reported. Results are written to
``BENCHMARKS.md`` at the top of the repository.

Measured:

- ``generate (parquet)`` / ``generate (csv)``: :func:`hospital_sdk.synth.generate`, all tables.
- ``write floor``: the same tables read back and rewritten with pyarrow's Parquet writer — the
  cost of writing alone, the baseline the generator is compared with.
- ``load``: :func:`hospital_sdk.ingest.load_folder` of the Parquet output into a new lakehouse
  (validation, tokenisation, rejects, reconciliation, one DuckLake commit per file).
- ``copy floor``: plain DuckDB ``CREATE TABLE AS SELECT * FROM read_parquet(...)`` of the same
  files into an in-memory database — no validation — the baseline the loader is compared with.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTES_MARKER = "<!-- notes: kept across runs -->"

_CHILD = {
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
        from hospital_sdk.ingest import load_folder
        from hospital_sdk.store import Lakehouse
        with Lakehouse.open(OUT) as lake:
            r = load_folder(SRC, lake)
        RESULT = {"rows": r.rows_in, "rejected": r.rows_rejected}
    """,
    "copy_floor": """
        import duckdb
        from pathlib import Path
        con = duckdb.connect()
        rows = 0
        tables = sorted({p.name.split(".")[0] if p.is_file() else p.name
                         for p in Path(SRC).iterdir() if not p.name.startswith(("_", "."))})
        for t in tables:
            pattern = f"{SRC}/{t}.parquet" if Path(SRC, t + ".parquet").exists() else f"{SRC}/{t}/*.parquet"
            con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{pattern}')")
            rows += con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        RESULT = {"rows": rows}
    """,
}


def _measure(kind: str, **params: object) -> dict[str, float]:
    """Run one measurement in a child process; return rows, seconds and peak RSS (MB)."""
    assignments = "\n".join(f"{k.upper()} = {v!r}" for k, v in params.items())
    code = "\n".join([
        "import json, time", assignments, "t0 = time.perf_counter()",
        textwrap.dedent(_CHILD[kind]),
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


def _repeat(n: int, kind: str, fresh: Path | None = None, **params: object) -> dict[str, float]:
    runs = []
    for _ in range(n):
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
        runs.append(_measure(kind, **params))
    seconds = statistics.median(r["seconds"] for r in runs)
    return {"rows": runs[0]["rows"], "seconds": seconds, "rows_per_s": runs[0]["rows"] / seconds,
            "rss_mb": max(r["rss_mb"] for r in runs), "runs": [round(r["seconds"], 2) for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description="Foundation benchmarks (generator, loader).")
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--years", type=int, nargs="+", default=[2024, 2025])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--workdir", type=Path, default=ROOT / ".bench")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()

    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    common = {"scale": args.scale, "years": tuple(args.years), "seed": args.seed}
    src = work / "source"
    results = {
        "generate (parquet)": _repeat(args.repeat, "generate", src, out=str(src), fmt="parquet",
                                      **common),
    }
    results["write floor (pyarrow parquet)"] = _repeat(
        args.repeat, "write_floor", work / "rewrite", src=str(src), out=str(work / "rewrite"))
    results["generate (csv)"] = _repeat(args.repeat, "generate", work / "csv",
                                        out=str(work / "csv"), fmt="csv", **common)
    results["load (parquet → lakehouse)"] = _repeat(args.repeat, "load", work / "lake",
                                                    src=str(src), out=str(work / "lake"))
    results["copy floor (duckdb read_parquet)"] = _repeat(args.repeat, "copy_floor", src=str(src))
    _write_report(args, results)
    shutil.rmtree(work / "rewrite", ignore_errors=True)
    shutil.rmtree(work / "csv", ignore_errors=True)


def _write_report(args: argparse.Namespace, results: dict[str, dict[str, float]]) -> None:
    gen = results["generate (parquet)"]
    floor = results["write floor (pyarrow parquet)"]
    load = results["load (parquet → lakehouse)"]
    copy = results["copy floor (duckdb read_parquet)"]
    lines = [
        "# Benchmarks",
        "",
        f"Recorded {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; command: "
        f"`.venv/bin/python -m tests.benchmarks.run --scale {args.scale} "
        f"--years {' '.join(map(str, args.years))} --repeat {args.repeat}` (`make bench`).",
        "Each line is the median of the runs listed, each run in a fresh process; peak RSS is the "
        "largest of the runs. Baselines run in the same session, so the ratios hold across "
        "machines better than the absolute numbers.",
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
        "DuckDB copy without validation, tokenisation, rejects or lakehouse commits.",
        "",
    ]
    notes = ""
    if args.output.exists():  # hand-written analysis below the marker survives a re-run
        previous = args.output.read_text(encoding="utf-8")
        if NOTES_MARKER in previous:
            notes = previous[previous.index(NOTES_MARKER):]
    args.output.write_text("\n".join(lines) + ("\n" + notes if notes else ""), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
