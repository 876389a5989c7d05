"""A fluent, immutable selection of indicators: filter, compute, drill down, explain, compare.

:class:`IndicatorSet` is what :meth:`Catalog.select` returns. Every method returns a new object
or a result; options are keyword-only, as in Ibis.

Examples
--------
>>> from hospital_sdk.indicators import load_catalog
>>> from hospital_sdk.indicators.facts import fact_memtable
>>> stays = fact_memtable("stay_fact", [
...     {"institution_id": "H1", "stay_id": "S1", "discharge_time": "2024-03-05",
...      "has_surgery": True},
...     {"institution_id": "H1", "stay_id": "S2", "discharge_time": "2024-03-09"}])
>>> chosen = load_catalog().select("surgery_share")
>>> chosen.compute({"stay_fact": stays}, period="2024-03", by=["institution"])[
...     ["indicator_id", "period", "institution", "numerator", "denominator", "value"]]
    indicator_id   period institution  numerator  denominator  value
0  surgery_share  2024-03          H1        1.0          2.0   50.0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from hospital_sdk.errors import IndicatorError
from hospital_sdk.indicators import engine as _engine
from hospital_sdk.indicators.cases import cases as _cases
from hospital_sdk.indicators.explain import explain as _explain
from hospital_sdk.indicators.periods import Period
from hospital_sdk.indicators.reported import REPORTED_TABLE
from hospital_sdk.indicators.spec import Indicator
from hospital_sdk.indicators.submissions import latest_values

if TYPE_CHECKING:
    from hospital_sdk.indicators.catalog import Catalog

__all__ = ["IndicatorSet", "compare_versions", "reported_values"]


def reported_values(source: Any) -> pd.DataFrame | None:
    """The latest reported values held by ``source`` (a lakehouse with ``raw.reported_value``),
    or ``None`` when it holds none (e.g. a mapping of fact tables)."""
    if hasattr(source, "has_table") and source.has_table(REPORTED_TABLE, "raw"):
        return latest_values(source.table(REPORTED_TABLE, "raw")).execute()
    if isinstance(source, Mapping) and REPORTED_TABLE in source:
        return latest_values(source[REPORTED_TABLE]).execute()
    return None


@dataclass(frozen=True)
class IndicatorSet:
    """Indicator versions chosen from a catalog, in order.

    Parameters
    ----------
    catalog
        The catalog they come from (their refs resolve in it).
    indicators
        The chosen versions.
    """

    catalog: Catalog
    indicators: tuple[Indicator, ...]

    def __iter__(self) -> Iterator[Indicator]:
        return iter(self.indicators)

    def __len__(self) -> int:
        return len(self.indicators)

    def __repr__(self) -> str:
        shown = ", ".join(i.key for i in self.indicators[:6])
        more = f", … ({len(self)} in all)" if len(self) > 6 else ""
        return f"IndicatorSet([{shown}{more}])"

    @property
    def keys(self) -> list[str]:
        """``id@version`` of each indicator."""
        return [i.key for i in self.indicators]

    def filter(self, *, domain: str | Sequence[str] | None = None,
               kind: str | Sequence[str] | None = None,
               national_monitoring: bool | None = None) -> IndicatorSet:
        """The indicators whose tags match every option given."""
        def keep(value: str, wanted: str | Sequence[str] | None) -> bool:
            return wanted is None or value in ([wanted] if isinstance(wanted, str) else wanted)
        return replace(self, indicators=tuple(
            i for i in self.indicators if keep(i.tags.domain, domain) and keep(i.kind, kind)
            and (national_monitoring is None
                 or i.tags.national_monitoring == national_monitoring)))

    def compute(self, source: Any, *, period: str | int | Period,
                by: str | Sequence[str] | None = None,
                reported: pd.DataFrame | None = None) -> pd.DataFrame:
        """Compute every indicator in one batch (see :func:`~.engine.compute`); reported values
        are read from ``source`` unless given."""
        if reported is None and any(i.kind == "reported" for i in self.indicators):
            reported = reported_values(source)
        return _engine.compute(self.catalog, self.indicators, source, period=period, by=by,
                               reported=reported)

    def cases(self, source: Any, *, period: str | int | Period,
              where: Mapping[str, Any] | None = None, include_out: bool = True,
              limit: int | None = None) -> pd.DataFrame:
        """The records behind the one indicator of the set (see :func:`~.cases.cases`)."""
        if len(self) != 1:
            raise IndicatorError(f"cases() drills into one indicator; the set holds {len(self)}"
                                 f" ({', '.join(self.keys[:5])}…): select one")
        return _cases(self.catalog, self.indicators[0], source, period=period,
                            where=where, include_out=include_out, limit=limit)

    def explain(self, *, period: str | int | Period = "2024",
                by: str | Sequence[str] | None = ("institution",),
                dialect: str = "duckdb") -> str:
        """The SQL of every indicator (see :func:`~.explain.explain`)."""
        return "\n".join(_explain(self.catalog, i, period=period, by=by,
                                          dialect=dialect) for i in self.indicators)


def compare_versions(catalog: Catalog, indicator_id: str, source: Any, *,
                     period: str | int | Period, by: str | Sequence[str] | None = None,
                     versions: Sequence[str] | None = None) -> pd.DataFrame:
    """Compute two (or more) versions of one indicator side by side and their difference.

    Returns one row per cell with ``value@<v>``, ``numerator@<v>``, ``denominator@<v>`` for each
    version and ``difference`` (last minus first version's value).
    """
    chosen = [catalog.get(f"{indicator_id}@{v}") for v in versions] if versions else list(
        catalog.versions(indicator_id))
    if len(chosen) < 2:
        raise IndicatorError(f"indicator {indicator_id!r} has one version; nothing to compare")
    result = _engine.compute(catalog, chosen, source, period=period, by=by)
    keys = [c for c in result.columns if c in (*_engine.DIMENSIONS, "period")]
    wide: pd.DataFrame | None = None
    for ind in chosen:
        part = result[result["version"] == ind.version][[*keys, "numerator", "denominator",
                                                         "value"]]
        part = part.rename(columns={c: f"{c}@{ind.version}" for c in
                                    ("numerator", "denominator", "value")})
        wide = part if wide is None else wide.merge(part, on=keys, how="outer")
    assert wide is not None
    wide["difference"] = wide[f"value@{chosen[-1].version}"] - wide[f"value@{chosen[0].version}"]
    wide.insert(0, "indicator_id", indicator_id)
    return wide.reset_index(drop=True)
