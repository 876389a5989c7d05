"""Chinese and English labels of the national-assessment report: column headers, sheet names,
directions, statuses, data sources.

One table per kind of label, each entry ``key: (中文, English)``; :func:`label` picks one by
language. Labels are words shown to people; the frames keep their contract column names
(:mod:`hospital_sdk.assessments.result`) until the last step renames them.

Examples
--------
>>> from hospital_sdk.reports.labels import label, COLUMNS
>>> label(COLUMNS, "prior_value", "zh"), label(COLUMNS, "prior_value", "en")
('上年值', 'prior year')
>>> label(DIRECTIONS, "lower_better", "zh")
'逐步降低'
>>> label(DATA_SOURCES, "某省平台", "en")  # an unknown value is shown as it is
'某省平台'
"""

from __future__ import annotations

from collections.abc import Mapping

from hospital_sdk.errors import ReportError

LANGUAGES: tuple[str, ...] = ("zh", "en")
"""Report languages: Chinese (the default) and English."""

Labels = Mapping[str, tuple[str, str]]
"""``key → (中文, English)``."""

COLUMNS: Labels = {
    "item": ("序号", "item"),
    "indicator": ("指标", "indicator"),
    "indicator_id": ("指标编码", "indicator id"),
    "institution": ("机构", "institution"),
    "dimension": ("一级维度", "dimension"),
    "sub_dimension": ("二级维度", "sub-dimension"),
    "value": ("指标值", "value"),
    "unit": ("单位", "unit"),
    "numerator": ("分子", "numerator"),
    "denominator": ("分母", "denominator"),
    "prior_value": ("上年值", "prior year"),
    "change": ("变化", "change"),
    "direction": ("指标导向", "direction"),
    "national_reference": ("全国参考值", "national reference"),
    "score": ("得分", "score"),
    "national_monitoring": ("▲", "▲"),
    "data_source": ("数据来源", "data source"),
    "responsible_department": ("责任部门", "responsible department"),
    "status": ("状态/原因", "status / reason"),
    "notes": ("备注/假设", "notes / assumptions"),
    "peer_percentile": ("同级百分位", "peer percentile"),
    "total_score": ("总分", "total score"),
    "scored_items": ("计分指标数", "scored items"),
    "percentile": ("百分位", "percentile"),
    "tier": ("等级（估计）", "tier (estimate)"),
    "assumptions": ("假设", "assumptions"),
    "department": ("科室编码", "department id"),
    "department_name": ("科室", "department"),
    "funnel_low": ("漏斗图下限", "funnel lower limit"),
    "funnel_high": ("漏斗图上限", "funnel upper limit"),
    "funnel_flag": ("漏斗图判定", "funnel position"),
    "suppressed": ("小样本隐藏", "suppressed (small count)"),
    "period": ("期间", "period"),
    "month": ("月份", "month"),
    "source_file": ("来源文件", "source file"),
    "submitted_at": ("提交时间", "submitted at"),
    "ok_items": ("可计算指标数", "computed items"),
    "not_computable_items": ("无法计算指标数", "items not computable"),
    "dimension_score": ("维度得分", "dimension score"),
    "term": ("项目", "term"),
    "text": ("内容", "text"),
}
"""Column headers of the workbook, the HTML tables and the PDF tables."""

SHEETS: Labels = {
    "summary": ("汇总", "Summary"),
    "departments": ("科室明细", "Departments"),
    "trend": ("月度趋势", "Monthly trend"),
    "reported": ("上报数据", "Reported inputs"),
    "quality": ("数据质量", "Data quality"),
    "notes": ("说明", "Notes"),
}
"""Names of the workbook's fixed sheets (dimension sheets are named after the dimension)."""

DIRECTIONS: Labels = {
    "higher_better": ("逐步提高", "higher is better"),
    "lower_better": ("逐步降低", "lower is better"),
    "monitor": ("监测比较", "monitored, not scored monotonically"),
    "target_range": ("目标区间", "within a target range"),
}
"""The manual's 指标导向 for each direction of the indicator specs."""

STATUSES: Labels = {
    "ok": ("已计算", "computed"),
    "not_computable": ("无法计算", "not computable"),
    "suppressed": ("小样本隐藏", "suppressed (small count)"),
}

FUNNEL_FLAGS: Labels = {
    "above": ("高于上限", "above the upper limit"),
    "below": ("低于下限", "below the lower limit"),
    "within": ("在控制限内", "within the limits"),
}

DATA_SOURCES: Labels = {
    "病案首页": ("病案首页", "medical-record front page"),
    "财务": ("财务年报", "annual financial report"),
    "填报": ("医院填报", "hospital self-report"),
    "平台": ("国家/省级平台", "national or provincial platform"),
    "满意度": ("满意度调查平台", "satisfaction-survey platform"),
}
"""The manual's data sources (``items.data_source``)."""

TEXT: Labels = {
    "estimate": ("等级为估计值，并非官方评定结果", "the tier is an estimate, not the official "
                 "grade"),
    "rests_on": ("所依据的假设：", "it rests on these assumptions:"),
    "no_tiers": ("尚未计分，无等级估计", "not scored yet: no tier estimate"),
    "suppressed_note": ("分母小于 {k} 的科室数据已隐藏（{n} 行）",
                        "department figures with a denominator below {k} are hidden "
                        "(rows hidden: {n})"),
    "suppressed_given": ("小样本科室数据已隐藏（{n} 行）",
                         "small-count department figures are hidden (rows hidden: {n})"),
    "points_only": ("未计算漏斗图控制限：仅显示各科室的点",
                    "no funnel limits were computed: departments are shown as points only"),
    "overview_score": ("各维度得分合计", "sum of scores per dimension"),
    "overview_count": ("尚未计分：各维度已计算的指标数",
                       "not scored yet: computed items per dimension"),
    "group_value": ("同级均值", "group value"),
    "no_assumptions": ("无", "none"),
    "items_fact": ("{items} 项指标 × {institutions} 家机构，已计算 {ok} / {rows}",
                   "{items} items × {institutions} institutions, {ok} of {rows} computed"),
}
"""Sentences of the report; ``{k}``/``{n}`` are filled in with :meth:`str.format`."""


def check_language(lang: str) -> str:
    """Return ``lang`` if it is a report language, else raise
    :class:`~hospital_sdk.errors.ReportError`.

    Examples
    --------
    >>> check_language("en")
    'en'
    >>> check_language("fr")
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: report language 'fr' is not one of ('zh', 'en')
    """
    if lang not in LANGUAGES:
        raise ReportError(f"report language {lang!r} is not one of {LANGUAGES}")
    return lang


def label(labels: Labels, key: str, lang: str) -> str:
    """The label of ``key`` in ``lang``; ``key`` itself when the table does not know it.

    Examples
    --------
    >>> label(STATUSES, "not_computable", "en"), label(STATUSES, "pending", "en")
    ('not computable', 'pending')
    """
    pair = labels.get(key)
    if pair is None:
        return key
    return pair[LANGUAGES.index(check_language(lang))]


def headers(keys: list[str], lang: str) -> dict[str, str]:
    """``{column: header}`` for renaming a frame's contract columns into ``lang``.

    Examples
    --------
    >>> headers(["item", "value"], "zh")
    {'item': '序号', 'value': '指标值'}
    """
    return {k: label(COLUMNS, k, lang) for k in keys}


__all__ = ["COLUMNS", "DATA_SOURCES", "DIRECTIONS", "FUNNEL_FLAGS", "LANGUAGES", "Labels",
           "SHEETS", "STATUSES", "TEXT", "check_language", "headers", "label"]
