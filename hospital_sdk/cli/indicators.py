"""``hospital-sdk indicators``: the indicator catalog from the command line.

Commands
--------
``list``      the latest version of each indicator, filtered by domain, kind or ▲ flag
``show``      one indicator version: names, rule with its expressions, versions, tags, source,
              formula and the columns it reads
``validate``  check a catalog; every problem on its own line as ``file: id: key: message``
``compute``   compute indicators on the lakehouse and write the tidy table (CSV, Parquet, xlsx)
``cases``     the records behind one indicator, with why each is in or out
``explain``   the SQL one indicator runs, in any dialect
``diff``      the versions of one indicator computed side by side
``schema``    write the JSON Schemas of the spec files (for editors)

Every command takes ``--catalog PATH`` (default: ``HOSPITAL_SDK_CATALOG`` or the catalog shipped
with the SDK). Exit codes: 0 done; 1 the catalog has problems (each one listed); 2 a bad request
(unknown indicator, period, dimension, file type…), with the message in red.

Examples
--------
>>> from typer.testing import CliRunner
>>> result = CliRunner().invoke(app, ["explain", "surgery_share", "--period", "2024"])
>>> result.exit_code, "GROUP BY" in result.output
(0, True)
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from hospital_sdk.config import Settings
from hospital_sdk.errors import ConfigError, HospitalSDKError, SpecError

if TYPE_CHECKING:
    import pandas as pd

    from hospital_sdk.indicators import Catalog, Indicator, Measure, Tags, Term

__all__ = ["app"]

app = typer.Typer(name="indicators", no_args_is_help=True, add_completion=False,
                  help="The indicator catalog: list, show, validate, compute, drill down, "
                       "explain, compare versions, export the spec JSON Schemas.")

CatalogOption = Annotated[Path | None, typer.Option(
    "--catalog", help="Indicator catalog folder (default: $HOSPITAL_SDK_CATALOG or the catalog "
                      "shipped with the SDK).")]
HomeOption = Annotated[Path | None, typer.Option(
    "--home", help="Lakehouse folder (default: $HOSPITAL_SDK_HOME or ~/.hospital_sdk).")]
PeriodOption = Annotated[str, typer.Option(
    "--period", "-p", help="2024, 2024-Q2, 2024-03 or 2024-01..2024-06.")]
ByOption = Annotated[str | None, typer.Option(
    "--by", help="Dimensions, comma-separated: institution, campus, department, doctor, payer, "
                 "visit_type, drg and one of year, quarter, month.")]
OutOption = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Write the table to this file: .csv (UTF-8 with BOM, opens in Excel), "
                        ".parquet or .xlsx.")]

_WRITERS = (".csv", ".parquet", ".xlsx")
_PREVIEW = 50


def _out() -> Console:
    """Standard output; wide when it is not a terminal, so piped tables are not cut."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def _err() -> Console:
    return Console(stderr=True)


def _exit(message: str, code: int) -> typer.Exit:
    _err().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code=code)


@contextmanager
def _errors() -> Iterator[None]:
    """SDK errors end the command: exit 1 for catalog problems, 2 for any other bad request."""
    try:
        yield
    except HospitalSDKError as exc:
        raise _exit(str(exc), 1 if isinstance(exc, SpecError) else 2) from exc


def _root(path: Path | None) -> Path:
    root = path if path is not None else Settings().catalog
    if not root.is_dir():
        raise ConfigError(f"indicator catalog {root} is not a folder (give --catalog PATH or set "
                          f"HOSPITAL_SDK_CATALOG)")
    return root


def _catalog(path: Path | None) -> Catalog:
    from hospital_sdk.indicators import load_catalog

    return load_catalog(_root(path))


def _choice(value: str | None, known: tuple[str, ...], what: str) -> None:
    from hospital_sdk.model import suggest

    if value is not None and value not in known:
        raise _exit(f"unknown {what} {value!r}{suggest(value, known)}; known: "
                    + ", ".join(known), 2)


def _check_out(out: Path | None) -> None:
    if out is not None and out.suffix.lower() not in _WRITERS:
        raise _exit(f"cannot write {out.name!r}: give a file ending in "
                    + ", ".join(_WRITERS), 2)


def _write(frame: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(out, index=False, encoding="utf-8-sig")
    elif suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_excel(out, index=False, engine="xlsxwriter")
    _out().print(f"wrote {len(frame):,} rows to {out}", markup=False, highlight=False)


def _cell(value: Any) -> Text:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Text("")
    if isinstance(value, float):
        return Text(f"{value:.6g}")
    return Text(str(value))


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    grid = RichTable(title=title)
    for column in frame.columns:
        grid.add_column(str(column), overflow="fold")
    for row in frame.head(_PREVIEW).itertuples(index=False):
        grid.add_row(*(_cell(v) for v in row))
    out = _out()
    out.print(grid)
    if len(frame) > _PREVIEW:
        out.print(f"… {len(frame) - _PREVIEW:,} more rows (write them all with --out)",
                  markup=False, highlight=False)


def _open(home: Path | None) -> Any:
    from hospital_sdk.store import Lakehouse

    return Lakehouse.open(home, read_only=True)


# ---- list, show, validate ---------------------------------------------------------------------

@app.command("list")
def list_(
    domain: Annotated[str | None, typer.Option(help="Only this business domain.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind (proportion, rate…).")] = None,
    national_monitoring: Annotated[bool | None, typer.Option(
        "--national-monitoring/--not-national-monitoring",
        help="Only indicators with (or without) the national-monitoring flag ▲.")] = None,
    catalog: CatalogOption = None,
) -> None:
    """List the latest version of each indicator."""
    from hospital_sdk.indicators.schema import DOMAINS, KINDS

    _choice(domain, DOMAINS, "domain")
    _choice(kind, KINDS, "kind")
    with _errors():
        cat = _catalog(catalog)
        chosen = cat.select(domain=domain, kind=kind, national_monitoring=national_monitoring)
    grid = RichTable(title=f"{len(chosen)} indicators (latest versions) — {cat.root}")
    for column in ("id", "versions", "kind", "名称", "name", "domain", "unit", "▲",
                   "confidence"):
        grid.add_column(column, no_wrap=column in ("id", "kind", "unit", "▲"))
    for ind in chosen:
        versions = ", ".join(v.version for v in cat.versions(ind.id))
        grid.add_row(*(Text(str(v)) for v in (
            ind.id, versions, ind.kind, ind.name_zh, ind.name_en, ind.tags.domain, ind.unit,
            "▲" if ind.tags.national_monitoring else "", ind.tags.source.confidence)))
    _out().print(grid)


def _measure_text(m: Measure) -> str:
    what = f"{m.aggregation}({m.expression.text})" if m.expression is not None else "count(*)"
    return f"{m.id} = {what} over {m.fact} (counts {m.counting_unit}), placed by {m.time_field}"


def _term_lines(cat: Catalog, term: Term, label: str, skip: tuple[str, ...] = ()) -> list[str]:
    lines = [f"  {label}: {_measure_text(cat.measure(term.measure))}"]
    lines += [f"    where {e.text}" for e in term.where if e.text not in skip]
    lines += [f"    excluding {x.id} ({x.name_zh} / {x.name_en}): {x.where.text}"
              for x in term.exclusions if label != "numerator"]
    return lines


def _ref_text(cat: Catalog, ref: str) -> str:
    from hospital_sdk.indicators import Measure

    target = cat.resolve(ref)
    if isinstance(target, Measure):
        return f"{ref} (measure: {_measure_text(target)})"
    return f"{ref} → {target.key} {target.name_zh} ({target.kind})"


def _rule_lines(cat: Catalog, ind: Indicator) -> list[str]:
    lines: list[str] = ["rule:"]
    if ind.term is not None:
        lines += _term_lines(cat, ind.term, "measure")
    if ind.population is not None:
        p = ind.population
        lines.append(f"  counting unit: {p.counting_unit}")
        lines += _term_lines(cat, p.denominator, "denominator")
        lines += _term_lines(cat, p.numerator, "numerator",
                             skip=tuple(e.text for e in p.denominator.where))
        if p.numerator.exclusions:
            lines.append("    (the denominator's exclusions apply)")
    names = ("left", "right") if ind.kind in ("difference", "sum") else ("numerator", "denominator")
    for name, ref in zip(names, (ind.numerator, ind.denominator), strict=True):
        if ref is not None:
            lines.append(f"  {name}: {_ref_text(cat, ref)}")
    if ind.of is not None:
        lines.append(f"  growth of: {_ref_text(cat, ind.of)} over the {ind.over or 'year'} "
                     f"before")
    if ind.per is not None:
        lines.append(f"  per: {ind.per:g}")
    if ind.reported is not None:
        r = ind.reported
        bounds = ", ".join(f"{k} {v:g}" for k, v in (("minimum", r.minimum),
                                                      ("maximum", r.maximum)) if v is not None)
        allowed = f", allowed {', '.join(r.allowed)}" if r.allowed else ""
        lines.append(f"  reported per {r.period}: {r.value_type}"
                     f"{' in ' + r.unit if r.unit else ''}{', ' + bounds if bounds else ''}"
                     f"{allowed}")
    if ind.dimensions is not None:
        lines.append(f"  can be cut only by: {', '.join(ind.dimensions)}")
    return lines


def _lineage_lines(cat: Catalog, ind: Indicator) -> list[str]:
    from hospital_sdk.indicators.lineage import lineage

    frame = lineage(cat, ind)
    lines = ["reads (lineage):"]
    for (layer, table), part in frame.groupby(["layer", "table"], sort=False):
        lines.append(f"  {layer}.{table}: {', '.join(part.column)}")
    return lines


def _tag_lines(tags: Tags) -> list[str]:
    review = f" on {tags.review_date}" if tags.review_date else ""
    responsible = (f"  responsible: {tags.responsible_department}; owner: {tags.owner}; "
                   f"reviewer: {tags.reviewer or '—'}{review}")
    clause = f" {tags.source.clause}" if tags.source.clause else ""
    source = f"source: {tags.source.document}{clause} (confidence: {tags.source.confidence})"
    lines = ["tags:", f"  subject: {tags.subject}; matter: {tags.matter}; domain: {tags.domain}",
             f"  purpose: {tags.purpose}",
             f"  national monitoring ▲: {'yes' if tags.national_monitoring else 'no'}",
             responsible, source]
    return lines + ([f"  {tags.source.note}"] if tags.source.note else [])


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="Indicator id, or id@version.")],
    catalog: CatalogOption = None,
) -> None:
    """Show one indicator version: rule, versions, tags, source, formula, lineage."""
    from hospital_sdk.indicators import formula

    with _errors():
        cat = _catalog(catalog)
        ind = cat.get(ref)
        tags = ind.tags
        target = f"; target {tags.target[0]}–{tags.target[1]}" if tags.target else ""
        lines = [f"{ind.key}  {ind.name_zh} / {ind.name_en}",
                 f"kind: {ind.kind}; unit: {ind.unit}; direction: {ind.direction}{target}"]
        lines += [f"  {d}" for d in (ind.description_zh, ind.description_en) if d]
        lines.append("versions:")
        for v in cat.versions(ind.id):
            span = f"{v.valid_from or '…'}–{v.valid_to or '…'}"
            lines.append(f"  {'*' if v.version == ind.version else ' '} {v.version} ({span})"
                         f"{': ' + v.changes if v.changes else ''}")
        lines += _rule_lines(cat, ind)
        lines.append(f"formula: {formula(ind)}")
        if ind.notes:
            lines.append(f"notes: {ind.notes}")
        lines += _tag_lines(tags)
        lines += _lineage_lines(cat, ind)
        lines.append(f"file: {ind.file}")
    typer.echo("\n".join(lines))


@app.command()
def validate(catalog: CatalogOption = None) -> None:
    """Check a catalog; print every problem as ``file: id: key: message`` (exit 1 if any)."""
    from hospital_sdk.indicators import validate_catalog

    with _errors():
        root = _root(catalog)
        problems = validate_catalog(root)
        if problems:
            for p in problems:
                typer.echo(str(p))
            raise _exit(f"{len(problems)} problem(s) in the indicator catalog {root}", 1)
        cat = _catalog(root)
    typer.echo(f"{len(cat.indicators)} indicators, {len(cat.measures)} measures, "
               f"{len(cat.value_sets)} value sets: valid")


# ---- compute, cases, explain, diff --------------------------------------------------------------

@app.command()
def compute(
    period: PeriodOption,
    ids: Annotated[list[str] | None, typer.Argument(
        help="Indicator ids or id@version (default: the latest version of every indicator).")]
    = None,
    by: ByOption = None,
    home: HomeOption = None,
    domain: Annotated[str | None, typer.Option(help="Only this business domain.")] = None,
    out: OutOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Compute indicators on the lakehouse's aggregated layer; print a summary and the table."""
    from hospital_sdk.indicators.schema import DOMAINS

    _choice(domain, DOMAINS, "domain")
    _check_out(out)
    with _errors():
        cat = _catalog(catalog)
        chosen = cat.select(*(ids or ()), domain=domain)
        if not len(chosen):
            raise _exit("no indicator selected", 2)
        with _open(home) as lake:
            result = chosen.compute(lake, period=period, by=by)
    failed = int((result["status"] == "not_computable").sum())
    _out().print(f"{len(result):,} rows, {len(chosen)} indicators, {failed:,} not computable",
                 markup=False, highlight=False)
    if out is not None:
        _write(result, out)
        return
    keep = [c for c in result.columns if c in (
        "indicator_id", "version", "period", "institution", "campus", "department", "doctor",
        "payer", "visit_type", "drg", "numerator", "denominator", "value", "unit", "status",
        "reason")]
    _print_frame(result[keep], f"indicators for {period}")


def _where(items: list[str] | None) -> dict[str, str]:
    from hospital_sdk.indicators import DIMENSIONS
    from hospital_sdk.model import suggest

    out = {}
    for item in items or ():
        dim, sep, value = item.partition("=")
        dim = dim.strip()
        if not sep or dim not in DIMENSIONS:
            raise _exit(f"--where {item!r}: write DIMENSION=VALUE with a dimension among "
                        f"{', '.join(DIMENSIONS)}{suggest(dim, DIMENSIONS) if sep else ''}", 2)
        out[dim] = value.strip()
    return out


@app.command()
def cases(
    ref: Annotated[str, typer.Argument(help="Indicator id, or id@version.")],
    period: PeriodOption,
    where: Annotated[list[str] | None, typer.Option(
        "--where", help="Drill into one cell: DIMENSION=VALUE, e.g. institution=H01 "
                        "(repeat).")] = None,
    limit: Annotated[int | None, typer.Option(
        help="At most this many records per fact and period.")] = None,
    home: HomeOption = None,
    out: OutOption = None,
    catalog: CatalogOption = None,
) -> None:
    """The records behind one indicator in a period, with why each is in or out."""
    from hospital_sdk.indicators import cases as drill

    cells = _where(where)
    _check_out(out)
    with _errors():
        cat = _catalog(catalog)
        with _open(home) as lake:
            frame = drill(cat, ref, lake, period=period, where=cells, limit=limit)
    if "in_use" in frame:  # a reported indicator: its submissions
        counted, what = int(frame["in_use"].sum()), "in use"
    else:
        counted = int((frame["in_numerator"] | frame["in_denominator"]).sum()) if len(
            frame) else 0
        what = "counted"
    _out().print(f"{len(frame):,} records, {counted:,} {what}", markup=False, highlight=False)
    if out is not None:
        _write(frame, out)
    elif len(frame):
        _print_frame(frame, f"records behind {cat.get(ref).key} in {period}")


@app.command()
def explain(
    ref: Annotated[str, typer.Argument(help="Indicator id, or id@version.")],
    period: Annotated[str, typer.Option("--period", "-p", help="The period.")] = "2024",
    by: ByOption = "institution",
    dialect: Annotated[str, typer.Option(
        help="SQL dialect: duckdb, spark, postgres (any sqlglot dialect).")] = "duckdb",
    catalog: CatalogOption = None,
) -> None:
    """Print the SQL one indicator runs."""
    from hospital_sdk.indicators import explain as sql_of

    with _errors():
        text = sql_of(_catalog(catalog), ref, period=period, by=by, dialect=dialect)
    typer.echo(text, nl=False)


@app.command()
def diff(
    indicator_id: Annotated[str, typer.Argument(help="Indicator id.")],
    period: PeriodOption,
    by: ByOption = None,
    versions: Annotated[list[str] | None, typer.Option(
        "--version", help="Versions to compare (repeat; default: all).")] = None,
    home: HomeOption = None,
    out: OutOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Compute the versions of one indicator side by side, with their difference."""
    from hospital_sdk.indicators import compare_versions

    _check_out(out)
    with _errors():
        cat = _catalog(catalog)
        with _open(home) as lake:
            frame = compare_versions(cat, indicator_id, lake, period=period, by=by,
                                     versions=versions)
    if out is not None:
        _write(frame, out)
    else:
        _print_frame(frame, f"{indicator_id}: versions compared for {period}")


# ---- schema -------------------------------------------------------------------------------------

def schema_files() -> dict[str, str]:
    """File name -> text of each spec file's JSON Schema, as ``schema`` writes them.

    >>> sorted(schema_files())
    ['indicator.schema.json', 'measures.schema.json', 'value_set.schema.json']
    """
    from hospital_sdk.indicators import spec_json_schemas

    return {f"{kind}.schema.json": json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
            for kind, doc in spec_json_schemas().items()}


@app.command()
def schema(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the schemas into.")],
) -> None:
    """Write the JSON Schemas of indicator, measure and value-set files (for editors)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in schema_files().items():
        (out / name).write_text(text, encoding="utf-8")
        _out().print(f"wrote {out / name}", markup=False, highlight=False)
