"""The national-assessment report: an :class:`AssessmentResult` as workbook, HTML page and PDF.

Output, in ``out_dir``, named ``assessment_<assessment>_<edition>_<period>`` (``_en`` appended
for English):

``.xlsx``
    ``汇总`` (the tier estimate per institution with its assumptions), one sheet per L1
    dimension (each item × institution: value, numerator, denominator, prior year, change,
    direction, national reference, score, ▲, data source, responsible department,
    status/reason, notes/assumptions), ``科室明细``, ``月度趋势``, ``上报数据``, ``数据质量``
    and ``说明``; English sheet names and headers with ``lang="en"``;
``.html``
    self-contained (plotly.js inline): the tier estimate, labelled as an estimate; the
    dimension overview; the trend, department breakdown, funnel plot and peer comparison per
    indicator (a menu picks the indicator); the item tables per dimension; reported inputs,
    data quality and the assumptions;
``.pdf``
    the same report set in a Chinese font (:mod:`hospital_sdk.reports.pdf`) when the PDF engine
    is installed; otherwise nothing is written and the returned list's ``pdf`` says why;
``_manifest.json``
    the files with their SHA-256, written last.

Small counts: every department row whose denominator is below ``suppress_below`` (or that
scoring already marked ``suppressed``) has its numerator, denominator, value and funnel columns
blanked in every file, and is drawn in no chart. Items and the trend are institution totals and
are not suppressed. No file holds a patient identifier column (the writers refuse them).

The tables are built by :mod:`~hospital_sdk.reports.assessment_tables`, the charts by
:mod:`~hospital_sdk.reports.assessment_charts`, the words by :mod:`~hospital_sdk.reports.labels`.

Examples
--------
>>> import tempfile
>>> from hospital_sdk.assessments.result import ITEM_COLUMNS
>>> empty = AssessmentResult("tertiary", "2024", "三级公立医院绩效考核", "Tertiary", "2025",
...                          pd.DataFrame(columns=list(ITEM_COLUMNS)))
>>> with tempfile.TemporaryDirectory() as tmp:
...     paths = write_assessment_report(empty, tmp, pdf=False)
>>> [p.name for p in paths], paths.pdf
(['assessment_tertiary_2024_2025.xlsx', 'assessment_tertiary_2024_2025.html', \
'assessment_tertiary_2024_2025_manifest.json'], None)
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hospital_sdk.assessments.result import AssessmentResult
from hospital_sdk.errors import ReportError
from hospital_sdk.reports.assessment_charts import (
    department_figure,
    funnel_figure,
    overview_figure,
    peer_figure,
    trend_figure,
)
from hospital_sdk.reports.assessment_tables import (
    department_table,
    dimension_items,
    dimension_overview,
    item_names,
    item_table,
    peer_table,
    plain_cells,
    prepare_items,
    prepare_trend,
    reported_table,
    suppress_departments,
    tier_table,
    translated,
    trend_pivot,
    trend_table,
)
from hospital_sdk.reports.files import WrittenFile, write_manifest
from hospital_sdk.reports.html import NO_DATA, Figure, Section, Table, heading, write_page
from hospital_sdk.reports.inputs import refuse_patient_identifiers
from hospital_sdk.reports.labels import (
    SHEETS,
    TEXT,
    check_language,
    headers,
    label,
)
from hospital_sdk.reports.pdf import CHART_IN_HTML, PdfResult, PdfWritten, write_pdf
from hospital_sdk.reports.workbook import Sheet, write_workbook

_EXCEL_DECIMALS = ("value", "prior_value", "change", "national_reference", "score",
                   "funnel_low", "funnel_high", "total_score", "percentile")


class AssessmentReportFiles(list[Path]):
    """The paths written (manifest last), with :attr:`pdf`: what the PDF step did (``None``
    when no PDF was asked for). Its ``pdf.message`` is the line to show the user."""

    def __init__(self, paths: Sequence[Path], pdf: PdfResult | None) -> None:
        super().__init__(paths)
        self.pdf = pdf


def _number(value: Any) -> str:
    """Whole numbers with separators, others with two decimals (HTML and PDF cells)."""
    v = float(value)
    return f"{int(v):,}" if v.is_integer() and abs(v) < 1e15 else f"{v:,.2f}"


def report_name(result: AssessmentResult, lang: str = "zh") -> str:
    """The files' common stem.

    >>> from hospital_sdk.assessments.result import ITEM_COLUMNS
    >>> r = AssessmentResult("tertiary", "2024", "三级", "Tertiary", "2025",
    ...                      pd.DataFrame(columns=list(ITEM_COLUMNS)))
    >>> report_name(r), report_name(r, "en")
    ('assessment_tertiary_2024_2025', 'assessment_tertiary_2024_2025_en')
    """
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{result.assessment}_{result.edition}_"
                  f"{result.period}")
    return f"assessment_{stem}" + ("_en" if check_language(lang) == "en" else "")


def _formats(frame: pd.DataFrame) -> dict[str, Any]:
    return {c: _number for c in frame.columns if pd.api.types.is_float_dtype(frame[c])}


def _table(frame: pd.DataFrame, caption: str | None = None) -> Table:
    return Table(frame, formats=_formats(frame), caption=caption)


def _sheet_names(shown: list[str], lang: str) -> list[str]:
    """Excel-safe, unique names for the dimension sheets (none equal to a fixed sheet's).

    >>> _sheet_names(["Revenue/cost", "汇总", "汇总"], "zh")
    ['Revenue-cost', '汇总_2', '汇总_3']
    """
    taken = {label(SHEETS, k, lang).lower() for k in SHEETS}
    names = []
    for text in shown:
        base = re.sub(r"[\[\]:*?/\\']+", "-", text).strip("-")[:28] or "dimension"
        name, n = base, 2
        while name.lower() in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name.lower())
        names.append(name)
    return names


def _suppression_text(suppress_below: int | None, hidden: int, lang: str) -> str:
    if suppress_below is None:
        return label(TEXT, "suppressed_given", lang).format(n=hidden)
    return label(TEXT, "suppressed_note", lang).format(k=suppress_below, n=hidden)


def _notes_rows(result: AssessmentResult, lang: str, suppress_below: int | None,
                n_hidden: int) -> pd.DataFrame:
    zh = lang == "zh"
    rows = [("考核" if zh else "assessment", result.name_zh if zh else result.name_en),
            ("版本" if zh else "edition", result.edition),
            ("期间" if zh else "period", result.period),
            ("等级" if zh else "tier", label(TEXT, "estimate", lang))]
    rows += [(f"{'假设' if zh else 'assumption'} {i}", a)
             for i, a in enumerate(result.assumptions, start=1)]
    if suppress_below is not None or n_hidden:
        rows.append(("小样本" if zh else "small counts",
                     _suppression_text(suppress_below, n_hidden, lang)))
    return translated(pd.DataFrame(rows, columns=["term", "text"]), lang)


def _excel_formats(frame: pd.DataFrame, lang: str) -> dict[str, str]:
    wanted = set(headers(list(_EXCEL_DECIMALS), lang).values())
    return {c: "#,##0.00" for c in frame.columns if c in wanted}


def assessment_sheets(result: AssessmentResult, lang: str = "zh",
                      suppress_below: int | None = None) -> list[Sheet]:
    """The workbook's sheets: summary, one per dimension, departments, monthly trend, reported
    inputs, data quality, notes."""
    items, depts = prepare_items(result), suppress_departments(result.departments, suppress_below)
    names = item_names(items, lang)
    dims = dimension_items(items, lang)
    sheets = [Sheet(label(SHEETS, "summary", lang), tier_table(result, lang),
                    empty_message=label(TEXT, "no_tiers", lang))]
    for sheet_name, (_, _, rows) in zip(_sheet_names([d[0] for d in dims], lang), dims,
                                        strict=True):
        table = item_table(rows, lang)
        sheets.append(Sheet(sheet_name, table, formats=_excel_formats(table, lang)))
    for key, table in (("departments", department_table(depts, names, lang)),
                       ("trend", trend_table(prepare_trend(result), names, lang)),
                       ("reported", reported_table(result, lang)),
                       ("quality", plain_cells(result.quality))):
        sheets.append(Sheet(label(SHEETS, key, lang), table,
                            formats=_excel_formats(table, lang) if key != "quality" else {}))
    sheets.append(Sheet(label(SHEETS, "notes", lang),
                        _notes_rows(result, lang, suppress_below, int(depts["suppressed"].sum()))))
    return sheets


def _quality_blocks(quality: pd.DataFrame, lang: str, limit: int = 500) -> list[Any]:
    """The checks that did not pass (all rows when there is no ``status``), at most ``limit``."""
    q, blocks = plain_cells(quality), []
    if "status" in q and len(q):
        passed = int((q["status"] == "passed").sum())
        blocks.append(f"{passed} 项检查通过；以下为未通过或不适用的检查" if lang == "zh" else
                      f"{passed} checks passed; the checks below did not pass or did not apply")
        q = q[q["status"] != "passed"]
    blocks.append(_table(q.head(limit)))
    if len(q) > limit:
        blocks.append(f"仅显示前 {limit} 行（共 {len(q)} 行），全部见工作簿" if lang == "zh" else
                      f"the first {limit} of {len(q)} rows; the workbook has them all")
    return blocks


def assessment_sections(result: AssessmentResult, lang: str = "zh",
                        suppress_below: int | None = None, *, static: bool = False
                        ) -> list[Section]:
    """The report's sections, for the HTML page or (``static``) for the PDF, where each
    per-indicator chart (a menu of indicators) is replaced by a pointer to the HTML page and the
    monthly trend is given as a table."""
    items, depts = prepare_items(result), suppress_departments(result.departments, suppress_below)
    trend, names = prepare_trend(result), item_names(items, lang)
    hidden = int(depts["suppressed"].sum())
    note = [_suppression_text(suppress_below, hidden, lang)] \
        if suppress_below is not None or hidden else []

    def chart(figure: go.Figure | None, height: int = 480) -> list[Any]:
        if figure is None:
            return [NO_DATA]
        return [CHART_IN_HTML] if static else [Figure(figure, height=height)]

    assumptions = [f"{label(TEXT, 'estimate', lang)}；{label(TEXT, 'rests_on', lang)}",
                   *result.assumptions] \
        if len(result.tiers) else [label(TEXT, "no_tiers", lang)]
    overview = dimension_overview(items, lang)
    over_fig = overview_figure(overview, lang)
    funnel = [] if depts["funnel_low"].notna().any() or depts["funnel_high"].notna().any() \
        else [label(TEXT, "points_only", lang)]
    sections = [
        Section("等级估计（估计值，非官方结果）", "Tier estimate (an estimate, not the official "
                "grade)", [*assumptions, _table(tier_table(result, lang))]),
        Section("维度概览", "Dimension overview",
                [*([] if over_fig is None else [Figure(over_fig, height=420)]),
                 _table(translated(overview, lang))]),
        Section("指标趋势", "Trend per indicator",
                [_table(trend_pivot(trend, names, lang))] if static
                else chart(trend_figure(trend, items, lang))),
        Section("科室分布", "Department breakdown",
                [*note, *chart(department_figure(depts, items, lang), 560),
                 _table(department_table(depts, names, lang))]),
        Section("漏斗图", "Funnel plot", [*note, *funnel, *chart(funnel_figure(depts, items,
                                                                             lang))]),
        Section("同级比较", "Peer comparison",
                [*chart(peer_figure(items, lang)), _table(peer_table(items, lang))]),
    ]
    for shown, other, rows in dimension_items(items, lang):
        zh, en = (shown, other) if lang == "zh" else (other, shown)
        sections.append(Section(f"维度：{zh}", f"Dimension: {en}",
                                [_table(item_table(rows, lang))]))
    sections += [
        Section("上报数据", "Reported inputs", [_table(reported_table(result, lang))]),
        Section("数据质量", "Data quality", _quality_blocks(result.quality, lang)),
        Section("说明与假设", "Notes and assumptions",
                [_table(_notes_rows(result, lang, suppress_below, hidden))]),
    ]
    return sections


def _check_inputs(result: AssessmentResult, lang: str, suppress_below: int | None) -> None:
    if not isinstance(result, AssessmentResult):
        raise ReportError(f"an assessment report needs an AssessmentResult, not "
                          f"{type(result).__name__}")
    result.check()
    check_language(lang)
    if suppress_below is not None and (isinstance(suppress_below, bool)
                                       or not isinstance(suppress_below, int | np.integer)
                                       or suppress_below < 1):
        raise ReportError(f"suppress_below must be a whole number ≥ 1 or None, not "
                          f"{suppress_below!r}")
    for name in ("items", "departments", "trend", "tiers", "reported", "quality"):
        refuse_patient_identifiers(getattr(result, name).columns,
                                   where=f"assessment result: {name}")


def write_assessment_report(result: AssessmentResult, out_dir: str | os.PathLike[str], *,
                            lang: str = "zh", suppress_below: int | None = None,
                            pdf: bool = True) -> AssessmentReportFiles:
    """Write the assessment report (xlsx, HTML, PDF when possible, manifest) into ``out_dir``.

    Parameters
    ----------
    result
        A computed (and preferably scored) edition; its frames are checked first.
    out_dir
        Folder for the files (created if missing); files of the same name are replaced
        atomically. A PDF left there by an earlier run is removed when no new one is written,
        so the folder never holds a PDF that disagrees with the other files.
    lang
        ``"zh"`` (default) or ``"en"``: sheet names, headers, labels and chart axes. Section
        headings stay bilingual.
    suppress_below
        Hide department figures whose denominator is below this (see
        :func:`suppress_departments`); ``None`` hides only rows scoring marked ``suppressed``.
    pdf
        Also write the PDF. A missing PDF engine never stops the run: the returned list's
        ``pdf`` then holds :class:`~hospital_sdk.reports.pdf.PdfUnavailable` and its message.

    Returns
    -------
    AssessmentReportFiles
        A list of the paths written (xlsx, html, pdf if written, manifest last) with ``.pdf``.

    Raises
    ------
    ReportError
        A frame lacks contract columns or holds a patient identifier column, ``lang`` or
        ``suppress_below`` is invalid, or a file cannot be written.
    """
    _check_inputs(result, lang, suppress_below)
    out, stem = Path(out_dir), report_name(result, lang)
    title_zh = f"{result.name_zh}（{result.edition} 版，{result.period} 年度）"
    title_en = f"{result.name_en} (edition {result.edition}, period {result.period})"
    xlsx = write_workbook(out / f"{stem}.xlsx", assessment_sheets(result, lang, suppress_below),
                          title=heading(title_zh, title_en))
    items = prepare_items(result)
    ok = int((items["status"] == "ok").sum())
    facts = {heading("机构", "institutions"): ", ".join(sorted(items["institution"].unique())),
             heading("指标", "items"): label(TEXT, "items_fact", lang).format(
                 items=items["item"].nunique(), institutions=items["institution"].nunique(),
                 ok=ok, rows=len(items)),
             heading("小样本隐藏", "small counts hidden"):
                 "—" if suppress_below is None else f"< {suppress_below}"}
    footer = "hospital_sdk · " + label(TEXT, "estimate", lang)
    page = write_page(out / f"{stem}.html", title_zh, title_en,
                      assessment_sections(result, lang, suppress_below), facts=facts,
                      footer=footer)
    written: list[WrittenFile] = [xlsx, page]
    outcome: PdfResult | None = None
    if pdf:
        outcome = write_pdf(out / f"{stem}.pdf", title_zh, title_en,
                            assessment_sections(result, lang, suppress_below, static=True),
                            facts=facts, footer=footer, cover=1)
        if isinstance(outcome, PdfWritten):
            written.append(outcome.file)
    if not isinstance(outcome, PdfWritten):
        (out / f"{stem}.pdf").unlink(missing_ok=True)
    pdf_fact = ("not requested" if outcome is None else outcome.message
                if not isinstance(outcome, PdfWritten)
                else f"{outcome.pages} pages; {outcome.charts}")
    manifest = write_manifest(out, stem, written, facts={
        "assessment": result.assessment, "edition": result.edition, "period": result.period,
        "lang": lang, "suppress_below": suppress_below, "items": len(items),
        "departments_suppressed": int(suppress_departments(result.departments, suppress_below)
                                      ["suppressed"].sum()),
        "pdf": pdf_fact})
    return AssessmentReportFiles([f.path for f in written] + [manifest.path], outcome)


__all__ = ["AssessmentReportFiles", "assessment_sections", "assessment_sheets", "report_name",
           "write_assessment_report"]
