"""Code sets of the contract: the closed lists of allowed codes (值域).

Where a national standard defines the coding (病案首页 fields, GB/T 2261.1 sex, 诊疗科目名录), the
codes follow it and ``source`` names it; where none applies the coding is ours and says so.
Large terminologies (ICD-10, ICD-9-CM-3, drugs, DRG groups) are not code sets: they are catalog
tables, because they change by year and are joined, not enumerated.

Examples
--------
>>> from hospital_sdk.model.codes import CODE_SETS
>>> {s.id: s for s in CODE_SETS}["discharge_disposition"].label("5", "zh")
'死亡'
"""

from __future__ import annotations

from hospital_sdk.model.contract import CodeSet, code_set

_HOMEPAGE = "卫生部《住院病案首页部分项目填写说明》(卫医政发〔2011〕84号) / 病案首页数据采集标准"
_SECTIONS = "hospital_sdk (chosen; configurable by mapping in the cleaned layer)"

CODE_SETS: tuple[CodeSet, ...] = (
    code_set("sex", "性别", "Sex", [
        ("0", "未知的性别", "unknown"), ("1", "男", "male"), ("2", "女", "female"),
        ("9", "未说明的性别", "not stated"),
    ], "GB/T 2261.1-2003"),
    code_set("id_document_type", "身份证件类别", "Identity document type", [
        ("01", "居民身份证", "resident identity card"), ("03", "护照", "passport"),
        ("06", "港澳居民来往内地通行证", "Hong Kong/Macao home-return permit"),
        ("07", "台湾居民来往大陆通行证", "Taiwan compatriot permit"),
        ("99", "其他", "other"),
    ], "WS 364.3 CV02.01.101"),
    code_set("institution_role", "机构角色", "Institution role in the group", [
        ("headquarters", "集团总院", "group headquarters"), ("branch", "分院", "branch hospital"),
        ("partner", "医联体成员单位", "medical-alliance partner"),
    ]),
    code_set("institution_level", "医院等级", "Hospital tier", [
        ("3", "三级", "tertiary"), ("2", "二级", "secondary"), ("1", "一级", "primary"),
        ("0", "未定级", "ungraded / primary care"),
    ]),
    code_set("institution_kind", "医院类别", "Hospital kind", [
        ("general", "综合医院", "general hospital"), ("specialty", "专科医院", "specialty hospital"),
        ("tcm", "中医医院", "TCM hospital"), ("geriatric", "老年医学中心", "geriatric medical centre"),
    ]),
    code_set("dept_kind", "科室类别", "Department kind", [
        ("clinical", "临床科室", "clinical"), ("medtech", "医技科室", "medical-technical"),
        ("pharmacy", "药学部门", "pharmacy"), ("nursing", "护理单元", "nursing"),
        ("admin", "行政后勤", "administration"),
    ]),
    code_set("specialty", "诊疗科目", "Standard specialty (诊疗科目名录)", [
        ("02", "全科医疗科", "general practice"), ("03", "内科", "internal medicine"),
        ("03.01", "呼吸内科专业", "respiratory medicine"), ("03.02", "消化内科专业", "gastroenterology"),
        ("03.03", "神经内科专业", "neurology"), ("03.04", "心血管内科专业", "cardiology"),
        ("03.05", "血液内科专业", "haematology"), ("03.06", "肾病学专业", "nephrology"),
        ("03.07", "内分泌专业", "endocrinology"), ("03.08", "免疫学专业", "immunology/rheumatology"),
        ("03.10", "老年病专业", "geriatrics"), ("04", "外科", "surgery"),
        ("04.01", "普通外科专业", "general surgery"), ("04.02", "神经外科专业", "neurosurgery"),
        ("04.03", "骨科专业", "orthopaedics"), ("04.04", "泌尿外科专业", "urology"),
        ("04.05", "胸外科专业", "thoracic surgery"),
        ("04.06", "心脏大血管外科专业", "cardiac and great-vessel surgery"),
        ("04.07", "烧伤科专业", "burns"), ("04.08", "整形外科专业", "plastic surgery"),
        ("05", "妇产科", "obstetrics and gynaecology"), ("05.01", "妇科专业", "gynaecology"),
        ("05.02", "产科专业", "obstetrics"), ("07", "儿科", "paediatrics"),
        ("07.07", "新生儿专业", "neonatology"), ("08", "小儿外科", "paediatric surgery"),
        ("10", "眼科", "ophthalmology"), ("11", "耳鼻咽喉科", "otorhinolaryngology"),
        ("12", "口腔科", "stomatology"), ("13", "皮肤科", "dermatology"),
        ("15", "精神科", "psychiatry"), ("16", "感染性疾病科", "infectious diseases"),
        ("19", "肿瘤科", "oncology"), ("20", "急诊医学科", "emergency medicine"),
        ("21", "康复医学科", "rehabilitation medicine"), ("26", "麻醉科", "anaesthesiology"),
        ("27", "疼痛科", "pain medicine"), ("28", "重症医学科", "critical care medicine"),
        ("30", "医学检验科", "laboratory medicine"), ("31", "病理科", "pathology"),
        ("32", "医学影像科", "medical imaging"), ("50", "中医科", "traditional Chinese medicine"),
        ("52", "中西医结合科", "integrated Chinese and Western medicine"),
        ("69", "药剂科", "pharmacy"), ("71", "护理部", "nursing department"),
        ("99", "其他/行政", "other / administration"),
    ], "《医疗机构诊疗科目名录》 (2007 revision; sub-codes as published)"),
    code_set("staff_role", "人员类别", "Staff role", [
        ("physician", "医师", "physician"), ("nurse", "护士", "nurse"),
        ("pharmacist", "药师", "pharmacist"), ("technician", "技师", "medical technician"),
        ("admin", "管理人员", "administrator"), ("other", "其他", "other staff"),
    ]),
    code_set("title_level", "专业技术职称等级", "Professional title level", [
        ("1", "正高级", "senior (chief)"), ("2", "副高级", "associate senior"),
        ("3", "中级", "intermediate"), ("4", "初级（师）", "junior (师)"),
        ("5", "初级（士）", "junior (士)"), ("9", "未评定", "none yet"),
    ], "卫生专业技术资格等级"),
    code_set("visit_type", "就诊类型", "Visit type", [
        ("outpatient", "门诊", "outpatient"), ("emergency", "急诊", "emergency"),
        ("health_check", "健康体检", "health check"),
    ]),
    code_set("registration_channel", "挂号渠道", "Registration channel", [
        ("window", "窗口挂号", "registration window"), ("online", "互联网/APP预约", "online / app"),
        ("phone", "电话预约", "telephone"), ("kiosk", "自助机", "self-service kiosk"),
        ("on_site", "现场/诊间预约", "on-site or in-clinic booking"),
        ("referral", "双向转诊预约", "two-way referral booking"),
    ], "channels counted by 预约诊疗人次数 per the health-statistics definition"),
    code_set("payer", "医疗付费方式", "Payer (医疗付费方式)", [
        ("1", "城镇职工基本医疗保险", "urban employee basic medical insurance"),
        ("2", "城乡居民基本医疗保险", "urban and rural resident medical insurance"),
        ("3", "新型农村合作医疗", "new rural cooperative medical scheme"),
        ("4", "贫困救助", "poverty relief"), ("5", "商业医疗保险", "commercial insurance"),
        ("6", "全公费", "fully publicly funded"), ("7", "全自费", "self-pay"),
        ("8", "其他社会保险", "other social insurance"), ("9", "其他", "other"),
    ], _HOMEPAGE),
    code_set("admission_route", "入院途径", "Admission route", [
        ("1", "急诊", "emergency"), ("2", "门诊", "outpatient"),
        ("3", "其他医疗机构转入", "transferred from another facility"), ("9", "其他", "other"),
    ], _HOMEPAGE),
    code_set("discharge_disposition", "离院方式", "Discharge disposition", [
        ("1", "医嘱离院", "discharged on medical advice"),
        ("2", "医嘱转院", "transferred to another hospital on medical advice"),
        ("3", "医嘱转社区卫生服务机构/乡镇卫生院", "transferred to community/township care on advice"),
        ("4", "非医嘱离院", "left against medical advice"), ("5", "死亡", "died"),
        ("9", "其他", "other"),
    ], _HOMEPAGE),
    code_set("readmission_plan", "出院31天内再住院计划", "Plan to readmit within 31 days", [
        ("1", "无", "no"), ("2", "有", "yes"),
    ], _HOMEPAGE),
    code_set("diagnosis_kind", "诊断类别", "Diagnosis kind on the discharge abstract", [
        ("discharge", "出院诊断（序号1为主要诊断）", "discharge diagnosis (seq 1 = principal)"),
        ("outpatient", "门（急）诊诊断", "outpatient/ED diagnosis"),
        ("pathology", "病理诊断", "pathology diagnosis"),
        ("external_cause", "损伤、中毒的外部原因", "external cause of injury/poisoning"),
    ], _HOMEPAGE),
    code_set("present_on_admission", "入院病情", "Condition present on admission", [
        ("1", "有", "present"), ("2", "临床未确定", "clinically undetermined"),
        ("3", "情况不明", "unknown"), ("4", "无", "not present"),
    ], _HOMEPAGE),
    code_set("procedure_category", "手术操作类别", "Procedure category (国家临床版)", [
        ("1", "手术", "surgery"), ("2", "诊断性操作", "diagnostic procedure"),
        ("3", "治疗性操作", "therapeutic procedure"), ("4", "介入治疗", "interventional treatment"),
    ], "《手术操作分类代码国家临床版》2.0/3.0 category flag"),
    code_set("operation_level", "手术级别", "Operation level", [
        ("1", "一级手术", "level 1"), ("2", "二级手术", "level 2"), ("3", "三级手术", "level 3"),
        ("4", "四级手术", "level 4"),
    ], "《医疗机构手术分级管理办法》"),
    code_set("incision_class", "切口等级", "Incision class", [
        ("0", "0类切口", "class 0 (no incision)"), ("1", "Ⅰ类切口", "class I (clean)"),
        ("2", "Ⅱ类切口", "class II (clean-contaminated)"), ("3", "Ⅲ类切口", "class III (contaminated)"),
    ], _HOMEPAGE),
    code_set("healing_grade", "切口愈合等级", "Wound healing grade", [
        ("1", "甲", "A: healed well"), ("2", "乙", "B: healed with inflammation"),
        ("3", "丙", "C: suppurated / infected"), ("0", "其他", "other"),
    ], _HOMEPAGE),
    code_set("surgery_type", "手术类型", "Surgery type", [
        ("1", "择期手术", "elective"), ("2", "急诊手术", "emergency"), ("3", "限期手术", "time-limited"),
    ]),
    code_set("anaesthesia_method", "麻醉方式", "Anaesthesia method", [
        ("GA", "全身麻醉", "general"), ("RA", "椎管内/区域麻醉", "neuraxial / regional"),
        ("LA", "局部麻醉", "local"), ("SED", "镇静", "sedation"), ("NONE", "无", "none"),
    ]),
    code_set("care_setting", "就诊场景", "Care setting", [
        ("outpatient", "门诊", "outpatient"), ("emergency", "急诊", "emergency"),
        ("inpatient", "住院", "inpatient"), ("health_check", "体检", "health check"),
    ]),
    code_set("order_type", "医嘱类型", "Order type", [
        ("long_term", "长期医嘱", "standing order"), ("temporary", "临时医嘱", "one-off order"),
        ("prescription", "门急诊处方", "outpatient/ED prescription"),
        ("discharge", "出院带药", "discharge medication"),
    ]),
    code_set("administration_route", "给药途径", "Route of administration", [
        ("PO", "口服", "oral"), ("IV", "静脉", "intravenous"), ("IM", "肌注", "intramuscular"),
        ("SC", "皮下", "subcutaneous"), ("INH", "吸入", "inhalation"), ("TOP", "外用", "topical"),
        ("OTH", "其他", "other"),
    ]),
    code_set("review_result", "处方点评结果", "Prescription review result", [
        ("appropriate", "合理", "appropriate"), ("inappropriate", "不合理", "inappropriate"),
        ("irregular", "不规范", "non-standard"), ("overuse", "超常", "abnormal use"),
    ], "《医院处方点评管理规范（试行）》"),
    code_set("antibacterial_tier", "抗菌药物分级", "Antibacterial restriction tier", [
        ("unrestricted", "非限制使用级", "unrestricted"), ("restricted", "限制使用级", "restricted"),
        ("special", "特殊使用级", "special use"),
    ], "《抗菌药物临床应用管理办法》(卫生部令第84号)"),
    code_set("ddd_unit", "DDD单位", "DDD unit", [
        ("g", "克", "gram"), ("mg", "毫克", "milligram"), ("MU", "百万单位", "million units"),
        ("U", "单位", "units"), ("TU", "千单位", "thousand units"),
    ], "WHO ATC/DDD index"),
    code_set("item_type", "收费项目类型", "Charge item type", [
        ("drug", "药品", "drug"), ("material", "卫生材料", "medical consumable"),
        ("service", "医疗服务项目", "medical service item"),
    ]),
    code_set("revenue_category", "收入类别", "Revenue category (医疗收入明细)", [
        ("registration", "挂号收入", "registration"), ("bed", "床位收入", "bed"),
        ("consultation", "诊察收入", "consultation"), ("examination", "检查收入", "examination"),
        ("laboratory", "化验收入", "laboratory"), ("treatment", "治疗收入", "treatment"),
        ("surgery", "手术收入", "surgery"), ("nursing", "护理收入", "nursing"),
        ("material", "卫生材料收入", "medical consumables"), ("drug_western", "西药收入", "western drugs"),
        ("drug_chinese_patent", "中成药收入", "Chinese patent medicines"),
        ("drug_herbal", "中草药收入", "Chinese herbal medicines"),
        ("pharmacy_service", "药事服务收入", "pharmacy service"), ("other", "其他门诊/住院收入", "other"),
    ], "政府会计制度 医疗收入明细科目 (granularity chosen here)"),
    code_set("equipment_type", "大型医用设备类型", "Large medical equipment type", [
        ("CT", "CT", "computed tomography"), ("MR", "磁共振", "magnetic resonance imaging"),
        ("DSA", "数字减影血管造影", "digital subtraction angiography"),
        ("SPECT", "单光子发射计算机断层", "SPECT"), ("PETCT", "PET-CT", "PET-CT"),
        ("PETMR", "PET-MR", "PET-MR"), ("LINAC", "直线加速器", "linear accelerator"),
    ], "大型医用设备配置许可管理目录 (exam scope of indicator 11: CT, MR, DSA, SPECT, PET-CT)"),
    code_set("specimen_type", "标本类型", "Specimen type", [
        ("blood", "血液", "blood"), ("serum", "血清", "serum"), ("urine", "尿液", "urine"),
        ("stool", "粪便", "stool"), ("sputum", "痰", "sputum"), ("csf", "脑脊液", "CSF"),
        ("swab", "拭子", "swab"), ("tissue", "组织", "tissue"), ("other", "其他", "other"),
    ]),
    code_set("referral_direction", "转诊方向", "Referral direction", [
        ("down", "下转", "down-referral to a lower-level facility"),
        ("up", "上转", "up-referral from a lower-level facility"),
        ("lateral", "平转", "to a facility of the same level"),
    ]),
    code_set("facility_level", "机构级别", "Facility level of a referral partner", [
        ("3", "三级医院", "tertiary hospital"), ("2", "二级医院", "secondary hospital"),
        ("1", "一级医院/社区卫生服务中心/乡镇卫生院", "primary care"),
    ]),
    code_set("entity_type", "业务对象类型", "Business entity whose status changed", [
        ("visit", "门急诊就诊", "outpatient/ED visit"), ("stay", "住院", "inpatient stay"),
        ("order", "医嘱/处方", "medication order"), ("lab", "检验申请", "lab test order"),
        ("exam", "检查申请", "examination"), ("charge", "收费", "charge line"),
        ("referral", "转诊", "referral"),
    ]),
    code_set("business_status", "业务状态", "Business status", [
        ("registered", "已挂号/已登记", "registered"), ("booked", "已预约", "booked"),
        ("checked_in", "已签到/已分诊", "checked in / triaged"), ("called", "已叫号就诊", "called in"),
        ("completed", "已完成", "completed"), ("cancelled", "已取消/退号", "cancelled"),
        ("no_show", "爽约", "no-show"), ("admitted", "已入院", "admitted"),
        ("transferred", "已转科", "transferred"), ("discharged", "已出院", "discharged"),
        ("coded", "已编码", "coded"), ("submitted", "已上报", "submitted"),
        ("ordered", "已开立", "ordered"), ("verified", "已审核", "verified"),
        ("dispensed", "已发药", "dispensed"), ("stopped", "已停止", "stopped"),
        ("collected", "已采样", "collected"), ("received", "已接收", "received"),
        ("reported", "已报告", "reported"), ("billed", "已计费", "billed"),
        ("refunded", "已退费", "refunded"),
    ]),
    code_set("finance_line", "财务报表项目", "Financial statement line (政府会计制度)", [
        ("medical_revenue", "医疗收入", "medical revenue"),
        ("outpatient_revenue", "门急诊收入", "outpatient and emergency revenue"),
        ("outpatient_revenue_insurance", "门急诊收入中来自医保基金的收入", "outpatient revenue paid by insurance funds"),
        ("inpatient_revenue", "住院收入", "inpatient revenue"),
        ("inpatient_revenue_insurance", "住院收入中来自医保基金的收入", "inpatient revenue paid by insurance funds"),
        ("drug_revenue", "药品收入", "drug revenue"),
        ("outpatient_drug_revenue", "门急诊药品收入", "outpatient drug revenue"),
        ("inpatient_drug_revenue", "住院药品收入", "inpatient drug revenue"),
        ("material_revenue", "卫生材料收入", "consumables revenue"),
        ("examination_revenue", "检查收入", "examination revenue"),
        ("laboratory_revenue", "化验收入", "laboratory revenue"),
        ("special_needs_revenue", "特需医疗服务收入", "premium-service revenue"),
        ("key_monitored_drug_revenue", "重点监控化学药品和生物制品收入", "key-monitored drug revenue"),
        ("adjuvant_drug_revenue", "辅助用药收入", "adjuvant-drug revenue"),
        ("key_monitored_consumable_revenue", "重点监控高值医用耗材收入", "key-monitored high-value consumable revenue"),
        ("total_revenue", "总收入", "total revenue"),
        ("fiscal_subsidy_revenue", "财政补助收入", "fiscal subsidy revenue"),
        ("medical_expense", "医疗活动费用", "medical-activity expenses"),
        ("personnel_expense", "人员经费", "personnel costs"),
        ("energy_expense", "能源费用（水电气暖）", "energy expenditure"),
        ("training_expense", "人才培养经费", "medical-talent training spend"),
        ("total_expense", "总费用", "total expenses"),
        ("medical_surplus", "医疗盈余", "medical surplus"),
        ("total_assets", "资产合计", "total assets"),
        ("total_liabilities", "负债合计", "total liabilities"),
        ("drug_procurement_amount", "药品采购总金额", "drug procurement amount"),
        ("essential_drug_procurement_amount", "基本药物采购金额", "essential-medicine procurement amount"),
        ("vbp_drug_procurement_amount", "集采中标药品采购金额", "volume-procured drug purchase amount"),
    ], "政府会计制度 (hospital annual financial report); line granularity chosen here"),
    code_set("hr_metric", "人力资源指标项", "HR snapshot metric", [
        ("health_technicians", "卫生技术人员数", "health technicians"),
        ("registered_physicians", "注册医师数", "registered physicians"),
        ("licensed_physicians", "执业（助理）医师数", "licensed and assistant physicians"),
        ("registered_nurses", "注册护士数", "registered nurses"),
        ("pharmacists", "药师数", "pharmacists"),
        ("physicians_anaesthesia", "麻醉科医师数", "anaesthesia physicians"),
        ("physicians_paediatrics", "儿科医师数", "paediatric physicians"),
        ("physicians_critical_care", "重症医学科医师数", "critical-care physicians"),
        ("physicians_pathology", "病理科医师数", "pathology physicians"),
        ("physicians_tcm", "中医医师数", "TCM physicians"),
        ("physicians_infectious", "感染性疾病科医师数", "infectious-disease physicians"),
        ("senior_title_technicians", "高级职称卫生技术人员数", "health technicians with senior titles"),
        ("associate_senior_title_technicians", "副高级职称卫生技术人员数", "associate-senior health technicians"),
        ("intermediate_title_technicians", "中级职称卫生技术人员数", "intermediate-title health technicians"),
        ("junior_title_technicians", "初级职称卫生技术人员数", "junior-title health technicians"),
        ("residents_first_exam_takers", "首次参加医师资格考试的住院医师数", "residents sitting the licensing exam for the first time"),
        ("residents_first_exam_passed", "首次参加医师资格考试通过的住院医师数", "residents passing at first attempt"),
        ("trainees_admitted", "接收进修人员数", "trainees admitted from other hospitals"),
        ("trainees_returned_independent", "进修后返回原医院独立工作人数", "trainees back at home practising independently"),
        ("teaching_staff_trained", "临床带教教师和指导医师接受教育教学培训人次数", "teaching staff trained"),
        ("medical_students_taught", "承担医学教育的人数", "students and trainees taught"),
        ("teaching_papers", "发表教学论文的数量", "teaching papers published"),
    ]),
    code_set("survey_type", "满意度调查类型", "Satisfaction survey type", [
        ("outpatient", "门诊患者满意度", "outpatient satisfaction"),
        ("inpatient", "住院患者满意度", "inpatient satisfaction"),
        ("staff", "医务人员满意度", "staff satisfaction"),
    ], "国家公立医院满意度调查平台"),
    code_set("eqa_scheme", "室间质评组织者", "External quality assessment scheme", [
        ("national", "国家卫生健康委临床检验中心", "national (NCCL)"),
        ("provincial", "省级临床检验中心", "provincial centre"),
    ]),
    code_set("research_kind", "科研经费类别", "Research money kind", [
        ("grant", "科研项目经费", "research grant funding"),
        ("commercialisation", "科研成果转化金额", "commercialisation income"),
    ]),
    code_set("funder_level", "项目级别", "Funder level", [
        ("national", "国家级", "national"), ("provincial", "省部级", "provincial/ministerial"),
        ("municipal", "市厅级", "municipal"), ("institutional", "院级/横向", "institutional/industry"),
    ]),
    code_set("qualitative_item", "定性指标项", "Qualitative assessment item", [
        ("equipment_maintenance_qc", "大型医用设备维修保养及质量控制管理", "large-equipment maintenance and QC (tertiary #12)"),
        ("budget_management", "全面预算管理", "comprehensive budget management (#42)"),
        ("chief_accountant", "规范设立总会计师", "chief accountant appointed (#43)"),
        ("public_credit_rating", "公共信用综合评价等级", "public credit rating (#52)"),
        ("party_building", "党建引领", "Party-building leadership (high-quality development)"),
    ]),
    code_set("qualitative_grade", "定性评价结果", "Qualitative grade", [
        ("A", "优/A级", "excellent / A"), ("B", "良/B级", "good / B"), ("C", "中/C级", "fair / C"),
        ("D", "差/D级", "poor / D"), ("yes", "已落实", "in place"), ("no", "未落实", "not in place"),
    ]),
    code_set("code_system", "编码体系", "Code system", [
        ("icd10_clin2", "疾病分类代码国家临床版2.0 (ICD-10)", "ICD-10 national clinical edition 2.0"),
        ("icd9cm3_clin3", "手术操作分类代码国家临床版3.0 (ICD-9-CM-3)", "ICD-9-CM-3 national clinical edition 3.0"),
        ("drug", "药品标准编码", "standard drug code"),
        ("consumable", "医用耗材标准编码", "standard consumable code"),
        ("charge_item", "医疗服务项目编码", "medical service item code"),
        ("lab_test", "检验项目编码", "lab test code"), ("exam_item", "检查项目编码", "examination item code"),
    ], _SECTIONS),
)
