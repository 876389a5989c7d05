"""Inpatient stays: planned for the whole period at stay level, written by discharge month.

Planning (:func:`plan_stays`) draws admissions by department weight (elective admissions on
weekday mornings, acute ones round the clock), the principal diagnosis from the reference mix of
the department, the patient (older than the department's outpatients), the length of stay
(lognormal by diagnosis, longer with age), death (by diagnosis mortality and age), surgery (by
the diagnosis' surgical probability, with a procedure from its list), day surgery for eligible
elective procedures, emergency surgery, complications and unplanned returns to theatre,
transfers between wards (some through intensive care), newborns from obstetric units,
unplanned readmissions within 31 days (same 4-character principal subcategory; the index stay
has ``readmission_plan = 1``) and planned chemotherapy cycles (``readmission_plan = 2`` on the
index). A stay belongs to the month of its discharge; stays still in hospital at the end are not
generated.

The stay tables are built per month by :func:`stay_tables` in :mod:`hospital_sdk.synth.stays`.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields

import numpy as np

from hospital_sdk.synth.catalogs import Catalogs
from hospital_sdk.synth.patients import Population, age_years
from hospital_sdk.synth.rng import RngFactory, grouped_choice
from hospital_sdk.synth.schema import DAY, NULL_TIME
from hospital_sdk.synth.timeline import clock, day_factor

LEAD_IN_DAYS = 120
"""Admissions are drawn from this many days before the period, so early discharges exist."""
ROUTES = ("1", "2", "3", "9")
DISPOSITIONS = ("1", "2", "3", "4", "5", "9")


@dataclass
class Stays:
    """Stay-level arrays of every stay of the period (one element per stay).

    Indices: ``dept_*`` into World.departments, ``ward_*`` into World.wards, ``patient`` into
    the plan's population, ``dx`` into the diagnosis catalog, ``proc``/``reop_proc`` into the
    procedure catalog, ``doctor``/``surgeon`` into the staff index. Times are seconds; -1 or
    :data:`NULL_TIME` mark absent values.
    """

    inst: np.ndarray
    dept: np.ndarray
    patient: np.ndarray
    dx: np.ndarray
    adm: np.ndarray
    dis: np.ndarray
    route: np.ndarray
    died: np.ndarray
    newborn: np.ndarray
    age_days_at_adm: np.ndarray
    birth_weight: np.ndarray
    proc: np.ndarray
    proc_time: np.ndarray
    surgery_type: np.ndarray
    day_surgery: np.ndarray
    reop_time: np.ndarray
    complication: np.ndarray
    minor: np.ndarray
    minor_time: np.ndarray
    special: np.ndarray
    budget: np.ndarray
    plan: np.ndarray
    purpose: np.ndarray
    index_of: np.ndarray  # for readmissions: the index stay; -1 otherwise
    # filled by :func:`hospital_sdk.synth.stays.finish_plan` once the stays are final
    move_dept: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    move_ward: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    move_start: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    disposition: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    transfer_level: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    doctor: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    surgeon: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    admission_count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    drg: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    number: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    month: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    reviewed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __len__(self) -> int:
        return len(self.inst)

    def take(self, index: np.ndarray) -> Stays:
        """The stays at ``index`` (``index_of`` is not remapped)."""
        return Stays(**{f.name: getattr(self, f.name)[index] if len(getattr(self, f.name))
                        else getattr(self, f.name) for f in fields(self)})

    @staticmethod
    def concat(parts: list[Stays]) -> Stays:
        """Stays of ``parts`` one after the other (planning fields only)."""
        return Stays(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                        for f in fields(Stays) if f.init and f.default_factory is MISSING})


@dataclass(frozen=True)
class Plan:
    """Every stay of the period (sorted by institution and admission) and the population
    including the newborns' new records."""

    stays: Stays
    population: Population


DEATH_SCALE = 0.8
SURGERY_SCALE = 1.3
ROUTINE_BOOST, SPECIAL_DAMP = 1.35, 0.8
"""Surgical probability multipliers of open non-level-4 operations and of minimally invasive or
level-4 ones: calibrate the minimally invasive and level-4 shares of surgical patients (about
0.25 each) for a department-weighted case mix richer in cardiology and neurosurgery than the
reference's diagnosis weights."""
READMISSION_SCALE = 1.3
COMPLICATION_SCALE = 1.0
REOPERATION_RATE = 0.007
LOS_SCALE = 1.13
DAY_SURGERY_SCALE = 1.15
CHEMO_FOLLOW_UP = 0.3
"""Share of chemotherapy/radiotherapy stays whose next planned cycle is generated."""


def _admissions(world, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Admission day and department of the base stays (elective and acute day patterns)."""
    d = world.departments
    first, last = world.start_day - LEAD_IN_DAYS, world.end_day
    days = np.arange(first, last)
    annual = world.annual_discharges()
    inst = d["inst"].to_numpy()
    share = d["inpatient_share"].to_numpy()
    valid_from = np.array([np.datetime64(v, "D").astype(np.int64) for v in d["valid_from"]])
    open_ = days[:, None] >= valid_from[None, :]
    f = 0.66 * day_factor(days, "elective") + 0.34 * day_factor(days, "acute")
    f = f / f.mean() / 365.25
    counts = rng.poisson(f[:, None] * (annual[inst] * share)[None, :] * open_)
    di, dj = np.nonzero(counts)
    reps = counts[di, dj]
    return np.repeat(days[di], reps), np.repeat(dj, reps)


def _los(rng: np.random.Generator, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Lognormal lengths of stay (days, fractional) with the given mean and SD."""
    sigma2 = np.log1p((sd / np.maximum(mean, 0.1)) ** 2)
    mu = np.log(np.maximum(mean, 0.1)) - sigma2 / 2
    return rng.lognormal(mu, np.sqrt(sigma2))


def stay_budget(rng: np.random.Generator, catalogs: Catalogs, dx: np.ndarray,
                los_days: np.ndarray, died: np.ndarray, day_surgery: np.ndarray) -> np.ndarray:
    """Target total cost of each stay in fen: the diagnosis' mean cost, scaled by the length of
    stay relative to the diagnosis' mean, with lognormal noise."""
    d = catalogs.diagnoses
    ratio = np.maximum(los_days, 1) / np.maximum(d.mean_los[dx], 1)
    noise = rng.lognormal(-0.3 ** 2 / 2, 0.3, len(dx))
    t = d.cost_mean[dx] * ratio ** 0.5 * noise * np.where(died, 1.3, 1.0)
    t = np.where(day_surgery, t * 0.6, t)
    return np.round(t * 100).astype(np.int64)


def plan_stays(world, catalogs: Catalogs, rng: RngFactory) -> Plan:
    """Plan every stay of the period (see the module docstring)."""
    from hospital_sdk.synth.stays import finish_plan
    r = rng("inpatient/plan")
    dxc, prc = catalogs.diagnoses, catalogs.procedures
    d = world.departments
    day, dept = _admissions(world, r)
    n = len(day)
    inst = d["inst"].to_numpy()[dept]
    pos = grouped_choice(r, dept, catalogs.dept_dx.offsets, catalogs.dept_dx.weights)
    dx = np.where(pos >= 0, catalogs.dept_dx.index[np.maximum(pos, 0)], catalogs.fallback_dx)
    route = np.where(r.random(n) < dxc.emergency_share[dx], 0,
                     r.choice([1, 2, 3], n, p=[0.95, 0.035, 0.015])).astype(np.int8)
    adm = day * DAY + np.where(route == 0, clock(r, n, "acute"), clock(r, n, "elective"))
    # the patient: age and sex from the diagnosis' profile (older at the geriatric centre)
    geriatric = world.members.kind.to_numpy()[inst] == "geriatric"
    age = np.clip(r.normal(dxc.age_mean[dx], dxc.age_sd[dx]), dxc.age_min[dx], dxc.age_max[dx])
    age = np.where(geriatric, np.clip(age + 10, np.maximum(dxc.age_min[dx], 55),
                                      np.maximum(dxc.age_max[dx], 60)), age)
    sex = np.where(r.random(n) < dxc.male_share[dx], 1, 2)
    newborn = dxc.newborn[dx]
    base = world.population
    patient = base.draw(r, inst, day, np.floor(age), np.floor(age), sex)
    nb = np.flatnonzero(newborn)
    age_days = np.full(n, -1, dtype=np.int64)
    age_days[nb] = np.minimum(r.geometric(0.35, len(nb)) - 1, 28)
    population, patient = _with_newborns(base, patient, nb, inst, day - np.maximum(age_days, 0),
                                         world, r)
    years = age_years(population.birth_day[patient], day)
    weight = np.where(newborn, np.clip(r.normal(3150, 520, n) - 900 * (r.random(n) < 0.18),
                                       600, 5200), -1)
    # length of stay, deaths
    los = _los(r, dxc.mean_los[dx], dxc.los_sd[dx]) * LOS_SCALE
    los = los * (1 + 0.004 * (years - dxc.age_mean[dx]).clip(-20, 30))
    p_death = dxc.mortality[dx] * np.exp(0.03 * (years - dxc.age_mean[dx]).clip(-30, 30))
    died = r.random(n) < np.minimum(p_death * DEATH_SCALE, 0.6)
    los = np.where(died, los * r.uniform(0.25, 1.1, n), los)
    # surgery: the procedure, its type, day surgery, timing
    pp = grouped_choice(r, dx, dxc.procedures.offsets, dxc.procedures.weights)
    chosen = dxc.procedures.index[np.maximum(pp, 0)]
    routine = ~prc.level4[chosen] & ~prc.minimally_invasive[chosen]
    surgical = r.random(n) < dxc.surgical[dx] * SURGERY_SCALE * np.where(routine, ROUTINE_BOOST,
                                                                          SPECIAL_DAMP)
    proc = np.where(surgical & (pp >= 0), chosen, -1)
    has = proc >= 0
    p0 = np.maximum(proc, 0)
    stype = np.where(route == 0, np.where(r.random(n) < 0.7, 2, 3), np.where(
        r.random(n) < 0.05, 3, 1))
    stype = np.where(has, stype, 0).astype(np.int8)
    day_surgery = has & (stype == 1) & ~died & (r.random(n) < prc.day_rate[p0] * DAY_SURGERY_SCALE)
    preop = np.where(stype == 1, np.minimum(prc.preop_days[p0], 0.45 * los), 0)
    post = np.maximum(los - preop, 1.0)
    los = np.where(has & ~day_surgery, preop + post, los)
    los = np.where(day_surgery, r.choice([0.0, 1.0], n, p=[0.55, 0.45]), los)
    los_days = np.maximum(np.round(los), 0).astype(np.int64)
    proc_time = np.where(stype == 1, (day + np.round(preop).astype(np.int64)) * DAY
                         + clock(r, n, "surgery"), adm + r.integers(3600, 6 * 3600, n))
    proc_time = np.where(day_surgery, adm + r.integers(3600, 4 * 3600, n), proc_time)
    proc_time = np.where(has, np.maximum(proc_time, adm + 1800), NULL_TIME)
    dis = (day + los_days) * DAY + clock(r, n, "discharge")
    after_op = np.where(day_surgery, 3 * 3600, DAY // 2) + (prc.duration[p0] * 60).astype(np.int64)
    dis = np.where(has, np.maximum(dis, proc_time + after_op), dis)
    dis = np.where(dis <= adm, adm + r.integers(2 * 3600, 8 * 3600, n), dis)
    # returns to theatre, complications, minor (diagnostic/therapeutic) procedures
    stay_h = (dis - np.where(has, proc_time, adm)) / 3600
    reop = has & ~day_surgery & (stay_h > 30) & (r.random(n) < REOPERATION_RATE)
    gap = np.where(r.random(n) < 0.6, r.uniform(4, 46, n), r.uniform(48, 24 * 20, n))
    gap = np.minimum(gap, stay_h - 6)
    reop_time = np.where(reop & (gap > 2), proc_time + (gap * 3600).astype(np.int64), NULL_TIME)
    comp_p = prc.complication_risk[p0] * COMPLICATION_SCALE
    cw = dxc.secondary_weight[catalogs.complication_dx] + 0.5
    comp_pick = r.choice(catalogs.complication_dx, n, p=cw / cw.sum()) \
        if len(catalogs.complication_dx) else np.full(n, -1)
    complication = np.where(has & (r.random(n) < comp_p), comp_pick, -1)
    mp = grouped_choice(r, dx, dxc.minor.offsets, dxc.minor.weights)
    minor = np.where((r.random(n) < dxc.minor_probability[dx]) & (mp >= 0),
                     dxc.minor.index[np.maximum(mp, 0)], -1)
    minor_time = np.where(minor >= 0, adm + (r.uniform(0.05, 0.8, n) * (dis - adm)).astype(
        np.int64), NULL_TIME)
    special = (r.random(n) < 0.008) & ~geriatric
    stays = Stays(inst=inst, dept=dept, patient=patient, dx=dx, adm=adm, dis=dis, route=route,
                  died=died, newborn=newborn, age_days_at_adm=age_days,
                  birth_weight=weight.astype(np.int64), proc=proc, proc_time=proc_time,
                  surgery_type=stype, day_surgery=day_surgery, reop_time=reop_time,
                  complication=complication, minor=minor, minor_time=minor_time,
                  special=special,
                  budget=stay_budget(r, catalogs, dx, los_days, died, day_surgery),
                  plan=np.zeros(n, np.int8), purpose=np.full(n, -1, np.int8),
                  index_of=np.full(n, -1, np.int64))
    stays = _readmissions(stays, catalogs, world, rng("inpatient/readmissions"))
    return finish_plan(world, catalogs, stays, population, rng)


def _with_newborns(base: Population, patient: np.ndarray, nb: np.ndarray, inst: np.ndarray,
                   birth: np.ndarray, world, rng: np.random.Generator
                   ) -> tuple[Population, np.ndarray]:
    """The population with a new record for each newborn stay, and patients pointing at them."""
    m = len(nb)
    patient = patient.copy()
    if m == 0:
        return base, patient
    start = np.zeros(len(base.prefixes), dtype=np.int64)
    for i in range(len(start)):
        own = base.number[base.institution == i]
        start[i] = (own.max() + 1) if len(own) else 100_000
    order = np.argsort(nb, kind="stable")
    seq = np.zeros(m, dtype=np.int64)
    for i in range(len(start)):
        sel = inst[nb][order] == i
        seq[order[sel]] = start[i] + np.arange(int(sel.sum()))
    sex = (1 + (rng.random(m) < 0.48)).astype(np.int8)
    mother_region = base.region[rng.integers(0, len(base), m)]
    newborns = Population(
        institution=inst[nb].astype(np.int8), number=seq,
        person=base.person.max() + 1 + np.arange(m), sex=sex, birth_day=birth[nb],
        id_number=np.full(m, b"", dtype="S18"), id_type=np.full(m, "", dtype="<U2"),
        region=mother_region, payer=np.where(rng.random(m) < 0.9, 1, 6).astype(np.int8),
        prior=np.zeros(m, dtype=bool), prefixes=base.prefixes)
    patient[nb] = len(base) + np.arange(m)
    return _concat_population(base, newborns), patient


def _concat_population(a: Population, b: Population) -> Population:
    values = {f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)])
              for f in fields(Population) if f.name != "prefixes"}
    return Population(**values, prefixes=a.prefixes)


def _readmissions(stays: Stays, catalogs: Catalogs, world, rng: np.random.Generator) -> Stays:
    """Append unplanned readmissions and planned chemotherapy cycles; mark the index stays."""
    dxc = catalogs.diagnoses
    n = len(stays)
    alive = ~stays.died & ~stays.newborn
    unplanned = alive & (rng.random(n) < dxc.readmission[stays.dx] * READMISSION_SCALE)
    cycle = alive & dxc.chemo[stays.dx] & ~unplanned & (rng.random(n) < 0.6)
    follow = cycle & (rng.random(n) < CHEMO_FOLLOW_UP) & (catalogs.chemo_dx >= 0)
    staged = alive & ~unplanned & ~cycle & (rng.random(n) < 0.01)
    stays.plan = np.where(cycle | staged, 1, 0).astype(np.int8)
    stays.purpose = np.where(cycle, 0, np.where(staged, 1, -1)).astype(np.int8)
    parts = [stays]
    for mask, kind in ((unplanned, "unplanned"), (follow, "chemo")):
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        m = len(idx)
        gap = (np.minimum(rng.exponential(8.0, m), 31) if kind == "unplanned"
               else rng.integers(18, 26, m)).astype(np.int64)
        re = stays.take(idx)
        re.index_of = idx
        re.route = np.where(rng.random(m) < (0.7 if kind == "unplanned" else 0.03), 0, 1
                            ).astype(np.int8)
        day = stays.dis[idx] // DAY + gap
        re.adm = np.maximum(day * DAY + np.where(re.route == 0, clock(rng, m, "acute"),
                                                 clock(rng, m, "elective")),
                            stays.dis[idx] + 3600)
        if kind == "chemo":
            re.dx = np.full(m, catalogs.chemo_dx, dtype=np.int64)
        mean = dxc.mean_los[re.dx] * (0.8 if kind == "unplanned" else 1.0)
        los = np.maximum(np.round(_los(rng, mean, dxc.los_sd[re.dx])), 1).astype(np.int64)
        re.dis = (re.adm // DAY + los) * DAY + clock(rng, m, "discharge")
        re.dis = np.where(re.dis <= re.adm, re.adm + 4 * 3600, re.dis)
        re.died = rng.random(m) < dxc.mortality[re.dx] * DEATH_SCALE
        none = np.full(m, -1, dtype=np.int64)
        never = np.full(m, NULL_TIME, dtype=np.int64)
        re.proc, re.complication, re.minor, re.age_days_at_adm = none, none, none.copy(), none
        re.proc_time, re.reop_time, re.minor_time = never, never, never.copy()
        re.surgery_type = np.zeros(m, np.int8)
        re.day_surgery = np.zeros(m, bool)
        re.plan = np.zeros(m, np.int8)
        re.purpose = np.full(m, -1, np.int8)
        re.budget = stay_budget(rng, catalogs, re.dx, los, re.died, re.day_surgery)
        parts.append(re)
    return Stays.concat(parts)


__all__ = ["DISPOSITIONS", "LEAD_IN_DAYS", "Plan", "ROUTES", "Stays", "plan_stays", "stay_budget"]
