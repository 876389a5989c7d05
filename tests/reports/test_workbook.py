"""Workbooks from frames: typed cells, empty sheets, names, reproducible bytes."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.errors import ReportError
from hospital_sdk.reports.workbook import (
    NO_DATA,
    Sheet,
    check_sheet_names,
    glossary_sheet,
    workbook_bytes,
    write_workbook,
)
from tests.reports.xlsx_cells import excel_date, read_workbook


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "dept_id": ["D01", "D02", "D03"],
        "name_zh": ["心血管内科", "普外科", None],
        "discharges": pd.array([2, None, 0], dtype="Int64"),
        "mean_los": [7.5, np.nan, float("nan")],
        "month": pd.to_datetime(["2025-01-01", "2025-02-01", None]),
        "flag": [True, False, True],
        "reason": ["=SUM(A1:A2)", "<b>x</b>", "http://example.org"],
    })


def test_cells_are_written_by_type(tmp_path: Path) -> None:
    f = write_workbook(tmp_path / "t.xlsx", [Sheet("data", _frame(), formats={"month": "yyyy-mm"})])
    rows = read_workbook(f.path)["data"]
    assert rows[0] == ["dept_id", "name_zh", "discharges", "mean_los", "month", "flag", "reason"]
    assert rows[1][:4] == ["D01", "心血管内科", 2.0, 7.5]
    assert excel_date(rows[1][4]) == datetime(2025, 1, 1)
    assert rows[1][5] is True and rows[2][5] is False
    # a text that looks like a formula or a URL stays text (the reader fails on any formula)
    assert rows[1][6] == "=SUM(A1:A2)" and rows[3][6] == "http://example.org"
    # missing values (None, pd.NA, NaN, NaT) are empty cells
    assert rows[2][2] is None and rows[2][3] is None and rows[3][1] is None
    assert rows[3][3] is None and rows[3][4] is None


def test_header_is_frozen_and_filterable_and_month_formatted(tmp_path: Path) -> None:
    f = write_workbook(tmp_path / "t.xlsx", [Sheet("data", _frame(), formats={"month": "yyyy-mm"})])
    with zipfile.ZipFile(f.path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        styles = z.read("xl/styles.xml").decode()
    assert '<pane ySplit="1"' in sheet and '<autoFilter ref="A1:G4"/>' in sheet
    assert 'formatCode="yyyy-mm"' in styles


def test_empty_frame_says_no_data(tmp_path: Path) -> None:
    empty = pd.DataFrame({"dept_id": pd.Series(dtype="object"), "n": pd.Series(dtype="int64")})
    f = write_workbook(tmp_path / "e.xlsx", [Sheet("by_department", empty),
                                             Sheet("nothing", pd.DataFrame()),
                                             Sheet("issues", empty, empty_message="none found")])
    book = read_workbook(f.path)
    assert book["by_department"] == [["dept_id", "n"], [NO_DATA, None]]
    assert book["nothing"] == [[None], [NO_DATA]]
    assert book["issues"][1][0] == "none found"


def test_same_sheets_give_the_same_bytes_and_created_date_is_a_parameter() -> None:
    sheets = [Sheet("data", _frame()), glossary_sheet([("a", "甲", "A")])]
    assert workbook_bytes(sheets, title="t") == workbook_bytes(sheets, title="t")
    stamped = workbook_bytes(sheets, created=datetime(2025, 7, 1, 8, 30))
    with zipfile.ZipFile(io.BytesIO(stamped)) as z:
        core = z.read("docProps/core.xml").decode()
    assert "2025-07-01T08:30:00Z" in core
    with zipfile.ZipFile(io.BytesIO(workbook_bytes(sheets))) as z:
        assert "1980-01-01T00:00:00Z" in z.read("docProps/core.xml").decode()


def test_plain_dates_decimals_and_numpy_scalars(tmp_path: Path) -> None:
    frame = pd.DataFrame({"d": [date(2025, 3, 1)], "x": [Decimal("1.25")],
                          "n": [np.int32(7)], "inf": [float("inf")]})
    rows = read_workbook(write_workbook(tmp_path / "t.xlsx", [Sheet("s", frame)]).path)["s"]
    assert excel_date(rows[1][0]) == datetime(2025, 3, 1)
    assert rows[1][1:] == [1.25, 7.0, "inf"]


@pytest.mark.parametrize(("names", "message"), [
    (["a" * 32], "1 to 31 characters"),
    (["by/month"], "contains '/'"),
    (["x", "X"], "used twice"),
    ([""], "1 to 31 characters"),
])
def test_bad_sheet_names_are_refused(names: list[str], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        check_sheet_names(names)


def test_refusals() -> None:
    with pytest.raises(ReportError, match="at least one sheet"):
        workbook_bytes([])
    with pytest.raises(ReportError, match=r"formats given for missing column\(s\) \['rate'\]"):
        workbook_bytes([Sheet("s", pd.DataFrame({"n": [1]}), formats={"rate": "0%"})])
    with pytest.raises(ReportError, match=r"sheet 's2' has patient identifier.*'empi_id'"):
        workbook_bytes([Sheet("s1", pd.DataFrame({"n": [1]})),
                        Sheet("s2", pd.DataFrame({"empi_id": ["E1"]}))])


def test_a_refused_workbook_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ReportError):
        write_workbook(tmp_path / "t.xlsx", [Sheet("s", pd.DataFrame({"id_number": ["1"]}))])
    assert list(tmp_path.iterdir()) == []
