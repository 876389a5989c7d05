"""Kernels vs their SQL path: SPC charts (XmR with run rules, CUSUM; EWMA kernel-only).

For ``rows`` points of seeded random indicator series (:func:`random_series`: series of 1–120
monthly points keyed by indicator × institution × department, a third of them with a shift,
3 % gap rows), each measured in a fresh child process, medians of ``repeat``:

- ``kernel``: :func:`hospital_sdk.indicators.signals.signals` with ``method="kernel"`` on the
  pandas frame — validation, duplicate check, sorting, series ids, the chart and the output
  frame with its direction-aware assessment (what the product pays; compiled before timing);
- ``kernel alone``: the compiled chart over arrays already laid out (valid points contiguous
  by series, baselines estimated): what the chart itself costs;
- ``SQL``: :func:`hospital_sdk.indicators.signals.signals_sql`, the Ibis window-function path,
  on a DuckDB table holding the same rows, fetched to Arrow;

and the three are checked equal (points charted, signalling points, total of the rule bits).
EWMA has no SQL path (see :mod:`hospital_sdk.indicators.signals`): its kernel is timed alone.
The issue's rule: a kernel is used by the product only where it is at least 5× faster than the
SQL path on 10M events; the report states the ratio and the verdict per chart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tests.benchmarks.measurements import Measure, median_run

__all__ = ["CHARTS", "CHILD", "random_series", "report", "run"]

CHARTS = ("xmr", "cusum")
"""Charts with both paths (compared); EWMA is timed as a kernel only."""


def random_series(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` points of indicator series, sorted by series then month (deterministic)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 121, max(rows // 30, 1))
    while lengths.sum() < rows:
        lengths = np.concatenate([lengths, rng.integers(1, 121, max(rows // 60, 1))])
    ends = np.cumsum(lengths)
    keep = int(np.searchsorted(ends, rows)) + 1
    lengths = lengths[:keep]
    lengths[-1] -= int(ends[keep - 1]) - rows
    n_series = lengths.size
    series = np.repeat(np.arange(n_series), lengths)
    position = np.arange(rows) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    shift = np.where(rng.random(n_series) < 1 / 3, rng.choice([-3.0, 3.0], n_series), 0.0)
    value = np.round(rng.normal(50, 2, rows) + shift[series] * (position >= 24), 2)
    status = np.where(rng.random(rows) < 0.03, "not_computable", "ok").astype(object)
    indicator, rest = np.divmod(series, 4000)
    institution, department = np.divmod(rest, 40)
    names = np.array([f"ind{i:03d}" for i in range(indicator.max() + 1)], dtype=object)
    hospitals = np.array([f"H{i:03d}" for i in range(100)], dtype=object)
    departments = np.array([f"D{i:02d}" for i in range(39)] + [None], dtype=object)
    directions = np.array(["higher_better", "lower_better", "monitor"], dtype=object)
    return pd.DataFrame({
        "indicator_id": names[indicator], "institution": hospitals[institution],
        "department": departments[department],
        "month": (np.datetime64("2000-01", "M") + position).astype("datetime64[ns]"),
        "value": np.where(status == "ok", value, np.nan), "status": status,
        "direction": directions[indicator % 3]})


_SETUP_KERNEL = """
    from tests.benchmarks.bench_kernels_spc import random_series
    from hospital_sdk.indicators.signals import signals
    frame = random_series(ROWS)
    signals(frame.head(500), chart=CHART, method="kernel")  # compile outside the timing
"""
_KERNEL = """
    out = signals(frame, chart=CHART, method="kernel")
    RESULT = {"rows": ROWS, "points": int((out["point"] == "ok").sum()),
              "signals": int(out["signal"].sum()),
              "rule_total": int(out["upper_rules"].sum() + out["lower_rules"].sum())}
"""
_SETUP_CORE = """
    import numpy as np
    from tests.benchmarks.bench_kernels_spc import random_series
    from hospital_sdk.kernels import spc
    frame = random_series(ROWS)
    ok = (frame["status"] == "ok").to_numpy() & frame["value"].notna().to_numpy()
    ids = frame.groupby(["indicator_id", "institution", "department"], dropna=False,
                        sort=False).ngroup().to_numpy()
    x, offsets, _ = spc._layout(np.where(ok, frame["value"].to_numpy(), np.nan), ids)
    centre, sigma, mr_bar, _ = spc._estimate(x, offsets, 12, None, None, True)
    width = spc.E2 * mr_bar
    del frame
    def chart(n=None):
        o = offsets if n is None else offsets[:n + 1]
        if CHART == "xmr":
            _, _, up, down = spc._xmr(o, x, centre, width, mr_bar)
        elif CHART == "cusum":
            _, _, up, down = spc._cusum(o, x, centre, sigma, 0.5, 5.0, False)
        else:
            _, _, _, up, down = spc._ewma(o, x, centre, sigma, 0.2, 3.0)
        return up, down
    chart(5)  # compile outside the timing
"""
_CORE = """
    up, down = chart()
    RESULT = {"rows": ROWS, "points": int(x.size), "signals": int(((up > 0) | (down > 0)).sum()),
              "rule_total": int(up.sum(dtype=np.int64) + down.sum(dtype=np.int64))}
"""
_SETUP_SQL = """
    import ibis
    from tests.benchmarks.bench_kernels_spc import random_series
    from hospital_sdk.indicators.signals import signals_sql
    con = ibis.duckdb.connect()
    table = con.create_table("indicator_value", random_series(ROWS))
"""
_SQL = """
    out = signals_sql(table, chart=CHART).to_pyarrow()
    up = out.column("upper_rules").to_numpy()
    down = out.column("lower_rules").to_numpy()
    RESULT = {"rows": ROWS, "points": int((out.column("point").to_numpy(
        zero_copy_only=False) == "ok").sum()), "signals": int(((up > 0) | (down > 0)).sum()),
        "rule_total": int(up.sum() + down.sum())}
"""

CHILD: dict[str, tuple[str, str]] = {
    "kernel_spc": (_SETUP_KERNEL, _KERNEL),
    "kernel_core_spc": (_SETUP_CORE, _CORE),
    "sql_spc": (_SETUP_SQL, _SQL),
}
"""Child-process code for the runner: (untimed setup, timed body); ``CHART`` is a parameter."""

_KEYS = ("points", "signals", "rule_total")


def run(measure: Measure, repeat: int, sizes: Sequence[int]) -> list[dict]:
    """Per size and chart: kernel, kernel alone, SQL (EWMA: the kernels); raises when the
    ways disagree."""
    out = []
    for rows in sizes:
        for chart in (*CHARTS, "ewma"):
            params = {"rows": rows, "chart": chart, "digits": 3}
            ways = {"kernel": median_run(measure, repeat, "kernel_spc", **params),
                    "core": median_run(measure, repeat, "kernel_core_spc", **params)}
            if chart in CHARTS:
                ways["sql"] = median_run(measure, repeat, "sql_spc", **params)
            want = tuple(ways["kernel"][k] for k in _KEYS)
            for way, m in ways.items():
                if tuple(m[k] for k in _KEYS) != want:
                    raise SystemExit(f"{chart}: {way} disagrees with the kernel at {rows:,} "
                                     f"points: {m} vs {ways['kernel']}")
            out.append({"rows": rows, "chart": chart, **ways})
    return out


def report(results: list[dict]) -> list[str]:
    """Markdown lines: one row per size, chart and way; the ratios and the verdict per chart."""
    lines = ["| points | chart | way | median s | peak RSS MB | signals | runs (s) |",
             "|---:|---|---|---:|---:|---:|---|"]
    names = {"kernel": "kernel (signals(): validate, sort, chart, assess)",
             "core": "kernel alone (arrays ready)", "sql": "SQL path (Ibis on DuckDB)"}
    for r in results:
        for way in ("kernel", "core", "sql"):
            if way in r:
                m = r[way]
                lines.append(f"| {r['rows']:,} | {r['chart']} | {names[way]} | "
                             f"{m['seconds']:.3f} | {m['rss_mb']:,.0f} | {m['signals']:,} | "
                             f"{', '.join(map(str, m['runs']))} |")
    lines.append("")
    for r in results:
        if "sql" not in r:
            continue
        ratio, core = (r["sql"]["seconds"] / r[k]["seconds"] for k in ("kernel", "core"))
        lines.append(f"- {r['rows']:,} points, {r['chart']}: SQL path / kernel with its wrapper "
                     f"**{ratio:.2f}×**; SQL path / kernel alone {core:.1f}× (same "
                     f"{r['kernel']['signals']:,} signalling points all three ways).")
    largest = max(r["rows"] for r in results)
    for r in results:
        if r["rows"] != largest:
            continue
        if "sql" not in r:
            lines.append(f"- {r['chart']} at {largest:,} points: kernel only (no numerically "
                         f"stable SQL form), so the product runs the kernel.")
            continue
        ratio = r["sql"]["seconds"] / r["kernel"]["seconds"]
        if ratio >= 5:
            verdict = ("meets the 5× rule: `method=\"auto\"` runs the kernel on local data "
                       f"(`KERNEL_ON_LOCAL[\"{r['chart']}\"] = True`)")
        else:
            verdict = ("does not meet the 5× rule: the product should use the SQL path "
                       f"(`KERNEL_ON_LOCAL[\"{r['chart']}\"] = False`)")
        note = "" if largest >= 10_000_000 else " (the rule asks for 10M events)"
        lines.append(f"- {r['chart']} at {largest:,} points: {ratio:.2f}× — the kernel "
                     f"{verdict}{note}.")
    return lines
