"""Episode kernels vs their SQL paths: readmission, return to theatre, emergency revisit.

For ``rows`` events of a seeded random group — stays (:func:`random_stays`), surgical
operations (:func:`random_operations`) or emergency visits (:func:`random_visits`) — each way
measured in a fresh child process, medians of ``--repeat``:

- ``product (kernel)``: the aggregated layer's function with ``method="kernel"`` on DuckDB
  tables (:func:`~hospital_sdk.aggregated.episodes.readmission_links`,
  :func:`~hospital_sdk.aggregated.episodes.reoperation_intervals`,
  :func:`~hospital_sdk.aggregated.revisits.emergency_revisits`): DuckDB joins, codes (dense
  ranks) and sorts, the columns come back as Arrow then NumPy, the kernel links, the result is
  an in-memory table fetched to Arrow — what the product pays (kernel compiled before timing);
- ``kernel alone``: the public arrays-level kernel over arrays already coded and sorted;
- ``SQL``: the same function with ``method="sql"`` (the Ibis path, the only one on Spark),
  fetched to Arrow;

and the three results are checked equal (counts and totals). The issue's rule: a kernel is used
in the product (``method="auto"``, :data:`hospital_sdk.aggregated.episodes.KERNEL_PAYS`) only
where it is at least 5× faster than SQL on 10M events; the report gives each ratio and verdict.

Run: ``.venv/bin/python -m tests.benchmarks.run --only kernels`` (``--kernel-rows`` to change
the sizes).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd

from tests.benchmarks.measurements import Measure, median_run

__all__ = ["CHILD", "KERNELS", "duckdb_tables", "random_operations", "random_stays",
           "random_visits", "report", "run", "sorted_operations"]

_MINUTE = 60_000_000_000
_START = pd.Timestamp("2024-01-01").value


def random_stays(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` stays with the readmission columns (deterministic by ``seed``)."""
    rng = np.random.default_rng(seed)
    patients = max(rows // 4, 1)
    patient = rng.integers(0, patients, rows)
    admit = _START + rng.integers(0, 730 * 24 * 60, rows).astype(np.int64) * _MINUTE
    los = rng.integers(0, 20 * 24 * 60, rows).astype(np.int64) * _MINUTE
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


OP, DX = "47.0100", "87.4400"


def random_operations(rows: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(stays, procedures): ``rows`` procedures (90 % surgery, 10 % flagged unplanned) over
    ``rows / 2`` stays of ``rows / 6`` patients, times on the half hour so ties occur."""
    rng = np.random.default_rng(seed)
    n_stays = max(rows // 2, 1)
    stays = random_stays(n_stays, seed)[["institution_id", "stay_id", "empi_id",
                                         "admission_time", "discharge_time"]]
    stay = np.sort(rng.integers(0, n_stays, rows))
    admit = stays["admission_time"].to_numpy()[stay].view(np.int64)
    out = stays["discharge_time"].to_numpy()[stay].view(np.int64)
    when = admit + (rng.random(rows) * (out - admit) // (30 * _MINUTE)).astype(np.int64) * (
        30 * _MINUTE)
    first = np.r_[0, np.flatnonzero(np.diff(stay)) + 1]
    seq = np.arange(rows) - np.repeat(first, np.diff(np.r_[first, rows])) + 1
    procedures = pd.DataFrame({
        "institution_id": stays["institution_id"].to_numpy()[stay],
        "stay_id": stays["stay_id"].to_numpy()[stay], "seq": seq.astype(np.int32),
        "procedure_code": np.where(rng.random(rows) < 0.9, OP, DX).astype(object),
        "procedure_time": pd.to_datetime(when),
        "is_unplanned_reoperation": rng.random(rows) < 0.1,
        "discharge_time": pd.to_datetime(out)})
    return stays, procedures


def sorted_operations(rows: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The operations of :func:`random_operations` sorted by patient (institution and EMPI, or
    the stay without one) and time, with the kernel's arrays: ``(operations, group, times)``."""
    stays, p = random_operations(rows)
    p = p[p["procedure_code"] == OP].merge(stays[["institution_id", "stay_id", "empi_id"]])
    p["patient"] = np.where(p["empi_id"].isna(), "stay:" + p["stay_id"],
                            "empi:" + p["empi_id"].fillna(""))
    p["group"] = p.groupby(["institution_id", "patient"], sort=True).ngroup()
    p = p.sort_values(["group", "procedure_time"], kind="stable")
    group = np.ascontiguousarray(p["group"].to_numpy(np.int64))
    times = np.ascontiguousarray(p["procedure_time"].to_numpy().astype("datetime64[us]"))
    return p, group, times


def random_visits(rows: int, seed: int = 7) -> pd.DataFrame:
    """``rows`` visits (90 % emergency, 2 % cancelled, 5 % without EMPI) of ``rows / 5``
    patients over two years, on 10-minute marks so same-minute visits occur."""
    rng = np.random.default_rng(seed)
    patient = rng.integers(0, max(rows // 5, 1), rows)
    empi = pd.Series([f"E{p:08d}" for p in patient], dtype=object)
    empi[rng.random(rows) < 0.05] = None
    when = _START + rng.integers(0, 730 * 24 * 6, rows).astype(np.int64) * 10 * _MINUTE
    return pd.DataFrame({
        "institution_id": np.where(patient % 2 == 0, "H1", "H2").astype(object),
        "visit_id": [f"V{i:09d}" for i in range(rows)], "empi_id": empi,
        "visit_type": np.where(rng.random(rows) < 0.9, "emergency", "outpatient").astype(object),
        "visit_time": pd.to_datetime(when), "is_cancelled": rng.random(rows) < 0.02})


def duckdb_tables(kernel: str, rows: int) -> dict:
    """The cleaned tables the aggregated function of ``kernel`` reads, in a new DuckDB."""
    import ibis
    con = ibis.duckdb.connect()
    if kernel == "readmission":
        stays = random_stays(rows)
        dx = stays[stays["principal_diagnosis_code"].notna()]
        return {"inpatient_stay": con.create_table("inpatient_stay", stays.drop(
                    columns="principal_diagnosis_code")),
                "stay_diagnosis": con.create_table("stay_diagnosis", pd.DataFrame({
                    "institution_id": dx["institution_id"], "stay_id": dx["stay_id"],
                    "diagnosis_kind": "discharge", "seq": 1, "diagnosis_code":
                    dx["principal_diagnosis_code"], "discharge_time": dx["discharge_time"]}))}
    if kernel == "reoperation":
        stays, procedures = random_operations(rows)
        return {"inpatient_stay": con.create_table("inpatient_stay", stays),
                "stay_procedure": con.create_table("stay_procedure", procedures),
                "procedure_catalog": con.create_table("procedure_catalog", pd.DataFrame(
                    {"code": [OP, DX], "category": ["1", "2"]}))}
    return {"outpatient_visit": con.create_table("outpatient_visit", random_visits(rows))}


KERNELS: dict[str, str] = {"readmission": "stays", "reoperation": "operations",
                           "revisit": "emergency visits"}
"""The kernels measured and what their events are."""

_CALL = {
    "readmission": "readmission_links(tables, *WIDE, method=METHOD)",
    "reoperation": "reoperation_intervals(tables, *WIDE, method=METHOD)",
    "revisit": "emergency_revisits(tables, *WIDE, method=METHOD)",
}
# the child's code runs beside the runner's own names (``time``, ``json``): do not reuse them
_SUMMARY = {  # the same figures from the product's Arrow result (out)
    "readmission": """{"links": out.num_rows,
        "total": int(pc.sum(out.column("readmission_gap_days")).as_py() or 0)}""",
    "reoperation": """{"links": int(pc.count(out.column("hours_since_previous")).as_py()),
        "total": round(float(pc.sum(out.column("hours_since_previous")).as_py() or 0), 3)}""",
    "revisit": """{"links": int(pc.sum(out.column("has_return_visit")).as_py() or 0),
        "total": out.num_rows}""",
}
_PRODUCT_SETUP = """
    import datetime as dt
    import pyarrow.compute as pc
    from tests.benchmarks.bench_kernels import duckdb_tables
    from hospital_sdk.aggregated.episodes import readmission_links, reoperation_intervals
    from hospital_sdk.aggregated.revisits import emergency_revisits
    WIDE = dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1)
    tables = duckdb_tables(KERNEL, ROWS)
"""
_CORE_SETUP = {
    "readmission": """
        from tests.benchmarks.bench_kernels import random_stays
        from hospital_sdk.kernels.episodes import _arrays, link_readmissions
        stays = random_stays(ROWS)
        _, a = _arrays(stays[stays["empi_id"].notna()], 4)
        args = (a[0], a[1].view("datetime64[ns]"), a[2].view("datetime64[ns]"), a[5], a[6],
                a[7], a[8])
        link_readmissions(*(x[:100] for x in args))  # compile outside the timing
    """,
    "reoperation": """
        import numpy as np
        from tests.benchmarks.bench_kernels import sorted_operations
        from hospital_sdk.kernels.episodes import previous_operation_hours
        p, group, times = sorted_operations(ROWS)
        flagged = p["is_unplanned_reoperation"].to_numpy()
        previous_operation_hours(group[:100], times[:100])  # compile outside the timing
    """,
    "revisit": """
        import numpy as np
        from tests.benchmarks.bench_kernels import random_visits
        from hospital_sdk.kernels.episodes import revisits_within
        v = random_visits(ROWS)
        emergency = int(((v["visit_type"] == "emergency") & ~v["is_cancelled"]).sum())
        v = v[(v["visit_type"] == "emergency") & ~v["is_cancelled"] & v["empi_id"].notna()]
        v = v.assign(group=v.groupby(["institution_id", "empi_id"], sort=True).ngroup())
        v = v.sort_values(["group", "visit_time", "visit_id"], kind="stable")
        group = np.ascontiguousarray(v["group"].to_numpy(np.int64))
        times = np.ascontiguousarray(v["visit_time"].to_numpy().astype("datetime64[us]"))
        revisits_within(group[:100], times[:100])  # compile outside the timing
    """,
}
_CORE = {
    "readmission": """
        gaps = link_readmissions(*args)
        RESULT = {"links": int((gaps >= 0).sum()), "total": int(gaps[gaps >= 0].sum())}
    """,
    "reoperation": """
        hours = previous_operation_hours(group, times)[flagged]
        RESULT = {"links": int((~np.isnan(hours)).sum()),
                  "total": round(float(np.nansum(hours)), 3)}
    """,
    "revisit": """
        flags = revisits_within(group, times)
        RESULT = {"links": int(flags.sum()), "total": emergency}
    """,
}


def _child() -> dict[str, tuple[str, str]]:
    out = {}
    for k, call in _CALL.items():
        setup = f"KERNEL = {k!r}\n" + textwrap.dedent(_PRODUCT_SETUP)
        warm = ("small = duckdb_tables(KERNEL, 1000)\n"
                + call.replace("tables", "small").replace("METHOD", '"kernel"')
                + ".to_pyarrow()  # compile outside the timing\n")
        for method in ("kernel", "sql"):
            body = (f"\n    out = {call.replace('METHOD', repr(method))}.to_pyarrow()\n"
                    f"    RESULT = {_SUMMARY[k]}\n")
            out[f"{method}_{k}"] = (setup + (warm if method == "kernel" else ""), body)
        out[f"core_{k}"] = (_CORE_SETUP[k], _CORE[k])
    return out


CHILD: dict[str, tuple[str, str]] = _child()
"""Child-process code for the runner: (untimed setup, timed body) per way and kernel
(``kernel_<k>``, ``core_<k>``, ``sql_<k>`` for ``k`` in :data:`KERNELS`)."""

_WAYS = {"kernel": 'product, method="kernel" (DuckDB prepares, kernel links)',
         "core": "kernel alone (arrays ready)", "sql": 'product, method="sql" (DuckDB)'}


def run(measure: Measure, repeat: int, sizes: Sequence[int],
        kernels: Sequence[str] = tuple(KERNELS)) -> list[dict]:
    """The three ways of each kernel at each size; raises when they disagree."""
    out = []
    for k in kernels:
        for rows in sizes:
            ways = {w: median_run(measure, repeat, f"{w}_{k}", rows=rows) for w in _WAYS}
            figures = {w: (m["links"], m["total"]) for w, m in ways.items()}
            if len(set(figures.values())) > 1:
                raise SystemExit(f"{k}: the ways disagree at {rows:,} events: {figures}")
            out.append({"topic": k, "rows": rows, **ways})
    return out


def report(results: list[dict]) -> list[str]:
    """Markdown lines: one table per kernel (a row per size and way), ratios and verdicts."""
    lines: list[str] = []
    for k, events in KERNELS.items():
        mine = [r for r in results if r["topic"] == k]
        if not mine:
            continue
        lines += [f"### {k} ({events})", "",
                  f"| {events} | way | median s | peak RSS MB | links | runs (s) |",
                  "|---:|---|---:|---:|---:|---|"]
        for r in mine:
            for way, name in _WAYS.items():
                m = r[way]
                lines.append(f"| {r['rows']:,} | {name} | {m['seconds']:.2f} | "
                             f"{m['rss_mb']:,.0f} | {m['links']:,} | "
                             f"{', '.join(map(str, m['runs']))} |")
        lines.append("")
        for r in mine:
            product = r["sql"]["seconds"] / r["kernel"]["seconds"]
            core = r["sql"]["seconds"] / r["core"]["seconds"]
            lines.append(f"- {r['rows']:,} {events}: SQL / product kernel path **{product:.2f}×**;"
                         f" SQL / kernel alone {core:.1f}× (same links and totals all three "
                         f"ways).")
        big = mine[-1]
        ratio = big["sql"]["seconds"] / big["kernel"]["seconds"]
        at_10m = big["rows"] >= 10_000_000
        if ratio >= 5 and at_10m:
            verdict = (f"meets the 5× rule at {big['rows']:,}: `method=\"auto\"` may take the "
                       f"kernel on DuckDB (set `KERNEL_PAYS[{k!r}]`)")
        elif at_10m:
            verdict = (f"does not meet the 5× rule at {big['rows']:,} ({ratio:.2f}×): the product "
                       f"keeps the SQL path (`method=\"auto\"` → SQL); the kernel stays available "
                       f"as `method=\"kernel\"`")
        else:
            verdict = (f"is {ratio:.2f}× at {big['rows']:,} only: the rule asks for 10M events, "
                       f"so `method=\"auto\"` stays on SQL until measured there")
        lines += [f"- Verdict: the {k} kernel {verdict}.", ""]
    return lines
