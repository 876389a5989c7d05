"""Special-cause signals on indicator series: XmR with run rules, CUSUM and EWMA charts.

:func:`signals` charts every series of a tidy frame like ``application.indicator_value``
(:mod:`~hospital_sdk.indicators.results`: one row per indicator × institution × department ×
month with ``value``, ``status`` and ``direction``) and returns one row per point with the
chart's statistic, limits and signals. The charts, the baseline and the run rules are those of
:mod:`hospital_sdk.kernels.spc` (read its docstring for the formulas); this module adds the
frame handling, the indicator's direction and a SQL path.

* **Series**: the rows sharing the ``by`` columns (nulls are a value: a hospital-wide row with
  a null department is its own series), in ``order``. Two rows of one series at the same
  ``order`` are an error.
* **Gaps**: a row whose ``status`` is not ``'ok'`` or whose value is null/NaN is a gap: kept in
  the output (``point = 'gap'``) with null statistics and no signal, and skipped by the chart —
  the chart runs over the series' valid points, so a gap neither breaks nor extends a run and
  the baseline is the first ``baseline`` *valid* points. A month with no row at all is not a
  point either (add a ``not_computable`` row to show it).
* **Direction** (``higher_better``, ``lower_better``, ``monitor``, ``target_range``; from the
  ``direction`` column, or one value for all series): a signal above the centre line is an
  ``improvement`` for ``higher_better`` and a ``deterioration`` for ``lower_better``, the
  reverse below; for ``monitor`` and ``target_range`` either side is a ``change``; both sides
  at once is ``mixed``.
* **Signals**: ``upper_rules`` / ``lower_rules`` are bit masks — the XmR run rules of
  :data:`hospital_sdk.kernels.spc.RULES`, or 1 when a CUSUM/EWMA statistic is beyond its
  limit; ``signal`` is either side; the XmR moving-range signal (``mr_signal``) is reported
  apart (a change in spread has no side).

``method``: ``"kernel"`` runs the compiled kernels on pandas; ``"sql"`` builds Ibis window
functions (:func:`signals_sql`, which runs on DuckDB and Spark alike); ``"auto"`` uses the
kernel on local data (pandas, or an Ibis table on DuckDB) for the charts of
:data:`KERNEL_ON_LOCAL` and the SQL path otherwise. What SQL can and cannot do:

* XmR: limits from window aggregates over the baseline rows, run rules as window counts over
  the last 3, 5, 8 rows and the moving range from ``LAG`` — exactly the kernel's rules.
* CUSUM without reset has the closed form ``C⁺_t = P_t − min(0, min_{j≤t} P_j)`` with ``P``
  the running sum of ``u − k`` (and the mirror image for ``C⁻``), i.e. cumulative window sums
  and minima; it equals the kernel's recursion up to floating-point rounding. A CUSUM that
  restarts after a signal depends on where the previous signal was: kernel only.
* EWMA is kernel only. Its closed form ``z_t = (1 − λ)^t z_0 + λ Σ (1 − λ)^{t−i} x_i`` needs
  the factors ``(1 − λ)^{−i}`` inside a running sum, which overflow double precision after a
  few thousand points (``0.8^{−3200}`` > 1e308) and lose digits long before; a recursive CTE
  would be row-by-row and not portable to Spark. On a remote backend ``"auto"`` fetches the
  series (indicator series are small: indicators × cells × months) and runs the kernel;
  ``method="sql"`` with ``chart="ewma"`` raises.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "indicator_id": "mortality", "institution": "H1", "department": None,
...     "month": pd.date_range("2024-01-01", periods=16, freq="MS"),
...     "value": [10, 12] * 6 + [15, 15, 15, 15], "status": "ok",
...     "direction": "lower_better"})
>>> out = signals(frame, chart="xmr", baseline=12)
>>> out.loc[out["signal"], ["month", "upper_rules", "side", "assessment"]]
        month  upper_rules   side     assessment
13 2025-02-01            2  upper  deterioration
14 2025-03-01            2  upper  deterioration
15 2025-04-01            6  upper  deterioration
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from hospital_sdk.errors import ContractError
from hospital_sdk.kernels.spc import (
    D2,
    D4,
    E2,
    cusum_chart,
    ewma_chart,
    risk_adjusted_cusum,
    xmr_chart,
)

__all__ = ["ASSESSMENTS", "BY", "CHARTS", "DIRECTIONS", "KERNEL_ON_LOCAL", "METHODS",
           "RISK_ADJUSTED_COLUMNS", "SIDES", "SIGNAL_COLUMNS", "risk_adjusted_signals",
           "risk_adjusted_sql", "signals", "signals_sql"]

BY: tuple[str, ...] = ("indicator_id", "institution", "department")
"""Default series key (with ``month`` as order: one series per indicator and cell)."""
CHARTS = ("xmr", "cusum", "ewma")
METHODS = ("auto", "kernel", "sql")
DIRECTIONS = ("higher_better", "lower_better", "monitor", "target_range")
"""The indicator directions of :class:`hospital_sdk.indicators.spec.Tags`."""
KERNEL_ON_LOCAL: Mapping[str, bool] = MappingProxyType({"xmr": False, "cusum": False,
                                                         "ewma": True})
"""Per chart, whether ``method="auto"`` runs the kernel on local data: only where the kernels
benchmark measured it at least 5× faster than the SQL path on 10M points (the issue's rule).
2026-11-26, medians of 3 (BENCHMARKS.md "statistical process control"): XmR 3.25× (SQL 13.1 s,
``signals()`` with the kernel 4.0 s, the chart alone 0.16 s), CUSUM 4.0× (13.6 s, 3.4 s,
0.11 s) — the SQL path; EWMA has no SQL path, so the kernel. What is left of the kernel path is
the frame handling of ``signals()`` (sorting on string keys, building the result)."""
SIGNAL_COLUMNS: tuple[str, ...] = (
    "direction", "chart", "point", "in_baseline", "centre", "sigma", "statistic",
    "statistic_lower", "lower_limit", "upper_limit", "moving_range", "mr_upper_limit",
    "upper_rules", "lower_rules", "mr_signal", "signal", "side", "assessment")
"""Columns after the ``by`` columns, ``order`` and ``value`` in the result."""
_FLOATS = ("centre", "sigma", "statistic", "statistic_lower", "lower_limit", "upper_limit",
           "moving_range", "mr_upper_limit")
SIDES = ("", "upper", "lower", "both")
ASSESSMENTS = ("", "improvement", "deterioration", "change", "mixed")
_CATEGORIES = {"direction": DIRECTIONS, "chart": CHARTS, "point": ("ok", "gap"),
               "side": SIDES, "assessment": ASSESSMENTS}
_EWMA_SQL = ("chart='ewma' has no SQL path: its closed form needs (1 - lam)**-t factors that "
             "overflow double precision on long series; use method='kernel' or 'auto'")


def _check(chart: str, method: str, direction: str | None, reset: bool) -> None:
    if chart not in CHARTS:
        raise ValueError(f"chart must be one of {CHARTS}, got {chart!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if method == "sql" and chart == "ewma":
        raise ValueError(_EWMA_SQL)
    if method == "sql" and reset:
        raise ValueError("reset=True (a CUSUM restarting after a signal) has no closed form in "
                         "SQL; use method='kernel' or reset=False")


def _is_local(table: ir.Table) -> bool:
    try:
        return table.get_backend().name == "duckdb"
    except Exception:  # noqa: BLE001 - an unbound expression: treat as remote
        return False


def signals(series_frame: pd.DataFrame | ir.Table, *, value: str = "value",
            order: str = "month", by: Sequence[str] = BY, direction: str | None = None,
            chart: str = "xmr", method: str = "auto", status: str | None = "status",
            baseline: int = 12, mean: float | None = None, sigma: float | None = None,
            k: float = 0.5, h: float = 5.0, reset: bool = False, lam: float = 0.2,
            width: float = 3.0) -> pd.DataFrame:
    """Chart every series of ``series_frame`` and flag special causes (see the module).

    Parameters
    ----------
    series_frame
        A pandas frame or an Ibis table with the ``by`` columns, ``order``, ``value``, and
        optionally ``status`` and ``direction``.
    value, order, by
        The value column, the time column and the series key.
    direction
        One direction for all series; ``None`` reads the ``direction`` column (one value per
        series), or ``monitor`` when there is none.
    chart
        ``"xmr"`` (individuals, moving range, run rules), ``"cusum"`` or ``"ewma"``.
    method
        ``"auto"``, ``"kernel"`` or ``"sql"`` (see the module).
    status
        The status column (only ``'ok'`` rows are points); ``None`` when there is none.
    baseline, mean, sigma
        Baseline points per series, or a given centre and σ for every series.
    k, h, reset
        CUSUM reference value and decision limit in σ, restart after a signal (kernel only).
    lam, width
        EWMA smoothing ``λ`` and limit width ``L`` in σ.

    Returns
    -------
    pandas.DataFrame
        One row per input row, ordered by ``by`` then ``order``: ``by``, ``order``, ``value``
        and :data:`SIGNAL_COLUMNS`; ``direction``, ``chart``, ``point``, ``side`` and
        ``assessment`` are categoricals of fixed vocabularies (:data:`DIRECTIONS`,
        :data:`CHARTS`, ``ok``/``gap``, :data:`SIDES`, :data:`ASSESSMENTS`; ``''`` = no
        signal).

    Raises
    ------
    ContractError
        A column is missing, a direction unknown, a series has two rows at one ``order``.
    ValueError
        A parameter is out of range, or the chart has no SQL path and ``method="sql"``.
    """
    _check(chart, method, direction, reset)
    by = list(by)
    params = dict(value=value, order=order, by=by, direction=direction, chart=chart,
                  status=status, baseline=baseline, mean=mean, sigma=sigma, k=k, h=h,
                  reset=reset, lam=lam, width=width)
    if isinstance(series_frame, pd.DataFrame):
        local, frame, table = True, series_frame, None
    else:
        local, frame, table = _is_local(series_frame), None, series_frame
    use_kernel = (method == "kernel" or chart == "ewma" or reset
                  or (method == "auto" and local and KERNEL_ON_LOCAL[chart]))
    if use_kernel:
        if frame is None:
            frame = table.execute()
        return _kernel_path(frame, **params)
    if table is None:
        _columns(frame, value, order, by, status)
        perm, ids = _sorted(frame, order, by)
        _directions(frame.iloc[perm], ids, direction)
        table = ibis.memtable(frame)
    sql = signals_sql(table, **{p: v for p, v in params.items() if p not in ("reset", "lam",
                                                                                "width")})
    out = sql.execute()
    if frame is not None:  # keep the caller's key types (the database returns its own)
        for c in [*by, order]:
            out[c] = out[c].astype(frame[c].dtype)
            if frame[c].dtype == object:
                out[c] = out[c].astype(object).where(out[c].notna(), None)
    perm, _ = _sorted(out, order, by)  # the kernel path's row order
    return _types(out.iloc[perm].reset_index(drop=True), by, order, value)


def _columns(frame: Any, value: str, order: str, by: list[str], status: str | None) -> None:
    names = list(frame.columns)
    missing = [c for c in [*by, order, value, *([status] if status else [])] if c not in names]
    if missing:
        raise ContractError(f"signals: the series frame lacks column(s) {missing}; it has "
                            f"{names}")


def _sorted(frame: pd.DataFrame, order: str | list[str],
            by: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row order by series then ``order``, series id of each sorted row); raises when
    ``order`` is null or two rows of a series share it. Integer codes instead of a sort on the
    key columns: the keys are factorised once."""
    orders = [order] if isinstance(order, str) else list(order)
    label = repr(orders[0]) if len(orders) == 1 else repr(orders)
    for col in orders:
        if frame[col].isna().any():
            raise ContractError(f"signals: column {col!r} has nulls; every point needs one")
    n = len(frame)
    ids = (frame.groupby(by, dropna=False, sort=True).ngroup().to_numpy(np.int64) if by
           else np.zeros(n, np.int64))
    whens = [pd.factorize(frame[col], sort=True)[0] for col in orders]
    perm = np.lexsort((*whens[::-1], ids))
    ids = ids[perm]
    same = ids[1:] == ids[:-1]
    for when in whens:
        when = when[perm]
        same &= when[1:] == when[:-1]
    dup = np.flatnonzero(same)
    if dup.size:
        first = frame.iloc[perm[dup[0]]][[*by, *orders]].to_dict()
        raise ContractError(f"signals: {dup.size + 1} or more rows share a series and "
                            f"{label} (first: {first}); one row per series and {label} is "
                            f"expected (add a tie-breaking column to the order)")
    return perm, ids


def _directions(frame: pd.DataFrame, ids: np.ndarray, direction: str | None) -> np.ndarray:
    """The code in :data:`DIRECTIONS` of each row of ``frame`` (sorted by series: ``ids``)."""
    if direction is not None or "direction" not in frame.columns:
        return np.full(len(frame), DIRECTIONS.index(direction or "monitor"), np.int8)
    codes, kinds = pd.factorize(frame["direction"])  # on the column's own type: no copy
    unknown = sorted(set(kinds) - set(DIRECTIONS))
    if unknown:
        raise ContractError(f"signals: column 'direction' has unknown value(s) {unknown}; "
                            f"expected {list(DIRECTIONS)}")
    # code -1 (a null direction) takes the last entry: monitor
    lookup = np.array([DIRECTIONS.index(k) for k in kinds] + [DIRECTIONS.index("monitor")],
                      np.int8)
    d = lookup[codes]
    if np.any((ids[1:] == ids[:-1]) & (d[1:] != d[:-1])):
        raise ContractError("signals: column 'direction' differs within a series")
    return d


def _kernel_path(frame: pd.DataFrame, *, value: str, order: str, by: list[str],
                 direction: str | None, chart: str, status: str | None, baseline: int,
                 mean: float | None, sigma: float | None, k: float, h: float, reset: bool,
                 lam: float, width: float) -> pd.DataFrame:
    _columns(frame, value, order, by, status)
    perm, ids = _sorted(frame, order, by)
    read = [*dict.fromkeys([*by, order, value, *([status] if status else []),
                            *(["direction"] if "direction" in frame.columns else [])])]
    f = frame[read].iloc[perm].reset_index(drop=True)  # only the columns read are moved
    x = pd.to_numeric(f[value], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    ok = ~np.isnan(x)
    if status:
        ok &= (f[status] == "ok").fillna(False).to_numpy(bool)
    values = np.where(ok, x, np.nan)
    given = dict(baseline=baseline, mean=mean, sigma=sigma)
    if chart == "xmr":
        c = xmr_chart(values, ids, **given)
        up, down = c["upper_rules"].to_numpy(np.int64), c["lower_rules"].to_numpy(np.int64)
    elif chart == "cusum":
        c = cusum_chart(values, ids, k=k, h=h, reset=reset, **given)
        up, down = c["upper_signal"].to_numpy(np.int64), c["lower_signal"].to_numpy(np.int64)
    else:
        c = ewma_chart(values, ids, lam=lam, width=width, **given)
        up, down = c["upper_signal"].to_numpy(np.int64), c["lower_signal"].to_numpy(np.int64)
    n = len(f)
    d = _directions(f, ids, direction)
    cols: dict[str, Any] = {col: f[col] for col in [*by, order]}
    cols[value] = x
    cols["direction"] = _category("direction", d)
    cols["chart"] = _category("chart", np.full(n, CHARTS.index(chart), np.int8))
    cols["point"] = _category("point", (~ok).astype(np.int8))
    cols["in_baseline"] = c["in_baseline"].to_numpy(bool)
    for col in _FLOATS:
        cols[col] = c[col].to_numpy(np.float64) if col in c.columns else np.full(n, np.nan)
    cols["upper_rules"], cols["lower_rules"] = up, down
    cols["mr_signal"] = (c["mr_signal"].to_numpy(bool) if "mr_signal" in c.columns
                         else np.zeros(n, bool))
    signal, side, assessment = _assess(up > 0, down > 0, d)
    cols["signal"] = signal
    cols["side"] = _category("side", side)
    cols["assessment"] = _category("assessment", assessment)
    return pd.DataFrame(cols, copy=False)  # fresh arrays: not copied into one block


def _category(name: str, codes: np.ndarray) -> pd.Categorical:
    """A column of the fixed vocabulary ``_CATEGORIES[name]`` from its integer codes."""
    return pd.Categorical.from_codes(codes, categories=list(_CATEGORIES[name]))


def _assess(up: np.ndarray, down: np.ndarray,
            d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(signal, side code, assessment code) of each point; ``d`` = direction codes."""
    better_up = d == DIRECTIONS.index("higher_better")
    worse_up = d == DIRECTIONS.index("lower_better")
    side = np.select([up & down, up, down], [3, 1, 2], 0).astype(np.int8)
    imp, det, chg = (ASSESSMENTS.index(a) for a in ("improvement", "deterioration", "change"))
    assessment = np.select(
        [up & down, up & better_up, up & worse_up, up, down & better_up, down & worse_up, down],
        [ASSESSMENTS.index("mixed"), imp, det, chg, det, imp, chg], 0).astype(np.int8)
    return up | down, side, assessment


def _types(out: pd.DataFrame, by: list[str], order: str, value: str) -> pd.DataFrame:
    """The SQL path's result in the kernel path's columns and dtypes."""
    out = out[[*by, order, value, *SIGNAL_COLUMNS]].copy()
    for col in (value, *_FLOATS):
        out[col] = pd.to_numeric(out[col]).astype(np.float64)
    for col in ("upper_rules", "lower_rules"):
        out[col] = out[col].astype(np.int64)
    for col in ("in_baseline", "mr_signal", "signal"):
        out[col] = out[col].astype(bool)
    for col, kinds in _CATEGORIES.items():
        out[col] = pd.Categorical(out[col].astype(object), categories=list(kinds))
    return out


def signals_sql(table: ir.Table, *, value: str = "value", order: str = "month",
                by: Sequence[str] = BY, direction: str | None = None, chart: str = "xmr",
                status: str | None = "status", baseline: int = 12, mean: float | None = None,
                sigma: float | None = None, k: float = 0.5, h: float = 5.0) -> ir.Table:
    """The SQL path of :func:`signals` for ``chart`` ``"xmr"`` or ``"cusum"``, as a lazy Ibis
    expression (same columns, unordered; see the module for what SQL cannot do).

    >>> import pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"s": "a", "m": [1, 2, 3], "v": [0.0, 2.0, 2.0]}))
    >>> e = signals_sql(t, value="v", order="m", by=["s"], chart="cusum", status=None,
    ...                 mean=0.0, sigma=1.0, h=2.0)
    >>> e.order_by("m").execute()["statistic"].tolist()
    [0.0, 1.5, 3.0]
    """
    _check(chart, "sql", direction, False)
    if baseline < 1:
        raise ValueError(f"baseline must be >= 1 point, got {baseline!r}")
    if sigma is not None and not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    if chart == "cusum" and (not k >= 0 or not h > 0):
        raise ValueError(f"k must be >= 0 and h > 0, got k={k!r}, h={h!r}")
    by = list(by)
    _columns(table, value, order, by, status)
    t = table
    if direction is not None or "direction" not in t.columns:
        t = t.mutate(direction=ibis.literal(direction or "monitor"))
    x = t[value].cast("float64")
    good = x.notnull() & ~x.isnan()
    if status:
        good = good & (t[status].cast("string") == "ok")
    t = t.mutate(_x=x, _ok=ibis.ifelse(good, True, False))
    w = ibis.window(group_by=by, order_by=order)
    pts = t.filter(t._ok)
    pts = pts.mutate(_t=ibis.row_number().over(w), _mr=(pts._x - pts._x.lag().over(w)).abs(),
                     _rise=ibis.ifelse(pts._x > pts._x.lag().over(w), 1, 0),
                     _fall=ibis.ifelse(pts._x < pts._x.lag().over(w), 1, 0))
    part = ibis.window(group_by=by)
    base = pts._t < baseline
    centre = (ibis.literal(float(mean)) if mean is not None
              else ibis.ifelse(base, pts._x, ibis.null("float64")).mean().over(part))
    mr_bar = (ibis.literal(D2 * float(sigma)) if sigma is not None else ibis.ifelse(
        base & (pts._t >= 1), pts._mr, ibis.null("float64")).mean().over(part))
    pts = pts.mutate(centre=centre, _mr_bar=mr_bar, in_baseline=base)
    pts = pts.mutate(sigma=(ibis.literal(float(sigma)) if sigma is not None
                            else pts._mr_bar / D2))
    if chart == "xmr":
        pts = _xmr_sql(pts, by, order, sigma)
    else:
        pts = _cusum_sql(pts, by, order, k, h)
    pts = pts.mutate(point=ibis.literal("ok"))
    gaps = t.filter(~t._ok).mutate(
        point=ibis.literal("gap"), in_baseline=False, upper_rules=0, lower_rules=0,
        mr_signal=False, **{c: ibis.null("float64") for c in _FLOATS})
    up, down = pts.upper_rules > 0, pts.lower_rules > 0
    d = pts.direction
    pts = pts.mutate(signal=up | down, side=ibis.cases(
        (up & down, "both"), (up, "upper"), (down, "lower"), else_=""),
        assessment=ibis.cases(
            (up & down, "mixed"), (up & (d == "higher_better"), "improvement"),
            (up & (d == "lower_better"), "deterioration"), (up, "change"),
            (down & (d == "higher_better"), "deterioration"),
            (down & (d == "lower_better"), "improvement"), (down, "change"), else_=""))
    gaps = gaps.mutate(signal=False, side=ibis.literal(""), assessment=ibis.literal(""))
    types = {c: "float64" for c in _FLOATS} | {
        "upper_rules": "int64", "lower_rules": "int64", "in_baseline": "boolean",
        "mr_signal": "boolean", "signal": "boolean", "direction": "string", "chart": "string",
        "point": "string", "side": "string", "assessment": "string", value: "float64"}

    def shape(e: ir.Table) -> ir.Table:
        e = e.mutate(chart=ibis.literal(chart))
        return e.select(*by, order, *[e[c].cast(types[c]).name(c)
                                      for c in (value, *SIGNAL_COLUMNS)])
    return shape(pts).union(shape(gaps))


def _xmr_sql(pts: ir.Table, by: list[str], order: str, sigma: float | None) -> ir.Table:
    pts = pts.mutate(_w=(pts._mr_bar * E2 if sigma is None else ibis.literal(3.0 * sigma)))
    c, w, x = pts.centre, pts._w, pts._x
    pts = pts.mutate(_on=ibis.ifelse((w > 0) & c.notnull(), True, False),
                     _a2=ibis.ifelse(x > c + 2.0 * w / 3.0, 1, 0),
                     _b2=ibis.ifelse(x < c - 2.0 * w / 3.0, 1, 0),
                     _a1=ibis.ifelse(x > c + w / 3.0, 1, 0),
                     _b1=ibis.ifelse(x < c - w / 3.0, 1, 0),
                     _above=ibis.ifelse(x > c, 1, 0), _below=ibis.ifelse(x < c, 1, 0))

    def last(col: str, rows: int) -> ir.IntegerValue:
        return pts[col].sum().over(ibis.window(group_by=by, order_by=order,
                                               preceding=rows - 1, following=0))
    pts = pts.mutate(_n2a=last("_a2", 3), _n2b=last("_b2", 3), _n1a=last("_a1", 5),
                     _n1b=last("_b1", 5), _runa=last("_above", 8), _runb=last("_below", 8),
                     _rise5=last("_rise", 5), _fall5=last("_fall", 5))
    p, on = pts, pts._on

    def bit(cond: ir.BooleanValue, value: int) -> ir.IntegerValue:
        return ibis.ifelse(on & cond, value, 0)
    up = (bit(p._x > p.centre + p._w, 1) + bit((p._t >= 2) & (p._a2 == 1) & (p._n2a >= 2), 2)
          + bit((p._t >= 4) & (p._a1 == 1) & (p._n1a >= 4), 4) + bit(p._runa >= 8, 8)
          + bit(p._rise5 >= 5, 16))
    down = (bit(p._x < p.centre - p._w, 1) + bit((p._t >= 2) & (p._b2 == 1) & (p._n2b >= 2), 2)
            + bit((p._t >= 4) & (p._b1 == 1) & (p._n1b >= 4), 4) + bit(p._runb >= 8, 8)
            + bit(p._fall5 >= 5, 16))
    return pts.mutate(
        statistic=p._x, statistic_lower=ibis.null("float64"),
        lower_limit=ibis.ifelse(on, p.centre - p._w, ibis.null("float64")),
        upper_limit=ibis.ifelse(on, p.centre + p._w, ibis.null("float64")),
        moving_range=p._mr, mr_upper_limit=p._mr_bar * D4,
        mr_signal=ibis.ifelse((p._mr_bar > 0) & (p._mr > p._mr_bar * D4), True, False),
        upper_rules=up, lower_rules=down)


def _cusum_sql(pts: ir.Table, by: list[str], order: str, k: float, h: float) -> ir.Table:
    on = ibis.ifelse((pts.sigma > 0) & pts.centre.notnull(), True, False)
    u = (pts._x - pts.centre) / pts.sigma
    run = ibis.window(group_by=by, order_by=order, preceding=None, following=0)
    pts = pts.mutate(_on=on, _pu=(u - k).sum().over(run), _pd=(u + k).sum().over(run))
    pts = pts.mutate(_mu=pts._pu.min().over(run), _md=pts._pd.max().over(run))
    hi = pts._pu - ibis.least(0.0, pts._mu)
    lo = pts._pd - ibis.greatest(0.0, pts._md)
    nul = ibis.null("float64")
    return pts.mutate(
        statistic=ibis.ifelse(pts._on, hi, nul), statistic_lower=ibis.ifelse(pts._on, lo, nul),
        lower_limit=ibis.ifelse(pts._on, -h, nul), upper_limit=ibis.ifelse(pts._on, h, nul),
        moving_range=nul, mr_upper_limit=nul, mr_signal=False,
        upper_rules=ibis.ifelse(pts._on & (hi > h), 1, 0),
        lower_rules=ibis.ifelse(pts._on & (lo < -h), 1, 0))


RISK_ADJUSTED_COLUMNS: tuple[str, ...] = (
    "point", "statistic", "statistic_lower", "lower_limit", "upper_limit", "signal", "side",
    "assessment")
"""Columns after ``by``, ``order``, ``outcome`` and ``expected`` in
:func:`risk_adjusted_signals`."""


def risk_adjusted_signals(cases: pd.DataFrame | ir.Table, *, outcome: str = "outcome",
                          expected: str = "expected", order: Sequence[str] = ("time",),
                          by: Sequence[str] = ("institution",), odds_ratio: float = 2.0,
                          h: float = 4.5, method: str = "auto") -> pd.DataFrame:
    """Steiner's risk-adjusted Bernoulli CUSUM over cases (one row per case: ``outcome`` 1 when
    adverse, ``expected`` its risk-model probability), one series per ``by``, in ``order``
    (give a tie-breaking column, e.g. ``("discharge_time", "stay_id")``: cases share minutes).

    See :func:`hospital_sdk.kernels.spc.risk_adjusted_cusum` for the statistic; without reset
    it has the closed form of the CUSUM, so the SQL path (:func:`risk_adjusted_sql`) computes
    the same. A case with a null outcome or expectation is a gap. The upper chart (odds × R)
    is a ``deterioration``, the lower (odds / R) an ``improvement``.

    >>> import pandas as pd
    >>> cases = pd.DataFrame({"institution": "H1", "time": [1, 2, 3],
    ...                       "outcome": [1, 1, 0], "expected": [0.5, 0.5, 0.5]})
    >>> out = risk_adjusted_signals(cases, h=0.5)
    >>> out["statistic"].round(4).tolist(), out["assessment"].tolist()
    ([0.2877, 0.5754, 0.1699], ['', 'deterioration', ''])
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    by, order = list(by), list(order)
    if isinstance(cases, pd.DataFrame):
        frame, table = cases, None
        use_kernel = method in ("auto", "kernel")
    else:
        frame, table = None, cases
        use_kernel = method == "kernel" or (method == "auto" and _is_local(cases))
    if use_kernel:
        frame = table.execute() if frame is None else frame
        _columns(frame, outcome, order[0], by, expected)
        perm, ids = _sorted(frame, order, by)
        f = frame[[*dict.fromkeys([*by, *order, outcome, expected])]].iloc[perm]
        f = f.reset_index(drop=True)
        y = pd.to_numeric(f[outcome]).to_numpy(np.float64, na_value=np.nan)
        p = pd.to_numeric(f[expected]).to_numpy(np.float64, na_value=np.nan)
        y = np.where(np.isnan(p), np.nan, y)
        c = risk_adjusted_cusum(y, np.nan_to_num(p), ids, odds_ratio=odds_ratio, h=h)
        cols: dict[str, Any] = {col: f[col] for col in [*by, *order]}
        cols[outcome], cols[expected] = y, p
        cols["point"] = _category("point", np.isnan(y).astype(np.int8))
        for col in ("statistic", "statistic_lower", "lower_limit", "upper_limit"):
            cols[col] = np.where(np.isnan(y), np.nan, c[col].to_numpy(np.float64))
        up, down = c["upper_signal"].to_numpy(bool), c["lower_signal"].to_numpy(bool)
        direction = np.full(len(f), DIRECTIONS.index("lower_better"), np.int8)
        signal, side, assessment = _assess(up, down, direction)
        cols["signal"] = signal
        cols["side"] = _category("side", side)
        cols["assessment"] = _category("assessment", assessment)
        return pd.DataFrame(cols, copy=False)
    if table is None:
        _columns(frame, outcome, order[0], by, expected)
        _sorted(frame, order, by)
        table = ibis.memtable(frame)
    out = risk_adjusted_sql(table, outcome=outcome, expected=expected, order=order, by=by,
                            odds_ratio=odds_ratio, h=h).execute()
    if frame is not None:
        for col in [*by, *order]:
            out[col] = out[col].astype(frame[col].dtype)
            if frame[col].dtype == object:
                out[col] = out[col].astype(object).where(out[col].notna(), None)
    perm, _ = _sorted(out, order, by)
    out = out.iloc[perm].reset_index(drop=True)
    for col in ("point", "side", "assessment"):
        out[col] = pd.Categorical(out[col].astype(object), categories=list(_CATEGORIES[col]))
    out["signal"] = out["signal"].astype(bool)
    return out


def risk_adjusted_sql(table: ir.Table, *, outcome: str = "outcome",
                      expected: str = "expected", order: Sequence[str] = ("time",),
                      by: Sequence[str] = ("institution",), odds_ratio: float = 2.0,
                      h: float = 4.5) -> ir.Table:
    """The SQL path of :func:`risk_adjusted_signals` (lazy, unordered): running sums of the
    log-likelihood-ratio weights and their running extremes, ``S⁺ = P − min(0, min P)``."""
    if not odds_ratio > 0 or odds_ratio == 1 or not h > 0:
        raise ValueError(f"odds_ratio must be > 0 and != 1, h > 0; got {odds_ratio!r}, {h!r}")
    by, order = list(by), list(order)
    _columns(table, outcome, order[0], by, expected)
    odds = max(float(odds_ratio), 1.0 / float(odds_ratio))
    inv = 1.0 / odds
    y, p = table[outcome].cast("float64"), table[expected].cast("float64")
    t = table.mutate(_y=y, _p=p, _ok=ibis.ifelse(y.notnull() & p.notnull(), True, False))
    run = ibis.window(group_by=by, order_by=order, preceding=None, following=0)
    pts = t.filter(t._ok)
    w_up = pts._y * float(np.log(odds)) - (1.0 - pts._p + odds * pts._p).ln()
    w_down = pts._y * float(-np.log(odds)) - (1.0 - pts._p + inv * pts._p).ln()
    pts = pts.mutate(_pu=w_up.sum().over(run), _pd=(-w_down).sum().over(run))
    pts = pts.mutate(_mu=pts._pu.min().over(run), _md=pts._pd.max().over(run))
    hi = pts._pu - ibis.least(0.0, pts._mu)
    lo = pts._pd - ibis.greatest(0.0, pts._md)
    up, down = hi > h, lo < -h
    pts = pts.mutate(point=ibis.literal("ok"), statistic=hi, statistic_lower=lo,
                     lower_limit=ibis.literal(-float(h)), upper_limit=ibis.literal(float(h)),
                     signal=up | down, side=ibis.cases((up & down, "both"), (up, "upper"),
                                                       (down, "lower"), else_=""),
                     assessment=ibis.cases((up & down, "mixed"), (up, "deterioration"),
                                           (down, "improvement"), else_=""))
    nul = ibis.null("float64")
    gaps = t.filter(~t._ok).mutate(
        point=ibis.literal("gap"), statistic=nul, statistic_lower=nul, lower_limit=nul,
        upper_limit=nul, signal=False, side=ibis.literal(""), assessment=ibis.literal(""))
    types = {"point": "string", "statistic": "float64", "statistic_lower": "float64",
             "lower_limit": "float64", "upper_limit": "float64", "signal": "boolean",
             "side": "string", "assessment": "string"}

    def shape(e: ir.Table) -> ir.Table:
        return e.select(*by, *order, e._y.name(outcome), e._p.name(expected),
                        *[e[c].cast(types[c]).name(c) for c in RISK_ADJUSTED_COLUMNS])
    return shape(pts).union(shape(gaps))
