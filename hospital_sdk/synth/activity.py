"""One month of activity: visits, stays, orders, diagnostics, charges, referrals, events.

The pieces are generated in the order the money needs: fixed lines first (registration,
consultation, beds, nursing, surgery, examinations, lab tests, antibacterial courses), then drug
orders sized to the visit's or stay's drug budget, then treatments and consumables spending what
is left of the budget; finally every line is priced and summed back into the visit fees and the
stay cost columns (see :mod:`hospital_sdk.synth.charges`).

Budgets: a visit's total is lognormal with mean 315 yuan (outpatient), 460 (emergency) or
the check-up package (health check), premium visits 2.5 times more; 42 % of it is meant for
drugs. A stay's total is planned from its diagnosis
(:func:`hospital_sdk.synth.inpatient.stay_budget`);
33 % of it is meant for drugs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from hospital_sdk.synth import billing, diagnostics, orders
from hospital_sdk.synth.charges import Lines, finish
from hospital_sdk.synth.events import event_table, transitions
from hospital_sdk.synth.inpatient import Plan, plan_stays
from hospital_sdk.synth.outpatient import generate_visits, visit_table
from hospital_sdk.synth.patients import patient_table, registration_times
from hospital_sdk.synth.referrals import referral_table
from hospital_sdk.synth.rng import RngFactory
from hospital_sdk.synth.schema import DAY, NULL_TIME, pick
from hospital_sdk.synth.stays import stay_ids, stay_tables

MONTHLY_TABLES: tuple[str, ...] = (
    "outpatient_visit", "inpatient_stay", "stay_diagnosis", "stay_procedure", "stay_movement",
    "medication_order", "charge_line", "exam", "lab_order", "referral", "status_event")
"""Tables written as one file per month."""
VISIT_MEAN_FEE = np.array([315.0, 460.0, 0.0])  # yuan; health checks: the package
VISIT_FEE_SIGMA = 0.7
VISIT_DRUG_SHARE = 0.42
STAY_DRUG_SHARE = 0.33
_NEVER = np.iinfo(np.int64).max


@dataclass
class State:
    """What the months share: the stay plan and when each patient record was first seen."""

    plan: Plan
    first_seen: np.ndarray
    has_stay: np.ndarray


def plan(world, catalogs, rng: RngFactory) -> State:
    """Plan the stays of the whole period."""
    p = plan_stays(world, catalogs, rng)
    n = len(p.population)
    first = np.full(n, _NEVER, dtype=np.int64)
    np.minimum.at(first, p.stays.patient, p.stays.adm)
    has = np.zeros(n, dtype=bool)
    has[p.stays.patient] = True
    return State(p, first, has)


def _priced(lines: Lines, catalogs) -> np.ndarray:
    return np.round(lines.quantity * catalogs.items.price[lines.item]).astype(np.int64)


def _sum_by(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    own = owner >= 0
    return np.bincount(owner[own], weights=values[own], minlength=n).astype(np.int64)


def month(world, catalogs, state: State, year: int, month_: int,
          rng: RngFactory) -> dict[str, pa.Table]:
    """Every monthly table of ``year``-``month_``."""
    part = f"{year}-{month_:02d}"
    tag = f"{year % 100:02d}{month_:02d}"
    p = state.plan
    patients = p.population
    visits = generate_visits(world, year, month_, rng(f"outpatient/{part}"))
    m = (year - 1970) * 12 + month_ - 1
    idx = np.flatnonzero(p.stays.month == m)
    stays = p.stays.take(idx)
    s_ids = stay_ids(stays)
    nv, ns = len(visits), len(stays)
    r_diag = rng(f"diagnostics/{part}")
    labs = diagnostics.Orders.concat([
        diagnostics.outpatient_orders(world, catalogs.labs, visits, "lab", r_diag),
        diagnostics.inpatient_orders(world, catalogs.labs, stays, "lab", r_diag)])
    exams = diagnostics.Orders.concat([
        diagnostics.outpatient_orders(world, catalogs.exams, visits, "exam", r_diag),
        diagnostics.inpatient_orders(world, catalogs.exams, stays, "exam", r_diag)])
    lab_ids = diagnostics.order_ids(f"JY{tag}", len(labs))
    exam_ids = diagnostics.order_ids(f"JC{tag}", len(exams))
    r_bill = rng(f"billing/{part}")
    fixed = Lines.concat([billing.visit_lines(world, catalogs, visits, r_bill),
                          billing.stay_lines(world, catalogs, stays, r_bill),
                          diagnostics.charge_lines(world, catalogs, labs, "lab", lab_ids),
                          diagnostics.charge_lines(world, catalogs, exams, "exam", exam_ids)])
    fixed_cost = _priced(fixed, catalogs)
    # visits: drug budget, prescriptions, then treatments for what is left
    r_ord = rng(f"orders/{part}")
    target = _visit_targets(catalogs, visits, r_ord)
    v_fixed = _sum_by(fixed.visit, fixed_cost, nv)
    rate = np.select([visits.vtype == 0, visits.vtype == 1], [orders.PRESCRIPTION_RATE[0],
                                                              orders.PRESCRIPTION_RATE[1]], 1.0)
    rx = orders.outpatient_orders(world, catalogs, visits,
                                  target * VISIT_DRUG_SHARE / rate, r_ord)
    rx_cost = np.round(rx.quantity * catalogs.items.price[rx.item]).astype(np.int64)
    v_rest = target - v_fixed - _sum_by(rx.visit, rx_cost, nv)
    v_fill = billing.visit_fill_lines(catalogs, visits, v_rest, r_bill)
    # stays: antibacterial courses, other orders up to the drug budget, then the rest
    ab = orders.antibacterial_orders(world, catalogs, stays, r_ord)
    ab_cost = _sum_by(ab.stay, np.round(ab.quantity * catalogs.items.price[ab.item]), ns)
    s_fixed = _sum_by(fixed.stay, fixed_cost, ns)
    drug_budget = np.maximum(stays.budget * STAY_DRUG_SHARE - ab_cost, stays.budget * 0.04)
    other = orders.other_orders(world, catalogs, stays, drug_budget, r_ord)
    home = orders.discharge_orders(world, catalogs, stays, r_ord)
    med = orders.MedOrders.concat([rx, ab, other, home])
    med_cost = np.round(med.quantity * catalogs.items.price[med.item]).astype(np.int64)
    s_rest = stays.budget - s_fixed - _sum_by(med.stay, med_cost, ns)
    s_fill = billing.stay_fill_lines(world, catalogs, stays, s_rest, r_bill)
    med_ids = diagnostics.order_ids(f"YZ{tag}", len(med))
    rx_ids = orders.prescription_ids(f"CF{tag}", int(rx.prescription.max()) + 1 if len(rx) else 0)
    lines = [fixed, v_fill, s_fill, orders.drug_lines(med, med_ids, stays.dis)]
    charged = finish(lines, catalogs, world, visits.payer, patients.payer[stays.patient],
                     visits.ids, s_ids, stays.dis, patients, f"SF{tag}", rng(f"charges/{part}"))
    visits.total, visits.drug, visits.insurance = (charged.visit_total, charged.visit_drug,
                                                   charged.visit_insurance)
    tables = stay_tables(world, catalogs, p, idx, charged.stay_costs, charged.stay_insurance,
                         rng(f"stays/{part}"))
    tables.update({
        "outpatient_visit": visit_table(world, visits),
        "medication_order": orders.order_table(world, catalogs, med, med_ids, rx_ids, visits.ids,
                                               s_ids, patients),
        "charge_line": charged.table,
        "exam": diagnostics.tables(world, catalogs, exams, "exam", exam_ids, visits.ids, s_ids,
                                   patients),
        "lab_order": diagnostics.tables(world, catalogs, labs, "lab", lab_ids, visits.ids, s_ids,
                                        patients),
        "referral": referral_table(world, visits, stays, s_ids, patients, f"ZZ{tag}",
                                   rng(f"referrals/{part}")),
    })
    r_ev = rng(f"events/{part}")
    parts = [_visit_events(visits), _stay_events(stays, s_ids, r_ev),
             orders.order_events(med, med_ids, r_ev), diagnostics.lab_events(labs, lab_ids)]
    tables["status_event"] = event_table(parts, world.member_ids, world.staff_index.ids,
                                         f"EV{tag}", r_ev)
    seen = visits.visit
    np.minimum.at(state.first_seen, visits.patient, seen)
    return {name: tables[name] for name in MONTHLY_TABLES}


def _visit_targets(catalogs, visits, rng: np.random.Generator) -> np.ndarray:
    """Target total fee of each visit, in fen."""
    mean = VISIT_MEAN_FEE[visits.vtype] * np.where(visits.special, 2.5, 1.0)
    fee = rng.lognormal(-VISIT_FEE_SIGMA ** 2 / 2, VISIT_FEE_SIGMA, len(visits)) * mean
    return np.where(visits.completed, np.round(fee * 100), 0).astype(np.int64)


def _visit_events(visits):
    n = len(visits)
    registered = np.where(visits.no_show, NULL_TIME, visits.visit)
    cancelled = np.where(visits.cancelled & ~visits.no_show, visits.visit + 1800, NULL_TIME)
    no_show = np.where(visits.no_show, visits.slot + 2 * 3600, NULL_TIME)
    times = np.stack([visits.booked, registered, visits.checkin, visits.call, visits.end,
                      cancelled, no_show], axis=1)
    ops = np.full((n, 7), -1)
    ops[:, 3] = ops[:, 4] = visits.doctor
    return transitions("visit", visits.inst, visits.ids,
                       ("booked", "registered", "checked_in", "called", "completed", "cancelled",
                        "no_show"), times, ops)


def _stay_events(stays, ids: pa.Array, rng: np.random.Generator):
    n = len(stays)
    coded = stays.dis + rng.integers(1, 6, n) * DAY + rng.integers(8 * 3600, 17 * 3600, n) \
        - (stays.dis % DAY)
    coded = np.maximum(coded, stays.dis + 3600)
    submitted = coded + rng.integers(1, 11, n) * DAY
    times = np.stack([stays.adm, stays.move_start[:, 1], stays.move_start[:, 2], stays.dis,
                      coded, submitted], axis=1)
    ops = np.full((n, 6), -1)
    ops[:, 0] = ops[:, 3] = stays.doctor
    return transitions("stay", stays.inst, ids, ("admitted", "transferred", "transferred",
                                                 "discharged", "coded", "submitted"), times, ops)


def patients(world, state: State, rng: RngFactory) -> pa.Table:
    """The ``patient`` table of every record (registration times after all months)."""
    pop = state.plan.population
    registered = registration_times(rng("patients/registration"), pop, state.first_seen,
                                    world.start_day, world.end_day)
    return patient_table(pop, registered, state.has_stay, world.member_ids,
                         rng("patients/cards"))


def identity(world, state: State) -> pa.Table:
    """Truth of person identity: ``(institution_id, patient_local_id, person_id)``."""
    pop = state.plan.population
    idx = np.arange(len(pop))
    return pa.table({"institution_id": pick(list(world.member_ids), pop.institution),
                     "patient_local_id": pop.local_ids(idx),
                     "person_id": pa.array(pop.person, pa.int64())})


__all__ = ["MONTHLY_TABLES", "State", "identity", "month", "patients", "plan"]
