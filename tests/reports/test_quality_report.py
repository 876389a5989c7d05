"""The data-quality scorecard, on six hand-made check results.

Expected figures, worked out by hand from ``RESULTS``:

- raw × conformance: checks 1, 2, 4 → 2 failed, 1 error; blocking failures 2 (check 1 failed,
  check 4 error; check 2 is a warning); violating rows 2 + 5 = 7 (the error has none);
  quarantined 2 + 3 = 5; leaked 0 + 5 = 5.
- raw × completeness: check 3 → 1 passed, 0 violating rows.
- cleaned × plausibility: checks 5, 6 → 1 failed, 1 not applicable; violating 1, leaked 1.
- all: 6 checks, 1 passed, 3 failed, 1 error, 1 not applicable, 3 blocking failures.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.errors import ReportError
from hospital_sdk.reports import verify_manifest, write_quality_report
from hospital_sdk.reports.quality_report import (
    QUALITY_COLUMNS,
    WHOLE_TABLE,
    failed_heatmap,
    prepare_quality_results,
    quality_issues,
    quality_summary,
)
from tests.reports.xlsx_cells import read_workbook, records

NA = pd.NA
RESULTS = pd.DataFrame(
    [
        ("raw", "raw/inpatient_stay", "stay.pk.unique", "unique_key", "inpatient_stay", "2025-01",
         "failed", 2, 100, 0.02, 0.0, "blocking", "conformance", "los_mean, mortality", None, 2, 0),
        ("raw", "raw/inpatient_stay", "stay.icd.pattern", "matches_pattern", "inpatient_stay",
         "2025-02", "failed", 5, 50, 0.1, 0.05, "warning", "conformance", "", None, 3, 5),
        ("raw", "raw/inpatient_stay", "stay.discharge.not_null", "not_null", "inpatient_stay",
         "2025-01", "passed", 0, 100, 0.0, 0.0, "blocking", "completeness", "", None, 0, 0),
        ("raw", "raw/outpatient_visit", "visit.payer.valid", "in_code_set", "outpatient_visit",
         None, "error", NA, NA, np.nan, 0.0, "blocking", "conformance", "",
         "BinderException: column payer_code not found", NA, NA),
        ("cleaned", "cleaned/patient_index", "pmi.los.range", "in_range", "patient_index", None,
         "not_applicable", NA, NA, np.nan, 0.01, "warning", "plausibility", None,
         "table 'patient_index' has no column 'los_days'", NA, NA),
        ("cleaned", "cleaned/inpatient_stay", "stay.age.range", "in_range", "inpatient_stay",
         "2025-01", "failed", 1, 80, 0.0125, 0.01, "blocking", "plausibility", ("los_mean",),
         None, 0, 1),
    ],
    columns=list(QUALITY_COLUMNS),
)


def test_summary_counts_by_layer_and_kahn_category() -> None:
    s = quality_summary(RESULTS)
    assert s[["layer", "kahn_category"]].values.tolist() == [
        ["raw", "conformance"], ["raw", "completeness"], ["cleaned", "plausibility"],
        ["all", "all"]]
    raw_conf = s.iloc[0]
    assert [int(raw_conf[c]) for c in ("checks", "passed", "failed", "error", "not_applicable",
                                       "blocking_failures", "violating_rows",
                                       "quarantined_rows", "leaked_rows")] == [3, 0, 2, 1, 0, 2,
                                                                                7, 5, 5]
    total = s.iloc[-1]
    assert [int(total[c]) for c in ("checks", "passed", "failed", "error", "not_applicable",
                                    "blocking_failures", "violating_rows")] == [6, 1, 3, 1, 1, 3, 8]


def test_issues_put_blocking_failures_first_and_keep_reasons() -> None:
    issues = quality_issues(RESULTS)
    assert issues.check_id.tolist() == ["stay.pk.unique", "stay.age.range", "visit.payer.valid",
                                        "stay.icd.pattern"]
    assert issues.status.tolist() == ["failed", "failed", "error", "failed"]
    assert issues.reason[2] == "BinderException: column payer_code not found"
    assert issues.protects[1] == "los_mean"  # a tuple from run_checks becomes text
    assert issues.protects[0] == "los_mean, mortality"


def test_protects_read_back_from_parquet_as_arrays_becomes_text() -> None:
    arrays = RESULTS.assign(protects=[np.array(["a", "b"]), np.array([]), None, None, None,
                                      np.array(["c"])])
    prepared = prepare_quality_results(arrays).set_index("check_id").protects
    assert prepared["stay.pk.unique"] == "a, b" and prepared["stay.age.range"] == "c"
    assert prepared["stay.icd.pattern"] == "" and prepared["visit.payer.valid"] == ""


def test_groups_without_any_count_show_a_blank_not_zero() -> None:
    s = quality_summary(RESULTS[RESULTS.status.isin(["error", "not_applicable"])])
    assert s.violating_rows.isna().all() and s.leaked_rows.isna().all()
    assert s.checks.tolist() == [1, 1, 2]


def test_heatmap_counts_failed_checks_by_table_and_partition() -> None:
    fig = failed_heatmap(RESULTS)
    heat = fig.data[0]
    assert list(heat.y) == ["inpatient_stay", "outpatient_visit", "patient_index"]
    assert list(heat.x) == [WHOLE_TABLE, "2025-01", "2025-02"]
    # the error (outpatient_visit) and not-applicable checks are not failures
    assert [list(r) for r in heat.z] == [[0, 2, 1], [0, 0, 0], [0, 0, 0]]
    assert "stay.pk.unique" in heat.customdata[0][1] and "stay.age.range" in heat.customdata[0][1]
    assert failed_heatmap(RESULTS[RESULTS.status != "failed"]) is None


def test_workbook_sheets_headers_and_cells(tmp_path: Path) -> None:
    paths = write_quality_report(RESULTS, tmp_path)
    assert [p.name for p in paths] == ["quality_scorecard.xlsx", "quality_scorecard.html",
                                       "quality_scorecard_manifest.json"]
    book = read_workbook(paths[0])
    assert list(book) == ["summary", "failed_or_error", "all_results", "README"]
    assert book["summary"][0] == ["layer", "kahn_category", "checks", "passed", "failed", "error",
                                  "not_applicable", "blocking_failures", "violating_rows",
                                  "quarantined_rows", "leaked_rows"]
    summary = records(book["summary"])
    assert summary[0] == {"layer": "raw", "kahn_category": "conformance", "checks": 3.0,
                          "passed": 0.0, "failed": 2.0, "error": 1.0, "not_applicable": 0.0,
                          "blocking_failures": 2.0, "violating_rows": 7.0,
                          "quarantined_rows": 5.0, "leaked_rows": 5.0}
    # cleaned × plausibility: the not-applicable check has no counts, the failed one 1 and 0
    assert summary[2]["violating_rows"] == 1.0 and summary[2]["quarantined_rows"] == 0.0
    issues = records(book["failed_or_error"])
    assert book["failed_or_error"][0][:3] == ["status", "severity", "layer"]
    assert [r["check_id"] for r in issues][:3] == ["stay.pk.unique", "stay.age.range",
                                                   "visit.payer.valid"]
    assert issues[2]["reason"] == "BinderException: column payer_code not found"
    assert issues[2]["violating_rows"] is None and issues[2]["partition"] is None
    all_rows = records(book["all_results"])
    assert book["all_results"][0] == list(QUALITY_COLUMNS)
    assert len(all_rows) == 6 and all_rows[0]["rate"] == 0.0 and all_rows[1]["rate"] == 0.02
    readme = {r["term"]: r for r in records(book["README"])}
    assert "not a failure" in readme["error"]["English"]
    assert "reason says why" in readme["not_applicable"]["English"]
    assert "load gate" in readme["quarantined_rows"]["English"]
    assert "reached the lake" in readme["leaked_rows"]["English"]
    assert readme["input_rows"]["English"] == "6"


def test_html_has_bilingual_headings_and_no_cdn(tmp_path: Path) -> None:
    html = write_quality_report(RESULTS, tmp_path)[1].read_text(encoding="utf-8")
    for heading in ("数据质量记分卡 / Data-quality scorecard",
                    "汇总：层 × Kahn 类别 / Summary by layer × Kahn category",
                    "失败检查热图：表 × 分区 / Failed checks by table × partition",
                    "失败与出错的检查 / Failed and error checks"):
        assert heading in html
    assert "cdn.plot.ly" not in html and 'id="figure-1"' in html and "Plotly.newPlot" in html
    assert "BinderException: column payer_code not found" in html
    assert "<dt>失败 / failed</dt><dd>3</dd>" in html and "<dt>出错 / error</dt><dd>1</dd>" in html


def test_same_input_gives_identical_files_whatever_the_row_order(tmp_path: Path) -> None:
    first = write_quality_report(RESULTS, tmp_path / "a")
    shuffled = RESULTS.sample(frac=1.0, random_state=7).reset_index(drop=True)
    second = write_quality_report(shuffled, tmp_path / "b")
    assert read_workbook(first[0]) == read_workbook(second[0])
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert verify_manifest(first[2]) == []


def test_generated_at_is_shown_only_when_passed(tmp_path: Path) -> None:
    paths = write_quality_report(RESULTS, tmp_path, generated_at=datetime(2025, 7, 1, 6, 0))
    assert "2025-07-01 06:00:00" in paths[1].read_text(encoding="utf-8")
    readme = {r["term"]: r for r in records(read_workbook(paths[0])["README"])}
    assert readme["generated_at"]["English"] == "2025-07-01 06:00:00"
    manifest = json.loads(paths[2].read_text(encoding="utf-8"))
    assert manifest["facts"]["generated_at"] == "2025-07-01T06:00:00"
    assert manifest["facts"]["statuses"] == {"passed": 1, "failed": 3, "error": 1,
                                             "not_applicable": 1}


def test_empty_results_give_a_report_that_says_no_data(tmp_path: Path) -> None:
    paths = write_quality_report(pd.DataFrame(columns=list(QUALITY_COLUMNS)), tmp_path)
    book = read_workbook(paths[0])
    assert book["summary"][1][0] == "no data / 无数据"
    assert book["failed_or_error"][1][0] == "no failed or error checks / 无失败或出错的检查"
    html = paths[1].read_text(encoding="utf-8")
    assert "无数据 / no data" in html and "Plotly" not in html


def test_results_without_failures_say_so_instead_of_a_heatmap(tmp_path: Path) -> None:
    passed = RESULTS[RESULTS.status == "passed"]
    html = write_quality_report(passed, tmp_path)[1].read_text(encoding="utf-8")
    assert "没有失败的检查 / no failed checks" in html and "Plotly" not in html


def test_patient_identifier_column_is_refused_and_nothing_written(tmp_path: Path) -> None:
    leaky = RESULTS.assign(patient_local_id="P1")
    with pytest.raises(ReportError, match=r"quality results has patient identifier column\(s\) "
                                          r"\['patient_local_id'\]"):
        write_quality_report(leaky, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("change", "message"), [
    ({"status": "fail"}, r"'fail' ×6 \(did you mean 'failed'\?\)"),
    ({"severity": None}, "column 'severity' has value.*null ×6"),
    ({"kahn_category": "validity"}, "column 'kahn_category'"),
    ({"partition": "2025-13"}, r"partition\(s\) \['2025-13'\] are not 'YYYY-MM'"),
    ({"violating_rows": 1.5}, "'violating_rows' must hold whole numbers"),
    ({"table_name": None}, "'table_name' is null in 6 row"),
])
def test_bad_values_are_named(change: dict, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        prepare_quality_results(RESULTS.assign(**change))


def test_missing_column_and_duplicate_results_are_refused() -> None:
    with pytest.raises(ReportError, match=r"lack column\(s\) \['table_name'\] \(did you mean "
                                          r"'table'\?\)"):
        prepare_quality_results(RESULTS.rename(columns={"table_name": "table"}))
    with pytest.raises(ReportError, match="one result per partition"):
        prepare_quality_results(pd.concat([RESULTS, RESULTS.iloc[[0]]]))


def test_results_read_back_from_parquet_give_the_same_report(tmp_path: Path) -> None:
    direct = RESULTS.assign(protects=[", ".join(p) if isinstance(p, tuple) else p
                                      for p in RESULTS.protects])
    direct.to_parquet(tmp_path / "results.parquet")
    read_back = pd.read_parquet(tmp_path / "results.parquet")
    a = write_quality_report(direct, tmp_path / "a")
    b = write_quality_report(read_back, tmp_path / "b")
    assert a[0].read_bytes() == b[0].read_bytes() and a[1].read_bytes() == b[1].read_bytes()
