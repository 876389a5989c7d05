"""Patients as registered in each institution's HIS, and the group patient master index."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, Table
from hospital_sdk.model.keys import INSTITUTION_ID, key

PATIENT = Table(
    "patient", "patient", "患者（各机构HIS登记）",
    "Patients as registered in an institution's HIS; the identity-document number is tokenised on "
    "load and never stored in clear",
    "每个机构的每个院内患者ID一行", "one row per patient id of an institution",
    ("institution_id", "patient_local_id"),
    (
        INSTITUTION_ID,
        key("patient_local_id", "院内患者ID", "Patient id in the institution's HIS"),
        Column("medical_record_number", "string", "病案号", "Medical record number (病案号)",
               sensitivity="record_identifier"),
        Column("outpatient_card_number", "string", "就诊卡号", "Outpatient card number",
               sensitivity="record_identifier"),
        Column("sex", "string", "性别", "Sex", nullable=False, codes="sex"),
        Column("birth_date", "date", "出生日期", "Birth date", nullable=False,
               sensitivity="quasi_identifier"),
        Column("id_document_type", "string", "身份证件类别", "Identity document type",
               codes="id_document_type"),
        Column("id_number", "string", "身份证件号码（入库即令牌化）",
               "Identity document number (tokenised on load)", sensitivity="direct_identifier"),
        Column("residence_region_code", "string", "现住址行政区划代码", "Region code of residence",
               pattern=r"^[0-9]{6}$"),
        Column("registered_at", "timestamp", "建档时间", "Registered at", nullable=False),
    ),
    period_column="registered_at",
)

PATIENT_INDEX = Table(
    "patient_index", "patient", "患者主索引（EMPI）", "Patient master index (EMPI): the group-wide "
    "person id of each institution's patient record, and the rule that linked it",
    "每个机构的每个院内患者ID一行", "one row per patient id of an institution",
    ("institution_id", "patient_local_id"),
    (
        INSTITUTION_ID,
        key("patient_local_id", "院内患者ID", "Patient id in the institution's HIS"),
        key("empi_id", "集团患者主索引号", "Group patient master index id"),
        Column("link_rule", "string", "匹配规则", "Rule that linked this record "
               "(id_token / record_number / new)", nullable=False),
        Column("link_score", "float64", "匹配得分", "Match score (1 for deterministic rules)",
               minimum=0, maximum=1),
        Column("linked_at", "timestamp", "匹配时间", "Linked at", nullable=False),
    ),
    source=False,
)

TABLES = (PATIENT, PATIENT_INDEX)
