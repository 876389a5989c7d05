"""procurement_fact on hand-made goods received in March 2024."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from hospital_sdk.aggregated import build_procurement_fact
from hospital_sdk.aggregated.inputs import cleaned_memtable
from hospital_sdk.aggregated.procurement import COLUMNS
from hospital_sdk.errors import ContractError

MARCH, FEB = date(2024, 3, 1), date(2024, 2, 1)


def _got(inst: str, month: date, code: str | None, local: str, qty: float, amount: float) -> dict:
    return {"institution_id": inst, "month": month, "drug_code": code, "drug_code_local": local,
            "quantity": qty, "amount": amount}


PROCUREMENT = [
    _got("H1", MARCH, "A", "a1", 100.0, 200.00),
    _got("H1", MARCH, "A", "a1b", 50.0, 100.00),   # a second local code of A: summed into A
    _got("H1", MARCH, "A2", "a2", 30.0, 150.00),   # same generic as A, not the VBP winner
    _got("H1", MARCH, "B", "b", 0.0, 0.00),        # a row with nothing received
    _got("H1", MARCH, "C", "c", 10.0, 55.50),
    _got("H1", MARCH, "D", "d", 1.0, 1.00),
    _got("H1", MARCH, None, "LX9", 5.0, 10.00),    # unmapped local code: kept as itself
    _got("H1", MARCH, "ZZ", "zz", 2.0, 4.00),      # mapped, but not in the catalog
    _got("H1", FEB, "A", "a1", 999.0, 999.00),     # February's
]
CATALOG = [
    {"code": "A", "generic_name": "atorvastatin", "is_essential": True, "is_vbp": True},
    {"code": "A2", "generic_name": "atorvastatin", "is_essential": True, "is_vbp": False},
    {"code": "B", "generic_name": "amoxicillin", "is_essential": True, "is_vbp": False},
    {"code": "C", "generic_name": "rosuvastatin", "is_essential": False, "is_vbp": False},
    # D was put on the essential list in 2023: its latest row counts
    {"code": "D", "generic_name": "insulin", "is_essential": False, "is_vbp": False,
     "valid_from": date(2019, 1, 1)},
    {"code": "D", "generic_name": "insulin", "is_essential": True, "is_vbp": False,
     "valid_from": date(2023, 1, 1)},
]
for _row in CATALOG:
    _row.setdefault("valid_from", date(2020, 1, 1))


@pytest.fixture
def fact() -> pd.DataFrame:
    tables = {"drug_procurement": cleaned_memtable("drug_procurement", PROCUREMENT),
              "drug_catalog": cleaned_memtable("drug_catalog", CATALOG)}
    return build_procurement_fact(tables, "2024-03").order_by("drug_code").execute()


def test_one_row_per_institution_month_and_standard_code(fact: pd.DataFrame) -> None:
    assert fact.drug_code.tolist() == ["A", "A2", "B", "C", "D", "LX9", "ZZ"]
    assert set(fact.month.dt.date) == {MARCH} and tuple(fact.columns) == COLUMNS
    # A = 100 + 50 received under two local codes, 200.00 + 100.00 paid
    a = fact.iloc[0]
    assert a.quantity == 150.0 and a.amount == Decimal("300.00")


def test_catalog_flags_and_the_generic_names_with_a_winner(fact: pd.DataFrame) -> None:
    assert fact.is_vbp.tolist() == [True, False, False, False, False, False, False]
    # A2 is not a winner but its generic name (atorvastatin) has one
    assert fact.generic_has_vbp.tolist() == [True, True, False, False, False, False, False]
    assert fact.is_essential.tolist() == [True, True, True, False, True, False, False]


def test_unknown_drugs_stay_items_of_their_own(fact: pd.DataFrame) -> None:
    assert fact.is_mapped.tolist() == [True] * 5 + [False, True]
    assert fact.is_in_catalog.tolist() == [True] * 5 + [False, False]
    assert fact.generic_item.tolist() == ["atorvastatin", "atorvastatin", "amoxicillin",
                                          "rosuvastatin", "insulin", "LX9", "ZZ"]
    assert fact.generic_name.iloc[5:].isna().all()


def test_a_missing_column_is_named() -> None:
    tables = {"drug_procurement": cleaned_memtable("drug_procurement", PROCUREMENT).drop(
        "drug_code_local"), "drug_catalog": cleaned_memtable("drug_catalog", CATALOG)}
    with pytest.raises(ContractError, match="'drug_procurement' lacks column.*'drug_code_local'"):
        build_procurement_fact(tables, "2024-03")
