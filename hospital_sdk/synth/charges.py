"""Charge lines: assembled from every source of a month, priced from the catalog, aggregated back.

Each producer (registration, drug orders, exams, lab orders, beds, surgery, consumables ...)
returns a :class:`Lines` part holding *indices* (institution, visit, stay, patient, item,
department, staff) and quantities. :func:`finish` concatenates the parts, prices them
(``amount = quantity x unit price``, in fen), splits off the insurance share by payer, setting
and item type, adds a few refunds (negative copies of earlier lines), and returns:

* the ``charge_line`` table;
* per visit: total fee, drug fee and insurance paid (sums of the visit's lines);
* per stay: the cost columns of the discharge abstract and insurance paid (sums of its lines).

So visit fees and stay costs equal the sums of their charge lines exactly. The totals are
*drawn first* as budgets (a lognormal total per visit or stay split into category shares) and the
lines are then sized from catalog prices to spend each budget, so the mean cost per visit and per
stay follow the calibration targets while every amount is a catalog price times a quantity.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from hospital_sdk.model import CONTRACT
from hospital_sdk.synth.schema import build_table, pick, text_ids
from hospital_sdk.synth.catalogs import COST_COLUMNS

SETTINGS: tuple[str, ...] = CONTRACT.code_set("care_setting").values
ITEM_TYPES: tuple[str, ...] = CONTRACT.code_set("item_type").values
REVENUE: tuple[str, ...] = CONTRACT.code_set("revenue_category").values
INPATIENT = SETTINGS.index("inpatient")

# share of an amount paid by insurance funds, by payer code 1..9: (outpatient, inpatient)
_FUND_RATE = np.array([[0.55, 0.78], [0.45, 0.62], [0.40, 0.58], [0.60, 0.85], [0.0, 0.0],
                       [0.85, 0.90], [0.0, 0.0], [0.50, 0.70], [0.0, 0.0]])


@dataclass
class Lines:
    """Charge lines under construction (parallel arrays; -1 marks an absent index)."""

    setting: np.ndarray
    inst: np.ndarray
    visit: np.ndarray
    stay: np.ndarray
    patient: np.ndarray
    item: np.ndarray
    quantity: np.ndarray
    time: np.ndarray
    billing_dept: np.ndarray
    performing_dept: np.ndarray
    doctor: np.ndarray
    order_ref: pa.Array

    def __len__(self) -> int:
        return len(self.item)

    @classmethod
    def make(cls, n: int, **values) -> Lines:
        """A part of ``n`` lines; scalars broadcast, missing indices are -1, no order ref."""
        out = {}
        for f in fields(cls):
            v = values.get(f.name)
            if f.name == "order_ref":
                out[f.name] = v if v is not None else pa.nulls(n, pa.string())
            elif v is None:
                out[f.name] = np.full(n, -1, dtype=np.int64)
            else:
                out[f.name] = np.broadcast_to(np.asarray(v), (n,)).copy() if np.ndim(v) == 0 \
                    else np.asarray(v)
        return cls(**out)

    @staticmethod
    def concat(parts: list[Lines]) -> Lines:
        """All ``parts`` one after the other."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return Lines.make(0, setting=np.zeros(0, np.int64))
        out = {}
        for f in fields(Lines):
            if f.name == "order_ref":
                out[f.name] = pa.concat_arrays([p.order_ref.cast(pa.string()) for p in parts])
            else:
                out[f.name] = np.concatenate([np.asarray(getattr(p, f.name), dtype=np.int64)
                                              if f.name != "quantity" else
                                              np.asarray(getattr(p, f.name), dtype=float)
                                              for p in parts])
        return Lines(**out)


def spend(budget: np.ndarray, price: np.ndarray, minimum: float = 1.0) -> np.ndarray:
    """Whole quantities that spend ``budget`` (fen) at ``price`` (fen), at least ``minimum``.

    >>> spend(np.array([1000, 90, 5000]), np.array([300, 300, 2000])).tolist()
    [3.0, 1.0, 2.0]
    """
    q = np.round(np.asarray(budget, float) / np.maximum(np.asarray(price, float), 1.0))
    return np.maximum(q, minimum)


@dataclass(frozen=True)
class Charged:
    """The month's charge table and the sums per visit and per stay (fen)."""

    table: pa.Table
    visit_total: np.ndarray
    visit_drug: np.ndarray
    visit_insurance: np.ndarray
    stay_costs: dict[str, np.ndarray]
    stay_insurance: np.ndarray
    lines: Lines


def finish(parts: list[Lines], catalogs, world, payer_of_visit: np.ndarray,
           payer_of_stay: np.ndarray, visit_ids: pa.Array, stay_ids: pa.Array,
           stay_end: np.ndarray, patients, prefix: str, rng: np.random.Generator) -> Charged:
    """Price, refund, aggregate and tabulate the month's charge lines (see the module doc)."""
    items = catalogs.items
    lines = Lines.concat(parts)
    n_v, n_s = len(payer_of_visit), len(payer_of_stay)
    # refunds: a few lines are charged and then returned (never daily bed or nursing lines)
    refundable = items.refundable[lines.item] & (lines.quantity > 0)
    chosen = np.flatnonzero(refundable & (rng.random(len(lines)) < 0.004))
    if len(chosen):
        back = Lines.make(len(chosen), **{f.name: getattr(lines, f.name)[chosen]
                                          for f in fields(Lines) if f.name != "order_ref"},
                          order_ref=lines.order_ref.take(pa.array(chosen)))
        back.quantity = -back.quantity
        back.time = back.time + rng.integers(600, 2 * 86_400, len(chosen))
        in_stay = back.stay >= 0
        if in_stay.any():  # an inpatient refund is booked before discharge
            end = stay_end[back.stay[in_stay]] - 60
            back.time[in_stay] = np.maximum(np.minimum(back.time[in_stay], end),
                                            lines.time[chosen][in_stay])
        lines = Lines.concat([lines, back])
    price = items.price[lines.item]
    amount = np.round(lines.quantity * price).astype(np.int64)
    payer = np.where(lines.visit >= 0, payer_of_visit[np.maximum(lines.visit, 0)] if n_v else 0,
                     payer_of_stay[np.maximum(lines.stay, 0)] if n_s else 0)
    rate = _FUND_RATE[payer, (lines.setting == INPATIENT).astype(np.int64)] * items.fund_factor[
        lines.item]
    insurance = np.round(amount * rate).astype(np.int64)
    is_drug = items.item_type[lines.item] == 0
    v = np.maximum(lines.visit, 0)
    own_v = lines.visit >= 0
    visit_total = np.bincount(v[own_v], weights=amount[own_v], minlength=n_v).astype(np.int64)
    visit_drug = np.bincount(v[own_v & is_drug], weights=amount[own_v & is_drug],
                             minlength=n_v).astype(np.int64)
    visit_ins = np.bincount(v[own_v], weights=insurance[own_v], minlength=n_v).astype(np.int64)
    s = np.maximum(lines.stay, 0)
    own_s = lines.stay >= 0
    column = items.cost_column[lines.item]
    costs = {}
    for k, name in enumerate(COST_COLUMNS):
        sel = own_s & ((column == k) if name != "cost_drug_antibacterial"
                       else items.antibacterial[lines.item])
        costs[name] = np.bincount(s[sel], weights=amount[sel], minlength=n_s).astype(np.int64)
    stay_ins = np.bincount(s[own_s], weights=insurance[own_s], minlength=n_s).astype(np.int64)
    n = len(lines)
    inst_ids = list(world.member_ids)
    dept_ids = world.departments["dept_id"].tolist()
    staff = world.staff_index.ids
    table = build_table("charge_line", {
        "institution_id": pick(inst_ids, lines.inst),
        "charge_id": text_ids(prefix, np.arange(1, n + 1), 9),
        "setting": pick(list(SETTINGS), lines.setting),
        "visit_id": visit_ids.take(pa.array(v, mask=~own_v)) if n_v else pa.nulls(n, pa.string()),
        "stay_id": stay_ids.take(pa.array(s, mask=~own_s)) if n_s else pa.nulls(n, pa.string()),
        "patient_local_id": patients.local_ids(lines.patient),
        "item_type": pick(list(ITEM_TYPES), items.item_type[lines.item]),
        "item_code": items.local_codes(lines.inst, lines.item),
        "revenue_category": pick(list(REVENUE), items.revenue[lines.item]),
        "quantity": lines.quantity, "unit_price": price, "amount": amount,
        "insurance_paid": insurance, "charge_time": lines.time,
        "billing_dept_id": pick(dept_ids, lines.billing_dept),
        "performing_dept_id": pick(dept_ids, np.maximum(lines.performing_dept, 0),
                                   mask=lines.performing_dept < 0),
        "ordering_doctor_id": pick(staff, np.maximum(lines.doctor, 0), mask=lines.doctor < 0),
        "order_id": lines.order_ref,
    }, n=n)
    return Charged(table, visit_total, visit_drug, visit_ins, costs, stay_ins, lines)
