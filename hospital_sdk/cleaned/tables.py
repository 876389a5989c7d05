"""The cleaned layer's tables: which raw table each is built from, how it is partitioned, conformed.

Every source table of the contract has a cleaned counterpart of the same name in
``lake.cleaned``, with the raw columns (the contract's stored columns and the lineage columns
``_load_id``, ``_source_file``, ``_source_row``, so a cleaned row still names the file and row it
came from) plus:

``empi_id``
    on every table with ``patient_local_id``: the group-wide person id from the patient master
    index (:mod:`~hospital_sdk.cleaned.patient_index`); null when the record's patient is not in
    the patient table (the ``referential_integrity`` checks count those rows);
standard codes
    local codes replaced by the standard code valid at the row's date (:data:`CODE_COLUMNS`,
    through ``code_map``); the code as delivered is kept in ``<column>_local``. A code with no
    valid map row keeps its delivered value, so the catalog-membership checks of the cleaned
    layer count it instead of it vanishing;
``discharge_time``
    on ``stay_diagnosis``, ``stay_procedure`` and ``stay_movement``: the stay's discharge time.

Partitions
----------
Facts are split into calendar months of their period column (:data:`MONTHLY`): visits by visit
time, stays by discharge time, orders/charges/exams/labs by their own time, status events by
event time. The parts of the 病案首页 (diagnoses, procedures, ward movements) belong to the
discharge record and follow the stay's discharge month, so one month of stays and its diagnoses
are always rebuilt together. A child row whose stay is absent from the raw layer (its stay was
rejected at the load gate) belongs to no month and is not carried into the cleaned layer; the
raw layer's referential-integrity checks count it, and :func:`orphan_counts` reports it.
Master data, catalogs, ``code_map``, patients and the reported (filled-in) tables are small and
rebuilt whole.

Uniqueness of primary keys is already enforced by the load gate (a repeated key is quarantined),
and cleaning neither drops nor duplicates a row of its month: the builders only add columns and
join on keys that are unique on the joined side.

Examples
--------
>>> TABLES["stay_diagnosis"].period_column, TABLES["stay_diagnosis"].parent
('discharge_time', 'inpatient_stay')
>>> TABLES["medication_order"].codes[0]
CodeColumn(column='drug_code', code_system='drug', at='order_time', by_item_type=None)
>>> TABLES["department"].period_column is None
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir

from hospital_sdk.cleaned.code_mapping import map_codes
from hospital_sdk.errors import ContractError
from hospital_sdk.model import CONTRACT
from hospital_sdk.model.contract import Contract, suggest

__all__ = ["CODE_COLUMNS", "MONTHLY", "STAY_CHILDREN", "TABLES", "CleanedTable", "CodeColumn",
           "cleaned_table", "orphan_counts"]

STAY_CHILDREN: tuple[str, ...] = ("stay_diagnosis", "stay_procedure", "stay_movement")
"""Parts of the discharge record, partitioned by their stay's discharge month."""

MONTHLY: Mapping[str, str] = {
    "outpatient_visit": "visit_time", "inpatient_stay": "discharge_time",
    **{child: "discharge_time" for child in STAY_CHILDREN},
    "medication_order": "order_time", "charge_line": "charge_time", "exam": "order_time",
    "lab_order": "order_time", "referral": "referral_time", "status_event": "event_time",
}
"""Cleaned tables split into months, and the column that places a row in its month."""

_ITEM_TYPE_SYSTEMS = {"drug": "drug", "material": "consumable", "service": "charge_item"}


@dataclass(frozen=True)
class CodeColumn:
    """A column holding local codes, mapped to standard codes of ``code_system`` at ``at``.

    ``by_item_type`` names a column whose value picks the code system per row instead
    (``charge_line.item_type``: drug -> drug, material -> consumable, service -> charge_item).
    """

    column: str
    code_system: str
    at: str
    by_item_type: str | None = None


CODE_COLUMNS: Mapping[str, tuple[CodeColumn, ...]] = {
    "medication_order": (CodeColumn("drug_code", "drug", "order_time"),),
    "charge_line": (CodeColumn("item_code", "by item type", "charge_time", "item_type"),),
    "lab_order": (CodeColumn("test_code", "lab_test", "order_time"),),
    "exam": (CodeColumn("exam_item_code", "exam_item", "order_time"),),
    "drug_procurement": (CodeColumn("drug_code", "drug", "month"),),
}
"""Local-code columns per table (the geriatric branch's HIS uses its own drug, consumable,
charge-item, lab and exam codes; the other institutions map to themselves)."""


@dataclass(frozen=True)
class CleanedTable:
    """How one cleaned table is built.

    Attributes
    ----------
    name
        Table name, the same in ``lake.raw`` and ``lake.cleaned``.
    period_column
        Column whose month places a row in its partition; ``None`` for tables rebuilt whole.
    parent
        ``inpatient_stay`` for the parts of the discharge record (their month is the stay's).
    codes
        Local-code columns mapped to standard codes.
    links_patient
        Whether ``empi_id`` is added.
    """

    name: str
    period_column: str | None
    parent: str | None
    codes: tuple[CodeColumn, ...]
    links_patient: bool

    @property
    def monthly(self) -> bool:
        """Whether the table is split into monthly partitions."""
        return self.period_column is not None


def _specs(contract: Contract) -> dict[str, CleanedTable]:
    out = {}
    for t in contract.source_tables():
        out[t.name] = CleanedTable(
            name=t.name, period_column=MONTHLY.get(t.name),
            parent="inpatient_stay" if t.name in STAY_CHILDREN else None,
            codes=CODE_COLUMNS.get(t.name, ()),
            links_patient=any(c.name == "patient_local_id" for c in t.columns))
    return out


TABLES: Mapping[str, CleanedTable] = _specs(CONTRACT)
"""Every cleaned table built from a source table, by name (``patient_index`` and the status
intervals are derived separately: :mod:`~hospital_sdk.cleaned.refresh`)."""


def _spec(name: str) -> CleanedTable:
    if name not in TABLES:
        raise ContractError(f"{name!r} is not a cleaned table{suggest(name, TABLES)}")
    return TABLES[name]


def _in_window(col: ir.Value, window: tuple[datetime, datetime]) -> ir.BooleanValue:
    start, end = window
    if col.type().is_date():
        return (col >= start.date()) & (col < end.date())
    return (col >= start) & (col < end)


def _mapped(facts: ir.Table, code_map: ir.Table, code: CodeColumn) -> ir.Table:
    """``facts`` with ``code.column`` standardised and the delivered value in ``<column>_local``."""
    local = f"{code.column}_local"
    facts = facts.mutate(**{local: facts[code.column]})
    if code.by_item_type is None:
        out = map_codes(facts, code_map, column=local, code_system=code.code_system, at=code.at,
                        standard_column="__std")
        return out.mutate(**{code.column: out.__std.fill_null(out[local])}).drop("__std")
    for item_type, system in _ITEM_TYPE_SYSTEMS.items():
        facts = map_codes(facts, code_map, column=local, code_system=system, at=code.at,
                          standard_column=f"__std_{item_type}")
    std = ibis.cases(*((facts[code.by_item_type] == item_type, facts[f"__std_{item_type}"])
                       for item_type in _ITEM_TYPE_SYSTEMS), else_=ibis.null("string"))
    return (facts.mutate(**{code.column: std.fill_null(facts[local])})
            .drop(*(f"__std_{t}" for t in _ITEM_TYPE_SYSTEMS)))


def cleaned_table(name: str, raw: Mapping[str, ir.Table], *,
                  window: tuple[datetime, datetime] | None = None,
                  patient_index: ir.Table | None = None) -> ir.Table:
    """The cleaned rows of table ``name``, as an Ibis expression over the raw tables.

    Parameters
    ----------
    name
        A cleaned table (:data:`TABLES`).
    raw
        Raw-layer tables by name: at least ``name``, ``code_map`` when the table has local codes,
        and ``inpatient_stay`` for the parts of the discharge record.
    window
        ``[start, end)`` of the months to build, for a monthly table; ``None`` builds every row.
    patient_index
        The patient master index (``institution_id, patient_local_id, empi_id, link_rule, ...``);
        required when the table links patients.

    Returns
    -------
    ibis.Table
        The raw columns in their order, the added columns after them, one row per raw row of the
        window (children: per raw row whose stay is in the window).

    Raises
    ------
    ContractError
        Unknown table, a needed raw table missing, or ``patient_index`` missing.

    Examples
    --------
    >>> import datetime as dt
    >>> stays = ibis.memtable({"institution_id": ["H1", "H1"], "stay_id": ["S1", "S2"],
    ...     "discharge_time": [dt.datetime(2024, 1, 9), dt.datetime(2024, 2, 3)]})
    >>> dx = ibis.memtable({"institution_id": ["H1", "H1", "H1"], "stay_id": ["S1", "S2", "S9"],
    ...     "diagnosis_kind": ["discharge"] * 3, "seq": [1, 1, 1], "diagnosis_code": ["I21.000"] * 3})
    >>> jan = (dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1))
    >>> out = cleaned_table("stay_diagnosis", {"stay_diagnosis": dx, "inpatient_stay": stays},
    ...                     window=jan).execute()
    >>> out.stay_id.tolist(), str(out.discharge_time[0])
    (['S1'], '2024-01-09 00:00:00')
    """
    spec = _spec(name)
    needed = [name, *(("code_map",) if spec.codes else ()), *((spec.parent,) if spec.parent else ())]
    missing = [t for t in needed if t not in raw]
    if missing:
        raise ContractError(f"cleaning {name} needs the raw table(s) {missing}")
    if spec.links_patient and patient_index is None:
        raise ContractError(f"cleaning {name} needs the patient index (it links patients)")
    t = raw[name]
    columns = list(t.columns)
    if spec.parent is not None:
        parent = raw[spec.parent]
        stays = parent.select("institution_id", "stay_id", "discharge_time")
        if window is not None:
            stays = stays.filter(_in_window(stays.discharge_time, window))
        t = t.join(stays, ["institution_id", "stay_id"])
        columns.append("discharge_time")
    elif window is not None and spec.period_column is not None:
        t = t.filter(_in_window(t[spec.period_column], window))
    for code in spec.codes:
        t = _mapped(t, raw["code_map"], code)
        columns.append(f"{code.column}_local")
    if spec.links_patient:
        assert patient_index is not None
        index = patient_index.select("institution_id", "patient_local_id", "empi_id")
        t = t.left_join(index, ["institution_id", "patient_local_id"]).select(
            *columns, "empi_id")
        columns.append("empi_id")
    return t.select(*columns)


def orphan_counts(raw: Mapping[str, ir.Table]) -> dict[str, int]:
    """Rows of each part of the discharge record whose stay is not in the raw layer.

    They belong to no month, so the cleaned layer cannot carry them; the count makes the
    difference between raw and cleaned row counts explicit (raw = cleaned + orphans).

    >>> import datetime as dt
    >>> stays = ibis.memtable({"institution_id": ["H1"], "stay_id": ["S1"],
    ...                        "discharge_time": [dt.datetime(2024, 1, 9)]})
    >>> dx = ibis.memtable({"institution_id": ["H1", "H1"], "stay_id": ["S1", "S9"]})
    >>> orphan_counts({"inpatient_stay": stays, "stay_diagnosis": dx})
    {'stay_diagnosis': 1}
    """
    stays = raw["inpatient_stay"].select("institution_id", "stay_id")
    out = {}
    for child in STAY_CHILDREN:
        if child in raw:
            out[child] = int(raw[child].anti_join(stays, ["institution_id", "stay_id"])
                             .count().execute())
    return out
