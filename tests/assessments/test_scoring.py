"""Scoring a hand-built assessment result: every score, percentile and tier worked out by hand.

The group (3 institutions, 4 items):

===== ============================ ============== ============ ============ ============
item  indicator (kind, unit)       direction      H1           H2           H3
===== ============================ ============== ============ ============ ============
1     surgery share (proportion %) higher_better  30/100 = 30  40/160 = 25  10/50 = 20
2     mortality (rate ‰)           lower_better   2/1000 = 2   9/1500 = 6   4/1000 = 4
3     mean LOS (mean, days)        monitor        8.0          10.0         9.0
4     satisfaction (reported)      higher_better  80           90           not computable
===== ============================ ============== ============ ============ ============

Percentile = 100 × (average rank − 1) ÷ (peers − 1), rank 1 = worst; score = percentile.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from hospital_sdk.assessments.result import (
    DEPARTMENT_COLUMNS,
    ITEM_COLUMNS,
    SCORE_COLUMNS,
    AssessmentResult,
)
from hospital_sdk.assessments.scoring import score_items, small_count_suppression
from hospital_sdk.errors import ResultsError

ITEMS = {  # item -> (indicator, kind, unit, direction, ▲)
    "1": ("surgery_share", "proportion", "%", "higher_better", True),
    "2": ("inpatient_mortality", "rate", "‰", "lower_better", True),
    "3": ("mean_los", "mean", "天", "monitor", False),
    "4": ("staff_satisfaction", "reported", "分", "higher_better", False),
}
VALUES = {  # (item, institution) -> (numerator, denominator, value)
    ("1", "H1"): (30, 100, 30.0), ("1", "H2"): (40, 160, 25.0), ("1", "H3"): (10, 50, 20.0),
    ("2", "H1"): (2, 1000, 2.0), ("2", "H2"): (9, 1500, 6.0), ("2", "H3"): (4, 1000, 4.0),
    ("3", "H1"): (800, 100, 8.0), ("3", "H2"): (1500, 150, 10.0), ("3", "H3"): (900, 100, 9.0),
    ("4", "H1"): (None, None, 80.0), ("4", "H2"): (None, None, 90.0),
    ("4", "H3"): (None, None, None),
}


def _item_rows(values=VALUES, items=ITEMS, institutions=("H1", "H2", "H3")) -> pd.DataFrame:
    rows = []
    for order, (item, (ind, kind, unit, direction, flag)) in enumerate(items.items()):
        for inst in institutions:
            num, den, value = values[(item, inst)]
            rows.append(dict.fromkeys(ITEM_COLUMNS) | {
                "assessment": "tertiary", "edition": "2024", "item": item, "order": order,
                "indicator_id": ind, "version": "1", "kind": kind, "unit": unit,
                "direction": direction, "national_monitoring": flag, "weight": None,
                "institution": inst, "period": "2025", "numerator": num, "denominator": den,
                "value": value, "status": "ok" if value is not None else "not_computable",
                "reason": None if value is not None else "no reported value submitted"})
    return pd.DataFrame(rows)


def _result(items: pd.DataFrame | None = None, departments: pd.DataFrame | None = None,
            assumptions: tuple[str, ...] = ()) -> AssessmentResult:
    extra = {} if departments is None else {"departments": departments}
    return AssessmentResult("tertiary", "2024", "三级公立医院绩效考核", "Tertiary", "2025",
                            _item_rows() if items is None else items,
                            assumptions=assumptions, **extra).check()


def _by(frame: pd.DataFrame, column: str, item: str) -> dict[str, object]:
    rows = frame[frame["item"] == item]
    return dict(zip(rows["institution"], rows[column], strict=True))


def _close(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        if value is None:
            assert pd.isna(got[key]), key
        elif isinstance(value, str):
            assert got[key] == value, key
        else:
            assert got[key] == pytest.approx(value, abs=1e-9), key


# -- item scores ----------------------------------------------------------------------------------

def test_item_scores_by_hand():
    items = score_items(_result()).items
    # item 1, higher better: 30 > 25 > 20 -> ranks H1 3, H2 2, H3 1 -> 100, 50, 0
    _close(_by(items, "score", "1"), {"H1": 100.0, "H2": 50.0, "H3": 0.0})
    # item 2, lower better: 2 < 4 < 6 -> H1 best (100), H3 50, H2 worst (0)
    _close(_by(items, "score", "2"), {"H1": 100.0, "H2": 0.0, "H3": 50.0})
    # item 3, monitor excluded: no scores; the percentile is the position low -> high:
    # 8 (H1) 0, 9 (H3) 50, 10 (H2) 100
    _close(_by(items, "score", "3"), {"H1": None, "H2": None, "H3": None})
    _close(_by(items, "peer_percentile", "3"), {"H1": 0.0, "H2": 100.0, "H3": 50.0})
    # item 4: 2 peers (H3 not computable): H1 80 -> 0, H2 90 -> 100, H3 none
    _close(_by(items, "score", "4"), {"H1": 0.0, "H2": 100.0, "H3": None})
    _close(_by(items, "peer_percentile", "4"), {"H1": 0.0, "H2": 100.0, "H3": None})
    assert (items["score"].dropna() == items["peer_percentile"][items["score"].notna()]).all()


def test_score_notes_say_how_each_row_was_treated():
    notes = _by(score_items(_result()).items, "score_note", "1")
    assert notes["H1"] == "score = percentile among 3 institutions, higher is better"
    assert _by(score_items(_result()).items, "score_note", "2")["H2"].endswith("lower is better")
    monitor = _by(score_items(_result()).items, "score_note", "3")["H1"]
    assert monitor.startswith("monitor-only: shown, not scored")
    assert _by(score_items(_result()).items, "score_note", "4") == {
        "H1": "score = percentile among 2 institutions, higher is better",
        "H2": "score = percentile among 2 institutions, higher is better",
        "H3": "not computable: no reported value submitted"}


def test_monitor_scored_by_distance_from_median():
    items = score_items(_result(), monitor="distance_from_median").items
    # median of 8, 10, 9 is 9; distances H1 1, H2 1, H3 0 -> H1 and H2 tie at the bottom
    # (average rank 1.5 -> 100 × 0.5 / 2 = 25), H3 best (rank 3 -> 100)
    _close(_by(items, "score", "3"), {"H1": 25.0, "H2": 25.0, "H3": 100.0})
    assert _by(items, "score_note", "3")["H3"] == (
        "score = percentile among 3 institutions, closeness to the group median 9")


def test_ties_share_the_average_rank():
    values = dict(VALUES) | {("1", "H2"): (30, 100, 30.0)}  # H1 = H2 = 30, H3 20
    items = score_items(_result(_item_rows(values))).items
    # ranks H3 1, H1 and H2 (2 + 3) / 2 = 2.5 -> 100 × 1.5 / 2 = 75
    _close(_by(items, "score", "1"), {"H1": 75.0, "H2": 75.0, "H3": 0.0})


def test_target_range_scores_distance_to_the_range():
    spec = dict(ITEMS) | {"1": ("bed_occupancy", "proportion", "%", "target_range", True)}
    values = dict(VALUES) | {("1", "H1"): (95, 100, 95.0), ("1", "H2"): (136, 160, 85.0),
                             ("1", "H3"): (35, 50, 70.0)}
    result = _result(_item_rows(values, spec))
    items = score_items(result, targets={"1": (85, 93)}).items
    # distances to [85, 93]: H1 95 -> 2, H2 85 -> 0 (inside), H3 70 -> 15:
    # H2 best (100), H1 50, H3 0
    _close(_by(items, "score", "1"), {"H1": 50.0, "H2": 100.0, "H3": 0.0})
    assert _by(items, "score_note", "1")["H1"].endswith("distance to the target range [85, 93]")
    open_ended = score_items(result, targets={"1": (None, 90)}).items
    # only a high end: H1 5 above, H2 and H3 inside -> H2, H3 tie at the top (75), H1 0
    _close(_by(open_ended, "score", "1"), {"H1": 0.0, "H2": 75.0, "H3": 75.0})
    columns = result.items.assign(target_low=85.0, target_high=93.0)  # the columns, if present
    _close(_by(score_items(_result(columns)).items, "score", "1"),
           {"H1": 50.0, "H2": 100.0, "H3": 0.0})
    untargeted = score_items(result).items
    _close(_by(untargeted, "score", "1"), {"H1": None, "H2": None, "H3": None})
    assert _by(untargeted, "score_note", "1")["H1"] == (
        "target_range without a target range: not scored")
    assert _by(untargeted, "weight", "1") == {"H1": 0.0, "H2": 0.0, "H3": 0.0}


def test_one_institution_has_no_peers():
    items = _item_rows(institutions=("H1",), values={k: v for k, v in VALUES.items()
                                                     if k[1] == "H1"})
    scored = score_items(_result(items))
    assert scored.items["score"].isna().all()
    assert _by(scored.items, "score_note", "1")["H1"] == (
        "only this institution has a value: no peers to compare, not scored")
    tiers = scored.tiers.iloc[0]
    assert tiers["scored_items"] == 0 and np.isnan(tiers["total_score"])
    assert pd.isna(tiers["tier"])


def test_unknown_direction_is_not_scored():
    spec = dict(ITEMS) | {"1": ("surgery_share", "proportion", "%", "sideways", True)}
    items = score_items(_result(_item_rows(items=spec))).items
    _close(_by(items, "score", "1"), {"H1": None, "H2": None, "H3": None})
    assert _by(items, "score_note", "1")["H1"] == (
        "direction 'sideways' is not one scoring knows: not scored")


# -- totals and tiers -----------------------------------------------------------------------------

def test_tiers_by_hand():
    tiers = score_items(_result()).tiers.set_index("institution")
    # totals, equal weights, monitor excluded (items 1, 2, 4):
    #   H1 (100 + 100 + 0) / 3 = 66.667   H2 (50 + 0 + 100) / 3 = 50   H3 (0 + 50) / 2 = 25
    assert tiers["total_score"].tolist() == pytest.approx([200 / 3, 50.0, 25.0])
    assert tiers["scored_items"].tolist() == [3, 3, 2]
    # top share 100 × rank / 3: H1 33.3 (≤ 40: B++), H2 66.7 (≤ 80: B), H3 100 (C);
    # percentile = 100 − top share
    assert tiers["percentile"].tolist() == pytest.approx([200 / 3, 100 / 3, 0.0])
    assert tiers["tier"].tolist() == ["B++", "B", "C"]


def test_tiers_with_monitor_by_distance():
    tiers = score_items(_result(), monitor="distance_from_median").tiers.set_index("institution")
    # item 3 adds H1 25, H2 25, H3 100:
    #   H1 (100 + 100 + 25 + 0) / 4 = 56.25   H2 (50 + 0 + 25 + 100) / 4 = 43.75
    #   H3 (0 + 50 + 100) / 3 = 50
    # order H1 > H3 > H2: H1 B++ (33.3), H3 B (66.7), H2 C (100)
    assert tiers["total_score"].tolist() == pytest.approx([56.25, 43.75, 50.0])
    assert tiers.loc[["H1", "H3", "H2"], "tier"].tolist() == ["B++", "B", "C"]


def test_tied_totals_share_the_better_rank():
    values = dict(VALUES) | {("4", "H1"): (None, None, 90.0)}  # H1 = H2 = 90 on item 4
    tied = score_items(_result(_item_rows(values)), weights={"4": 1}).tiers
    # only item 4 counts: H1 and H2 tie (average rank 1.5 of 2 -> 50 each), H3 has no value
    # and no total; among the 2 with a total both have nobody higher: rank 1, top share
    # 100 × 1 / 2 = 50 -> B+ (40–60), percentile 50
    assert tied["total_score"].tolist()[:2] == [50.0, 50.0]
    _close(tied.set_index("institution")["tier"].to_dict(), {"H1": "B+", "H2": "B+", "H3": None})
    assert tied["percentile"].tolist()[:2] == [50.0, 50.0]
    assert np.isnan(tied["percentile"].iloc[2]) and tied["scored_items"].iloc[2] == 0


def test_cut_offs_on_a_group_of_one_hundred():
    # one item, institutions I001..I100 with values 1..100 (higher better): the institution with
    # value v has rank 101 − v from the top, top share (101 − v) %.
    names = [f"I{v:03d}" for v in range(1, 101)]
    items = _item_rows(values={("1", n): (v, 100, float(v)) for v, n in enumerate(names, 1)},
                       items={"1": ITEMS["1"]}, institutions=names)
    tiers = score_items(_result(items)).tiers.set_index("institution")["tier"]
    # top 1 %: A++; 1–10 %: A+; 10–20 %: A; 20–40 %: B++; 40–60 %: B+; 60–80 %: B; 80–100 %: C
    assert tiers["I100"] == "A++"
    assert tiers["I099"] == "A+" and tiers["I091"] == "A+"
    assert tiers["I090"] == "A" and tiers["I081"] == "A"
    assert tiers["I080"] == "B++" and tiers["I061"] == "B++"
    assert tiers["I060"] == "B+" and tiers["I041"] == "B+"
    assert tiers["I040"] == "B" and tiers["I021"] == "B"
    assert tiers["I020"] == "C" and tiers["I001"] == "C"
    assert tiers.value_counts().to_dict() == {
        "C": 20, "B": 20, "B+": 20, "B++": 20, "A": 10, "A+": 9, "A++": 1}


def test_custom_cut_offs_and_their_assumption():
    scored = score_items(_result(), tier_cut_offs=[("A++", 1), ("A+", 10), ("A", 20),
                                                   ("B", 70), ("C", 100)])
    assert scored.tiers["tier"].tolist() == ["B", "B", "C"]  # 33.3 and 66.7 ≤ 70
    text = scored.tiers["assumptions"].iloc[0]
    assert "A++ top 1 %, A+ 1–10 %, A 10–20 % are the ones confirmed" in text
    assert "B 20–70 %, C 70–100 % are assumed" in text


@pytest.mark.parametrize("cut_offs", [
    [], [("A", 50)], [("A", 50), ("B", 40), ("C", 100)], [("", 100)], [("A", 0), ("B", 100)],
])
def test_bad_cut_offs_are_refused(cut_offs):
    with pytest.raises(ValueError, match="tier_cut_offs"):
        score_items(_result(), tier_cut_offs=cut_offs)


def test_assumptions_are_written_out():
    scored = score_items(_result(assumptions=("Reported inputs from the 2025 forms.",)))
    text = scored.tiers["assumptions"].iloc[0]
    assert "Weights are equal: the official weights are not published." in text
    assert "among this group's 3 institutions, not the national comparison class" in text
    assert ("A++ top 1 %, A+ 1–10 %, A 10–20 % are the ones confirmed for the 2023 "
            "general-hospital class; B++ 20–40 %, B+ 40–60 %, B 60–80 %, C 80–100 % are "
            "assumed") in text
    assert "The tier is an estimate" in text
    assert "Monitor-only items are shown and left out of the total." in text
    assert scored.assumptions[0] == "Reported inputs from the 2025 forms."
    assert all(s in text for s in scored.assumptions[1:])
    again = score_items(scored)  # scoring twice does not repeat the statements
    assert again.assumptions == scored.assumptions


# -- weights and scope ----------------------------------------------------------------------------

def test_weights_mapping():
    scored = score_items(_result(), weights={"1": 2, "2": 1, "4": 1})
    # H1 (2×100 + 100 + 0) / 4 = 75; H2 (2×50 + 0 + 100) / 4 = 50; H3 (2×0 + 50) / 3 = 16.667
    assert scored.tiers["total_score"].tolist() == pytest.approx([75.0, 50.0, 50 / 3])
    assert _by(scored.items, "weight", "1") == {"H1": 2.0, "H2": 2.0, "H3": 2.0}
    assert _by(scored.items, "weight", "3") == {"H1": 0.0, "H2": 0.0, "H3": 0.0}
    assert "Weights are those given to the scoring" in scored.tiers["assumptions"].iloc[0]
    partial = score_items(_result(), weights={"1": 1})
    assert _by(partial.items, "score_note", "2")["H1"].endswith("; weight 0: not in the total")
    assert partial.tiers["total_score"].tolist() == [100.0, 50.0, 0.0]


def test_weights_refused():
    with pytest.raises(ValueError, match="not in the result: 9"):
        score_items(_result(), weights={"9": 1})
    with pytest.raises(ValueError, match="non-negative"):
        score_items(_result(), weights={"1": -1})
    with pytest.raises(ValueError, match="weights must be"):
        score_items(_result(), weights="official")
    with pytest.raises(ValueError, match="no weight for items 1, 2, 3, 4"):
        score_items(_result(), weights="edition")


def test_edition_weights():
    items = _item_rows()
    items["weight"] = items["item"].map({"1": 3.0, "2": 1.0, "3": 1.0, "4": 0.0})
    tiers = score_items(_result(items), weights="edition").tiers
    # H1 (3×100 + 100) / 4 = 100; H2 (3×50 + 0) / 4 = 37.5; H3 (0 + 50) / 4 = 12.5
    assert tiers["total_score"].tolist() == pytest.approx([100.0, 37.5, 12.5])


def test_scope_national_monitoring():
    scored = score_items(_result(), scope="national_monitoring")
    # only the ▲ items 1 and 2: H1 100, H2 25, H3 25 (item 4 is shown and scored, weight 0)
    assert scored.tiers["total_score"].tolist() == pytest.approx([100.0, 25.0, 25.0])
    _close(_by(scored.items, "score", "4"), {"H1": 0.0, "H2": 100.0, "H3": None})
    assert "Only national-monitoring (▲) items" in scored.tiers["assumptions"].iloc[0]
    with pytest.raises(ValueError, match="scope"):
        score_items(_result(), scope="some")


# -- intervals and funnels ------------------------------------------------------------------------

def test_confidence_intervals_by_kind():
    items = score_items(_result()).items
    # item 1 H1, Wilson 30/100: centre (0.3 + 0.019207) / 1.038415 = 0.307399, half
    # 1.959964 / 1.038415 × sqrt(0.0021 + 0.000096) = 0.088450 -> (21.895, 39.585) %
    assert _by(items, "ci_low", "1")["H1"] == pytest.approx(21.8949, abs=1e-3)
    assert _by(items, "ci_high", "1")["H1"] == pytest.approx(39.5849, abs=1e-3)
    # item 2 H1, 2 deaths in 1,000: Garwood (0.2422, 7.2247) per 1,000 (per derived: 2 / 0.002)
    assert _by(items, "ci_low", "2")["H1"] == pytest.approx(0.2422, abs=1e-4)
    assert _by(items, "ci_high", "2")["H1"] == pytest.approx(7.2247, abs=1e-4)
    assert set(_by(items, "ci_method", "1").values()) == {"wilson"}
    assert set(_by(items, "ci_method", "2").values()) == {"poisson_exact"}
    assert set(_by(items, "ci_method", "3").values()) == {"none"}  # a mean: no interval
    assert set(_by(items, "ci_method", "4").values()) == {"none"}
    assert items.loc[items["ci_method"] == "none", ["ci_low", "ci_high"]].isna().all().all()


def test_per_from_the_unit_when_every_numerator_is_zero():
    values = dict(VALUES) | {("2", h): (0, 1000, 0.0) for h in ("H1", "H2", "H3")}
    items = score_items(_result(_item_rows(values))).items
    # 0 events in 1,000: Garwood high 3.689 / 1000, per 1,000 from the unit ‰ -> 3.689 ‰
    assert _by(items, "ci_high", "2")["H1"] == pytest.approx(3.6889, abs=1e-4)
    assert _by(items, "ci_low", "2")["H1"] == 0.0


def test_item_funnel_around_the_group_value():
    items = score_items(_result()).items
    # item 1: pooled 80 / 310 = 0.258065; at n = 100, 3.09 × sqrt(0.258065 × 0.741935 / 100)
    # = 0.135210 -> (12.2855, 39.3274) %; at n = 50: (6.6850, 44.9279) %
    assert _by(items, "funnel_low", "1")["H1"] == pytest.approx(12.2855, abs=1e-3)
    assert _by(items, "funnel_high", "1")["H1"] == pytest.approx(39.3274, abs=1e-3)
    assert _by(items, "funnel_high", "1")["H3"] == pytest.approx(44.9279, abs=1e-3)
    assert set(_by(items, "funnel_flag", "1").values()) == {"within"}
    # item 2: pooled 15 / 3500 per day; at 1,000 days mu = 4.286, F(0) = 0.0138 > 0.001 -> low 0;
    # high from Spiegelhalter's interpolation: 11.5626 ‰ (tests/assessments/test_intervals.py)
    assert _by(items, "funnel_low", "2")["H1"] == 0.0
    assert _by(items, "funnel_high", "2")["H1"] == pytest.approx(11.5626, abs=1e-3)
    assert pd.isna(pd.Series(_by(items, "funnel_flag", "3"))).all()  # a mean: no funnel
    wide = score_items(_result(), funnel_z=1.96).items
    assert _by(wide, "funnel_high", "1")["H1"] < _by(items, "funnel_high", "1")["H1"]


def _departments() -> pd.DataFrame:
    rows = [  # institution H1, item 1 (30 %) and item 2 (2 ‰)
        ("1", "D1", 18, 20, 90.0), ("1", "D2", 12, 80, 15.0), ("1", "D3", 2, 4, 50.0),
        ("2", "D1", 2, 500, 4.0), ("3", "D1", 400, 50, 8.0)]
    return pd.DataFrame([dict.fromkeys(DEPARTMENT_COLUMNS) | {
        "item": item, "institution": "H1", "department": dept, "numerator": num,
        "denominator": den, "value": value, "status": "ok", "suppressed": False}
        for item, dept, num, den, value in rows])


def test_department_funnel_around_the_institution_value():
    deps = score_items(_result(departments=_departments())).departments
    d = deps.set_index(["item", "department"])
    # around H1's 30 %, z = 3.09:
    # D1 n = 20: sd = sqrt(0.21 / 20) = 0.102470 -> (0, 61.663) %, 90 % above
    assert d.loc[("1", "D1"), "funnel_low"] == 0.0
    assert d.loc[("1", "D1"), "funnel_high"] == pytest.approx(61.6632, abs=1e-3)
    assert d.loc[("1", "D1"), "funnel_flag"] == "above"
    # D2 n = 80: sd = 0.051235 -> (14.168, 45.832) %, 15 % within (noise at 99.8 %)
    assert d.loc[("1", "D2"), "funnel_low"] == pytest.approx(14.1684, abs=1e-3)
    assert d.loc[("1", "D2"), "funnel_flag"] == "within"
    # D3 n = 4: 2 of 4 = 50 % but the limits span (0, 100) %: a small department's extreme
    assert (d.loc[("1", "D3"), "funnel_low"], d.loc[("1", "D3"), "funnel_high"]) == (0.0, 100.0)
    assert d.loc[("1", "D3"), "funnel_flag"] == "within"
    # item 2 D1: 0.002 per day × 500 = mu 1: r = 5 for p = 0.998999, F(4) = 0.996340,
    # F(5) = 0.999406, a = 0.1327 -> (5 − 0.1327) / 500 × 1000 = 9.7347 ‰; 4 ‰ within
    assert d.loc[("2", "D1"), "funnel_high"] == pytest.approx(9.7347, abs=1e-3)
    assert d.loc[("2", "D1"), "funnel_flag"] == "within"
    assert pd.isna(d.loc[("3", "D1"), "funnel_flag"])  # a mean: no funnel
    # at 95 % D2 (15 % < 30 − 1.96 × 5.1235 = 19.958 %) is below
    wide = score_items(_result(departments=_departments()), funnel_z=1.96).departments
    assert wide.set_index(["item", "department"]).loc[("1", "D2"), "funnel_flag"] == "below"


# -- the result -----------------------------------------------------------------------------------

def test_result_is_new_complete_and_the_input_unchanged():
    result = _result(departments=_departments())
    before_items = result.items.copy()
    before_deps = result.departments.copy()
    scored = score_items(result)
    assert scored is not result and dataclasses.replace(scored).check() is not None
    pd.testing.assert_frame_equal(result.items, before_items)
    pd.testing.assert_frame_equal(result.departments, before_deps)
    assert list(scored.items.columns) == list(ITEM_COLUMNS) + list(SCORE_COLUMNS)
    with_scores = _item_rows().assign(**dict.fromkeys(SCORE_COLUMNS))  # null before scoring
    rescored = score_items(_result(with_scores))
    assert list(rescored.items.columns) == list(with_scores.columns)
    pd.testing.assert_frame_equal(rescored.tiers, scored.tiers)
    assert scored.items[list(SCORE_COLUMNS)].notna().any().all()
    assert scored.tiers["institution"].tolist() == ["H1", "H2", "H3"]


def test_missing_columns_and_options_are_refused():
    broken = dataclasses.replace(_result(), items=_item_rows().drop(columns=["direction"]))
    with pytest.raises(ResultsError, match="items lacks columns direction"):
        score_items(broken)
    with pytest.raises(ValueError, match="monitor"):
        score_items(_result(), monitor="ignore")
    with pytest.raises(ValueError, match="targets name items not in the result"):
        score_items(_result(), targets={"7": (1, 2)})


# -- small-count suppression ----------------------------------------------------------------------

def test_small_count_suppression():
    deps = score_items(_result(departments=_departments())).departments
    out = small_count_suppression(deps, 5).set_index(["item", "department"])
    # ("1", "D3"): 2 of 4 -> both below 5: hidden; ("1", "D1"), ("1", "D2"): shown;
    # ("2", "D1"): numerator 2 (> 0, < 5): hidden
    assert out["suppressed"].to_dict() == {
        ("1", "D1"): False, ("1", "D2"): False, ("1", "D3"): True, ("2", "D1"): True,
        ("3", "D1"): False}
    hidden = out.loc[[("1", "D3"), ("2", "D1")]]
    assert hidden[["numerator", "denominator", "value", "funnel_low", "funnel_high"]
                  ].isna().all().all()
    assert hidden["funnel_flag"].isna().all()  # the limits' width would give n away
    assert out.loc[("1", "D1"), "numerator"] == 18
    assert deps["suppressed"].eq(False).all()  # the input is not changed


def test_small_count_suppression_zero_and_already_suppressed():
    frame = pd.DataFrame({"numerator": [0, 0, 50, 7], "denominator": [500, 3, 60, 70],
                          "value": [0.0, 0.0, 83.3, 10.0], "suppressed": [False, False, False,
                                                                         True]})
    out = small_count_suppression(frame, 11)
    # 0 of 500: nobody to identify, shown; 0 of 3: denominator small; 7 of 70: numerator small
    assert out["suppressed"].tolist() == [False, True, False, True]
    assert out["numerator"].tolist()[0] == 0
    strict = small_count_suppression(frame, 11, include_zero=True)
    assert strict["suppressed"].tolist() == [True, True, False, True]
    kept = small_count_suppression(frame.iloc[2:3].assign(suppressed=True), 11)
    assert kept["suppressed"].tolist() == [True]  # stays suppressed


def test_small_count_suppression_refuses():
    with pytest.raises(ResultsError, match="lacks denominator"):
        small_count_suppression(pd.DataFrame({"numerator": [1], "value": [1.0]}), 5)
    for bad in (0, -1, float("nan"), "5", True):
        with pytest.raises(ValueError, match="threshold"):
            small_count_suppression(_departments(), bad)
