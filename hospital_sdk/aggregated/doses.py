"""Dose units and defined daily doses (DDDs), for antibacterial use density (国考 #17).

DDDs of one order line = dose dispensed ÷ the drug's WHO defined daily dose, both expressed in
the same unit. The contract's ``ddd_unit`` code set holds two dimensions:

* mass: ``g`` and ``mg`` (1 mg = 0.001 g);
* activity units: ``U``, ``TU`` (thousand units) and ``MU`` (million units).

A dose in ``mg`` against a DDD in ``g`` is converted; a dose in mass against a DDD in units (or a
unit outside the code set, or a missing or non-positive DDD) cannot be, and gives null — such a
line counts as antibacterial use but adds no DDDs.

Which unit is the dose in? The contract defines ``medication_order.dispensed_dose`` as the total
active ingredient dispensed *in the drug's strength unit* (``drug_catalog.strength_unit``); the
order's own ``dose_unit`` (unit of ``dose_per_admin``) is used only when the catalog gives no
strength unit.

Examples
--------
>>> import ibis
>>> t = ibis.memtable({"dose": [3000.0, 6.0, 4.0, 1.0], "unit": ["mg", "g", "MU", "g"],
...                    "ddd": [3.0, 3.0, 2.0, 1.0], "ddd_unit": ["g", "g", "MU", "U"]})
>>> t.mutate(n=ddd_count(t.dose, t.unit, t.ddd, t.ddd_unit)).n.to_pyarrow().to_pylist()
[1.0, 2.0, 2.0, None]
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

__all__ = ["UNIT_BASE", "UNIT_DIMENSION", "ddd_count"]

UNIT_DIMENSION: Mapping[str, str] = {"g": "mass", "mg": "mass",
                                     "U": "activity", "TU": "activity", "MU": "activity"}
"""Dimension of each code of the contract's ``ddd_unit`` code set."""

UNIT_BASE: Mapping[str, float] = {"g": 1.0, "mg": 1e-3, "U": 1.0, "TU": 1e3, "MU": 1e6}
"""Size of each unit in its dimension's base unit (gram, unit)."""


def _lookup(unit: ir.StringValue, table: Mapping[str, float | str], dtype: str) -> ir.Value:
    return unit.cases(*table.items(), else_=ibis.null(dtype))


def ddd_count(dose: ir.NumericValue, dose_unit: ir.StringValue, ddd_value: ir.NumericValue,
              ddd_unit: ir.StringValue) -> ir.FloatingValue:
    """Number of DDDs in ``dose`` (in ``dose_unit``) of a drug whose DDD is ``ddd_value ddd_unit``.

    Parameters
    ----------
    dose
        Dose dispensed (negative for returns, which then subtract).
    dose_unit
        Its unit, a code of ``ddd_unit``.
    ddd_value, ddd_unit
        The drug's WHO DDD and its unit.

    Returns
    -------
    FloatingValue
        ``dose × base(dose_unit) ÷ (ddd_value × base(ddd_unit))``; null when the units are of
        different dimensions or unknown, or the DDD is missing or not positive.

    Examples
    --------
    >>> import ibis
    >>> ddd_count(ibis.literal(500.0), ibis.literal("mg"), ibis.literal(2.0),
    ...           ibis.literal("g")).execute()
    0.25
    """
    same = (_lookup(dose_unit, UNIT_DIMENSION, "string")
            == _lookup(ddd_unit, UNIT_DIMENSION, "string"))
    dose_g = dose.cast("float64") * _lookup(dose_unit, UNIT_BASE, "float64")
    ddd_g = ddd_value.cast("float64") * _lookup(ddd_unit, UNIT_BASE, "float64")
    ok = same.fill_null(False) & (ddd_value > 0).fill_null(False)
    return ok.ifelse(dose_g / ddd_g, ibis.null("float64"))
