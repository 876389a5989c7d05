"""The group's structure: institutions, alliance partners, campuses, departments, wards and beds.

Departments are instantiated per member institution from the reference department template:
headquarters runs every template department; the general branch all but a few rare surgical
specialties; the geriatric centre no obstetrics, gynaecology or paediatrics, and weights
geriatrics, neurology, cardiology, respiratory medicine and rehabilitation up. Some specialties
run a second department on a second campus, which takes part of their activity. The branch opens
a new department, and headquarters a new ward, during the generated period; some wards change
their open beds.

Examples
--------
>>> credit_code("91350100M000100Y4")
'91350100M000100Y43'
>>> sorted(institution_frame().query("member").kind)
['general', 'general', 'geriatric']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hospital_sdk.errors import GeneratorError

DISCHARGES_AT_SCALE_1 = 200_000

# ---- institutions and campuses -------------------------------------------------------------

_INSTITUTION_ROWS = [
    # id, name_zh, name_en, parent, role, level, kind, region, share, patient prefix, staff prefix
    ("HK001", "华康医院", "Huakang Hospital", None, "headquarters", "3", "general", "320102",
     0.60, "1", "H1"),
    ("HK002", "华康医院江北分院", "Huakang Hospital Jiangbei Branch", "HK001", "branch", "3",
     "general", "320111", 0.25, "B", "H2"),
    ("HK003", "华康老年医学中心", "Huakang Geriatric Medical Centre", "HK001", "branch", "3",
     "geriatric", "320106", 0.15, "LN", "H3"),
    ("PT001", "江北区人民医院", "Jiangbei District People's Hospital", "HK001", "partner", "2",
     "general", "320111", 0.0, "", ""),
    ("PT002", "浦口区中医院", "Pukou District TCM Hospital", "HK001", "partner", "2", "tcm",
     "320111", 0.0, "", ""),
    ("PT003", "六合区人民医院", "Luhe District People's Hospital", "HK001", "partner", "2",
     "general", "320116", 0.0, "", ""),
    ("PT011", "鼓楼区湖南路社区卫生服务中心", "Hunan Road Community Health Centre", "HK001",
     "partner", "1", "general", "320106", 0.0, "", ""),
    ("PT012", "玄武区梅园社区卫生服务中心", "Meiyuan Community Health Centre", "HK001", "partner",
     "1", "general", "320102", 0.0, "", ""),
    ("PT013", "秦淮区夫子庙社区卫生服务中心", "Fuzimiao Community Health Centre", "HK001",
     "partner", "1", "general", "320104", 0.0, "", ""),
    ("PT014", "江北新区顶山社区卫生服务中心", "Dingshan Community Health Centre", "HK002",
     "partner", "1", "general", "320111", 0.0, "", ""),
    ("PT015", "浦口区江浦街道社区卫生服务中心", "Jiangpu Community Health Centre", "HK002",
     "partner", "1", "general", "320111", 0.0, "", ""),
    ("PT016", "六合区雄州街道社区卫生服务中心", "Xiongzhou Community Health Centre", "HK002",
     "partner", "1", "general", "320116", 0.0, "", ""),
    ("PT017", "鼓楼区宁海路社区卫生服务中心", "Ninghai Road Community Health Centre", "HK003",
     "partner", "1", "general", "320106", 0.0, "", ""),
]
_INSTITUTION_COLUMNS = ["institution_id", "name_zh", "name_en", "parent_institution_id", "role",
                        "level", "kind", "region_code", "share", "patient_prefix",
                        "staff_prefix"]
INSTITUTIONS = pd.DataFrame(_INSTITUTION_ROWS, columns=_INSTITUTION_COLUMNS)
"""The group's institutions and its medical-alliance partners."""

PARTNERS = pd.DataFrame([
    # org code, name, facility level, alliance member, listed in ``institution``
    (r[0], r[1], r[5], True, True) for r in _INSTITUTION_ROWS if r[4] == "partner"
] + [
    ("EX001", "江苏省人民医院", "3", False, False),
    ("EX002", "南京市第一医院", "3", False, False),
    ("EX003", "高淳区人民医院", "2", False, False),
    ("EX004", "溧水区永阳街道社区卫生服务中心", "1", False, False),
], columns=["org_code", "name_zh", "level", "alliance", "in_registry"])
"""Facilities patients are referred to and from."""

_CAMPUS_ROWS = [
    ("HK001-C1", "HK001", "华康医院本部院区", "Main campus", "1952-05-01"),
    ("HK001-C2", "HK001", "华康医院东院区", "East campus", "2016-09-01"),
    ("HK002-C1", "HK002", "江北分院江北院区", "Jiangbei campus", "1985-10-01"),
    ("HK002-C2", "HK002", "江北分院浦口院区", "Pukou campus", "2021-06-01"),
    ("HK003-C1", "HK003", "老年医学中心院区", "Geriatric centre campus", "2008-03-01"),
]
# specialties run a second department on a second campus (share of the activity it takes)
_SECOND_CAMPUS = {"HK001": (("20", "03.01", "03.02", "03.04", "04.01", "04.03", "32", "30",
                             "69"), 0.30),
                  "HK002": (("20", "03", "03.01", "04.01", "32", "30", "69"), 0.25)}
# clinical specialties the general branch does not run; the geriatric centre runs the clinical
# departments with a positive ``geriatric_weight`` (plus anaesthesia and health checks)
_EXCLUDED = {"HK002": {"04.06", "04.07", "08"}}
_GERIATRIC_KEEP = {"anaesthesiology", "health_check"}
SURGICAL_WEIGHT = 1.3
"""Multiplier of the template inpatient weight of surgical departments: a tertiary group treats
relatively more surgical cases than the template's all-hospital mix (calibrates the surgical
share of discharges to about 0.35)."""
# (min age, max age, sex 0/1/2, tilt towards older) by specialty; default adults
_DEMOGRAPHY = {"07": (0, 14, 0, 0.8), "07.07": (0, 0.08, 0, 1.0), "08": (0, 14, 0, 0.8),
               "05.02": (18, 46, 2, 1.0), "05": (15, 90, 2, 1.0), "05.01": (15, 90, 2, 1.1),
               "03.10": (60, 105, 0, 1.3), "20": (0, 105, 0, 1.0), "10": (3, 105, 0, 1.2),
               "11": (2, 105, 0, 1.0), "12": (3, 105, 0, 1.0), "13": (1, 105, 0, 1.0),
               "02": (15, 105, 0, 1.0), "99": (18, 85, 0, 1.0), "21": (10, 105, 0, 1.3),
               "28": (0, 105, 0, 1.3)}
_ADULT = (15, 105, 0, 1.15)
_RESPIRATORY = {"03.01", "07", "20", "02", "16", "11"}


def institution_frame() -> pd.DataFrame:
    """Contract columns of ``institution`` plus ``member``, ``share`` and prefixes."""
    frame = INSTITUTIONS.copy()
    frame["org_code"] = [credit_code(f"12{r}MB{i:07d}"[:17]) for i, r in
                         enumerate(frame.region_code, start=1030)]
    frame["is_public"] = True
    frame["member"] = frame.role != "partner"
    return frame


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(first17: str) -> str:
    """The 18-character unified social credit code (GB 32100-2015) with its check character.

    >>> credit_code("91350100M000100Y4")
    '91350100M000100Y43'
    """
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return first17 + _CREDIT_CHARS[(31 - total % 31) % 31]


def build_campuses(institutions: pd.DataFrame) -> pd.DataFrame:
    """Contract columns of ``campus`` plus ``inst`` (member index)."""
    frame = pd.DataFrame(_CAMPUS_ROWS, columns=["campus_id", "institution_id", "name_zh",
                                                "name_en", "opened_on"])
    frame["opened_on"] = pd.to_datetime(frame.opened_on).dt.date
    members = list(institutions.loc[institutions.member, "institution_id"])
    frame["inst"] = [members.index(i) for i in frame.institution_id]
    return frame


# ---- departments and wards -------------------------------------------------------------------

def _template(departments: pd.DataFrame) -> pd.DataFrame:
    """The reference department template with the columns the builder uses."""
    t = departments.copy()
    code = next((c for c in ("dept_code", "code") if c in t), None)
    needed = {"specialty_code", "name_zh", "kind", "has_outpatient", "has_inpatient",
              "outpatient_weight", "emergency_weight", "inpatient_weight"}
    if code is None or needed - set(t.columns):
        raise GeneratorError("reference departments need columns dept_code and "
                             f"{sorted(needed)}; got {list(t.columns)}")
    t = t.rename(columns={code: "code"})
    for column in ("code", "specialty_code", "kind", "name_zh"):
        t[column] = t[column].astype(str)
    t["name_en"] = t["name_en"].astype(object) if "name_en" in t else None
    for column in ("outpatient_weight", "emergency_weight", "inpatient_weight",
                   "geriatric_weight", "physician_share", "nurse_share"):
        t[column] = pd.to_numeric(t[column], errors="coerce").fillna(0.0) if column in t else 0.0
    for column, default in (("mean_los", 8.5), ("beds_per_1000_discharges", 25.0)):
        t[column] = pd.to_numeric(t[column], errors="coerce").fillna(default) \
            if column in t else default
    t["is_health_check"] = t["name_zh"].str.contains("体检") | (t["code"] == "health_check")
    surgical = t["surgical"].astype(bool) if "surgical" in t else False
    t["inpatient_weight"] = t["inpatient_weight"] * np.where(surgical, SURGICAL_WEIGHT, 1.0)
    return t.reset_index(drop=True)


def build_departments(template: pd.DataFrame, institutions: pd.DataFrame,
                      campuses: pd.DataFrame, start_day: int, end_day: int,
                      rng: np.random.Generator) -> pd.DataFrame:
    """Departments of every member, from the template (see :class:`World` for the columns)."""
    t = _template(template)
    members = institutions[institutions.member].reset_index(drop=True)
    rows = []
    for i, inst in members.iterrows():
        iid = inst.institution_id
        keep = t[~t.specialty_code.isin(_EXCLUDED.get(iid, set()))].copy()
        if inst.kind == "geriatric":
            clinical = keep.kind == "clinical"
            keep = keep[~clinical | (keep.geriatric_weight > 0) | keep.code.isin(_GERIATRIC_KEEP)]
            for column in ("outpatient_weight", "emergency_weight", "inpatient_weight"):
                flag = {"outpatient_weight": "has_outpatient", "emergency_weight": "has_outpatient",
                        "inpatient_weight": "has_inpatient"}[column]
                weight = keep.geriatric_weight * keep[flag]
                if column == "outpatient_weight":
                    weight = np.where(keep.specialty_code == "20", 0.0, weight)
                if column == "emergency_weight":
                    weight = np.where(keep.specialty_code == "20", 1.0, 0.0)
                keep[column] = np.where(keep.code == "health_check", keep[column], weight)
        campus_ids = campuses[campuses.inst == i].campus_id.tolist()
        main, second = campus_ids[0], (campus_ids[1] if len(campus_ids) > 1 else None)
        twin_specs, twin_share = _SECOND_CAMPUS.get(iid, ((), 0.0))
        for _, d in keep.iterrows():
            twin = second is not None and d.specialty_code in twin_specs and d.kind != "admin"
            share = 1.0 - twin_share if twin else 1.0
            rows.append(_dept_row(i, iid, main, d, "", share))
            if twin:
                rows.append(_dept_row(i, iid, second, d, "E", twin_share))
    frame = pd.DataFrame(rows)
    frame["parent_dept_id"] = None
    # the branch opens a department during the period (activity only from then on)
    span = end_day - start_day
    opening = frame.index[(frame.institution_id == "HK002") & (frame.template == "pain_medicine")]
    frame["valid_from"] = pd.Timestamp("2010-01-01").date()
    if len(opening):
        opened = np.datetime64(int(start_day + span * 0.45), "D")
        frame.loc[opening[0], "valid_from"] = pd.Timestamp(opened).date()
    frame["valid_to"] = None
    # shares of the institution's outpatient visits, emergency visits and discharges
    for column, weight in (("outpatient_share", "outpatient_weight"),
                           ("emergency_share", "emergency_weight"),
                           ("inpatient_share", "inpatient_weight")):
        w = (frame[weight] * frame.share).to_numpy()
        total = pd.Series(w).groupby(frame.inst).transform("sum").to_numpy()
        frame[column] = np.where(total > 0, w / np.where(total > 0, total, 1), 0.0)
    frame.loc[frame.is_health_check, "outpatient_share"] = 0.0
    for i in range(len(members)):
        _ensure(frame, i, "is_health_check", "02")
    return frame.reset_index(drop=True)


def _dept_row(inst: int, iid: str, campus: str, d: pd.Series, suffix: str, share: float) -> dict:
    lo, hi, sex, tilt = _DEMOGRAPHY.get(d.specialty_code, _ADULT)
    campus_tag = "（东院）" if suffix else ""
    return {
        "dept_id": f"{iid}-{d.code}{suffix}", "institution_id": iid, "campus_id": campus,
        "name_zh": f"{d.name_zh}{campus_tag}",
        "name_en": None if not isinstance(d.name_en, str) else
        (f"{d.name_en} (second campus)" if suffix else d.name_en),
        "specialty_code": d.specialty_code, "kind": d.kind,
        "has_outpatient": bool(d.has_outpatient), "has_inpatient": bool(d.has_inpatient),
        "inst": inst, "template": d.code, "share": share,
        "outpatient_weight": float(d.outpatient_weight),
        "inpatient_weight": float(d.inpatient_weight),
        "emergency_weight": float(d.emergency_weight), "mean_los": float(d.mean_los),
        "beds_per_1000": float(d.beds_per_1000_discharges),
        "physician_share": float(d.physician_share), "nurse_share": float(d.nurse_share),
        "min_age": lo, "max_age": hi, "sex": sex, "tilt": tilt,
        "respiratory": d.specialty_code in _RESPIRATORY,
        "is_emergency": d.specialty_code == "20", "is_health_check": bool(d.is_health_check),
    }


def _ensure(frame: pd.DataFrame, inst: int, flag: str, fallback_specialty: str) -> None:
    """Make sure ``inst`` has a department with ``flag`` (emergency, health check)."""
    own = (frame.inst == inst) & frame[flag]
    if own.any():
        return
    candidates = frame.index[(frame.inst == inst) & frame.has_outpatient
                             & (frame.specialty_code == fallback_specialty)]
    if not len(candidates):
        candidates = frame.index[(frame.inst == inst) & frame.has_outpatient
                                 & (frame.kind == "clinical")]
    if not len(candidates):
        raise GeneratorError(f"institution {inst} has no outpatient department for {flag}")
    frame.loc[candidates[0], flag] = True


def build_wards(departments: pd.DataFrame, scale: float, start_day: int, end_day: int,
                rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wards (contract columns + ``inst``, ``dept``, ``beds``) and their open beds over time.

    Beds follow the department's discharges at ``scale`` and its beds per 1,000 discharges in
    the template; a department gets one
    ward per 45 beds (at most six) and every ward at least two beds, so below scale ~0.05 the
    floors make beds generous relative to activity.
    """
    d = departments
    inst_discharges = DISCHARGES_AT_SCALE_1 * _member_shares(d)
    beds_full = (inst_discharges[d.inst] * d.inpatient_share * d.beds_per_1000 / 1000).to_numpy()
    n_wards = np.where(d.has_inpatient & (d.inpatient_share > 0),
                       np.clip(np.ceil(beds_full * scale / 45), 1, 6), 0).astype(int)
    rows = []
    span = end_day - start_day
    start = np.datetime64(start_day, "D")
    for k, dept in d.iterrows():
        for w in range(n_wards[k]):
            beds = max(2, int(round(beds_full[k] * scale / n_wards[k] * rng.uniform(0.85, 1.15))))
            since = np.datetime64(int(start_day - rng.integers(200, 4000)), "D")
            rows.append({"ward_id": f"{dept.dept_id}-W{w + 1}", "institution_id":
                         dept.institution_id, "campus_id": dept.campus_id, "dept_id": dept.dept_id,
                         "name_zh": f"{dept.name_zh}{_ORDINAL[w]}病区", "inst": dept.inst,
                         "dept": k, "beds": beds, "valid_from": pd.Timestamp("2010-01-01").date(),
                         "quality_nursing": bool(rng.random() < 0.88),
                         "quality_nursing_since": pd.Timestamp(since).date()})
    wards = pd.DataFrame(rows)
    departments["beds_sf1"] = beds_full
    # headquarters opens one more ward in its largest department during the period
    big = int(np.argmax(np.where(d.inst == 0, beds_full, -1)))
    opened = start + int(span * 0.45)
    extra = wards[wards.dept == big].iloc[0].to_dict()
    extra.update(ward_id=f"{d.dept_id[big]}-W{n_wards[big] + 1}",
                 name_zh=f"{d.name_zh[big]}{_ORDINAL[n_wards[big]]}病区",
                 valid_from=pd.Timestamp(opened).date(), quality_nursing=True,
                 quality_nursing_since=pd.Timestamp(opened).date())
    wards = pd.concat([wards, pd.DataFrame([extra])], ignore_index=True)
    wards.loc[~wards.quality_nursing, "quality_nursing_since"] = None
    wards["valid_to"] = None
    # open beds: one period, or two when the ward changed its bed count during the period
    beds_rows = []
    for _, w in wards.iterrows():
        approved = int(round(w.beds * rng.uniform(1.0, 1.12)))
        when = max(start + int(span * rng.uniform(0.2, 0.8)),
                   np.datetime64(w.valid_from, "D") + 30)
        change = rng.random() < 0.15 and when < start + span
        first_to = None
        if change:
            first_to = pd.Timestamp(when - 1).date()
        beds_rows.append({"ward_id": w.ward_id, "institution_id": w.institution_id,
                          "valid_from": w.valid_from, "valid_to": first_to,
                          "open_beds": int(w.beds), "approved_beds": approved})
        if change:
            new = max(2, int(round(w.beds * rng.choice([0.85, 1.1, 1.2]))))
            beds_rows.append({"ward_id": w.ward_id, "institution_id": w.institution_id,
                              "valid_from": pd.Timestamp(when).date(), "valid_to": None,
                              "open_beds": new, "approved_beds": max(approved, new)})
    return wards, pd.DataFrame(beds_rows)


_ORDINAL = "一二三四五六七八九十"


def _member_shares(departments: pd.DataFrame) -> np.ndarray:
    members = INSTITUTIONS[INSTITUTIONS.role != "partner"].reset_index(drop=True)
    return members.share.to_numpy()[: int(departments.inst.max()) + 1]


