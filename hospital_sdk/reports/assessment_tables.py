"""The national-assessment report's tables: an :class:`AssessmentResult`'s frames as the report
shows them, with labels and headers in the report language.

Each function is a pure function of the result's frames. Numbers stay numbers (floats, blank
when missing) so the workbook can format them; text cells are ``None`` rather than ``""`` when
empty, so the workbook leaves them empty. Department rows go through
:func:`suppress_departments` before any table or chart sees them.

Examples
--------
>>> import pandas as pd
>>> from hospital_sdk.assessments.result import DEPARTMENT_COLUMNS
>>> d = pd.DataFrame([{c: None for c in DEPARTMENT_COLUMNS} | {"department": k,
...                   "numerator": n, "denominator": m} for k, n, m in [("D1", 1, 4),
...                                                                      ("D2", 3, 30)]])
>>> s = suppress_departments(d, 10)
>>> s.suppressed.tolist(), s.denominator.tolist()[1], pd.isna(s.numerator[0])
([True, False], 30.0, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hospital_sdk.assessments.result import SCORE_COLUMNS, AssessmentResult
from hospital_sdk.reports.labels import (
    DATA_SOURCES,
    DIRECTIONS,
    FUNNEL_FLAGS,
    STATUSES,
    TEXT,
    headers,
    label,
)

ITEM_TABLE: tuple[str, ...] = (
    "item", "indicator", "institution", "sub_dimension", "value", "unit", "numerator",
    "denominator", "prior_value", "change", "direction", "national_reference", "score",
    "national_monitoring", "data_source", "responsible_department", "status", "notes",
)
"""Columns of a dimension's item table, in order (headers from :mod:`.labels`)."""
SUPPRESSED_FIELDS: tuple[str, ...] = ("numerator", "denominator", "value", "funnel_low",
                                      "funnel_high", "funnel_flag")
"""Department columns blanked on a suppressed row."""
_NUMBERS = ("numerator", "denominator", "value", "prior_value", "change", "national_reference",
            "score", "peer_percentile", "funnel_low", "funnel_high", "total_score",
            "percentile", "order")


def is_blank(value: Any) -> bool:
    """Whether a cell is missing (``None``, NaN, ``pd.NA``, ``NaT``); a sequence is not."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cell_text(value: Any) -> str:
    """A cell as text: ``""`` for a missing value.

    >>> cell_text(None), cell_text(float("nan")), cell_text(4)
    ('', '', '4')
    """
    return "" if is_blank(value) else str(value)


def _opt(value: Any) -> str | None:
    """Text, or ``None`` (an empty cell, not an empty string) when there is none."""
    return cell_text(value) or None


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy().reset_index(drop=True)
    for c in _NUMBERS:
        if c in out:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return out


def plain_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Sequences in cells (a check's ``protects`` tuple) as ``"a, b"`` text."""
    out = frame.copy().reset_index(drop=True)
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = [", ".join(map(str, v)) if isinstance(v, list | tuple | set | np.ndarray)
                      else v for v in out[c]]
    return out


def suppress_departments(departments: pd.DataFrame, suppress_below: int | None) -> pd.DataFrame:
    """Department rows with :data:`SUPPRESSED_FIELDS` blanked where the denominator is below
    ``suppress_below`` or ``suppressed`` is already true; ``suppressed`` says which (bool).

    ``None`` keeps every row as it is except those scoring already suppressed.
    """
    df = _numeric(departments)
    given = pd.Series([False if is_blank(v) else bool(v) for v in df.get("suppressed", [])],
                      index=df.index, dtype=bool) if "suppressed" in df else False
    small = df["denominator"] < suppress_below if suppress_below is not None else False
    hide = pd.Series(given | small, index=df.index).fillna(False).astype(bool)
    for c in SUPPRESSED_FIELDS:
        df[c] = df[c].astype("float64" if c != "funnel_flag" else object)
        df.loc[hide, c] = np.nan if c != "funnel_flag" else None
    df["suppressed"] = hide
    return df


def prepare_items(result: AssessmentResult) -> pd.DataFrame:
    """``items`` with numbers as floats, ``item`` as text, in the manual's order; the score
    columns (:data:`~hospital_sdk.assessments.result.SCORE_COLUMNS`) blank when not scored."""
    df = _numeric(result.items.reindex(columns=[*result.items.columns, *(
        c for c in SCORE_COLUMNS if c not in result.items.columns)]))
    df["item"] = df["item"].map(cell_text)
    df["institution"] = df["institution"].map(cell_text)
    df["_part"] = df["item"].map(component_number)
    return df.sort_values(["order", "_part", "institution"], kind="stable",
                          na_position="last").drop(columns="_part").reset_index(drop=True)


def component_number(item: str) -> int:
    """The component's number of an item ``'10.4'`` (4), 0 for an item itself (``'10'``,
    ``'增1'``): components sort after their item, 10.2 before 10.10.

    >>> sorted(["10.10", "10", "10.2"], key=component_number)
    ['10', '10.2', '10.10']
    """
    head, dot, tail = item.rpartition(".")
    return int(tail) if dot and head and tail.isdigit() else 0


def prepare_trend(result: AssessmentResult) -> pd.DataFrame:
    """``trend`` with numbers as floats and ``item``, ``institution``, ``period`` as text."""
    t = _numeric(result.trend)
    for c in ("item", "institution", "period"):
        t[c] = t[c].map(cell_text)
    return t


def dimensions(items: pd.DataFrame) -> list[str]:
    """The L1 dimensions in the order of their first item."""
    return list(dict.fromkeys(items["dimension"].map(cell_text)))


def item_names(items: pd.DataFrame, lang: str) -> dict[str, str]:
    return dict(zip(items["item"], items[f"name_{lang}"].map(cell_text), strict=True))


def status_text(status: Any, reason: Any, lang: str) -> str | None:
    text = label(STATUSES, cell_text(status), lang)
    return f"{text}：{reason}" if cell_text(reason) else text or None


def item_table(items: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Rows of ``items`` as the report shows them: :data:`ITEM_TABLE`, headers in ``lang``."""
    notes = [" ".join(cell_text(v) for v in row if cell_text(v)) or None for row in
             zip(items["notes"], items["score_note"], items["national_reference_note"],
                 strict=True)]
    out = pd.DataFrame({
        "item": items["item"], "indicator": items[f"name_{lang}"].map(_opt),
        "institution": items["institution"],
        "sub_dimension": items[f"sub_dimension_{lang}"].map(_opt),
        "value": items["value"], "unit": items["unit"].map(_opt),
        "numerator": items["numerator"], "denominator": items["denominator"],
        "prior_value": items["prior_value"], "change": items["change"],
        "direction": [label(DIRECTIONS, cell_text(d), lang) or None for d in items["direction"]],
        "national_reference": items["national_reference"],
        "score": items["score"],
        "national_monitoring": ["▲" if not is_blank(v) and bool(v) else None
                                for v in items["national_monitoring"]],
        "data_source": [label(DATA_SOURCES, cell_text(s), lang) or None
                        for s in items["data_source"]],
        "responsible_department": items["responsible_department"].map(_opt),
        "status": [status_text(s, r, lang) for s, r in zip(items["status"], items["reason"],
                                                       strict=True)],
        "notes": notes,
    }, columns=list(ITEM_TABLE))
    return out.rename(columns=headers(list(ITEM_TABLE), lang))


def department_table(departments: pd.DataFrame, names: dict[str, str],
                     lang: str) -> pd.DataFrame:
    """Suppressed department rows (:func:`suppress_departments`) with headers in ``lang``."""
    d = departments
    out = pd.DataFrame({
        "item": d["item"].map(cell_text), "indicator": d["item"].map(cell_text).map(names),
        "institution": d["institution"].map(_opt), "department": d["department"].map(_opt),
        "department_name": d[f"department_name_{lang}"].map(_opt),
        "numerator": d["numerator"], "denominator": d["denominator"], "value": d["value"],
        "funnel_low": d["funnel_low"], "funnel_high": d["funnel_high"],
        "funnel_flag": [label(FUNNEL_FLAGS, cell_text(f), lang) or None for f in d["funnel_flag"]],
        "status": ["suppressed" if s else cell_text(v) for s, v in zip(d["suppressed"], d["status"],
                                                                   strict=True)],
    })
    out["status"] = [status_text(s, None if s == "suppressed" else r, lang)
                     for s, r in zip(out["status"], d["reason"], strict=True)]
    return out.rename(columns=headers(list(out.columns), lang))


def trend_table(trend: pd.DataFrame, names: dict[str, str], lang: str) -> pd.DataFrame:
    """The monthly trend rows (:func:`prepare_trend`) with headers in ``lang``."""
    t = trend
    out = pd.DataFrame({
        "item": t["item"].map(cell_text), "indicator": t["item"].map(cell_text).map(names),
        "institution": t["institution"].map(cell_text), "month": t["period"].map(cell_text),
        "numerator": t["numerator"], "denominator": t["denominator"], "value": t["value"],
        "status": [status_text(s, None, lang) for s in t["status"]],
    })
    # the items in the order the result lists them (the manual's), not as text ("11" < "2")
    rank = {item: n for n, item in enumerate(dict.fromkeys(out["item"]))}
    out = out.assign(_rank=out["item"].map(rank)).sort_values(
        ["_rank", "institution", "month"], kind="stable").drop(columns="_rank")
    return out.rename(columns=headers(list(out.columns), lang)).reset_index(drop=True)


def tier_table(result: AssessmentResult, lang: str) -> pd.DataFrame:
    """One row per institution: total score, scored items, percentile, tier (estimate),
    assumptions."""
    t = _numeric(result.tiers)
    cols = ["institution", "total_score", "scored_items", "percentile", "tier", "assumptions"]
    out = t.loc[:, cols].copy()
    out["assumptions"] = [cell_text(a) or label(TEXT, "no_assumptions", lang)
                          for a in out["assumptions"]]
    return out.rename(columns=headers(cols, lang))


def reported_table(result: AssessmentResult, lang: str) -> pd.DataFrame:
    """The reported inputs used, headers in ``lang``."""
    r = plain_cells(result.reported)
    cols = ["item", "indicator_id", "institution", "period", "value", "unit", "source_file",
            "submitted_at", "status"]
    out = r.loc[:, cols].copy()
    out["status"] = [status_text(s, why, lang) for s, why in zip(r["status"], r["reason"],
                                                             strict=True)]
    return out.rename(columns=headers(cols, lang))


def dimension_overview(items: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Per dimension (named in ``lang``) × institution: computed items, items not computable,
    sum of scores (blank when none is scored). Headers are contract names."""
    rows = []
    for dim in dimensions(items):
        of_dim = items[items["dimension"].map(cell_text) == dim]
        name = cell_text(of_dim[f"dimension_{lang}"].iloc[0]) or dim
        for inst in sorted(of_dim["institution"].unique()):
            g = of_dim[of_dim["institution"] == inst]
            rows.append({"dimension": name, "institution": inst,
                         "ok_items": int((g["status"] == "ok").sum()),
                         "not_computable_items": int((g["status"] != "ok").sum()),
                         "dimension_score": g["score"].sum(min_count=1)})
    return pd.DataFrame(rows, columns=["dimension", "institution", "ok_items",
                                       "not_computable_items", "dimension_score"])


def translated(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return frame.rename(columns=headers(list(frame.columns), lang))


def dimension_items(items: pd.DataFrame, lang: str) -> list[tuple[str, str, pd.DataFrame]]:
    """``(dimension name in lang, other language's name, its items)`` in the manual's order."""
    other = "en" if lang == "zh" else "zh"
    out = []
    for dim in dimensions(items):
        rows = items[items["dimension"].map(cell_text) == dim]
        out.append((cell_text(rows[f"dimension_{lang}"].iloc[0]) or dim,
                    cell_text(rows[f"dimension_{other}"].iloc[0]) or dim, rows))
    return out


def peer_table(items: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Item × institution values (one column per institution), items in the manual's order."""
    names = item_names(items, lang)
    peer = items.pivot_table(index="item", columns="institution", values="value",
                             aggfunc="first", sort=False, dropna=False)
    peer = peer.reindex(list(dict.fromkeys(items["item"]))).reset_index()
    peer.columns.name = None
    peer.insert(1, "indicator", peer["item"].map(names))
    return translated(peer, lang)


def trend_pivot(trend: pd.DataFrame, names: dict[str, str], lang: str) -> pd.DataFrame:
    """The monthly values (:func:`prepare_trend`) with one column per month: one row per
    item × institution."""
    t = trend
    if t.empty:
        return translated(pd.DataFrame(columns=["item", "indicator", "institution"]), lang)
    wide = t.pivot_table(index=["item", "institution"], columns="period", values="value",
                         aggfunc="first", sort=True, dropna=False).reset_index()
    wide.columns.name = None
    wide.insert(1, "indicator", wide["item"].map(names))
    return translated(wide, lang)


__all__ = ["ITEM_TABLE", "SUPPRESSED_FIELDS", "cell_text", "component_number",
           "department_table", "dimension_items", "dimension_overview", "dimensions", "is_blank",
           "item_names", "item_table", "peer_table", "plain_cells", "prepare_items",
           "prepare_trend", "reported_table", "status_text",
           "suppress_departments", "tier_table", "translated", "trend_pivot", "trend_table"]
