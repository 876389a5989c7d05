"""Self-contained HTML report pages: bilingual headings, tables, and Plotly figures.

A page is a title and a list of :class:`Section`; each section has a Chinese and an English
heading and holds blocks: :class:`Table` (a frame, HTML-escaped cell by cell), :class:`Figure`
(a Plotly figure) or plain text. The page opens with no network: plotly.js is embedded inline
once in the page head (what ``include_plotlyjs=True`` does), never linked from a CDN. The
bundle's only address on the Plotly CDN is the default folder of the topojson files that geo
maps download; reports draw no geo map, so that default is replaced by a relative path and the
file holds no CDN address at all.

Figures get fixed element ids (``figure-1``, ``figure-2`` …) instead of Plotly's random ones, and
the page carries no clock time unless it is passed in, so the same input gives the same page.

Examples
--------
>>> import pandas as pd
>>> from hospital_sdk.reports.html import Section, Table, page_html
>>> page = page_html("活动", "Activity", [
...     Section("按月", "By month", [Table(pd.DataFrame({"month": ["2025-01"], "n": [1200]}))]),
... ])
>>> "<h2>按月 / By month</h2>" in page, "<td class=\\"num\\">1,200</td>" in page
(True, True)
>>> "plotly" in page  # no figure, no plotly.js
False
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from hospital_sdk.reports.files import WrittenFile, write_atomic
from hospital_sdk.reports.inputs import refuse_patient_identifiers

NO_DATA = "无数据 / no data"
"""What an empty table or a section without data says."""
CellFormat = str | Callable[[Any], str]
"""A ``str.format`` pattern such as ``"{:.1%}"``, or a function from value to text."""

_CDN_URL = re.compile(r"https?://cdn\.plot\.ly/[^\"']*")
_STYLE = """
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
       "Helvetica Neue", Arial, sans-serif; color: #1f2933; margin: 0; background: #f7f9fb; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 1.6em; border-bottom: 2px solid #2f5d8a; padding-bottom: 8px; }
h2 { font-size: 1.25em; margin-top: 2em; color: #2f5d8a; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.9em; }
th, td { border: 1px solid #d5dde5; padding: 4px 8px; vertical-align: top; }
th { background: #e8eef4; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption, p.caption { caption-side: top; text-align: left; color: #52606d; padding-bottom: 4px; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
dl.facts dt { color: #52606d; }
p.no-data { color: #7b8794; font-style: italic; }
footer { margin-top: 3em; color: #7b8794; font-size: 0.85em; }
""".strip()


def heading(zh: str, en: str) -> str:
    """The one way headings are written: ``"中文 / English"``.

    >>> heading("汇总", "Summary")
    '汇总 / Summary'
    """
    return f"{zh} / {en}"


@dataclass(frozen=True, eq=False)
class Table:
    """A frame shown as an HTML table (index not shown, every value escaped).

    Attributes
    ----------
    frame
        The rows.
    formats
        Per column, a ``str.format`` pattern or a function; other columns: integers with
        thousands separators, other numbers with two decimals, dates as ``YYYY-MM-DD``.
    empty_message
        Shown instead of the table when ``frame`` has no rows.
    caption
        A line above the table.
    """

    frame: pd.DataFrame
    formats: Mapping[str, CellFormat] = field(default_factory=dict)
    empty_message: str = NO_DATA
    caption: str | None = None


@dataclass(frozen=True, eq=False)
class Figure:
    """A Plotly figure drawn at a fixed height (pixels), the page's full width."""

    figure: go.Figure
    height: int = 460


Block = Table | Figure | str
"""What a section holds; a ``str`` is a paragraph of plain text (escaped)."""


@dataclass(frozen=True, eq=False)
class Section:
    """A bilingual heading and the blocks under it."""

    zh: str
    en: str
    blocks: Sequence[Block] = ()


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle of the installed ``plotly`` package, with no CDN address in it.

    Examples
    --------
    >>> js = plotly_js()
    >>> len(js) > 1_000_000, "cdn.plot.ly" in js
    (True, False)
    """
    return _CDN_URL.sub("./", plotly.offline.get_plotlyjs())


def _is_missing(value: Any) -> bool:
    try:
        missing = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return missing if isinstance(missing, bool | np.bool_) else False


def format_cell(value: Any, fmt: CellFormat | None = None) -> str:
    """The text of one table cell (before escaping).

    Examples
    --------
    >>> format_cell(1234567), format_cell(7.5), format_cell(None), format_cell(0.1234, "{:.1%}")
    ('1,234,567', '7.50', '', '12.3%')
    >>> format_cell(pd.Timestamp("2025-03-01")), format_cell(True)
    ('2025-03-01', 'True')
    """
    if _is_missing(value):
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if fmt is not None:
        return fmt(value) if callable(fmt) else fmt.format(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != datetime.min.time() \
            else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table_html(table: Table | pd.DataFrame) -> str:
    """An HTML ``<table>`` of a frame, or a 'no data' paragraph when it has no rows.

    Raises
    ------
    ReportError
        A column identifies a patient.

    Examples
    --------
    >>> print(table_html(pd.DataFrame({"reason": ["<b>x</b>"], "n": [3]})))
    <table>
    <thead><tr><th>reason</th><th>n</th></tr></thead>
    <tbody>
    <tr><td>&lt;b&gt;x&lt;/b&gt;</td><td class="num">3</td></tr>
    </tbody>
    </table>
    >>> table_html(pd.DataFrame({"n": []}))
    '<p class="no-data">无数据 / no data</p>'
    """
    t = table if isinstance(table, Table) else Table(table)
    refuse_patient_identifiers(t.frame.columns, where="an HTML table")
    if len(t.frame) == 0:
        above = f'<p class="caption">{html.escape(t.caption)}</p>\n' if t.caption else ""
        return f'{above}<p class="no-data">{html.escape(t.empty_message)}</p>'
    headers = [str(c) for c in t.frame.columns]
    formats = [t.formats.get(h) for h in headers]
    lines = ["<table>"]
    if t.caption:
        lines.append(f"<caption>{html.escape(t.caption)}</caption>")
    lines.append("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers)
                 + "</tr></thead>")
    lines.append("<tbody>")
    for values in t.frame.itertuples(index=False, name=None):
        cells = []
        for value, fmt in zip(values, formats, strict=True):
            v = value.item() if isinstance(value, np.generic) else value
            numeric = isinstance(v, int | float) and not isinstance(v, bool) \
                and not _is_missing(v)
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(format_cell(v, fmt))}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</tbody>")
    lines.append("</table>")
    return "\n".join(lines)


def figure_html(figure: Figure | go.Figure, div_id: str) -> str:
    """The ``<div>`` and script drawing one figure (plotly.js must be on the page already).

    Examples
    --------
    >>> fig = go.Figure(go.Bar(x=["H1"], y=[3]))
    >>> snippet = figure_html(fig, "figure-1")
    >>> 'id="figure-1"' in snippet, "<script src" in snippet
    (True, False)
    """
    f = figure if isinstance(figure, Figure) else Figure(figure)
    return f.figure.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False,
                            div_id=div_id, default_width="100%",
                            default_height=f"{int(f.height)}px",
                            config={"displaylogo": False, "responsive": True})


def page_html(title_zh: str, title_en: str, sections: Sequence[Section], *,
              facts: Mapping[str, str] | None = None, footer: str | None = None) -> str:
    """A complete HTML document: title, facts, sections; plotly.js inline if any figure.

    Parameters
    ----------
    title_zh, title_en
        The page title in Chinese and English.
    sections
        In display order.
    facts
        Label → value lines shown under the title (period covered, rows read, …).
    footer
        A line at the bottom of the page (plain text).

    Examples
    --------
    >>> page = page_html("质量", "Quality", [Section("图", "Chart",
    ...                  [Figure(go.Figure(go.Bar(x=["a"], y=[1])))])], facts={"rows": "1"})
    >>> page.count('<script type="text/javascript">/**'), "cdn.plot.ly" in page
    (1, False)
    >>> "<h1>质量 / Quality</h1>" in page, "<dt>rows</dt><dd>1</dd>" in page
    (True, True)
    """
    body: list[str] = [f"<h1>{html.escape(heading(title_zh, title_en))}</h1>"]
    if facts:
        body.append('<dl class="facts">')
        body.extend(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>"
                    for k, v in facts.items())
        body.append("</dl>")
    n_figures = 0
    for section in sections:
        body.append("<section>")
        body.append(f"<h2>{html.escape(heading(section.zh, section.en))}</h2>")
        if not section.blocks:
            body.append(f'<p class="no-data">{html.escape(NO_DATA)}</p>')
        for block in section.blocks:
            if isinstance(block, Figure | go.Figure):
                n_figures += 1
                body.append(figure_html(block, f"figure-{n_figures}"))
            elif isinstance(block, Table | pd.DataFrame):
                body.append(table_html(block))
            else:
                body.append(f"<p>{html.escape(str(block))}</p>")
        body.append("</section>")
    if footer:
        body.append(f"<footer>{html.escape(footer)}</footer>")
    head = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(heading(title_zh, title_en))}</title>",
        f"<style>\n{_STYLE}\n</style>",
    ]
    if n_figures:
        head.append("<script type=\"text/javascript\">"
                    "window.PlotlyConfig = {MathJaxConfig: 'local'};</script>")
        head.append(f'<script type="text/javascript">{plotly_js()}</script>')
    head.append("</head>")
    return "\n".join([*head, "<body>", "<main>", *body, "</main>", "</body>", "</html>"]) + "\n"


def write_page(path: str | os.PathLike[str], title_zh: str, title_en: str,
               sections: Sequence[Section], *, facts: Mapping[str, str] | None = None,
               footer: str | None = None) -> WrittenFile:
    """Write :func:`page_html` to ``path`` atomically (UTF-8).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     f = write_page(Path(tmp) / "p.html", "空", "Empty", [Section("表", "Table")])
    ...     text = f.path.read_text(encoding="utf-8")
    >>> "无数据 / no data" in text
    True
    """
    return write_atomic(path, page_html(title_zh, title_en, sections, facts=facts,
                                        footer=footer))
