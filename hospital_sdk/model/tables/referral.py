"""Referrals between the group's institutions and outside facilities."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, Table
from hospital_sdk.model.keys import (
    INSTITUTION_ID, PATIENT_LOCAL_ID, SETTING, STAY_ID_REF, VISIT_ID_REF, dept, flag, key, staff,
)

REFERRAL = Table(
    "referral", "referral", "双向转诊记录", "Two-way referral records",
    "每次转诊一行", "one row per referral", ("institution_id", "referral_id"),
    (
        INSTITUTION_ID,
        key("referral_id", "转诊单号", "Referral id"),
        Column("direction", "string", "转诊方向", "Direction", nullable=False, codes="referral_direction"),
        SETTING, VISIT_ID_REF, STAY_ID_REF, PATIENT_LOCAL_ID,
        Column("partner_org_code", "string", "对方机构编码", "Partner facility code", nullable=False),
        Column("partner_org_name", "string", "对方机构名称", "Partner facility name"),
        Column("partner_level", "string", "对方机构级别", "Partner facility level", nullable=False,
               codes="facility_level"),
        flag("is_alliance_member", "是否医联体成员", "Partner is in the medical alliance"),
        dept(), staff("doctor_id", "转诊医生", "Referring doctor"),
        Column("referral_time", "timestamp", "转诊时间", "Referred at", nullable=False),
    ),
    period_column="referral_time",
)

TABLES = (REFERRAL,)
