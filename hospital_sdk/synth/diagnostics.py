"""Examinations and laboratory test orders of visits and stays, with their charges and events.

Order rates come from the reference: each lab test and exam item has a rate per outpatient and
per emergency visit and an expected count per inpatient stay; tests tied to specialties are
ordered mostly by those departments. Health-check visits get the check-up panel. Times follow the
patient: an outpatient test is ordered during the consultation, the specimen collected within
the hour and reported after the test's turnaround (the stat turnaround for emergencies); an
inpatient test is usually drawn at 6–7 am the next morning. Large-equipment examinations (CT,
MR, DSA, SPECT, PET-CT) report a positive finding at the item's rate; ultrasound, radiographs,
ECG and endoscopy have no equipment type.

Examples
--------
>>> spec = np.array(["03.04", "07"])
>>> specialty_factor([("03.04",), ()], spec).tolist()
[[1.0, 1.0], [0.15, 1.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from hospital_sdk.synth.casemix import list_column, number_column, text_column
from hospital_sdk.synth.charges import Lines
from hospital_sdk.synth.events import EventPart, transitions
from hospital_sdk.synth.schema import DAY, NULL_TIME, build_table, pick, text_ids

_MINUTE = 60
_CHECKUP_LABS = ("LAB0001", "LAB0002", "LAB0006", "LAB0007", "LAB0008", "LAB0010")
_CHECKUP_EXAMS = ("EX0018", "EX0020", "EX0026")
INPATIENT_SCALE = {"lab": 1.4, "exam": 1.8}
"""Multipliers of the reference's orders per stay (calibrates lab and imaging costs of a stay
to about 9 % and 6 %)."""


def specialty_factor(specialties: list[tuple[str, ...]], dept_specialty: np.ndarray,
                     off_list: float = 0.15) -> np.ndarray:
    """``(departments, items)`` factor: 1, or ``off_list`` when the item lists other
    specialties."""
    out = np.ones((len(dept_specialty), len(specialties)))
    for j, listed in enumerate(specialties):
        if listed:
            out[:, j] = np.where(np.isin(dept_specialty, listed), 1.0, off_list)
    return out


@dataclass(frozen=True)
class LabTests:
    """Lab test catalog as arrays; ``item`` is the charge item billed for the test."""

    code: np.ndarray
    name: np.ndarray
    specimen: np.ndarray
    turnaround: np.ndarray
    stat: np.ndarray
    abnormal: np.ndarray
    item: np.ndarray
    rate: np.ndarray  # (3, tests): outpatient, emergency, per inpatient stay
    specialties: list[tuple[str, ...]]

    @classmethod
    def from_reference(cls, t: pd.DataFrame, item_index: dict[str, int]) -> LabTests:
        stat = number_column(t, "stat_turnaround_minutes")
        turn = number_column(t, "turnaround_minutes", 60)
        return cls(text_column(t, "test_code"), text_column(t, "test_name"),
                   text_column(t, "specimen"), turn, np.where(stat > 0, stat, turn),
                   number_column(t, "abnormal_rate"),
                   np.array([item_index[c] for c in text_column(t, "charge_item_code")]),
                   np.stack([number_column(t, "outpatient_order_rate"),
                             number_column(t, "emergency_order_rate"),
                             number_column(t, "inpatient_orders_per_stay")]),
                   list_column(t, "specialty_codes"))


@dataclass(frozen=True)
class ExamItems:
    """Examination items as arrays; ``item`` is the charge item billed."""

    code: np.ndarray
    name: np.ndarray
    equipment: np.ndarray
    body_part: np.ndarray
    positive: np.ndarray
    report_minutes: np.ndarray
    item: np.ndarray
    charge_code: np.ndarray
    rate: np.ndarray
    specialties: list[tuple[str, ...]]

    @classmethod
    def from_reference(cls, t: pd.DataFrame, item_index: dict[str, int]) -> ExamItems:
        charge = text_column(t, "charge_item_code")
        return cls(text_column(t, "exam_item_code"), text_column(t, "name_zh"),
                   text_column(t, "equipment_type"), text_column(t, "body_part"),
                   number_column(t, "positive_rate"), number_column(t, "report_minutes", 60),
                   np.array([item_index[c] for c in charge]), charge,
                   np.stack([number_column(t, "outpatient_order_rate"),
                             number_column(t, "emergency_order_rate"),
                             number_column(t, "inpatient_orders_per_stay")]),
                   list_column(t, "specialty_codes"))


@dataclass
class Orders:
    """Exams or lab orders of one setting (parallel arrays) before they become a table."""

    inst: np.ndarray
    setting: np.ndarray
    visit: np.ndarray
    stay: np.ndarray
    patient: np.ndarray
    test: np.ndarray
    dept: np.ndarray
    doctor: np.ndarray
    order: np.ndarray
    first: np.ndarray  # exam: exam time; lab: collect time
    second: np.ndarray  # lab: receive time
    report: np.ndarray
    flag: np.ndarray

    def __len__(self) -> int:
        return len(self.test)

    @staticmethod
    def concat(parts: list[Orders]) -> Orders:
        return Orders(*(np.concatenate([getattr(p, f) for p in parts])
                        for f in Orders.__dataclass_fields__))


def _counts(rng: np.random.Generator, rates: np.ndarray, per_stay: bool) -> np.ndarray:
    """Orders per (event, item): Bernoulli per visit, Poisson per stay."""
    if per_stay:
        return rng.poisson(rates)
    return (rng.random(rates.shape) < np.minimum(rates, 1.0)).astype(np.int64)


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(counts)
    reps = counts[rows, cols]
    return np.repeat(rows, reps), np.repeat(cols, reps)


def outpatient_orders(world, catalog: LabTests | ExamItems, visits, kind: str,
                      rng: np.random.Generator) -> Orders:
    """Lab orders (``kind="lab"``) or exams (``"exam"``) of the month's completed visits."""
    d = world.departments
    spec = d["specialty_code"].to_numpy().astype(str)
    done = np.flatnonzero(visits.completed)
    factor = specialty_factor(catalog.specialties, spec)
    vt = visits.vtype[done]
    rates = catalog.rate[np.minimum(vt, 1)][:, :] * factor[visits.dept[done]]
    rates = np.where((vt == 2)[:, None], 0.0, rates)
    row, col = _expand(_counts(rng, rates, per_stay=False))
    checkup = _CHECKUP_LABS if kind == "lab" else _CHECKUP_EXAMS
    panel = np.flatnonzero(np.isin(catalog.code, checkup))
    hc = np.flatnonzero(vt == 2)
    row = np.concatenate([row, np.repeat(hc, len(panel))])
    col = np.concatenate([col, np.tile(panel, len(hc))])
    v = done[row]
    n = len(v)
    start, end = visits.call[v], visits.end[v]
    order = start + (rng.random(n) * np.maximum(end - start, 60)).astype(np.int64)
    emergency = visits.vtype[v] == 1
    if kind == "lab":
        collect = order + rng.integers(5, 40, n) * _MINUTE
        receive = collect + rng.integers(5, 30, n) * _MINUTE
        turn = np.where(emergency, catalog.stat[col], catalog.turnaround[col])
        report = receive + (turn * rng.uniform(0.6, 1.4, n) * _MINUTE).astype(np.int64)
        flag = rng.random(n) < catalog.abnormal[col]
    else:
        big = np.isin(catalog.equipment[col], ["MR", "SPECT", "PETCT"])
        wait = np.where(emergency, rng.integers(10, 60, n) * _MINUTE,
                        np.where(big, rng.integers(1, 6, n) * DAY + rng.integers(0, 8, n) * 3600,
                                 rng.integers(15, 180, n) * _MINUTE))
        collect = order + wait
        receive = np.full(n, NULL_TIME)
        report = collect + (catalog.report_minutes[col] * rng.uniform(0.5, 1.5, n)
                            * _MINUTE).astype(np.int64)
        flag = rng.random(n) < catalog.positive[col]
    setting = np.array([0, 1, 3])[visits.vtype[v]]
    return Orders(visits.inst[v], setting, v, np.full(n, -1), visits.patient[v], col,
                  visits.dept[v], visits.doctor[v], order, collect, receive, report, flag)


def inpatient_orders(world, catalog: LabTests | ExamItems, stays, kind: str,
                     rng: np.random.Generator) -> Orders:
    """Lab orders or exams of the month's stays (``stays`` is a :class:`Stays` subset)."""
    d = world.departments
    spec = d["specialty_code"].to_numpy().astype(str)
    los = np.maximum((stays.dis - stays.adm) / DAY, 0.3)
    scale = np.clip(los / 7.7, 0.3, 3.0) ** (0.7 if kind == "lab" else 0.3)
    rates = catalog.rate[2][None, :] * specialty_factor(catalog.specialties, spec)[stays.dept]
    rates = rates * scale[:, None] * INPATIENT_SCALE[kind]
    row, col = _expand(_counts(rng, rates, per_stay=True))
    n = len(row)
    adm, dis = stays.adm[row], stays.dis[row]
    span = np.maximum(dis - adm - 3600, 600)
    order = adm + 600 + (rng.random(n) ** 1.6 * span).astype(np.int64)
    if kind == "lab":
        morning = (order // DAY + 1) * DAY + rng.integers(6 * 3600, 7 * 3600, n)
        urgent = (rng.random(n) < 0.3) | (morning >= dis)
        collect = np.where(urgent, order + rng.integers(5, 30, n) * _MINUTE, morning)
        collect = np.minimum(collect, dis - 60)
        collect = np.maximum(collect, order)
        receive = collect + rng.integers(10, 60, n) * _MINUTE
        turn = np.where(urgent, catalog.stat[col], catalog.turnaround[col])
        report = receive + (turn * rng.uniform(0.6, 1.4, n) * _MINUTE).astype(np.int64)
        flag = rng.random(n) < np.minimum(catalog.abnormal[col] * 1.3, 0.95)
    else:
        collect = np.minimum(order + rng.integers(1, 30, n) * 3600, dis - 60)
        collect = np.maximum(collect, order)
        receive = np.full(n, NULL_TIME)
        report = collect + (catalog.report_minutes[col] * rng.uniform(0.5, 1.5, n)
                            * _MINUTE).astype(np.int64)
        flag = rng.random(n) < catalog.positive[col]
    doctor = stays.doctor[row]
    return Orders(stays.inst[row], np.full(n, 2), np.full(n, -1), row,
                  stays.patient[row], col, stays.dept[row], doctor, order, collect, receive,
                  report, flag)


def performing_departments(world, catalog: ExamItems | LabTests, kind: str,
                           orders: Orders) -> np.ndarray:
    """The department that performs each order (laboratory, imaging, ultrasound, nuclear
    medicine, pathology); -1 when it is done on the ward (ECG, endoscopy)."""
    d = world.departments
    template = d["template"].to_numpy().astype(str)
    inst = d["inst"].to_numpy()
    n_inst = int(inst.max()) + 1

    def first(code: str) -> np.ndarray:
        out = np.full(n_inst, -1)
        for i in range(n_inst):
            hit = np.flatnonzero((template == code) & (inst == i))
            out[i] = hit[0] if len(hit) else -1
        return out

    if kind == "lab":
        lab, path = first("laboratory"), first("pathology")
        is_path = np.char.startswith(catalog.code[orders.test].astype(str), "LAB003")
        dept = np.where(is_path, path[orders.inst], lab[orders.inst])
        return np.where(dept >= 0, dept, lab[orders.inst])
    charge = catalog.charge_code[orders.test].astype(str)
    imaging, ultrasound, nuclear = first("imaging"), first("ultrasound"), first("nuclear_medicine")
    dept = np.select([np.char.startswith(charge, "21"), np.char.startswith(charge, "22"),
                      np.char.startswith(charge, "23")],
                     [imaging[orders.inst], ultrasound[orders.inst], nuclear[orders.inst]], -1)
    return dept


def tables(world, catalogs, orders: Orders, kind: str, ids: pa.Array, visit_ids: pa.Array,
           stay_ids: pa.Array, patients) -> pa.Table:
    """The ``lab_order`` or ``exam`` table of ``orders``."""
    cat = catalogs.labs if kind == "lab" else catalogs.exams
    inst_ids = list(world.member_ids)
    dept_ids = world.departments["dept_id"].tolist()
    settings = ["outpatient", "emergency", "inpatient", "health_check"]
    common = {
        "institution_id": pick(inst_ids, orders.inst),
        "setting": pick(settings, orders.setting),
        "visit_id": visit_ids.take(pa.array(np.maximum(orders.visit, 0), mask=orders.visit < 0))
        if len(visit_ids) else pa.nulls(len(orders), pa.string()),
        "stay_id": stay_ids.take(pa.array(np.maximum(orders.stay, 0), mask=orders.stay < 0))
        if len(stay_ids) else pa.nulls(len(orders), pa.string()),
        "patient_local_id": patients.local_ids(orders.patient),
        "order_time": orders.order,
    }
    if kind == "lab":
        return build_table("lab_order", {
            **common, "lab_order_id": ids, "test_code": pick(cat.code.tolist(), orders.test),
            "test_name": pick(cat.name.tolist(), orders.test),
            "specimen": pick(cat.specimen.tolist(), orders.test),
            "ordering_dept_id": pick(dept_ids, orders.dept),
            "collect_time": orders.first, "receive_time": orders.second,
            "report_time": orders.report, "is_abnormal": orders.flag}, n=len(orders))
    perform = performing_departments(world, cat, "exam", orders)
    equipment = cat.equipment[orders.test].astype(str)
    return build_table("exam", {
        **common, "exam_id": ids,
        "equipment_type": pick([None, *sorted(set(cat.equipment) - {""})],
                               np.searchsorted(["", *sorted(set(cat.equipment) - {""})],
                                               equipment)),
        "exam_item_code": pick(cat.code.tolist(), orders.test),
        "body_part": pick(cat.body_part.tolist(), orders.test),
        "ordering_dept_id": pick(dept_ids, orders.dept),
        "performing_dept_id": pick(dept_ids, np.maximum(perform, 0), mask=perform < 0),
        "exam_time": orders.first, "report_time": orders.report,
        "is_positive": orders.flag}, n=len(orders))


def charge_lines(world, catalogs, orders: Orders, kind: str, ids: pa.Array) -> Lines:
    """One charge line per exam or lab order, at the exam or collection time."""
    cat = catalogs.labs if kind == "lab" else catalogs.exams
    perform = performing_departments(world, cat, kind, orders)
    return Lines.make(len(orders), setting=orders.setting, inst=orders.inst, visit=orders.visit,
                      stay=orders.stay, patient=orders.patient, item=cat.item[orders.test],
                      quantity=np.ones(len(orders)), time=orders.first,
                      billing_dept=orders.dept, performing_dept=perform, doctor=orders.doctor,
                      order_ref=ids)


def lab_events(orders: Orders, ids: pa.Array) -> EventPart:
    """ordered -> collected -> received -> reported, for every lab order."""
    times = np.stack([orders.order, orders.first, orders.second, orders.report], axis=1)
    ops = np.stack([orders.doctor, np.full(len(orders), -1), np.full(len(orders), -1),
                    np.full(len(orders), -1)], axis=1)
    return transitions("lab", orders.inst, ids, ("ordered", "collected", "received", "reported"),
                       times, ops)


def order_ids(prefix: str, n: int, start: int = 1) -> pa.Array:
    """Sequential ids ``prefix`` + 9 digits."""
    return text_ids(prefix, np.arange(start, start + n), 9)
