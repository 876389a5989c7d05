"""HTML pages: bilingual headings, escaped tables, inline plotly.js, fixed figure ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from hospital_sdk.errors import ReportError
from hospital_sdk.reports.html import (
    NO_DATA,
    Figure,
    Section,
    Table,
    page_html,
    plotly_js,
    table_html,
    write_page,
)


def _bar(n: int) -> go.Figure:
    return go.Figure(go.Bar(x=["H1", "H2"], y=[n, n + 1]))


def test_plotly_js_is_inline_once_and_has_no_cdn_address() -> None:
    page = page_html("标题", "Title", [
        Section("一", "One", [Figure(_bar(1))]),
        Section("二", "Two", [_bar(2), "说明 <text>"]),
    ])
    assert page.count(plotly_js()) == 1
    assert "cdn.plot.ly" not in page and "<script src" not in page
    assert 'id="figure-1"' in page and 'id="figure-2"' in page
    assert "<h2>一 / One</h2>" in page and "<h2>二 / Two</h2>" in page
    assert "<p>说明 &lt;text&gt;</p>" in page
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page


def test_same_sections_give_the_same_page() -> None:
    def build() -> str:
        return page_html("t", "T", [Section("图", "Chart", [_bar(3)])], facts={"a": "1"})
    assert build() == build()


def test_page_without_figures_carries_no_plotly() -> None:
    page = page_html("t", "T", [Section("表", "Table", [pd.DataFrame({"n": [1]})])])
    assert "Plotly" not in page and len(page) < 10_000


def test_tables_escape_format_and_mark_numbers() -> None:
    frame = pd.DataFrame({"reason": ["a < b & c"], "rate": [0.0125],
                          "n": pd.array([None], dtype="Int64"),
                          "month": [pd.Timestamp("2025-02-01")]})
    formats = {"rate": "{:.2%}", "month": lambda m: m.strftime("%Y-%m")}
    html = table_html(Table(frame, formats=formats, caption="说明"))
    assert "<caption>说明</caption>" in html
    assert "<td>a &lt; b &amp; c</td>" in html
    assert '<td class="num">1.25%</td>' in html
    assert "<td></td>" in html  # pd.NA is an empty cell
    assert "<td>2025-02</td>" in html


def test_empty_table_and_empty_section_say_no_data() -> None:
    empty = Table(pd.DataFrame({"n": []}), caption="c")
    page = page_html("t", "T", [Section("空", "Empty"), Section("表", "Table", [empty])])
    assert page.count(NO_DATA) == 2
    assert '<p class="caption">c</p>' in page


def test_identifier_columns_never_reach_a_page() -> None:
    with pytest.raises(ReportError, match="patient_local_id"):
        page_html("t", "T", [Section("表", "Table", [pd.DataFrame({"patient_local_id": ["P1"]})])])


def test_write_page_is_utf8(tmp_path: Path) -> None:
    f = write_page(tmp_path / "p.html", "质量", "Quality", [Section("汇总", "Summary", ["好"])],
                   footer="页脚 footer")
    text = f.path.read_text(encoding="utf-8")
    assert "<title>质量 / Quality</title>" in text and "<footer>页脚 footer</footer>" in text
