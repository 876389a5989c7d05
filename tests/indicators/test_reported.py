"""Reported indicators: rules and their messages, the template round trip (storing: see
test_submissions.py).

Expected values are counted by hand from the inputs written in each test.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from hospital_sdk.errors import ReconciliationError, ReportedValueError, SpecError
from hospital_sdk.indicators.reported import (
    TEMPLATE_COLUMNS,
    ReportedIndicator,
    ReportedRule,
    entered_period,
    write_template,
)
from hospital_sdk.indicators.reported_xlsx import read_rows
from hospital_sdk.indicators.submissions import (
    ReportedLoad,
    read_entries,
)
from tests.reports.xlsx_cells import read_workbook, records

PERCENT = ReportedRule("percent", "%", minimum=0, maximum=100)
INTEGER = ReportedRule("integer", "items", minimum=0)
LEVEL = ReportedRule("level", "level", minimum=0, maximum=8)
NUMBER = ReportedRule("number", "yuan", minimum=0, period="month")
SCORE = ReportedRule("number", "score", minimum=0, maximum=100, period="quarter")
GRADE = ReportedRule("grade", "", allowed=("A", "B", "C", "D"))
BOOLEAN = ReportedRule("boolean", "")
TEXT = ReportedRule("text", "")


def ind(id_: str, rule: ReportedRule, version: str = "1") -> ReportedIndicator:
    return ReportedIndicator(id_, version, f"{id_} 中文名", f"{id_} English", rule)


EMR = ind("emr_level", LEVEL)
SATISFACTION = ind("satisfaction", SCORE)
REVENUE = ind("revenue", NUMBER)
EQUIPMENT = ind("equipment_qc", GRADE)
MDT = ind("has_mdt", BOOLEAN)
SHARE = ind("service_income_share", PERCENT)
EQA = ind("eqa_items", INTEGER)
REMARK = ind("remark", TEXT)
ALL = {i.id: i for i in (EMR, SATISFACTION, REVENUE, EQUIPMENT, MDT, SHARE, EQA, REMARK)}


# --- the rule: every value type, every message --------------------------------------------------

@pytest.mark.parametrize(("rule", "raw", "expected"), [
    (PERCENT, "12.5%", (12.5, None)),
    (PERCENT, 12.5, (12.5, None)),
    (PERCENT, "１２.５％", (12.5, None)),  # full-width digits and percent sign
    (PERCENT, " 100 ", (100.0, None)),
    (PERCENT, 120, (None, "value 120 is above the maximum 100 (%)")),
    (PERCENT, "-0.5%", (None, "value -0.5 is below the minimum 0 (%)")),
    (PERCENT, "abc", (None, "value 'abc' is not a percent (write 12.5 or 12.5%)")),
    (PERCENT, "", (None, "value is empty")),
    (PERCENT, "   ", (None, "value is empty")),
    (PERCENT, None, (None, "value is empty")),
    (PERCENT, float("nan"), (None, "value is empty")),
    (INTEGER, 3, (3, None)),
    (INTEGER, "3.0", (3, None)),
    (INTEGER, "1,234", (1234, None)),
    (INTEGER, 3.2, (None, "value 3.2 is not a whole number")),
    (INTEGER, "1,23", (None, "value '1,23' is not a number")),
    (INTEGER, "1_000", (None, "value '1_000' is not a number")),
    (INTEGER, True, (None, "value True is not a number")),
    (INTEGER, "inf", (None, "value 'inf' is not a number")),
    (INTEGER, "1e999", (None, "value '1e999' is not a finite number")),
    (INTEGER, -1, (None, "value -1 is below the minimum 0 (items)")),
    (LEVEL, "5级", (5, None)),
    (LEVEL, 8.0, (8, None)),
    (LEVEL, 9, (None, "value 9 is above the maximum 8 (level)")),
    (LEVEL, "5.5", (None, "value 5.5 is not a whole number")),
    (LEVEL, "六级", (None, "value '六级' is not a number")),
    (NUMBER, 1e6, (1000000.0, None)),
    (NUMBER, "1,234,567.5", (1234567.5, None)),
    (NUMBER, "12.5%", (None, "value '12.5%' is not a number")),
    (GRADE, " b ", ("B", None)),
    (GRADE, "Ａ", ("A", None)),  # full-width A
    (GRADE, "E", (None, "value 'E' is not one of A, B, C, D")),
    (BOOLEAN, "是", (True, None)),
    (BOOLEAN, "否", (False, None)),
    (BOOLEAN, "TRUE", (True, None)),
    (BOOLEAN, "n", (False, None)),
    (BOOLEAN, 0.0, (False, None)),
    (BOOLEAN, 1, (True, None)),
    (BOOLEAN, False, (False, None)),
    (BOOLEAN, "maybe", (None, "value 'maybe' is not yes or no (是/否, true/false, 1/0)")),
    (TEXT, "  按时完成，无异常 ", ("按时完成，无异常", None)),  # the full-width comma is kept
    (TEXT, 42.0, ("42", None)),
])
def test_validate(rule: ReportedRule, raw: object, expected: tuple) -> None:
    assert rule.validate(raw) == expected


def test_boolean_with_its_own_words() -> None:
    rule = ReportedRule("boolean", "", allowed=("有", "无"))
    assert [rule.validate(v) for v in ("有", "无", "yes")] == [(True, None), (False, None),
                                                            (True, None)]
    assert rule.validate("是的") == (None, "value '是的' is not yes or no (有/无, true/false, 1/0)")


def test_from_mapping_builds_the_rule() -> None:
    rule = ReportedRule.from_mapping({"value_type": "percent", "minimum": 0, "maximum": 100,
                                      "period": "quarter"})
    assert rule == ReportedRule("percent", "%", 0.0, 100.0, (), "quarter")
    assert ReportedRule.from_mapping({"value_type": "boolean"}).allowed == ("是", "否")
    assert ReportedRule.from_mapping({"value_type": "grade", "allowed": ["A", "B"]}) == \
        ReportedRule("grade", "", allowed=("A", "B"))
    assert ReportedRule.from_mapping({"value_type": "number", "unit": "yuan"}).unit == "yuan"


@pytest.mark.parametrize(("data", "message"), [
    ({"value_type": "precent"},
     ("reported.value_type: unknown type 'precent' (did you mean 'percent'?); expected one of "
     "number, integer, percent, level, grade, boolean, text")),
    ({"value_type": "percent", "minimum": 100, "maximum": 0},
     "reported.minimum: 100 is above the maximum 0"),
    ({"value_type": "grade"},
     "reported.allowed: a grade needs its allowed values, e.g. [A, B, C, D]"),
    ({"value_type": "number", "unit": "yuan", "maximun": 5},
     "reported: unknown key 'maximun' (did you mean 'maximum'?)"),
    ({"value_type": "level"},
     "reported.maximum: a level needs a minimum and a maximum (e.g. 0 and 8)"),
    ({"value_type": "number"}, "reported.unit: missing; a number needs a unit (e.g. yuan)"),
    ({"value_type": "percent", "unit": "pct"}, "reported.unit: a percent's unit is '%', not 'pct'"),
    ({"value_type": "grade", "allowed": ["A", "a"]}, "reported.allowed: 'a' is listed twice"),
    ({"value_type": "text", "maximum": 3},
     ("reported.minimum: minimum and maximum apply to number, integer, percent, level values, "
     "not text")),
    ({"value_type": "integer", "unit": "items", "allowed": ["A"]},
     "reported.allowed: allowed applies to grade and boolean values, not integer"),
    ({"value_type": "boolean", "allowed": ["是"]},
     "reported.allowed: a boolean lists its yes and no words, e.g. [是, 否]; got 1"),
    ({"value_type": "number", "unit": "yuan", "period": "week"},
     "reported.period: unknown period 'week'; expected one of year, quarter, month"),
    ({"value_type": "number", "unit": "yuan", "minimum": "0"},
     "reported.minimum: expected a number, got '0'"),
    ({"value_type": "number", "unit": "yuan", "maximum": True},
     "reported.maximum: expected a number, got True"),
    ({"unit": "yuan"}, "reported.value_type: missing"),
    (["value_type"], "reported: expected a mapping, got list"),
])
def test_from_mapping_refuses(data: object, message: str) -> None:
    with pytest.raises(SpecError) as info:
        ReportedRule.from_mapping(data)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert info.value.problems == (message,)


def test_from_mapping_lists_every_problem_at_once() -> None:
    with pytest.raises(SpecError) as info:
        ReportedRule.from_mapping({"value_type": "grade", "minimum": 1, "colour": "red"})
    assert info.value.problems == (
        "reported: unknown key 'colour'",
        ("reported.minimum: minimum and maximum apply to number, integer, percent, level values, "
        "not grade"),
        "reported.allowed: a grade needs its allowed values, e.g. [A, B, C, D]",
    )
    assert str(info.value).startswith("3 problems in the reported block:\n")


def test_the_constructor_checks_too() -> None:
    with pytest.raises(SpecError, match=r"^reported.allowed: a grade needs"):
        ReportedRule("grade", "")


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024", ("2024", None)), (2024.0, ("2024", None)), ("2024-q3", ("2024-Q3", None)),
    (" 2024-03 ", ("2024-03", None)), (None, (None, "period is empty")),
    ("2024-01..2024-06", (None, ("period '2024-01..2024-06' is not a year (2024), quarter "
                                "(2024-Q1) or month (2024-03)"))),
    ("2024/03", (None, ("period '2024/03' is not a year (2024), quarter (2024-Q1) or month "
                       "(2024-03)"))),
])
def test_entered_period(raw: object, expected: tuple) -> None:
    assert entered_period(raw) == expected


# --- the template -----------------------------------------------------------------------------

TEMPLATE_SET = [EMR, SATISFACTION, REVENUE, EQUIPMENT, MDT]  # per inst: 1 + 4 + 12 + 1 + 1 = 19


def csv_rows(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.reader(f))


def test_template_csv_rows(tmp_path: Path) -> None:
    xlsx, csv_path = write_template(TEMPLATE_SET, ["H01", "H02"], "2024", tmp_path)
    assert (xlsx.name, csv_path.name) == ("reported_2024.xlsx", "reported_2024.csv")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbfinstitution_id,period,")
    rows = csv_rows(csv_path)
    assert rows[0] == list(TEMPLATE_COLUMNS)
    assert len(rows) == 1 + 2 * 19
    assert rows[1] == ["H01", "2024", "emr_level", "1", "emr_level 中文名", "emr_level English",
                       "level", "level", "0", "8", "", "", "", ""]
    assert [r[1] for r in rows[2:6]] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert [r[1] for r in rows[6:18]] == [f"2024-{m:02d}" for m in range(1, 13)]
    assert rows[7][8:10] == ["0", ""]  # revenue: minimum 0, no maximum
    assert rows[18][10] == "A, B, C, D" and rows[19][10] == "是, 否"
    assert rows[20][:3] == ["H02", "2024", "emr_level"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reported_2024.csv",
                                                          "reported_2024.xlsx"]


def test_template_xlsx_sheets_validation_and_bytes(tmp_path: Path) -> None:
    xlsx = write_template(TEMPLATE_SET, ["H01", "H02"], "2024", tmp_path, formats=("xlsx",))[0]
    book = read_workbook(xlsx)
    assert list(book) == ["data", "instructions"]
    data = records(book["data"])
    assert len(data) == 38 and list(data[0]) == list(TEMPLATE_COLUMNS)
    assert (data[0]["institution_id"], data[0]["minimum"], data[0]["maximum"]) == ("H01", 0, 8)
    assert all(r["value"] is None for r in data)
    notes = book["instructions"]
    assert notes[0] == ["中文", "English"] and notes[1][0].startswith("填报周期：2024。")
    sheet = zipfile.ZipFile(xlsx).read("xl/worksheets/sheet1.xml").decode()
    assert 'ySplit="1"' in sheet  # the header is frozen
    checks = [(re.search(r'type="(\w+)"', attrs)[1],
               (re.search(r'operator="(\w+)"', attrs) or [None, "between"])[1],
               re.search(r'sqref="([^"]+)"', attrs)[1], re.findall(r"<formula\d>(.*?)<", body))
              for attrs, body in re.findall(r"<dataValidation ([^>]*)>(.*?)</dataValidation>",
                                            sheet)]
    # one per rule over all its value cells (column L): H01 on rows 2-20, H02 on rows 21-39
    assert checks == [
        ("whole", "between", "L2 L21", ["0", "8"]),                          # emr_level
        ("decimal", "between", "L3:L6 L22:L25", ["0", "100"]),               # satisfaction
        ("decimal", "greaterThanOrEqual", "L7:L18 L26:L37", ["0"]),          # revenue
        ("list", "between", "L19 L38", ['"A,B,C,D"']),                       # equipment_qc
        ("list", "between", "L20 L39", ['"是,否"']),                          # has_mdt
    ]
    assert 'prompt="整数 / whole number 0 – 8 level"' in sheet
    again = write_template(TEMPLATE_SET, ["H01", "H02"], "2024", tmp_path / "b",
                           formats=("xlsx",))[0]
    assert again.read_bytes() == xlsx.read_bytes()


def test_template_for_a_quarter(tmp_path: Path) -> None:
    path = write_template([REVENUE, SATISFACTION], ["H01"], "2024-q2", tmp_path,
                          formats=("csv",))[0]
    assert path.name == "reported_2024-Q2.csv"
    assert [r[1] for r in csv_rows(path)[1:]] == ["2024-04", "2024-05", "2024-06", "2024-Q2"]
    with pytest.raises(ReportedValueError) as info:
        write_template([EMR, REVENUE, SATISFACTION], ["H01"], "2024-Q2", tmp_path)
    assert str(info.value) == ("period '2024-Q2' is a quarter; emr_level (per year) cannot be "
                               "entered for it: make their template for a whole period")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"indicators": []}, "a template needs at least one indicator and one institution"),
    ({"institutions": ["H01", "H02", "H01"]}, "institution(s) ['H01'] given more than once"),
    ({"indicators": [EMR, EMR]}, "indicator(s) ['emr_level'] given more than once"),
    ({"formats": ("xlsx", "pdf")}, "template formats ['xlsx', 'pdf']: expected xlsx, csv or both"),
    ({"period": "2024/03"},
     "period '2024/03' is not a year (2024), quarter (2024-Q1) or month (2024-03)"),
])
def test_template_refuses(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"indicators": [EMR], "institutions": ["H01"], "period": "2024",
            "out_dir": tmp_path} | kwargs
    with pytest.raises(ReportedValueError) as info:
        write_template(**args)
    assert str(info.value) == message
    assert list(tmp_path.iterdir()) == []


# --- reading a filled template ------------------------------------------------------------------

def filled_csv(tmp_path: Path) -> Path:
    """The 2024 template of H01 and H02 filled in as a user would, plus one row typed in."""
    rows = csv_rows(write_template(TEMPLATE_SET, ["H01", "H02"], "2024", tmp_path / "t",
                                   formats=("csv",))[0])
    value = TEMPLATE_COLUMNS.index("value")
    # H01 (rows 2-20): emr 2, satisfaction Q1-Q4 3-6, revenue Jan-Dec 7-18, grade 19, mdt 20
    fills = {2: "5", 3: "88.5", 4: "101", 7: "1,200,000", 8: "1300000", 9: "1250000.5",
             19: "b", 20: "是",
             # H02 (rows 21-39): emr 21, satisfaction 22-25, revenue 26-37, grade 38, mdt 39
             21: "9", 38: "E", 39: "否"}
    for row, v in fills.items():
        rows[row - 1][value] = v
    rows[38][TEMPLATE_COLUMNS.index("version")] = "2"  # H02 has_mdt, row 39
    rows[1][TEMPLATE_COLUMNS.index("note")] = "2023年评级结果"
    rows[1][TEMPLATE_COLUMNS.index("entered_by")] = "信息科 王"
    rows.append(["H01", "2024", "emr_levl", "1", "", "", "", "", "", "", "", "6", "", ""])  # 40
    path = tmp_path / "filled.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_read_csv_round_trip(tmp_path: Path) -> None:
    load = read_entries(filled_csv(tmp_path), ALL)
    # accepted: H01 emr, satisfaction Q1, revenue Jan-Mar, grade, mdt = 7
    # rejected: rows 4, 21, 38, 39, 40 = 5; blank: H01 2 + 9, H02 4 + 12 = 27; 7 + 5 + 27 = 39
    assert load.counts == {"rows_in": 39, "accepted": 7, "rejected": 5, "blank": 27}
    assert load.rejected.to_dict("list") == {
        "file": [str(load.file)] * 5,
        "row": [4, 21, 38, 39, 40],
        "field": ["value", "value", "value", "version", "indicator_id"],
        "value": ["101", "9", "E", "2", "emr_levl"],
        "reason": ["value 101 is above the maximum 100 (score)",
                   "value 9 is above the maximum 8 (level)",
                   "value 'E' is not one of A, B, C, D",
                   "version '2' does not match has_mdt's version '1'",
                   "unknown indicator 'emr_levl' (did you mean 'emr_level'?)"],
    }
    a = load.accepted
    assert a["row"].tolist() == [2, 3, 7, 8, 9, 19, 20]
    assert a["period"].tolist() == ["2024", "2024-Q1", "2024-01", "2024-02", "2024-03", "2024",
                                    "2024"]
    numbers = a["value_number"].tolist()
    assert numbers[:5] == [5.0, 88.5, 1200000.0, 1300000.0, 1250000.5]
    assert math.isnan(numbers[5]) and numbers[6] == 1.0
    assert a["value_text"].tolist()[5:] == ["B", "是"]
    assert a["unit"].tolist() == ["level", "score", "yuan", "yuan", "yuan", "", ""]
    assert (a["note"][0], a["entered_by"][0]) == ("2023年评级结果", "信息科 王")
    assert load.blank["row"].tolist()[:3] == [5, 6, 10]
    assert load.blank.iloc[0].tolist() == [5, "H01", "2024-Q3", "satisfaction", "1"]


def plain(frame: pd.DataFrame) -> list[list[object]]:
    """Rows as lists, missing values as None."""
    return [[None if pd.isna(v) else v for v in row] for row in frame.values.tolist()]


def test_read_xlsx_round_trip(tmp_path: Path) -> None:
    """A workbook as Excel leaves it: a typed 12.5% is 0.125 in a percent-formatted cell, a
    retyped period became a date, booleans are boolean cells, an empty row in the middle."""
    indicators = [SHARE, EMR, EQUIPMENT, MDT, EQA, REMARK]
    template = write_template(indicators, ["H01", "H02", "H03"], "2024", tmp_path / "t",
                              formats=("xlsx",))[0]
    rows = read_workbook(template)["data"]
    path = tmp_path / "filled.xlsx"
    book = xlsxwriter.Workbook(path)
    pct, day = book.add_format({"num_format": "0.0%"}), book.add_format({"num_format": "yy-m-d"})
    ws = book.add_worksheet("data")
    v = TEMPLATE_COLUMNS.index("value")
    for r, row in enumerate(rows):
        at = r if r <= 12 else r + 1  # H03's six rows start on row 15, after an empty row 14
        for c, cell in enumerate(row if r == 0 else row[:v]):
            if cell is not None:
                ws.write(at, c, cell)
    # H01, rows 2-7: share, emr, grade, mdt, eqa, remark
    ws.write_number(1, v, 0.125, pct)
    ws.write_number(2, v, 6)
    ws.write_string(3, v, "A")
    ws.write_boolean(4, v, True)
    ws.write_number(5, v, 35)
    ws.write_string(6, v, "按时完成，无异常")
    # H02, rows 8-13: share as text, emr in words, grade blank, mdt unclear, eqa fractional
    ws.write_string(7, v, "12.5%")
    ws.write_string(8, v, "六级")
    ws.write_string(10, v, "maybe")
    ws.write_number(11, v, 3.5)
    # H03, rows 15-20: only the share, with its period retyped (Excel made it a date)
    ws.write_datetime(14, 1, datetime(2024, 1, 1), day)
    ws.write_number(14, v, 50)
    book.close()

    load = read_entries(path, {i.id: i for i in indicators})
    # accepted: H01 x6 + H02 share = 7; rejected: rows 9, 11, 12, 15 = 4;
    # blank: H02 grade + remark, H03 five = 7; 7 + 4 + 7 = 18
    assert load.counts == {"rows_in": 18, "accepted": 7, "rejected": 4, "blank": 7}
    assert plain(load.accepted[["row", "indicator_id", "value_number", "value_text"]]) == [
        [2, "service_income_share", 12.5, None],
        [3, "emr_level", 6.0, None],
        [4, "equipment_qc", None, "A"],
        [5, "has_mdt", 1.0, "是"],
        [6, "eqa_items", 35.0, None],
        [7, "remark", None, "按时完成，无异常"],
        [8, "service_income_share", 12.5, None],
    ]
    assert load.rejected[["row", "field", "reason"]].values.tolist() == [
        [9, "value", "value '六级' is not a number"],
        [11, "value", "value 'maybe' is not yes or no (是/否, true/false, 1/0)"],
        [12, "value", "value 3.5 is not a whole number"],
        [15, "period", ("period '2024-01-01' is not a year (2024), quarter (2024-Q1) or month "
                       "(2024-03)")],
    ]
    assert load.blank["row"].tolist() == [10, 13, 16, 17, 18, 19, 20]


def test_read_gb18030_csv(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("institution_id,period,indicator_id,version,value,note,entered_by\r\n"
                     "H01,2024,equipment_qc,1,Ｂ,设备科自评,质控办 李\r\n".encode("gb18030"))
    load = read_entries(path, ALL)
    assert load.counts == {"rows_in": 1, "accepted": 1, "rejected": 0, "blank": 0}
    assert load.accepted[["value_text", "note", "entered_by"]].values.tolist() == [
        ["B", "设备科自评", "质控办 李"]]


def test_row_problems_are_listed_together(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("institution_id,period,indicator_id,version,value\n"
                    ",2024-Q1,emr_level,1,9\n"       # 2: three problems
                    "H011,2024,emr_level,,5\n"       # 3: unknown institution, no version
                    "H01,2024,emr_level,1,5\n"       # 4 and 5: the same key twice
                    "H01,2024,emr_level,1,6\n"
                    "H02,2024,emr_level,1,4\n",      # 6: fine
                    encoding="utf-8")
    load = read_entries(path, ALL, institutions=["H01", "H02"])
    assert load.counts == {"rows_in": 5, "accepted": 1, "rejected": 4, "blank": 0}
    assert load.rejected[["row", "field", "value", "reason"]].values.tolist() == [
        [2, "institution_id; period; value", "; 2024-Q1; 9",
         ("institution_id is empty; period '2024-Q1' is a quarter; emr_level is entered per "
         "year; value 9 is above the maximum 8 (level)")],
        [3, "institution_id; version", "H011; ",
         "unknown institution 'H011' (did you mean 'H01'?); version is empty"],
        [4, "value", "5", "emr_level of H01 for 2024 is entered on rows 4, 5; keep one"],
        [5, "value", "6", "emr_level of H01 for 2024 is entered on rows 4, 5; keep one"],
    ]
    assert load.accepted["institution_id"].tolist() == ["H02"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("a.csv", "institution_id,period,indicator_id,value\nH01,2024,emr_level,5\n",
     ("{path}: missing column(s) ['version']; the header has "
     "['institution_id', 'period', 'indicator_id', 'value']")),
    ("b.csv", "institution_id,period,indicator_id,version,value,Value\n",
     "{path}: column(s) ['value'] appear more than once"),
    ("c.csv", "\n\n", "{path}: no header row; expected the columns " + str(list(TEMPLATE_COLUMNS))),
    ("d.txt", "institution_id\n", "{path}: a filled template is an .xlsx or .csv file, not .txt"),
])
def test_whole_file_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportedValueError) as info:
        read_entries(path, ALL)
    assert str(info.value) == message.format(path=path)


def test_unreadable_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"institution_id\n\xff\xff")
    with pytest.raises(ReportedValueError, match=r"bad\.csv: not UTF-8 or GB18030 text \(byte "):
        read_entries(bad, ALL)
    huge = tmp_path / "huge.csv"
    huge.write_text("institution_id,value\nH01,5\nH02," + "9" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(ReportedValueError, match=r"huge\.csv: cannot read it as CSV \(line 3\)"
                                                 r": field larger than field limit"):
        read_entries(huge, ALL)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(ReportedValueError, match=r"fake\.xlsx: cannot read it as an xlsx"):
        read_entries(fake, ALL)
    with pytest.raises(ReportedValueError, match=r"cannot read .*missing\.csv"):
        read_entries(tmp_path / "missing.csv", ALL)


def test_xlsx_reader_inline_and_rich_strings(tmp_path: Path) -> None:
    """Parts as other writers make them: inline strings, rich-text runs with a phonetic guide,
    cells without references, a formula never calculated, an error value."""
    m = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    r = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    parts = {
        "xl/workbook.xml": f'<workbook {m} {r}><sheets><sheet name="Sheet1" sheetId="1" '
                           'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Target="/xl/worksheets/s.xml" '
            'Type="x"/></Relationships>',
        "xl/sharedStrings.xml": f'<sst {m}><si><r><t>等</t></r><r><t>级</t></r>'
                                '<rPh><t>deng ji</t></rPh></si></sst>',
        "xl/worksheets/s.xml": f'<worksheet {m}><sheetData>'
                               '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
                               '<c r="C1" t="s"><v>0</v></c></row>'
                               '<row r="3"><c><v>2</v></c><c t="e"><v>#DIV/0!</v></c>'
                               '<c><f>A3*2</f></c></row></sheetData></worksheet>',
    }
    path = tmp_path / "hand.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for name, xml in parts.items():
            z.writestr(name, xml)
    assert read_rows(path) == [(1, ["a", None, "等级"]), (3, [2.0, "#DIV/0!", "=A3*2"])]


def test_reconciliation_is_checked() -> None:
    empty = pd.DataFrame()
    with pytest.raises(ReconciliationError, match=r"x.csv: 2 rows in but 0 accepted \+ 0 "
                                                  r"rejected \+ 0 blank = 0"):
        ReportedLoad(Path("x.csv"), 2, empty, empty, empty, "")


def test_csv_template_filled_in_excel_style_gb18030_reads(tmp_path: Path) -> None:
    """A template saved back by Excel in a Chinese locale: GB18030, no BOM."""
    rows = csv_rows(write_template([EMR], ["H01"], "2024", tmp_path, formats=("csv",))[0])
    rows[1][TEMPLATE_COLUMNS.index("value")] = "7级"
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    path = tmp_path / "saved.csv"
    path.write_bytes(text.getvalue().encode("gb18030"))
    load = read_entries(path, ALL)
    assert load.counts == {"rows_in": 1, "accepted": 1, "rejected": 0, "blank": 0}
    assert load.accepted["value_number"].tolist() == [7.0]
