"""``drg_risk``: the in-hospital mortality of each DRG group and its risk tier (国考 #14).

Indicator #14 (低风险组病例死亡率) counts deaths among cases of *low-risk* DRG groups: groups whose
in-hospital mortality lies below the mean minus one standard deviation of the groups'
mortalities (national-indicators.md §1.4 #14, [C:S6], citing the 2025 manual and HQMS). The full
grading method given there ([K], unconfirmed) is the default here:

1. for each ``(grouper_version, drg_code)``: cases, deaths (``discharge_disposition = '5'``),
   mortality = deaths ÷ cases;
2. among groups with at least one death, take ``ln(mortality)``, its mean μ and standard
   deviation σ (population SD, over the groups of the same grouper version), and
   ``z = (ln m − μ) / σ``;
3. risk score 0 = no deaths; 1 = low (``z < −k``); 2 = mid-low (``−k ≤ z < 0``); 3 = mid-high
   (``0 ≤ z < k``); 4 = high (``z ≥ k``), with ``k = sd_threshold`` (1 in the manual);
4. ``is_low_risk`` = score 1.

``scale="linear"`` instead applies "below mean − k SD" to the mortalities themselves, over every
group (zero-death groups included, and then eligible). With in-hospital mortality near 0.5 %,
most groups have no deaths and the linear threshold tends to fall below zero, leaving no
low-risk group at all: the reason the log scale is the default.

An approximation, by design
---------------------------
The national table is built from every hospital's discharges with the national grouper; a
hospital group cannot reproduce it. This table uses **the group's own discharges of every month
available** (not partitioned by month) as its reference population, as the catalog suggests
("approximate with … your own multi-year mortality table"). Groups with few cases get noisy
mortalities; no minimum case count is applied, because the manual states none. Where σ is zero
or undefined (a single group with deaths in a grouper version), z and the score are null and no
group is low-risk. Stays without a DRG or grouper version are left out.

Expected cost and length of stay (费用消耗指数, 时间消耗指数)
-----------------------------------------------------------
``mean_cost`` (mean ``total_cost``) and ``mean_los`` (mean ``los_days``) of each group over the
same stays are the reference of the cost- and time-efficiency indices (national-indicators.md
§4.5, companion indicators of CMI [C:P18, P19]): a stay's expected cost and length of stay are
its group's means. The national or regional reference means are computed from every hospital's
discharges; these are **the group's own multi-year means**, the same approximation as the
mortality above, so the whole group's indices are 1 by construction and institutions and
departments are compared with the group. Every stay of the group counts, deaths, transfers and
outliers included (no trimming rule is known); stays without a cost (or LOS) are left out of
that mean.

Examples
--------
>>> import datetime as dt
>>> from hospital_sdk.aggregated.inputs import cleaned_memtable as table
>>> spec = {"AA11": (2, 1), "BB11": (4, 1), "CC11": (8, 1), "DD11": (16, 1), "EE11": (3, 0)}
>>> rows = [{"grouper_version": "V1", "drg_code": code,
...          "discharge_disposition": "5" if i < deaths else "1"}
...         for code, (cases, deaths) in spec.items() for i in range(cases)]
>>> risk = build_drg_risk({"inpatient_stay": table("inpatient_stay", rows)})
>>> risk.order_by("drg_code").execute()[["drg_code", "cases", "deaths", "risk_score",
...                                      "is_low_risk"]]
  drg_code  cases  deaths  risk_score  is_low_risk
0     AA11      2       1           4        False
1     BB11      4       1           3        False
2     CC11      8       1           2        False
3     DD11     16       1           1         True
4     EE11      3       0           0        False
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import ibis
import ibis.expr.types as ir

from hospital_sdk.aggregated.inputs import Needs, require

__all__ = ["COLUMNS", "GROUP_KEYS", "NEEDS", "build_drg_risk"]

GROUP_KEYS = ("grouper_version", "drg_code")

NEEDS: Needs = {
    "inpatient_stay": ("grouper_version", "drg_code", "discharge_disposition", "total_cost",
                       "los_days"),
}
"""The cleaned tables and columns :func:`build_drg_risk` reads."""

COLUMNS: tuple[str, ...] = ("grouper_version", "drg_code", "cases", "deaths", "mortality",
                            "z_score", "risk_score", "is_low_risk", "mean_cost", "mean_los")
"""Columns of ``drg_risk``, in order."""


def build_drg_risk(tables: Mapping[str, ir.Table], *, sd_threshold: float = 1.0,
                   scale: Literal["log", "linear"] = "log") -> ir.Table:
    """Build ``drg_risk``: one row per ``(grouper_version, drg_code)`` over all discharges.

    Parameters
    ----------
    tables
        Cleaned tables by name; reads ``inpatient_stay`` (every month given).
    sd_threshold
        ``k``: a group is low-risk when its z-score is below ``-k`` (the manual: 1 SD).
    scale
        ``"log"`` (default): z of ``ln(mortality)`` over groups with deaths, zero-death groups
        score 0; ``"linear"``: z of the mortality over all groups.

    Returns
    -------
    Table
        ``grouper_version, drg_code`` (the grain), ``cases, deaths`` (int64), ``mortality``,
        ``z_score`` (float64, null where undefined), ``risk_score`` (int8 0–4, null where z is
        undefined), ``is_low_risk`` (boolean, never null), ``mean_cost`` and ``mean_los``
        (float64: the group's mean total cost in yuan and mean length of stay in days).

    Raises
    ------
    ContractError
        ``inpatient_stay`` or one of its needed columns is missing.
    ValueError
        ``sd_threshold`` is not positive or ``scale`` is unknown.
    """
    if not sd_threshold > 0:
        raise ValueError(f"sd_threshold must be positive, got {sd_threshold!r}")
    if scale not in ("log", "linear"):
        raise ValueError(f"scale must be 'log' or 'linear', got {scale!r}")
    require(tables, NEEDS, "drg_risk")
    s = tables["inpatient_stay"]
    s = s.filter(s.drg_code.notnull(), s.grouper_version.notnull())
    g = s.group_by(*GROUP_KEYS).aggregate(
        cases=s.count().cast("int64"),
        deaths=(s.discharge_disposition == "5").fill_null(False).cast("int64").sum(),
        # exact sums (decimal, integer) divided once: the same bits on every run, whatever the
        # order a parallel sum adds the rows in
        mean_cost=s.total_cost.sum().cast("float64") / s.total_cost.count().cast("float64"),
        mean_los=s.los_days.sum().cast("float64") / s.los_days.count().cast("float64"))
    mortality = g.deaths.cast("float64") / g.cases.cast("float64")
    if scale == "log":
        value = (g.deaths > 0).ifelse(mortality.ln(), ibis.null("float64"))
    else:
        value = mortality
    g = g.mutate(mortality=mortality, _value=value)
    by_version = ibis.window(group_by="grouper_version")
    g = g.mutate(_mean=g._value.mean().over(by_version),
                 _sd=g._value.std(how="pop").over(by_version))
    z = (g._sd > 0).fill_null(False).ifelse((g._value - g._mean) / g._sd, ibis.null("float64"))
    g = g.mutate(z_score=z)
    k = float(sd_threshold)
    tier = ibis.cases((g.z_score < -k, 1), (g.z_score < 0, 2), (g.z_score < k, 3),
                      else_=4)
    tier = g.z_score.isnull().ifelse(ibis.null("int8"), tier.cast("int8"))
    if scale == "log":
        tier = (g.deaths == 0).ifelse(ibis.literal(0, "int8"), tier)
    return g.select(*GROUP_KEYS, "cases", "deaths", "mortality", "z_score",
                    risk_score=tier.cast("int8"),
                    is_low_risk=(tier == 1).fill_null(False), mean_cost=g.mean_cost,
                    mean_los=g.mean_los)
