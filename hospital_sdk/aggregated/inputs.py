"""The cleaned tables an aggregated builder reads, and the columns it needs from each.

Every builder declares ``{table: (columns...)}`` once; :func:`require` checks a mapping of Ibis
tables against it before any expression is built, so a missing table or column fails with a
message naming both instead of an Ibis attribute error deep inside a join. The same declarations
give the registry's ``reads`` (which cleaned tables an aggregated table depends on).

Besides the contract's stored columns, the cleaned layer adds ``empi_id`` (tables with
``patient_local_id``), ``discharge_time`` (``stay_diagnosis``, ``stay_procedure``,
``stay_movement``) and ``<col>_local`` next to code columns mapped to standard codes
(:func:`cleaned_schema`); :func:`cleaned_memtable` builds a small table of that shape, for examples
and tests.

Examples
--------
>>> import ibis
>>> tables = {"inpatient_stay": ibis.memtable({"institution_id": ["H1"], "stay_id": ["S1"]})}
>>> require(tables, {"inpatient_stay": ("institution_id", "stay_id")}, "stay_fact")
>>> require(tables, {"inpatient_stay": ("institution_id", "stay_idd", "los_days")}, "stay_fact")
Traceback (most recent call last):
...
hospital_sdk.errors.ContractError: stay_fact: table 'inpatient_stay' lacks column(s) 'stay_idd' (did you mean 'stay_id'?), 'los_days'
>>> require(tables, {"stay_diagnosis": ("stay_id",)}, "stay_fact")
Traceback (most recent call last):
...
hospital_sdk.errors.ContractError: stay_fact: needs table 'stay_diagnosis' (columns stay_id); the inputs hold ['inpatient_stay']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from hospital_sdk.errors import ContractError
from hospital_sdk.model import CONTRACT, suggest

__all__ = ["MAPPED_CODE_COLUMNS", "Needs", "STAY_CHILD_TABLES", "cleaned_memtable",
           "cleaned_schema", "require", "require_columns"]

MAPPED_CODE_COLUMNS: Mapping[str, str] = {
    "medication_order": "drug_code", "charge_line": "item_code", "lab_order": "test_code",
    "exam": "exam_item_code", "drug_procurement": "drug_code"}
"""Code columns holding the *standard* code in the cleaned layer (the local one in
``<col>_local``)."""

STAY_CHILD_TABLES: tuple[str, ...] = ("stay_diagnosis", "stay_procedure", "stay_movement")
"""Tables that carry their stay's ``discharge_time`` in the cleaned layer (their partition)."""

Needs = Mapping[str, tuple[str, ...]]
"""Table name -> the columns a builder reads from it."""


def require_columns(table: ir.Table, name: str, columns: tuple[str, ...], builder: str) -> None:
    """Raise :class:`ContractError` naming ``builder``, table ``name`` and each missing column."""
    present = set(table.columns)
    missing = [c for c in columns if c not in present]
    if missing:
        listed = ", ".join(f"{c!r}{suggest(c, table.columns)}" for c in missing)
        raise ContractError(f"{builder}: table {name!r} lacks column(s) {listed}")


def require(tables: Mapping[str, ir.Table], needs: Needs, builder: str) -> None:
    """Check that ``tables`` holds every table of ``needs`` with every listed column.

    Parameters
    ----------
    tables
        Table name -> Ibis table (the cleaned tables, possibly with more than needed).
    needs
        Table name -> columns the builder reads.
    builder
        Name of the aggregated table being built, for the message.

    Raises
    ------
    ContractError
        A table is absent, or lacks columns (the message names the table and the columns).
    """
    for name, columns in needs.items():
        if name not in tables:
            raise ContractError(f"{builder}: needs table {name!r} (columns {', '.join(columns)})"
                                f"; the inputs hold {sorted(tables)}{suggest(name, tables)}")
        require_columns(tables[name], name, columns, builder)


def cleaned_schema(name: str) -> ibis.Schema:
    """Schema of contract table ``name`` as the cleaned layer delivers it to these builders.

    The stored schema (:meth:`hospital_sdk.model.Table.stored_schema`) plus ``empi_id`` where the
    table has ``patient_local_id``, ``discharge_time`` for the stay's child tables and
    ``<col>_local`` for the code columns of :data:`MAPPED_CODE_COLUMNS`. Lineage columns
    (``_load_id``, ``_source_file``, ``_source_row``) are not read by the builders and not listed.

    >>> s = cleaned_schema("stay_procedure")
    >>> s["discharge_time"], "empi_id" in s
    (Timestamp(timezone=None, scale=None, nullable=True), False)
    >>> [c for c in cleaned_schema("medication_order") if c.endswith(("_local", "empi_id"))]
    ['empi_id', 'drug_code_local']
    """
    stored = CONTRACT.table(name).stored_schema()
    extra: dict[str, dt.DataType] = {}
    if "patient_local_id" in stored:
        extra["empi_id"] = dt.String(nullable=True)
    if name in STAY_CHILD_TABLES:
        extra["discharge_time"] = dt.Timestamp(nullable=True)
    if name in MAPPED_CODE_COLUMNS:
        extra[f"{MAPPED_CODE_COLUMNS[name]}_local"] = dt.String(nullable=True)
    return ibis.schema({**dict(stored.items()), **extra})


def cleaned_memtable(name: str, rows: Sequence[Mapping[str, Any]] = (),
                     **columns: Sequence[Any]) -> ir.Table:
    """A small in-memory table of the cleaned shape of ``name``; unspecified columns are null.

    Give either ``rows`` (a list of dicts) or ``columns`` (lists of equal length). Floats given
    for decimal columns are converted exactly through their text (``12.5`` -> ``Decimal('12.5')``).
    Every column is nullable here, so a test can fill only what it reads.

    Raises
    ------
    ContractError
        A column is not in :func:`cleaned_schema`, or the column lists differ in length.

    Examples
    --------
    >>> t = cleaned_memtable("charge_line", [{"institution_id": "H1", "amount": 12.5}])
    >>> t.amount.type(), t.amount.to_pyarrow().to_pylist()
    (Decimal(precision=18, scale=2, nullable=True), [Decimal('12.50')])
    """
    schema = cleaned_schema(name)
    if rows and columns:
        raise ContractError(f"cleaned_memtable({name!r}): give rows or columns, not both")
    if rows:
        columns = {c: [r.get(c) for r in rows] for c in {k for r in rows for k in r}}
    unknown = [c for c in columns if c not in schema]
    if unknown:
        listed = ", ".join(f"{c!r}{suggest(c, schema.names)}" for c in unknown)
        raise ContractError(f"cleaned table {name!r} has no column(s) {listed}")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ContractError(f"cleaned_memtable({name!r}): columns differ in length {lengths}")
    n = lengths.pop() if lengths else 0
    arrays = {}
    for col, dtype in schema.items():
        values = list(columns.get(col, [None] * n))
        if dtype.is_decimal():
            values = [Decimal(str(v)) if isinstance(v, float) else v for v in values]
        arrays[col] = pa.array(values, type=dtype.to_pyarrow())
    return ibis.memtable(pa.table(arrays))
