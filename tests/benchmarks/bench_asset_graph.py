"""Asset-graph benchmark: the whole graph once vs one month of the monthly layers.

Run by the benchmark runner (``make bench``, or only this one:
``.venv/bin/python -m tests.benchmarks.run --only asset_graph --scale 0.05``), on the runner's
synthetic source folder (generated once and reused while its parameters match). Every run is a
fresh child process (peak RSS is its own); the imports (Dagster, Ibis) happen before the clock
starts, so the seconds are the run's.

Measured:

- ``full graph``: :func:`assets.materialize.materialize` of every asset (raw → cleaned →
  aggregated → application, with their checks) for all months of the data, into a new
  lakehouse each time.
- ``one month``: on the lakehouse the last full run left, the cleaned and aggregated groups for
  the last month of the data (``first = last``): the monthly assets replace that month only;
  the unpartitioned ones in those groups (catalogs, patient index, status intervals, DRG risk)
  are rebuilt whole, as they would be in a monthly run.
- ``one month, monthly assets only``: the same month with only the monthly (partitioned)
  assets of those groups selected, which isolates what month partitioning itself costs.
- the ratios one month / full graph (target from the issue: ≤ 1/8).

Per-step durations (``STEP_SUCCESS`` events carry ``duration_ms``) are kept as medians, so the
report shows where the time goes; what remains of a run's time outside its steps is Dagster's
own work (planning, events, resource setup) plus the steps' check evaluation bookkeeping.
"""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

SELECTION_MONTH = "group:cleaned or group:aggregated"
MONTHLY_ONLY = "monthly"
"""Stands for the selection of every partitioned asset of the cleaned and aggregated groups."""
TARGET = 1 / 8

_SETUP = """
    from assets.materialize import materialize
    from hospital_sdk.config import Settings
    settings = Settings(home=OUT, source=SRC, first_month=FIRST)
    if SELECTION == "monthly":  # every partitioned asset of the cleaned and aggregated groups
        from assets.definitions import build_definitions
        graph = build_definitions(settings).resolve_asset_graph()
        SELECTION = " or ".join(
            f"key:{k.to_user_string()}" for k in sorted(graph.get_all_asset_keys(), key=str)
            if k.path[0] in ("cleaned", "aggregated") and graph.get(k).partitions_def)
"""
_RUN = """
    import sys
    def progress(event, step):  # each finished step on stderr: where a long run stands
        if event == "STEP_SUCCESS":
            print(f"[asset graph {time.perf_counter() - t0:8.1f} s] {step}", file=sys.stderr,
                  flush=True)
    result = materialize(settings, FIRST, LAST, selection=SELECTION, progress=progress)
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    if not result.success:
        raise SystemExit(f"the run failed: steps {failed}")
    RESULT = {"steps": {e.step_key: e.event_specific_data.duration_ms / 1000
                        for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}}
"""

CHILD: dict[str, tuple[str, str]] = {"asset_graph": (_SETUP, _RUN)}
"""Child-process code of this benchmark for the runner: (untimed setup, timed body)."""

Measure = Callable[..., dict]


def source_months(src: Path) -> tuple[str, str]:
    """First and last month of the generated data (from its manifest)."""
    years = json.loads((src / "_manifest.json").read_text())["parameters"]["years"]
    return f"{min(years)}-01", f"{max(years)}-12"


def _repeat(measure: Measure, n: int, fresh: Path | None, **params: object) -> dict:
    runs = []
    for _ in range(n):
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
        runs.append(measure("asset_graph", **params))
    steps = sorted({s for r in runs for s in r["steps"]})
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
        "runs": [round(r["seconds"], 1) for r in runs],
        "steps": {s: statistics.median(r["steps"].get(s, 0.0) for r in runs) for s in steps},
    }


def run(measure: Measure, repeat: int, src: Path, work: Path, repeat_full: int | None = None,
        keep: Callable[[Path], None] | None = None, loaded: Path | None = None) -> dict[str, dict]:
    """Run the measurements (``measure(kind, **params)`` is the runner's child-process timer);
    the full graph ``repeat_full`` times (default ``repeat``), each month run ``repeat`` times
    (none with 0). With ``loaded`` — a lakehouse the loader filled from ``src`` — one full run
    starts from it, so its raw layer finds every file loaded (the load is measured apart: one
    hour less at SF 1). The lakehouse of the last run is removed afterwards, or handed to
    ``keep``."""
    first, last = source_months(src)
    lake = work / "graph_lake"
    common = {"src": str(src), "out": str(lake), "first": first}
    name = "full graph"
    if loaded is not None:
        shutil.rmtree(lake, ignore_errors=True)
        loaded.rename(lake)
        full = _repeat(measure, 1, None, last=last, selection=None, **common)
        name = "full graph (raw layer loaded before)"
    else:
        full = _repeat(measure, repeat_full or repeat, lake, last=last, selection=None, **common)
    full["months"] = f"{first}..{last}"
    out = {name: full}
    for name, selection in ((f"one month ({SELECTION_MONTH})", SELECTION_MONTH),
                            ("one month, monthly assets only", MONTHLY_ONLY)) if repeat else ():
        out[name] = _repeat(measure, repeat, None, last=last, selection=selection,
                            **{**common, "first": last})  # the lake of the last full run
        out[name]["months"] = last
    if keep is not None:
        keep(lake)
    else:
        shutil.rmtree(lake, ignore_errors=True)
    return out


def report(results: dict[str, dict]) -> list[str]:
    """Markdown lines: the runs, the ratios against the target, and the per-step medians."""
    full = next(iter(results.values()))
    lines = [
        "| measurement | months | median s | peak RSS MB | runs (s) |",
        "|---|---|---:|---:|---|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['months']} | {r['seconds']:.1f} | {r['rss_mb']:,.0f} | "
                     f"{', '.join(map(str, r['runs']))} |")
    lines.append("")
    for name, month in list(results.items())[1:]:
        ratio = month["seconds"] / full["seconds"]
        lines.append(f"- {name} / full graph: {ratio:.3f} (1/{1 / ratio:.1f}); target ≤ 1/8 = "
                     f"{TARGET:.3f}: **{'met' if ratio <= TARGET else 'missed'}**.")
    for name, r in results.items():
        in_steps = sum(r["steps"].values())
        lines.append(f"- {name}: {in_steps:.1f} s in {len(r['steps'])} steps, "
                     f"{r['seconds'] - in_steps:.1f} s outside them (Dagster: planning, events, "
                     f"resources).")
    lines += [
        "",
        "Median seconds per step (slowest first; `–`: not in that run):",
        "",
        "| step | " + " | ".join(results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    steps = sorted(set().union(*(r["steps"] for r in results.values())),
                   key=lambda s: (-full["steps"].get(s, 0.0), s))
    for step in steps:
        cells = [f"{r['steps'][step]:.2f}" if step in r["steps"] else "–"
                 for r in results.values()]
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return lines
