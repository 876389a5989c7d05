"""``hospital-sdk assess``: compute, score and export a national-assessment edition.

``hospital-sdk assess --assessment tertiary --edition 2024 --period 2025`` writes the workbook,
HTML page and PDF of the edition for data year 2025 into ``<home>/reports/assessment`` (or
``--out``) and prints their paths; ``--lang en`` for English, ``--institution`` (repeatable) to
report some institutions only, ``--suppress-below N`` to hide department counts under N.
``hospital-sdk assess diff --assessment tertiary --editions 2019 2024 --period 2025`` computes the
period under both editions and lists what changed, item by item, and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hospital_sdk.cli.indicators import (
    CatalogOption,
    HomeOption,
    OutOption,
    _catalog,
    _check_out,
    _errors,
    _exit,
    _open,
    _out,
    _print_frame,
    _root,
    _write,
)

if TYPE_CHECKING:
    from hospital_sdk.assessments.editions import Assessment
    from hospital_sdk.indicators.catalog import Catalog

app = typer.Typer(help="National assessments: compute, score and export an edition "
                       "(xlsx, HTML, PDF); compare editions.", invoke_without_command=True,
                  no_args_is_help=False)

AssessmentOption = Annotated[str, typer.Option(
    "--assessment", "-a", help="tertiary, secondary or high_quality.")]
YearOption = Annotated[str | None, typer.Option(
    "--period", "-p", help="Data year (default: the latest complete year in the lakehouse).")]


def _assessment(assessment: str, catalog: Path | None) -> tuple[Catalog, Assessment]:
    """The catalog and the assessment ``assessment`` of it (exit 2 when there is none)."""
    from hospital_sdk.assessments.editions import load_assessments

    cat = _catalog(catalog)
    assessments = load_assessments(_root(catalog), catalog=cat)
    if assessment not in assessments:
        raise _exit(f"unknown assessment {assessment!r}; known: "
                    + ", ".join(sorted(assessments)), 2)
    return cat, assessments[assessment]


def _year(period: str | None, lake: object) -> str:
    from hospital_sdk.assessments.compute import latest_complete_year

    year = period or latest_complete_year(lake)
    if year is None:
        raise _exit("no complete year of discharges in the lakehouse; give --period", 2)
    return year


@app.callback()
def assess(
    ctx: typer.Context,
    assessment: AssessmentOption = "tertiary",
    edition: Annotated[str | None, typer.Option(
        "--edition", "-e", help="Edition label (default: the edition in force in the period's "
                                "year).")] = None,
    period: YearOption = None,
    institution: Annotated[list[str] | None, typer.Option(
        "--institution", help="Report this institution (repeat); default: all.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh (default) or en.")] = "zh",
    suppress_below: Annotated[int | None, typer.Option(
        "--suppress-below", help="Hide department counts whose denominator is below N.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Folder for the report files (default: <home>/reports/assessment).")]
    = None,
    home: HomeOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Compute, score and export an edition; prints the files written."""
    if ctx.invoked_subcommand is not None:
        return
    if lang not in ("zh", "en"):
        raise _exit(f"--lang must be zh or en, not {lang!r}", 2)
    from hospital_sdk.config import Settings
    from hospital_sdk.reports.edition_report import report_edition

    with _errors():
        cat, found = _assessment(assessment, catalog)
        with _open(home) as lake:
            year = _year(period, lake)
            chosen = found.edition(edition, year=int(year))
            folder = out or Settings(home=home or Settings().home).home / "reports" / "assessment"
            result, files = report_edition(cat, chosen, lake, period=year, out_dir=folder,
                                           institutions=institution or None, lang=lang,
                                           suppress_below=suppress_below)
    console = _out()
    ok = int((result.items["status"] == "ok").sum())
    console.print(f"{result.name_zh} {chosen.edition} ({result.name_en}), data year {year}: "
                  f"{len(result.items):,} item rows, {ok:,} with a value", markup=False,
                  highlight=False)
    if files.pdf is not None:
        console.print(files.pdf.message, markup=False, highlight=False)
    for path in files:
        console.print(str(path), markup=False, highlight=False)


@app.command()
def diff(
    assessment: AssessmentOption = "tertiary",
    editions: Annotated[tuple[str, str] | None, typer.Option(
        "--editions", help="Two edition labels, older first (default: the two latest).")]
    = None,
    period: YearOption = None,
    out: OutOption = None,
    home: HomeOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Compute one period under two editions and list what changed, item by item, and why."""
    _check_out(out)
    from hospital_sdk.assessments.compare import diff_editions
    from hospital_sdk.assessments.compute import compute_edition

    with _errors():
        cat, found = _assessment(assessment, catalog)
        known = sorted(found.editions.values(), key=lambda e: (e.valid_from or 0, e.edition))
        labels = list(editions) if editions else [e.edition for e in known[-2:]]
        if len(labels) != 2:
            raise _exit(f"{assessment} has {len(known)} edition(s): nothing to compare", 2)
        a, b = (found.edition(label) for label in labels)
        with _open(home) as lake:
            year = _year(period, lake)
            ra = compute_edition(cat, a, lake, period=year)
            rb = compute_edition(cat, b, lake, period=year)
        table = diff_editions(cat, ra, rb, b)
    changed = table[table["change"] != "same"]
    _out().print(f"{assessment} {a.edition} vs {b.edition}, data year {year}: "
                 f"{changed['item'].nunique()} item(s) changed", markup=False, highlight=False)
    if out is not None:
        _write(table, out)
    elif len(changed):
        _print_frame(changed, f"{assessment}: {a.edition} → {b.edition}")
