"""The national-assessment report, on a hand-made result: 2 institutions, 2 dimensions, 3 items.

The result (``result()``):

- item 4 出院患者手术占比 (医疗质量, ▲, higher is better): H1 300 / 1000 = 30.0 (prior 25.0,
  change +5.0, score 80), H2 100 / 500 = 20.0 (score 60);
- item 9 低风险组病例死亡率 (医疗质量, lower is better, national reference 0.05): H1 0.1,
  H2 0.4 (scores 90 and 50);
- item 25 医疗盈余率 (运营效率): not computable at both (the finance statement was not reported).

Departments of item 4: H1 D01 120 / 400, H1 D02 3 / 8, H2 D10 100 / 500 (funnel limits given);
of item 9: H1 D01 1 / 400 (no funnel limits). With ``suppress_below=10`` only H1 D02 (8 < 10)
is blanked; with ``suppress_below=450`` H1 D01 of both items (400 < 450) and D02 are, D10 (500)
is not.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from hospital_sdk.assessments.result import (
    DEPARTMENT_COLUMNS,
    ITEM_COLUMNS,
    REPORTED_COLUMNS,
    SCORE_COLUMNS,
    TIER_COLUMNS,
    TREND_COLUMNS,
    AssessmentResult,
)
from hospital_sdk.errors import ReportError
from hospital_sdk.reports import verify_manifest
from hospital_sdk.reports.assessment_report import write_assessment_report
from hospital_sdk.reports.assessment_tables import (
    prepare_items,
    suppress_departments,
    trend_table,
)
from hospital_sdk.reports.pdf import PdfUnavailable, PdfWritten, pdf_engine_missing
from tests.reports.xlsx_cells import read_workbook, records

DIMS = {"quality": ("医疗质量", "Quality of care"), "efficiency": ("运营效率",
                                                                 "Operational efficiency")}
ITEMS = {  # item: (order, dimension, id, zh, en, direction, ▲, source, department)
    "4": (4, "quality", "surgery_share", "出院患者手术占比", "Surgical share of discharges",
          "higher_better", True, "病案首页", "医务处"),
    "9": (9, "quality", "low_risk_mortality", "低风险组病例死亡率", "Low-risk group mortality",
          "lower_better", False, "病案首页", "医务处"),
    "25": (25, "efficiency", "medical_surplus_rate", "医疗盈余率", "Medical surplus rate",
           "higher_better", True, "财务", "财务处"),
}
VALUES = {  # (item, institution): (numerator, denominator, value, prior, score, status, reason)
    ("4", "H1"): (300, 1000, 30.0, 25.0, 80.0, "ok", None),
    ("4", "H2"): (100, 500, 20.0, 22.0, 60.0, "ok", None),
    ("9", "H1"): (1, 1000, 0.1, 0.2, 90.0, "ok", None),
    ("9", "H2"): (2, 500, 0.4, 0.3, 50.0, "ok", None),
    ("25", "H1"): (None, None, None, None, None, "not_computable", "财务年报未填报"),
    ("25", "H2"): (None, None, None, None, None, "not_computable", "财务年报未填报"),
}


def result() -> AssessmentResult:
    rows = []
    for (item, inst), (num, den, value, prior, score, status, reason) in VALUES.items():
        order, dim, ind, zh, en, direction, nm, source, dept = ITEMS[item]
        rows.append({c: None for c in (*ITEM_COLUMNS, *SCORE_COLUMNS)} | {
            "assessment": "tertiary", "edition": "2024", "item": item, "order": order,
            "dimension": dim, "dimension_zh": DIMS[dim][0], "dimension_en": DIMS[dim][1],
            "sub_dimension": "s", "sub_dimension_zh": "功能定位", "sub_dimension_en": "Role",
            "indicator_id": ind, "version": 1, "name_zh": zh, "name_en": en,
            "kind": "proportion", "unit": "%", "direction": direction,
            "national_monitoring": nm, "weight": 1.0, "institution": inst, "period": "2025",
            "numerator": num, "denominator": den, "value": value, "status": status,
            "reason": reason, "prior_period": "2024", "prior_value": prior,
            "change": None if value is None else value - prior,
            "national_reference": 0.05 if item == "9" else None, "data_source": source,
            "responsible_department": dept, "notes": "假设：按出院日期归属年度" if item == "4"
            else None, "score": score})
    items = pd.DataFrame(rows)[[*ITEM_COLUMNS, *SCORE_COLUMNS]]
    dept_rows = [("4", "H1", "D01", "心血管内科", "Cardiology", 120, 400, 30.0, 20.0, 40.0),
                 ("4", "H1", "D02", "普外科", "General surgery", 3, 8, 37.5, 5.0, 60.0),
                 ("4", "H2", "D10", "骨科", "Orthopaedics", 100, 500, 20.0, 21.0, 39.0),
                 ("9", "H1", "D01", "心血管内科", "Cardiology", 1, 400, 0.25, None, None)]
    departments = pd.DataFrame([{c: None for c in DEPARTMENT_COLUMNS} | {
        "item": i, "indicator_id": ITEMS[i][2], "version": 1, "institution": h,
        "department": d, "department_name_zh": zh, "department_name_en": en, "numerator": n,
        "denominator": m, "value": v, "status": "ok", "funnel_low": lo, "funnel_high": hi,
        "funnel_flag": None if lo is None else "within"}
        for i, h, d, zh, en, n, m, v, lo, hi in dept_rows])[list(DEPARTMENT_COLUMNS)]
    trend = pd.DataFrame([("4", "surgery_share", 1, h, p, None, None, v, "ok")
                          for h, p, v in [("H1", "2025-01", 28.0), ("H1", "2025-02", 32.0),
                                          ("H2", "2025-01", 19.0), ("H2", "2025-02", 21.0)]],
                         columns=list(TREND_COLUMNS))
    tiers = pd.DataFrame([("H1", 170.0, 2, 100.0, "A", "等权重"), ("H2", 110.0, 2, 50.0, "B",
                                                                 None)],
                         columns=list(TIER_COLUMNS))
    reported = pd.DataFrame([("25", "medical_surplus_rate", 1, "H1", "2025", None, "%",
                              "finance_2025.xlsx", "2026-01-15", "missing", "未提交")],
                            columns=list(REPORTED_COLUMNS))
    quality = pd.DataFrame({"check_id": ["stay.pk.unique", "stay.age.range"],
                            "status": ["passed", "failed"], "violating_rows": [0, 3],
                            "protects": [("surgery_share",), ("low_risk_mortality", "x")]})
    return AssessmentResult("tertiary", "2024", "国家三级公立医院绩效考核", "Tertiary public "
                            "hospital assessment", "2025", items, departments, trend, tiers,
                            reported, quality, assumptions=("权重相等：官方权重未公布",))


def no_pdf() -> str:
    return "the PDF engine reportlab is not installed in this Python environment"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.figures: list[str] = []
        self.cells: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ids = dict(attrs).get("id") or ""
        if tag == "div" and ids.startswith("figure-"):
            self.figures.append(ids)
        self._in = tag if tag in ("h2", "td", "th") else None

    def handle_data(self, data: str) -> None:
        if self._in == "h2":
            self.h2.append(data)
        elif self._in in ("td", "th"):
            self.cells.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_workbook_zh_has_a_sheet_per_dimension_with_chinese_headers(tmp_path: Path) -> None:
    paths = write_assessment_report(result(), tmp_path, pdf=False)
    assert [p.name for p in paths] == ["assessment_tertiary_2024_2025.xlsx",
                                       "assessment_tertiary_2024_2025.html",
                                       "assessment_tertiary_2024_2025_manifest.json"]
    book = read_workbook(paths[0])
    assert list(book) == ["汇总", "医疗质量", "运营效率", "科室明细", "月度趋势", "上报数据",
                          "数据质量", "说明"]
    assert book["医疗质量"][0] == [
        "序号", "指标", "机构", "二级维度", "指标值", "单位", "分子", "分母", "上年值", "变化",
        "指标导向", "全国参考值", "得分", "▲", "数据来源", "责任部门", "状态/原因", "备注/假设"]
    quality = records(book["医疗质量"])
    assert [(r["序号"], r["机构"]) for r in quality] == [("4", "H1"), ("4", "H2"), ("9", "H1"),
                                                          ("9", "H2")]
    h1 = quality[0]
    assert (h1["指标"], h1["指标值"], h1["分子"], h1["分母"], h1["上年值"], h1["变化"]) == (
        "出院患者手术占比", 30.0, 300.0, 1000.0, 25.0, 5.0)
    assert (h1["指标导向"], h1["▲"], h1["得分"], h1["数据来源"], h1["状态/原因"]) == (
        "逐步提高", "▲", 80.0, "病案首页", "已计算")
    assert h1["备注/假设"] == "假设：按出院日期归属年度"
    assert quality[2]["全国参考值"] == 0.05 and quality[2]["▲"] is None
    (surplus, _) = records(book["运营效率"])
    assert surplus["指标值"] is None and surplus["状态/原因"] == "无法计算：财务年报未填报"
    summary = records(book["汇总"])
    assert list(summary[0]) == ["机构", "总分", "计分指标数", "百分位", "等级（估计）", "假设"]
    assert (summary[0]["等级（估计）"], summary[1]["假设"]) == ("A", "无")
    assert records(book["上报数据"])[0]["来源文件"] == "finance_2025.xlsx"
    assert records(book["数据质量"])[1]["protects"] == "low_risk_mortality, x"
    notes = {r["项目"]: r["内容"] for r in records(book["说明"])}
    assert notes["假设 1"] == "权重相等：官方权重未公布" and "估计值" in notes["等级"]
    assert len(records(book["月度趋势"])) == 4


def test_workbook_en_has_english_sheets_and_headers(tmp_path: Path) -> None:
    paths = write_assessment_report(result(), tmp_path, lang="en", pdf=False)
    assert paths[0].name == "assessment_tertiary_2024_2025_en.xlsx"
    book = read_workbook(paths[0])
    assert list(book) == ["Summary", "Quality of care", "Operational efficiency", "Departments",
                          "Monthly trend", "Reported inputs", "Data quality", "Notes"]
    row = records(book["Quality of care"])[0]
    assert (row["indicator"], row["prior year"], row["direction"], row["data source"]) == (
        "Surgical share of discharges", 25.0, "higher is better", "medical-record front page")
    (surplus, _) = records(book["Operational efficiency"])
    assert surplus["status / reason"] == "not computable：财务年报未填报"
    assert "tier (estimate)" in book["Summary"][0]
    page = _parse(paths[1])
    assert "Surgical share of discharges" in page.cells and "lower is better" in page.cells
    assert "not computable：财务年报未填报" in page.cells


def test_html_has_the_charts_sections_and_chinese_labels(tmp_path: Path) -> None:
    paths = write_assessment_report(result(), tmp_path, pdf=False)
    text = paths[1].read_text(encoding="utf-8")
    page = _parse(paths[1])
    assert page.h2[:6] == [
        "等级估计（估计值，非官方结果） / Tier estimate (an estimate, not the official grade)",
        "维度概览 / Dimension overview", "指标趋势 / Trend per indicator",
        "科室分布 / Department breakdown", "漏斗图 / Funnel plot", "同级比较 / Peer comparison"]
    assert "维度：医疗质量 / Dimension: Quality of care" in page.h2
    assert "维度：运营效率 / Dimension: Operational efficiency" in page.h2
    # overview, trend, departments, funnel, peer: plotly.js inline once, no CDN
    assert page.figures == [f"figure-{i}" for i in range(1, 6)]
    assert text.count('<script type="text/javascript">/**') == 1 and "cdn.plot.ly" not in text
    assert "出院患者手术占比" in page.cells and "逐步降低" in page.cells
    assert "无法计算：财务年报未填报" in page.cells
    in_chart = json.dumps("4 出院患者手术占比")  # the charts' indicator menu (JSON-escaped)
    assert in_chart[1:-1] in text and json.dumps("漏斗图下限")[1:-1] in text
    assert "等级为估计值，并非官方评定结果；所依据的假设：" in text
    for forbidden in ("patient_local_id", "empi_id", "medical_record_number", "id_number"):
        assert forbidden not in text


def test_suppression_blanks_small_departments_in_every_file(tmp_path: Path) -> None:
    paths = write_assessment_report(result(), tmp_path, suppress_below=10, pdf=False)
    rows = records(read_workbook(paths[0])["科室明细"])
    by_key = {(r["序号"], r["科室编码"]): r for r in rows}
    small = by_key[("4", "D02")]  # 3 / 8: denominator 8 < 10
    assert (small["分子"], small["分母"], small["指标值"], small["漏斗图上限"]) == (
        None, None, None, None)
    assert small["状态/原因"] == "小样本隐藏" and small["科室"] == "普外科"
    kept = by_key[("4", "D01")]  # 120 / 400 stays
    assert (kept["分子"], kept["分母"], kept["指标值"], kept["漏斗图判定"]) == (
        120.0, 400.0, 30.0, "在控制限内")
    text = paths[1].read_text(encoding="utf-8")
    body = text.split("</head>", 1)[1]  # the head holds plotly.js, which has its own numbers
    assert "37.5" not in body  # D02's value appears in no table and no chart
    assert "分母小于 10 的科室数据已隐藏（1 行）" in text
    manifest = json.loads(paths[-1].read_text(encoding="utf-8"))
    assert manifest["facts"]["departments_suppressed"] == 1
    assert manifest["facts"]["suppress_below"] == 10


def test_suppression_by_hand() -> None:
    d = suppress_departments(result().departments, 450)
    assert d["suppressed"].tolist() == [True, True, False, True]  # 400, 8, 500, 400
    assert d.loc[2, ["numerator", "denominator", "value"]].tolist() == [100.0, 500.0, 20.0]
    assert d.loc[0, ["numerator", "denominator", "value", "funnel_low"]].isna().all()
    assert d.loc[0, "funnel_flag"] is None
    given = result().departments.assign(suppressed=[None, None, True, None])
    assert suppress_departments(given, None)["suppressed"].tolist() == [False, False, True,
                                                                       False]
    assert suppress_departments(result().departments, None)["suppressed"].sum() == 0


def test_rows_scoring_suppressed_are_hidden_without_a_threshold(tmp_path: Path) -> None:
    r = result()
    marked = AssessmentResult(r.assessment, r.edition, r.name_zh, r.name_en, r.period, r.items,
                              r.departments.assign(suppressed=[False, False, True, False]),
                              r.trend, r.tiers, r.reported)
    paths = write_assessment_report(marked, tmp_path, pdf=False)
    d10 = [row for row in records(read_workbook(paths[0])["科室明细"]) if row["科室编码"] == "D10"]
    assert [(row["分子"], row["分母"], row["状态/原因"]) for row in d10] == [
        (None, None, "小样本隐藏")]
    assert "小样本科室数据已隐藏（1 行）" in paths[1].read_text(encoding="utf-8")


def test_manifest_lists_files_with_checksums(tmp_path: Path) -> None:
    paths = write_assessment_report(result(), tmp_path, pdf=False)
    assert verify_manifest(paths[-1]) == []
    doc = json.loads(paths[-1].read_text(encoding="utf-8"))
    assert [f["name"] for f in doc["files"]] == [p.name for p in paths[:-1]]
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in doc["files"])
    assert doc["facts"]["pdf"] == "not requested" and paths.pdf is None
    again = write_assessment_report(result(), tmp_path, pdf=False)
    assert paths[-1].read_bytes() == again[-1].read_bytes()  # same input, same files


def test_a_patient_identifier_stops_the_report(tmp_path: Path) -> None:
    r = result()
    leaky = AssessmentResult(r.assessment, r.edition, r.name_zh, r.name_en, r.period, r.items,
                             r.departments.assign(empi_id="E1"), r.trend, r.tiers, r.reported)
    with pytest.raises(ReportError, match="empi_id"):
        write_assessment_report(leaky, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs", [{"lang": "fr"}, {"suppress_below": 0},
                                    {"suppress_below": True}, {"suppress_below": 2.5}])
def test_bad_options_are_refused(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ReportError):
        write_assessment_report(result(), tmp_path, **kwargs)


def test_missing_pdf_engine_is_reported_not_raised(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "assessment_tertiary_2024_2025.pdf").write_bytes(b"%PDF stale")
    monkeypatch.setattr("hospital_sdk.reports.pdf.pdf_engine_missing", no_pdf)
    paths = write_assessment_report(result(), tmp_path)
    assert isinstance(paths.pdf, PdfUnavailable)
    assert paths.pdf.message.startswith("PDF not written: the PDF engine reportlab is not "
                                        "installed")
    assert "reportlab==5.1.0" in paths.pdf.message
    assert [p.suffix for p in paths] == [".xlsx", ".html", ".json"]
    assert not (tmp_path / "assessment_tertiary_2024_2025.pdf").exists()  # no stale PDF
    manifest = json.loads(paths[-1].read_text(encoding="utf-8"))
    assert manifest["facts"]["pdf"] == paths.pdf.message


def test_a_failing_pdf_engine_is_reported_not_raised(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("font table damaged")

    monkeypatch.setattr("hospital_sdk.reports.pdf.pdf_engine_missing", lambda: None)
    monkeypatch.setattr("hospital_sdk.reports.pdf.pdf_bytes", broken)
    paths = write_assessment_report(result(), tmp_path)
    assert isinstance(paths.pdf, PdfUnavailable) and len(paths) == 3
    assert "RuntimeError: font table damaged" in paths.pdf.message


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pdf_is_written_when_the_engine_is_there(tmp_path: Path, lang: str) -> None:
    paths = write_assessment_report(result(), tmp_path, lang=lang, suppress_below=10)
    if pdf_engine_missing() is not None:  # this environment has no PDF engine: say so
        assert isinstance(paths.pdf, PdfUnavailable)
        assert paths.pdf.message.startswith("PDF not written: ")
        assert "install" in paths.pdf.message
        return
    assert isinstance(paths.pdf, PdfWritten)
    pdf_path = paths[2]
    assert pdf_path.suffix == ".pdf" and pdf_path.read_bytes().startswith(b"%PDF-")
    assert verify_manifest(paths[-1]) == []
    try:
        from pypdf import PdfReader
    except ImportError:
        data = pdf_path.read_bytes()
        assert b"STSong-Light" in data and b"UniGB-UCS2-H" in data
        return
    reader = PdfReader(pdf_path)
    assert len(reader.pages) == paths.pdf.pages >= 2
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))
    assert "国家三级公立医院绩效考核" in reader.pages[0].extract_text()
    assert "等级估计" in text and "财务年报未填报" in text and "37.5" not in text
    assert ("出院患者手术占比" if lang == "zh" else "Surgicalshareofdischarges") in text
    assert "empi" not in text.lower()
    if paths.pdf.charts.startswith("tables only"):  # no image engine here: the PDF says so
        assert "图表见HTML报告" in text


def test_components_follow_their_item_in_number_order() -> None:
    # 10.10 sorts after 10.9, an item before its components; the trend keeps the result's order
    items = pd.DataFrame({"item": ["10.10", "10", "10.9", "2"], "order": [10, 10, 10, 2],
                          "institution": ["H1"] * 4})
    result = AssessmentResult("t", "2024", "t", "t", "2025", items=items.assign(
        **{c: None for c in ITEM_COLUMNS if c not in items}))
    assert prepare_items(result)["item"].tolist() == ["2", "10", "10.9", "10.10"]
    trend = pd.DataFrame({"item": ["2", "11", "2"], "institution": ["H1"] * 3,
                          "period": ["2025-02", "2025-01", "2025-01"], "numerator": 1.0,
                          "denominator": 1.0, "value": 1.0, "status": "ok"})
    assert trend_table(trend, {}, "en").iloc[:, 0].tolist() == ["2", "2", "11"]
