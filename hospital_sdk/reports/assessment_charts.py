"""The national-assessment report's Plotly charts, each a pure function of the result's frames.

Charts per indicator (trend, department breakdown, funnel plot, peer comparison) hold every
indicator in one figure with a menu that shows one indicator at a time
(:func:`selector_figure`), so a page of 56 indicators has four such figures, not 224. The
frames come prepared by :mod:`hospital_sdk.reports.assessment_report`: numbers as floats,
``item`` as text, departments already suppressed (``suppressed`` rows are never drawn).
Axis titles and legends follow the report language.

Examples
--------
>>> import pandas as pd
>>> items = pd.DataFrame({"item": ["1"], "name_zh": ["门诊人次"], "institution": ["H1"],
...                       "value": [5.0], "national_reference": [None]})
>>> [t.name for t in peer_figure(items, "zh").data]
['指标值']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from hospital_sdk.reports.assessment_tables import cell_text, is_blank
from hospital_sdk.reports.labels import COLUMNS, TEXT, label


def _layout(fig: go.Figure, x: str, y: str) -> go.Figure:
    fig.update_layout(template="plotly_white", margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      xaxis={"title": {"text": x}}, yaxis={"title": {"text": y}},
                      barmode="group")
    return fig


def selector_figure(groups: list[tuple[str, list[Any]]], x: str, y: str) -> go.Figure | None:
    """One figure holding each group's traces, a menu showing one group at a time (the first
    at first); ``None`` when there is no group.

    >>> fig = selector_figure([("a", [go.Bar(y=[1])]), ("b", [go.Bar(y=[2]), go.Bar(y=[3])])],
    ...                       "x", "y")
    >>> [t.visible for t in fig.data], len(fig.layout.updatemenus[0].buttons)
    ([True, False, False], 2)
    """
    if not groups:
        return None
    fig, spans = go.Figure(), []
    for name, traces in groups:
        start = len(fig.data)
        fig.add_traces(traces)
        spans.append((name, start, len(fig.data)))
    n = len(fig.data)
    for i, trace in enumerate(fig.data):
        trace.visible = spans[0][1] <= i < spans[0][2]
    buttons = [{"label": name, "method": "update",
                "args": [{"visible": [s <= i < e for i in range(n)]}, {"title.text": name}]}
               for name, s, e in spans]
    fig.update_layout(title={"text": spans[0][0]}, updatemenus=[{
        "buttons": buttons, "direction": "down", "x": 1.0, "xanchor": "right", "y": 1.18,
        "yanchor": "top", "showactive": True}])
    return _layout(fig, x, y)


def _per_item(frame: pd.DataFrame, items: pd.DataFrame,
              lang: str) -> Iterator[tuple[str, pd.DataFrame]]:
    """``(menu label, rows of the item)`` for each item in ``frame``, in the manual's order
    (items missing from ``items`` last)."""
    names = dict(zip(items["item"], items[f"name_{lang}"].map(cell_text), strict=True))
    keys = frame["item"].map(cell_text)
    for item in dict.fromkeys([*items["item"], *sorted(set(keys) - set(items["item"]))]):
        rows = frame[keys == item]
        if len(rows):
            yield f"{item} {names.get(item, '')}".strip(), rows


def _floats(values: pd.Series) -> list[float | None]:
    return [None if is_blank(v) else float(v) for v in values]


def trend_figure(trend: pd.DataFrame, items: pd.DataFrame, lang: str) -> go.Figure | None:
    """Monthly value per institution, one indicator at a time."""
    groups = [(name, [go.Scatter(x=g["period"].map(cell_text).tolist(), y=_floats(g["value"]),
                                 mode="lines+markers", name=inst)
                      for inst, g in rows.sort_values("period").groupby("institution")])
              for name, rows in _per_item(trend, items, lang)]
    return selector_figure(groups, label(COLUMNS, "month", lang),
                           label(COLUMNS, "value", lang))


def department_figure(depts: pd.DataFrame, items: pd.DataFrame, lang: str) -> go.Figure | None:
    """Each department's value (suppressed rows left out), one indicator at a time."""
    shown = depts[~depts["suppressed"] & depts["value"].notna()]
    name = f"department_name_{lang}"
    groups = [(title, [go.Bar(x=_floats(g["value"]), y=[cell_text(n) or cell_text(d) for n, d in
                                                        zip(g[name], g["department"],
                                                            strict=True)],
                              orientation="h", name=inst)
                       for inst, g in rows.groupby("institution")])
              for title, rows in _per_item(shown, items, lang)]
    return selector_figure(groups, label(COLUMNS, "value", lang),
                           label(COLUMNS, "department_name", lang))


def funnel_figure(depts: pd.DataFrame, items: pd.DataFrame, lang: str) -> go.Figure | None:
    """Departments' value against denominator, with the funnel limits where scoring computed
    them (points only otherwise)."""
    shown = depts[~depts["suppressed"] & depts["value"].notna() & depts["denominator"].notna()]
    dept = f"department_name_{lang}"
    groups = []
    for title, rows in _per_item(shown, items, lang):
        traces: list[Any] = [go.Scatter(x=_floats(g["denominator"]), y=_floats(g["value"]),
                                        mode="markers", name=inst, text=g[dept].map(cell_text))
                             for inst, g in rows.groupby("institution")]
        limits = rows.sort_values("denominator")
        for col in ("funnel_low", "funnel_high"):
            if limits[col].notna().any():
                lim = limits[limits[col].notna()]
                traces.append(go.Scatter(x=_floats(lim["denominator"]), y=_floats(lim[col]),
                                         mode="lines", line={"dash": "dash", "color": "#7b8794"},
                                         name=label(COLUMNS, col, lang)))
        groups.append((title, traces))
    return selector_figure(groups, label(COLUMNS, "denominator", lang),
                           label(COLUMNS, "value", lang))


def peer_figure(items: pd.DataFrame, lang: str) -> go.Figure | None:
    """Institutions' values per indicator, with the national reference where known."""
    groups = []
    for title, rows in _per_item(items[items["value"].notna()], items, lang):
        traces: list[Any] = [go.Bar(x=rows["institution"].tolist(), y=_floats(rows["value"]),
                                    name=label(COLUMNS, "value", lang))]
        ref = rows["national_reference"].dropna()
        if len(ref):
            traces.append(go.Scatter(x=rows["institution"].tolist(),
                                     y=[float(ref.iloc[0])] * len(rows), mode="lines",
                                     line={"dash": "dot"},
                                     name=label(COLUMNS, "national_reference", lang)))
        groups.append((title, traces))
    return selector_figure(groups, label(COLUMNS, "institution", lang),
                           label(COLUMNS, "value", lang))


def overview_figure(overview: pd.DataFrame, lang: str) -> go.Figure | None:
    """Per dimension, one bar per institution: the sum of scores when the result is scored,
    else the number of computed items (the axis title says which).

    ``overview`` is :func:`~hospital_sdk.reports.assessment_report.dimension_overview` before
    its headers are translated.
    """
    if overview.empty:
        return None
    scored = overview["dimension_score"].notna().any()
    column = "dimension_score" if scored else "ok_items"
    fig = go.Figure([go.Bar(x=g["dimension"].tolist(), y=_floats(g[column]), name=inst)
                     for inst, g in overview.groupby("institution", sort=True)])
    fig.update_layout(title={"text": label(TEXT, "overview_score" if scored
                                           else "overview_count", lang)})
    return _layout(fig, label(COLUMNS, "dimension", lang), label(COLUMNS, column, lang))


__all__ = ["department_figure", "funnel_figure", "overview_figure", "peer_figure",
           "selector_figure", "trend_figure"]
