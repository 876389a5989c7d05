"""Orchestration: build the world, then generate and write every source table month by month.

Order of work:

1. the reference data and the :class:`~hospital_sdk.synth.world.World` (structure, staff,
   patient base); master tables and catalogs are written as single files;
2. every inpatient stay of the period is planned at stay level (admissions, diagnoses, surgery,
   deaths, readmissions, newborns), so readmissions can cross month boundaries;
3. month by month: visits, the stays discharged that month with their diagnoses, procedures and
   ward movements, orders, exams, lab orders, charge lines, referrals and status events; the
   fee columns of visits and the cost columns of stays are then *aggregated from their charge
   lines*, so they agree to the fen; each table is written as ``<table>/<YYYY-MM>.<fmt>``;
4. the patient table (registration times follow the first visit) and the identity truth
   ``_truth/patient_identity.parquet``; the reported inputs, and the reported indicators' entry
   forms filled from them (``reported/reported_<year>.csv``); ``_manifest.json``.

Every random draw comes from a named stream (:mod:`hospital_sdk.synth.rng`), and files are
written with pinned options, so the same parameters give byte-identical files.
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from hospital_sdk.errors import GeneratorError
from hospital_sdk.model import CONTRACT, CONTRACT_VERSION
from hospital_sdk.synth.report import GenerationReport, write_manifest
from hospital_sdk.synth.rng import rng_factory
from hospital_sdk.synth.world import World, build_world

FORMATS = ("parquet", "csv")
WRITER_THREADS = 1
"""Background threads writing files while the generator runs."""
Progress = Callable[[str, int], None]


def load_reference_data() -> Any:
    """The reference data (:func:`hospital_sdk.synth.reference.load_reference`)."""
    try:
        from hospital_sdk.synth.reference import load_reference
    except ImportError as exc:  # pragma: no cover - only while the reference module is missing
        raise GeneratorError("the reference data module hospital_sdk.synth.reference is not "
                             f"available ({exc}); the generator needs its department template "
                             "and catalogs") from exc
    return load_reference()


class _Writer:
    """Writes tables in the requested formats and records them in the report.

    Files are written by one background thread while the next month is generated (Parquet
    compression and CSV rendering release the GIL), in submission order; tables of at most
    ``max_pending_rows`` rows wait (beyond the one being written), which bounds memory to about
    a month of data at scale 1. Results are recorded in submission order, so the report does not
    depend on timing.
    """

    def __init__(self, out: Path, formats: Sequence[str], gbk: Sequence[str],
                 report: GenerationReport, progress: Progress | None,
                 max_pending_rows: int = 10_000_000) -> None:
        from hospital_sdk.synth.files import write_table
        self._write = write_table
        self.out, self.formats, self.gbk = out, tuple(formats), set(gbk)
        self.report, self.progress = report, progress
        self.max_pending_rows = max_pending_rows
        self._pending_rows = 0
        self._pool = ThreadPoolExecutor(max_workers=WRITER_THREADS,
                                        thread_name_prefix="synth-writer")
        self._pending: deque[tuple[str, str | None, int, Future]] = deque()

    def __call__(self, name: str, table: pa.Table, part: str | None = None) -> None:
        # A source folder holds every row once: a GBK table is written only as GBK CSV.
        formats = ["csv"] if name in self.gbk else list(self.formats)
        future = self._pool.submit(self._job, name, table, part, formats)
        self._pending.append((name, part, table.num_rows, future))
        self._pending_rows += table.num_rows
        while self._pending_rows > self.max_pending_rows and len(self._pending) > 1:
            self._collect()

    def _job(self, name: str, table: pa.Table, part: str | None,
             formats: list[str]) -> list[tuple[list[Path], float]]:
        done = []
        for fmt in formats:
            encoding = "gbk" if fmt == "csv" and name in self.gbk else "utf-8"
            t0 = time.perf_counter()
            files = self._write(table, self.out, name, fmt=fmt, encoding=encoding, part=part)
            done.append((files, time.perf_counter() - t0))
        return done

    def _collect(self) -> None:
        name, part, rows, future = self._pending.popleft()
        self._pending_rows -= rows
        for k, (files, seconds) in enumerate(future.result()):
            self.report.add(name, rows, files, seconds, count_rows=k == 0)
        if self.progress is not None:
            self.progress(name if part is None else f"{name}/{part}", rows)

    def close(self) -> None:
        """Wait for every pending write (re-raising the first failure)."""
        try:
            while self._pending:
                self._collect()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Drop pending writes and stop the thread (after a failure elsewhere)."""
        self._pending.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)


def generate(out: Path, *, scale: float = 0.01, years: Sequence[int] = (2024, 2025),
             seed: int = 20240101, formats: Sequence[str] = ("parquet",),
             defects: Any | None = None,
             progress: Progress | None = None) -> GenerationReport:
    """Generate the hospital group's source files into ``out``.

    Parameters
    ----------
    out
        Output folder (created; existing files of the same names are replaced).
    scale
        Scale factor: 1 is about 5 M visits and 200 k discharges a year for the group
        (see :mod:`hospital_sdk.synth.world`).
    years
        Consecutive calendar years to generate.
    seed
        Seed of every random stream; the same seed and parameters give identical files.
    formats
        ``("parquet",)`` or ``("csv",)``: one format, because a source folder must hold every
        row once (the loader would reject the second copy as duplicates); generate twice into
        two folders to get both. Tables named in ``defects.gbk_tables`` are written as GBK CSV.
    defects
        A :class:`hospital_sdk.synth.defects.DefectSpec` to damage the data on purpose (the log
        goes to ``_truth/defect_log.parquet``); ``None`` for clean data.
    progress
        Called with ``(table or table/part, rows)`` after each file set is written.

    Returns
    -------
    GenerationReport
        Rows, files and seconds per table, and the manifest path.
    """
    fmts = tuple(dict.fromkeys(formats))
    if len(fmts) != 1 or fmts[0] not in FORMATS:
        raise GeneratorError(f"formats must be exactly one of {FORMATS}, got {tuple(formats)!r}: "
                             "a source folder holds every row once")
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parameters = {"scale": scale, "years": list(years), "seed": seed, "formats": list(fmts),
                  "defects": None if defects is None else {
                      "rate": defects.rate, "kinds": list(defects.kinds),
                      "gbk_tables": list(defects.gbk_tables)}}
    report = GenerationReport(out=out, parameters=parameters)
    gbk = getattr(defects, "gbk_tables", ())
    t0 = time.perf_counter()
    world = build_world(load_reference_data(), scale=scale, years=years, seed=seed,
                        rng=rng_factory(seed))
    report.stages["world"] = time.perf_counter() - t0
    write = _Writer(out, fmts, gbk, report, progress)
    try:
        _activity(world, write, report, defects, rng_factory(seed))
    except BaseException:
        write.abort()
        raise
    write.close()
    t0 = time.perf_counter()
    write = _Writer(out, fmts, gbk, report, progress)
    try:  # the reported inputs aggregate the activity files written above
        reported = _reported(world, report, fmts, rng_factory(seed))
        for name, table in reported.items():
            write(name, table)
    except BaseException:
        write.abort()
        raise
    write.close()
    report.entries = _entries(out, world, reported)
    report.stages["reported"] = time.perf_counter() - t0
    _check_complete(report)
    report.seconds = time.perf_counter() - started
    write_manifest(report, CONTRACT_VERSION)
    return report


def _activity(world: World, write: _Writer, report: GenerationReport, defects: Any | None,
              rng: Callable[[str], np.random.Generator]) -> None:
    """Master data, catalogs, the months and the patients, handed to ``write``."""
    from hospital_sdk.synth import activity
    from hospital_sdk.synth.catalogs import build_catalogs
    t0 = time.perf_counter()
    for name, table in world.tables().items():
        write(name, table)
    catalogs = build_catalogs(world)
    for name, table in catalogs.tables().items():
        write(name, table)
    report.stages["catalogs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan = activity.plan(world, catalogs, rng)
    report.stages["stays"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    logs: list[pa.Table] = []
    for year, month in world.months:
        part = f"{year}-{month:02d}"
        tables = activity.month(world, catalogs, plan, year, month, rng)
        if defects is not None:
            tables, log = _damage(tables, catalogs, defects, rng(f"defects/{part}"))
            if log.num_rows:
                logs.append(log.append_column("part", pa.array([part] * log.num_rows)))
        for name in activity.MONTHLY_TABLES:
            write(name, tables[name], part)
    report.stages["months"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    write("patient", activity.patients(world, plan, rng))
    _write_truth(write.out, activity.identity(world, plan), "patient_identity")
    if logs:
        report.defect_log = _write_truth(write.out, pa.concat_tables(logs), "defect_log")
    report.stages["patients"] = time.perf_counter() - t0


def _damage(tables: dict[str, pa.Table], catalogs: Any, spec: Any,
            rng: np.random.Generator) -> tuple[dict[str, pa.Table], pa.Table]:
    from hospital_sdk.synth.defects import inject_defects
    damaged, log = inject_defects({**tables, "diagnosis_catalog":
                                   catalogs.tables()["diagnosis_catalog"]}, spec, rng)
    damaged.pop("diagnosis_catalog", None)
    return damaged, log


def _write_truth(out: Path, table: pa.Table, name: str) -> Path:
    from hospital_sdk.synth.files import write_table
    return write_table(table, out / "_truth", name, fmt="parquet")[0]


def _reported(world: World, report: GenerationReport, formats: tuple[str, ...],
              rng: Callable[[str], np.random.Generator]) -> dict[str, pa.Table]:
    """The reported inputs, computed over the written activity files (read lazily)."""
    try:
        from hospital_sdk.synth.reported import generate_reported
    except ImportError as exc:  # pragma: no cover - while the reported module is missing
        warnings.warn(f"reported inputs skipped: hospital_sdk.synth.reported is not available "
                      f"({exc})", stacklevel=3)
        return {}
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    from hospital_sdk.synth.schema import arrow_schema
    gbk = set(report.parameters["defects"]["gbk_tables"]) if report.parameters["defects"] \
        else set()
    activity_tables = {}
    for name in ("charge_line", "outpatient_visit", "inpatient_stay", "medication_order"):
        files = [str(f) for f in report.tables[name].files if f.suffix == ".parquet"]
        if files:
            activity_tables[name] = ds.dataset(files, format="parquet")
            continue
        files = [str(f) for f in report.tables[name].files if f.suffix == ".csv"]
        csv = ds.CsvFileFormat(read_options=pacsv.ReadOptions(
            encoding="gbk" if name in gbk else "utf8"))
        activity_tables[name] = ds.dataset(files, format=csv, schema=arrow_schema(name))
    return generate_reported(world, activity_tables, rng)


def _entries(out: Path, world: World, reported: dict[str, pa.Table]) -> list[Path]:
    """The reported indicators' entry forms, filled from the reported tables
    (:mod:`hospital_sdk.synth.reported_entries`), with the wards and their beds (quality-nursing
    coverage, pharmacists per 100 beds)."""
    from hospital_sdk.synth.reported_entries import write_entries
    master = world.tables()
    wards = {name: master[name] for name in ("ward", "ward_beds")}
    return write_entries(out, {**reported, **wards}, institutions=world.member_ids,
                         years=world.years)


def _check_complete(report: GenerationReport) -> None:
    missing = [t.name for t in CONTRACT.source_tables() if t.name not in report.tables
               and t.domain != "reported"]
    if missing:
        raise GeneratorError(f"generation wrote no file for source tables {missing}")
