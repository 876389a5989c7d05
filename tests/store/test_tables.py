"""Ibis schemas to DuckDB columns, and the comparison with an existing table."""

from __future__ import annotations

import ibis
import pytest

from hospital_sdk.errors import StoreError
from hospital_sdk.store.tables import check_columns, column_definitions, expected_columns, ident


def test_contract_types_map_to_duckdb_spellings() -> None:
    schema = ibis.schema({"s": "!string", "b": "boolean", "i8": "int8", "i16": "int16",
                          "i32": "int32", "i64": "int64", "f": "float64", "d": "date",
                          "ts": "timestamp", "tz": "timestamp('UTC')", "dec": "decimal(18,2)"})
    assert expected_columns(schema) == {
        "s": ("VARCHAR", False), "b": ("BOOLEAN", True), "i8": ("TINYINT", True),
        "i16": ("SMALLINT", True), "i32": ("INTEGER", True), "i64": ("BIGINT", True),
        "f": ("DOUBLE", True), "d": ("DATE", True), "ts": ("TIMESTAMP", True),
        "tz": ("TIMESTAMP WITH TIME ZONE", True), "dec": ("DECIMAL(18,2)", True)}


def test_column_definitions_quote_names() -> None:
    assert column_definitions({'odd "name"': ("BIGINT", False)}) == '"odd ""name""" BIGINT NOT NULL'
    assert ident("raw") == '"raw"'


def test_check_columns() -> None:
    expected = {"a": ("BIGINT", False), "b": ("VARCHAR", True)}
    assert check_columns(None, expected, "t") is False
    assert check_columns({"b": ("VARCHAR", True), "a": ("BIGINT", False)}, expected, "t")
    with pytest.raises(StoreError, match=r"^t exists with different columns: b is DATE, "
                                         r"expected VARCHAR$"):
        check_columns({"a": ("BIGINT", False), "b": ("DATE", True)}, expected, "t")
