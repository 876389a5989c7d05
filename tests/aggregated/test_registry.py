"""AGGREGATED_TABLES: the declarations the asset graph wires, checked against the builders."""

from __future__ import annotations

import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated import AGGREGATED_TABLES, AggregatedTable
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.errors import ContractError
from hospital_sdk.model import CONTRACT
from tests.aggregated.conftest import MONTH


def test_declarations() -> None:
    assert list(AGGREGATED_TABLES) == ["drg_risk", "stay_fact", "procedure_fact", "visit_fact",
                                       "department_month", "exam_fact", "procurement_fact"]
    for name, spec in AGGREGATED_TABLES.items():
        assert spec.name == name and spec.description_en and spec.description_zh
        assert all(t in CONTRACT.table_names for t in spec.reads)
        # every aggregated table it uses comes before it (build order)
        order = list(AGGREGATED_TABLES)
        assert all(order.index(u) < order.index(name) for u in spec.uses)
    assert not AGGREGATED_TABLES["drg_risk"].partitioned
    assert AGGREGATED_TABLES["department_month"].reads == ()
    assert AGGREGATED_TABLES["department_month"].uses == ("stay_fact", "visit_fact")
    assert set(AGGREGATED_TABLES["procedure_fact"].reads) == {
        "inpatient_stay", "stay_procedure", "procedure_catalog"}
    assert set(AGGREGATED_TABLES["exam_fact"].reads) == {"exam", "department"}
    assert set(AGGREGATED_TABLES["procurement_fact"].reads) == {"drug_procurement",
                                                                "drug_catalog"}


def test_registry_is_read_only_and_grain_required() -> None:
    with pytest.raises(TypeError):
        AGGREGATED_TABLES["x"] = AGGREGATED_TABLES["drg_risk"]  # type: ignore[index]
    with pytest.raises(ContractError, match="declares no grain"):
        AggregatedTable("x", (), None, "", "", (), (), lambda inputs, month: None)  # type: ignore


def test_uniform_build_and_declared_grain(inputs: dict[str, ir.Table]) -> None:
    # the hand-made month lacks visits: give an empty cleaned visit table
    inputs["outpatient_visit"] = cleaned_memtable("outpatient_visit")
    for name in ("exam", "department", "drug_procurement"):  # nor examinations, procurement
        inputs[name] = cleaned_memtable(name)
    built: dict[str, ir.Table] = dict(inputs)
    for name, spec in AGGREGATED_TABLES.items():
        table = spec.build(built, MONTH if spec.partitioned else None)
        assert set(spec.grain) <= set(table.columns)
        if spec.period_column is not None:
            assert spec.period_column in table.columns
        n = table.count().execute()
        assert table.select(*spec.grain).distinct().count().execute() == n  # grain is a key
        built[name] = table
    assert built["stay_fact"].is_low_risk_drg.type().is_boolean()


def test_partitioned_build_needs_a_month(inputs: dict[str, ir.Table]) -> None:
    with pytest.raises(ContractError, match="partitioned by month"):
        AGGREGATED_TABLES["stay_fact"].build(inputs, None)
    with pytest.raises(ContractError, match="needs table 'visit_fact'"):
        AGGREGATED_TABLES["department_month"].build({"stay_fact": inputs["inpatient_stay"]},
                                                    MONTH)
