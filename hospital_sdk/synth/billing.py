"""Service and consumable charge lines of visits and stays.

Visits: registration and consultation (by the doctor's title, the premium clinic, emergency)
at registration, refunded when the visit is cancelled; the check-up package of health checks;
treatments and consumables that spend what is left of the visit's budget.

Stays: bed, nursing and inpatient consultation for every day (intensive-care rates for the
days on the ICU, incubator and newborn nursing for newborns, premium rates for premium stays);
surgery and anaesthesia fees by operation level and method, the consumables of the procedure
and of the anaesthesia, general surgical supplies and post-operative analgesia; the treatment
item of a diagnostic or therapeutic procedure; daily supplies; and treatments and consumables
that spend what is left of the stay's budget.

Examples
--------
>>> expand(np.array([2, 0, 1]))
(array([0, 0, 2]), array([0, 1, 0]))
"""

from __future__ import annotations

import numpy as np

from hospital_sdk.synth.charges import INPATIENT, Lines, spend
from hospital_sdk.synth.rng import grouped_choice
from hospital_sdk.synth.schema import DAY, NULL_TIME

_VISIT_SETTING = np.array([0, 1, 3])  # outpatient, emergency, health_check


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner and running number (0, 1, ...) of ``counts[k]`` children of each owner ``k``."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, k


def visit_lines(world, catalogs, visits, rng: np.random.Generator) -> Lines:
    """Registration, consultation (or check-up package) and the refunds of cancelled visits."""
    sv = catalogs.service
    n = len(visits)
    title = np.full(n, "")
    has_doc = visits.doctor >= 0
    titles = world.staff["title_level"].to_numpy().astype(str)
    order = _staff_order(world)
    title[has_doc] = titles[order[visits.doctor[has_doc]]]
    expert = (visits.inst == 0) & (title == "1") & (rng.random(n) < 0.2)
    consult = np.select(
        [visits.vtype == 2, visits.special, visits.vtype == 1, expert, title == "1", title == "2"],
        [sv["health_check"], sv["consultation:special_needs"], sv["consultation:emergency"],
         sv["consultation:expert"], sv["consultation:chief"], sv["consultation:associate_chief"]],
        sv["consultation:general"])
    owner = np.concatenate([np.arange(n), np.arange(n)])
    item = np.concatenate([np.full(n, sv["registration"]), consult])
    when = np.concatenate([visits.visit, visits.visit])
    lines = [_visit_part(visits, owner, item, np.ones(len(owner)), when)]
    c = np.flatnonzero(visits.cancelled)
    if len(c):
        back = np.concatenate([c, c])
        refund_at = np.where(visits.no_show[back], visits.visit[back] + 2 * 3600,
                             visits.visit[back] + rng.integers(300, 3600, len(back)))
        lines.append(_visit_part(visits, back, np.concatenate([item[c], item[n + c]]),
                                 -np.ones(len(back)), refund_at))
    return Lines.concat(lines)


def _staff_order(world) -> np.ndarray:
    """Map from staff-index position to the row of ``world.staff``."""
    ids = world.staff["staff_id"].to_numpy().astype(str)
    row = {s: i for i, s in enumerate(ids)}
    return np.array([row[s] for s in world.staff_index.ids])


def _visit_part(visits, owner: np.ndarray, item: np.ndarray, quantity: np.ndarray,
                time: np.ndarray) -> Lines:
    return Lines.make(len(owner), setting=_VISIT_SETTING[visits.vtype[owner]],
                      inst=visits.inst[owner], visit=owner, stay=None,
                      patient=visits.patient[owner], item=item, quantity=quantity, time=time,
                      billing_dept=visits.dept[owner], performing_dept=visits.dept[owner],
                      doctor=visits.doctor[owner])


def visit_fill_lines(catalogs, visits, remainder: np.ndarray, rng: np.random.Generator) -> Lines:
    """Treatments and consumables spending ``remainder`` (fen) of completed visits."""
    sv, items = catalogs.service, catalogs.items
    owners = np.flatnonzero(visits.completed & (remainder > 2000))
    if not len(owners):
        return Lines.make(0, setting=np.zeros(0, np.int64))
    pool = np.array([sv[k] for k in ("injection", "infusion", "nebuliser", "dressing",
                                     "acupuncture", "tuina") if k in sv])
    n = len(owners)
    k = 1 + (rng.random(n) < 0.4)
    owner, j = expand(k)
    v = owners[owner]
    treat = j == 0
    item = np.where(treat, rng.choice(pool, len(v)),
                    catalogs.daily_materials.index[grouped_choice(
                        rng, visits.dept[v], catalogs.daily_materials.offsets,
                        catalogs.daily_materials.weights).clip(0)])
    share = np.where(k[owner] == 1, 1.0, np.where(treat, 0.6, 0.4))
    quantity = np.minimum(spend(remainder[v] * share, items.price[item]), 30)
    return _visit_part(visits, v, item, quantity, visits.end[v] + rng.integers(120, 1200, len(v)))


def stay_lines(world, catalogs, stays, rng: np.random.Generator) -> Lines:
    """Daily, surgical and procedure lines of the month's stays (see the module doc)."""
    return Lines.concat([_daily(world, catalogs, stays, rng), _surgery(world, catalogs, stays, rng),
                         _minor(catalogs, stays, rng)])


def _stay_part(stays, owner: np.ndarray, item: np.ndarray, quantity: np.ndarray,
               time: np.ndarray, performing: np.ndarray | None = None,
               doctor: np.ndarray | None = None) -> Lines:
    time = np.minimum(np.maximum(time, stays.adm[owner]), stays.dis[owner] - 60)
    return Lines.make(len(owner), setting=INPATIENT, inst=stays.inst[owner], visit=None,
                      stay=owner, patient=stays.patient[owner], item=item, quantity=quantity,
                      time=time, billing_dept=stays.dept[owner],
                      performing_dept=performing if performing is not None else stays.dept[owner],
                      doctor=doctor if doctor is not None else stays.doctor[owner])


def _daily(world, catalogs, stays, rng: np.random.Generator) -> Lines:
    sv = catalogs.service
    n = len(stays)
    days = np.maximum((stays.dis // DAY) - (stays.adm // DAY), 1)
    owner, k = expand(days)
    time = stays.adm[owner] + k * DAY + 1800
    icu_start = stays.move_start[owner, 1]
    icu_end = np.where(stays.move_start[owner, 2] != NULL_TIME, stays.move_start[owner, 2],
                       stays.dis[owner])
    icu_dept = stays.move_dept[owner, 1]
    spec = world.departments["specialty_code"].to_numpy().astype(str)
    on_icu = (icu_dept >= 0) & (spec[np.maximum(icu_dept, 0)] == "28") & (time >= icu_start) \
        & (time < icu_end)
    room = rng.choice([sv["bed:general"], sv["bed:double"], sv["bed:single"]], n,
                      p=[0.7, 0.22, 0.08])
    bed = np.select([on_icu, stays.newborn[owner], stays.special[owner]],
                    [sv["bed:icu"], sv["bed:incubator"], sv["bed:special_needs"]], room[owner])
    grade = rng.choice([sv["nursing:2"], sv["nursing:1"], sv["nursing:3"]], n, p=[0.6, 0.32, 0.08])
    grade = np.where(stays.died, sv["nursing:special"], grade)
    nursing = np.select([on_icu, stays.newborn[owner], stays.special[owner]],
                        [sv["nursing:icu"], sv["nursing:newborn"], sv["nursing:special_needs"]],
                        grade[owner])
    consult = np.full(len(owner), sv["inpatient_consultation"])
    supplies = catalogs.daily_materials
    pick_ = grouped_choice(rng, stays.dept[owner], supplies.offsets, supplies.weights)
    supply = np.where(pick_ >= 0, supplies.index[np.maximum(pick_, 0)], -1)
    has_supply = supply >= 0
    o = np.concatenate([owner, owner, owner, owner[has_supply]])
    item = np.concatenate([bed, nursing, consult, supply[has_supply]])
    qty = np.concatenate([np.ones(3 * len(owner)),
                          np.ceil(catalogs.items.typical_quantity[supply[has_supply]])])
    t = np.concatenate([time, time, time + 60, time[has_supply] + 7200])
    return _stay_part(stays, o, item, qty, t)


def _surgery(world, catalogs, stays, rng: np.random.Generator) -> Lines:
    sv, pr, items = catalogs.service, catalogs.procedures, catalogs.items
    reop = stays.reop_time != NULL_TIME
    owner = np.concatenate([np.flatnonzero(stays.proc >= 0), np.flatnonzero(reop)])
    if not len(owner):
        return Lines.make(0, setting=np.zeros(0, np.int64))
    proc = stays.proc[owner]
    when = np.concatenate([stays.proc_time[stays.proc >= 0], stays.reop_time[reop]])
    level = pr.level[proc]
    fee = np.array([sv["surgery:intervention"] if c == "4" else sv.get(f"surgery:{lv}",
                                                                        sv["surgery:2"])
                    for c, lv in zip(pr.category[proc], level, strict=True)], dtype=np.int64)
    method = pr.anaesthesia[proc]
    has_an = np.isin(method, ["GA", "RA", "LA", "SED"])
    anaesthesia = np.array([sv.get(f"anaesthesia:{m}", -1) for m in method], dtype=np.int64)
    d = world.departments
    anaesthesiology = _first_by_template(d, "anaesthesiology")[stays.inst[owner]]
    parts = [_stay_part(stays, owner, fee, np.ones(len(owner)), when, doctor=stays.surgeon[owner]),
             _stay_part(stays, owner[has_an], anaesthesia[has_an], np.ones(int(has_an.sum())),
                        when[has_an] - 600, performing=anaesthesiology[has_an])]
    analgesia = has_an & (method == "GA") & (rng.random(len(owner)) < 0.4)
    parts.append(_stay_part(stays, owner[analgesia], np.full(int(analgesia.sum()),
                                                               sv["analgesia"]),
                            np.ones(int(analgesia.sum())), when[analgesia] + 3600,
                            performing=anaesthesiology[analgesia]))
    g = catalogs.procedure_materials
    count = g.offsets[proc + 1] - g.offsets[proc]
    o, k = expand(count)
    mat = g.index[g.offsets[proc[o]] + k]
    qty = np.maximum(np.round(g.weights[g.offsets[proc[o]] + k] * rng.uniform(0.7, 1.3, len(o))), 1)
    parts.append(_stay_part(stays, owner[o], mat, qty, when[o] + 1800,
                            doctor=stays.surgeon[owner[o]]))
    general = catalogs.surgical_materials
    if len(general):
        o2 = np.repeat(np.arange(len(owner)), 3)
        parts.append(_stay_part(stays, owner[o2], rng.choice(general, len(o2)),
                                np.ones(len(o2)) + (rng.random(len(o2)) < 0.3), when[o2] + 1800))
    for m, pool in catalogs.anaesthesia_materials.items():
        sel = np.flatnonzero(method == m)
        if len(pool) and len(sel):
            o3 = np.repeat(sel, len(pool))
            it = np.tile(pool, len(sel))
            keep = rng.random(len(o3)) < np.minimum(items.typical_quantity[it], 1.0)
            parts.append(_stay_part(stays, owner[o3[keep]], it[keep], np.ones(int(keep.sum())),
                                    when[o3[keep]] - 300))
    return Lines.concat(parts)


def _first_by_template(d, template: str) -> np.ndarray:
    inst = d["inst"].to_numpy()
    tmpl = d["template"].to_numpy().astype(str)
    out = np.full(int(inst.max()) + 1, -1)
    for i in range(len(out)):
        hit = np.flatnonzero((inst == i) & (tmpl == template))
        out[i] = hit[0] if len(hit) else -1
    return out


def _minor(catalogs, stays, rng: np.random.Generator) -> Lines:
    """The treatment item billed for a diagnostic or therapeutic procedure, where one exists."""
    sv, pr, items = catalogs.service, catalogs.procedures, catalogs.items
    owner = np.flatnonzero(stays.minor >= 0)
    item = np.array([sv.get(f"procedure:{pr.code[p]}", -1) for p in stays.minor[owner]],
                    dtype=np.int64)
    keep = item >= 0
    owner, item = owner[keep], item[keep]
    hourly = items.pricing_unit[item] == "小时"
    qty = np.where(hourly, rng.integers(6, 72, len(owner)), 1)
    return _stay_part(stays, owner, item, qty.astype(float), stays.minor_time[owner])


def stay_fill_lines(world, catalogs, stays, remainder: np.ndarray,
                    rng: np.random.Generator) -> Lines:
    """Consumables (55 %) and treatments (45 %) spending ``remainder`` (fen) of each stay."""
    sv, items = catalogs.service, catalogs.items
    owners = np.flatnonzero(remainder > 5000)
    if not len(owners):
        return Lines.make(0, setting=np.zeros(0, np.int64))
    days = np.maximum((stays.dis[owners] - stays.adm[owners]) / DAY, 1)
    k = np.minimum(2 + np.ceil(days / 3), 8).astype(np.int64)
    owner, j = expand(k)
    s = owners[owner]
    material = j % 2 == 0
    supplies = catalogs.daily_materials
    pick_ = grouped_choice(rng, stays.dept[s], supplies.offsets, supplies.weights)
    treat = np.array([sv[k_] for k_ in ("infusion", "oxygen", "monitoring", "dressing",
                                        "injection", "nebuliser") if k_ in sv])
    item = np.where(material & (pick_ >= 0), supplies.index[np.maximum(pick_, 0)],
                    rng.choice(treat, len(s)))
    n_mat = np.bincount(owner, weights=material.astype(float), minlength=len(owners))
    n_treat = k - n_mat
    share = np.where(material, 0.55 / np.maximum(n_mat[owner], 1),
                     0.45 / np.maximum(n_treat[owner], 1))
    quantity = np.minimum(spend(remainder[s] * share, items.price[item]), 2000)
    time = stays.adm[s] + (rng.random(len(s)) * (stays.dis[s] - stays.adm[s])).astype(np.int64)
    return _stay_part(stays, s, item, quantity, time)
