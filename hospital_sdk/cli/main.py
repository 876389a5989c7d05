"""The ``hospital-sdk`` command: thin commands over the public API.

Commands
--------
``generate``  write a synthetic hospital group's source files
``load``      load a folder of source files into the raw layer of the lakehouse
``contract``  print or export the data contract (Markdown, JSON Schema)
``snapshots`` list the lakehouse snapshots (for time travel)
``demo``      the main job on the embedded default: generate → load → report what landed
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from hospital_sdk.cli.assess import app as assess_app
from hospital_sdk.cli.indicators import app as indicators_app
from hospital_sdk.cli.progress import GenerationProgress, LoadProgress, StepProgress
from hospital_sdk.config import Settings
from hospital_sdk.errors import HospitalSDKError

app = typer.Typer(
    name="hospital-sdk",
    help="Hospital group data assets and national public-hospital assessment indicators.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(indicators_app, name="indicators")
app.add_typer(assess_app, name="assess")
console = Console()
err = Console(stderr=True)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="Lakehouse folder (default: $HOSPITAL_SDK_HOME or ~/.hospital_sdk)."),
]


def _fail(exc: HospitalSDKError) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
    return typer.Exit(code=2)


@app.command()
def contract(
    fmt: Annotated[str, typer.Option("--format", "-f",
                                     help="summary | markdown | json-schema")] = "summary",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    table: Annotated[str | None, typer.Option("--table", "-t", help="Show one table.")] = None,
) -> None:
    """Print the data contract, or export it as Markdown / JSON Schema (the data dictionary)."""
    from hospital_sdk.model import CONTRACT
    from hospital_sdk.model.dictionary import to_json_schema

    try:
        if fmt == "markdown":  # the contract, then which indicators read each column
            from hospital_sdk.indicators.lineage import data_dictionary

            text = data_dictionary()
        elif fmt == "json-schema":
            text = json.dumps(to_json_schema(CONTRACT), ensure_ascii=False, indent=2) + "\n"
        elif fmt == "summary":
            _print_contract(CONTRACT, table)
            return
        else:
            raise typer.BadParameter(f"unknown format {fmt!r}: use summary, markdown or json-schema")
    except HospitalSDKError as exc:
        raise _fail(exc) from exc
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


def _print_contract(contract, table: str | None) -> None:
    if table is not None:
        t = contract.table(table)
        grid = RichTable(title=f"{t.name} — {t.zh} ({t.grain_en}; key {', '.join(t.primary_key)})")
        for col in ("column", "type", "required", "中文", "codes / pattern"):
            grid.add_column(col)
        for c in t.columns:
            grid.add_row(c.name, c.dtype, "no" if c.nullable else "yes", c.zh,
                         c.codes or c.pattern or "")
        console.print(grid)
        return
    grid = RichTable(title=f"hospital_sdk data contract {contract.version}")
    for col in ("table", "domain", "中文", "grain", "key", "columns"):
        grid.add_column(col)
    for t in contract.tables:
        grid.add_row(t.name, t.domain, t.zh, t.grain_en, ", ".join(t.primary_key),
                     str(len(t.columns)))
    console.print(grid)


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="Folder to write the source files into.")],
    scale: Annotated[float, typer.Option(help="Scale factor: 1 ≈ a large tertiary "
                                              "hospital-year (5M visits, 200k discharges).")] = 0.01,
    years: Annotated[list[int] | None, typer.Option("--year", help="Year to generate "
                                                    "(repeat); default 2024 and 2025.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 20240101,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    defects: Annotated[bool, typer.Option(help="Inject the documented data defects.")] = False,
    defect_rate: Annotated[float, typer.Option(help="Share of rows damaged per defect kind.")] = 0.002,
    gbk: Annotated[list[str] | None, typer.Option("--gbk-table", help="Write this table as a "
                                                  "GBK-encoded CSV (repeat).")] = None,
) -> None:
    """Generate a synthetic hospital group (deterministic by seed) in the contract's source format."""
    from hospital_sdk.synth import generate as run_generate
    from hospital_sdk.synth.defects import DefectSpec

    spec = DefectSpec(rate=defect_rate, gbk_tables=tuple(gbk or ())) if (defects or gbk) else None
    if spec is not None and not defects:
        spec = DefectSpec(rate=defect_rate, kinds=(), gbk_tables=tuple(gbk or ()))
    try:
        with GenerationProgress(console) as progress:
            report = run_generate(out, scale=scale, years=tuple(years or (2024, 2025)), seed=seed,
                                  formats=(fmt,), defects=spec,
                                  progress=progress.update)
    except HospitalSDKError as exc:
        raise _fail(exc) from exc
    console.print(report.summary() if hasattr(report, "summary") else report)


@app.command()
def load(
    folder: Annotated[Path, typer.Argument(help="Folder of source files (Parquet or CSV).")],
    home: HomeOption = None,
    encoding: Annotated[str | None, typer.Option(help="Force the CSV encoding (default: "
                                                      "detect UTF-8 / GBK).")] = None,
) -> None:
    """Load source files into the raw layer; bad rows go to raw.load_rejects with their reason."""
    from hospital_sdk.ingest import load_folder
    from hospital_sdk.store import Lakehouse

    try:
        with Lakehouse.open(home) as lake, LoadProgress(console) as progress:
            report = load_folder(folder, lake, encoding=encoding, progress=progress.update)
    except HospitalSDKError as exc:
        raise _fail(exc) from exc
    _print_load(report)


def _print_load(report) -> None:
    frame = report.to_frame()
    if frame.empty:
        console.print(report.summary())
        return
    by_table = frame.groupby("table_name", sort=True).agg(
        files=("source_file", "count"), rows_in=("rows_in", "sum"),
        rows_loaded=("rows_loaded", "sum"), rows_rejected=("rows_rejected", "sum"),
        statuses=("status", lambda s: ", ".join(f"{k} {v}" for k, v in s.value_counts().items())),
    )
    grid = RichTable(title="load reconciliation per table: rows in = loaded + rejected")
    for col in ("table", "files", "status", "rows in", "loaded", "rejected"):
        grid.add_column(col, justify="left" if col in ("table", "status") else "right")
    for name, row in by_table.iterrows():
        grid.add_row(name, str(row.files), row.statuses, f"{row.rows_in:,}",
                     f"{row.rows_loaded:,}", f"{row.rows_rejected:,}")
    console.print(grid)
    console.print(report.summary())


@app.command()
def snapshots(home: HomeOption = None) -> None:
    """List the lakehouse snapshots; any of them can be read back with time travel."""
    from hospital_sdk.store import Lakehouse

    try:
        with Lakehouse.open(home, read_only=True) as lake:
            frame = lake.snapshots()
    except HospitalSDKError as exc:
        raise _fail(exc) from exc
    grid = RichTable(title="lakehouse snapshots (read any with Lakehouse.table(name, version=N))")
    for col in ("id", "time (UTC)", "commit", "changes"):
        grid.add_column(col, justify="right" if col == "id" else "left")
    for row in frame.itertuples(index=False):
        changes = ", ".join(f"{k}: {v}" for k, v in (row.changes or {}).items())
        message = row.commit_message if isinstance(row.commit_message, str) else ""
        grid.add_row(str(row.snapshot_id), f"{row.snapshot_time:%Y-%m-%d %H:%M:%S}", message,
                     changes if len(changes) <= 80 else changes[:77] + "...")
    console.print(grid)


@app.command()
def materialize(
    first: Annotated[str, typer.Option(help="First month YYYY-MM of the monthly partitions.")],
    last: Annotated[str, typer.Option(help="Last month YYYY-MM (inclusive).")],
    home: HomeOption = None,
    source: Annotated[Path | None, typer.Option(help="Landing folder of source files "
                                                     "(default: HOSPITAL_SDK_SOURCE or "
                                                     "<home>/source).")] = None,
    select: Annotated[str | None, typer.Option(help="Dagster asset selection, e.g. "
                                                    "'group:aggregated' (default: all).")] = None,
) -> None:
    """Materialize the asset graph (raw → cleaned → aggregated → application) in-process."""
    settings = (Settings(home=home, source=source, first_month=first) if home is not None
                else Settings(source=source, first_month=first))
    _materialize(settings, first, last, select)


def _materialize(settings: Settings, first: str, last: str, select: str | None) -> None:
    from assets.materialize import materialize as run_graph
    from assets.materialize import not_started, planned_steps

    steps = planned_steps(settings, select)
    with StepProgress(console, len(steps)) as progress:
        result = run_graph(settings, first, last, selection=select, progress=progress.update)
    held_back = not_started(result, steps)
    if held_back:
        console.print("[yellow]not run[/] (an upstream step or blocking check failed): "
                      + ", ".join(held_back))
    if not result.success:
        failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        for e in failures:
            console.print(f"[bold red]failed[/] {e.step_key}: "
                          f"{getattr(e.step_failure_data.error, 'message', '').strip()[:800]}")
        console.print(f"check results: {settings.home / 'reports'} (after a successful run) or "
                      "lake.application.quality_check_history")
        raise typer.Exit(1)
    console.print(f"[bold green]asset graph materialized[/] for {first}..{last}: lakehouse "
                  f"{settings.home} (layers raw, cleaned, aggregated, application); reports in "
                  f"{settings.home / 'reports'}")


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Folder for the source files and the lakehouse.")]
    = Path(".demo"),
    scale: Annotated[float, typer.Option(help="Scale factor of the synthetic group.")] = 0.01,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20240101,
) -> None:
    """The main job on the embedded default: synthetic group → source files → the whole asset
    graph (raw → cleaned → aggregated → application: quality scorecard, indicator values, the
    national-assessment reports) → prints where the report files are."""
    source = workdir / "source"
    generate(source, scale=scale, years=None, seed=seed, fmt="parquet", defects=False,
             defect_rate=0.002, gbk=None)
    years = json.loads((source / "_manifest.json").read_text())["parameters"]["years"]
    first, last = f"{min(years)}-01", f"{max(years)}-12"
    settings = Settings(home=workdir / "lake", source=source, first_month=first)
    _materialize(settings, first, last, None)
    console.print(f"[bold green]demo done[/]: source files in {source}; lakehouse in "
                  f"{settings.home} (open it with hospital_sdk.connect("
                  f"{str(settings.home)!r})); reports in {settings.home / 'reports'}")
    reports = sorted((settings.home / "reports" / "assessment").glob("assessment_*"))
    if reports:
        console.print("[bold]national assessment reports[/] (the latest complete year):")
        for path in reports:
            console.print(f"  {path}", markup=False, highlight=False)


def main() -> None:  # pragma: no cover - console-script entry point
    app()
