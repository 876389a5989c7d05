"""The indicator layer: indicators defined once as YAML data, computed as batched Ibis queries.

* **Specs** (:mod:`~.catalog`, :mod:`~.schema`, :mod:`~.spec`): atomic measures over the
  aggregated layer's facts (:mod:`~.facts`), derived and composite indicators with populations,
  governance tags, value sets with versions (:mod:`~.value_sets`), reported indicators
  (:mod:`~.reported`); expression strings parsed against an allow-list (:mod:`~.expressions`).
* **Engine** (:mod:`~.engine`): ``compute`` — one query per fact and dimension set, tidy results
  with "not computable" instead of 0 or infinity.
* **Audit**: ``cases`` (drill-down with reasons, :mod:`~.cases`), ``explain`` (the SQL, any
  dialect, :mod:`~.explain`), ``lineage`` (:mod:`~.lineage`).
* **Signals** (:mod:`~.signals`): ``signals`` — EWMA, CUSUM and XmR charts with run rules over
  indicator series, read by the indicator's direction; ``risk_adjusted_signals`` — Steiner's
  risk-adjusted CUSUM over cases (Numba kernels, or the same charts in SQL where they exist).

Examples
--------
>>> from hospital_sdk.indicators import load_catalog
>>> catalog = load_catalog()
>>> catalog["surgical_complication_rate@2"].population.counting_unit
'admission'
>>> len(catalog.select(domain="surgery")) >= 2
True
"""

from hospital_sdk.indicators.cases import cases
from hospital_sdk.indicators.catalog import Catalog, load_catalog, validate_catalog
from hospital_sdk.indicators.engine import RESULT_COLUMNS, compute
from hospital_sdk.indicators.explain import explain, formula
from hospital_sdk.indicators.facts import DIMENSIONS, FACTS, Fact, fact_memtable
from hospital_sdk.indicators.lineage import column_usage, lineage
from hospital_sdk.indicators.periods import Period, parse_period
from hospital_sdk.indicators.schema import Problem, spec_json_schemas
from hospital_sdk.indicators.selection import IndicatorSet, compare_versions, reported_values
from hospital_sdk.indicators.signals import risk_adjusted_signals, signals
from hospital_sdk.indicators.spec import Indicator, Measure, Population, Tags, Term

__all__ = [
    "DIMENSIONS",
    "FACTS",
    "RESULT_COLUMNS",
    "Catalog",
    "Fact",
    "Indicator",
    "IndicatorSet",
    "Measure",
    "Period",
    "Population",
    "Problem",
    "Tags",
    "Term",
    "cases",
    "column_usage",
    "compare_versions",
    "compute",
    "explain",
    "fact_memtable",
    "formula",
    "lineage",
    "load_catalog",
    "parse_period",
    "reported_values",
    "risk_adjusted_signals",
    "signals",
    "spec_json_schemas",
    "validate_catalog",
]
