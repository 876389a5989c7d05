"""Oracle cases: every indicator version of the shipped catalog on a tiny hand-computed fixture.

Each file ``tests/indicator_cases/<id>.yaml`` (or ``<id>.<n>.yaml`` for more cases) names an
indicator version, a period, the dimensions, the fact rows (unspecified columns are null) and
the expected numerator, denominator, value and status per cell — worked out by hand and written
down with the reasoning in comments. Optional ``reported`` rows feed reported indicators.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from hospital_sdk.indicators.catalog import Catalog, load_catalog
from hospital_sdk.indicators.engine import compute
from hospital_sdk.indicators.facts import FACTS, fact_memtable

CASES = Path(__file__).parents[1] / "indicator_cases"
CASE_FILES = sorted(CASES.glob("*.yaml"))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _close(actual: Any, expected: Any) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return actual is not None and not pd.isna(actual) and math.isclose(
            float(actual), float(expected), rel_tol=1e-4, abs_tol=1e-4)
    return actual == expected


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_oracle_case(path: Path, catalog: Catalog) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    source = {name: fact_memtable(name, case.get("facts", {}).get(name, [])) for name in FACTS}
    reported = pd.DataFrame(case["reported"]) if case.get("reported") else None
    result = compute(catalog, [case["indicator"]], source, period=str(case["period"]),
                     by=case.get("by"), reported=reported)
    keys = [k for k in ("institution", "campus", "department", "doctor", "payer", "visit_type",
                        "drg", "period") if any(k in row for row in case["expected"])]
    got = {tuple(row[k] for k in keys): row for row in result.to_dict("records")}
    assert len(got) == len(case["expected"]), (
        f"{path.name}: expected {len(case['expected'])} cells, got "
        f"{result[[*keys, 'numerator', 'denominator', 'value', 'status']].to_dict('records')}")
    for want in case["expected"]:
        cell = tuple(want[k] for k in keys)
        assert cell in got, f"{path.name}: no result for {dict(zip(keys, cell))}; got {list(got)}"
        row = got[cell]
        for field in ("numerator", "denominator", "value", "status", "reason"):
            if field in want:
                assert _close(row[field], want[field]), (
                    f"{path.name} {dict(zip(keys, cell))}: {field} = {row[field]!r}, "
                    f"expected {want[field]!r}")


def test_every_indicator_version_has_an_oracle_case(catalog: Catalog) -> None:
    covered = set()
    for path in CASE_FILES:
        ref = yaml.safe_load(path.read_text(encoding="utf-8"))["indicator"]
        covered.add(catalog.get(ref).key)
    missing = sorted(i.key for versions in catalog.indicators.values() for i in versions
                     if i.key not in covered)
    assert not missing, f"indicator versions without an oracle case: {missing}"
