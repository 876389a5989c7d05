"""Two-way referrals between the group's institutions and outside facilities.

* **Down** (下转): outpatient visits flagged ``down_referral`` and discharges transferred on
  medical advice to community care (disposition 3) or to a secondary hospital (disposition 2,
  receiving level 2) go to medical-alliance partners, mostly those attached to the institution.
* **Lateral**: discharges transferred to another tertiary hospital (disposition 2, level 3).
* **Up** (上转): outpatient appointments booked through the referral channel and admissions
  transferred in from another facility (admission route 3) come from partners of level 1 or 2.

Examples
--------
>>> DIRECTIONS
('down', 'up', 'lateral')
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from hospital_sdk.synth.schema import DAY, build_table, pick, text_ids

DIRECTIONS = ("down", "up", "lateral")
_SETTINGS = ["outpatient", "emergency", "inpatient", "health_check"]


def _partner(world, inst: np.ndarray, level: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A partner (row of ``world.partners``) of facility ``level`` for each referral; alliance
    members attached to the referring institution first."""
    p = world.partners
    lv = p["level"].to_numpy().astype(str)
    alliance = p["alliance"].to_numpy().astype(bool)
    parent = p["org_code"].map(world.institutions.set_index("institution_id")
                               ["parent_institution_id"]).to_numpy()
    member_ids = np.array(world.member_ids)
    out = np.empty(len(inst), dtype=np.int64)
    for code in np.unique(level):
        for i in np.unique(inst):
            sel = np.flatnonzero((level == code) & (inst == i))
            if not len(sel):
                continue
            own = np.flatnonzero((lv == code) & alliance & (parent == member_ids[i]))
            any_ = np.flatnonzero(lv == code)
            pool_ = own if len(own) and code != "3" else any_
            if code == "3":
                pool_ = np.flatnonzero((lv == "3"))
            out[sel] = rng.choice(pool_, len(sel))
    return out


def referral_table(world, visits, stays, stay_ids: pa.Array, patients, prefix: str,
                   rng: np.random.Generator) -> pa.Table:
    """The month's ``referral`` rows from its visits and discharged stays."""
    up_channel = 5  # registration channel "referral"
    vd = np.flatnonzero(visits.down)
    vu = np.flatnonzero(visits.appointment & (visits.channel == up_channel))
    disp = stays.disposition
    sd = np.flatnonzero((disp == 2) | ((disp == 1) & (stays.transfer_level == 1)))
    sl = np.flatnonzero((disp == 1) & (stays.transfer_level == 0))
    su = np.flatnonzero(stays.route == 2)
    n_v = len(vd) + len(vu)
    visit = np.concatenate([vd, vu])
    stay = np.concatenate([sd, sl, su])
    direction = np.concatenate([np.zeros(len(vd)), np.ones(len(vu)), np.zeros(len(sd)),
                                np.full(len(sl), 2), np.ones(len(su))]).astype(np.int64)
    inst = np.concatenate([visits.inst[visit], stays.inst[stay]])
    level = np.concatenate([
        np.where(rng.random(len(vd)) < 0.75, "1", "2"), np.where(rng.random(len(vu)) < 0.6,
                                                                  "1", "2"),
        np.where(disp[sd] == 2, "1", "2"), np.full(len(sl), "3"),
        np.where(rng.random(len(su)) < 0.5, "1", "2")])
    partner = _partner(world, inst, level, rng)
    when = np.concatenate([visits.end[vd] + rng.integers(300, 1800, len(vd)),
                           visits.booked[vu],
                           stays.dis[np.concatenate([sd, sl])] - rng.integers(600, 7200,
                                                                             len(sd) + len(sl)),
                           stays.adm[su] - rng.integers(2 * 3600, DAY, len(su))])
    setting = np.concatenate([np.array([0, 1, 3])[visits.vtype[visit]], np.full(len(stay), 2)])
    last = np.where(stays.move_dept[:, 2] >= 0, 2, np.where(stays.move_dept[:, 1] >= 0, 1, 0))
    dis_dept = stays.move_dept[np.arange(len(stays)), last]
    dept = np.concatenate([visits.dept[visit],
                           np.where(direction[n_v:] == 1, stays.dept[stay], dis_dept[stay])])
    doctor = np.concatenate([visits.doctor[visit], stays.doctor[stay]])
    patient = np.concatenate([visits.patient[visit], stays.patient[stay]])
    n = len(inst)
    p = world.partners
    visit_ref = np.concatenate([visit, np.full(len(stay), -1)])
    stay_ref = np.concatenate([np.full(n_v, -1), stay])
    return build_table("referral", {
        "institution_id": pick(list(world.member_ids), inst),
        "referral_id": text_ids(prefix, np.arange(1, n + 1), 7),
        "direction": pick(list(DIRECTIONS), direction),
        "setting": pick(_SETTINGS, setting),
        "visit_id": visits.ids.take(pa.array(np.maximum(visit_ref, 0), mask=visit_ref < 0))
        if len(visits) else pa.nulls(n, pa.string()),
        "stay_id": stay_ids.take(pa.array(np.maximum(stay_ref, 0), mask=stay_ref < 0))
        if len(stay_ids) else pa.nulls(n, pa.string()),
        "patient_local_id": patients.local_ids(patient),
        "partner_org_code": pick(p["org_code"].tolist(), partner),
        "partner_org_name": pick(p["name_zh"].tolist(), partner),
        "partner_level": pick(p["level"].astype(str).tolist(), partner),
        "is_alliance_member": p["alliance"].to_numpy().astype(bool)[partner] if n
        else np.zeros(0, bool),
        "dept_id": pick(world.departments["dept_id"].tolist(), dept),
        "doctor_id": pick(world.staff_index.ids, np.maximum(doctor, 0), mask=doctor < 0),
        "referral_time": when,
    }, n=n)
