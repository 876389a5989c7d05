"""attach: a left join at the parent's grain that keeps every parent row once."""

from __future__ import annotations

import ibis
import pytest

from hospital_sdk.aggregated.grain import attach
from hospital_sdk.errors import ContractError


def test_attach_keeps_parent_rows_and_columns() -> None:
    parent = ibis.memtable({"k": ["a", "b"], "x": [1, 2]})
    child = ibis.memtable({"k": ["a"], "y": [True]})
    out = attach(parent, child, ["k"]).order_by("k")
    assert out.columns == ("k", "x", "y")
    assert out.to_pyarrow().to_pylist() == [{"k": "a", "x": 1, "y": True},
                                            {"k": "b", "x": 2, "y": None}]


def test_attach_refuses_a_clash_of_non_key_names() -> None:
    parent = ibis.memtable({"k": ["a"], "x": [1]})
    with pytest.raises(ContractError, match=r"non-key column\(s\) \['x'\]"):
        attach(parent, ibis.memtable({"k": ["a"], "x": [2]}), ["k"])
