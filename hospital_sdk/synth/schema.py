"""Arrow tables in the contract's source shape, built column by column from NumPy arrays.

Every generator module hands :func:`build_table` a mapping of column name to values; the values
are converted by the contract type of the column, so the modules work with the cheapest
representation NumPy offers and never with Python objects:

=============  ===========================================================================
contract type  values accepted
=============  ===========================================================================
timestamp      ``int64`` seconds since 1970-01-01 (local wall-clock time, no zone);
               :data:`NULL_TIME` marks a missing value. Stored as ``timestamp[us]``.
date           ``int64``/``int32`` days since 1970-01-01; :data:`NULL_TIME` marks a missing value.
decimal(p,s)   ``int64`` amounts in units of the last decimal (cents for money).
float64        floats; ``NaN`` is missing when the column is nullable.
integers       integers; a :class:`numpy.ma.MaskedArray` carries missing values.
boolean        ``bool`` arrays (a masked array for missing values).
string         a :class:`pyarrow.Array` (see :func:`text_ids`, :func:`pick`) or a NumPy array.
any            a Python scalar (broadcast) or ``None`` (all missing); a ready Arrow array.
=============  ===========================================================================

A nullable column left out of the mapping is filled with nulls; a required one is an error.

Examples
--------
>>> import numpy as np
>>> t = build_table("campus", {"campus_id": text_ids("C", np.arange(2), 2),
...                            "institution_id": "H001", "name_zh": pick(["东院", "西院"], [0, 1])})
>>> t.column("campus_id").to_pylist(), t.column("opened_on").null_count
(['C00', 'C01'], 2)
>>> t.schema.field("campus_id").nullable
False
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hospital_sdk.errors import GeneratorError
from hospital_sdk.model import CONTRACT

NULL_TIME = np.iinfo(np.int64).min
"""Sentinel for a missing timestamp or date in an ``int64`` array."""

DAY = 86_400
"""Seconds in a day."""

_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_SIMPLE: dict[str, pa.DataType] = {
    "string": pa.string(), "boolean": pa.bool_(), "int8": pa.int8(), "int16": pa.int16(),
    "int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(), "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


def arrow_type(dtype: str) -> pa.DataType:
    """Arrow type of a contract type string.

    >>> arrow_type("decimal(18,2)"), arrow_type("timestamp")
    (Decimal128Type(decimal128(18, 2)), TimestampType(timestamp[us]))
    """
    if dtype in _SIMPLE:
        return _SIMPLE[dtype]
    m = _DECIMAL.match(dtype)
    if not m:
        raise GeneratorError(f"no Arrow type for contract type {dtype!r}")
    return pa.decimal128(int(m.group(1)), int(m.group(2)))


@cache
def arrow_schema(table_name: str) -> pa.Schema:
    """Arrow schema of a contract table's source file (column order and nullability kept).

    >>> arrow_schema("code_map").field("standard_code")
    pyarrow.Field<standard_code: string not null>
    """
    table = CONTRACT.table(table_name)
    return pa.schema([pa.field(c.name, arrow_type(c.dtype), nullable=c.nullable)
                      for c in table.columns])


def text_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Identifiers ``prefix`` + zero-padded ``numbers``, built in Arrow (no Python loop).

    >>> text_ids("V2401", np.array([7, 12]), 4).to_pylist()
    ['V24010007', 'V24010012']
    """
    values = np.asarray(numbers, dtype=np.int64)
    head = prefix.encode("utf-8")
    if len(values) and (values.min() < 0 or values.max() >= 10 ** width):
        digits = pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width, "0")
        return pc.binary_join_element_wise(prefix, digits, "") if prefix else digits
    # fixed width: write the bytes directly and hand them to Arrow without copying
    size = len(head) + width
    chars = np.empty((len(values), size), dtype=np.uint8)
    chars[:, :len(head)] = np.frombuffer(head, dtype=np.uint8)
    rest = values.copy()
    for k in range(size - 1, len(head) - 1, -1):
        chars[:, k] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(0, (len(values) + 1) * size, size, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(values),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(chars)])


def joined(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals.

    >>> joined(pa.array(["a", "b"]), "-", pa.array(["1", "2"])).to_pylist()
    ['a-1', 'b-2']
    """
    return pc.binary_join_element_wise(*parts, "")


def pick(values: Sequence[Any] | pa.Array | np.ndarray, index: np.ndarray | Sequence[int],
         mask: np.ndarray | None = None) -> pa.Array:
    """``values[index]`` as an Arrow array; ``mask`` (True = missing) gives nulls.

    >>> pick(["甲", "乙"], np.array([1, 0, 1]), mask=np.array([False, True, False])).to_pylist()
    ['乙', None, '乙']
    """
    source = values if isinstance(values, pa.Array) else pa.array(
        values if not isinstance(values, np.ndarray) or values.dtype != object else list(values))
    idx = pa.array(np.asarray(index, dtype=np.int64), mask=mask)
    return source.take(idx)


def cents_to_decimal(cents: np.ndarray, dtype: pa.Decimal128Type,
                     mask: np.ndarray | None = None) -> pa.Array:
    """A ``decimal128`` array from integer amounts in units of its last decimal, zero-copy.

    >>> cents_to_decimal(np.array([1250, -300]), pa.decimal128(18, 2)).to_pylist()
    [Decimal('12.50'), Decimal('-3.00')]
    """
    values = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(values), 2), dtype="<i8")
    words[:, 0] = values
    words[:, 1] = values >> 63
    validity = None if mask is None or not mask.any() else pa.array(~mask).buffers()[1]
    return pa.Array.from_buffers(dtype, len(values), [validity, pa.py_buffer(words.tobytes())],
                                 null_count=-1 if validity is not None else 0)


def _convert(values: Any, kind: pa.DataType, n: int, where: str) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == kind else values.cast(kind)
    if values is None:
        return pa.nulls(n, kind)
    if np.isscalar(values):
        return pa.array([values], kind).take(pa.array(np.zeros(n, dtype=np.int64)))
    mask = None
    if isinstance(values, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(values)
        values = values.filled(0)
    values = np.asarray(values)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        values = values.astype(np.int64, copy=False)
        missing = values == NULL_TIME
        mask = missing if mask is None else (mask | missing)
        if pa.types.is_timestamp(kind):
            out = pa.array(np.where(missing, 0, values) * 1_000_000, pa.int64(), mask=mask)
        else:
            out = pa.array(np.where(missing, 0, values).astype(np.int32), pa.int32(), mask=mask)
        return out.view(kind)
    if pa.types.is_decimal(kind):
        return cents_to_decimal(values, kind, mask)
    if pa.types.is_floating(kind):
        values = values.astype(np.float64, copy=False)
        nan = np.isnan(values)
        if nan.any():
            mask = nan if mask is None else (mask | nan)
    try:
        return pa.array(values, kind, mask=mask if mask is not None and mask.any() else None)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise GeneratorError(f"{where}: cannot convert values to {kind}: {exc}") from None


def build_table(table_name: str, columns: Mapping[str, Any], n: int | None = None) -> pa.Table:
    """The contract table ``table_name`` from ``columns`` (see the module docstring for types).

    Parameters
    ----------
    table_name
        Contract table name.
    columns
        Column name to values. Unknown names are an error; nullable columns left out are null.
    n
        Number of rows; inferred from the first array-like value when omitted.

    Raises
    ------
    GeneratorError
        For an unknown or missing required column, arrays of different lengths, or a value that
        does not convert.
    """
    schema = arrow_schema(table_name)
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise GeneratorError(f"{table_name}: columns {sorted(unknown)} are not in the contract")
    if n is None:
        n = next((len(v) for v in columns.values()
                  if v is not None and not np.isscalar(v)), None)
        if n is None:
            raise GeneratorError(f"{table_name}: cannot infer the number of rows")
    arrays = []
    for field in schema:
        where = f"{table_name}.{field.name}"
        if field.name not in columns:
            if not field.nullable:
                raise GeneratorError(f"{where} is required but was not generated")
            arrays.append(pa.nulls(n, field.type))
            continue
        array = _convert(columns[field.name], field.type, n, where)
        if len(array) != n:
            raise GeneratorError(f"{where}: {len(array)} values for {n} rows")
        if not field.nullable and array.null_count:
            raise GeneratorError(f"{where} is required but {array.null_count} values are missing")
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)


def empty_table(table_name: str) -> pa.Table:
    """A table with the contract schema and no rows."""
    return arrow_schema(table_name).empty_table()
