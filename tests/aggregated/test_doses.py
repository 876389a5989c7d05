"""DDD counts: unit conversion within a dimension, null across dimensions or without a DDD."""

from __future__ import annotations

import ibis
import pytest

from hospital_sdk.aggregated.doses import UNIT_BASE, UNIT_DIMENSION, ddd_count
from hospital_sdk.model import CONTRACT


def test_units_cover_the_ddd_unit_code_set() -> None:
    codes = set(CONTRACT.code_set("ddd_unit").values)
    assert set(UNIT_BASE) == codes and set(UNIT_DIMENSION) == codes


@pytest.mark.parametrize(("dose", "unit", "ddd", "ddd_unit", "expected"), [
    (1500.0, "mg", 1.0, "g", 1.5),      # 1500 mg = 1.5 g over a 1 g DDD
    (0.5, "g", 250.0, "mg", 2.0),       # 0.5 g = 500 mg over 250 mg
    (2.0, "g", 2.0, "g", 1.0),          # same unit
    (3.0, "MU", 1500.0, "TU", 2.0),     # 3 MU = 3000 TU over 1500 TU
    (2000.0, "TU", 1.0, "MU", 2.0),     # 2000 TU = 2 MU
    (500.0, "U", 1.0, "TU", 0.5),       # 500 U over 1000 U
    (-750.0, "mg", 1.5, "g", -0.5),     # a return subtracts
    (1.0, "g", 1.0, "MU", None),        # mass against activity units: not convertible
    (1.0, "mL", 1.0, "g", None),        # unit outside the code set
    (1.0, "g", None, "g", None),        # no DDD
    (1.0, "g", 0.0, "g", None),         # a zero DDD is not a DDD
    (None, "g", 1.0, "g", None),        # no dose
])
def test_ddd_count(dose: float | None, unit: str, ddd: float | None, ddd_unit: str,
                   expected: float | None) -> None:
    t = ibis.memtable({"dose": [dose], "unit": [unit], "ddd": [ddd], "ddd_unit": [ddd_unit]},
                      schema={"dose": "float64", "unit": "string", "ddd": "float64",
                              "ddd_unit": "string"})
    (got,) = t.select(n=ddd_count(t.dose, t.unit, t.ddd, t.ddd_unit)).n.to_pyarrow().to_pylist()
    assert got == (None if expected is None else pytest.approx(expected))
