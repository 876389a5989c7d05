"""Reported inputs: values no patient record holds (finance, HR, satisfaction, EQA, EMR level,
research, qualitative items, drug procurement). Each is a typed table, so a reported value is
validated like any other input."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, Table
from hospital_sdk.model.keys import INSTITUTION_ID, flag, key, money

_YEAR = Column("year", "int16", "年度", "Year", nullable=False, minimum=1990, maximum=2100)
_REPORTED_BY = Column("reported_by", "string", "填报人/来源", "Reported by (person or system)")

FINANCE_STATEMENT = Table(
    "finance_statement", "reported", "财务报表项目（年报/月报）",
    "Financial statement lines (annual report, optionally monthly)",
    "每个机构每个期间每个报表项目一行", "one row per institution, period and statement line",
    ("institution_id", "period", "line_code"),
    (
        INSTITUTION_ID,
        Column("period", "string", "期间（YYYY 或 YYYY-MM）", "Period: a year YYYY or a month YYYY-MM",
               nullable=False, pattern=r"^(19|20)[0-9]{2}(-(0[1-9]|1[0-2]))?$"),
        Column("line_code", "string", "报表项目", "Statement line", nullable=False, codes="finance_line"),
        money("amount", "金额（元）", "Amount in yuan", minimum=None),
        _REPORTED_BY,
    ),
)

HR_SNAPSHOT = Table(
    "hr_snapshot", "reported", "人力资源统计快照", "HR statistics snapshot",
    "每个机构每个快照日每个指标项一行", "one row per institution, snapshot date and metric",
    ("institution_id", "snapshot_date", "metric_code"),
    (
        INSTITUTION_ID,
        Column("snapshot_date", "date", "快照日期（通常为年末）", "Snapshot date (usually year end)",
               nullable=False),
        Column("metric_code", "string", "指标项", "Metric", nullable=False, codes="hr_metric"),
        Column("value", "float64", "数值（人或人次）", "Value (persons or person-times)",
               nullable=False, minimum=0, maximum=1e6),
        _REPORTED_BY,
    ),
)

SATISFACTION_SCORE = Table(
    "satisfaction_score", "reported", "满意度调查得分（国家满意度调查平台）",
    "Satisfaction survey scores (national survey platform)",
    "每个机构每年每类调查一行", "one row per institution, year and survey type",
    ("institution_id", "year", "survey_type"),
    (
        INSTITUTION_ID, _YEAR,
        Column("survey_type", "string", "调查类型", "Survey type", nullable=False, codes="survey_type"),
        Column("score", "float64", "得分（0-100）", "Score on a 0-100 scale", nullable=False,
               minimum=0, maximum=100, unit="score"),
        Column("respondents", "int32", "有效样本量", "Valid responses", minimum=0),
    ),
)

EQA_RESULT = Table(
    "eqa_result", "reported", "临床检验室间质量评价结果", "External quality assessment of lab tests",
    "每个机构每年每个组织者每个检验项目一行", "one row per institution, year, scheme and test item",
    ("institution_id", "year", "scheme", "item_code"),
    (
        INSTITUTION_ID, _YEAR,
        Column("scheme", "string", "室间质评组织者", "EQA scheme", nullable=False, codes="eqa_scheme"),
        Column("item_code", "string", "检验项目编码", "Test item", nullable=False),
        Column("item_name", "string", "检验项目名称", "Test item name"),
        flag("is_performed", "本院开展该项目", "The laboratory performs this test"),
        flag("participated", "参加室间质评", "Took part in the EQA round"),
        flag("passed", "室间质评合格", "Passed", nullable=True),
    ),
)

EMR_ASSESSMENT = Table(
    "emr_assessment", "reported", "电子病历及智慧医院分级评价结果",
    "Electronic-medical-record and smart-hospital grading results",
    "每个机构每年一行", "one row per institution and year", ("institution_id", "year"),
    (
        INSTITUTION_ID, _YEAR,
        Column("emr_level", "int8", "电子病历应用水平分级（0-8级）", "EMR application level (0-8)",
               nullable=False, minimum=0, maximum=8, unit="level"),
        Column("smart_service_level", "int8", "智慧服务分级（0-5级）", "Smart-service level (0-5)",
               minimum=0, maximum=5, unit="level"),
        Column("smart_management_level", "int8", "智慧管理分级（0-5级）", "Smart-management level "
               "(0-5)", minimum=0, maximum=5, unit="level"),
    ),
)

RESEARCH_FUNDING = Table(
    "research_funding", "reported", "科研项目经费与成果转化", "Research grants and commercialisation",
    "每个机构每个项目每年一行", "one row per institution, project and year",
    ("institution_id", "year", "project_id"),
    (
        INSTITUTION_ID, _YEAR,
        key("project_id", "项目编号", "Project id"),
        Column("kind", "string", "经费类别", "Kind", nullable=False, codes="research_kind"),
        Column("funder_level", "string", "项目级别", "Funder level", codes="funder_level"),
        money("amount", "到账金额（元）", "Amount received in yuan"),
    ),
)

QUALITATIVE_ITEM = Table(
    "qualitative_item", "reported", "定性指标评价结果", "Results of qualitative assessment items",
    "每个机构每年每个定性项目一行", "one row per institution, year and item",
    ("institution_id", "year", "item_code"),
    (
        INSTITUTION_ID, _YEAR,
        Column("item_code", "string", "定性项目", "Item", nullable=False, codes="qualitative_item"),
        Column("grade", "string", "评价结果", "Grade", nullable=False, codes="qualitative_grade"),
        Column("evidence", "string", "佐证材料说明", "Evidence submitted"),
        _REPORTED_BY,
    ),
)

DRUG_PROCUREMENT = Table(
    "drug_procurement", "reported", "药品采购入库", "Drug procurement (goods received)",
    "每个机构每月每个药品一行", "one row per institution, month and drug",
    ("institution_id", "month", "drug_code"),
    (
        INSTITUTION_ID,
        Column("month", "date", "月份（当月1日）", "Month (first day)", nullable=False),
        Column("drug_code", "string", "药品编码（本院）", "Drug code (local)", nullable=False),
        Column("quantity", "float64", "入库数量", "Quantity received", nullable=False, minimum=0),
        money("amount", "采购金额", "Purchase amount"),
    ),
    period_column="month",
)

TABLES = (FINANCE_STATEMENT, HR_SNAPSHOT, SATISFACTION_SCORE, EQA_RESULT, EMR_ASSESSMENT,
          RESEARCH_FUNDING, QUALITATIVE_ITEM, DRUG_PROCUREMENT)
