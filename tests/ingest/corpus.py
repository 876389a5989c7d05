"""A small contract shaped like the real one (stays, diagnoses, patients with identity numbers),
the bad-input corpus written against it, and small helpers for the ingest tests."""

from __future__ import annotations

from pathlib import Path

from hospital_sdk.model.contract import Column, Contract, RowRule, Table, code_set
from hospital_sdk.store import Lakehouse

ID_PATTERN = r"^[A-Z0-9]+$"
ICD10 = r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,3}(x[0-9]{3})?)?$"
ID_NUMBER = r"^[0-9]{17}[0-9X]$"

STAY = Table(
    "stay", "inpatient", "住院", "Stay", "每次住院一行", "one row per stay",
    ("institution_id", "stay_id"),
    (
        Column("institution_id", "string", "机构", "Institution", nullable=False,
               pattern=ID_PATTERN),
        Column("stay_id", "string", "住院号", "Stay id", nullable=False),
        Column("admission_time", "timestamp", "入院时间", "Admission", nullable=False),
        Column("discharge_time", "timestamp", "出院时间", "Discharge", nullable=False),
        Column("los_days", "int32", "住院天数", "LOS", minimum=0, maximum=3650),
        Column("discharge_disposition", "string", "离院方式", "Disposition", nullable=False,
               codes="discharge_disposition"),
        Column("total_cost", "decimal(18,2)", "总费用", "Total cost", minimum=0),
    ),
    period_column="discharge_time",
    rules=(RowRule("discharge_after_admission", "出院时间不早于入院时间",
                   "discharge_time is not before admission_time", "discharge_time", ">=",
                   "admission_time"),),
)

STAY_DIAGNOSIS = Table(
    "stay_diagnosis", "inpatient", "诊断", "Diagnosis", "每个诊断一行", "one row per diagnosis",
    ("institution_id", "stay_id", "seq"),
    (
        Column("institution_id", "string", "机构", "Institution", nullable=False,
               pattern=ID_PATTERN),
        Column("stay_id", "string", "住院号", "Stay id", nullable=False),
        Column("seq", "int16", "序号", "Sequence", nullable=False, minimum=1, maximum=99),
        Column("diagnosis_code", "string", "诊断编码", "ICD-10 code", nullable=False,
               pattern=ICD10),
        Column("diagnosis_name", "string", "诊断名称", "Diagnosis name"),
        Column("diagnosis_date", "date", "诊断日期", "Diagnosis date"),
    ),
)

PATIENT = Table(
    "patient", "patient", "患者", "Patient", "每个患者一行", "one row per patient",
    ("institution_id", "patient_local_id"),
    (
        Column("institution_id", "string", "机构", "Institution", nullable=False,
               pattern=ID_PATTERN),
        Column("patient_local_id", "string", "患者ID", "Patient id", nullable=False),
        Column("name", "string", "姓名", "Name"),
        Column("id_number", "string", "身份证号", "Identity number", pattern=ID_NUMBER,
               sensitivity="direct_identifier"),
        Column("sex", "string", "性别", "Sex", nullable=False, codes="sex"),
        Column("birth_date", "date", "出生日期", "Birth date", sensitivity="quasi_identifier"),
    ),
)

DERIVED = Table(
    "stay_summary", "inpatient", "派生", "Derived", "每行", "one row", ("stay_id",),
    (Column("stay_id", "string", "住院号", "Stay id", nullable=False),), source=False,
)

CONTRACT = Contract(
    "test",
    (STAY, STAY_DIAGNOSIS, PATIENT, DERIVED),
    (
        code_set("discharge_disposition", "离院方式", "Disposition", [
            ("1", "医嘱离院", "discharged"), ("2", "转院", "transferred"),
            ("3", "转社区", "to community"), ("4", "非医嘱离院", "against advice"),
            ("5", "死亡", "died"), ("9", "其他", "other")]),
        code_set("sex", "性别", "Sex", [("1", "男", "male"), ("2", "女", "female"),
                                      ("9", "未说明", "not stated")]),
    ),
)


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write CSV text (lines as given, dedented) in ``encoding``."""
    import textwrap

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).lstrip("\n").encode(encoding))
    return path


def rows(lake: Lakehouse, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of a query on the lake, sorted."""
    return sorted(lake.duck.execute(sql, params or []).fetchall(), key=repr)


# -- the bad-input corpus ------------------------------------------------------------------------
# Every defect the loader must catch, each in a row whose expected fate is written next to it.
# Files load in name order: patient.csv, stay.csv, stay_diagnosis/extra.parquet,
# stay_diagnosis_2024-01.csv, stay_diagnosis_2024-02.csv.

STAY_CSV = """
institution_id,stay_id,admission_time,discharge_time,los_days,discharge_disposition,total_cost
H1,S01,2024-01-01 08:00:00,2024-01-05 10:00:00,4,1,1000.50
H1,S02,2024-01-02 08:00:00,2024-01-01 10:00:00,0,1,200
H1,S03,2024-01-03 08:00:00,2024-01-04 08:00:00,abc,1,300
H1,S04,2024-01-03 08:00:00,2024-01-04 08:00:00,1,7,300
H1,S05,2024-13-03 08:00:00,2024-01-04 08:00:00,1,1,300
H1,S06,2024-01-03 08:00:00,2024-01-04 08:00:00,5000,1,300
H1,S07,2024-01-03 08:00:00,2024-01-04 08:00:00,1,,300
H1,S01,2024-01-03 08:00:00,2024-01-04 08:00:00,1,1,300
H1,S08,2024-01-03 08:00:00,2024-01-04 08:00:00,1.5,1,300
h-1,S09,2024-01-03 08:00:00,2024-01-04 08:00:00,1,1,300
H1,S10,2024-01-03 08:00:00,2024-01-04 08:00:00,1,1,-5
H1,S11,2024-01-03 08:00:00,2024-01-04 08:00:00,,1,
H1,S12,2024-01-03 08:00:00,2024-01-04 08:00:00,x,8,300
H1,S13,2024-01-03 08:00:00,2024-01-03 08:00:00,0,1,12.00
"H1","S14","2024-01-03 08:00:00","2024-01-04 08:00:00","1","1",""
H1,S02,2024-01-02 08:00:00,2024-01-03 10:00:00,1,1,200
H1,   ,2024-01-03 08:00:00,2024-01-04 08:00:00,1,1,300
"""
#: rows of stay.csv that load (the first S02 is rejected, so the later valid S02 is the first
#: valid occurrence of its key and loads)
STAY_LOADED = {("S01", 1), ("S11", 12), ("S13", 14), ("S14", 15), ("S02", 16)}
STAY_REJECTS = {
    "violates rule discharge_after_admission: discharge_time is not before admission_time": 1,
    "not a valid int32": 3,                                # rows 3, 9 (1.5), 13 (x, plus code 8)
    "code '7' not in discharge_disposition": 1,            # row 4
    "not a valid timestamp": 1,                            # row 5, month 13
    "out of range [0, 3650]": 1,                           # row 6
    "required value missing": 2,                           # row 7 (disposition), 17 (blank id)
    "duplicate primary key, first seen at row 1": 1,       # row 8
    f"does not match {ID_PATTERN}": 1,                     # row 10
    "out of range (minimum 0)": 1,                         # row 11
}

PARQUET_ROWS = {  # stay_diagnosis/extra.parquet, typed columns
    "institution_id": ["H1", "H1", "H1"],
    "stay_id": ["S01", "S01", "S02"],
    "seq": [1, 2, 1],
    "diagnosis_code": ["I21.000", "E11.900", None],        # row 3: principal code missing
    "diagnosis_name": ["急性心肌梗死", "2型糖尿病", None],
    "diagnosis_date": ["2024-01-02", None, None],
}
PARQUET_REJECTS = {"required value missing": 1}

DIAGNOSIS_2024_01 = """
institution_id,stay_id,seq,diagnosis_code,diagnosis_name,diagnosis_date
H1,S03,1,K35.800x001,急性阑尾炎,2024-01-03
H1,S03,2,J18.9,肺炎,2024-02-30
H1,S04,1,I2l.0,心绞痛,
H1,S01,1,I21.000,急性心肌梗死,
H1,S05,1,,主要诊断缺失,
H1,S05,0,A01,伤寒,
H1,S06,1,A01.0,伤寒,2024-01-06
H1,S06,1,A01.0,伤寒,2024-01-06
"""
DIAGNOSIS_2024_01_REJECTS = {
    "not a valid date": 1,                                               # row 2, 30 February
    f"does not match {ICD10}": 1,                                        # row 3, I2l (letter l)
    "duplicate primary key, already loaded from stay_diagnosis/extra.parquet": 1,   # row 4
    "required value missing": 1,                                         # row 5
    "out of range [1, 99]": 1,                                           # row 6, seq 0
    "duplicate primary key, first seen at row 7": 1,                     # row 8
}

DIAGNOSIS_2024_02 = """
institution_id,stay_id,seq,diagnosis_code,diagnosis_name,diagnosis_date
H1,S06,1,A01.0,伤寒,2024-01-06
H1,S07,1,C34.100,肺恶性肿瘤,2024-02-01
H1,S07,2,abc,,
"""
DIAGNOSIS_2024_02_REJECTS = {
    "duplicate primary key, already loaded from stay_diagnosis_2024-01.csv": 1,
    f"does not match {ICD10}": 1,
}

PATIENT_CSV = """
institution_id,patient_local_id,name,id_number,sex,birth_date
H1,P1,张三,110101199003071234,1,1990-03-07
H1,P2,李四,11010119850512432x,2,1985-05-12
H1,P3,王五,11010119900307XXXX,9,
H1,P4,赵六,,3,2000-01-01
H1,P5,钱七,110101200001011235,1,2000-13-01
"""
PATIENT_REJECTS = {
    f"does not match {ID_NUMBER}": 1,       # P3: the identity number itself is malformed
    "code '3' not in sex": 1,              # P4
    "not a valid date": 1,                 # P5
}
#: identity numbers as they appear in the source (and their normalised forms)
CLEAR_IDS = ("110101199003071234", "11010119850512432x", "11010119850512432X",
             "11010119900307XXXX", "110101200001011235")

EXPECTED_REJECTS = {
    "patient.csv": PATIENT_REJECTS,
    "stay.csv": STAY_REJECTS,
    "stay_diagnosis/extra.parquet": PARQUET_REJECTS,
    "stay_diagnosis_2024-01.csv": DIAGNOSIS_2024_01_REJECTS,
    "stay_diagnosis_2024-02.csv": DIAGNOSIS_2024_02_REJECTS,
}
#: file -> (rows in, rows loaded, rows rejected), counted by hand from the texts above
EXPECTED_COUNTS = {
    "patient.csv": (5, 2, 3),
    "stay.csv": (17, 5, 12),
    "stay_diagnosis/extra.parquet": (3, 2, 1),
    "stay_diagnosis_2024-01.csv": (8, 2, 6),
    "stay_diagnosis_2024-02.csv": (3, 1, 2),
}


def write_corpus(folder: Path) -> Path:
    """Write the bad-input corpus into ``folder`` and return it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_csv(folder / "stay.csv", STAY_CSV)
    write_csv(folder / "patient.csv", PATIENT_CSV, encoding="gbk")
    write_csv(folder / "stay_diagnosis_2024-01.csv", DIAGNOSIS_2024_01, encoding="utf-8-sig")
    write_csv(folder / "stay_diagnosis_2024-02.csv", DIAGNOSIS_2024_02)
    (folder / "stay_diagnosis").mkdir()
    table = pa.table({**PARQUET_ROWS, "seq": pa.array(PARQUET_ROWS["seq"], pa.int16()),
                      "diagnosis_date": pa.array(PARQUET_ROWS["diagnosis_date"]).cast(pa.date32())})
    pq.write_table(table, folder / "stay_diagnosis" / "extra.parquet")
    (folder / "_truth").mkdir()
    (folder / "_truth" / "stay.csv").write_text("not,a,source\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    return folder
