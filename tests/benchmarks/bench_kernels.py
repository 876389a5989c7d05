"""Kernels vs their SQL path: 0–31-day readmission linking (the first kernel).

For ``rows`` stays of a seeded random group (:func:`random_stays`: two institutions, about four
stays per patient over two years, 5 % without EMPI, a few principal diagnoses so that links are
common), each measured in a fresh child process, medians of ``--repeat``:

- ``kernel``: :func:`hospital_sdk.kernels.readmission_gaps` on the pandas frame, the wrapper's
  validation, sorting and factorising included (compiled once before timing);
- ``kernel alone``: the compiled linking over arrays already sorted and factorised (what the
  kernel would cost if the arrays came sorted from DuckDB);
- ``SQL``: :func:`hospital_sdk.aggregated.episodes.readmission_links`, the Ibis path the asset
  graph runs today, on DuckDB tables holding the same stays and principal diagnoses, fetched to
  Arrow;

and both results are checked equal (the number of links and their gap total). The issue's rule:
a kernel replaces the SQL path in the product only where it is at least 5× faster on 10M
events; the report states the ratio and the verdict.

Run: ``.venv/bin/python -m tests.benchmarks.run --only kernels`` (``--kernel-rows`` to change
the sizes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["CHILD", "random_stays", "report", "run"]

Measure = Callable[..., dict]


def random_stays(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` stays with the readmission columns (deterministic by ``seed``)."""
    rng = np.random.default_rng(seed)
    patients = max(rows // 4, 1)
    patient = rng.integers(0, patients, rows)
    admit = (pd.Timestamp("2024-01-01").value
             + rng.integers(0, 730 * 24 * 60, rows).astype(np.int64) * 60_000_000_000)
    los = rng.integers(0, 20 * 24 * 60, rows).astype(np.int64) * 60_000_000_000
    empi = pd.Series([f"E{p:08d}" for p in patient], dtype=object)
    empi[rng.random(rows) < 0.05] = None
    dx = np.array(["I21.000", "I21.001", "I21.100", "J18.900", "K35.800", "C34.100", None],
                  dtype=object)
    return pd.DataFrame({
        "institution_id": np.where(patient % 2 == 0, "H1", "H2").astype(object),
        "stay_id": [f"S{i:09d}" for i in range(rows)],
        "empi_id": empi,
        "admission_time": pd.to_datetime(admit),
        "discharge_time": pd.to_datetime(admit + los),
        "readmission_plan": rng.choice(np.array(["1", "1", "1", "2", None], dtype=object), rows),
        "discharge_disposition": rng.choice(np.array(["1"] * 19 + ["5"], dtype=object), rows),
        "principal_diagnosis_code": rng.choice(dx, rows)})


_SETUP_KERNEL = """
    from tests.benchmarks.bench_kernels import random_stays
    from hospital_sdk.kernels import readmission_gaps
    stays = random_stays(ROWS)
    readmission_gaps(stays.head(100))  # compile outside the timing
"""
_KERNEL = """
    out = readmission_gaps(stays)
    RESULT = {"rows": ROWS, "links": len(out),
              "gap_total": int(out["readmission_gap_days"].sum())}
"""
_SETUP_CORE = """
    from tests.benchmarks.bench_kernels import random_stays
    from hospital_sdk.kernels.episodes import _arrays, _link
    stays = random_stays(ROWS)
    stays = stays[stays["empi_id"].notna()]
    _, arrays = _arrays(stays, 4)
    _link(*(a[:100] for a in arrays), 31)  # compile outside the timing
"""
_CORE = """
    gaps = _link(*arrays, 31)
    RESULT = {"rows": ROWS, "links": int((gaps >= 0).sum()),
              "gap_total": int(gaps[gaps >= 0].sum())}
"""
_SETUP_SQL = """
    import datetime as dt
    import pandas as pd
    import ibis
    from tests.benchmarks.bench_kernels import random_stays
    from hospital_sdk.aggregated.episodes import readmission_links
    stays = random_stays(ROWS)
    con = ibis.duckdb.connect()
    dx = stays[stays["principal_diagnosis_code"].notna()]
    tables = {
        "inpatient_stay": con.create_table("inpatient_stay", stays.drop(
            columns="principal_diagnosis_code")),
        "stay_diagnosis": con.create_table("stay_diagnosis", pd.DataFrame({
            "institution_id": dx["institution_id"], "stay_id": dx["stay_id"],
            "diagnosis_kind": "discharge", "seq": 1, "diagnosis_code":
            dx["principal_diagnosis_code"], "discharge_time": dx["discharge_time"]}))}
    del stays, dx
"""
_SQL = """
    out = readmission_links(tables, dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1)).to_pyarrow()
    RESULT = {"rows": ROWS, "links": out.num_rows,
              "gap_total": int(out.column("readmission_gap_days").to_numpy().sum())}
"""

CHILD: dict[str, tuple[str, str]] = {
    "kernel_readmission": (_SETUP_KERNEL, _KERNEL),
    "kernel_core_readmission": (_SETUP_CORE, _CORE),
    "sql_readmission": (_SETUP_SQL, _SQL),
}
"""Child-process code for the runner: (untimed setup, timed body)."""


def _repeat(measure: Measure, n: int, kind: str, **params: object) -> dict:
    runs = [measure(kind, **params) for _ in range(n)]
    seconds = sorted(r["seconds"] for r in runs)[len(runs) // 2]
    return {**runs[0], "seconds": seconds, "rss_mb": max(r["rss_mb"] for r in runs),
            "runs": [round(r["seconds"], 2) for r in runs]}


def run(measure: Measure, repeat: int, sizes: Sequence[int]) -> list[dict]:
    """Kernel and SQL at each size; raises when the two disagree."""
    out = []
    for rows in sizes:
        kernel = _repeat(measure, repeat, "kernel_readmission", rows=rows)
        core = _repeat(measure, repeat, "kernel_core_readmission", rows=rows)
        sql = _repeat(measure, repeat, "sql_readmission", rows=rows)
        for other in (core, sql):
            if (kernel["links"], kernel["gap_total"]) != (other["links"], other["gap_total"]):
                raise SystemExit(f"kernel and SQL disagree at {rows:,} stays: {kernel} vs "
                                 f"{other}")
        out.append({"rows": rows, "kernel": kernel, "core": core, "sql": sql})
    return out


def report(results: list[dict]) -> list[str]:
    """Markdown lines: one row per size and way, the ratio and the verdict."""
    lines = ["| stays | way | median s | peak RSS MB | links | runs (s) |",
             "|---:|---|---:|---:|---:|---|"]
    names = {"kernel": "kernel (pandas wrapper: sort, factorise, link)",
             "core": "kernel alone (arrays ready)", "sql": "SQL path (DuckDB)"}
    for r in results:
        for way in ("kernel", "core", "sql"):
            m = r[way]
            lines.append(f"| {r['rows']:,} | {names[way]} | {m['seconds']:.2f} | "
                         f"{m['rss_mb']:,.0f} | {m['links']:,} | "
                         f"{', '.join(map(str, m['runs']))} |")
    lines.append("")
    for r in results:
        ratio, core = (r["sql"]["seconds"] / r[k]["seconds"] for k in ("kernel", "core"))
        lines.append(f"- {r['rows']:,} stays: SQL path / kernel with its wrapper **{ratio:.2f}×**; "
                     f"SQL path / kernel alone {core:.1f}× (same {r['kernel']['links']:,} links "
                     f"and gap total all three ways).")
    biggest = results[-1]
    ratio = biggest["sql"]["seconds"] / biggest["kernel"]["seconds"]  # what the product would run
    verdict = ("meets the 5× rule" if ratio >= 5 else "does not meet the 5× rule")
    lines.append(f"- At the largest size measured ({biggest['rows']:,}) the kernel {verdict}; "
                 f"the asset graph still runs the SQL path (wiring the kernel into `stay_fact` "
                 f"is the kernels issue's next step, and the rule asks for 10M events).")
    return lines
