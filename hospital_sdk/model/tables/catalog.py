"""Catalogs and code systems: diagnoses, procedures, drugs, consumables, charge items, DRG groups,
and the mappings from each institution's local codes to the standard codes."""

from __future__ import annotations

from hospital_sdk.model.contract import Column, RowRule, Table
from hospital_sdk.model.keys import INSTITUTION_ID, flag, money

#: ICD-10 national clinical edition (国家临床版2.0) code, e.g. ``I21.000``, ``K35.800x001``,
#: ``I10.x00`` (the edition pads a missing 4th character with ``x``), optional dagger/asterisk.
ICD10_PATTERN = r"^[A-Z][0-9]{2}(\.[0-9A-Zx][0-9A-Z]{0,2}(x[0-9]{3})?)?[+*]?$"
#: ICD-9-CM-3 national clinical edition (国家临床版3.0) code, e.g. ``36.1000``, ``81.5100x001``,
#: ``74.1x01``.
ICD9CM3_PATTERN = r"^[0-9]{2}(\.[0-9][0-9x]{0,3}(x[0-9]{3})?)?$"
#: WHO ATC code, 1 to 7 characters, e.g. ``J01DD04``.
ATC_PATTERN = r"^[A-V]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$"

_VALIDITY = RowRule("valid_to_after_valid_from", "失效日期不早于生效日期",
                    "valid_to is not before valid_from", "valid_to", ">=", "valid_from")


def _code(pattern: str | None = None) -> Column:
    return Column("code", "string", "标准编码", "Standard code", nullable=False, pattern=pattern)


def _names() -> tuple[Column, Column]:
    return (Column("name_zh", "string", "名称", "Name (Chinese)", nullable=False),
            Column("name_en", "string", "英文名称", "Name (English)"))


def _validity() -> tuple[Column, Column]:
    return (Column("valid_from", "date", "生效日期", "Valid from", nullable=False),
            Column("valid_to", "date", "失效日期", "Valid to (empty = still valid)"))


DIAGNOSIS_CATALOG = Table(
    "diagnosis_catalog", "catalog", "疾病诊断编码目录（ICD-10 国家临床版）",
    "Diagnosis catalog (ICD-10, national clinical edition)",
    "每个编码一行", "one row per diagnosis code", ("code",),
    (_code(ICD10_PATTERN), *_names(),
     Column("chapter", "string", "章（罗马数字）", "ICD-10 chapter (roman numeral)", nullable=False,
            pattern=r"^[IVX]{1,5}$"),
     Column("category3", "string", "类目（3位）", "3-character category", nullable=False,
            pattern=r"^[A-Z][0-9]{2}$"),
     Column("subcategory4", "string", "亚目（4位，如I21.0）", "4-character subcategory (e.g. I21.0)",
            pattern=r"^[A-Z][0-9]{2}\.[0-9A-Z]$"),
     *_validity()),
    rules=(_VALIDITY,),
)

PROCEDURE_CATALOG = Table(
    "procedure_catalog", "catalog", "手术操作编码目录（ICD-9-CM-3 国家临床版）",
    "Procedure catalog (ICD-9-CM-3, national clinical edition) with the national assessment flags",
    "每个编码一行", "one row per procedure code", ("code",),
    (_code(ICD9CM3_PATTERN), *_names(),
     Column("category", "string", "手术操作类别", "Category: surgery / diagnostic / therapeutic / "
            "interventional", nullable=False, codes="procedure_category"),
     Column("operation_level", "string", "国家手术分级", "National operation level (surgery and "
            "intervention only)", codes="operation_level"),
     flag("is_minimally_invasive", "绩效考核微创手术标识", "On the national minimally-invasive list"),
     flag("is_level4_national", "绩效考核四级手术标识", "On the national level-4 list"),
     flag("is_day_surgery_eligible", "日间手术推荐目录", "On the day-surgery catalogue"),
     *_validity()),
    rules=(_VALIDITY,),
)

DRUG_CATALOG = Table(
    "drug_catalog", "catalog", "药品目录（含基本药物、集采、抗菌药物DDD、重点监控标识）",
    "Drug catalog with essential-medicine, volume-procurement, antibiotic DDD and key-monitored flags",
    "每个药品规格一行", "one row per drug product (specification)", ("code",),
    (_code(), *_names(),
     Column("generic_name", "string", "通用名", "Generic name", nullable=False),
     Column("atc_code", "string", "ATC编码", "WHO ATC code", pattern=ATC_PATTERN),
     Column("dosage_form", "string", "剂型", "Dosage form"),
     Column("strength", "float64", "每最小包装单位含量", "Active ingredient per dispensing unit",
            minimum=0),
     Column("strength_unit", "string", "含量单位", "Unit of strength", codes="ddd_unit"),
     flag("is_essential", "国家基本药物", "On the National Essential Medicines List"),
     flag("is_vbp", "国家组织集中采购中标药品", "Winning product of national volume-based procurement"),
     flag("is_antibacterial", "抗菌药物（含抗真菌，不含抗结核）",
          "Antibacterial in the statutory sense (incl. antifungals, excl. anti-TB, antiviral, antiparasitic)"),
     Column("antibacterial_tier", "string", "抗菌药物分级", "Antibacterial restriction tier",
            codes="antibacterial_tier"),
     Column("ddd_value", "float64", "WHO限定日剂量", "WHO defined daily dose", minimum=0),
     Column("ddd_unit", "string", "DDD单位", "Unit of the DDD", codes="ddd_unit"),
     flag("is_key_monitored", "重点监控化学药品和生物制品", "On the key-monitored drug list"),
     flag("is_adjuvant", "辅助用药", "On the adjuvant-drug list (2019 manual)"),
     money("unit_price", "零售单价", "Unit price", nullable=True),
     *_validity()),
    rules=(_VALIDITY,),
)

CONSUMABLE_CATALOG = Table(
    "consumable_catalog", "catalog", "医用耗材目录", "Medical consumables catalog",
    "每个耗材规格一行", "one row per consumable product", ("code",),
    (_code(), *_names(),
     flag("is_high_value", "高值医用耗材", "High-value consumable"),
     flag("is_key_monitored", "重点监控高值医用耗材", "On the key-monitored high-value list"),
     money("unit_price", "单价", "Unit price", nullable=True),
     *_validity()),
    rules=(_VALIDITY,),
)

CHARGE_ITEM_CATALOG = Table(
    "charge_item_catalog", "catalog", "医疗服务收费项目目录", "Medical service charge items",
    "每个收费项目一行", "one row per charge item", ("code",),
    (_code(), *_names(),
     Column("revenue_category", "string", "收入类别", "Revenue category", nullable=False,
            codes="revenue_category"),
     flag("is_special_needs", "特需医疗服务项目", "Premium (特需) service item"),
     money("unit_price", "单价", "Unit price", nullable=True),
     *_validity()),
    rules=(_VALIDITY,),
)

DRG_GROUP = Table(
    "drg_group", "catalog", "DRG分组及相对权重", "DRG groups with relative weights",
    "每个分组器版本的每个DRG组一行", "one row per DRG group of a grouper version",
    ("grouper_version", "drg_code"),
    (Column("grouper_version", "string", "分组器版本", "Grouper version", nullable=False),
     Column("drg_code", "string", "DRG编码", "DRG code", nullable=False,
            pattern=r"^[A-Z]{2}[A-Z0-9][0-9]{1,2}$"),
     Column("name_zh", "string", "DRG名称", "DRG name (Chinese)", nullable=False),
     Column("mdc", "string", "主要诊断大类", "Major diagnostic category", nullable=False,
            pattern=r"^MDC[A-Z0-9]{1,2}$"),
     Column("relative_weight", "float64", "相对权重RW", "Relative weight", nullable=False,
            minimum=0, maximum=100),
     flag("is_surgical", "外科组", "Surgical group"),
     Column("reference_los", "float64", "标杆平均住院日", "Reference mean length of stay", minimum=0,
            unit="day"),
     money("reference_cost", "标杆次均费用", "Reference mean cost per case", nullable=True)),
)

CODE_MAP = Table(
    "code_map", "catalog", "本地编码与标准编码对照", "Mapping of an institution's local codes to "
    "standard codes", "每个机构每个编码体系的每个本地编码每个有效期一行",
    "one row per institution, code system, local code and validity period",
    ("institution_id", "code_system", "local_code", "valid_from"),
    (INSTITUTION_ID,
     Column("code_system", "string", "编码体系", "Code system", nullable=False, codes="code_system"),
     Column("local_code", "string", "本地编码", "Local code", nullable=False),
     Column("local_name", "string", "本地名称", "Local name"),
     Column("standard_code", "string", "标准编码", "Standard code", nullable=False),
     *_validity()),
    rules=(_VALIDITY,),
)

TABLES = (DIAGNOSIS_CATALOG, PROCEDURE_CATALOG, DRUG_CATALOG, CONSUMABLE_CATALOG,
          CHARGE_ITEM_CATALOG, DRG_GROUP, CODE_MAP)
