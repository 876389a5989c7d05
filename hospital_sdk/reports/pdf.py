"""PDF of a report: the sections of its HTML page, set in a Chinese font, or a clear reason why not.

A PDF is built from the same :class:`~hospital_sdk.reports.html.Section` list as a page: a title
page (the title, the facts and the first ``cover`` sections), then the other sections, each
under its bilingual heading, on A4 landscape pages numbered in the footer. Tables are set cell by
cell with the page's formats (:func:`~hospital_sdk.reports.html.format_cell`), wrapped, and
repeat their header on every page they run over.

Engines
-------
The PDF engine is **reportlab** (pure Python, :data:`PDF_ENGINE`). Chinese is set in its CID
font STSong-Light (Adobe-GB1), which needs no font file: the PDF names the font and the viewer
supplies the glyphs (Acrobat, Edge/Chrome, WPS and macOS Preview do; a poppler-based Linux viewer
needs ``poppler-data`` and a CJK font installed), and the text stays extractable.

Plotly figures become static images only when an image engine is there (``kaleido`` with a
Chromium browser, see :func:`image_engine_missing`); without one the PDF holds the tables and
says, where each chart would be, that the interactive chart is in the HTML page.

A missing engine never stops a run: :func:`write_pdf` then writes nothing and returns
:class:`PdfUnavailable`, whose :attr:`~PdfUnavailable.message` says what is missing and how to
install it. The only errors it raises are the report errors every writer raises (a patient
identifier column, a file that cannot be written).

Examples
--------
>>> import pandas as pd
>>> from hospital_sdk.reports.html import Section, Table
>>> sections = [Section("汇总", "Summary", [Table(pd.DataFrame({"机构": ["H1"], "n": [3]}))])]
>>> result = write_pdf("/nonexistent/never.pdf", "报告", "Report", sections,
...                    engine_missing=lambda: "reportlab is not installed")
>>> result.message.startswith("PDF not written: reportlab is not installed; install")
True
"""

from __future__ import annotations

import importlib.util
import io
import os
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd
import plotly.graph_objects as go

from hospital_sdk.errors import ReportError
from hospital_sdk.reports.files import WrittenFile, write_atomic
from hospital_sdk.reports.html import NO_DATA, Figure, Section, Table, format_cell, heading
from hospital_sdk.reports.inputs import refuse_patient_identifiers

PDF_ENGINE = "reportlab==5.1.0"
"""The PDF engine this module is written for (the project's pinned version)."""
INSTALL_PDF = (f"install the PDF engine with `uv add {PDF_ENGINE}` (or `pip install "
               f"{PDF_ENGINE}`): pure Python, and its built-in CID font STSong-Light sets "
               "Chinese with no font file")
INSTALL_IMAGES = ("`kaleido==1.5.0` with a Chromium browser (Debian package `chromium`) and CJK "
                  "fonts (`fonts-noto-cjk`)")
CHART_IN_HTML = "图表见 HTML 报告（交互式） / the interactive chart is in the HTML report"
CJK_FONT = "STSong-Light"
_IMAGE_WIDTH_PX = 1100
MAX_CELL_CHARACTERS = 400
"""Longer cell texts are cut (with "…") so that no table row is taller than a page."""


@dataclass(frozen=True)
class PdfWritten:
    """A PDF that was written: the file, its page count, and how charts were handled."""

    file: WrittenFile
    pages: int
    charts: str

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def message(self) -> str:
        return f"PDF written: {self.file.path} ({self.pages} pages; {self.charts})"


@dataclass(frozen=True)
class PdfUnavailable:
    """No PDF was written: :attr:`missing` says what is missing, :attr:`how` how to get it."""

    missing: str
    how: str

    @property
    def message(self) -> str:
        """``"PDF not written: <what is missing>; <how to install it>"``.

        >>> PdfUnavailable("reportlab is not installed", "install it").message
        'PDF not written: reportlab is not installed; install it'
        """
        return f"PDF not written: {self.missing}; {self.how}"


PdfResult = PdfWritten | PdfUnavailable


def pdf_engine_missing() -> str | None:
    """``None`` when reportlab can be imported, else what is missing (one sentence)."""
    if importlib.util.find_spec("reportlab") is None:
        return "the PDF engine reportlab is not installed in this Python environment"
    try:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        UnicodeCIDFont(CJK_FONT)
    except Exception as exc:  # a broken or incompatible install: say which
        return f"the PDF engine reportlab cannot set Chinese ({type(exc).__name__}: {exc})"
    return None


def image_engine_missing() -> str | None:
    """``None`` when Plotly can export static images (kaleido installed), else why not.

    Whether kaleido finds a browser is only known when a figure is exported; a failure there is
    reported the same way, chart by chart."""
    if importlib.util.find_spec("kaleido") is None:
        return f"no static image engine for charts; it needs {INSTALL_IMAGES}"
    return None


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CELL_CHARACTERS else text[:MAX_CELL_CHARACTERS - 1] + "…"


def _column_widths(rows: list[list[str]], total: float, font_size: float) -> list[float]:
    """Widths in points: each column's widest cell (capped at 40 characters), scaled to fit."""
    n = len(rows[0])
    need = [max(4, min(40, max(_display_width(r[c]) for r in rows))) for c in range(n)]
    natural = [w * font_size * 0.55 + 6 for w in need]
    scale = min(1.0, total / sum(natural))
    return [w * scale for w in natural]


class _Renderer:
    """Turns sections into reportlab flowables (imports reportlab lazily)."""

    def __init__(self, charts: Callable[[go.Figure, int], bytes] | None) -> None:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        self.colors = colors
        base = {"fontName": CJK_FONT, "wordWrap": "CJK"}
        self.title = ParagraphStyle("title", fontSize=20, leading=28, spaceAfter=12, **base)
        self.h2 = ParagraphStyle("h2", fontSize=13, leading=18, spaceBefore=12, spaceAfter=6,
                                 textColor=colors.HexColor("#2f5d8a"), **base)
        self.body = ParagraphStyle("body", fontSize=9, leading=13, spaceAfter=4, **base)
        self.muted = ParagraphStyle("muted", parent=self.body,
                                    textColor=colors.HexColor("#7b8794"))
        self.charts = charts
        self.chart_notes: list[str] = []

    def para(self, text: str, style: Any = None) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(escape(text).replace("\n", "<br/>"), style or self.body)

    def table(self, t: Table, width: float) -> list[Any]:
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import Paragraph
        from reportlab.platypus import Table as RLTable

        refuse_patient_identifiers(t.frame.columns, where="a PDF table")
        out: list[Any] = [self.para(t.caption, self.muted)] if t.caption else []
        if len(t.frame) == 0:
            return [*out, self.para(t.empty_message, self.muted)]
        header = [str(c) for c in t.frame.columns]
        formats = [t.formats.get(h) for h in header]
        rows = [header] + [[_cut(format_cell(v, f)) for v, f in zip(values, formats,
                                                                      strict=True)]
                           for values in t.frame.itertuples(index=False, name=None)]
        size = 6.5 if len(header) > 10 else 7.5 if len(header) > 6 else 8.5
        cell = ParagraphStyle("cell", fontName=CJK_FONT, fontSize=size, leading=size * 1.25,
                              wordWrap="CJK")
        numeric = [pd.api.types.is_numeric_dtype(t.frame[c])
                   and not pd.api.types.is_bool_dtype(t.frame[c]) for c in t.frame.columns]
        right = ParagraphStyle("num", parent=cell, alignment=2)
        data = [[Paragraph(escape(v), right if numeric[c] and r else cell)
                 for c, v in enumerate(row)] for r, row in enumerate(rows)]
        c = self.colors
        grid = RLTable(data, colWidths=_column_widths(rows, width, size), repeatRows=1,
                       hAlign="LEFT")
        grid.setStyle([("GRID", (0, 0), (-1, -1), 0.4, c.HexColor("#d5dde5")),
                       ("BACKGROUND", (0, 0), (-1, 0), c.HexColor("#e8eef4")),
                       ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("LEFTPADDING", (0, 0), (-1, -1), 2),
                       ("RIGHTPADDING", (0, 0), (-1, -1), 2)])
        return [*out, grid]

    def figure(self, f: Figure, width: float) -> list[Any]:
        from reportlab.platypus import Image

        if self.charts is None:
            return [self.para(CHART_IN_HTML, self.muted)]
        try:
            png = self.charts(f.figure, f.height)
        except Exception as exc:  # kaleido present but no browser, or an export error
            self.chart_notes.append(f"{type(exc).__name__}: {exc}")
            return [self.para(CHART_IN_HTML, self.muted)]
        height = width * f.height / _IMAGE_WIDTH_PX
        return [Image(io.BytesIO(png), width=width, height=height)]

    def section(self, s: Section, width: float) -> list[Any]:
        from reportlab.platypus import CondPageBreak

        out: list[Any] = [CondPageBreak(72), self.para(heading(s.zh, s.en), self.h2)]
        if not s.blocks:
            out.append(self.para(NO_DATA, self.muted))
        for block in s.blocks:
            if isinstance(block, Figure | go.Figure):
                out.extend(self.figure(block if isinstance(block, Figure) else Figure(block),
                                       width))
            elif isinstance(block, Table | pd.DataFrame):
                out.extend(self.table(block if isinstance(block, Table) else Table(block),
                                      width))
            else:
                out.append(self.para(str(block)))
        return out


def _plotly_png(figure: go.Figure, height: int) -> bytes:
    return figure.to_image(format="png", width=_IMAGE_WIDTH_PX, height=height, scale=2)


def pdf_bytes(title_zh: str, title_en: str, sections: Sequence[Section], *,
              facts: Mapping[str, str] | None = None, footer: str | None = None,
              cover: int = 0, charts: bool = True) -> tuple[bytes, int, str]:
    """The PDF's bytes, its page count, and a sentence on how charts were handled.

    Needs reportlab (raises :class:`ImportError` without it; :func:`write_pdf` turns that into
    :class:`PdfUnavailable`). The same input gives the same bytes (no clock, fixed document id).

    Parameters
    ----------
    cover
        How many of the first ``sections`` go on the title page, under the title and facts.
    charts
        Try to export figures as images (when an image engine is there).
    """
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    for s in sections:
        for block in s.blocks:
            frame = block.frame if isinstance(block, Table) else block
            if isinstance(frame, pd.DataFrame):
                refuse_patient_identifiers(frame.columns, where=f"section {s.en!r}")
    missing_images = image_engine_missing() if charts else "charts not requested"
    r = _Renderer(None if missing_images else _plotly_png)
    buffer = io.BytesIO()
    title = heading(title_zh, title_en)
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=14 * mm,
                            rightMargin=14 * mm, topMargin=14 * mm, bottomMargin=16 * mm,
                            title=title, author="hospital_sdk", creator="hospital_sdk",
                            invariant=1)
    width = doc.width
    story: list[Any] = [r.para(title, r.title)]
    for k, v in (facts or {}).items():
        story.append(r.para(f"{k}：{v}"))
    for s in sections[:cover]:
        story.extend(r.section(s, width))
    story.append(PageBreak())
    for s in sections[cover:]:
        story.extend(r.section(s, width))
    if footer:
        story.append(r.para(footer, r.muted))

    def number_page(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(CJK_FONT, 7.5)
        canvas.setFillColor(r.colors.HexColor("#7b8794"))
        canvas.drawString(document.leftMargin, 8 * mm, title)
        canvas.drawRightString(document.leftMargin + document.width, 8 * mm,
                               f"第 {document.page} 页 / page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=number_page, onLaterPages=number_page)
    if missing_images:
        how = f"tables only: {missing_images}"
    elif r.chart_notes:
        how = f"tables only where a chart failed to export ({r.chart_notes[0]})"
    else:
        how = "charts as static images"
    return buffer.getvalue(), int(doc.page), how


def write_pdf(path: str | os.PathLike[str], title_zh: str, title_en: str,
              sections: Sequence[Section], *, facts: Mapping[str, str] | None = None,
              footer: str | None = None, cover: int = 0, charts: bool = True,
              engine_missing: Callable[[], str | None] | None = None) -> PdfResult:
    """Write the PDF of ``sections`` to ``path`` atomically, or say why it cannot be written.

    Parameters
    ----------
    path
        The ``.pdf`` file.
    title_zh, title_en, sections, facts, footer, cover, charts
        As for :func:`pdf_bytes`.
    engine_missing
        Says what is missing to write a PDF; ``None`` means :func:`pdf_engine_missing`.

    Returns
    -------
    PdfWritten or PdfUnavailable
        ``PdfUnavailable`` when the engine is missing or fails while setting the document: the
        run goes on with the report's other files.

    Raises
    ------
    ReportError
        A table has a patient identifier column, or the file cannot be written.
    """
    missing = (engine_missing or pdf_engine_missing)()
    if missing:
        return PdfUnavailable(missing, INSTALL_PDF)
    try:
        data, pages, how = pdf_bytes(title_zh, title_en, sections, facts=facts, footer=footer,
                                     cover=cover, charts=charts)
    except ReportError:
        raise
    except ImportError as exc:
        return PdfUnavailable(f"the PDF engine could not be imported ({exc})", INSTALL_PDF)
    except Exception as exc:  # the engine failed on this document: keep the other files
        return PdfUnavailable(f"the PDF engine failed ({type(exc).__name__}: {exc})",
                              "the Excel and HTML files are complete; report this error "
                              f"with the engine's version ({PDF_ENGINE} expected)")
    return PdfWritten(write_atomic(path, data), pages, how)


__all__ = ["CJK_FONT", "PDF_ENGINE", "PdfResult", "PdfUnavailable", "PdfWritten",
           "image_engine_missing", "pdf_bytes", "pdf_engine_missing", "write_pdf"]
