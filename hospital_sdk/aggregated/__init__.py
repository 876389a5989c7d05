"""The aggregated layer: fact tables at a declared grain, built from the cleaned tables.

Every builder is a pure function of Ibis tables returning an Ibis expression (nothing is read or
written here); the asset graph writes the partitioned ones month by month with
:func:`hospital_sdk.store.partitions.replace_month`, so each holds its period column and only the
rows of the month it was asked for.

==================== ================================================= ====================
table                grain                                             period column
==================== ================================================= ====================
``stay_fact``        one row per stay discharged in the month          ``discharge_time``
``procedure_fact``   one row per procedure of those stays              ``discharge_time``
``visit_fact``       one row per outpatient/ED/health-check visit      ``visit_time``
``drg_risk``         one row per DRG group (all months)                —
``exam_fact``        one row per examination ordered in the month      ``order_time``
``procurement_fact`` one row per institution × drug received           ``month`` (DATE)
``department_month`` one row per institution × campus × department     ``month`` (DATE)
==================== ================================================= ====================

:data:`AGGREGATED_TABLES` declares them for the orchestrator: grain, period column, the cleaned
tables each reads (``reads``), the aggregated tables it is built from (``uses``) and a
``build(inputs, month)`` with one signature for all, where ``inputs`` maps table names (cleaned
and aggregated) to Ibis tables.

Examples
--------
>>> spec = AGGREGATED_TABLES["stay_fact"]
>>> spec.grain, spec.period_column, spec.uses
(('institution_id', 'stay_id'), 'discharge_time', ('drg_risk',))
>>> "medication_order" in spec.reads
True
>>> AGGREGATED_TABLES["drg_risk"].period_column is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import ibis.expr.types as ir

from hospital_sdk.aggregated import drg_risk as _drg_risk
from hospital_sdk.aggregated import exams as _exams
from hospital_sdk.aggregated import procedures as _procedures
from hospital_sdk.aggregated import procurement as _procurement
from hospital_sdk.aggregated import stays as _stays
from hospital_sdk.aggregated import summaries as _summaries
from hospital_sdk.aggregated import visits as _visits
from hospital_sdk.aggregated.doses import ddd_count
from hospital_sdk.aggregated.drg_risk import build_drg_risk
from hospital_sdk.aggregated.exams import build_exam_fact
from hospital_sdk.aggregated.inputs import cleaned_memtable, cleaned_schema
from hospital_sdk.aggregated.procedures import SURGERY_CATEGORIES, build_procedure_fact
from hospital_sdk.aggregated.procurement import build_procurement_fact
from hospital_sdk.aggregated.stays import build_stay_fact
from hospital_sdk.aggregated.summaries import build_department_month
from hospital_sdk.aggregated.value_sets import CodeList, load_code_list, surgical_complications
from hospital_sdk.aggregated.visits import build_visit_fact
from hospital_sdk.errors import ContractError

__all__ = [
    "AGGREGATED_TABLES", "AggregatedTable", "CodeList", "SURGERY_CATEGORIES",
    "build_department_month", "build_drg_risk", "build_exam_fact", "build_procedure_fact",
    "build_procurement_fact", "build_stay_fact", "build_visit_fact", "cleaned_memtable",
    "cleaned_schema", "ddd_count", "load_code_list", "surgical_complications",
]

Build = Callable[[Mapping[str, ir.Table], str | None], ir.Table]
"""``build(inputs, month)``: ``inputs`` maps names of cleaned and aggregated tables to Ibis
tables; ``month`` is ``'YYYY-MM'`` for a partitioned table and ``None`` otherwise."""


@dataclass(frozen=True)
class AggregatedTable:
    """Declaration of one aggregated table, for the asset graph.

    Parameters
    ----------
    name
        Table name in the aggregated layer.
    grain
        Key columns: one row per distinct combination.
    period_column
        Column placing a row in a month (the partition written by ``replace_month``), or
        ``None`` for a table built whole.
    description_en, description_zh
        What one row is, in English and Chinese.
    reads
        Cleaned tables the table is built from.
    uses
        Aggregated tables the table is built from (built first).
    build
        ``build(inputs, month) -> ibis.Table`` (see :data:`Build`).
    """

    name: str
    grain: tuple[str, ...]
    period_column: str | None
    description_en: str
    description_zh: str
    reads: tuple[str, ...]
    uses: tuple[str, ...]
    build: Build

    def __post_init__(self) -> None:
        if not self.grain:
            raise ContractError(f"aggregated table {self.name!r} declares no grain")

    @property
    def partitioned(self) -> bool:
        """Whether the table is written month by month."""
        return self.period_column is not None


def _month(name: str, month: str | None) -> str:
    if month is None:
        raise ContractError(f"aggregated table {name!r} is partitioned by month: pass a month")
    return month


def _input(inputs: Mapping[str, ir.Table], name: str, builder: str) -> ir.Table:
    if name not in inputs:
        raise ContractError(f"{builder}: needs table {name!r}; the inputs hold {sorted(inputs)}")
    return inputs[name]


def _stay_fact(inputs: Mapping[str, ir.Table], month: str | None) -> ir.Table:
    return build_stay_fact(inputs, _month("stay_fact", month), drg_risk=inputs.get("drg_risk"))


def _procedure_fact(inputs: Mapping[str, ir.Table], month: str | None) -> ir.Table:
    return build_procedure_fact(inputs, _month("procedure_fact", month))


def _visit_fact(inputs: Mapping[str, ir.Table], month: str | None) -> ir.Table:
    return build_visit_fact(inputs, _month("visit_fact", month))


def _exam_fact(inputs: Mapping[str, ir.Table], month: str | None) -> ir.Table:
    return build_exam_fact(inputs, _month("exam_fact", month))


def _procurement_fact(inputs: Mapping[str, ir.Table], month: str | None) -> ir.Table:
    return build_procurement_fact(inputs, _month("procurement_fact", month))


def _drg_risk_table(inputs: Mapping[str, ir.Table], month: str | None) -> ir.Table:
    return build_drg_risk(inputs)


def _department_month(inputs: Mapping[str, ir.Table], month: str | None) -> ir.Table:
    name = "department_month"
    return build_department_month(_input(inputs, "stay_fact", name),
                                  _input(inputs, "visit_fact", name), _month(name, month))


AGGREGATED_TABLES: Mapping[str, AggregatedTable] = MappingProxyType({t.name: t for t in (
    AggregatedTable(
        "drg_risk", _drg_risk.GROUP_KEYS, None,
        "In-hospital mortality and risk tier (low-risk: z of ln mortality < -1 SD), mean cost "
        "and mean length of stay of each DRG group over all discharges, the group's own "
        "approximation of the national tables",
        "各DRG组住院死亡率及风险分级（低风险组：死亡率对数z值低于均值减1个标准差）、例均费用"
        "与平均住院日，以本集团全部出院病例近似国家参考值",
        tuple(_drg_risk.NEEDS), (), _drg_risk_table),
    AggregatedTable(
        "stay_fact", _procedures.STAY_KEYS, "discharge_time",
        "One row per inpatient stay discharged in the month, with its principal diagnosis, "
        "procedure, complication, antibiotic and cost flags",
        "每次出院患者住院一行：主要诊断、手术、并发症、抗菌药物与费用标志",
        tuple(_stays.NEEDS), ("drg_risk",), _stay_fact),
    AggregatedTable(
        "procedure_fact", (*_procedures.STAY_KEYS, "seq"), "discharge_time",
        "One row per procedure of each stay discharged in the month, with the national "
        "surgery, level-4, minimally-invasive and incision flags",
        "出院患者每条手术操作一行：国家手术、四级手术、微创手术及切口标志",
        tuple(_procedures.NEEDS), (), _procedure_fact),
    AggregatedTable(
        "visit_fact", _visits.VISIT_KEYS, "visit_time",
        "One row per outpatient, emergency or health-check visit of the month, with waits, "
        "booking lead time and prescription flags",
        "每次门急诊（含体检）就诊一行：候诊时长、预约提前天数及处方标志",
        tuple(_visits.NEEDS), (), _visit_fact),
    AggregatedTable(
        "department_month", (*_summaries.DEPARTMENT_KEYS, "month"), "month",
        "One row per institution, campus, department and month: discharges and their flags, "
        "bed-days, costs, antibiotic DDDs, outpatient and emergency visits, waits",
        "每机构、院区、科室、月一行：出院人次及各标志、床日、费用、抗菌药物DDD、门急诊人次、候诊",
        (), ("stay_fact", "visit_fact"), _department_month),
    AggregatedTable(
        "exam_fact", _exams.EXAM_KEYS, "order_time",
        "One row per examination ordered in the month: ordering department, setting, "
        "equipment type, large-equipment flag (CT, MR, DSA, SPECT, PET-CT) and positive result",
        "每次检查一行（按申请月份）：申请科室、就诊场景、设备类型、大型医用设备标志及阳性结果",
        tuple(_exams.NEEDS), (), _exam_fact),
    AggregatedTable(
        "procurement_fact", _procurement.PROCUREMENT_KEYS, "month",
        "One row per institution, month and drug received, with the catalog's essential-medicine "
        "and VBP flags, whether the generic name has a VBP winner, quantity and amount",
        "每机构、月、药品一行（采购入库）：基本药物及集采中标标志、同通用名是否有中标药品、数量及金额",
        tuple(_procurement.NEEDS), (), _procurement_fact),
)})
"""Every aggregated table by name, in build order (dependencies first)."""
