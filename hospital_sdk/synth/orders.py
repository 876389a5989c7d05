"""Medication orders and prescriptions, with their charge lines and status events.

Outpatient and emergency visits get a prescription with about 72 % (emergency 62 %)
probability, of one to six drug lines drawn from the department's outpatient drugs; each line's
quantity spends a share of the visit's drug budget at the drug's price, capped by its usual
course. Inpatients get

* antibacterial courses by clinical logic: surgical prophylaxis for one or two days, treatment
  courses for infections (and a few other stays), dosed at the reference dose and frequency in
  the drug's strength unit, so ``dispensed_dose / DDD`` gives the antibacterial use density;
* other standing (``long_term``) and one-off (``temporary``) orders drawn until the stay's drug
  budget is spent, standing orders billed day by day;
* discharge medication for about a third of survivors.

A sample of prescriptions (≈ 8 %) and of discharged patients' orders (≈ 30 % of stays) is
reviewed; most reviews find the prescription appropriate.

Examples
--------
>>> daily_units(np.array([2.0, 0.5]), np.array([2.0, 3.0]), np.array([1.0, 0.25]))
array([4., 6.])
>>> course_quantity(np.array([0.1]), np.array([30.0]))
array([3.])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from hospital_sdk.model import CONTRACT
from hospital_sdk.synth.charges import INPATIENT, Lines
from hospital_sdk.synth.events import EventPart, transitions
from hospital_sdk.synth.rng import grouped_choice
from hospital_sdk.synth.schema import DAY, NULL_TIME, build_table, pick, text_ids

ORDER_TYPES: tuple[str, ...] = CONTRACT.code_set("order_type").values
REVIEW_RESULTS: tuple[str, ...] = CONTRACT.code_set("review_result").values
_SORTED_TYPES = np.array(sorted(ORDER_TYPES))
_TYPE_OF_SORTED = np.array([ORDER_TYPES.index(t) for t in _SORTED_TYPES])
_REVIEW_P = np.array([0.90, 0.04, 0.05, 0.01])
PRESCRIPTION_RATE = {0: 0.72, 1: 0.62, 2: 0.0}
OUTPATIENT_REVIEW_RATE = 0.08
ANTIBIOTIC_THERAPY = 0.90  # share of stays with an infection that get antibacterials
ANTIBIOTIC_OTHER = 0.18  # share of other medical stays that get antibacterials
PROPHYLAXIS = {"0": 0.25, "1": 0.40, "2": 0.85, "3": 0.95, "": 0.15}  # by incision class


def daily_units(dose: np.ndarray, frequency: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Dispensing units a day: the daily dose in strength units, rounded up to whole units."""
    return np.maximum(np.ceil(daily_need(dose, frequency, strength) - 1e-9), 1.0)


def daily_need(dose: np.ndarray, frequency: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Dispensing units used a day, unrounded (below 1 for multi-dose packs: pens, inhalers).

    >>> daily_need(np.array([10.0]), np.array([3.0]), np.array([300.0]))
    array([0.1])
    """
    return dose * frequency / np.maximum(strength, 1e-9)


def course_quantity(need: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Whole units dispensed for a course of ``days`` days."""
    return np.maximum(np.ceil(need * days - 1e-9), 1.0)


@dataclass
class MedOrders:
    """Medication order lines (parallel arrays); -1 marks absent indices."""

    inst: np.ndarray
    setting: np.ndarray
    visit: np.ndarray
    stay: np.ndarray
    patient: np.ndarray
    prescription: np.ndarray
    order_type: np.ndarray
    item: np.ndarray
    prescriber: np.ndarray
    dept: np.ndarray
    order_time: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    days: np.ndarray
    per_day: np.ndarray
    reviewed: np.ndarray
    review: np.ndarray
    review_time: np.ndarray

    def __len__(self) -> int:
        return len(self.item)

    @staticmethod
    def concat(parts: list[MedOrders]) -> MedOrders:
        return MedOrders(*(np.concatenate([getattr(p, f) for p in parts])
                           for f in MedOrders.__dataclass_fields__))

    @property
    def quantity(self) -> np.ndarray:
        """Units dispensed."""
        return self.per_day * self.days


def _reviews(rng: np.random.Generator, reviewed: np.ndarray, after: np.ndarray,
             lo_days: float, hi_days: float) -> tuple[np.ndarray, np.ndarray]:
    n = len(reviewed)
    result = np.where(reviewed, rng.choice(len(_REVIEW_P), n, p=_REVIEW_P), -1)
    when = np.where(reviewed, after + (rng.uniform(lo_days, hi_days, n) * DAY).astype(np.int64),
                    NULL_TIME)
    return result, when


def outpatient_orders(world, catalogs, visits, drug_budget: np.ndarray,
                      rng: np.random.Generator) -> MedOrders:
    """Prescription lines of the month's completed visits (``drug_budget`` in fen per visit)."""
    items = catalogs.items
    done = visits.completed
    p = np.select([visits.vtype == 0, visits.vtype == 1], [PRESCRIPTION_RATE[0],
                                                           PRESCRIPTION_RATE[1]], 0.0)
    has = np.flatnonzero(done & (rng.random(len(visits)) < p))
    lines = np.minimum(1 + rng.poisson(1.5, len(has)), 6)
    v = np.repeat(has, lines)
    n = len(v)
    pool = catalogs.drugs_outpatient
    pos = grouped_choice(rng, visits.dept[v], pool.offsets, pool.weights)
    item = np.where(pos >= 0, pool.index[np.maximum(pos, 0)], pool.index[0])
    share = rng.exponential(1.0, n)
    share = share / np.bincount(np.repeat(np.arange(len(has)), lines), weights=share)[
        np.repeat(np.arange(len(has)), lines)]
    budget = drug_budget[v] * share
    need = daily_need(items.dose[item], items.frequency[item], items.strength[item])
    course = np.maximum(np.round(items.days[item] * rng.uniform(0.5, 1.5, n)), 1)
    course = np.where(visits.vtype[v] == 1, np.minimum(course, 3), course)
    base = course_quantity(need, course)
    scale = np.clip(budget / np.maximum(base * items.price[item], 1), 0.3, 4.0)
    quantity = np.maximum(np.round(base * scale), 1)
    start = visits.end[v] + rng.integers(3, 25, n) * 60
    days = np.maximum(np.round(quantity / np.maximum(need, 1e-9)), 1)
    order = visits.call[v] + (rng.uniform(0.3, 0.95, n) * (visits.end[v] - visits.call[v])
                              ).astype(np.int64)
    reviewed = np.repeat(rng.random(len(has)) < OUTPATIENT_REVIEW_RATE, lines)
    result, when = _reviews(rng, reviewed, order, 5, 40)
    prescription = np.repeat(np.arange(len(has)), lines)
    return MedOrders(inst=visits.inst[v], setting=np.array([0, 1, 3])[visits.vtype[v]],
                     visit=v, stay=np.full(n, -1), patient=visits.patient[v],
                     prescription=prescription,
                     order_type=np.full(n, ORDER_TYPES.index("prescription")), item=item,
                     prescriber=visits.doctor[v], dept=visits.dept[v], order_time=order,
                     start=start, stop=start + (days * DAY).astype(np.int64),
                     days=np.ones(n), per_day=quantity, reviewed=reviewed, review=result,
                     review_time=when)


def antibacterial_orders(world, catalogs, stays, rng: np.random.Generator) -> MedOrders:
    """Antibacterial courses of the month's stays (clinical dosing, see the module doc)."""
    items, dx, pr = catalogs.items, catalogs.diagnoses, catalogs.procedures
    n = len(stays)
    surgical = stays.proc >= 0
    incision = np.where(surgical, pr.incision[np.maximum(stays.proc, 0)], "")
    p_pro = np.array([PROPHYLAXIS.get(c, 0.3) for c in incision])
    infection = dx.infection[stays.dx]
    therapy = rng.random(n) < np.where(infection, ANTIBIOTIC_THERAPY, ANTIBIOTIC_OTHER)
    prophylaxis = surgical & ~therapy & (rng.random(n) < p_pro)
    los = np.maximum((stays.dis - stays.adm) / DAY, 0.2)
    agents = np.where(therapy, 1 + (rng.random(n) < 0.25), prophylaxis.astype(np.int64))
    s = np.repeat(np.arange(n), agents)
    m = len(s)
    pool = catalogs.antibacterials
    pos = grouped_choice(rng, stays.dept[s], pool.offsets, pool.weights)
    item = np.where(pos >= 0, pool.index[np.maximum(pos, 0)], pool.index[0])
    first = np.concatenate([[True], s[1:] != s[:-1]]) if m else np.zeros(0, bool)
    course = np.where(prophylaxis[s], rng.choice([1.0, 2.0], m, p=[0.6, 0.4]),
                      items.days[item] * rng.uniform(0.8, 1.5, m))
    start_offset = np.where(prophylaxis[s], np.maximum(stays.proc_time[s] - stays.adm[s] - 1800, 0),
                            np.where(first, rng.uniform(0.0, 0.15, m),
                                     rng.uniform(0.3, 0.6, m)) * los[s] * DAY)
    start = stays.adm[s] + start_offset.astype(np.int64) + 600
    remaining = np.maximum((stays.dis[s] - start) / DAY, 0.05)
    days = np.maximum(np.minimum(np.round(course), np.ceil(remaining)), 1)
    per_day = daily_units(items.dose[item], items.frequency[item], items.strength[item])
    return _inpatient(stays, s, item, per_day, days, start, "long_term", rng)


def other_orders(world, catalogs, stays, budget: np.ndarray, rng: np.random.Generator
                 ) -> MedOrders:
    """Non-antibacterial orders of the stays, drawn until each stay's ``budget`` (fen) is spent."""
    items = catalogs.items
    n = len(stays)
    los = np.maximum((stays.dis - stays.adm) / DAY, 0.2)
    k = 60
    s = np.repeat(np.arange(n), k)
    pool = catalogs.drugs_inpatient
    pos = grouped_choice(rng, stays.dept[s], pool.offsets, pool.weights)
    item = np.where(pos >= 0, pool.index[np.maximum(pos, 0)], pool.index[0])
    standing = rng.random(len(s)) < 0.65
    need = daily_need(items.dose[item], items.frequency[item], items.strength[item])
    days = np.where(standing, np.maximum(np.round(np.minimum(items.days[item], los[s])
                                                  * rng.uniform(0.5, 1.0, len(s))), 1), 1)
    pack = need < 0.5  # a pen, inhaler or tube lasts many days: dispensed once
    per_day = np.where(pack, course_quantity(need, days),
                       np.where(standing, daily_units(items.dose[item], items.frequency[item],
                                                      items.strength[item]),
                                daily_units(items.dose[item], np.ones(len(s)),
                                            items.strength[item])))
    days = np.where(pack, 1, days)
    cost = per_day * days * items.price[item]
    # an order far beyond the stay's means is rarely given; the rest are given in turn until
    # the budget is spent
    affordable = (cost <= 0.6 * budget[s]) | (rng.random(len(s)) < 0.03)
    cost = np.where(affordable, cost, 0.0)
    spent = np.cumsum(cost.reshape(n, k), axis=1) - cost.reshape(n, k)
    keep = ((spent < budget[:, None]).ravel()) & affordable
    s, item, per_day, days, standing = s[keep], item[keep], per_day[keep], days[keep], \
        standing[keep]
    m = len(s)
    start = stays.adm[s] + (rng.random(m) ** 1.3 * np.maximum(stays.dis[s] - stays.adm[s]
                                                               - days * DAY, 3600)
                            ).astype(np.int64) + 900
    start = np.minimum(start, stays.dis[s] - 1800)
    kinds = np.where(standing, "long_term", "temporary")
    return _inpatient(stays, s, item, per_day, days, start, kinds, rng)


def discharge_orders(world, catalogs, stays, rng: np.random.Generator) -> MedOrders:
    """Discharge medication (oral drugs for one to four weeks) for about a third of survivors."""
    items = catalogs.items
    n = len(stays)
    gets = (~stays.died) & (rng.random(n) < 0.35)
    count = np.where(gets, 1 + rng.poisson(0.8, n), 0)
    s = np.repeat(np.arange(n), count)
    pool = catalogs.drugs_outpatient
    pos = grouped_choice(rng, stays.dept[s], pool.offsets, pool.weights)
    item = np.where(pos >= 0, pool.index[np.maximum(pos, 0)], pool.index[0])
    need = daily_need(items.dose[item], items.frequency[item], items.strength[item])
    days = rng.choice([7.0, 14.0, 30.0], len(s), p=[0.5, 0.35, 0.15])
    start = stays.dis[s] - rng.integers(1800, 4 * 3600, len(s))
    start = np.maximum(start, stays.adm[s])
    out = _inpatient(stays, s, item, course_quantity(need, days), np.ones(len(s)), start,
                     "discharge", rng)
    out.stop = start + (days * DAY).astype(np.int64)
    return out


def _inpatient(stays, s: np.ndarray, item: np.ndarray, per_day: np.ndarray, days: np.ndarray,
               start: np.ndarray, kind, rng: np.random.Generator) -> MedOrders:
    m = len(s)
    order = start - rng.integers(600, 5400, m)
    order = np.maximum(order, stays.adm[s])
    stop = np.minimum(start + (days * DAY).astype(np.int64) - 60, stays.dis[s])
    stop = np.maximum(stop, start)
    kinds = np.asarray(kind)
    kind_idx = (np.searchsorted(_SORTED_TYPES, kinds) if kinds.ndim else
                np.full(m, np.searchsorted(_SORTED_TYPES, kinds)))
    kind_idx = _TYPE_OF_SORTED[np.asarray(kind_idx, dtype=np.int64)] if m else np.zeros(0, np.int64)
    reviewed = stays.reviewed[s]
    result, when = _reviews(rng, reviewed, stays.dis[s], 3, 30)
    return MedOrders(inst=stays.inst[s], setting=np.full(m, INPATIENT), visit=np.full(m, -1),
                     stay=s, patient=stays.patient[s], prescription=np.full(m, -1),
                     order_type=kind_idx, item=item, prescriber=stays.doctor[s],
                     dept=stays.dept[s], order_time=order, start=start,
                     stop=np.where(kind_idx == ORDER_TYPES.index("temporary"), start, stop),
                     days=days.astype(float), per_day=per_day.astype(float), reviewed=reviewed,
                     review=result, review_time=when)


def drug_lines(orders: MedOrders, ids: pa.Array, stay_end: np.ndarray) -> Lines:
    """Charge lines: one per prescription or one-off order, one per day of a standing order."""
    per = np.where(orders.stay >= 0, orders.days, 1).astype(np.int64)
    row = np.repeat(np.arange(len(orders)), per)
    day = np.arange(len(row)) - np.repeat(np.cumsum(per) - per, per)
    time = orders.start[row] + day * DAY
    inpatient = orders.stay[row] >= 0
    if len(stay_end):
        time = np.where(inpatient, np.minimum(time, stay_end[np.maximum(orders.stay[row], 0)]
                                              - 60), time)
    quantity = np.where(inpatient, orders.per_day[row], orders.quantity[row])
    return Lines.make(len(row), setting=orders.setting[row], inst=orders.inst[row],
                      visit=orders.visit[row], stay=orders.stay[row], patient=orders.patient[row],
                      item=orders.item[row], quantity=quantity, time=time,
                      billing_dept=orders.dept[row], performing_dept=None,
                      doctor=orders.prescriber[row], order_ref=ids.take(pa.array(row)))


def order_table(world, catalogs, orders: MedOrders, ids: pa.Array, prescription_ids: pa.Array,
                visit_ids: pa.Array, stay_ids: pa.Array, patients) -> pa.Table:
    """The ``medication_order`` table."""
    items = catalogs.items
    n = len(orders)
    q = orders.quantity
    item = orders.item
    settings = ["outpatient", "emergency", "inpatient", "health_check"]
    units = sorted(set(items.strength_unit[items.item_type == 0]))
    unit = np.searchsorted(units, items.strength_unit[item])
    routes = sorted(set(items.route[items.item_type == 0]))
    has_rx = orders.prescription >= 0
    return build_table("medication_order", {
        "institution_id": pick(list(world.member_ids), orders.inst), "order_id": ids,
        "setting": pick(settings, orders.setting),
        "visit_id": visit_ids.take(pa.array(np.maximum(orders.visit, 0), mask=orders.visit < 0))
        if len(visit_ids) else pa.nulls(n, pa.string()),
        "stay_id": stay_ids.take(pa.array(np.maximum(orders.stay, 0), mask=orders.stay < 0))
        if len(stay_ids) else pa.nulls(n, pa.string()),
        "patient_local_id": patients.local_ids(orders.patient),
        "prescription_id": prescription_ids.take(pa.array(np.maximum(orders.prescription, 0),
                                                          mask=~has_rx))
        if len(prescription_ids) else pa.nulls(n, pa.string()),
        "order_type": pick(list(ORDER_TYPES), orders.order_type),
        "drug_code": items.local_codes(orders.inst, item),
        "prescriber_id": pick(world.staff_index.ids, orders.prescriber),
        "dept_id": pick(world.departments["dept_id"].tolist(), orders.dept),
        "order_time": orders.order_time, "start_time": orders.start, "stop_time": orders.stop,
        "route": pick(routes, np.searchsorted(routes, items.route[item])),
        "dose_per_admin": items.dose[item], "dose_unit": pick(units, unit),
        "frequency_per_day": items.frequency[item], "dispensed_quantity": q,
        "dispensed_dose": q * items.strength[item],
        "amount": np.round(q * items.price[item]).astype(np.int64),
        "is_reviewed": orders.reviewed,
        "review_result": pick(list(REVIEW_RESULTS), np.maximum(orders.review, 0),
                              mask=orders.review < 0),
        "review_time": orders.review_time,
    }, n=n)


def order_events(orders: MedOrders, ids: pa.Array, rng: np.random.Generator) -> EventPart:
    """ordered -> verified -> dispensed [-> stopped] for every order line."""
    n = len(orders)
    verified = np.minimum(orders.order_time + rng.integers(120, 1800, n),
                          np.maximum(orders.start, orders.order_time))
    stopped = np.where(orders.order_type == ORDER_TYPES.index("long_term"), orders.stop, NULL_TIME)
    times = np.stack([orders.order_time, verified, orders.start, stopped], axis=1)
    ops = np.stack([orders.prescriber, np.full(n, -1), np.full(n, -1), orders.prescriber], axis=1)
    return transitions("order", orders.inst, ids, ("ordered", "verified", "dispensed", "stopped"),
                       times, ops)


def prescription_ids(prefix: str, n: int) -> pa.Array:
    """Prescription numbers ``prefix`` + 8 digits."""
    return text_ids(prefix, np.arange(1, n + 1), 8)
