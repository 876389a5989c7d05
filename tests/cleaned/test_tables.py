"""Cleaned tables: local codes standardised, patients linked, discharge-record parts by stay month."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import pytest

from hospital_sdk.cleaned.tables import MONTHLY, TABLES, cleaned_table, orphan_counts
from hospital_sdk.errors import ContractError
from hospital_sdk.model import CONTRACT

JAN = (datetime(2024, 1, 1), datetime(2024, 2, 1))


def code_map(rows: list[tuple[str, str, str, str, date, date | None]]) -> ibis.Table:
    cols = ("institution_id", "code_system", "local_code", "standard_code", "valid_from",
            "valid_to")
    data = {c: [r[i] for r in rows] for i, c in enumerate(cols)}
    return ibis.memtable({**data, "local_name": ["x"] * len(rows)},
                         schema={"institution_id": "string", "code_system": "string",
                                 "local_code": "string", "standard_code": "string",
                                 "valid_from": "date", "valid_to": "date", "local_name": "string"})


def index() -> ibis.Table:
    return ibis.memtable({"institution_id": ["H3", "H1"], "patient_local_id": ["p1", "p2"],
                          "empi_id": ["PA", "PA"], "link_rule": ["id_token"] * 2})


def test_every_source_table_has_a_cleaned_table_and_monthly_ones_a_period_column() -> None:
    assert set(TABLES) == {t.name for t in CONTRACT.source_tables()}
    for name, column in MONTHLY.items():
        assert TABLES[name].period_column == column
        own = [c.name for c in CONTRACT.table(name).columns]
        assert column in own or TABLES[name].parent == "inpatient_stay"


def test_local_drug_codes_are_standardised_at_the_order_date_and_unmapped_ones_kept() -> None:
    orders = ibis.memtable({
        "institution_id": ["H3", "H3", "H3", "H1"], "order_id": ["o1", "o2", "o3", "o4"],
        "patient_local_id": ["p1", "p1", "p9", "p2"],
        "drug_code": ["YP01", "YP01", "YP77", "XJ01"],
        "order_time": [datetime(2024, 1, 5), datetime(2024, 1, 25), datetime(2024, 1, 9),
                       datetime(2024, 1, 9)]})
    cmap = code_map([  # YP01 meant XJ01 until the 20th, then XJ02; YP77 is not in the map
        ("H3", "drug", "YP01", "XJ01", date(2023, 1, 1), date(2024, 1, 20)),
        ("H3", "drug", "YP01", "XJ02", date(2024, 1, 20), None),
        ("H1", "drug", "XJ01", "XJ01", date(2023, 1, 1), None)])
    out = (cleaned_table("medication_order", {"medication_order": orders, "code_map": cmap},
                         window=JAN, patient_index=index())
           .order_by("order_id").execute())
    assert out.drug_code.tolist() == ["XJ01", "XJ02", "YP77", "XJ01"]
    assert out.drug_code_local.tolist() == ["YP01", "YP01", "YP77", "XJ01"]
    # p9 has no patient record: its order is kept, with no person id (the RI check counts it)
    assert out.empi_id.fillna("<none>").tolist() == ["PA", "PA", "<none>", "PA"]
    assert list(out.columns[-2:]) == ["drug_code_local", "empi_id"]


def test_charge_items_are_mapped_in_the_code_system_of_their_item_type() -> None:
    charges = ibis.memtable({
        "institution_id": ["H3"] * 3, "charge_id": ["c1", "c2", "c3"],
        "patient_local_id": ["p1"] * 3, "item_type": ["drug", "material", "service"],
        "item_code": ["L1", "L1", "L1"],
        "charge_time": [datetime(2024, 1, 5)] * 3})
    cmap = code_map([("H3", "drug", "L1", "DRUG1", date(2023, 1, 1), None),
                     ("H3", "consumable", "L1", "MAT1", date(2023, 1, 1), None),
                     ("H3", "charge_item", "L1", "SVC1", date(2023, 1, 1), None)])
    out = (cleaned_table("charge_line", {"charge_line": charges, "code_map": cmap}, window=JAN,
                         patient_index=index()).order_by("charge_id").execute())
    assert out.item_code.tolist() == ["DRUG1", "MAT1", "SVC1"]


def test_parts_of_the_discharge_record_follow_their_stay_month_and_orphans_are_counted() -> None:
    stays = ibis.memtable({"institution_id": ["H1", "H1"], "stay_id": ["S1", "S2"],
                           "discharge_time": [datetime(2024, 1, 31, 23), datetime(2024, 2, 1)]})
    procs = ibis.memtable({"institution_id": ["H1"] * 3, "stay_id": ["S1", "S2", "S3"],
                           "seq": [1, 1, 1],
                           # S1's operation was in December: it still belongs to January's stay
                           "procedure_time": [datetime(2023, 12, 30), datetime(2024, 1, 31),
                                              datetime(2024, 1, 3)]})
    raw = {"stay_procedure": procs, "inpatient_stay": stays}
    out = cleaned_table("stay_procedure", raw, window=JAN).execute()
    assert out.stay_id.tolist() == ["S1"]  # S2 is discharged on Feb 1st 00:00, S3 has no stay
    assert orphan_counts(raw) == {"stay_procedure": 1}


def test_missing_inputs_are_named() -> None:
    with pytest.raises(ContractError, match="code_map"):
        cleaned_table("medication_order", {"medication_order": ibis.memtable({"a": [1]})})
    with pytest.raises(ContractError, match="patient index"):
        cleaned_table("outpatient_visit", {"outpatient_visit": ibis.memtable({"a": [1]})})
    with pytest.raises(ContractError, match="inpatient_stay"):
        cleaned_table("inpatient_stays", {})
