"""Lineage (血缘): every column an indicator reads, in the aggregated layer and upstream of it.

An indicator computed from facts reads columns of the aggregated layer's fact tables
(:mod:`~hospital_sdk.indicators.facts`):

* the expression of each measure it aggregates (``sum(_.los_days)`` reads ``los_days``);
* the columns of its conditions: each ``where`` of a term and each exclusion;
* the time field that places a row in a period (``discharge_time`` for most stay measures);
* the dimension columns it can be cut by (``institution_id``, ``discharge_dept_id``…), as the
  engine decides them (:meth:`~hospital_sdk.indicators.engine.Plan.dims_of`);

through every indicator and measure it refers to (``numerator``, ``denominator``, ``of``). Each
of those fact columns is in turn built from columns of the cleaned layer: a **pass-through**
column has the same name in the fact's main table (``inpatient_stay`` for ``stay_fact``,
``outpatient_visit`` for ``visit_fact``, ``stay_procedure`` for ``procedure_fact``); every other
column is **derived**, and :data:`DERIVED_FROM` declares what from, as the builders in
:mod:`hospital_sdk.aggregated` compute it. A declared source lists the columns whose values make
the fact column, including the filters choosing child rows (``setting``, ``order_time``); not the
keys child rows are joined on (``institution_id``, ``stay_id``, ``visit_id``, a catalog's
``code``) nor the month filter on a child table's partition column.

A reported indicator reads the latest submission in ``raw.reported_value``
(:mod:`~hospital_sdk.indicators.reported`).

Examples
--------
>>> from hospital_sdk.indicators.catalog import load_catalog
>>> catalog = load_catalog()
>>> frame = lineage(catalog, "surgery_share")
>>> frame[frame.column == "has_surgery"].values.tolist()
[['aggregated', 'stay_fact', 'has_surgery', 'condition']]
>>> frame[frame.used_for == "stay_fact.has_surgery"][["table", "column"]].values.tolist()
[['procedure_catalog', 'category'], ['stay_procedure', 'procedure_code']]
>>> DERIVED_FROM["stay_fact", "is_death"]
(('inpatient_stay', 'discharge_disposition'),)
>>> fact_column_sources("visit_fact", "payer")
(('outpatient_visit', 'payer'),)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from hospital_sdk.aggregated import drg_risk as _drg_risk
from hospital_sdk.aggregated import exams as _exams
from hospital_sdk.aggregated import procedures as _procedures
from hospital_sdk.aggregated import procurement as _procurement
from hospital_sdk.aggregated import stays as _stays
from hospital_sdk.aggregated import visits as _visits
from hospital_sdk.aggregated.inputs import Needs
from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators.catalog import Catalog, load_catalog
from hospital_sdk.indicators.engine import Plan
from hospital_sdk.indicators.facts import DIMENSIONS, FACTS
from hospital_sdk.indicators.periods import parse_period
from hospital_sdk.indicators.reported import REPORTED_TABLE
from hospital_sdk.indicators.spec import Indicator, Measure, Term
from hospital_sdk.model import CONTRACT
from hospital_sdk.model.dictionary import to_markdown

__all__ = ["BUILDER_NEEDS", "DERIVED_FROM", "LINEAGE_COLUMNS", "MAIN_TABLE", "column_usage",
           "data_dictionary", "fact_column_sources", "lineage", "lineage_markdown"]

LINEAGE_COLUMNS: tuple[str, ...] = ("layer", "table", "column", "used_for")
"""Columns of :func:`lineage`."""

MAIN_TABLE: Mapping[str, str] = MappingProxyType({
    "stay_fact": "inpatient_stay", "procedure_fact": "stay_procedure",
    "visit_fact": "outpatient_visit",
    "exam_fact": "exam", "procurement_fact": "drug_procurement"})
"""The cleaned table one row of each fact comes from (its pass-through columns' table)."""

BUILDER_NEEDS: Mapping[str, Needs] = MappingProxyType({
    "stay_fact": {**_stays.NEEDS, "inpatient_stay": tuple(dict.fromkeys(
        (*_stays.NEEDS["inpatient_stay"], *_drg_risk.NEEDS["inpatient_stay"])))},
    "procedure_fact": _procedures.NEEDS,
    "visit_fact": _visits.NEEDS,
    "exam_fact": _exams.NEEDS, "procurement_fact": _procurement.NEEDS})
"""The cleaned columns each fact's builder reads (``stay_fact`` with the ``drg_risk`` table it
uses)."""

_Source = tuple[tuple[str, str], ...]


def _of(table: str, *columns: str) -> _Source:
    return tuple((table, c) for c in columns)


_PROC = _of("stay_procedure", "procedure_code") + _of("procedure_catalog", "category")
_PRINCIPAL = _of("stay_diagnosis", "diagnosis_kind", "seq", "diagnosis_code")
_READMISSION = _of("inpatient_stay", "empi_id", "admission_time", "discharge_time",
                   "readmission_plan", "discharge_disposition") + _PRINCIPAL
_DRG_RISK = _of("inpatient_stay", "grouper_version", "drg_code", "discharge_disposition")
_INPATIENT_ORDERS = _of("medication_order", "setting", "drug_code", "order_time") + _of(
    "drug_catalog", "is_antibacterial")
_VISIT_ORDERS = _of("medication_order", "setting", "drug_code", "order_time")
_CHARGES = _of("charge_line", "item_type", "amount", "charge_time")
_VISIT_CHARGES = _of("charge_line", "setting", "item_type", "amount", "charge_time")

DERIVED_FROM: Mapping[tuple[str, str], _Source] = MappingProxyType({
    # stay_fact (hospital_sdk.aggregated.stays)
    ("stay_fact", "is_day_surgery_case"): _of("inpatient_stay", "is_day_surgery"),
    ("stay_fact", "relative_weight"): _of("inpatient_stay", "grouper_version", "drg_code")
    + _of("drg_group", "relative_weight"),
    ("stay_fact", "principal_diagnosis_code"): _PRINCIPAL,
    ("stay_fact", "principal_diagnosis_category"): _PRINCIPAL,
    ("stay_fact", "principal_procedure_code"): _of("stay_procedure", "seq", "procedure_code"),
    ("stay_fact", "is_death"): _of("inpatient_stay", "discharge_disposition"),
    ("stay_fact", "has_surgery"): _PROC,
    ("stay_fact", "n_operations"): _PROC,
    ("stay_fact", "has_elective_surgery"): _PROC + _of("stay_procedure", "surgery_type"),
    ("stay_fact", "has_level4_surgery"): _PROC + _of("procedure_catalog", "is_level4_national"),
    ("stay_fact", "has_level3_surgery"): _PROC + _of("procedure_catalog", "operation_level"),
    ("stay_fact", "has_minimally_invasive_surgery"): _PROC + _of("procedure_catalog",
                                                                 "is_minimally_invasive"),
    ("stay_fact", "has_day_surgery"): _of("stay_procedure", "is_day_surgery"),
    ("stay_fact", "has_class1_incision"): _of("stay_procedure", "incision_class"),
    ("stay_fact", "has_class1_incision_infection"): _of("stay_procedure", "incision_class",
                                                        "healing_grade"),
    ("stay_fact", "has_complication_not_poa"): _of("stay_diagnosis", "diagnosis_kind",
                                                   "diagnosis_code", "present_on_admission"),
    ("stay_fact", "has_unplanned_reoperation"): _of("stay_procedure", "is_unplanned_reoperation"),
    ("stay_fact", "used_antibiotic"): _of("inpatient_stay", "admission_time") + _INPATIENT_ORDERS,
    ("stay_fact", "antibiotic_ddds"): _of("inpatient_stay", "admission_time") + _INPATIENT_ORDERS
    + _of("medication_order", "dispensed_dose", "dose_unit")
    + _of("drug_catalog", "ddd_value", "ddd_unit", "strength_unit"),
    ("stay_fact", "used_any_drug"): _of("inpatient_stay", "admission_time")
    + _of("medication_order", "setting", "drug_code", "order_time"),
    ("stay_fact", "used_essential_drug"): _of("inpatient_stay", "admission_time")
    + _of("medication_order", "setting", "drug_code", "order_time")
    + _of("drug_catalog", "is_essential"),
    ("stay_fact", "has_reviewed_order"): _of("inpatient_stay", "admission_time")
    + _of("medication_order", "setting", "order_time", "is_reviewed"),
    ("stay_fact", "drug_cost"): _of("inpatient_stay", "admission_time") + _CHARGES,
    ("stay_fact", "consumable_cost"): _of("inpatient_stay", "admission_time") + _CHARGES,
    ("stay_fact", "charge_revenue"): _of("inpatient_stay", "admission_time")
    + _of("charge_line", "amount", "charge_time"),
    ("stay_fact", "medical_service_revenue"): _of("inpatient_stay", "admission_time")
    + _of("charge_line", "revenue_category", "amount", "charge_time"),
    ("stay_fact", "key_monitored_drug_cost"): _of("inpatient_stay", "admission_time")
    + _CHARGES + _of("charge_line", "item_code") + _of("drug_catalog", "is_key_monitored"),
    ("stay_fact", "key_monitored_consumable_cost"): _of("inpatient_stay", "admission_time")
    + _CHARGES + _of("charge_line", "item_code") + _of("consumable_catalog", "is_key_monitored"),
    ("stay_fact", "adjuvant_drug_cost"): _of("inpatient_stay", "admission_time")
    + _CHARGES + _of("charge_line", "item_code") + _of("drug_catalog", "is_adjuvant"),
    ("stay_fact", "is_low_risk_drg"): _DRG_RISK,
    ("stay_fact", "drg_mortality"): _DRG_RISK,
    ("stay_fact", "drg_expected_cost"): _DRG_RISK[:2] + _of("inpatient_stay", "total_cost"),
    ("stay_fact", "drg_expected_los"): _DRG_RISK[:2] + _of("inpatient_stay", "los_days"),
    ("stay_fact", "is_unplanned_readmission"): _READMISSION,
    ("stay_fact", "readmission_gap_days"): _READMISSION,
    **{("stay_fact", f"has_unplanned_reoperation_{w}"): _PROC + _of(
        "stay_procedure", "is_unplanned_reoperation", "procedure_time")
        + _of("inpatient_stay", "empi_id", "admission_time") for w in ("48h", "31d")},
    # procedure_fact (hospital_sdk.aggregated.procedures): the stay's columns come from the stay
    ("procedure_fact", "campus_id"): _of("inpatient_stay", "campus_id"),
    ("procedure_fact", "discharge_time"): _of("inpatient_stay", "discharge_time"),
    ("procedure_fact", "discharge_dept_id"): _of("inpatient_stay", "discharge_dept_id"),
    ("procedure_fact", "category"): _PROC,
    ("procedure_fact", "is_surgery"): _PROC,
    ("procedure_fact", "is_interventional"): _PROC,
    ("procedure_fact", "is_level4"): _PROC + _of("procedure_catalog", "is_level4_national"),
    ("procedure_fact", "is_level4_recorded"): _PROC + _of("stay_procedure", "operation_level"),
    ("procedure_fact", "is_minimally_invasive"): _PROC + _of("procedure_catalog",
                                                             "is_minimally_invasive"),
    ("procedure_fact", "is_class1_incision"): _of("stay_procedure", "incision_class"),
    ("procedure_fact", "is_class1_incision_infection"): _of("stay_procedure", "incision_class",
                                                            "healing_grade"),
    ("procedure_fact", "is_elective_surgery"): _PROC + _of("stay_procedure", "surgery_type"),
    # visit_fact (hospital_sdk.aggregated.visits)
    ("visit_fact", "wait_minutes"): _of("outpatient_visit", "checkin_time", "call_time"),
    ("visit_fact", "consult_minutes"): _of("outpatient_visit", "call_time", "end_time"),
    ("visit_fact", "booking_lead_days"): _of("outpatient_visit", "booked_at", "visit_time"),
    ("visit_fact", "has_antibiotic_prescription"): _VISIT_ORDERS
    + _of("drug_catalog", "is_antibacterial"),
    ("visit_fact", "n_prescribed_drugs"): _VISIT_ORDERS,
    ("visit_fact", "has_essential_drug_prescription"): _VISIT_ORDERS
    + _of("drug_catalog", "is_essential"),
    **{("visit_fact", c): _VISIT_CHARGES for c in (
        "charge_revenue", "drug_cost", "consumable_cost")},
    ("visit_fact", "medical_service_revenue"): _VISIT_CHARGES + _of("charge_line",
                                                                    "revenue_category"),
    ("visit_fact", "key_monitored_drug_cost"): _VISIT_CHARGES + _of("charge_line", "item_code")
    + _of("drug_catalog", "is_key_monitored"),
    ("visit_fact", "adjuvant_drug_cost"): _VISIT_CHARGES + _of("charge_line", "item_code")
    + _of("drug_catalog", "is_adjuvant"),
    ("visit_fact", "key_monitored_consumable_cost"): _VISIT_CHARGES
    + _of("charge_line", "item_code") + _of("consumable_catalog", "is_key_monitored"),
    ("visit_fact", "has_reviewed_prescription"): _of("medication_order", "setting", "order_time",
                                                     "is_reviewed"),
    # exam_fact (hospital_sdk.aggregated.exams)
    ("exam_fact", "campus_id"): _of("exam", "ordering_dept_id")
    + _of("department", "campus_id", "valid_from"),
    ("exam_fact", "is_large_equipment"): _of("exam", "equipment_type"),
    ("exam_fact", "is_performed"): _of("exam", "exam_time"),
    ("exam_fact", "has_result"): _of("exam", "is_positive"),
    ("exam_fact", "report_hours"): _of("exam", "exam_time", "report_time"),
    # procurement_fact (hospital_sdk.aggregated.procurement): rows summed per standard code
    ("procurement_fact", "drug_code"): _of("drug_procurement", "drug_code", "drug_code_local"),
    ("procurement_fact", "is_mapped"): _of("drug_procurement", "drug_code"),
    ("procurement_fact", "is_in_catalog"): _of("drug_procurement", "drug_code")
    + _of("drug_catalog", "is_essential"),
    **{("procurement_fact", c): _of("drug_procurement", "drug_code")
       + _of("drug_catalog", c, "valid_from") for c in ("generic_name", "is_essential", "is_vbp")},
    ("procurement_fact", "generic_item"): _of("drug_procurement", "drug_code", "drug_code_local")
    + _of("drug_catalog", "generic_name", "valid_from"),
    ("procurement_fact", "generic_has_vbp"): _of("drug_procurement", "drug_code")
    + _of("drug_catalog", "generic_name", "is_vbp", "valid_from"),
})
"""Fact columns that are not copied from their main table -> the cleaned ``(table, column)``
pairs they are computed from (see the module docstring for what is listed)."""

_LAYER_ORDER = {"aggregated": 0, "cleaned": 1, "raw": 2}
_REPORTED_COLUMNS = ("institution_id", "period", "indicator_id", "version", "value_number",
                     "submitted_at", "source_sha256", "source_row")
"""What reading the latest reported value reads (:func:`~.submissions.latest_values`)."""


def fact_column_sources(fact: str, column: str) -> _Source:
    """The cleaned ``(table, column)`` pairs fact column ``column`` is built from.

    Raises
    ------
    IndicatorError
        Unknown fact, or a column that is neither declared in :data:`DERIVED_FROM` nor read from
        the fact's main table.

    Examples
    --------
    >>> fact_column_sources("stay_fact", "has_level4_surgery")
    (('stay_procedure', 'procedure_code'), ('procedure_catalog', 'category'), \
('procedure_catalog', 'is_level4_national'))
    """
    if fact not in MAIN_TABLE:
        raise IndicatorError(f"unknown fact {fact!r}; known: {sorted(MAIN_TABLE)}")
    if (fact, column) in DERIVED_FROM:
        return DERIVED_FROM[fact, column]
    main = MAIN_TABLE[fact]
    if column in BUILDER_NEEDS[fact].get(main, ()):
        return ((main, column),)
    raise IndicatorError(f"{fact}.{column} has no declared lineage: it is not a column of "
                         f"{main} and hospital_sdk.indicators.lineage.DERIVED_FROM does not "
                         f"declare it")


# ---- what an indicator reads ------------------------------------------------------------------

_Reads = dict[tuple[str, str, str], set[str]]


def _add(reads: _Reads, layer: str, table: str, column: str, use: str) -> None:
    reads.setdefault((layer, table, column), set()).add(use)


def _measure_reads(measure: Measure, reads: _Reads) -> None:
    for c in sorted(measure.expression.columns) if measure.expression is not None else ():
        _add(reads, "aggregated", measure.fact, c, f"measure {measure.id}")
    _add(reads, "aggregated", measure.fact, measure.time_field, "time")


def _term_reads(catalog: Catalog, term: Term, reads: _Reads) -> None:
    measure = catalog.measure(term.measure)
    _measure_reads(measure, reads)
    for e in term.where:
        for c in e.columns:
            _add(reads, "aggregated", measure.fact, c, "condition")
    for x in term.exclusions:
        for c in x.where.columns:
            _add(reads, "aggregated", measure.fact, c, f"exclusion {x.id}")


def _node_reads(catalog: Catalog, node: Indicator | Measure, reads: _Reads,
                seen: set[str]) -> None:
    if isinstance(node, Measure):
        _measure_reads(node, reads)
        return
    if node.key in seen:
        return
    seen.add(node.key)
    if node.kind == "reported":
        for c in _REPORTED_COLUMNS:
            _add(reads, "raw", REPORTED_TABLE, c, "reported value")
    terms = [node.term] if node.term is not None else []
    if node.population is not None:
        terms += [node.population.numerator, node.population.denominator]
    for term in terms:
        _term_reads(catalog, term, reads)
    for ref in (node.numerator, node.denominator, node.of):
        if ref is not None:
            _node_reads(catalog, catalog.resolve(ref), reads, seen)


def _reads(catalog: Catalog, ind: Indicator) -> _Reads:
    reads: _Reads = {}
    _node_reads(catalog, ind, reads, set())
    plan = Plan(catalog, parse_period(2000), tuple(DIMENSIONS))
    for fact in sorted(plan.facts_of(ind)):
        for dim in plan.dims_of(ind):
            if dim in FACTS[fact].dimensions:
                _add(reads, "aggregated", fact, FACTS[fact].dimension_column(dim),
                     f"dimension {dim}")
    for (layer, fact, column), _ in list(reads.items()):
        if layer == "aggregated":
            for table, source in fact_column_sources(fact, column):
                _add(reads, "cleaned", table, source, f"{fact}.{column}")
    return reads


def _frame(reads: _Reads) -> pd.DataFrame:
    rows = [(layer, table, column, ", ".join(sorted(uses)))
            for (layer, table, column), uses in reads.items()]
    rows.sort(key=lambda r: (_LAYER_ORDER[r[0]], r[1], r[2]))
    return pd.DataFrame(rows, columns=list(LINEAGE_COLUMNS))


def lineage(catalog: Catalog, indicator: Indicator | str) -> pd.DataFrame:
    """Every ``(layer, table, column)`` ``indicator`` reads, with what for.

    Parameters
    ----------
    catalog
        The catalog the indicator and its refs come from.
    indicator
        An indicator version or ref (``id`` is the latest version).

    Returns
    -------
    pandas.DataFrame
        :data:`LINEAGE_COLUMNS`, one row per column read, aggregated layer first. ``used_for``
        says why: for a fact column ``measure <id>``, ``condition``, ``exclusion <id>``,
        ``time`` or ``dimension <name>``; for a cleaned column the fact columns built from it;
        ``reported value`` for ``raw.reported_value``.

    Examples
    --------
    >>> from hospital_sdk.indicators.catalog import load_catalog
    >>> frame = lineage(load_catalog(), "average_length_of_stay")
    >>> frame[frame.column == "los_days"].values.tolist()
    [['aggregated', 'stay_fact', 'los_days', 'measure bed_days'], \
['cleaned', 'inpatient_stay', 'los_days', 'stay_fact.los_days']]
    """
    ind = catalog.get(indicator) if isinstance(indicator, str) else indicator
    return _frame(_reads(catalog, ind))


def column_usage(catalog: Catalog) -> pd.DataFrame:
    """Per column read by any indicator version of ``catalog``, the keys of those versions.

    Returns
    -------
    pandas.DataFrame
        ``layer, table, column, indicators`` (a sorted tuple of ``id@version``), ordered as
        :func:`lineage`.

    Examples
    --------
    >>> from hospital_sdk.indicators.catalog import load_catalog
    >>> usage = column_usage(load_catalog())
    >>> row = usage[(usage.table == "stay_fact") & (usage.column == "has_surgery")].iloc[0]
    >>> "surgery_share@1" in row.indicators
    True
    """
    users: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for versions in catalog.indicators.values():
        for ind in versions:
            for where in _reads(catalog, ind):
                users[where].add(ind.key)
    rows = sorted(((*k, tuple(sorted(v))) for k, v in users.items()),
                  key=lambda r: (_LAYER_ORDER[r[0]], r[1], r[2]))
    return pd.DataFrame(rows, columns=["layer", "table", "column", "indicators"])


# ---- the data dictionary's section ------------------------------------------------------------

def _short(catalog: Catalog, keys: tuple[str, ...]) -> str:
    """``id`` when every version of the indicator reads the column, else ``id@version``."""
    by_id: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        name, _, version = key.partition("@")
        by_id[name].append(version)
    out = []
    for name in sorted(by_id):
        every = [v.version for v in catalog.indicators[name]]
        out += ([f"`{name}`"] if sorted(by_id[name]) == sorted(every)
                else [f"`{name}@{v}`" for v in by_id[name]])
    return ", ".join(out)


def _count(catalog: Catalog, keys: tuple[str, ...]) -> str:
    ids = {k.partition("@")[0] for k in keys}
    return (f"{len(ids)} indicator{'s' if len(ids) != 1 else ''}"
            + (f" ({len(keys)} versions)" if len(keys) != len(ids) else ""))


def lineage_markdown(catalog: Catalog) -> str:
    """The data dictionary's section "Indicators reading each column", in Markdown.

    One table per fact of the aggregated layer (each column with the cleaned columns it is built
    from and the indicators reading it), then one per cleaned table (and ``raw.reported_value``
    when a reported indicator reads it); only columns some indicator reads are listed.

    Examples
    --------
    >>> from hospital_sdk.indicators.catalog import load_catalog
    >>> md = lineage_markdown(load_catalog())
    >>> md.splitlines()[0]
    '## Indicators reading each column — 各字段被哪些指标读取'
    >>> "| `has_surgery` | `stay_procedure.procedure_code`, `procedure_catalog.category` |" in md
    True
    """
    usage = column_usage(catalog)
    count = sum(len(v) for v in catalog.indicators.values())
    intro = (
        f"Generated from the indicator catalog ({len(catalog.indicators)} indicators, {count} "
        f"versions) by `hospital_sdk.indicators.lineage`. An indicator reads a column of a fact "
        f"when its measure, a condition or exclusion, its time field or a dimension it can be "
        f"cut by uses it, directly or through the indicators and measures it refers to; it "
        f"reads a cleaned column when one of those fact columns is built from it. Under each "
        f"table, the indicators reading any of its columns; \"all of them\" marks a column "
        f"every one of them reads (a time field, a dimension). `id` means every version of the "
        f"indicator, `id@version` only that version.")
    lines = ["## Indicators reading each column — 各字段被哪些指标读取", "", intro, ""]
    titles = {"aggregated": "Aggregated layer (fact tables)", "cleaned": "Cleaned layer",
              "raw": "Raw layer"}
    for layer in sorted(set(usage.layer), key=_LAYER_ORDER.__getitem__):
        lines += [f"### {titles[layer]}", ""]
        part = usage[usage.layer == layer]
        for table in dict.fromkeys(part.table):
            rows = part[part.table == table]
            readers = tuple(sorted(set().union(*rows.indicators)))
            contract = f" ([contract](#{table}))" if layer == "cleaned" else ""
            lines += [f"#### `{layer}.{table}`{contract}", "",
                      f"Read by {_count(catalog, readers)}: {_short(catalog, readers)}.", ""]
            if layer == "aggregated":
                lines += ["| column | built from (cleaned) | indicators |", "|---|---|---|"]
            else:
                lines += ["| column | indicators |", "|---|---|"]
            for row in rows.itertuples(index=False):
                cells = [f"`{row.column}`"]
                if layer == "aggregated":
                    cells.append(", ".join(f"`{t}.{c}`" for t, c in
                                           fact_column_sources(table, row.column)))
                cells.append("all of them" if row.indicators == readers
                             else _short(catalog, row.indicators))
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines)


def data_dictionary(catalog: Catalog | None = None) -> str:
    """The data dictionary (``DATA_DICTIONARY.md``): the contract's Markdown
    (:func:`hospital_sdk.model.dictionary.to_markdown`) followed by :func:`lineage_markdown` of
    ``catalog`` (default: :func:`~.catalog.load_catalog`).

    ``hospital-sdk contract --format markdown --out DATA_DICTIONARY.md`` writes it.

    >>> text = data_dictionary()
    >>> text.index("## inpatient_stay") < text.index("## Indicators reading each column")
    True
    """
    return to_markdown(CONTRACT) + "\n" + lineage_markdown(catalog or load_catalog())
