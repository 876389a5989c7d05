"""Medication orders and prescriptions, and charge lines."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, RowRule, Table
from hospital_sdk.model.keys import (
    INSTITUTION_ID, PATIENT_LOCAL_ID, SETTING, STAY_ID_REF, VISIT_ID_REF, dept, flag, key, money, staff,
)

MEDICATION_ORDER = Table(
    "medication_order", "order", "用药医嘱与处方（含发药剂量与点评）",
    "Medication orders and prescriptions, with the dose dispensed (for DDDs) and prescription review",
    "每条医嘱/处方明细一行", "one row per order or prescription line", ("institution_id", "order_id"),
    (
        INSTITUTION_ID,
        key("order_id", "医嘱/处方明细号", "Order line id"),
        SETTING, VISIT_ID_REF, STAY_ID_REF, PATIENT_LOCAL_ID,
        key("prescription_id", "处方号（门急诊）", "Prescription id (outpatient/ED)", nullable=True),
        Column("order_type", "string", "医嘱类型", "Order type", nullable=False, codes="order_type"),
        Column("drug_code", "string", "药品编码（本院）", "Drug code (local)", nullable=False),
        staff("prescriber_id", "开立医生", "Prescriber", nullable=False),
        dept(),
        Column("order_time", "timestamp", "开立时间", "Ordered at", nullable=False),
        Column("start_time", "timestamp", "开始执行时间", "Start of administration"),
        Column("stop_time", "timestamp", "停止时间", "Stopped at"),
        Column("route", "string", "给药途径", "Route", codes="administration_route"),
        Column("dose_per_admin", "float64", "单次剂量", "Dose per administration", minimum=0),
        Column("dose_unit", "string", "剂量单位", "Dose unit", codes="ddd_unit"),
        Column("frequency_per_day", "float64", "每日次数", "Administrations per day", minimum=0,
               maximum=48),
        Column("dispensed_quantity", "float64", "发药数量（最小包装单位）",
               "Quantity dispensed in dispensing units", minimum=-100000, maximum=100000),
        Column("dispensed_dose", "float64", "发药总剂量（含量单位）",
               "Total active ingredient dispensed, in the strength unit (negative = returned)",
               minimum=-1e7, maximum=1e7),
        money("amount", "金额", "Amount", minimum=None),
        flag("is_reviewed", "是否被点评", "Included in prescription/order review"),
        Column("review_result", "string", "点评结果", "Review result", codes="review_result"),
        Column("review_time", "timestamp", "点评时间", "Reviewed at"),
    ),
    period_column="order_time",
    rules=(RowRule("stop_after_start", "停止时间不早于开始时间", "stop_time is not before start_time",
                   "stop_time", ">=", "start_time"),),
)

CHARGE_LINE = Table(
    "charge_line", "charge", "收费明细（含医保支付金额，退费为负数）",
    "Charge lines with the amount paid by insurance (refunds are negative lines)",
    "每条收费明细一行", "one row per charge line", ("institution_id", "charge_id"),
    (
        INSTITUTION_ID,
        key("charge_id", "收费明细号", "Charge line id"),
        SETTING, VISIT_ID_REF, STAY_ID_REF, PATIENT_LOCAL_ID,
        Column("item_type", "string", "项目类型", "Item type", nullable=False, codes="item_type"),
        Column("item_code", "string", "收费项目编码（本院）", "Item code (local drug, consumable or "
               "service code)", nullable=False),
        Column("revenue_category", "string", "收入类别", "Revenue category", nullable=False,
               codes="revenue_category"),
        Column("quantity", "float64", "数量", "Quantity (negative = refund)", nullable=False,
               minimum=-100000, maximum=100000),
        money("unit_price", "单价", "Unit price"),
        money("amount", "金额", "Amount (negative = refund)", minimum=None),
        money("insurance_paid", "医保基金支付金额", "Paid by insurance funds", minimum=None),
        Column("charge_time", "timestamp", "计费时间", "Charged at", nullable=False),
        dept("billing_dept_id", "开单科室", "Ordering department"),
        dept("performing_dept_id", "执行科室", "Performing department", nullable=True),
        staff("ordering_doctor_id", "开单医生", "Ordering doctor"),
        key("order_id", "关联医嘱号", "Related order line", nullable=True),
    ),
    period_column="charge_time",
)

TABLES = (MEDICATION_ORDER, CHARGE_LINE)
