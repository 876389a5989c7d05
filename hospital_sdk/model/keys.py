"""Columns shared by many tables: keys and the references between them.

Every operational key is scoped by institution, as each hospital's HIS numbers its own visits,
stays, orders and staff; the group-wide patient id is assigned in the cleaned layer.
"""

from __future__ import annotations

from hospital_sdk.model.contract import Column

_ID = r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,63}$"


def key(name: str, zh: str, en: str, *, references: str | None = None,
        nullable: bool = False) -> Column:
    """An identifier column (string, restricted to a safe character set)."""
    return Column(name, "string", zh, en, nullable=nullable, pattern=_ID, references=references)


INSTITUTION_ID = key("institution_id", "机构编码", "Institution id",
                     references="institution.institution_id")
CAMPUS_ID = key("campus_id", "院区编码", "Campus id", references="campus.campus_id")
PATIENT_LOCAL_ID = key("patient_local_id", "院内患者ID", "Patient id in the institution's HIS",
                       references="patient.patient_local_id")
VISIT_ID_REF = key("visit_id", "门急诊就诊流水号", "Outpatient/ED visit id (when outpatient)",
                   references="outpatient_visit.visit_id", nullable=True)
STAY_ID_REF = key("stay_id", "住院流水号", "Inpatient stay id (when inpatient)",
                  references="inpatient_stay.stay_id", nullable=True)
SETTING = Column("setting", "string", "就诊场景", "Care setting", nullable=False, codes="care_setting")


def dept(name: str = "dept_id", zh: str = "科室编码", en: str = "Department id", *,
         nullable: bool = False) -> Column:
    """A department reference."""
    return key(name, zh, en, references="department.dept_id", nullable=nullable)


def staff(name: str, zh: str, en: str, *, nullable: bool = True) -> Column:
    """A staff reference."""
    return key(name, zh, en, references="staff.staff_id", nullable=nullable)


def ward(name: str = "ward_id", zh: str = "病区编码", en: str = "Ward id", *,
         nullable: bool = False) -> Column:
    """A ward reference."""
    return key(name, zh, en, references="ward.ward_id", nullable=nullable)


def money(name: str, zh: str, en: str, *, nullable: bool = False, minimum: float | None = 0) -> Column:
    """An amount in yuan, two decimals."""
    return Column(name, "decimal(18,2)", zh, en, nullable=nullable, unit="yuan", minimum=minimum)


def flag(name: str, zh: str, en: str, *, nullable: bool = False) -> Column:
    """A yes/no column."""
    return Column(name, "boolean", zh, en, nullable=nullable)
