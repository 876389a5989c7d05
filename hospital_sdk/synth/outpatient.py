"""Outpatient, emergency and health-check visits of one month, with the patient journey's times.

Volumes: about 90 % outpatient, 8 % emergency and 2 % health-check visits; outpatient clinics
are busiest on Monday mornings and thin at weekends and over the Spring Festival, respiratory and
paediatric clinics swell in winter, emergency runs round the clock.

Journey of an appointment visit: booked (``booked_at``, hours to two weeks ahead) for a half-hour
slot (``slot_start``); the patient arrives around the slot (early arrivals are common), takes the
number (``visit_time``) and checks in at triage (``checkin_time``); is called in (``call_time``)
once the slot has started and the doctor is free; the consultation ends (``end_time``). Walk-ins
register at a window or kiosk and wait longer. About 2.5 % of registrations are cancelled:
booked patients who never came (no-shows, no times after booking) and registrations refunded
before the consultation.

Examples
--------
>>> wait = appointment_wait_minutes(np.random.default_rng(0), 50_000)
>>> 15 < float(wait.mean()) < 25
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from hospital_sdk.synth.schema import DAY, NULL_TIME, build_table, pick, text_ids
from hospital_sdk.synth.timeline import clock, day_factor, month_span, respiratory_season

VISIT_TYPES = ("outpatient", "emergency", "health_check")
TYPE_SHARE = np.array([0.90, 0.08, 0.02])
CHANNELS = ("window", "online", "phone", "kiosk", "on_site", "referral")
_BOOKED_CHANNELS = np.array([0.0, 0.59, 0.07, 0.10, 0.21, 0.03])
_CHECKUP_CHANNELS = np.array([0.0, 0.70, 0.10, 0.0, 0.20, 0.0])
_WALK_IN_CHANNELS = np.array([0.55, 0.0, 0.0, 0.45, 0.0, 0.0])
_EMERGENCY_CHANNELS = np.array([0.9, 0.0, 0.0, 0.1, 0.0, 0.0])
APPOINTMENT_RATE = {"headquarters": 0.68, "branch": 0.62, "geriatric": 0.58}
_MINUTE = 60


@dataclass
class Visits:
    """The visits of one month as parallel arrays (one element per visit).

    Times are seconds since epoch (:data:`NULL_TIME` when absent); ``dept``, ``patient`` and
    ``doctor`` index the World's departments, population and staff index; fee columns are filled
    in cents once the charge lines are known.
    """

    inst: np.ndarray
    dept: np.ndarray
    patient: np.ndarray
    vtype: np.ndarray
    doctor: np.ndarray
    channel: np.ndarray
    appointment: np.ndarray
    booked: np.ndarray
    visit: np.ndarray
    slot: np.ndarray
    checkin: np.ndarray
    call: np.ndarray
    end: np.ndarray
    payer: np.ndarray
    special: np.ndarray
    down: np.ndarray
    cancelled: np.ndarray
    no_show: np.ndarray
    ids: pa.Array
    total: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    drug: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    insurance: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.inst)

    @property
    def completed(self) -> np.ndarray:
        """Visits that took place (not cancelled)."""
        return ~self.cancelled


def appointment_wait_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Minutes from check-in to call for ``n`` appointment visits (arrival around the slot)."""
    slot = np.zeros(n, dtype=np.int64)
    checkin, call = _appointment_times(rng, slot)[1:3]
    return (call - checkin) / _MINUTE


def _appointment_times(rng: np.random.Generator, slot: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrival (number taken), check-in and call for appointments with slots ``slot``."""
    n = len(slot)
    early = np.clip(rng.normal(7, 11, n), -40, 70) * _MINUTE
    arrival = slot - early.astype(np.int64)
    checkin = arrival + rng.integers(20, 240, n)
    wait = rng.gamma(1.7, 11.0 / 1.7, n) * _MINUTE
    call = np.maximum(checkin, slot) + wait.astype(np.int64) + 30
    return arrival, checkin, call


def generate_visits(world, year: int, month: int, rng: np.random.Generator) -> Visits:
    """The visits of ``year``-``month`` for every member institution."""
    first, n_days = month_span(year, month)
    days = np.arange(first, first + n_days)
    d = world.departments
    members = world.members
    annual = world.annual_visits()
    inst_d = d["inst"].to_numpy()
    valid_from = np.array([np.datetime64(v, "D").astype(np.int64) for v in d["valid_from"]])
    open_ = days[:, None] >= valid_from[None, :]
    year_days = np.arange(_year_start(year), _year_start(year + 1))
    season = np.where(d["respiratory"].to_numpy()[None, :], respiratory_season(days)[:, None], 1.0)
    parts_day, parts_dept, parts_type = [], [], []
    for t, vt in enumerate(VISIT_TYPES):
        f = day_factor(days, vt) / day_factor(year_days, vt).sum()
        if vt == "outpatient":
            share = d["outpatient_share"].to_numpy()
        elif vt == "emergency":
            share = d["emergency_share"].to_numpy()
        else:
            w = np.where(d["is_health_check"].to_numpy(), d["share"].to_numpy(), 0.0)
            total = np.bincount(inst_d, weights=w, minlength=len(members))
            share = np.where(w > 0, w / np.maximum(total[inst_d], 1e-12), 0.0)
        lam = f[:, None] * (annual[inst_d] * TYPE_SHARE[t] * share)[None, :] * season * open_
        counts = rng.poisson(lam)
        day_idx, dept_idx = np.nonzero(counts)
        reps = counts[day_idx, dept_idx]
        parts_day.append(np.repeat(days[day_idx], reps))
        parts_dept.append(np.repeat(dept_idx, reps))
        parts_type.append(np.full(int(reps.sum()), t, dtype=np.int8))
    day, dept, vtype = (np.concatenate(p) for p in (parts_day, parts_dept, parts_type))
    n = len(dept)
    inst = inst_d[dept]
    kind = members["kind"].to_numpy()
    role = members["role"].to_numpy()
    inst_key = np.where(kind == "geriatric", "geriatric", role)
    base_rate = np.array([APPOINTMENT_RATE[k] for k in inst_key])
    trend = 0.02 * (year - min(world.years))
    appointment = np.where(vtype == 0, rng.random(n) < base_rate[inst] + trend,
                           np.where(vtype == 2, rng.random(n) < 0.7, False))
    channel = _channels(rng, appointment, vtype)
    clock_kind = np.array(["outpatient", "emergency", "health_check"])
    tod = np.empty(n, dtype=np.int64)
    for t in range(3):
        sel = vtype == t
        tod[sel] = clock(rng, int(sel.sum()), clock_kind[t])
    slot = np.where(appointment, day * DAY + tod // 1800 * 1800, NULL_TIME)
    arrival, checkin_a, call_a = _appointment_times(rng, np.where(appointment, slot, 0))
    walk_visit = day * DAY + tod
    walk_checkin = walk_visit + np.where(vtype == 1, rng.integers(0, 180, n),
                                         rng.integers(60, 480, n))
    wait_mean = np.select([vtype == 1, vtype == 2], [14.0, 20.0], 38.0)
    walk_call = walk_checkin + (rng.gamma(1.5, 1.0, n) * wait_mean / 1.5 * _MINUTE).astype(np.int64)
    visit = np.where(appointment, arrival, walk_visit)
    checkin = np.where(appointment, checkin_a, walk_checkin)
    call = np.where(appointment, call_a, walk_call)
    consult = np.select([vtype == 1, vtype == 2], [rng.lognormal(np.log(22), 0.5, n),
                                                   rng.uniform(90, 180, n)],
                        rng.lognormal(np.log(7), 0.45, n))
    special = (vtype == 0) & (kind[inst] != "geriatric") & (rng.random(n) < 0.015)
    consult = np.where(special, consult * 2.2, consult)
    end = call + (consult * _MINUTE).astype(np.int64) + 60
    lead_hours = np.where(rng.random(n) < 0.12, rng.uniform(0.5, 4, n),
                          rng.lognormal(np.log(40), 1.0, n))
    booked = np.where(appointment, np.minimum(slot - (lead_hours * 3600).astype(np.int64),
                                              visit - 60), NULL_TIME)
    cancelled = rng.random(n) < np.where(vtype == 1, 0.005, 0.028)
    no_show = cancelled & appointment & (rng.random(n) < 0.4)
    visit = np.where(no_show, slot, visit)
    for arr in (checkin, call, end):
        arr[cancelled] = NULL_TIME
    patient = world.population.draw(rng, inst, day, d["min_age"].to_numpy()[dept],
                                    d["max_age"].to_numpy()[dept],
                                    d["sex"].to_numpy()[dept].astype(np.int64),
                                    d["tilt"].to_numpy()[dept])
    doctor = world.staff_index.choose(rng, dept, visit, "physician")
    down = (~cancelled) & (vtype == 0) & (rng.random(n) < np.where(kind[inst] == "geriatric",
                                                                   0.008, 0.004))
    payer = world.population.payer[patient].astype(np.int8)
    payer = np.where(special & (rng.random(n) < 0.5), 4, payer).astype(np.int8)  # commercial
    order = np.lexsort((visit, inst))
    v = Visits(inst=inst, dept=dept, patient=patient, vtype=vtype, doctor=doctor, channel=channel,
               appointment=appointment, booked=booked, visit=visit, slot=slot, checkin=checkin,
               call=call, end=end, payer=payer, special=special, down=down, cancelled=cancelled,
               no_show=no_show, ids=pa.array([], pa.string()))
    for name in ("inst", "dept", "patient", "vtype", "doctor", "channel", "appointment", "booked",
                 "visit", "slot", "checkin", "call", "end", "payer", "special", "down",
                 "cancelled", "no_show"):
        setattr(v, name, getattr(v, name)[order])
    seq = np.arange(n) - np.searchsorted(v.inst, v.inst, side="left") + 1
    v.ids = text_ids(f"MZ{year % 100:02d}{month:02d}", seq, 7)
    v.total = np.zeros(n, np.int64)
    v.drug = np.zeros(n, np.int64)
    v.insurance = np.zeros(n, np.int64)
    return v


def _year_start(year: int) -> int:
    return month_span(year, 1)[0]


def _channels(rng: np.random.Generator, appointment: np.ndarray, vtype: np.ndarray) -> np.ndarray:
    n = len(vtype)
    p = np.where(appointment[:, None], np.where((vtype == 2)[:, None], _CHECKUP_CHANNELS[None, :],
                                                _BOOKED_CHANNELS[None, :]),
                 np.where((vtype == 1)[:, None], _EMERGENCY_CHANNELS[None, :],
                          _WALK_IN_CHANNELS[None, :]))
    cdf = np.cumsum(p, axis=1)
    return np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), len(CHANNELS) - 1).astype(np.int8)


def visit_table(world, v: Visits) -> pa.Table:
    """The ``outpatient_visit`` source table of the month."""
    d = world.departments
    staff_ids = world.staff_index.ids
    return build_table("outpatient_visit", {
        "institution_id": pick(list(world.member_ids), v.inst),
        "campus_id": pick(d["campus_id"].tolist(), v.dept),
        "visit_id": v.ids,
        "patient_local_id": world.population.local_ids(v.patient),
        "visit_type": pick(list(VISIT_TYPES), v.vtype),
        "dept_id": pick(d["dept_id"].tolist(), v.dept),
        "doctor_id": pick(staff_ids, np.maximum(v.doctor, 0), mask=v.doctor < 0),
        "registration_channel": pick(list(CHANNELS), v.channel),
        "is_appointment": v.appointment,
        "booked_at": v.booked, "visit_time": v.visit, "slot_start": v.slot,
        "checkin_time": v.checkin, "call_time": v.call, "end_time": v.end,
        "payer": pick([str(k) for k in range(1, 10)], v.payer),
        "total_fee": v.total, "drug_fee": v.drug, "insurance_paid": v.insurance,
        "is_special_needs": v.special, "down_referral": v.down, "is_cancelled": v.cancelled,
    }, n=len(v))
