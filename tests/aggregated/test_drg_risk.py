"""drg_risk on a hand example: four groups with mortality 1/2, 1/4, 1/8, 1/16 and one without deaths.

By hand, log scale (V1): ln m = -j·ln 2 for j = 1..4, so μ = -2.5·ln 2 and the population SD is
ln 2·√1.25 (deviations ±1.5, ±0.5 in units of ln 2: (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25).
Hence z_j = (2.5 - j) / √1.25: AA11 +1.3416, BB11 +0.4472, CC11 -0.4472, DD11 -1.3416.
With k = 1 only DD11 (z < -1) is low-risk; EE11 (no deaths) scores 0.
"""

from __future__ import annotations

import math

import ibis.expr.types as ir
import pytest

from hospital_sdk.aggregated import build_drg_risk
from hospital_sdk.aggregated.drg_risk import COLUMNS
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.errors import ContractError

GROUPS = {  # (grouper_version, drg_code): (cases, deaths)
    ("V1", "AA11"): (2, 1), ("V1", "BB11"): (4, 1), ("V1", "CC11"): (8, 1),
    ("V1", "DD11"): (16, 1), ("V1", "EE11"): (3, 0),
    ("V2", "FF11"): (5, 1),  # the only group of V2: SD 0, z undefined
}


def _tables() -> dict[str, ir.Table]:
    rows = [{"grouper_version": v, "drg_code": d,
             "discharge_disposition": "5" if i < deaths else "1"}
            for (v, d), (cases, deaths) in GROUPS.items() for i in range(cases)]
    rows.append({"grouper_version": "V1", "drg_code": None, "discharge_disposition": "5"})
    return {"inpatient_stay": cleaned_memtable("inpatient_stay", rows)}


def _risk(**kw: object) -> dict[tuple[str, str], dict]:
    rows = build_drg_risk(_tables(), **kw).to_pyarrow().to_pylist()
    return {(r["grouper_version"], r["drg_code"]): r for r in rows}


def test_log_scale_hand_example() -> None:
    risk = _risk()
    assert sorted(risk) == sorted(GROUPS)  # the stay without a DRG makes no group
    root = math.sqrt(1.25)
    for code, j in (("AA11", 1), ("BB11", 2), ("CC11", 3), ("DD11", 4)):
        row = risk["V1", code]
        assert row["mortality"] == pytest.approx(2.0 ** -j)
        assert row["z_score"] == pytest.approx((2.5 - j) / root)
    assert [risk["V1", c]["risk_score"] for c in ("AA11", "BB11", "CC11", "DD11", "EE11")] == [
        4, 3, 2, 1, 0]
    assert [c for (_, c), r in risk.items() if r["is_low_risk"]] == ["DD11"]
    assert (risk["V1", "EE11"]["cases"], risk["V1", "EE11"]["deaths"]) == (3, 0)
    assert risk["V1", "EE11"]["z_score"] is None


def test_single_group_version_has_no_low_risk_group() -> None:
    row = _risk()["V2", "FF11"]
    assert (row["z_score"], row["risk_score"], row["is_low_risk"]) == (None, None, False)


def test_threshold_is_a_parameter() -> None:
    # k = 0.4: CC11's z = -0.4472 < -0.4 joins DD11; BB11's +0.4472 >= 0.4 is now "high"
    risk = _risk(sd_threshold=0.4)
    assert sorted(c for (_, c), r in risk.items() if r["is_low_risk"]) == ["CC11", "DD11"]
    assert risk["V1", "BB11"]["risk_score"] == 4


def test_linear_scale_hand_example() -> None:
    # V1 mortalities 0.5, 0.25, 0.125, 0.0625, 0 (all five groups): mean 0.9375 / 5 = 0.1875;
    # squared deviations 0.09765625 + 0.00390625 + 0.00390625 + 0.015625 + 0.03515625 = 0.15625,
    # / 5 = 0.03125, SD = 0.1767767. EE11: z = -0.1875 / 0.1767767 = -1.0607 -> low-risk;
    # DD11: z = -0.125 / 0.1767767 = -0.7071 -> not.
    risk = _risk(scale="linear")
    sd = math.sqrt(0.03125)
    assert risk["V1", "EE11"]["z_score"] == pytest.approx(-0.1875 / sd)
    assert risk["V1", "DD11"]["z_score"] == pytest.approx(-0.125 / sd)
    assert sorted(c for (_, c), r in risk.items() if r["is_low_risk"]) == ["EE11"]


def test_columns_and_argument_errors() -> None:
    assert build_drg_risk(_tables()).columns == COLUMNS
    with pytest.raises(ValueError, match="sd_threshold must be positive"):
        build_drg_risk(_tables(), sd_threshold=0)
    with pytest.raises(ValueError, match="scale must be"):
        build_drg_risk(_tables(), scale="ln")  # type: ignore[arg-type]
    with pytest.raises(ContractError, match=r"'inpatient_stay' lacks column\(s\) 'drg_code'"):
        build_drg_risk({"inpatient_stay": _tables()["inpatient_stay"].drop("drg_code")})


def test_mean_cost_and_length_of_stay_per_group() -> None:
    # AA11: costs 1000.00 and 3000.50 (one unknown) -> 4000.50 / 2 = 2000.25; LOS 4, 7, 2 ->
    # 13 / 3; BB11: one stay, cost 500, LOS unknown -> 500 and null; the stay without a DRG is
    # in no group
    rows = [{"grouper_version": "V1", "drg_code": "AA11", "total_cost": 1000.0, "los_days": 4},
            {"grouper_version": "V1", "drg_code": "AA11", "total_cost": 3000.5, "los_days": 7},
            {"grouper_version": "V1", "drg_code": "AA11", "total_cost": None, "los_days": 2},
            {"grouper_version": "V1", "drg_code": "BB11", "total_cost": 500.0, "los_days": None},
            {"grouper_version": "V1", "drg_code": None, "total_cost": 99.0, "los_days": 99}]
    risk = build_drg_risk({"inpatient_stay": cleaned_memtable("inpatient_stay", rows)})
    got = {r["drg_code"]: (r["mean_cost"], r["mean_los"]) for r in risk.to_pyarrow().to_pylist()}
    assert got.keys() == {"AA11", "BB11"}
    assert got["AA11"] == (2000.25, pytest.approx(13 / 3))
    assert got["BB11"] == (500.0, None)
