"""Kernels vs their SQL path: percentile bootstrap intervals per institution × department.

For ``rows`` outpatient visits of a seeded random group (:func:`random_visits`: 20 institutions
× 25 departments, 500 groups of uneven size, waits in whole minutes, log-normal), the mean wait
of every group with its 95 % percentile bootstrap interval from :data:`REPLICATES` resamples,
each way measured in a fresh child process, medians of ``--repeat``:

- ``kernel``: :func:`hospital_sdk.assessments.uncertainty.bootstrap_interval` with
  ``method="kernel"`` on the pandas frame — validation, grouping, sorting included (compiled
  once before timing): what the product pays;
- ``kernel alone``: the compiled resampling over arrays already grouped and sorted;
- ``SQL``: the same function with ``method="sql"`` on a DuckDB table holding the same visits:
  the Ibis path, which generates every draw in SQL with the same counter-based generator, joins
  it to its row and aggregates (``Σ n × replicates`` rows), fetched to pandas.

The three results are checked equal — the sums of the groups' ``low`` and ``high`` to the bit:
with waits in whole minutes every sum is exact, so equal ends mean the same resamples. The
replicate count is :data:`REPLICATES` (100), not the product's default 2 000, so that the SQL
path finishes at 10M visits: it materialises 10⁹ draws there (about 10 minutes on two cores at
the rate seen at 100k visits). Both paths' work grows linearly with the replicates, so the
ratio does not depend much on it. The issue's rule: a kernel replaces the SQL path in the
product only where it is at least 5× faster on 10M events; the report states the ratio and the
verdict.

Run: ``.venv/bin/python -m tests.benchmarks.run --only kernels`` once the lead has added this
module to the runner (``--kernel-rows`` to change the sizes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tests.benchmarks.measurements import Measure, median_run

__all__ = ["CHILD", "REPLICATES", "random_visits", "report", "run"]

REPLICATES = 100
"""Resamples per group in the benchmark (see the module)."""


def random_visits(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` visits: ``institution_id, department, wait_min`` (deterministic by ``seed``)."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.2, 1.0, 500)
    group = rng.choice(500, rows, p=weights / weights.sum())
    wait = np.round(rng.lognormal(3.0, 0.7, rows))
    return pd.DataFrame({
        "institution_id": pd.Series([f"H{g // 25:02d}" for g in range(500)], dtype=object)
        .to_numpy()[group],
        "department": pd.Series([f"D{g % 25:02d}" for g in range(500)], dtype=object)
        .to_numpy()[group],
        "wait_min": wait})


_RESULT = """
    RESULT = {"rows": ROWS, "groups": len(out), "n": int(out["n"].sum()),
              "low_sum": float(out["low"].sum()), "high_sum": float(out["high"].sum())}
"""
_SETUP_KERNEL = """
    from tests.benchmarks.bench_kernels_bootstrap import REPLICATES, random_visits
    from hospital_sdk.assessments.uncertainty import bootstrap_interval
    visits = random_visits(ROWS)
    kw = dict(by=["institution_id", "department"], value="wait_min", replicates=REPLICATES,
              seed=1, method="kernel")
    bootstrap_interval(visits.head(100), **kw)  # compile outside the timing
"""
_KERNEL = """
    out = bootstrap_interval(visits, **kw)
""" + _RESULT
_SETUP_CORE = """
    import pandas as pd
    from tests.benchmarks.bench_kernels_bootstrap import REPLICATES, random_visits
    from hospital_sdk.kernels.bootstrap import _bootstrap, percentile_levels, prepare
    keys, starts, values, expected = prepare(random_visits(ROWS),
                                             ["institution_id", "department"], ["wait_min"])
    q_low, q_high = percentile_levels(0.95)
    _bootstrap(starts[:2], values, expected, 0, 3, q_low, q_high, 1)  # compile
"""
_CORE = """
    res = _bootstrap(starts, values, expected, 0, REPLICATES, q_low, q_high, 1)
    out = pd.DataFrame({"n": starts[1:] - starts[:-1], "low": res[:, 1], "high": res[:, 2]})
""" + _RESULT
_SETUP_SQL = """
    import ibis
    from tests.benchmarks.bench_kernels_bootstrap import REPLICATES, random_visits
    from hospital_sdk.assessments.uncertainty import bootstrap_interval
    con = ibis.duckdb.connect()
    table = con.create_table("visits", random_visits(ROWS))
    kw = dict(by=["institution_id", "department"], value="wait_min", replicates=REPLICATES,
              seed=1, method="sql")
"""
_SQL = """
    out = bootstrap_interval(table, **kw)
""" + _RESULT

CHILD: dict[str, tuple[str, str]] = {
    "kernel_bootstrap": (_SETUP_KERNEL, _KERNEL),
    "kernel_core_bootstrap": (_SETUP_CORE, _CORE),
    "sql_bootstrap": (_SETUP_SQL, _SQL),
}
"""Child-process code for the runner: (untimed setup, timed body)."""

_CHECKED = ("groups", "n", "low_sum", "high_sum")


def run(measure: Measure, repeat: int, sizes: Sequence[int]) -> list[dict]:
    """Kernel, kernel alone and SQL at each size; raises when they disagree."""
    out = []
    for rows in sizes:
        kernel = median_run(measure, repeat, "kernel_bootstrap", rows=rows)
        core = median_run(measure, repeat, "kernel_core_bootstrap", rows=rows)
        sql = median_run(measure, repeat, "sql_bootstrap", rows=rows)
        for other in (core, sql):
            if any(kernel[k] != other[k] for k in _CHECKED):
                raise SystemExit(f"bootstrap kernel and SQL disagree at {rows:,} visits: "
                                 f"{kernel} vs {other}")
        out.append({"rows": rows, "kernel": kernel, "core": core, "sql": sql})
    return out


def report(results: list[dict]) -> list[str]:
    """Markdown lines: one row per size and way, the ratio and the verdict."""
    lines = [f"Mean wait per institution × department (500 groups), 95 % percentile bootstrap, "
             f"{REPLICATES} replicates.", "",
             "| visits | way | median s | peak RSS MB | groups | runs (s) |",
             "|---:|---|---:|---:|---:|---|"]
    names = {"kernel": "kernel (wrapper: group, sort, resample)",
             "core": "kernel alone (arrays ready)", "sql": "SQL path (DuckDB via Ibis)"}
    for r in results:
        for way in ("kernel", "core", "sql"):
            m = r[way]
            lines.append(f"| {r['rows']:,} | {names[way]} | {m['seconds']:.2f} | "
                         f"{m['rss_mb']:,.0f} | {m['groups']:,} | "
                         f"{', '.join(map(str, m['runs']))} |")
    lines.append("")
    for r in results:
        ratio, core = (r["sql"]["seconds"] / r[k]["seconds"] for k in ("kernel", "core"))
        lines.append(f"- {r['rows']:,} visits: SQL path / kernel with its wrapper "
                     f"**{ratio:.1f}×**; SQL path / kernel alone {core:.1f}× (the same interval "
                     f"ends to the bit all three ways).")
    biggest = results[-1]
    ratio = biggest["sql"]["seconds"] / biggest["kernel"]["seconds"]
    if biggest["rows"] < 10_000_000:
        verdict = (f"at {biggest['rows']:,} visits (below the rule's 10M) the ratio is "
                   f"{ratio:.1f}×: {'on course for' if ratio >= 5 else 'short of'} the 5× rule")
    elif ratio >= 5:
        verdict = (f"at {biggest['rows']:,} visits the kernel is {ratio:.1f}× faster: it meets "
                   f"the 5× rule, and `bootstrap_interval(method='auto')` uses it on local data")
    else:
        verdict = (f"at {biggest['rows']:,} visits the kernel is only {ratio:.1f}× faster: it "
                   f"does not meet the 5× rule, so `method='auto'` should use the SQL path")
    lines.append(f"- Verdict: {verdict}. The SQL path stays for engines where Numba cannot "
                 f"run (Spark).")
    return lines
