"""Outpatient, emergency and health-check visits."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, RowRule, Table
from hospital_sdk.model.keys import CAMPUS_ID, INSTITUTION_ID, PATIENT_LOCAL_ID, dept, flag, key, money, staff


def _after(name: str, zh: str, later: str, earlier: str) -> RowRule:
    return RowRule(name, zh, f"{later} is not before {earlier}", later, ">=", earlier)


OUTPATIENT_VISIT = Table(
    "outpatient_visit", "outpatient", "门急诊就诊（含预约、签到、叫号、结束时间）",
    "Outpatient, emergency and health-check visits with appointment, check-in, call-in and end times",
    "每次挂号就诊一行", "one row per registered visit", ("institution_id", "visit_id"),
    (
        INSTITUTION_ID, CAMPUS_ID,
        key("visit_id", "门急诊就诊流水号", "Visit id"),
        PATIENT_LOCAL_ID,
        Column("visit_type", "string", "就诊类型", "Visit type", nullable=False, codes="visit_type"),
        dept(),
        staff("doctor_id", "接诊医生工号", "Doctor seen"),
        Column("registration_channel", "string", "挂号渠道", "Registration channel", nullable=False,
               codes="registration_channel"),
        flag("is_appointment", "是否预约就诊", "Booked in advance (预约诊疗)"),
        Column("booked_at", "timestamp", "预约操作时间", "When the appointment was booked"),
        Column("visit_time", "timestamp", "就诊日挂号/取号时间", "Registration time on the day of the "
               "visit (places the visit in a period)", nullable=False),
        Column("slot_start", "timestamp", "预约时段开始时间", "Start of the booked slot"),
        Column("checkin_time", "timestamp", "签到/分诊时间", "Check-in (arrival at triage) time"),
        Column("call_time", "timestamp", "叫号进入诊室时间", "Called into the consulting room"),
        Column("end_time", "timestamp", "就诊结束时间", "Consultation end"),
        Column("payer", "string", "医疗付费方式", "Payer", nullable=False, codes="payer"),
        money("total_fee", "总费用", "Total fees of the visit"),
        money("drug_fee", "药品费", "Drug fees of the visit"),
        money("insurance_paid", "医保基金支付", "Paid by insurance funds"),
        flag("is_special_needs", "特需门诊", "Premium (特需) clinic"),
        flag("down_referral", "是否下转", "Down-referred to a lower-level facility"),
        flag("is_cancelled", "是否退号", "Registration cancelled"),
    ),
    period_column="visit_time",
    rules=(
        _after("call_after_checkin", "叫号时间不早于签到时间", "call_time", "checkin_time"),
        _after("end_after_call", "结束时间不早于叫号时间", "end_time", "call_time"),
        _after("visit_after_booking", "就诊时间不早于预约操作时间", "visit_time", "booked_at"),
    ),
)

TABLES = (OUTPATIENT_VISIT,)
