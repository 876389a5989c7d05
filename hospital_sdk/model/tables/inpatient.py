"""Inpatient stays as the discharge abstract (病案首页), with diagnoses, procedures and ward
movements as long tables."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, RowRule, Table
from hospital_sdk.model.keys import (
    CAMPUS_ID, INSTITUTION_ID, PATIENT_LOCAL_ID, dept, flag, key, money, staff, ward,
)
from hospital_sdk.model.tables.catalog import ICD9CM3_PATTERN, ICD10_PATTERN

_STAY_ID = key("stay_id", "住院流水号", "Stay id", references="inpatient_stay.stay_id")


def _cost(name: str, zh: str, en: str) -> Column:
    return money(name, zh, en)


INPATIENT_STAY = Table(
    "inpatient_stay", "inpatient", "住院病案首页（出院患者）",
    "Inpatient stays: the discharge abstract (病案首页) of each discharged patient",
    "每次住院一行", "one row per inpatient stay", ("institution_id", "stay_id"),
    (
        INSTITUTION_ID, CAMPUS_ID,
        key("stay_id", "住院流水号", "Stay id"),
        PATIENT_LOCAL_ID,
        Column("medical_record_number", "string", "病案号", "Medical record number",
               nullable=False, sensitivity="record_identifier"),
        Column("admission_count", "int16", "住院次数", "Nth admission of this patient", minimum=1,
               maximum=999),
        Column("admission_time", "timestamp", "入院时间", "Admission time", nullable=False),
        dept("admission_dept_id", "入院科别", "Admitting department"),
        ward("admission_ward_id", "入院病房", "Admitting ward", nullable=True),
        Column("discharge_time", "timestamp", "出院时间", "Discharge time", nullable=False),
        dept("discharge_dept_id", "出院科别", "Discharging department"),
        ward("discharge_ward_id", "出院病房", "Discharging ward", nullable=True),
        Column("los_days", "int32", "实际住院天数", "Length of stay in days as recorded",
               nullable=False, minimum=0, maximum=3650, unit="day"),
        staff("attending_doctor_id", "主治医师", "Attending physician"),
        Column("admission_route", "string", "入院途径", "Admission route", nullable=False,
               codes="admission_route"),
        Column("discharge_disposition", "string", "离院方式", "Discharge disposition",
               nullable=False, codes="discharge_disposition"),
        Column("transfer_facility_level", "string", "拟接收机构级别（离院方式2/3）",
               "Level of the receiving facility (disposition 2 or 3)", codes="facility_level"),
        Column("readmission_plan", "string", "出院31天内再住院计划", "Plan to readmit within 31 days",
               nullable=False, codes="readmission_plan"),
        Column("readmission_purpose", "string", "再住院目的", "Purpose of the planned readmission"),
        Column("age_years", "int16", "年龄（岁）", "Age in years at admission", nullable=False,
               minimum=0, maximum=130, unit="year"),
        Column("age_days", "int16", "年龄不足1周岁的天数", "Age in days when under one year",
               minimum=0, maximum=365, unit="day"),
        flag("is_newborn", "新生儿（入院时≤28天）", "Newborn (≤ 28 days at admission)"),
        Column("newborn_birth_weight_g", "int32", "新生儿出生体重（克）", "Birth weight of a newborn",
               minimum=200, maximum=8000, unit="g"),
        Column("payer", "string", "医疗付费方式", "Payer", nullable=False, codes="payer"),
        flag("is_day_surgery", "日间手术病例", "Day-surgery case"),
        flag("is_special_needs", "特需服务病例", "Premium (特需) service case"),
        Column("drg_code", "string", "DRG分组编码", "DRG group assigned by the grouper",
               pattern=r"^[A-Z]{2}[A-Z0-9][0-9]{1,2}$"),
        Column("grouper_version", "string", "分组器版本", "Grouper version"),
        _cost("total_cost", "住院总费用", "Total cost of the stay"),
        _cost("self_pay_cost", "自付金额", "Paid by the patient"),
        _cost("insurance_paid", "医保基金支付", "Paid by insurance funds"),
        _cost("cost_general_service", "综合医疗服务类费用", "General medical services (bed, nursing, "
              "general treatment)"),
        _cost("cost_lab", "实验室诊断费", "Laboratory diagnostics"),
        _cost("cost_imaging", "影像学诊断费", "Imaging diagnostics"),
        _cost("cost_pathology", "病理诊断费", "Pathology diagnostics"),
        _cost("cost_clinical_diagnosis", "临床诊断项目费", "Clinical diagnostic items"),
        _cost("cost_non_surgical_treatment", "非手术治疗项目费", "Non-surgical treatment"),
        _cost("cost_surgery", "手术治疗费（含麻醉费）", "Surgical treatment incl. anaesthesia"),
        _cost("cost_rehabilitation", "康复类费用", "Rehabilitation"),
        _cost("cost_tcm", "中医类费用", "TCM treatment"),
        _cost("cost_drug_western", "西药费", "Western drugs"),
        _cost("cost_drug_antibacterial", "其中：抗菌药物费用", "of which antibacterials"),
        _cost("cost_drug_chinese", "中药费（中成药+中草药）", "Chinese medicines"),
        _cost("cost_blood", "血液和血液制品类费用", "Blood and blood products"),
        _cost("cost_material", "耗材类费用", "Consumables"),
        _cost("cost_other", "其他费用", "Other"),
    ),
    period_column="discharge_time",
    rules=(
        RowRule("discharge_after_admission", "出院时间不早于入院时间",
                "discharge_time is not before admission_time", "discharge_time", ">=",
                "admission_time"),
        RowRule("antibacterial_within_western", "抗菌药物费用不超过西药费",
                "cost_drug_antibacterial is not more than cost_drug_western",
                "cost_drug_antibacterial", "<=", "cost_drug_western"),
        RowRule("self_pay_within_total", "自付金额不超过总费用", "self_pay_cost is not more than "
                "total_cost", "self_pay_cost", "<=", "total_cost"),
    ),
)

STAY_DIAGNOSIS = Table(
    "stay_diagnosis", "inpatient", "病案首页诊断（长表，出院诊断序号1为主要诊断）",
    "Diagnoses of a stay as a long table (discharge diagnosis seq 1 is the principal diagnosis)",
    "每次住院每个诊断类别的每个序号一行", "one row per stay, diagnosis kind and sequence number",
    ("institution_id", "stay_id", "diagnosis_kind", "seq"),
    (
        INSTITUTION_ID, _STAY_ID,
        Column("diagnosis_kind", "string", "诊断类别", "Diagnosis kind", nullable=False,
               codes="diagnosis_kind"),
        Column("seq", "int16", "序号（1=主要诊断）", "Sequence (1 = principal)", nullable=False,
               minimum=1, maximum=99),
        Column("diagnosis_code", "string", "疾病编码（ICD-10国家临床版）",
               "Diagnosis code (ICD-10 national clinical edition)", nullable=False,
               pattern=ICD10_PATTERN),
        Column("diagnosis_name", "string", "疾病名称", "Diagnosis name"),
        Column("present_on_admission", "string", "入院病情", "Present on admission (discharge "
               "diagnoses)", codes="present_on_admission"),
    ),
)

STAY_PROCEDURE = Table(
    "stay_procedure", "inpatient", "病案首页手术及操作（长表，序号1为主要手术操作）",
    "Procedures of a stay as a long table (seq 1 is the principal procedure)",
    "每次住院每个手术操作序号一行", "one row per stay and procedure sequence number",
    ("institution_id", "stay_id", "seq"),
    (
        INSTITUTION_ID, _STAY_ID,
        Column("seq", "int16", "序号（1=主要手术操作）", "Sequence (1 = principal)", nullable=False,
               minimum=1, maximum=99),
        Column("procedure_code", "string", "手术操作编码（ICD-9-CM-3国家临床版）",
               "Procedure code (ICD-9-CM-3 national clinical edition)", nullable=False,
               pattern=ICD9CM3_PATTERN),
        Column("procedure_name", "string", "手术操作名称", "Procedure name"),
        Column("procedure_time", "timestamp", "手术操作日期时间", "Procedure date-time", nullable=False),
        Column("operation_level", "string", "手术级别（医院申报）", "Operation level as recorded",
               codes="operation_level"),
        staff("surgeon_id", "术者", "Operating surgeon"),
        Column("incision_class", "string", "切口等级", "Incision class", codes="incision_class"),
        Column("healing_grade", "string", "切口愈合等级", "Healing grade", codes="healing_grade"),
        Column("anaesthesia_method", "string", "麻醉方式", "Anaesthesia", codes="anaesthesia_method"),
        Column("surgery_type", "string", "手术类型", "Elective / emergency / time-limited",
               codes="surgery_type"),
        flag("is_day_surgery", "日间手术", "Done as day surgery"),
        flag("is_unplanned_reoperation", "非计划再次手术", "Unplanned return to theatre"),
    ),
    period_column="procedure_time",
)

STAY_MOVEMENT = Table(
    "stay_movement", "inpatient", "住院转科转床（病区占用区间）",
    "Ward movements of a stay: the intervals in which it occupied a ward (admission, transfers)",
    "每次住院每个病区占用区间一行", "one row per stay and ward interval",
    ("institution_id", "stay_id", "seq"),
    (
        INSTITUTION_ID, _STAY_ID,
        Column("seq", "int16", "序号", "Sequence", nullable=False, minimum=1, maximum=999),
        ward(), dept(),
        Column("start_time", "timestamp", "入区时间", "Entered the ward", nullable=False),
        Column("end_time", "timestamp", "出区时间（空=仍在院）", "Left the ward (empty = still there)"),
    ),
    period_column="start_time",
    rules=(RowRule("end_after_start", "出区时间不早于入区时间", "end_time is not before start_time",
                   "end_time", ">=", "start_time"),),
)

TABLES = (INPATIENT_STAY, STAY_DIAGNOSIS, STAY_PROCEDURE, STAY_MOVEMENT)
