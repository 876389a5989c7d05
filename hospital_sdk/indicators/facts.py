"""The fact tables indicators are computed from, and the dimensions they may be cut by.

A measure aggregates one **fact**: a table of the aggregated layer at a declared grain, where one
row is one counting unit (one admission in ``stay_fact``). Because every child table was rolled up
to that grain before any join, counting rows counts admissions — a stay with three diagnoses and
two operations is one row, so "a patient with several operations counts once per admission" holds
by construction.

Dimensions are **conformed**: ``department`` means the discharge department of a stay, the
registering department of a visit and the discharge department of a procedure's stay, so an
indicator whose numerator and denominator come from different facts (outpatient visits ÷
discharges) still lines up department by department. The time dimensions (``year``, ``quarter``,
``month``) come from each fact's time field.

========================= ================ ================ ================= ============
fact                      one row is       time field       department        doctor
========================= ================ ================ ================= ============
``stay_fact``             an admission     discharge_time   discharge_dept_id attending
``procedure_fact``        a procedure      discharge_time   discharge_dept_id surgeon
``visit_fact``            a visit          visit_time       dept_id           doctor_id
``exam_fact``             an examination   order_time       ordering_dept_id  —
``procurement_fact``      a drug received  month (DATE)     —                 —
                          in a month
========================= ================ ================ ================= ============

``procurement_fact`` is reported per institution and month: it has no campus and no department,
so an indicator over it is cut by institution and time only (the engine leaves other requested
dimensions out of its rows and says so in ``cut``).

Nothing here is DuckDB-specific: a fact is read by name from any source that holds the
aggregated layer (:func:`fact_table`).

Examples
--------
>>> FACTS["stay_fact"].dimension_column("department")
'discharge_dept_id'
>>> FACTS["visit_fact"].unit, FACTS["visit_fact"].time_field
('visit', 'visit_time')
>>> sorted(FACTS["procedure_fact"].dimensions)
['campus', 'department', 'doctor', 'institution']
>>> FACTS["stay_fact"].schema()["is_death"]
Boolean(nullable=True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from hospital_sdk.errors import IndicatorError
from hospital_sdk.model import suggest

__all__ = ["DIMENSIONS", "FACTS", "Fact", "FactSource", "FactTables", "fact_memtable",
           "fact_table"]

DIMENSIONS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "institution": ("机构", "institution"),
    "campus": ("院区", "campus"),
    "department": ("科室", "department"),
    "doctor": ("医师", "doctor"),
    "payer": ("医保类型", "payer"),
    "visit_type": ("就诊类型", "visit type"),
    "drg": ("DRG组", "DRG group"),
})
"""Conformed dimensions (besides the time grains) with their Chinese and English labels."""


@dataclass(frozen=True)
class Fact:
    """One fact table of the aggregated layer, as the indicator layer sees it.

    Parameters
    ----------
    name
        Table name in the aggregated layer.
    unit
        What one row counts: ``admission``, ``procedure``, ``visit``, ``examination`` or
        ``drug-month`` (one drug received by an institution in a month).
    time_field
        The timestamp that places a row in a period.
    dimensions
        Conformed dimension name -> column of this fact.
    keys
        Columns identifying one row (for drill-down).
    case_columns
        Columns shown for each record in a drill-down besides the keys (never a patient
        identifier: ``empi_id`` and local patient ids are left out).
    """

    name: str
    unit: str
    time_field: str
    dimensions: Mapping[str, str]
    keys: tuple[str, ...]
    case_columns: tuple[str, ...] = field(default=())

    def dimension_column(self, dimension: str) -> str:
        """The column holding ``dimension``.

        Raises
        ------
        IndicatorError
            The fact cannot be cut by it (the message lists what it can be cut by).
        """
        try:
            return self.dimensions[dimension]
        except KeyError:
            raise IndicatorError(
                f"fact {self.name!r} cannot be cut by {dimension!r}"
                f"{suggest(dimension, self.dimensions)}; it has {sorted(self.dimensions)} and "
                f"year, quarter, month") from None

    def schema(self) -> ibis.Schema:
        """Column names and types of the fact (from its builder, without reading data)."""
        return _fact_schema(self.name)


@cache
def _fact_schema(name: str) -> ibis.Schema:
    from hospital_sdk.aggregated import AGGREGATED_TABLES, cleaned_memtable

    spec = AGGREGATED_TABLES[name]
    inputs: dict[str, ir.Table] = {r: cleaned_memtable(r) for r in spec.reads}
    for used in spec.uses:
        inputs[used] = AGGREGATED_TABLES[used].build(inputs, None)
    return spec.build(inputs, "2000-01").schema()


_COMMON = {"institution": "institution_id", "campus": "campus_id"}

FACTS: Mapping[str, Fact] = MappingProxyType({f.name: f for f in (
    Fact("stay_fact", "admission", "discharge_time",
         MappingProxyType({**_COMMON, "department": "discharge_dept_id",
                           "doctor": "attending_doctor_id", "payer": "payer", "drg": "drg_code"}),
         ("institution_id", "stay_id"),
         ("discharge_dept_id", "admission_time", "discharge_time", "los_days",
          "principal_diagnosis_code", "drg_code")),
    Fact("procedure_fact", "procedure", "discharge_time",
         MappingProxyType({**_COMMON, "department": "discharge_dept_id", "doctor": "surgeon_id"}),
         ("institution_id", "stay_id", "seq"),
         ("discharge_dept_id", "procedure_code", "procedure_time", "discharge_time")),
    Fact("visit_fact", "visit", "visit_time",
         MappingProxyType({**_COMMON, "department": "dept_id", "doctor": "doctor_id",
                           "payer": "payer", "visit_type": "visit_type"}),
         ("institution_id", "visit_id"),
         ("dept_id", "visit_type", "visit_time")),
    Fact("exam_fact", "examination", "order_time",
         MappingProxyType({**_COMMON, "department": "ordering_dept_id"}),
         ("institution_id", "exam_id"),
         ("ordering_dept_id", "setting", "equipment_type", "exam_item_code", "order_time",
          "is_positive")),
    Fact("procurement_fact", "drug-month", "month",
         MappingProxyType({"institution": "institution_id"}),
         ("institution_id", "month", "drug_code"),
         ("generic_item", "is_essential", "is_vbp", "generic_has_vbp", "quantity", "amount")),
)})
"""Every fact by name."""


class FactSource(Protocol):
    """Anything with ``table(name, layer)`` returning an Ibis table (a :class:`Lakehouse`)."""

    def table(self, name: str, layer: str = ...) -> ir.Table: ...  # pragma: no cover


def fact_table(source: FactSource | Mapping[str, ir.Table] | Any, name: str) -> ir.Table:
    """Read fact ``name`` from ``source``.

    Parameters
    ----------
    source
        A :class:`~hospital_sdk.store.Lakehouse` (reads ``aggregated.<name>``), an Ibis backend
        (reads table ``name``) or a mapping of names to Ibis tables (tests, notebooks).

    Raises
    ------
    IndicatorError
        The source has no such table.

    Examples
    --------
    >>> t = ibis.memtable({"institution_id": ["H1"]})
    >>> fact_table({"stay_fact": t}, "stay_fact").columns
    ('institution_id',)
    """
    if isinstance(source, FactTables):
        return source.table(name)
    if isinstance(source, Mapping):
        if name not in source:
            raise IndicatorError(f"the source holds no fact table {name!r}{suggest(name, source)}"
                                 f"; it has {sorted(source)}")
        return source[name]
    try:
        if hasattr(source, "list_tables") and hasattr(source, "has_table"):
            return source.table(name, "aggregated")
        return source.table(name)
    except Exception as exc:  # the backends raise their own kinds
        raise IndicatorError(f"cannot read fact table {name!r} from {source!r}: {exc}") from exc


class FactTables:
    """A fact source that reads each fact once: every batch and call then reuses its table.

    Opening a lakehouse table looks its schema up in the catalog (10-20 ms each); an edition's
    engine calls run about 25 batches over 6 facts. Hold one for a single computation: a table
    read here keeps the schema it had then. A fact that cannot be read fails the same way at
    every use.

    Examples
    --------
    >>> calls = []
    >>> class Source(dict):
    ...     def __getitem__(self, name):
    ...         calls.append(name)
    ...         return super().__getitem__(name)
    >>> tables = FactTables(Source(stay_fact=fact_memtable("stay_fact")))
    >>> [fact_table(tables, "stay_fact").columns == fact_table(tables, "stay_fact").columns,
    ...  calls]
    [True, ['stay_fact']]
    >>> fact_table(tables, "visit_fact")
    Traceback (most recent call last):
    hospital_sdk.errors.IndicatorError: the source holds no fact table 'visit_fact'...
    """

    def __init__(self, source: FactSource | Mapping[str, ir.Table] | Any) -> None:
        self.source = source
        self._read: dict[str, ir.Table | IndicatorError] = {}

    def table(self, name: str) -> ir.Table:
        """Fact ``name`` (:func:`fact_table` of the source), read at its first use."""
        if name not in self._read:
            try:
                self._read[name] = fact_table(self.source, name)
            except IndicatorError as exc:
                self._read[name] = exc
        found = self._read[name]
        if isinstance(found, IndicatorError):
            raise found
        return found

    def __repr__(self) -> str:
        return f"FactTables({self.source!r})"


def fact_memtable(name: str, rows: Sequence[Mapping[str, Any]] = ()) -> ir.Table:
    """A small in-memory fact table (tests, examples): unspecified columns are null.

    Raises
    ------
    IndicatorError
        Unknown fact, or a row names a column the fact does not have.

    Examples
    --------
    >>> t = fact_memtable("stay_fact", [{"institution_id": "H1", "stay_id": "S1",
    ...                                  "has_surgery": True, "los_days": 3}])
    >>> t.count().execute(), t.los_days.type()
    (1, Int32(nullable=True))
    """
    if name not in FACTS:
        raise IndicatorError(f"unknown fact {name!r}{suggest(name, FACTS)}")
    schema = FACTS[name].schema()
    for i, row in enumerate(rows):
        unknown = [c for c in row if c not in schema]
        if unknown:
            raise IndicatorError(f"{name} row {i}: unknown column(s) {unknown}"
                                 f"{suggest(unknown[0], schema.names)}")
    data = {c: [_cell(row.get(c), schema[c]) for row in rows] for c in schema.names}
    return ibis.memtable(pa.table({c: pa.array(v, type=schema[c].to_pyarrow())
                                   for c, v in data.items()}))


def _cell(value: Any, dtype: Any) -> Any:
    if value is None:
        return None
    if dtype.is_decimal():
        return Decimal(str(value))
    if dtype.is_timestamp() and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
