"""What a generation produced: rows, files and time per table, and the manifest written with it.

Examples
--------
>>> r = GenerationReport(out=Path("out"), parameters={"scale": 0.01})
>>> r.add("outpatient_visit", 1_000, [Path("out/outpatient_visit/2024-01.parquet")], 0.5)
>>> r.add("outpatient_visit", 500, [Path("out/outpatient_visit/2024-02.parquet")], 0.25)
>>> r.tables["outpatient_visit"].rows, len(r.tables["outpatient_visit"].files)
(1500, 2)
>>> r.rows
1500
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

MANIFEST = "_manifest.json"


@dataclass
class TableReport:
    """Rows written, files and seconds spent writing one table."""

    rows: int = 0
    files: list[Path] = field(default_factory=list)
    write_seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        """Rows written per second of writing (0 when nothing was timed)."""
        return self.rows / self.write_seconds if self.write_seconds else 0.0


@dataclass
class GenerationReport:
    """Result of :func:`hospital_sdk.synth.generate`.

    Attributes
    ----------
    out
        Output folder.
    parameters
        The generation parameters (scale, years, seed, formats, defects).
    tables
        Per contract table: rows (counted once, whatever the number of formats), files and the
        seconds spent writing them.
    stages
        Seconds per stage (world, catalogs, stays, months, patients, reported).
    seconds
        Wall-clock seconds of the whole generation.
    manifest
        Path of ``_manifest.json``.
    defect_log
        Path of the defect log when defects were injected.
    entries
        The reported indicators' filled entry forms (``reported/reported_<year>.csv``): listed
        in the manifest's files, not in its row counts (they are not contract tables).
    """

    out: Path
    parameters: dict[str, Any]
    tables: dict[str, TableReport] = field(default_factory=dict)
    stages: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    manifest: Path | None = None
    defect_log: Path | None = None
    entries: list[Path] = field(default_factory=list)

    def add(self, name: str, rows: int, files: list[Path], seconds: float,
            count_rows: bool = True) -> None:
        """Record ``files`` written for table ``name`` (rows added unless ``count_rows`` is
        False, used for the second format of the same rows)."""
        entry = self.tables.setdefault(name, TableReport())
        if count_rows:
            entry.rows += rows
        entry.files.extend(files)
        entry.write_seconds += seconds

    @property
    def rows(self) -> int:
        """Rows generated over all tables."""
        return sum(t.rows for t in self.tables.values())

    @property
    def rows_per_second(self) -> float:
        """Rows generated per wall-clock second (generation and writing together)."""
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def files(self) -> list[Path]:
        """Every data file written (the entry forms too)."""
        return [*(f for t in self.tables.values() for f in t.files), *self.entries]

    def to_frame(self) -> pd.DataFrame:
        """One row per table: ``table, rows, files, write_seconds, rows_per_second``."""
        return pd.DataFrame([{"table": k, "rows": v.rows, "files": len(v.files),
                              "write_seconds": round(v.write_seconds, 3),
                              "rows_per_second": round(v.rows_per_second)}
                             for k, v in self.tables.items()])

    def __str__(self) -> str:
        lines = [f"generated {self.rows:,} rows in {len(self.tables)} tables, "
                 f"{len(self.files)} files, {self.seconds:.1f} s "
                 f"({self.rows_per_second:,.0f} rows/s) into {self.out}"]
        lines += [f"  {k:<22} {v.rows:>12,} rows {len(v.files):>4} files"
                  for k, v in sorted(self.tables.items())]
        return "\n".join(lines)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(report: GenerationReport, contract_version: str) -> Path:
    """Write ``<out>/_manifest.json``: parameters, contract version, row counts and the SHA-256
    of every file (relative paths, sorted). It holds no time of generation, so two runs with the
    same parameters write identical manifests."""
    out = report.out
    files = sorted(f for f in report.files)
    truth = sorted((out / "_truth").glob("*")) if (out / "_truth").exists() else []
    manifest = {
        "generator": "hospital_sdk.synth",
        "contract_version": contract_version,
        "parameters": report.parameters,
        "row_counts": {k: v.rows for k, v in sorted(report.tables.items())},
        "files": {f.relative_to(out).as_posix(): sha256(f) for f in [*files, *truth]},
    }
    path = out / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    report.manifest = path
    return path
