"""The monthly activity summary: department-month sums as a workbook and an HTML page of trends.

Input: the ``department_month`` frame, one row per institution × campus × department × month
with additive measures (:data:`ACTIVITY_COLUMNS`), and optionally the ``department`` lookup
(``dept_id, name_zh, name_en``).

Every figure is a *sum* over the rows of its group, and every ratio (:data:`RATIOS`) is computed
from those sums — mean length of stay is total bed-days ÷ total discharges, never an average of
departments' means. A sum is blank when any row of its group lacks the value (a partial total
would pass for a complete one); a ratio is blank when its denominator is zero or blank.

Output, in ``out_dir``:

``activity_summary.xlsx``
    ``by_institution_month``, ``by_department`` (totals over the period) and ``README`` (the
    formula of every ratio, in Chinese and English);
``activity_summary.html``
    monthly trend lines per institution (discharges, outpatient visits, surgical share, mean
    length of stay, antibiotic DDDs per 100 bed-days) and the two tables, headings in Chinese
    and English;
``activity_summary_manifest.json``
    the files with their SHA-256, written last.

Examples
--------
>>> import pandas as pd
>>> from hospital_sdk.reports.activity_report import ACTIVITY_COLUMNS, activity_by_institution_month
>>> rows = pd.DataFrame([{c: 0 for c in ACTIVITY_COLUMNS} | {
...     "institution_id": "H1", "campus_id": "C1", "dept_id": d, "month": "2025-01-01",
...     "discharges": n, "bed_days": b} for d, n, b in [("D1", 3, 12), ("D2", 1, 3)]])
>>> float(activity_by_institution_month(rows).mean_los.iloc[0])  # 15 / 4, not (4 + 3) / 2
3.75
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hospital_sdk.errors import ReportError
from hospital_sdk.reports.files import write_manifest
from hospital_sdk.reports.html import NO_DATA, Figure, Section, Table, write_page
from hospital_sdk.reports.inputs import refuse_patient_identifiers, require_columns
from hospital_sdk.reports.workbook import Sheet, glossary_sheet, write_workbook

REPORT = "activity_summary"
KEY_COLUMNS: tuple[str, ...] = ("institution_id", "campus_id", "dept_id", "month")
"""The grain of ``department_month``: one row per key."""
MEASURES: tuple[str, ...] = (
    "discharges", "deaths", "surgical_stays", "level4_stays", "minimally_invasive_stays",
    "day_surgery_stays", "class1_incision_stays", "class1_incision_infections", "bed_days",
    "total_cost", "drug_cost", "consumable_cost", "antibiotic_ddds", "outpatient_visits",
    "emergency_visits", "appointment_visits", "wait_minutes_sum", "visits_with_wait",
)
"""Additive measures of ``department_month``: summed, never averaged."""
AMOUNTS: tuple[str, ...] = ("total_cost", "drug_cost", "consumable_cost", "antibiotic_ddds",
                            "wait_minutes_sum")
"""Measures that may have decimals; every other measure is a whole count."""
NET_AMOUNTS: tuple[str, ...] = ("total_cost", "drug_cost", "consumable_cost")
"""Money summed from charge lines net of refunds: the only measures that may be negative. A
department-month whose refunds exceed its charges — a stay discharged this month whose charges
were billed before the data begins, or refunded later than charged — is negative in the ledger
too, so it is reported as it is, not refused."""
ACTIVITY_COLUMNS: tuple[str, ...] = (*KEY_COLUMNS, *MEASURES)
DEPARTMENT_COLUMNS: tuple[str, ...] = ("dept_id", "name_zh", "name_en")


@dataclass(frozen=True)
class Ratio:
    """A derived figure: ``numerator × per ÷ denominator`` of two summed measures."""

    name: str
    numerator: str
    denominator: str
    zh: str
    en: str
    per: float = 1.0
    percent: bool = True

    @property
    def excel_format(self) -> str:
        """Number format in the workbook."""
        return "0.00%" if self.percent else "0.00"

    @property
    def html_format(self) -> str:
        """``str.format`` pattern in the HTML tables."""
        return "{:.2%}" if self.percent else "{:,.2f}"


RATIOS: tuple[Ratio, ...] = (
    Ratio("mortality_rate", "deaths", "discharges", "住院患者死亡率", "inpatient mortality"),
    Ratio("surgical_share", "surgical_stays", "discharges", "手术患者占比",
          "surgical share of discharges"),
    Ratio("level4_share", "level4_stays", "surgical_stays", "四级手术占比",
          "level-4 share of surgical stays"),
    Ratio("minimally_invasive_share", "minimally_invasive_stays", "surgical_stays",
          "微创手术占比", "minimally invasive share of surgical stays"),
    Ratio("day_surgery_share", "day_surgery_stays", "surgical_stays",
          "日间手术占比（分母为全部手术患者）", "day-surgery share of surgical stays (all surgical stays, not only elective)"),
    Ratio("class1_incision_infection_rate", "class1_incision_infections", "class1_incision_stays",
          "Ⅰ类切口手术部位感染率", "class-I incision surgical-site infection rate"),
    Ratio("mean_los", "bed_days", "discharges", "平均住院日", "mean length of stay (days)",
          percent=False),
    Ratio("drug_cost_share", "drug_cost", "total_cost", "药占比", "drug share of total cost"),
    Ratio("consumable_cost_share", "consumable_cost", "total_cost", "耗材占比",
          "consumable share of total cost"),
    Ratio("antibiotic_ddds_per_100_bed_days", "antibiotic_ddds", "bed_days",
          "抗菌药物使用强度（DDDs/百人天）", "antibiotic DDDs per 100 bed-days", per=100.0,
          percent=False),
    Ratio("appointment_rate", "appointment_visits", "outpatient_visits", "门诊患者预约诊疗率",
          "appointment share of outpatient visits"),
    Ratio("mean_wait_minutes", "wait_minutes_sum", "visits_with_wait", "平均候诊时间（分钟）",
          "mean waiting time (minutes) of visits with a recorded wait", percent=False),
)
"""Every ratio of the report, computed from the sums of its group."""
_RATIO = {r.name: r for r in RATIOS}
TRENDS: tuple[tuple[str, str, str], ...] = (
    ("discharges", "出院人次", "Discharges"),
    ("outpatient_visits", "门诊人次", "Outpatient visits"),
    ("surgical_share", "手术患者占比", "Surgical share (surgical stays ÷ discharges)"),
    ("mean_los", "平均住院日", "Mean length of stay (bed-days ÷ discharges)"),
    ("antibiotic_ddds_per_100_bed_days", "抗菌药物使用强度",
     "Antibiotic DDDs per 100 bed-days"),
)
"""The trend charts of the HTML page: column, Chinese and English heading."""
_HTML_COLUMNS = ("discharges", "outpatient_visits", "surgical_share", "mean_los",
                 "antibiotic_ddds_per_100_bed_days")


def _month_text(value: Any) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m")


def prepare_department_month(department_month: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise the input: :data:`ACTIVITY_COLUMNS` only, sorted by key.

    ``month`` becomes the first day of its month; counts become nullable integers, amounts
    floats; ids become text.

    Raises
    ------
    ReportError
        A column is missing or identifies a patient; an institution, department or month is
        null; a month cannot be read as a date; a measure is not a number, is negative (other
        than the :data:`NET_AMOUNTS`), or a count is not whole; or a key repeats.

    Examples
    --------
    >>> frame = pd.DataFrame([{c: 1 for c in ACTIVITY_COLUMNS} | {"month": "2025-01-17"}])
    >>> prepare_department_month(frame).month.iloc[0]
    Timestamp('2025-01-01 00:00:00')
    >>> prepare_department_month(frame.assign(discharges=-1))
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: department_month: column 'discharges' is negative in 1 row(s)
    """
    require_columns(department_month, ACTIVITY_COLUMNS, where="department_month")
    df = department_month.loc[:, list(ACTIVITY_COLUMNS)].copy().reset_index(drop=True)
    for col in ("institution_id", "dept_id", "month"):
        nulls = int(df[col].isna().sum())
        if nulls:
            raise ReportError(f"department_month: column {col!r} is null in {nulls} row(s)")
    for col in ("institution_id", "campus_id", "dept_id"):
        df[col] = pd.Series([None if pd.isna(v) else str(v) for v in df[col]], dtype="object")
    try:
        months = pd.to_datetime(df["month"], format="mixed")
    except (TypeError, ValueError) as exc:
        raise ReportError(f"department_month: column 'month' cannot be read as dates: "
                          f"{exc}") from exc
    if getattr(months.dt, "tz", None) is not None:
        months = months.dt.tz_localize(None)
    df["month"] = months.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
    for col in MEASURES:
        try:
            values = pd.to_numeric(df[col]).astype("float64")
        except (TypeError, ValueError) as exc:
            raise ReportError(f"department_month: column {col!r} must be numeric: "
                              f"{exc}") from exc
        negative = int((values < 0).sum())
        if negative and col not in NET_AMOUNTS:
            raise ReportError(f"department_month: column {col!r} is negative in "
                              f"{negative} row(s)")
        if col in AMOUNTS:
            df[col] = values
            continue
        fractional = int((values.notna() & (values % 1 != 0)).sum())
        if fractional:
            raise ReportError(f"department_month: count column {col!r} has {fractional} "
                              "value(s) that are not whole numbers")
        df[col] = pd.array(values.round(), dtype="Int64")
    dupes = df[df.duplicated(list(KEY_COLUMNS), keep=False)]
    if not dupes.empty:
        first = dupes.iloc[0]
        raise ReportError(f"department_month: {len(dupes)} rows repeat a key "
                          f"{list(KEY_COLUMNS)}, e.g. institution {first.institution_id!r} "
                          f"department {first.dept_id!r} month {_month_text(first.month)}: "
                          "sums would count them twice")
    return df.sort_values(list(KEY_COLUMNS), na_position="first",
                          kind="mergesort").reset_index(drop=True)


def _sum_by(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sums of :data:`MEASURES` per group; blank where any row of the group lacks the value."""
    sums = df.groupby(keys, sort=True)[list(MEASURES)].sum()
    missing = df[list(MEASURES)].isna()
    missing[keys] = df[keys]
    incomplete = missing.groupby(keys, sort=True)[list(MEASURES)].any()
    return sums.mask(incomplete).reset_index()


def add_ratios(sums: pd.DataFrame) -> pd.DataFrame:
    """``sums`` with one column per :data:`RATIOS`, blank where the denominator is 0 or blank.

    Examples
    --------
    >>> add_ratios(pd.DataFrame({c: [0] for c in MEASURES} | {"bed_days": [15], "discharges": [2],
    ...                                                    "antibiotic_ddds": [6.0]})
    ...            )[["mean_los", "antibiotic_ddds_per_100_bed_days", "mortality_rate"]]
       mean_los  antibiotic_ddds_per_100_bed_days  mortality_rate
    0       7.5                              40.0             0.0
    >>> bool(add_ratios(pd.DataFrame({c: [0] for c in MEASURES})).mean_los.isna().iloc[0])
    True
    """
    out = sums.copy()
    for r in RATIOS:
        num = pd.Series(out[r.numerator]).to_numpy(dtype="float64", na_value=np.nan)
        den = pd.Series(out[r.denominator]).to_numpy(dtype="float64", na_value=np.nan)
        ok = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
        value = np.full(len(out), np.nan)
        np.divide(num * r.per, den, out=value, where=ok)
        out[r.name] = value
    return out


def activity_by_institution_month(department_month: pd.DataFrame) -> pd.DataFrame:
    """Sums and ratios per institution and month."""
    df = prepare_department_month(department_month)
    return add_ratios(_sum_by(df, ["institution_id", "month"]))


def prepare_departments(departments: pd.DataFrame) -> pd.DataFrame:
    """Check the department lookup: one row per ``dept_id`` with ``name_zh`` and ``name_en``.

    Examples
    --------
    >>> prepare_departments(pd.DataFrame({"dept_id": ["D1", "D1"], "name_zh": ["内科", "外科"],
    ...                                   "name_en": ["Medicine", "Surgery"]}))
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: department lookup: dept_id(s) ['D1'] appear more than once; ...
    """
    require_columns(departments, DEPARTMENT_COLUMNS, where="department lookup")
    lookup = departments.loc[:, list(DEPARTMENT_COLUMNS)].copy()
    if lookup["dept_id"].isna().any():
        raise ReportError("department lookup: column 'dept_id' has nulls")
    lookup["dept_id"] = lookup["dept_id"].astype(str)
    repeated = sorted(lookup.loc[lookup["dept_id"].duplicated(), "dept_id"].unique())
    if repeated:
        raise ReportError(f"department lookup: dept_id(s) {repeated[:5]} appear more than once; "
                          "a join would count their departments' rows twice")
    return lookup


def activity_by_department(department_month: pd.DataFrame,
                           departments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sums and ratios per institution and department over the whole period, with the first
    and last month and the number of months, and the department names when a lookup is given.
    """
    df = prepare_department_month(department_month)
    keys = ["institution_id", "dept_id"]
    sums = add_ratios(_sum_by(df, keys))
    span = df.groupby(keys, sort=True)["month"].agg(["min", "max", "nunique"]).reset_index()
    span.columns = [*keys, "first_month", "last_month", "months"]
    out = span.merge(sums, on=keys, how="left", validate="one_to_one")
    if departments is not None:
        names = prepare_departments(departments)
        out = out.merge(names, on="dept_id", how="left", validate="many_to_one")
        out = out[[*keys, "name_zh", "name_en",
                   *[c for c in out.columns if c not in (*keys, "name_zh", "name_en")]]]
    return out


def _readme_rows(df: pd.DataFrame, generated_at: datetime | None) -> list[tuple[str, str, str]]:
    rows = [
        ("sums", "合计：各组内各行相加；组内任一行缺值则合计留空（不给出不完整的合计）",
         "each figure is the sum over the rows of its group; blank when any row of the group "
         "lacks the value (a partial total is never shown)"),
        ("ratios", "比率：由合计计算（如平均住院日 = 实际占用床日合计 ÷ 出院人次合计），"
                   "从不平均各科室的比率；分母为 0 或空时留空",
         "computed from the sums (e.g. mean LOS = total bed-days / total discharges), never an "
         "average of departments' ratios; blank when the denominator is 0 or blank"),
    ]
    for r in RATIOS:
        per = f" × {r.per:g}" if r.per != 1 else ""
        formula = f"{r.numerator}{per} ÷ {r.denominator}"
        rows.append((r.name, f"{r.zh} = {formula}", f"{r.en} = {formula}"))
    rows.append(("by_department",
                 "按科室：整个期间的合计，first_month–last_month 为有数据的首末月份",
                 "totals over the whole period; first_month–last_month are the first and last "
                 "months with data"))
    rows.append(("input_rows", "输入行数（科室-月）", str(len(df))))
    rows.append(("period", "期间", _period(df)))
    if generated_at is not None:
        rows.append(("generated_at", "生成时间", generated_at.isoformat(sep=" ")))
    return rows


def _period(df: pd.DataFrame) -> str:
    if df.empty:
        return NO_DATA
    return f"{_month_text(df['month'].min())} – {_month_text(df['month'].max())}"


def _excel_formats(frame: pd.DataFrame) -> dict[str, str]:
    formats = {c: "yyyy-mm" for c in ("month", "first_month", "last_month") if c in frame}
    formats.update({c: "#,##0.00" for c in AMOUNTS if c in frame})
    formats.update({r.name: r.excel_format for r in RATIOS if r.name in frame})
    return formats


def activity_sheets(department_month: pd.DataFrame, departments: pd.DataFrame | None = None, *,
                    generated_at: datetime | None = None) -> list[Sheet]:
    """The workbook's sheets: ``by_institution_month``, ``by_department``, ``README``.

    Examples
    --------
    >>> [s.name for s in activity_sheets(pd.DataFrame(columns=list(ACTIVITY_COLUMNS)))]
    ['by_institution_month', 'by_department', 'README']
    """
    df = prepare_department_month(department_month)
    by_month = activity_by_institution_month(df)
    by_dept = activity_by_department(df, departments)
    return [
        Sheet("by_institution_month", by_month, formats=_excel_formats(by_month)),
        Sheet("by_department", by_dept, formats=_excel_formats(by_dept)),
        glossary_sheet(_readme_rows(df, generated_at)),
    ]


def trend_figure(by_month: pd.DataFrame, column: str) -> go.Figure:
    """One line per institution of ``column`` by month (a frame from
    :func:`activity_by_institution_month`); ratios shown as percentages where they are shares.

    Examples
    --------
    >>> frame = pd.DataFrame({"institution_id": ["H2", "H1"], "discharges": [5, 7],
    ...                       "month": pd.to_datetime(["2025-01-01", "2025-01-01"])})
    >>> [t.name for t in trend_figure(frame, "discharges").data]
    ['H1', 'H2']
    """
    ratio = _RATIO.get(column)
    percent = ratio is not None and ratio.percent
    number = ".2%" if percent else (",.2f" if ratio is not None else ",.0f")
    fig = go.Figure()
    for inst in sorted(by_month["institution_id"].unique()):
        rows = by_month[by_month["institution_id"] == inst].sort_values("month")
        y = pd.Series(rows[column]).to_numpy(dtype="float64", na_value=np.nan)
        fig.add_trace(go.Scatter(
            x=[_month_text(m) + "-01" for m in rows["month"]],
            y=[None if np.isnan(v) else float(v) for v in y],
            mode="lines+markers", name=str(inst),
            hovertemplate=f"%{{fullData.name}} · %{{x|%Y-%m}}: %{{y:{number}}}<extra></extra>",
        ))
    fig.update_layout(
        template="plotly_white", margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"title": {"text": "机构 / institution"}},
        xaxis={"type": "date", "tickformat": "%Y-%m", "dtick": "M1",
               "title": {"text": "月份 / month"}},
        yaxis={"tickformat": ".0%" if percent else ",", "rangemode": "tozero"},
    )
    return fig


def activity_sections(department_month: pd.DataFrame,
                      departments: pd.DataFrame | None = None) -> list[Section]:
    """The HTML page's sections: five trend charts, the two tables, the definitions.

    Examples
    --------
    >>> [s.zh for s in activity_sections(pd.DataFrame(columns=list(ACTIVITY_COLUMNS)))][:2]
    ['出院人次', '门诊人次']
    """
    df = prepare_department_month(department_month)
    by_month = activity_by_institution_month(df)
    by_dept = activity_by_department(df, departments)
    sections = [
        Section(zh, en, [Figure(trend_figure(by_month, col))] if len(by_month) else [NO_DATA])
        for col, zh, en in TRENDS
    ]
    html_formats: dict[str, Any] = {r.name: r.html_format for r in RATIOS}
    html_formats.update({c: _month_text for c in ("month", "first_month", "last_month")})
    month_cols = ["institution_id", "month", *_HTML_COLUMNS]
    name_cols = [c for c in ("name_zh", "name_en") if c in by_dept]
    dept_cols = ["institution_id", "dept_id", *name_cols, "first_month", "last_month",
                 *_HTML_COLUMNS]
    definitions = pd.DataFrame(_readme_rows(df, None), columns=["term", "中文", "English"])
    sections += [
        Section("按机构与月份", "By institution and month",
                [Table(by_month[month_cols], formats=html_formats)]),
        Section("按科室（全期合计）", "By department (period totals)",
                [Table(by_dept[dept_cols], formats=html_formats)]),
        Section("定义", "Definitions", [Table(definitions)]),
    ]
    return sections


def write_activity_report(department_month: pd.DataFrame, out_dir: str | os.PathLike[str],
                          departments: pd.DataFrame | None = None, *,
                          generated_at: datetime | None = None) -> list[Path]:
    """Write the monthly activity summary (xlsx, HTML, manifest) into ``out_dir``.

    Parameters
    ----------
    department_month
        One row per institution × campus × department × month with :data:`ACTIVITY_COLUMNS`.
    out_dir
        Folder for the files (created if missing); files of the same name are replaced
        atomically.
    departments
        Optional lookup ``dept_id, name_zh, name_en`` (one row per department).
    generated_at
        Shown in the files when given; nothing in them depends on the clock otherwise.

    Returns
    -------
    list of Path
        ``activity_summary.xlsx``, ``activity_summary.html``, and the manifest (written last).

    Raises
    ------
    ReportError
        See :func:`prepare_department_month` and :func:`prepare_departments`; or a file cannot
        be written.
    """
    df = prepare_department_month(department_month)
    if departments is not None:
        refuse_patient_identifiers(departments.columns, where="department lookup")
    out = Path(out_dir)
    xlsx = write_workbook(out / f"{REPORT}.xlsx",
                          activity_sheets(df, departments, generated_at=generated_at),
                          title="医疗活动月度汇总 / Monthly activity summary", created=generated_at)
    facts = {
        "期间 / period": _period(df),
        "机构 / institutions": f"{df['institution_id'].nunique():,}",
        "科室 / departments": f"{df['dept_id'].nunique():,}",
        "输入行数 / rows read": f"{len(df):,}",
    }
    if generated_at is not None:
        facts["生成时间 / generated at"] = generated_at.isoformat(sep=" ")
    page = write_page(out / f"{REPORT}.html", "医疗活动月度汇总", "Monthly activity summary",
                      activity_sections(df, departments), facts=facts,
                      footer="hospital_sdk · ratios are computed from sums, never averaged "
                             "averages")
    manifest_facts: dict[str, Any] = {
        "input_rows": len(df),
        "period": None if df.empty else [_month_text(df["month"].min()),
                                          _month_text(df["month"].max())],
        "generated_at": None if generated_at is None else generated_at.isoformat(),
    }
    manifest = write_manifest(out, REPORT, [xlsx, page], facts=manifest_facts)
    return [xlsx.path, page.path, manifest.path]


__all__ = [
    "ACTIVITY_COLUMNS", "MEASURES", "RATIOS", "REPORT", "Ratio", "activity_by_department",
    "activity_by_institution_month", "activity_sections", "activity_sheets", "add_ratios",
    "prepare_department_month", "prepare_departments", "trend_figure", "write_activity_report",
]
