"""The synthetic generator's injected defects are found by the asset graph's quality checks, each
by the check meant for it, with the exact counts the generator's truth log implies.

The truth log (``_truth/defect_log.parquet``, see :mod:`hospital_sdk.synth.defects`) is the
oracle: one row per damaged row, a row carries at most one defect, and a duplicate copies a row no
other kind damaged (its original loads, the appended copy is rejected). Every expected number below
is computed from that log (and, where a consequence depends on which rows a stay has, from the
generated source files), never copied from a run's output.

One run (loading dominates the runtime): the defect group, selection :data:`SELECTION` -- the
aggregated layer and everything it is built from, and the whole discharge record. Every damaged
table -- ``inpatient_stay``, ``stay_diagnosis``, ``outpatient_visit``, ``charge_line`` -- is in
it; the large tables no defect touches, such as ``status_event``, are not, which halves the load.
Every layer's results come from that run.

The discharge record (``cleaned/inpatient_stay`` with its diagnoses, procedures and movements) is
one step, ``cleaned__discharge_record``, that writes its four tables and then runs all their
checks: the failing catalog check of ``stay_diagnosis`` (``unknown_code``) does not keep
``inpatient_stay`` from being built, so its principal-diagnosis check is evaluated in the same
run; both failures are blocking, the step fails, and the aggregated steps built on the record
never start.

That a clean group passes every blocking check and reaches the aggregated layer is shown by
``tests/assets/test_materialize.py`` (the whole graph, asserted successful), not repeated here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from assets.materialize import materialize, not_started, planned_steps
from hospital_sdk.config import Settings
from hospital_sdk.model import CONTRACT
from hospital_sdk.quality.scorecard import latest_scorecard
from hospital_sdk.store import Lakehouse
from hospital_sdk.synth import generate
from hospital_sdk.synth.defects import KINDS, REJECTED_ON_LOAD, TARGETS, DefectSpec

pytestmark = pytest.mark.slow

# Seed 6 is one whose log holds every overlap worth testing (asserted, from the log alone, in
# test_the_log_exercises_every_target_and_every_overlap): principal rows quarantined on stays that
# were themselves quarantined, unknown codes on quarantined stays, malformed principal codes.
SCALE, YEARS, SEED, FIRST, LAST = 0.002, (2025,), 6, "2025-01", "2025-12"
RATE = 0.01
"""Per month (one generator part): ``max(1, round(0.01 * rows))`` rows per kind and target, i.e.
one stay (~35 a month), one or two diagnoses (~180), about eight visits, a hundred charge lines."""
SELECTION = '+group:aggregated or +key:"cleaned/stay_movement"'
"""The aggregated layer and everything it is built from, plus everything ``cleaned/stay_movement``
is built from: no aggregated asset reads the movements, but they are part of the discharge
record's step, which runs only whole (``materialize`` widens a selection to it), and that step
needs ``raw/stay_movement``."""
RECORD_STEP = "cleaned__discharge_record"
RECORD = ("inpatient_stay", "stay_diagnosis", "stay_procedure", "stay_movement")
"""The discharge record's tables, all built by :data:`RECORD_STEP`."""
STAY = ("institution_id", "stay_id")


def _rule_check(table: str, left: str, right: str) -> str:
    """Id of the contract's row-rule declaration comparing ``left`` with ``right``."""
    (rule,) = [r for r in CONTRACT.table(table).rules if (r.left, r.right) == (left, right)]
    return f"{table}.{rule.name}.row_rule"


MEANT: dict[tuple[str, str, str | None], tuple[str, str]] = {
    # (kind, table, field) -> (layer, id of the check meant to find it)
    ("missing_principal_diagnosis", "stay_diagnosis", "diagnosis_code"):
        ("raw", "stay_diagnosis.diagnosis_code.not_null"),
    ("invalid_code", "inpatient_stay", "discharge_disposition"):
        ("raw", "inpatient_stay.discharge_disposition.in_code_set"),
    ("invalid_code", "stay_diagnosis", "diagnosis_code"):  # I21.000 -> I2l.O00: the format
        ("raw", "stay_diagnosis.diagnosis_code.matches_pattern"),
    ("invalid_code", "outpatient_visit", "visit_type"):
        ("raw", "outpatient_visit.visit_type.in_code_set"),
    ("discharge_before_admission", "inpatient_stay", "discharge_time"):
        ("raw", _rule_check("inpatient_stay", "discharge_time", "admission_time")),
    ("duplicate_row", "outpatient_visit", None): ("raw", "outpatient_visit.primary_key.unique_key"),
    ("duplicate_row", "charge_line", None): ("raw", "charge_line.primary_key.unique_key"),
    ("duplicate_row", "inpatient_stay", None): ("raw", "inpatient_stay.primary_key.unique_key"),
    # well-formed but not in the catalog: loads, so the cleaned layer's check finds it (a leak)
    ("unknown_code", "stay_diagnosis", "diagnosis_code"):
        ("cleaned", "stay_diagnosis.diagnosis_code.catalog_membership"),
}
ORPHAN_CHECKS = {"stay_diagnosis": "stay_diagnosis.stay.referential_integrity",
                 "stay_procedure": "stay_procedure.stay.referential_integrity"}
PRINCIPAL_CHECK = "inpatient_stay.principal_diagnosis_present"
CATALOG_CHECK = MEANT["unknown_code", "stay_diagnosis", "diagnosis_code"][1]


@dataclass(frozen=True)
class Run:
    settings: Settings
    result: dg.ExecuteInProcessResult
    scorecard: pd.DataFrame  # latest scorecard rows recorded by this run


@dataclass(frozen=True)
class DefectGroup:
    source: Path
    log: pd.DataFrame
    run: Run    # SELECTION


def _run(settings: Settings, selection: str) -> Run:
    result = materialize(settings, FIRST, LAST, selection=selection)
    with Lakehouse.open(settings.home, read_only=True) as lake:
        card = latest_scorecard(lake)
    return Run(settings, result, card[card.run_id == result.run_id].reset_index(drop=True))


@pytest.fixture(scope="module")
def defects(tmp_path_factory: pytest.TempPathFactory) -> DefectGroup:
    root = tmp_path_factory.mktemp("defects")
    generate(root / "source", scale=SCALE, years=YEARS, seed=SEED,
             defects=DefectSpec(rate=RATE, kinds=KINDS))
    log = pq.read_table(root / "source" / "_truth" / "defect_log.parquet").to_pandas()
    log["field"] = log["field"].astype(object).where(log["field"].notna(), None)
    settings = Settings(home=root / "lake", source=root / "source", first_month=FIRST)
    return DefectGroup(root / "source", log, _run(settings, SELECTION))


# --- what the log says ---------------------------------------------------------------------------

def _keys(log: pd.DataFrame) -> list[dict]:
    return [json.loads(k) for k in log.key]


def _stays(log: pd.DataFrame) -> set[tuple[str, str]]:
    return {(k["institution_id"], k["stay_id"]) for k in _keys(log)}


def quarantined_stays(log: pd.DataFrame) -> set[tuple[str, str]]:
    """Stays that never reach the lake: an invalid disposition or a discharge before admission
    rejects the stay's only row. A duplicate does not: its original loads, only the copy is
    rejected."""
    damaged = log[(log.table_name == "inpatient_stay") & log.kind.isin(
        ["invalid_code", "discharge_before_admission"])]
    return _stays(damaged)


def rejected_diagnoses(log: pd.DataFrame) -> pd.DataFrame:
    """Log rows of ``stay_diagnosis`` the loader rejects (every kind but ``unknown_code``)."""
    return log[(log.table_name == "stay_diagnosis") & log.kind.isin(sorted(REJECTED_ON_LOAD))]


def principal_lost(log: pd.DataFrame) -> set[tuple[str, str]]:
    """Stays whose principal diagnosis row (discharge, seq 1) was quarantined: every
    ``missing_principal_diagnosis`` row, and the malformed codes (``invalid_code``) that happen to
    sit on a principal row -- both are rejected on load, so the stay has no principal row in the
    lake. An ``unknown_code`` on a principal row loads: the stay still has its principal row."""
    rejected = rejected_diagnoses(log)
    return {(k["institution_id"], k["stay_id"]) for k in _keys(rejected)
            if (k["diagnosis_kind"], k["seq"]) == ("discharge", 1)}


def unknown_codes_reaching_cleaned(log: pd.DataFrame) -> list[tuple[str, str]]:
    """The stay of each ``unknown_code`` row that reaches the cleaned layer: an unknown code
    passes the gate, and the cleaned layer carries a diagnosis only with its stay, so every one
    whose stay was not quarantined."""
    lost = quarantined_stays(log)
    unknown = log[log.kind == "unknown_code"]
    return [s for s in ((k["institution_id"], k["stay_id"]) for k in _keys(unknown))
            if s not in lost]


def stays_without_principal(log: pd.DataFrame) -> set[tuple[str, str]]:
    """Stays in the lake without a principal row: those that lost it, minus the stays that are
    not in the lake at all (a quarantined stay has no row in cleaned.inpatient_stay to check)."""
    return principal_lost(log) - quarantined_stays(log)


def discharge_months(source: Path) -> dict[tuple[str, str], str]:
    """``YYYY-MM`` of each generated stay's discharge (the cleaned layer's partition of the stay
    and of its diagnoses). Stays of the kinds that alter ``discharge_time`` are quarantined, so
    the months of every stay that reaches the lake are as generated."""
    stays = ds.dataset(source / "inpatient_stay", format="parquet").to_table(
        columns=[*STAY, "discharge_time"]).to_pandas()
    return {(i, s): t.strftime("%Y-%m") for i, s, t in zip(
        stays.institution_id, stays.stay_id, stays.discharge_time)}


def by_month(stays: Iterable[tuple[str, str]], months: dict[tuple[str, str], str]) -> dict:
    return dict(Counter(months[s] for s in stays))


# --- what the runs say ---------------------------------------------------------------------------

def card_rows(run: Run, layer: str, check_id: str) -> pd.DataFrame:
    rows = run.scorecard[(run.scorecard.layer == layer) & (run.scorecard.check_id == check_id)]
    assert len(rows), f"no {layer} result for {check_id} in run {run.result.run_id}"
    return rows


def card_total(run: Run, layer: str, check_id: str, column: str = "violating_rows") -> int:
    """A count summed over the check's month partitions (one row when not by month)."""
    return int(pd.to_numeric(card_rows(run, layer, check_id)[column]).fillna(0).sum())


def card_months(run: Run, layer: str, check_id: str) -> dict[str, int]:
    rows = card_rows(run, layer, check_id)
    return {p: int(v) for p, v in zip(rows.partition, rows.violating_rows) if v}


def evaluation(run: Run, check_id: str) -> dg.AssetCheckEvaluation:
    found = [e for e in run.result.get_asset_check_evaluations()
             if e.metadata["check_id"].value == check_id]
    assert len(found) == 1, f"{len(found)} Dagster results for {check_id}"
    return found[0]


def meta(e: dg.AssetCheckEvaluation) -> dict:
    return {k: v.value for k, v in e.metadata.items()}


def steps(run: Run, event: str) -> set[str]:
    return {e.step_key for e in run.result.all_events if e.event_type_value == event}


def blocking_failures(run: Run) -> set[str]:
    return {meta(e)["check_id"] for e in run.result.get_asset_check_evaluations()
            if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR}


def materialized(run: Run) -> set[str]:
    return {e.asset_key.to_user_string() for e in run.result.get_asset_materialization_events()}


# --- the oracle itself ---------------------------------------------------------------------------

def test_every_target_has_the_check_meant_for_it() -> None:
    targets = {(kind, table, field) for kind in KINDS for table, field in TARGETS[kind]}
    assert set(MEANT) == targets
    # the row rule comparing discharge with admission is the contract's discharge_after_admission
    assert MEANT["discharge_before_admission", "inpatient_stay", "discharge_time"][1] == \
        "inpatient_stay.discharge_after_admission.row_rule"


def test_the_log_exercises_every_target_and_every_overlap(defects: DefectGroup) -> None:
    log = defects.log
    present = Counter(zip(log.kind, log.table_name, log.field))
    assert all(present[t] >= 1 for t in MEANT), present
    stays = quarantined_stays(log)
    # the cases where two defects meet, so that the expectations below must handle them
    assert principal_lost(log) & stays, "no quarantined principal row on a quarantined stay"
    assert _stays(log[log.kind == "unknown_code"]) & stays, "no unknown code on a lost stay"
    malformed = log[(log.kind == "invalid_code") & (log.table_name == "stay_diagnosis")]
    assert any((k["diagnosis_kind"], k["seq"]) == ("discharge", 1) for k in _keys(malformed))


# --- raw layer: the load gate --------------------------------------------------------------------

@pytest.mark.parametrize("target", [t for t, (layer, _) in MEANT.items() if layer == "raw"],
                         ids=lambda t: "-".join(str(p) for p in t))
def test_each_rejected_defect_is_quarantined_by_the_check_meant_for_it(
        defects: DefectGroup, target: tuple[str, str, str | None]) -> None:
    kind, table, field = target
    _, check_id = MEANT[target]
    log = defects.log
    # every log row of this kind and target is one rejected row, and it breaks exactly this
    # declaration (a row carries one defect; a copy breaks only the key) -- so the count of the
    # check is the count of those log rows, none of which reached the table
    expected = int(((log.kind == kind) & (log.table_name == table)
                    & (log.field.isna() if field is None else log.field == field)).sum())
    run = defects.run
    assert card_total(run, "raw", check_id, "quarantined_rows") == expected
    assert card_total(run, "raw", check_id, "leaked_rows") == 0
    assert card_total(run, "raw", check_id) == expected
    assert set(card_rows(run, "raw", check_id).failure_kind) == {"quarantined"}
    e = evaluation(run, check_id)
    assert meta(e)["quarantined_rows"] == expected and meta(e)["leaked_rows"] == 0
    assert meta(e)["violating_rows"] == expected and meta(e)["status"] == "failed"
    # failed, but stopped at the gate: a warning, it does not block the run
    assert not e.passed and e.severity == dg.AssetCheckSeverity.WARN


def test_no_other_raw_check_counts_a_quarantined_row(defects: DefectGroup) -> None:
    log = defects.log
    rejected = log[log.kind.isin(sorted(REJECTED_ON_LOAD))]
    expected = Counter(MEANT[k, t, f][1] for k, t, f in zip(
        rejected.kind, rejected.table_name, rejected.field))
    card = defects.run.scorecard
    raw = card[card.layer == "raw"]
    found = {c: int(n) for c, n in raw.groupby("check_id").quarantined_rows.sum().items() if n}
    # each rejected row is counted once, under the check meant for it, and under no other one
    assert found == dict(expected)


def test_the_only_leaks_in_raw_are_the_children_of_quarantined_stays(
        defects: DefectGroup) -> None:
    log, lost = defects.log, quarantined_stays(defects.log)
    rejected = {(k["institution_id"], k["stay_id"], k["diagnosis_kind"], k["seq"])
                for k in _keys(rejected_diagnoses(log))}
    expected = {}
    for child, check_id in ORPHAN_CHECKS.items():
        rows = ds.dataset(defects.source / child, format="parquet").to_table().to_pandas()
        key = CONTRACT.table(child).primary_key
        assert key[:2] == STAY, key
        # rows of a lost stay that were loaded (a rejected diagnosis never reached the table)
        orphans = sum((i, s) in lost and (i, s, *r) not in rejected
                      for i, s, *r in rows[[*STAY, *key[2:]]].itertuples(index=False))
        expected[check_id] = orphans
        assert orphans > 0, child
    card = defects.run.scorecard
    raw = card[card.layer == "raw"]
    found = {c: int(n) for c, n in raw.groupby("check_id").leaked_rows.sum().items() if n}
    assert found == expected
    for check_id, n in expected.items():
        e = evaluation(defects.run, check_id)
        assert meta(e)["leaked_rows"] == n and meta(e)["quarantined_rows"] == 0
        # orphans are excluded from the cleaned layer, so the raw check is only a warning
        assert not e.passed and e.severity == dg.AssetCheckSeverity.WARN


# --- cleaned layer -------------------------------------------------------------------------------

def test_unknown_codes_leak_and_fail_the_catalog_check_of_the_cleaned_layer(
        defects: DefectGroup) -> None:
    log = defects.log
    unknown = log[log.kind == "unknown_code"]
    # an unknown code passes the gate; it reaches the cleaned layer unless its stay was lost
    # (the cleaned layer carries a diagnosis only with its stay), in its stay's discharge month
    reaching = unknown_codes_reaching_cleaned(log)
    expected = by_month(reaching, discharge_months(defects.source))
    check_id = CATALOG_CHECK
    run = defects.run
    assert card_months(run, "cleaned", check_id) == expected
    assert card_total(run, "cleaned", check_id) == len(reaching) < len(unknown)
    # nothing malformed or missing leaked into the table: the gate holds for the cleaned layer
    assert card_total(run, "raw", "stay_diagnosis.diagnosis_code.matches_pattern",
                      "leaked_rows") == 0
    e = evaluation(run, check_id)
    assert meta(e)["violating_rows"] == len(reaching) and meta(e)["status"] == "failed"
    # a leak of a blocking check: an error, and the step building the discharge record fails
    assert not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    assert RECORD_STEP in steps(run, "STEP_FAILURE")


def test_principal_diagnosis_present_fails_for_exactly_the_stays_that_lost_it(
        defects: DefectGroup) -> None:
    log = defects.log
    # stays without a principal row in the lake, minus the stays that are not in the lake at all
    # (a quarantined stay has no row in cleaned.inpatient_stay to be checked)
    without = stays_without_principal(log)
    expected = by_month(without, discharge_months(defects.source))
    # evaluated in the same run as the failing catalog check of stay_diagnosis: the discharge
    # record writes all its tables before any of their checks runs
    run = defects.run
    assert card_months(run, "cleaned", PRINCIPAL_CHECK) == expected
    assert card_total(run, "cleaned", PRINCIPAL_CHECK) == len(without)
    e = evaluation(run, PRINCIPAL_CHECK)
    assert meta(e)["violating_rows"] == len(without) and meta(e)["status"] == "failed"
    assert not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    # the log implies exactly two leaks past the gate, both on the discharge record -- the
    # unknown codes and the lost principal rows -- so these are the run's only blocking failures,
    # and what stops the aggregated layer
    assert without and unknown_codes_reaching_cleaned(log)
    assert blocking_failures(run) == {CATALOG_CHECK, PRINCIPAL_CHECK}
    assert RECORD_STEP in steps(run, "STEP_FAILURE")


def test_a_blocking_failure_keeps_the_aggregated_layer_from_being_materialized(
        defects: DefectGroup) -> None:
    run = defects.run
    assert not run.result.success
    # the blocking failures are all on the discharge record: its step is the only one failing
    assert steps(run, "STEP_FAILURE") == {RECORD_STEP}
    planned = planned_steps(run.settings, SELECTION)
    downstream = " or ".join(f'key:"cleaned/{t}"+' for t in RECORD)
    built_on_record = set(planned_steps(run.settings, f"({SELECTION}) and ({downstream})"))
    # not even started: Dagster holds back every step downstream of the failed step -- and only
    # those (visit_fact, built from outpatient visits, runs)
    assert set(not_started(run.result, planned)) == built_on_record - {RECORD_STEP}
    assert "aggregated__stay_fact" in built_on_record
    assert "aggregated/stay_fact" not in materialized(run)
    assert not {s for s in steps(run, "STEP_FAILURE") if s.startswith("aggregated__")}
    # the quarantined rows did not block: the raw layer's step succeeded
    assert "raw_layer" in steps(run, "STEP_SUCCESS")
    # the run did land and clean what the failures do not stop, the whole discharge record
    # included: its tables are written before their checks run
    assert {"raw/inpatient_stay", "cleaned/outpatient_visit",
            *(f"cleaned/{t}" for t in RECORD)} <= materialized(run)
