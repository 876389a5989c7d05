"""Master data: the group's institutions, campuses, departments, wards, beds and staff."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, RowRule, Table
from hospital_sdk.model.keys import CAMPUS_ID, INSTITUTION_ID, dept, flag, key, ward

_VALIDITY = RowRule("valid_to_after_valid_from", "失效日期不早于生效日期",
                    "valid_to is not before valid_from", "valid_to", ">=", "valid_from")


def _valid_from(zh: str = "生效日期", en: str = "Valid from") -> Column:
    return Column("valid_from", "date", zh, en, nullable=False)


def _valid_to(zh: str = "失效日期（空=仍有效）", en: str = "Valid to (empty = still valid)") -> Column:
    return Column("valid_to", "date", zh, en)


INSTITUTION = Table(
    "institution", "master", "医疗机构（集团总院、分院、医联体成员）",
    "Institutions of the group: headquarters, branches and alliance partners",
    "每个医疗机构一行", "one row per institution", ("institution_id",),
    (
        key("institution_id", "机构编码", "Institution id"),
        Column("name_zh", "string", "机构名称", "Name (Chinese)", nullable=False),
        Column("name_en", "string", "机构英文名", "Name (English)"),
        key("parent_institution_id", "上级机构编码（总院为空）", "Parent institution (empty for headquarters)",
            references="institution.institution_id", nullable=True),
        Column("role", "string", "集团内角色", "Role in the group", nullable=False, codes="institution_role"),
        Column("level", "string", "医院等级", "Hospital tier", nullable=False, codes="institution_level"),
        Column("kind", "string", "医院类别", "Hospital kind", nullable=False, codes="institution_kind"),
        Column("org_code", "string", "统一社会信用代码", "Unified social credit code",
               pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$"),
        Column("region_code", "string", "行政区划代码", "Administrative region code", pattern=r"^[0-9]{6}$"),
        Column("is_public", "boolean", "是否公立医院", "Public hospital", nullable=False),
    ),
)

CAMPUS = Table(
    "campus", "master", "院区", "Campuses of an institution",
    "每个院区一行", "one row per campus", ("campus_id",),
    (
        key("campus_id", "院区编码", "Campus id"),
        INSTITUTION_ID,
        Column("name_zh", "string", "院区名称", "Name (Chinese)", nullable=False),
        Column("name_en", "string", "院区英文名", "Name (English)"),
        Column("opened_on", "date", "启用日期", "Opened on"),
    ),
)

DEPARTMENT = Table(
    "department", "master", "科室（含标准诊疗科目编码）",
    "Departments, with their standard specialty code so anaesthesia, paediatrics, critical care, "
    "pathology and TCM can be recognised",
    "每个机构的每个科室一行", "one row per department of an institution",
    ("dept_id",),
    (
        key("dept_id", "科室编码（集团内唯一）", "Department id (unique in the group)"),
        INSTITUTION_ID, CAMPUS_ID,
        Column("name_zh", "string", "科室名称", "Name (Chinese)", nullable=False),
        Column("name_en", "string", "科室英文名", "Name (English)"),
        Column("specialty_code", "string", "标准诊疗科目编码", "Standard specialty code",
               nullable=False, codes="specialty"),
        Column("kind", "string", "科室类别", "Department kind", nullable=False, codes="dept_kind"),
        dept("parent_dept_id", "上级科室", "Parent department", nullable=True),
        flag("has_outpatient", "是否开设门诊", "Runs outpatient clinics"),
        flag("has_inpatient", "是否开设住院", "Admits inpatients"),
        _valid_from(), _valid_to(),
    ),
    rules=(_VALIDITY,),
)

WARD = Table(
    "ward", "master", "病区（护理单元）", "Wards (nursing units)",
    "每个病区一行", "one row per ward", ("ward_id",),
    (
        key("ward_id", "病区编码（集团内唯一）", "Ward id (unique in the group)"),
        INSTITUTION_ID, CAMPUS_ID, dept(),
        Column("name_zh", "string", "病区名称", "Name (Chinese)", nullable=False),
        flag("quality_nursing", "是否开展优质护理服务", "Provides 优质护理 (high-quality nursing) service"),
        Column("quality_nursing_since", "date", "开展优质护理服务起始日期",
               "Date 优质护理 service started"),
        _valid_from(), _valid_to(),
    ),
    rules=(_VALIDITY,),
)

WARD_BEDS = Table(
    "ward_beds", "master", "病区实际开放床位（随时间变化）", "Open beds of a ward over time",
    "每个病区每个床位数有效期一行", "one row per ward and validity period of its bed count",
    ("ward_id", "valid_from"),
    (
        ward(), INSTITUTION_ID,
        _valid_from(), _valid_to(),
        Column("open_beds", "int32", "实际开放床位数", "Open (staffed) beds", nullable=False,
               minimum=0, maximum=2000, unit="bed"),
        Column("approved_beds", "int32", "编制床位数", "Approved beds", minimum=0, maximum=2000,
               unit="bed"),
    ),
    rules=(_VALIDITY,),
)

STAFF = Table(
    "staff", "master", "人员（医师、护士、药师、技师等）",
    "Staff: physicians, nurses, pharmacists, technicians and others (pseudonymous: no names)",
    "每名人员在每个机构一行", "one row per staff member of an institution", ("staff_id",),
    (
        key("staff_id", "工号（集团内唯一）", "Staff id (unique in the group)"),
        INSTITUTION_ID, dept(),
        Column("role", "string", "人员类别", "Role", nullable=False, codes="staff_role"),
        flag("is_licensed", "是否取得执业资格并注册", "Licensed and registered"),
        flag("is_resident", "是否住院医师规范化培训学员", "Resident in standardised training"),
        Column("title_level", "string", "专业技术职称等级", "Title level", nullable=False,
               codes="title_level"),
        Column("specialty_code", "string", "执业范围/专业（诊疗科目）", "Practice specialty",
               codes="specialty"),
        Column("sex", "string", "性别", "Sex", codes="sex"),
        Column("birth_year", "int16", "出生年份", "Birth year", minimum=1930, maximum=2010),
        Column("employed_from", "date", "入职日期", "Employed from", nullable=False),
        Column("employed_to", "date", "离职日期（空=在职）", "Employed to (empty = active)"),
    ),
    rules=(RowRule("employed_to_after_from", "离职日期不早于入职日期",
                   "employed_to is not before employed_from", "employed_to", ">=", "employed_from"),),
)

TABLES = (INSTITUTION, CAMPUS, DEPARTMENT, WARD, WARD_BEDS, STAFF)
