"""Catalogs: the reference data as arrays the generator draws from, the catalog tables, code_map.

Everything billable (drugs, consumables, service items) is one :class:`Items` array set, so a
charge line is an item index and a quantity. Institutions code their items differently: the
geriatric centre's HIS uses its own local codes (``YP000001`` for drugs, ``CL000001`` for
consumables, ``XM000001`` for service items) mapped to the standard codes in ``code_map``;
headquarters and the general branch use the standard codes, with identity rows in ``code_map``.
Lab tests and examination items use the standard codes everywhere (identity rows).

:func:`build_catalogs` gathers everything the activity generators look up (:class:`Catalogs`):
the case mix per department, drug and consumable pools per department and procedure, the
service items by role, and the catalog source tables.

Examples
--------
>>> from hospital_sdk.synth.reference import load_reference
>>> items = Items.from_reference(load_reference(), ("HK001", "HK002", "HK003"), (2,))
>>> items.local_codes(np.array([0, 2]), np.array([0, 0])).to_pylist()
['XJ01DBB001', 'YP000001']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from hospital_sdk.errors import GeneratorError
from hospital_sdk.model import CONTRACT
from hospital_sdk.synth.casemix import (
    Diagnoses, Grouped, Procedures, list_column, number_column, text_column,
)
from hospital_sdk.synth.schema import build_table, pick

REVENUE: tuple[str, ...] = CONTRACT.code_set("revenue_category").values
COST_COLUMNS = ("cost_general_service", "cost_lab", "cost_imaging", "cost_pathology",
                "cost_clinical_diagnosis", "cost_non_surgical_treatment", "cost_surgery",
                "cost_rehabilitation", "cost_tcm", "cost_drug_western",
                "cost_drug_antibacterial", "cost_drug_chinese", "cost_blood", "cost_material",
                "cost_other")
"""Cost columns of ``inpatient_stay``, in contract order (antibacterials are a part of western
drugs, never a line's own column)."""
_LOCAL_PREFIX = {0: "YP", 1: "CL", 2: "XM"}
DRUG_COST_TILT = (0.5, 0.55)
"""Exponents of a drug's course cost in its prescribing weight (outpatient, inpatient)."""
_VALID_FROM = np.datetime64("2015-01-01", "D")
def _cents(values: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(values, float) * 100).astype(np.int64)


@dataclass(frozen=True)
class Items:
    """Every billable item: drugs, then consumables, then service items (one element each)."""

    item_type: np.ndarray  # 0 drug, 1 material, 2 service
    code: np.ndarray
    name: np.ndarray
    revenue: np.ndarray
    price: np.ndarray  # fen
    cost_column: np.ndarray
    fund_factor: np.ndarray
    refundable: np.ndarray
    antibacterial: np.ndarray
    essential: np.ndarray
    strength: np.ndarray
    strength_unit: np.ndarray
    dose: np.ndarray
    frequency: np.ndarray
    days: np.ndarray
    route: np.ndarray
    setting: np.ndarray
    usage_weight: np.ndarray
    usage: np.ndarray
    pricing_unit: np.ndarray
    applies_to: np.ndarray
    high_value: np.ndarray
    typical_quantity: np.ndarray
    special: np.ndarray
    specialties: list[tuple[str, ...]]
    used_with_procedures: list[tuple[str, ...]]
    used_with_anaesthesia: list[tuple[str, ...]]
    local: pa.Array  # (institution x item) local codes, flattened
    local_inst: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.code)

    def local_codes(self, inst: np.ndarray, item: np.ndarray) -> pa.Array:
        """Codes of ``item`` as institution ``inst`` writes them."""
        return self.local.take(pa.array(np.asarray(inst, np.int64) * len(self)
                                        + np.asarray(item, np.int64)))

    def find(self, usage: str, applies_to: str | None = None) -> int:
        """The first service item with ``usage`` (and ``applies_to`` among its tokens)."""
        for i in np.flatnonzero((self.item_type == 2) & (self.usage == usage)):
            if applies_to is None or applies_to in self.applies_to[i].split(";"):
                return int(i)
        raise GeneratorError(f"the charge-item catalog has no {usage!r} item"
                             + (f" for {applies_to!r}" if applies_to else ""))

    @classmethod
    def from_reference(cls, ref, member_ids: tuple[str, ...],
                       local_members: tuple[int, ...]) -> Items:
        txt, num, lst = text_column, number_column, list_column
        drugs, cons, serv = ref.drugs, ref.consumables, ref.charge_items
        nd, nc, ns = len(drugs), len(cons), len(serv)
        if not nd or not ns:
            raise GeneratorError("the reference data need drugs and charge items")
        kind = np.repeat([0, 1, 2], [nd, nc, ns]).astype(np.int8)
        rev = np.concatenate([txt(drugs, "revenue_category"), np.full(nc, "material"),
                              txt(serv, "revenue_category")])
        code = np.concatenate([txt(drugs, "code"), txt(cons, "code"), txt(serv, "code")])
        drug_class = np.concatenate([txt(drugs, "drug_class"), np.full(nc + ns, "")])
        column = np.array([_cost_column(r, c, k, dc) for r, c, k, dc in
                           zip(rev, code, kind, drug_class, strict=True)], dtype=np.int8)
        special = np.concatenate([np.zeros(nd + nc, bool),
                                  serv["is_special_needs"].astype(bool).to_numpy()])
        high = np.concatenate([np.zeros(nd, bool), cons["is_high_value"].astype(bool).to_numpy(),
                               np.zeros(ns, bool)])
        essential = np.concatenate([drugs["is_essential"].astype(bool).to_numpy(),
                                    np.zeros(nc + ns, bool)])
        usage = np.concatenate([np.full(nd, "drug"), txt(cons, "usage"), txt(serv, "usage")])
        fund = np.where(kind == 0, np.where(essential, 1.0, 0.9),
                        np.where(kind == 1, np.where(high, 0.7, 0.9), 0.95))
        fund = np.where(special, 0.0, fund)
        pad = np.full(nc + ns, np.nan)
        text_pad = np.full(nc + ns, "")
        local = []
        for i in range(len(member_ids)):
            if i in local_members:
                local.append(_local_codes(kind))
            else:
                local.append(code)
        return cls(
            item_type=kind, code=code,
            name=np.concatenate([txt(drugs, "name_zh"), txt(cons, "name_zh"),
                                 txt(serv, "name_zh")]),
            revenue=np.array([REVENUE.index(r) for r in rev], dtype=np.int8),
            price=_cents(np.concatenate([num(drugs, "unit_price"), num(cons, "unit_price"),
                                         num(serv, "unit_price")])),
            cost_column=column, fund_factor=fund,
            refundable=np.isin(usage, ["drug", "day", "stay", "procedure", "treatment", "lab",
                                       "exam"]),
            antibacterial=np.concatenate([drugs["is_antibacterial"].astype(bool).to_numpy(),
                                          np.zeros(nc + ns, bool)]),
            essential=essential,
            strength=np.concatenate([num(drugs, "strength"), pad]),
            strength_unit=np.concatenate([txt(drugs, "strength_unit"), text_pad]),
            dose=np.concatenate([num(drugs, "dose_per_admin"), pad]),
            frequency=np.concatenate([num(drugs, "frequency_per_day", 1), pad]),
            days=np.concatenate([num(drugs, "days_typical", 3), pad]),
            route=np.concatenate([txt(drugs, "route"), text_pad]),
            setting=np.concatenate([txt(drugs, "setting"), np.full(nc, ""), txt(serv, "setting")]),
            usage_weight=np.concatenate([num(drugs, "usage_weight", 1), np.ones(nc + ns)]),
            usage=usage,
            pricing_unit=np.concatenate([txt(drugs, "dispensing_unit"), np.full(nc, ""),
                                         txt(serv, "pricing_unit")]),
            applies_to=np.concatenate([np.full(nd + nc, ""), txt(serv, "applies_to")]),
            high_value=high,
            typical_quantity=np.concatenate([np.ones(nd), num(cons, "typical_quantity", 1),
                                             np.ones(ns)]),
            special=special,
            specialties=lst(drugs, "specialty_codes") + lst(cons, "used_with_specialties")
            + [()] * ns,
            used_with_procedures=[()] * nd + lst(cons, "used_with_procedures") + [()] * ns,
            used_with_anaesthesia=[()] * nd + lst(cons, "used_with_anaesthesia") + [()] * ns,
            local=pa.array(np.concatenate(local)), local_inst=tuple(local_members),
        )


def _local_codes(kind: np.ndarray) -> np.ndarray:
    """Local codes of the geriatric centre's HIS: prefix by item type and a running number."""
    out = np.empty(len(kind), dtype=object)
    for k, prefix in _LOCAL_PREFIX.items():
        sel = np.flatnonzero(kind == k)
        numbers = np.arange(1, len(sel) + 1)
        out[sel] = [f"{prefix}{v:06d}" for v in numbers]
    return out.astype(str)


def _cost_column(revenue: str, code: str, kind: int, drug_class: str) -> int:
    """Cost column of the discharge abstract a line of this item counts in."""
    if kind == 0:
        if drug_class == "plasma product":
            return COST_COLUMNS.index("cost_blood")
        return COST_COLUMNS.index("cost_drug_western" if revenue == "drug_western"
                                  else "cost_drug_chinese")
    if kind == 1:
        return COST_COLUMNS.index("cost_material")
    if revenue in ("registration", "bed", "nursing", "consultation"):
        return COST_COLUMNS.index("cost_general_service")
    if revenue == "laboratory":
        return COST_COLUMNS.index("cost_lab")
    if code.startswith("27"):
        return COST_COLUMNS.index("cost_pathology")
    if revenue == "examination":
        return COST_COLUMNS.index("cost_clinical_diagnosis" if code.startswith("31")
                                  else "cost_imaging")
    if revenue == "surgery":
        return COST_COLUMNS.index("cost_surgery")
    if revenue == "treatment":
        if code.startswith("3401"):
            return COST_COLUMNS.index("cost_rehabilitation")
        if code.startswith("3400"):
            return COST_COLUMNS.index("cost_tcm")
        return COST_COLUMNS.index("cost_non_surgical_treatment")
    return COST_COLUMNS.index("cost_other")


def code_map_table(items: Items, labs: pd.DataFrame, exams: pd.DataFrame,
                   member_ids: tuple[str, ...]) -> pa.Table:
    """``code_map``: every institution's codes for drugs, consumables, charge items (local at
    the geriatric centre), lab tests and exam items, mapped to the standard codes."""
    systems = np.array(["drug", "consumable", "charge_item"])[items.item_type]
    inst, system, local, standard, name = [], [], [], [], []
    n = len(items)
    local_all = np.asarray(items.local.to_pylist(), dtype=object)
    for i, _ in enumerate(member_ids):
        inst.append(np.full(n, i))
        system.append(systems)
        local.append(local_all[i * n:(i + 1) * n])
        standard.append(items.code)
        name.append(items.name)
        for frame, sys_, code_col, name_col in ((labs, "lab_test", "test_code", "test_name"),
                                               (exams, "exam_item", "exam_item_code", "name_zh")):
            codes = text_column(frame, code_col)
            inst.append(np.full(len(codes), i))
            system.append(np.full(len(codes), sys_))
            local.append(codes)
            standard.append(codes)
            name.append(text_column(frame, name_col))
    m = int(sum(len(x) for x in inst))
    return build_table("code_map", {
        "institution_id": pick(list(member_ids), np.concatenate(inst)),
        "code_system": pa.array(np.concatenate(system).astype(str)),
        "local_code": pa.array(np.concatenate(local).astype(str)),
        "local_name": pa.array(np.concatenate(name).astype(str)),
        "standard_code": pa.array(np.concatenate(standard).astype(str)),
        "valid_from": np.full(m, _VALID_FROM.astype(np.int64)),
    }, n=m)


def catalog_table(ref, name: str) -> pa.Table:
    """A catalog table from the reference data, in the contract schema."""
    frame = ref.catalog_frame(name)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return build_table(name, {c: table.column(c) for c in table.column_names}, n=table.num_rows)


def _specialty_weights(specialties: list[tuple[str, ...]], dept_specialty: np.ndarray,
                       base: np.ndarray, miss: float = 0.05, hit: float = 3.0) -> np.ndarray:
    """``(departments, candidates)`` weights: ``base`` times ``hit`` when the department's
    specialty is listed, ``miss`` when another list is given, 1 when the list is empty."""
    out = np.tile(np.asarray(base, float), (len(dept_specialty), 1))
    for j, listed in enumerate(specialties):
        if listed:
            out[:, j] *= np.where(np.isin(dept_specialty, listed), hit, miss)
    return out


def _per_group(candidates: np.ndarray, weights: np.ndarray) -> Grouped:
    """A :class:`Grouped` from a ``(groups, candidates)`` weight matrix."""
    lists, ws = [], []
    for row in weights:
        keep = np.flatnonzero(row > 0)
        lists.append(candidates[keep])
        ws.append(row[keep])
    return Grouped.build(lists, ws)


@dataclass(frozen=True)
class Catalogs:
    """Everything the activity generators look up, built once per generation.

    Attributes
    ----------
    items, diagnoses, procedures, labs, exams
        The catalogs as arrays.
    dept_dx
        Principal diagnoses each department admits (by the reference ``principal_weight``).
    drugs_inpatient, antibacterials, drugs_outpatient, daily_materials
        Candidate items per department, weighted by use and specialty.
    procedure_materials
        Consumables used with each procedure (with their typical quantity in ``weights``).
    comorbidity_index, comorbidity_p
        Secondary diagnoses and their probabilities.
    complication_dx, external_dx, chemo_dx
        Surgical-complication codes (§4.8), external causes, the chemotherapy-session code.
    service
        Service items by role (``"registration"``, ``"bed:general"``, ``"surgery:3"`` ...).
    """

    member_ids: tuple[str, ...]
    items: Items
    diagnoses: Diagnoses
    procedures: Procedures
    labs: Any
    exams: Any
    drg_codes: list[str]
    grouper_version: str
    dx_codes: pa.Array
    dx_names: pa.Array
    proc_codes: pa.Array
    proc_names: pa.Array
    dept_dx: Grouped
    fallback_dx: int
    drugs_inpatient: Grouped
    antibacterials: Grouped
    drugs_outpatient: Grouped
    daily_materials: Grouped
    procedure_materials: Grouped
    anaesthesia_materials: dict[str, np.ndarray]
    surgical_materials: np.ndarray
    comorbidity_index: np.ndarray
    comorbidity_p: np.ndarray
    complication_dx: np.ndarray
    external_dx: np.ndarray
    chemo_dx: int
    service: dict[str, int]
    catalog_tables: dict[str, pa.Table]

    def tables(self) -> dict[str, pa.Table]:
        """The catalog source tables and ``code_map``."""
        return dict(self.catalog_tables)


def build_catalogs(world) -> Catalogs:
    """The :class:`Catalogs` of ``world`` (its reference data, departments and members)."""
    from hospital_sdk.synth.diagnostics import ExamItems, LabTests
    ref = world.reference
    member_ids = world.member_ids
    local = tuple(int(i) for i in np.flatnonzero(world.members.kind.to_numpy() == "geriatric"))
    items = Items.from_reference(ref, member_ids, local)
    drg_codes = text_column(ref.drg_groups, "drg_code").tolist()
    dx = Diagnoses.from_reference(ref.diagnoses, ref.procedures, drg_codes)
    proc = Procedures.from_reference(ref.procedures, drg_codes)
    code_index = {c: i for i, c in enumerate(items.code)}
    labs = LabTests.from_reference(ref.lab_tests, code_index)
    exams = ExamItems.from_reference(ref.exam_items, code_index)
    spec = world.departments["specialty_code"].to_numpy().astype(str)
    principal = np.flatnonzero(dx.principal_weight > 0)
    w = _specialty_weights([dx.specialties[i] for i in principal], spec,
                           dx.principal_weight[principal], miss=0.0, hit=1.0)
    dept_dx = _per_group(principal, w)
    drugs = np.flatnonzero(items.item_type == 0)
    d_spec = [items.specialties[i] for i in drugs]
    d_w = _specialty_weights(d_spec, spec, items.usage_weight[drugs])
    # prescribing follows use, tilted towards the drugs that carry the spending
    need = items.dose[drugs] * items.frequency[drugs] / np.maximum(items.strength[drugs], 1e-9)
    course = np.maximum(np.ceil(need * items.days[drugs] - 1e-9), 1) * items.price[drugs] / 100
    tilt_out, tilt_in = np.maximum(course, 1) ** DRUG_COST_TILT[0], \
        np.maximum(course, 1) ** DRUG_COST_TILT[1]
    inpatient = np.isin(items.setting[drugs], ["inpatient", "both"])
    outpatient = np.isin(items.setting[drugs], ["outpatient", "both"])
    ab = items.antibacterial[drugs]
    mats = np.flatnonzero((items.item_type == 1) & (items.usage == "day")
                          & np.array([not p for p in items.used_with_procedures]))
    m_w = _specialty_weights([items.specialties[i] for i in mats], spec,
                             np.ones(len(mats)), miss=0.0, hit=1.0)
    proc_pos = {c: i for i, c in enumerate(proc.code)}
    per_proc: list[list[int]] = [[] for _ in proc.code]
    for i in np.flatnonzero(items.item_type == 1):
        for c in items.used_with_procedures[i]:
            if c in proc_pos:
                per_proc[proc_pos[c]].append(int(i))
    proc_mats = Grouped.build([np.array(x, dtype=np.int64) for x in per_proc],
                              [items.typical_quantity[np.array(x, dtype=np.int64)]
                               for x in per_proc])
    surgical_general = np.flatnonzero((items.item_type == 1) & (items.usage == "procedure")
                                      & np.array([not p and not a for p, a in zip(
                                          items.used_with_procedures, items.used_with_anaesthesia,
                                          strict=True)]))
    anaesthesia = {m: np.flatnonzero(np.array([m in a for a in items.used_with_anaesthesia]))
                   for m in ("GA", "RA", "LA", "SED")}
    secondary = np.flatnonzero((dx.secondary_weight > 0) & ~dx.complication
                               & (dx.role != "external_cause"))
    chemo = np.flatnonzero(np.char.startswith(dx.code.astype(str), "Z51.1"))
    tables = {name: catalog_table(ref, name) for name in
              ("diagnosis_catalog", "procedure_catalog", "drug_catalog", "consumable_catalog",
               "charge_item_catalog", "drg_group")}
    tables["code_map"] = code_map_table(items, ref.lab_tests, ref.exam_items, member_ids)
    grouper = tables["drg_group"].column("grouper_version")
    return Catalogs(
        member_ids=member_ids, items=items, diagnoses=dx, procedures=proc, labs=labs,
        exams=exams, drg_codes=drg_codes,
        grouper_version=str(grouper[0]) if len(grouper) else "unknown",
        dx_codes=pa.array(dx.code), dx_names=pa.array(dx.name), proc_codes=pa.array(proc.code),
        proc_names=pa.array(proc.name), dept_dx=dept_dx,
        fallback_dx=int(principal[np.argmax(dx.principal_weight[principal])]),
        drugs_inpatient=_per_group(drugs, d_w * tilt_in * (inpatient & ~ab)),
        antibacterials=_per_group(drugs, d_w * (inpatient & ab)),
        drugs_outpatient=_per_group(drugs, d_w * tilt_out * outpatient),
        daily_materials=_per_group(mats, m_w), procedure_materials=proc_mats,
        anaesthesia_materials=anaesthesia, surgical_materials=surgical_general,
        comorbidity_index=secondary,
        comorbidity_p=dx.secondary_weight[secondary] / dx.secondary_weight[secondary].sum(),
        complication_dx=np.flatnonzero(dx.complication),
        external_dx=np.flatnonzero(dx.role == "external_cause"),
        chemo_dx=int(chemo[0]) if len(chemo) else -1,
        service=_service_items(items), catalog_tables=tables,
    )


def _service_items(items: Items) -> dict[str, int]:
    """Service items the generators bill, by role."""
    out = {"registration": items.find("registration"),
           "inpatient_consultation": items.find("consultation", "daily"),
           "health_check": items.find("other", "health_check"),
           "analgesia": items.find("anaesthesia", "analgesia")}
    for who in ("general", "associate_chief", "chief", "expert", "special_needs", "emergency"):
        out[f"consultation:{who}"] = items.find("consultation", who)
    for kind in ("general", "double", "single", "special_needs", "icu", "incubator"):
        out[f"bed:{kind}"] = items.find("bed_day", kind)
    for kind in ("icu", "special", "1", "2", "3", "newborn", "special_needs"):
        out[f"nursing:{kind}"] = items.find("nursing_day", kind)
    for level in ("1", "2", "3", "4", "intervention"):
        out[f"surgery:{level}"] = items.find("surgery", level)
    for method in ("LA", "RA", "GA", "SED"):
        out[f"anaesthesia:{method}"] = items.find("anaesthesia", method)
    treatment = np.flatnonzero((items.item_type == 2) & (items.usage == "treatment"))
    for i in treatment:
        for token in items.applies_to[i].split(";"):
            if token and token[0].isdigit():
                out.setdefault(f"procedure:{token}", int(i))
    names = {"infusion": "第一组", "infusion_extra": "加组", "oxygen": "吸氧",
             "monitoring": "心电监护", "dressing": "换药", "injection": "肌肉注射",
             "admixture": "静脉用药集中调配", "acupuncture": "针刺", "tuina": "推拿",
             "exercise": "运动疗法", "nebuliser": "雾化"}
    for role, fragment in names.items():
        hit = [i for i in np.flatnonzero(items.item_type == 2) if fragment in items.name[i]]
        if hit:
            out[role] = int(hit[0])
    return out
