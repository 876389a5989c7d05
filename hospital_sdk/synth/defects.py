"""Injected defects: documented damage to generated tables, for the quality checks to find.

Each kind damages named fields of named tables, and each damaged row is logged, so a test can
assert exactly how many rows each component should reject or flag.

``missing_principal_diagnosis``
    ``stay_diagnosis.diagnosis_code`` set to null on principal rows (``diagnosis_kind =
    'discharge'`` and ``seq = 1``). Caught by the loader: required field missing.
``invalid_code``
    ``inpatient_stay.discharge_disposition = '7'`` (not in the code set);
    ``stay_diagnosis.diagnosis_code`` malformed (``I21.000`` -> ``I2l.O00``, fails the ICD-10
    pattern); ``outpatient_visit.visit_type = 'clinic'``. Caught by the loader: code set or
    pattern, naming the field.
``discharge_before_admission``
    ``inpatient_stay.discharge_time`` moved 1-72 whole hours before ``admission_time``. Caught by
    the loader: row rule ``discharge_after_admission``.
``duplicate_row``
    Exact copies of undamaged rows appended to ``outpatient_visit``, ``charge_line`` and
    ``inpatient_stay`` (same primary key). Caught by the loader: duplicate primary key; the
    appended copy is the one to reject, the original loads.
``unknown_code`` (off by default)
    ``stay_diagnosis.diagnosis_code`` set to a well-formed code absent from the diagnosis catalog
    (``Z99.999``). Not rejected on load; caught by the cleaned layer's catalog check.

Rules that make the log an exact oracle:

* per kind and target table, ``max(1, round(rate * rows))`` rows are damaged (none when the table
  is missing or empty, or ``rate`` is 0), capped by the rows eligible;
* a row carries at most one defect; duplicates copy rows no other kind damaged, each source at most
  once, and are appended after the original rows, so earlier row indexes stay valid;
* one log row per damaged row: ``table_name, kind, row_index`` (0-based, in the returned table),
  ``key`` (JSON of the primary-key values), ``field`` (null for duplicates), ``detail``.

Expected load rejects per table are therefore the log rows of every kind but ``unknown_code``
(:func:`expected_rejects`). The encoding is never a defect: the orchestrator writes the tables named
by :attr:`DefectSpec.gbk_tables` as GBK CSV, and those files must load with no rejects beyond the
logged ones.

Examples
--------
>>> import numpy as np, pyarrow as pa
>>> visits = pa.table({"institution_id": ["HQ"] * 4, "visit_id": ["V1", "V2", "V3", "V4"],
...                    "visit_type": ["outpatient"] * 4})
>>> spec = DefectSpec(rate=0.25, kinds=("invalid_code", "duplicate_row"))
>>> damaged, log = inject_defects({"outpatient_visit": visits}, spec, np.random.default_rng(7))
>>> damaged["outpatient_visit"].num_rows
5
>>> log.select(["kind", "field"]).to_pylist()
[{'kind': 'invalid_code', 'field': 'visit_type'}, {'kind': 'duplicate_row', 'field': None}]
>>> expected_rejects(log)
{'outpatient_visit': 2}
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hospital_sdk.errors import GeneratorError
from hospital_sdk.model import CONTRACT

KINDS: tuple[str, ...] = ("missing_principal_diagnosis", "invalid_code",
                          "discharge_before_admission", "unknown_code", "duplicate_row")
"""Every supported kind, in the order applied (duplicates last, so that they copy clean rows)."""
DEFAULT_KINDS: tuple[str, ...] = ("missing_principal_diagnosis", "invalid_code",
                                  "discharge_before_admission", "duplicate_row")
REJECTED_ON_LOAD: frozenset[str] = frozenset(DEFAULT_KINDS)
"""Kinds whose damaged rows the loader must reject; ``unknown_code`` loads and is flagged later."""

TARGETS: Mapping[str, tuple[tuple[str, str | None], ...]] = {
    "missing_principal_diagnosis": (("stay_diagnosis", "diagnosis_code"),),
    "invalid_code": (("inpatient_stay", "discharge_disposition"),
                     ("stay_diagnosis", "diagnosis_code"), ("outpatient_visit", "visit_type")),
    "discharge_before_admission": (("inpatient_stay", "discharge_time"),),
    "unknown_code": (("stay_diagnosis", "diagnosis_code"),),
    "duplicate_row": (("outpatient_visit", None), ("charge_line", None), ("inpatient_stay", None)),
}
"""``(table, field)`` each kind damages; ``field`` is ``None`` when whole rows are copied."""

UNKNOWN_DIAGNOSIS_CODES: tuple[str, ...] = ("Z99.999", "Z99.998", "Z98.999", "U99.999")
"""Well-formed ICD-10 codes used by ``unknown_code``; the first absent from the catalog wins."""

LOG_SCHEMA = pa.schema([
    pa.field("table_name", pa.string(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("row_index", pa.int64(), nullable=False), pa.field("key", pa.string(), nullable=False),
    pa.field("field", pa.string()), pa.field("detail", pa.string(), nullable=False),
])


@dataclass(frozen=True)
class DefectSpec:
    """Which defects to inject, and how many.

    Parameters
    ----------
    rate
        Fraction of the rows of each target table damaged per kind (at least one row when the
        rate is positive and the table non-empty).
    kinds
        Kinds to inject, from :data:`KINDS`; ``()`` injects nothing.
    gbk_tables
        Tables the orchestrator writes as GBK-encoded CSV (they must load intact).

    >>> DefectSpec(kinds=("typo",))
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.GeneratorError: unknown defect kind 'typo'; expected one of ...
    """

    rate: float = 0.002
    kinds: tuple[str, ...] = DEFAULT_KINDS
    gbk_tables: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise GeneratorError(f"defect rate must be within [0, 1], got {self.rate}")
        for kind in self.kinds:
            if kind not in KINDS:
                raise GeneratorError(f"unknown defect kind {kind!r}; expected one of "
                                     + ", ".join(KINDS))
        if len(set(self.kinds)) != len(self.kinds):
            raise GeneratorError(f"defect kinds repeat: {self.kinds}")
        for name in self.gbk_tables:
            CONTRACT.table(name)  # raises ContractError with a suggestion


def inject_defects(tables: dict[str, pa.Table], spec: DefectSpec,
                   rng: np.random.Generator) -> tuple[dict[str, pa.Table], pa.Table]:
    """Damage ``tables`` as ``spec`` says; return the damaged tables and the defect log.

    Tables no kind targets are returned unchanged (the same objects). A column that receives nulls
    becomes nullable in the returned schema. The result depends only on the inputs and the state
    of ``rng``.
    """
    out = dict(tables)
    used = {name: np.zeros(t.num_rows, dtype=bool) for name, t in tables.items()}
    catalog = tables.get("diagnosis_catalog")
    logs: list[pa.Table] = []
    for kind in (k for k in KINDS if k in spec.kinds):
        for name, field in TARGETS[kind]:
            table = out.get(name)
            if table is None or table.num_rows == 0 or spec.rate == 0:
                continue
            base = tables[name].num_rows
            eligible = ~used[name] & _eligible(kind, table, base)
            want = max(1, round(spec.rate * base))
            candidates = np.flatnonzero(eligible)
            rows = np.sort(rng.choice(candidates, min(want, candidates.size), replace=False))
            if rows.size == 0:
                continue
            used[name][rows] = True
            if field is None:
                out[name] = pa.concat_tables([table, table.take(rows)])
                logs.append(_log(name, kind, table, rows, np.arange(rows.size) + table.num_rows,
                                 None, [f"copy of row {r}" for r in rows.tolist()]))
                continue
            old = table.column(field).take(rows)
            new = _DAMAGE[kind, name](table, field, rows, rng, catalog)
            out[name] = _replace(table, field, rows, new)
            details = [f"{field}: {_show(a)} -> {_show(b)}" for a, b in zip(
                old.to_pylist(), new.to_pylist(), strict=True)]
            logs.append(_log(name, kind, table, rows, rows, field, details))
    log = pa.concat_tables(logs) if logs else LOG_SCHEMA.empty_table()
    return out, log.sort_by([("table_name", "ascending"), ("row_index", "ascending")])


def expected_rejects(log: pa.Table) -> dict[str, int]:
    """Rows the loader must reject per table: log rows of the kinds in :data:`REJECTED_ON_LOAD`."""
    kinds = log.column("kind").to_pylist()
    names = [n for n, k in zip(log.column("table_name").to_pylist(), kinds, strict=True)
             if k in REJECTED_ON_LOAD]
    return {n: names.count(n) for n in sorted(set(names))}


def _show(value: object) -> str:
    """A value in a log detail: ISO text for times, ``repr`` otherwise (``'7'``, ``None``)."""
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else repr(value)


def _eligible(kind: str, table: pa.Table, base: int) -> np.ndarray:
    """Rows of ``table`` (original rows only) the kind may damage."""
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[:base] = True
    if kind == "missing_principal_diagnosis":
        principal = pc.and_(pc.equal(table.column("diagnosis_kind"), "discharge"),
                            pc.equal(table.column("seq"), 1))
        mask &= _numpy_mask(principal)
    elif kind == "discharge_before_admission":
        mask &= _numpy_mask(pc.is_valid(table.column("admission_time")))
    return mask


def _numpy_mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _replace(table: pa.Table, field: str, rows: np.ndarray, new: pa.Array) -> pa.Table:
    """``table`` with ``field`` replaced by ``new`` at ``rows`` (ascending)."""
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    position = table.schema.get_field_index(field)
    column = pc.replace_with_mask(table.column(field), pa.array(mask), new)
    schema_field = table.schema.field(position)
    if new.null_count:
        schema_field = schema_field.with_nullable(True)
    return table.set_column(position, schema_field, column)


def _log(name: str, kind: str, table: pa.Table, source_rows: np.ndarray, at_rows: np.ndarray,
         field: str | None, details: list[str]) -> pa.Table:
    key_columns = [c for c in CONTRACT.table(name).primary_key if c in table.column_names] \
        if name in CONTRACT.table_names else []
    keys = table.select(key_columns).take(source_rows).to_pylist()
    return pa.table({
        "table_name": pa.array([name] * len(keys), pa.string()),
        "kind": pa.array([kind] * len(keys), pa.string()),
        "row_index": pa.array(at_rows, pa.int64()),
        "key": pa.array([json.dumps(k, ensure_ascii=False, default=str) for k in keys]),
        "field": pa.array([field] * len(keys), pa.string()),
        "detail": pa.array(details, pa.string()),
    }, schema=LOG_SCHEMA)


Damage = Callable[[pa.Table, str, np.ndarray, np.random.Generator, "pa.Table | None"], pa.Array]
"""``(table, field, rows, rng, diagnosis_catalog) -> new values of field at rows``."""


def _constant(value: str) -> Damage:
    return lambda table, field, rows, rng, catalog: pa.array([value] * rows.size,
                                                             table.schema.field(field).type)


def _null(table: pa.Table, field: str, rows: np.ndarray, rng: np.random.Generator,
          catalog: pa.Table | None) -> pa.Array:
    return pa.nulls(rows.size, table.schema.field(field).type)


def _malformed_icd10(table: pa.Table, field: str, rows: np.ndarray, rng: np.random.Generator,
                     catalog: pa.Table | None) -> pa.Array:
    """``I21.000`` -> ``I2l.O00``: the second digit becomes the letter l; no pattern allows it."""
    old = table.column(field).take(rows)
    head = pc.utf8_slice_codeunits(old, 0, 2)
    tail = pc.replace_substring(pc.utf8_slice_codeunits(old, 3), "0", "O", max_replacements=1)
    return pc.binary_join_element_wise(head, "l", tail, "").combine_chunks().cast(old.type)


def _before_admission(table: pa.Table, field: str, rows: np.ndarray, rng: np.random.Generator,
                      catalog: pa.Table | None) -> pa.Array:
    """Admission time minus 1 to 72 whole hours."""
    admitted = table.column("admission_time").take(rows).combine_chunks()
    hours = rng.integers(1, 73, rows.size)
    unit = admitted.type.unit
    shift = pa.array(hours * 3600 * {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 10**9}[unit],
                     pa.duration(unit))
    return pc.subtract(admitted, shift).cast(table.schema.field(field).type)


def _unknown_diagnosis(table: pa.Table, field: str, rows: np.ndarray, rng: np.random.Generator,
                       catalog: pa.Table | None) -> pa.Array:
    known = set(catalog.column("code").to_pylist()) if catalog is not None else set()
    for code in UNKNOWN_DIAGNOSIS_CODES:
        if code not in known:
            return pa.array([code] * rows.size, table.schema.field(field).type)
    raise GeneratorError("every unknown_code candidate is in the diagnosis catalog: "
                         + ", ".join(UNKNOWN_DIAGNOSIS_CODES))


_DAMAGE: dict[tuple[str, str], Damage] = {
    ("missing_principal_diagnosis", "stay_diagnosis"): _null,
    ("invalid_code", "inpatient_stay"): _constant("7"),
    ("invalid_code", "stay_diagnosis"): _malformed_icd10,
    ("invalid_code", "outpatient_visit"): _constant("clinic"),
    ("discharge_before_admission", "inpatient_stay"): _before_admission,
    ("unknown_code", "stay_diagnosis"): _unknown_diagnosis,
}
