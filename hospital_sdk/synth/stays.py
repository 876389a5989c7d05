"""Finishing the stay plan (ids, wards, transfers, staff, disposition, DRG) and the monthly stay
tables: ``inpatient_stay``, ``stay_diagnosis``, ``stay_procedure``, ``stay_movement``.

Ward movements: most stays spend their whole stay on one ward of the admitting department;
about 8 % of longer stays move once to another department, and some surgical, emergency and
dying patients pass through intensive care (and back, when they survive). Movements are
contiguous: the first starts at admission, each ends when the next starts, the last ends at
discharge; the discharging department is the last one.

Stay costs are not drawn here: the cost columns are sums of the stay's charge lines, passed in
by the caller.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from hospital_sdk.synth.catalogs import COST_COLUMNS, Catalogs
from hospital_sdk.synth.inpatient import DISPOSITIONS, ROUTES, Plan, Stays
from hospital_sdk.synth.patients import age_years, medical_record_numbers
from hospital_sdk.synth.rng import RngFactory
from hospital_sdk.synth.schema import DAY, NULL_TIME, build_table, joined, pick, text_ids
from hospital_sdk.synth.timeline import months_of

PURPOSES = ("化疗", "分期手术")
INPATIENT_REVIEW_RATE = 0.30
"""Share of discharged patients whose orders are reviewed (点评出院患者医嘱)."""
FACILITY_LEVELS = ("3", "2", "1")
_POA = np.array(["1", "2", "3", "4"])


def finish_plan(world, catalogs: Catalogs, stays: Stays, population, rng: RngFactory) -> Plan:
    """Keep the stays discharged in the period, sort them, and fill the remaining fields."""
    r = rng("inpatient/finish")
    keep = (stays.dis >= world.start) & (stays.dis < world.end)
    s = stays.take(np.flatnonzero(keep))
    order = np.lexsort((s.patient, s.adm, s.inst))
    s = s.take(order)
    n = len(s)
    s.number = np.arange(n) - np.searchsorted(s.inst, s.inst, side="left") + 1
    s.month = months_of(s.dis)
    s.reviewed = r.random(n) < INPATIENT_REVIEW_RATE
    _movements(world, s, r)
    si = world.staff_index
    s.doctor = si.choose(r, s.dept, s.adm, "physician")
    s.surgeon = np.where(s.proc >= 0, si.choose(r, s.dept, s.proc_time, "physician"), -1)
    geriatric = world.members.kind.to_numpy()[s.inst] == "geriatric"
    p = np.where(geriatric[:, None], [0.905, 0.015, 0.040, 0.030, 0.0, 0.010],
                 [0.930, 0.018, 0.015, 0.030, 0.0, 0.007])
    cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    disp = np.minimum((r.random(n)[:, None] > cdf).sum(axis=1), len(DISPOSITIONS) - 1)
    s.disposition = np.where(s.died, DISPOSITIONS.index("5"), disp).astype(np.int8)
    level = np.where(s.disposition == 1, np.where(r.random(n) < 0.6, 0, 1),
                     np.where(s.disposition == 2, 2, -1))
    s.transfer_level = level.astype(np.int8)
    surgical = (s.proc >= 0) & catalogs.procedures.surgical[np.maximum(s.proc, 0)]
    s.drg = np.where(surgical, catalogs.procedures.drg[np.maximum(s.proc, 0)],
                     catalogs.diagnoses.drg[s.dx])
    # admission count: earlier admissions before the period, then this period's in order
    key = s.inst.astype(np.int64) * (len(population) + 1) + s.patient
    by_patient = np.lexsort((s.adm, key))
    k = key[by_patient]
    rank = np.arange(n) - np.searchsorted(k, k, side="left")
    prior = np.where(s.newborn, 0, r.geometric(0.55, n) - 1)
    count = np.empty(n, dtype=np.int64)
    count[by_patient] = rank + prior[by_patient] + 1
    s.admission_count = np.minimum(count, 999)
    return Plan(stays=s, population=population)


def _movements(world, s: Stays, rng: np.random.Generator) -> None:
    """Departments, wards and start times of up to three ward intervals per stay."""
    n = len(s)
    los = (s.dis - s.adm) / DAY
    icu = _icu_of(world)
    icu_here = icu[s.inst]
    long_enough = (los >= 3) & ~s.day_surgery & ~s.newborn
    to_icu = long_enough & (icu_here >= 0) & (rng.random(n) < np.where(
        s.died, 0.35, np.where((s.proc >= 0) | (s.route == 0), 0.05, 0.01)))
    other = long_enough & ~to_icu & (rng.random(n) < 0.08)
    target = _other_dept(world, s.inst, s.dept, rng)
    second = np.where(to_icu, icu_here, np.where(other & (target >= 0), target, -1))
    back = to_icu & ~s.died
    t1 = s.adm + (rng.uniform(0.15, 0.5, n) * (s.dis - s.adm)).astype(np.int64)
    t1 = np.where(s.proc >= 0, np.maximum(t1, s.proc_time + 3600), t1)
    t1 = np.where(s.reop_time != NULL_TIME, np.maximum(t1, s.reop_time + 3600), t1)
    ok = (second >= 0) & (t1 < s.dis - 7200)
    second = np.where(ok, second, -1)
    t2 = t1 + (rng.uniform(0.2, 0.5, n) * (s.dis - t1)).astype(np.int64)
    third = np.where(back & ok & (t2 < s.dis - 3600), s.dept, -1)
    s.move_dept = np.stack([s.dept, second, third], axis=1)
    s.move_start = np.stack([s.adm, np.where(second >= 0, t1, NULL_TIME),
                             np.where(third >= 0, t2, NULL_TIME)], axis=1)
    ward = np.full((n, 3), -1, dtype=np.int64)
    for k in range(3):
        has = s.move_dept[:, k] >= 0
        ward[has, k] = choose_ward(world, s.move_dept[has, k], s.move_start[has, k], rng)
    s.move_ward = ward


def _icu_of(world) -> np.ndarray:
    d = world.departments
    out = np.full(len(world.members), -1, dtype=np.int64)
    for i in range(len(out)):
        idx = np.flatnonzero((d["inst"].to_numpy() == i) & (d["specialty_code"] == "28").to_numpy()
                             & (d["inpatient_share"].to_numpy() > 0))
        if len(idx):
            out[i] = idx[0]
    return out


def _other_dept(world, inst: np.ndarray, dept: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A different inpatient department of the same institution, by inpatient weight."""
    d = world.departments
    share = d["inpatient_share"].to_numpy()
    out = np.full(len(inst), -1, dtype=np.int64)
    for i in np.unique(inst):
        cand = np.flatnonzero((d["inst"].to_numpy() == i) & (share > 0))
        if len(cand) < 2:
            continue
        sel = np.flatnonzero(inst == i)
        pick_ = rng.choice(cand, len(sel), p=share[cand] / share[cand].sum())
        clash = pick_ == dept[sel]
        pick_[clash] = cand[(np.searchsorted(cand, pick_[clash]) + 1) % len(cand)]
        out[sel] = pick_
    return out


def choose_ward(world, dept: np.ndarray, when: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A ward of each ``dept`` open at ``when`` (seconds); the department's first ward else."""
    w = world.wards
    wd = w["dept"].to_numpy()
    order = np.argsort(wd, kind="stable")
    counts = np.bincount(wd, minlength=len(world.departments))
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    opened = np.array([np.datetime64(v, "D").astype(np.int64) for v in w["valid_from"]]) * DAY
    pos = start[dept] + (rng.random(len(dept)) * counts[dept]).astype(np.int64)
    pos = np.minimum(pos, len(order) - 1)
    chosen = order[pos]
    late = opened[chosen] > when
    chosen[late] = order[start[dept[late]]]
    return np.where(counts[dept] > 0, chosen, -1)


def stay_tables(world, catalogs: Catalogs, plan: Plan, idx: np.ndarray,
                costs: dict[str, np.ndarray], insurance: np.ndarray,
                rng: np.random.Generator) -> dict[str, pa.Table]:
    """The four stay tables for the stays ``idx`` of the plan; ``costs`` in cents per stay."""
    s = plan.stays.take(idx)
    n = len(s)
    d, wards = world.departments, world.wards
    inst_ids = list(world.member_ids)
    ids = stay_ids(s)
    dept_ids, ward_ids = d["dept_id"].tolist(), wards["ward_id"].tolist()
    staff = world.staff_index.ids
    pop = plan.population
    last = np.where(s.move_dept[:, 2] >= 0, 2, np.where(s.move_dept[:, 1] >= 0, 1, 0))
    dis_dept = s.move_dept[np.arange(n), last]
    dis_ward = s.move_ward[np.arange(n), last]
    adm_day = s.adm // DAY
    age = age_years(pop.birth_day[s.patient], adm_day)
    infant_days = np.where(age == 0, adm_day - pop.birth_day[s.patient], -1)
    los_days = np.maximum(s.dis // DAY - adm_day, 1)
    total = sum(costs[c] for c in COST_COLUMNS if c != "cost_drug_antibacterial")
    drg_ok = s.drg >= 0
    stay = build_table("inpatient_stay", {
        "institution_id": pick(inst_ids, s.inst),
        "campus_id": pick(d["campus_id"].tolist(), s.dept),
        "stay_id": ids, "patient_local_id": pop.local_ids(s.patient),
        "medical_record_number": medical_record_numbers(pop, s.patient),
        "admission_count": s.admission_count, "admission_time": s.adm,
        "admission_dept_id": pick(dept_ids, s.dept),
        "admission_ward_id": pick(ward_ids, np.maximum(s.move_ward[:, 0], 0),
                                  mask=s.move_ward[:, 0] < 0),
        "discharge_time": s.dis, "discharge_dept_id": pick(dept_ids, dis_dept),
        "discharge_ward_id": pick(ward_ids, np.maximum(dis_ward, 0), mask=dis_ward < 0),
        "los_days": los_days.astype(np.int32),
        "attending_doctor_id": pick(staff, np.maximum(s.doctor, 0), mask=s.doctor < 0),
        "admission_route": pick(list(ROUTES), s.route),
        "discharge_disposition": pick(list(DISPOSITIONS), s.disposition),
        "transfer_facility_level": pick(list(FACILITY_LEVELS), np.maximum(s.transfer_level, 0),
                                        mask=s.transfer_level < 0),
        "readmission_plan": pick(["1", "2"], s.plan),
        "readmission_purpose": pick(list(PURPOSES), np.maximum(s.purpose, 0), mask=s.purpose < 0),
        "age_years": age.astype(np.int16),
        "age_days": np.ma.masked_array(np.minimum(np.maximum(infant_days, 0), 365),
                                       mask=infant_days < 0).astype(np.int16),
        "is_newborn": s.newborn,
        "newborn_birth_weight_g": np.ma.masked_array(np.maximum(s.birth_weight, 200),
                                                     mask=~s.newborn).astype(np.int32),
        "payer": pick([str(k) for k in range(1, 10)], pop.payer[s.patient]),
        "is_day_surgery": s.day_surgery, "is_special_needs": s.special,
        "drg_code": pick(catalogs.drg_codes, np.maximum(s.drg, 0), mask=~drg_ok),
        "grouper_version": pick([catalogs.grouper_version], np.zeros(n, np.int64), mask=~drg_ok),
        "total_cost": total, "self_pay_cost": total - insurance, "insurance_paid": insurance,
        **{c: costs[c] for c in COST_COLUMNS},
    }, n=n)
    return {"inpatient_stay": stay, "stay_diagnosis": _diagnoses(catalogs, s, ids, age, rng),
            "stay_procedure": _procedures(catalogs, s, ids, staff, world, rng),
            "stay_movement": _movement_table(s, ids, dept_ids, ward_ids, inst_ids)}


def stay_ids(s: Stays) -> pa.Array:
    """``stay_id``: ``ZY`` + admission year + per-institution sequence."""
    year = (s.adm // DAY).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return joined(pick([f"ZY{y}" for y in range(1990, 2101)], year - 1990),
                  text_ids("", s.number, 7))


def _diagnoses(catalogs: Catalogs, s: Stays, ids: pa.Array, age: np.ndarray,
               rng: np.random.Generator) -> pa.Table:
    dx = catalogs.diagnoses
    n = len(s)
    k = np.minimum(rng.poisson(0.5 + np.maximum(age, 0) / 20), 12)
    k = np.where(s.newborn, np.minimum(k, rng.integers(0, 3, n)), k)
    extra = (s.complication >= 0).astype(np.int64)
    per = 1 + k + extra
    stay = np.repeat(np.arange(n), per)
    seq = np.arange(len(stay)) - np.repeat(np.cumsum(per) - per, per) + 1
    code = np.repeat(s.dx, per)
    secondary = seq > 1
    comorbid = catalogs.comorbidity_index[rng.choice(len(catalogs.comorbidity_index),
                                                      int(secondary.sum()),
                                                      p=catalogs.comorbidity_p)]
    code[secondary] = comorbid
    last = np.cumsum(per) - 1
    has_comp = extra > 0
    code[last[has_comp]] = s.complication[has_comp]
    poa = np.where(secondary, rng.choice(4, len(stay), p=[0.97, 0.02, 0.01, 0.0]),
                   rng.choice(4, len(stay), p=[0.95, 0.03, 0.02, 0.0]))
    poa[last[has_comp]] = 3
    # the outpatient diagnosis (one per stay) and external causes of injuries
    injury = np.isin(dx.chapter[s.dx], ["XIX"]) & (len(catalogs.external_dx) > 0)
    n_ext = int(injury.sum())
    stay_all = np.concatenate([stay, np.arange(n), np.flatnonzero(injury)])
    kind = np.concatenate([np.zeros(len(stay), np.int8), np.ones(n, np.int8),
                           np.full(n_ext, 3, np.int8)])
    seq_all = np.concatenate([seq, np.ones(n + n_ext, np.int64)])
    ext = rng.choice(catalogs.external_dx, n_ext) if n_ext else np.zeros(0, np.int64)
    code_all = np.concatenate([code, s.dx, ext])
    poa_all = np.concatenate([poa, np.full(n + n_ext, -1)])
    return build_table("stay_diagnosis", {
        "institution_id": pick(list(catalogs.member_ids), s.inst[stay_all]),
        "stay_id": ids.take(pa.array(stay_all)),
        "diagnosis_kind": pick(["discharge", "outpatient", "pathology", "external_cause"], kind),
        "seq": seq_all.astype(np.int16),
        "diagnosis_code": pick(catalogs.dx_codes, code_all),
        "diagnosis_name": pick(catalogs.dx_names, code_all),
        "present_on_admission": pick(list(_POA), np.maximum(poa_all, 0), mask=poa_all < 0),
    }, n=len(stay_all))


def _procedures(catalogs: Catalogs, s: Stays, ids: pa.Array, staff: np.ndarray, world,
                rng: np.random.Generator) -> pa.Table:
    pc_ = catalogs.procedures
    n = len(s)
    has = s.proc >= 0
    reop = s.reop_time != NULL_TIME
    minor = s.minor >= 0
    per = has.astype(np.int64) + minor + reop
    stay = np.repeat(np.arange(n), per)
    seq = np.arange(len(stay)) - np.repeat(np.cumsum(per) - per, per) + 1
    first = np.cumsum(per) - per
    code = np.full(len(stay), -1, dtype=np.int64)
    when = np.full(len(stay), NULL_TIME, dtype=np.int64)
    stype = np.zeros(len(stay), np.int8)
    is_reop = np.zeros(len(stay), bool)
    pos = first[has]
    code[pos], when[pos], stype[pos] = s.proc[has], s.proc_time[has], s.surgery_type[has]
    pos_m = first[minor] + has[minor]
    code[pos_m], when[pos_m] = s.minor[minor], s.minor_time[minor]
    pos_r = first[reop] + has[reop] + minor[reop]
    code[pos_r] = s.proc[reop]
    when[pos_r], stype[pos_r], is_reop[pos_r] = s.reop_time[reop], 2, True
    surgeon = np.where(pc_.surgical[code] | (pc_.category[code] == "4"),
                       np.repeat(s.surgeon, per), -1)
    incision = pc_.incision[code]
    heal = _healing(rng, incision)
    level = pc_.level[code]
    anaesthesia = np.where(pc_.category[code] == "2", np.where(rng.random(len(code)) < 0.5,
                                                               "SED", "NONE"),
                           np.select([level == "4", level == "3", level == "2"],
                                     ["GA", np.where(rng.random(len(code)) < 0.75, "GA", "RA"),
                                      np.where(rng.random(len(code)) < 0.5, "RA", "LA")], "LA"))
    anaesthesia = np.where(pc_.category[code] == "3", "NONE", anaesthesia)
    day = np.repeat(s.day_surgery, per) & (seq == 1)
    return build_table("stay_procedure", {
        "institution_id": pick(list(catalogs.member_ids), s.inst[stay]),
        "stay_id": ids.take(pa.array(stay)), "seq": seq.astype(np.int16),
        "procedure_code": pick(catalogs.proc_codes, code),
        "procedure_name": pick(catalogs.proc_names, code), "procedure_time": when,
        "operation_level": pick([None, "1", "2", "3", "4"],
                                np.searchsorted(["", "1", "2", "3", "4"], level)),
        "surgeon_id": pick(staff, np.maximum(surgeon, 0), mask=surgeon < 0),
        "incision_class": pick([None, "0", "1", "2", "3"],
                               np.searchsorted(["", "0", "1", "2", "3"], incision)),
        "healing_grade": pick([None, "0", "1", "2", "3"], np.searchsorted(["", "0", "1", "2", "3"],
                                                                          heal)),
        "anaesthesia_method": pa.array(anaesthesia.astype(str)),
        "surgery_type": pick([None, "1", "2", "3"], stype),
        "is_day_surgery": day, "is_unplanned_reoperation": is_reop,
    }, n=len(stay))


def _healing(rng: np.random.Generator, incision: np.ndarray) -> np.ndarray:
    """Healing grade by incision class: 甲 (1) nearly always, 丙 (3) very rarely."""
    u = rng.random(len(incision))
    p3 = np.select([incision == "1", incision == "2", incision == "3"], [0.0002, 0.001, 0.01], 0)
    p2 = np.select([incision == "1", incision == "2", incision == "3"], [0.004, 0.012, 0.04], 0)
    grade = np.where(u < p3, "3", np.where(u < p3 + p2, "2", "1"))
    return np.where(incision == "0", "0", np.where(incision == "", "", grade))


def _movement_table(s: Stays, ids: pa.Array, dept_ids: list[str], ward_ids: list[str],
                    inst_ids: list[str]) -> pa.Table:
    n = len(s)
    present = s.move_dept >= 0
    rows, cols = np.nonzero(present)
    nxt = np.concatenate([s.move_start[:, 1:], np.full((n, 1), NULL_TIME)], axis=1)
    has_next = np.concatenate([present[:, 1:], np.zeros((n, 1), bool)], axis=1)
    end = np.where(has_next, nxt, s.dis[:, None])
    ward = s.move_ward[rows, cols]
    return build_table("stay_movement", {
        "institution_id": pick(inst_ids, s.inst[rows]), "stay_id": ids.take(pa.array(rows)),
        "seq": (cols + 1).astype(np.int16),
        "ward_id": pick(ward_ids, np.maximum(ward, 0)),
        "dept_id": pick(dept_ids, s.move_dept[rows, cols]),
        "start_time": s.move_start[rows, cols], "end_time": end[rows, cols],
    }, n=len(rows))
