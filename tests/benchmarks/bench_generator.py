"""Throughput of the synthetic data generator (run on demand; not collected by the test run).

Usage::

    .venv/bin/python tests/benchmarks/bench_generator.py --scale 0.05 --years 2024 2025

Prints rows, seconds and rows per second for Parquet and for CSV, generating into a temporary
folder that is removed afterwards (``--keep DIR`` keeps the output there instead).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from hospital_sdk.synth import generate


def run(scale: float, years: list[int], fmt: str, folder: Path) -> None:
    t0 = time.perf_counter()
    report = generate(folder / fmt, scale=scale, years=years, formats=(fmt,))
    seconds = time.perf_counter() - t0
    size = sum(f.stat().st_size for f in report.files) / 1e6
    write = sum(t.write_seconds for t in report.tables.values())
    print(f"{fmt:<8} SF {scale:<6} {len(years)} year(s): {report.rows:>12,} rows "
          f"{seconds:7.1f} s  {report.rows / seconds:>12,.0f} rows/s  "
          f"(writing {write:5.1f} s, {size:8.1f} MB)")
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in report.stages.items())
    print(f"         stages: {stages}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--years", type=int, nargs="+", default=[2024, 2025])
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"])
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_generator_"))
    try:
        for fmt in args.formats:
            run(args.scale, args.years, fmt, folder)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
