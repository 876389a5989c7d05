"""Examinations with large medical equipment, and laboratory test orders."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, RowRule, Table
from hospital_sdk.model.keys import (
    INSTITUTION_ID, PATIENT_LOCAL_ID, SETTING, STAY_ID_REF, VISIT_ID_REF, dept, flag, key,
)

EXAM = Table(
    "exam", "diagnostic", "检查（含大型医用设备检查及阳性结果）",
    "Examinations, including large-equipment examinations (CT/MR/DSA/SPECT/PET-CT) and whether "
    "the finding was positive", "每次检查一行", "one row per examination",
    ("institution_id", "exam_id"),
    (
        INSTITUTION_ID,
        key("exam_id", "检查申请号", "Examination id"),
        SETTING, VISIT_ID_REF, STAY_ID_REF, PATIENT_LOCAL_ID,
        Column("equipment_type", "string", "大型设备类型（非大型设备为空）",
               "Large-equipment type (empty for other examinations)", codes="equipment_type"),
        Column("exam_item_code", "string", "检查项目编码（本院）", "Examination item (local code)",
               nullable=False),
        Column("body_part", "string", "检查部位", "Body part"),
        dept("ordering_dept_id", "申请科室", "Ordering department"),
        dept("performing_dept_id", "执行科室", "Performing department", nullable=True),
        Column("order_time", "timestamp", "申请时间", "Ordered at", nullable=False),
        Column("exam_time", "timestamp", "检查时间", "Examined at"),
        Column("report_time", "timestamp", "报告时间", "Reported at"),
        flag("is_positive", "检查结果阳性", "Positive finding (abnormality reported)", nullable=True),
    ),
    period_column="order_time",
    rules=(
        RowRule("exam_after_order", "检查时间不早于申请时间", "exam_time is not before order_time",
                "exam_time", ">=", "order_time"),
        RowRule("report_after_exam", "报告时间不早于检查时间", "report_time is not before exam_time",
                "report_time", ">=", "exam_time"),
    ),
)

LAB_ORDER = Table(
    "lab_order", "diagnostic", "检验申请（含采样、接收、报告时间）",
    "Laboratory test orders with collection, receipt and report times",
    "每个检验申请一行", "one row per lab test order", ("institution_id", "lab_order_id"),
    (
        INSTITUTION_ID,
        key("lab_order_id", "检验申请号", "Lab order id"),
        SETTING, VISIT_ID_REF, STAY_ID_REF, PATIENT_LOCAL_ID,
        Column("test_code", "string", "检验项目编码（本院）", "Test code (local)", nullable=False),
        Column("test_name", "string", "检验项目名称", "Test name"),
        Column("specimen", "string", "标本类型", "Specimen", codes="specimen_type"),
        dept("ordering_dept_id", "申请科室", "Ordering department"),
        Column("order_time", "timestamp", "申请时间", "Ordered at", nullable=False),
        Column("collect_time", "timestamp", "采样时间", "Specimen collected"),
        Column("receive_time", "timestamp", "接收时间", "Received by the lab"),
        Column("report_time", "timestamp", "报告时间", "Reported"),
        flag("is_abnormal", "结果异常", "Any abnormal result", nullable=True),
    ),
    period_column="order_time",
    rules=(
        RowRule("receive_after_collect", "接收时间不早于采样时间",
                "receive_time is not before collect_time", "receive_time", ">=", "collect_time"),
        RowRule("report_after_receive", "报告时间不早于接收时间",
                "report_time is not before receive_time", "report_time", ">=", "receive_time"),
    ),
)

TABLES = (EXAM, LAB_ORDER)
