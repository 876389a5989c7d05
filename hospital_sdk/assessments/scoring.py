"""Scoring an assessment result: item scores, peer percentiles, intervals, funnels and tiers.

:func:`score_items` completes an :class:`~hospital_sdk.assessments.result.AssessmentResult`:
it fills the score columns of ``items`` (:data:`~hospital_sdk.assessments.result.SCORE_COLUMNS`),
the funnel columns of ``departments`` and the ``tiers`` frame, and adds its assumptions to the
result's. :func:`small_count_suppression` hides small counts in a department (or doctor) frame
before it is exported.

What is known, and what is chosen
---------------------------------
The national grading is done within hospital classes by percentile of a total whose weights and
item rules are unpublished; only the cut-offs A++ = top 1 %, A+ = 1–10 %, A = 10–20 % are
confirmed (2023, general hospitals). So everything below is an *estimate*, and every choice is
written into the result's ``assumptions`` so the report prints it next to the tier.

Item score (per item, across the institutions of the result that have a value — the peers)
    Each value gets a *goodness*: the value for ``higher_better``, minus the value for
    ``lower_better``, minus the distance to the target range for ``target_range`` (0 inside),
    and for ``monitor`` either nothing (``monitor="excluded"``: shown, not scored) or minus the
    distance to the peers' median (``monitor="distance_from_median"``). With ``n`` peers and the
    average rank ``r`` of the goodness (1 = worst, ties share the mean rank),

    ``peer_percentile = 100 × (r − 1) ÷ (n − 1)``

    — the share of the other peers this institution does better than, a tie counting half — and
    ``score = peer_percentile`` (0 = worst of the group, 100 = best, 50 = the middle). With one
    peer there is nothing to compare: no percentile, no score. For excluded monitor items the
    percentile is the position of the value, low to high, and is no judgement.
Total and tier (per institution)
    ``total_score`` = Σ wᵢ·scoreᵢ ÷ Σ wᵢ over the institution's scored items (an item it has no
    value for is left out, not counted as zero). Among the ``N`` institutions with a total, with
    ``k`` the number of institutions whose total is higher, the institution's *top share* is
    ``100 × (k + 1) ÷ N`` — the national reading of "A++ = top 1 %" — and
    ``percentile = 100 − top share``. The tier is the first cut-off with top share ≤ cut-off.
Intervals and funnels
    Proportions (kind ``proportion``): Wilson on numerator/denominator; rates (kind ``rate``):
    exact Poisson on the numerator with the denominator as exposure; both scaled by the
    indicator's ``per`` (``value ÷ (numerator ÷ denominator)``: 100 for %, 1 000 for ‰ …). Item
    funnels are around the group's pooled value (Σ numerators ÷ Σ denominators) at each
    institution's denominator; department funnels around the institution's value at each
    department's denominator (:func:`~hospital_sdk.assessments.intervals.funnel_limits`,
    ``z = 3.09`` — the 99.8 % limits — by default). Other kinds get no interval (``ci_method``
    ``none``) and no funnel.

Examples
--------
>>> import pandas as pd
>>> from hospital_sdk.assessments.result import ITEM_COLUMNS, AssessmentResult
>>> rows = [dict.fromkeys(ITEM_COLUMNS) | {
...     "item": "1", "kind": "proportion", "unit": "%", "direction": "higher_better",
...     "status": "ok", "institution": h, "numerator": k, "denominator": 100, "value": k}
...     for h, k in (("H1", 30), ("H2", 20), ("H3", 10))]
>>> result = AssessmentResult("tertiary", "2024", "三级", "Tertiary", "2025", pd.DataFrame(rows))
>>> scored = score_items(result)
>>> scored.items[["institution", "score", "ci_method"]].values.tolist()
[['H1', 100.0, 'wilson'], ['H2', 50.0, 'wilson'], ['H3', 0.0, 'wilson']]
>>> scored.tiers[["institution", "total_score", "percentile", "tier"]].round(1).values.tolist()
[['H1', 100.0, 66.7, 'B++'], ['H2', 50.0, 33.3, 'B'], ['H3', 0.0, 0.0, 'C']]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hospital_sdk.assessments.intervals import (
    funnel_flag,
    funnel_limits,
    poisson_interval,
    wilson_interval,
)
from hospital_sdk.assessments.result import SCORE_COLUMNS, TIER_COLUMNS, AssessmentResult
from hospital_sdk.errors import ResultsError

__all__ = ["CONFIRMED_CUT_OFFS", "DEFAULT_CUT_OFFS", "score_items", "small_count_suppression"]

DEFAULT_CUT_OFFS: tuple[tuple[str, float], ...] = (
    ("A++", 1.0), ("A+", 10.0), ("A", 20.0), ("B++", 40.0), ("B+", 60.0), ("B", 80.0),
    ("C", 100.0))
"""Tier cut-offs as (label, top share in %): a tier holds the institutions whose top share is at
most its cut-off and above the previous one. A++/A+/A are confirmed (:data:`CONFIRMED_CUT_OFFS`);
the bands below are assumed."""

CONFIRMED_CUT_OFFS: tuple[tuple[str, float], ...] = (("A++", 1.0), ("A+", 10.0), ("A", 20.0))
"""Cut-offs confirmed for the 2023 tertiary general-hospital class (reference §6, [C:P7])."""

_NATIONAL_CLASS = "1,588 tertiary general hospitals were graded among themselves for 2023"
_SCORED_DIRECTIONS = ("higher_better", "lower_better", "target_range", "monitor")
_UNIT_PER = {"%": 100.0, "‰": 1000.0, "‱": 10000.0}


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def _fmt(x: float) -> str:
    return f"{x:g}"


# -- options -------------------------------------------------------------------------------------

def _check_cut_offs(cut_offs: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    pairs = tuple((str(label), float(cut)) for label, cut in cut_offs)
    cuts = [c for _, c in pairs]
    if (not pairs or any(not label for label, _ in pairs)
            or any(b <= a for a, b in zip(cuts, cuts[1:], strict=False))
            or cuts[0] <= 0 or cuts[-1] != 100.0):
        raise ValueError("tier_cut_offs must be (label, top share %) pairs with increasing "
                         f"cut-offs above 0, the last one 100; got {list(cut_offs)!r}")
    return pairs


def _item_weights(items: pd.DataFrame, weights: str | Mapping[str, float],
                  scope: str) -> tuple[np.ndarray, str]:
    """The weight of each row's item, and the sentence saying where the weights came from."""
    names = _text(items["item"])
    if isinstance(weights, str):
        if weights == "equal":
            w = np.ones(len(items))
            said = "Weights are equal: the official weights are not published."
        elif weights == "edition":
            w = _numbers(items, "weight")
            lacking = sorted(set(names[np.isnan(w)]))
            if lacking:
                raise ValueError("weights='edition' but the edition gives no weight for items "
                                 + ", ".join(lacking))
            said = "Weights are the edition file's: the official weights are not published."
        else:
            raise ValueError(f"weights must be 'equal', 'edition' or a mapping item -> weight, "
                             f"got {weights!r}")
    else:
        unknown = sorted(set(map(str, weights)) - set(names))
        if unknown:
            raise ValueError(f"weights name items not in the result: {', '.join(unknown)} "
                             f"(items are {', '.join(sorted(set(names)))})")
        given = {str(k): float(v) for k, v in weights.items()}
        if any(not v >= 0 for v in given.values()):
            raise ValueError(f"weights must be non-negative numbers, got {dict(weights)!r}")
        w = names.map(given).fillna(0.0).to_numpy(dtype=float)
        said = ("Weights are those given to the scoring (items not given weigh 0): the official "
                "weights are not published.")
    if any(v < 0 for v in w):
        raise ValueError("weights must not be negative")
    if scope == "national_monitoring":
        flagged = items["national_monitoring"].astype(object).fillna(False).astype(bool)
        w = np.where(flagged.to_numpy(), w, 0.0)
        said += " Only national-monitoring (▲) items count in the total."
    elif scope != "all":
        raise ValueError(f"scope must be 'all' or 'national_monitoring', got {scope!r}")
    return w, said


def _targets(items: pd.DataFrame,
             targets: Mapping[str, tuple[float | None, float | None]] | None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Target range (low, high) per row: from ``targets`` or columns target_low/target_high."""
    n = len(items)
    low = _numbers(items, "target_low") if "target_low" in items else np.full(n, np.nan)
    high = _numbers(items, "target_high") if "target_high" in items else np.full(n, np.nan)
    if targets:
        names = _text(items["item"])
        unknown = sorted(set(map(str, targets)) - set(names))
        if unknown:
            raise ValueError(f"targets name items not in the result: {', '.join(unknown)}")
        for item, (lo, hi) in targets.items():
            rows = (names == str(item)).to_numpy()
            low[rows] = np.nan if lo is None else float(lo)
            high[rows] = np.nan if hi is None else float(hi)
    return low, high


def _per(items: pd.DataFrame, num: np.ndarray, den: np.ndarray, val: np.ndarray) -> np.ndarray:
    """The indicator's ``per`` for each row: value ÷ (numerator ÷ denominator), one per item.

    The median over the item's rows with a positive numerator, snapped to a power of ten when
    within 1e-6 of one; without such a row, from the unit (% 100, ‰ 1 000, ‱ 10 000) or 100
    for a proportion and 1 otherwise.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = val / (num / den)
    raw = np.where((num > 0) & (den > 0) & np.isfinite(raw) & (raw > 0), raw, np.nan)
    by_item = pd.Series(raw).groupby(items["item"].to_numpy()).transform("median").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        power = 10.0 ** np.round(np.log10(by_item))
    by_item = np.where(np.abs(by_item / power - 1.0) < 1e-6, power, by_item)
    unit = _text(items["unit"]).map(_UNIT_PER).to_numpy(dtype=float)
    default = np.where(_text(items["kind"]).to_numpy() == "proportion", 100.0, 1.0)
    return np.where(np.isnan(by_item), np.where(np.isnan(unit), default, unit), by_item)


# -- the pieces ----------------------------------------------------------------------------------

def _percentiles(item: np.ndarray, good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid-rank percentile 100 (r − 1) ÷ (n − 1) of ``good`` within each item, and n."""
    frame = pd.DataFrame({"item": item, "good": good})
    groups = frame.groupby("item", sort=False)["good"]
    rank = groups.rank(method="average").to_numpy()
    n = groups.transform("count").to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(n >= 2, 100.0 * (rank - 1.0) / (n - 1.0), np.nan)
    return np.where(np.isnan(good), np.nan, pct), n


def _intervals(kind: np.ndarray, num: np.ndarray, den: np.ndarray, per: np.ndarray,
               ok: np.ndarray, confidence: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ci_low, ci_high, ci_method and the proportion / rate masks of the rows."""
    counted = ok & (den > 0) & (num >= 0)
    prop = counted & (kind == "proportion") & (num <= den)
    rate = counted & (kind == "rate")
    low = np.full(len(kind), np.nan)
    high = np.full(len(kind), np.nan)
    if prop.any():
        lo, hi = wilson_interval(num[prop], den[prop], confidence=confidence)
        low[prop], high[prop] = lo * per[prop], hi * per[prop]
    if rate.any():
        lo, hi = poisson_interval(num[rate], den[rate], confidence=confidence)
        low[rate], high[rate] = lo * per[rate], hi * per[rate]
    method = np.where(prop, "wilson", np.where(rate, "poisson_exact", "none")).astype(object)
    return low, high, method, prop, rate


def _funnel(target: np.ndarray, den: np.ndarray, values: np.ndarray, per: np.ndarray,
            prop: np.ndarray, rate: np.ndarray, z: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Funnel limits (in the value's unit) and flags for the rows in ``prop`` or ``rate``."""
    low = np.full(len(den), np.nan)
    high = np.full(len(den), np.nan)
    usable_prop = prop & (target >= 0) & (target <= 1)
    usable_rate = rate & (target >= 0)
    for mask, kind in ((usable_prop, "proportion"), (usable_rate, "rate")):
        if mask.any():
            limits = funnel_limits(target[mask], den[mask], kind=kind, z=z)
            low[mask] = limits["low"].to_numpy() * per[mask]
            high[mask] = limits["high"].to_numpy() * per[mask]
    return low, high, funnel_flag(values, low, high)


def _item_notes(items: pd.DataFrame, *, ok: np.ndarray, direction: np.ndarray,
                has_target: np.ndarray, n: np.ndarray, scored: np.ndarray, monitor: str,
                median: np.ndarray, t_low: np.ndarray, t_high: np.ndarray,
                weight: np.ndarray) -> np.ndarray:
    """The ``score_note`` of each row (vectorised string building)."""
    peers = pd.Series(n).fillna(0).astype(int).astype(str).to_numpy(dtype=object)
    reason = _text(items["reason"]).to_numpy(dtype=object)
    rng = np.array([f"[{'' if np.isnan(lo) else _fmt(lo)}, {'' if np.isnan(hi) else _fmt(hi)}]"
                    for lo, hi in zip(t_low, t_high, strict=True)], dtype=object)
    med = np.array([_fmt(m) if not np.isnan(m) else "" for m in median], dtype=object)
    among = " among " + peers + " institutions"
    how = np.select(
        [direction == "higher_better", direction == "lower_better",
         direction == "target_range", direction == "monitor"],
        ["higher is better", "lower is better", "distance to the target range " + rng,
         "closeness to the group median " + med],
        default="")
    note = np.select(
        [~ok,
         ~np.isin(direction, _SCORED_DIRECTIONS),
         (direction == "target_range") & ~has_target,
         (direction == "monitor") & (monitor == "excluded") & (n >= 2),
         (direction == "monitor") & (monitor == "excluded"),
         n < 2,
         scored],
        [np.where(reason == "", "not computable", "not computable: " + reason),
         "direction '" + direction.astype(object) + "' is not one scoring knows: not scored",
         "target_range without a target range: not scored",
         "monitor-only: shown, not scored (the percentile is the value's position" + among
         + ", low to high)",
         "monitor-only: shown, not scored",
         "only this institution has a value: no peers to compare, not scored",
         "score = percentile" + among + ", " + how],
        default="not scored")
    not_in_total = scored & (weight <= 0)
    return np.where(not_in_total, note + "; weight 0: not in the total", note).astype(object)


def _assumptions(weights_said: str, monitor: str, cut_offs: tuple[tuple[str, float], ...],
                 institutions: int) -> tuple[str, ...]:
    confirmed = dict(CONFIRMED_CUT_OFFS)
    bands, previous = [], 0.0
    for label, cut in cut_offs:
        text = f"{_fmt(previous)}–{_fmt(cut)} %" if previous else f"top {_fmt(cut)} %"
        bands.append((label, text, confirmed.get(label) == cut))
        previous = cut
    sure = [f"{label} {text}" for label, text, ok in bands if ok]
    assumed = [f"{label} {text}" for label, text, ok in bands if not ok]
    if sure:
        cut_text = (f"Tier cut-offs {', '.join(sure)} are the ones confirmed for the 2023 "
                    "general-hospital class")
        cut_text += (f"; {', '.join(assumed)} are assumed (unpublished)." if assumed else ".")
    else:
        cut_text = (f"Tier cut-offs {', '.join(assumed)} are assumed; the confirmed 2023 "
                    "general-hospital ones are A++ top 1 %, A+ 1–10 %, A 10–20 %.")
    monitor_text = ("Monitor-only items are shown and left out of the total."
                    if monitor == "excluded" else
                    "Monitor-only items are scored by closeness to the group median.")
    return (
        "The tier is an estimate, not the national result: the official item scoring rule, "
        "weights and total are not published.",
        weights_said,
        f"Percentiles are among this group's {institutions} institutions, not the national "
        f"comparison class ({_NATIONAL_CLASS}).",
        cut_text,
        "Each item's score is its percentile among the institutions with a value (0 worst, "
        "100 best, the direction respected); an institution's total is the weighted mean of its "
        "scored items, items without a value left out, not counted as zero.",
        monitor_text,
    )


def _tiers(items: pd.DataFrame, score: np.ndarray, weight: np.ndarray,
           cut_offs: tuple[tuple[str, float], ...], assumptions: str) -> pd.DataFrame:
    institutions = pd.unique(items["institution"])
    counted = ~np.isnan(score) & (weight > 0)
    frame = pd.DataFrame({
        "institution": items["institution"].to_numpy(),
        "ws": np.where(counted, score * weight, 0.0), "w": np.where(counted, weight, 0.0),
        "k": counted.astype(int)})
    sums = frame.groupby("institution", sort=False)[["ws", "w", "k"]].sum().reindex(institutions)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.where(sums["w"] > 0, sums["ws"] / sums["w"], np.nan)
    total_s = pd.Series(total, index=sums.index)
    higher_rank = total_s.rank(method="min", ascending=False).to_numpy()  # 1 + number higher
    n = float(total_s.notna().sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        top = 100.0 * higher_rank / n
    labels = np.array([label for label, _ in cut_offs], dtype=object)
    cuts = np.array([cut for _, cut in cut_offs])
    band = np.searchsorted(cuts, np.where(np.isnan(top), 0.0, top) - 1e-9, side="left")
    tier = np.where(np.isnan(top), None, labels[np.minimum(band, len(labels) - 1)])
    out = pd.DataFrame({
        "institution": sums.index, "total_score": total,
        "scored_items": sums["k"].to_numpy(dtype=int), "percentile": 100.0 - top,
        "tier": tier, "assumptions": assumptions})
    return out[list(TIER_COLUMNS)].reset_index(drop=True)


def _departments(departments: pd.DataFrame, items: pd.DataFrame, per: np.ndarray,
                 z: float) -> pd.DataFrame:
    deps = departments.copy()
    if deps.empty:
        return deps
    base = pd.DataFrame({
        "item": items["item"].to_numpy(), "institution": items["institution"].to_numpy(),
        "_kind": _text(items["kind"]).to_numpy(), "_per": per,
        "_num": _numbers(items, "numerator"), "_den": _numbers(items, "denominator"),
        "_ok": (_text(items["status"]) == "ok").to_numpy()})
    base = base.drop_duplicates(["item", "institution"])
    merged = deps[["item", "institution"]].merge(base, on=["item", "institution"], how="left")
    num, den = _numbers(deps, "numerator"), _numbers(deps, "denominator")
    value = _numbers(deps, "value")
    dper = merged["_per"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(np.isnan(value), num / den * dper, value)
        target = merged["_num"].to_numpy(dtype=float) / merged["_den"].to_numpy(dtype=float)
    kind = merged["_kind"].fillna("").to_numpy(dtype=object)
    suppressed = deps["suppressed"].astype(object).fillna(False).astype(bool).to_numpy()
    usable = (merged["_ok"].fillna(False).to_numpy(dtype=bool) & ~suppressed
              & (_text(deps["status"]).to_numpy() == "ok") & (den > 0) & (num >= 0)
              & np.isfinite(target))
    low, high, flag = _funnel(target, den, value, dper, usable & (kind == "proportion")
                              & (num <= den), usable & (kind == "rate"), z)
    deps["funnel_low"], deps["funnel_high"], deps["funnel_flag"] = low, high, flag
    return deps


# -- public --------------------------------------------------------------------------------------

def score_items(result: AssessmentResult, *,
                weights: str | Mapping[str, float] = "equal",
                monitor: str = "excluded",
                tier_cut_offs: Sequence[tuple[str, float]] = DEFAULT_CUT_OFFS,
                targets: Mapping[str, tuple[float | None, float | None]] | None = None,
                scope: str = "all",
                funnel_z: float = 3.09,
                confidence: float = 0.95) -> AssessmentResult:
    """Score every item among the result's institutions and estimate each institution's tier.

    The method (percentile, score, total, tier, intervals, funnels) is in the module docstring.

    Parameters
    ----------
    result
        A computed assessment; its institutions are the peers.
    weights
        ``"equal"`` (every item 1), ``"edition"`` (the items' ``weight`` column, from the
        edition file) or a mapping item → weight (items left out weigh 0). The ``weight``
        column of the returned items holds the weight used (0 for an item that cannot count).
    monitor
        ``"excluded"``: monitor-only items are shown (percentile = position of the value) but
        not scored; ``"distance_from_median"``: scored by closeness to the peers' median.
    tier_cut_offs
        (label, top share %) pairs, increasing, the last 100 (:data:`DEFAULT_CUT_OFFS`).
    targets
        Target ranges ``item -> (low, high)`` (either end ``None`` for open) of
        ``target_range`` items; without it, columns ``target_low``/``target_high`` of ``items``
        are used when present. A ``target_range`` item without a range is not scored.
    scope
        ``"all"`` or ``"national_monitoring"`` (only ▲ items count in the total; the others
        are still scored and shown).
    funnel_z
        z of the funnel limits written to the result (3.09: 99.8 %; 1.96: 95 %).
    confidence
        Level of the confidence intervals.

    Returns
    -------
    AssessmentResult
        A new result (the input is not changed) with the score columns of ``items``, the funnel
        columns of ``departments`` and ``tiers`` filled, and the scoring's statements added to
        ``assumptions``.

    Raises
    ------
    ResultsError
        The result lacks declared columns.
    ValueError
        An option has a value scoring cannot use (unknown item in ``weights``, bad cut-offs…).

    Examples
    --------
    A lower-is-better item, two institutions; the better one gets 100:

    >>> import pandas as pd
    >>> from hospital_sdk.assessments.result import ITEM_COLUMNS, AssessmentResult
    >>> rows = [dict.fromkeys(ITEM_COLUMNS) | {
    ...     "item": "9", "kind": "rate", "unit": "‰", "direction": "lower_better",
    ...     "status": "ok", "institution": h, "numerator": k, "denominator": 2000,
    ...     "value": k / 2} for h, k in (("H1", 4), ("H2", 10))]
    >>> r = score_items(AssessmentResult("t", "2024", "三级", "Tertiary", "2025",
    ...                                  pd.DataFrame(rows)))
    >>> r.items[["institution", "score", "ci_method"]].values.tolist()
    [['H1', 100.0, 'poisson_exact'], ['H2', 0.0, 'poisson_exact']]
    >>> [round(float(x), 3) for x in r.items.loc[0, ["ci_low", "ci_high"]]]
    [0.545, 5.121]
    """
    result.check()
    if monitor not in ("excluded", "distance_from_median"):
        raise ValueError(f"monitor must be 'excluded' or 'distance_from_median', got {monitor!r}")
    cut_offs = _check_cut_offs(tier_cut_offs)
    items = result.items.copy().reset_index(drop=True)
    for column in SCORE_COLUMNS:  # present (null) when the edition step declared them
        if column not in items:
            items[column] = np.nan
    weight, weights_said = _item_weights(items, weights, scope)

    item = _text(items["item"]).to_numpy(dtype=object)
    direction = _text(items["direction"]).to_numpy(dtype=object)
    kind = _text(items["kind"]).to_numpy(dtype=object)
    num, den = _numbers(items, "numerator"), _numbers(items, "denominator")
    val = _numbers(items, "value")
    ok = (_text(items["status"]).to_numpy() == "ok") & ~np.isnan(val)
    t_low, t_high = _targets(items, targets)
    has_target = ~(np.isnan(t_low) & np.isnan(t_high))

    present = np.where(ok, val, np.nan)
    median = pd.Series(present).groupby(item).transform("median").to_numpy(dtype=float)
    distance = np.fmax(np.nan_to_num(t_low, nan=-np.inf) - val, 0.0) + np.fmax(
        val - np.nan_to_num(t_high, nan=np.inf), 0.0)
    good = np.select(
        [direction == "higher_better", direction == "lower_better",
         (direction == "target_range") & has_target,
         (direction == "monitor") & (monitor == "excluded"), direction == "monitor"],
        [val, -val, -distance, val, -np.abs(val - median)], default=np.nan)
    good = np.where(ok, good, np.nan)
    pct, n = _percentiles(item, good)

    scored_item = (np.isin(direction, ("higher_better", "lower_better"))
                   | ((direction == "target_range") & has_target)
                   | ((direction == "monitor") & (monitor != "excluded")))
    scored = scored_item & ~np.isnan(pct)
    weight = np.where(scored_item, weight, 0.0)

    items["score"] = np.where(scored, pct, np.nan)
    items["peer_percentile"] = pct
    items["weight"] = weight
    items["score_note"] = _item_notes(
        items, ok=ok, direction=direction, has_target=has_target, n=n, scored=scored,
        monitor=monitor, median=median, t_low=t_low, t_high=t_high, weight=weight)

    per = _per(items, num, den, val)
    ci_low, ci_high, ci_method, prop, rate = _intervals(kind, num, den, per, ok, confidence)
    items["ci_low"], items["ci_high"], items["ci_method"] = ci_low, ci_high, ci_method
    counted = prop | rate
    pooled = pd.DataFrame({"n": np.where(counted, num, 0.0), "d": np.where(counted, den, 0.0)})
    sums = pooled.groupby(item).transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        group_value = (sums["n"] / sums["d"]).to_numpy(dtype=float)
    low, high, flag = _funnel(group_value, den, val, per, prop, rate, funnel_z)
    items["funnel_low"], items["funnel_high"], items["funnel_flag"] = low, high, flag

    statements = _assumptions(weights_said, monitor, cut_offs,
                              int(items["institution"].nunique()))
    tiers = _tiers(items, items["score"].to_numpy(dtype=float), weight, cut_offs,
                   " ".join(statements))
    departments = _departments(result.departments, items, per, funnel_z)
    kept = tuple(s for s in result.assumptions if s not in statements)
    return dataclasses.replace(result, items=items, departments=departments, tiers=tiers,
                               assumptions=kept + statements).check()


def small_count_suppression(departments: pd.DataFrame, threshold: float, *,
                            include_zero: bool = False) -> pd.DataFrame:
    """Hide small counts before an export: numerator, denominator and value become null.

    A row is suppressed when its denominator is below ``threshold`` or its numerator is above 0
    and below it. A numerator of 0 identifies nobody ("none of 500") and is kept unless
    ``include_zero``; its denominator still has to reach the threshold. The funnel limits and
    flag of a suppressed row are hidden too (the limits' width gives the denominator away).
    ``suppressed`` is set true on those rows (kept true where it already was).

    Parameters
    ----------
    departments
        A department (or doctor) frame with ``numerator``, ``denominator`` and ``value``.
    threshold
        The smallest count shown (e.g. 5 or 11).
    include_zero
        Also suppress numerators of 0.

    Returns
    -------
    pandas.DataFrame
        A copy; the input is not changed.

    Raises
    ------
    ResultsError
        The frame lacks numerator, denominator or value.
    ValueError
        ``threshold`` is not a positive number.

    Examples
    --------
    >>> frame = pd.DataFrame({"department": ["A", "B", "C", "D"], "numerator": [2, 30, 0, 0],
    ...                       "denominator": [40, 60, 500, 3], "value": [5.0, 50.0, 0.0, 0.0]})
    >>> out = small_count_suppression(frame, 5)
    >>> out[["department", "numerator", "suppressed"]].values.tolist()
    [['A', nan, True], ['B', 30.0, False], ['C', 0.0, False], ['D', nan, True]]
    """
    missing = [c for c in ("numerator", "denominator", "value") if c not in departments]
    if missing:
        raise ResultsError(f"small-count suppression: the frame lacks {', '.join(missing)}")
    if isinstance(threshold, bool) or not (isinstance(threshold, int | float)
                                           and math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    out = departments.copy()
    num, den = _numbers(out, "numerator"), _numbers(out, "denominator")
    small_num = (num < threshold) & ((num > 0) | include_zero)
    small = (den < threshold) | small_num
    before = (out["suppressed"].astype(object).fillna(False).astype(bool).to_numpy()
              if "suppressed" in out else np.zeros(len(out), dtype=bool))
    for column in ("numerator", "denominator", "value", "funnel_low", "funnel_high"):
        if column in out:
            out[column] = np.where(small, np.nan, _numbers(out, column))
    if "funnel_flag" in out:
        out["funnel_flag"] = out["funnel_flag"].astype(object).where(~small, None)
    out["suppressed"] = before | small
    return out
