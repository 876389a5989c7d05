"""The data contract: the canonical hospital data model that source exports map to.

``CONTRACT`` holds every table (name, grain, primary key, typed columns with nullability, allowed
codes, Chinese and English descriptions) and every code set. It imports nothing else of the
package but the error hierarchy.

Examples
--------
>>> from hospital_sdk.model import CONTRACT
>>> CONTRACT.table("inpatient_stay").primary_key
('institution_id', 'stay_id')
>>> CONTRACT.table("inpatient_stays")
Traceback (most recent call last):
...
hospital_sdk.errors.ContractError: no table 'inpatient_stays' in the contract (did you mean 'inpatient_stay'?)
"""

from __future__ import annotations

from hospital_sdk.model.codes import CODE_SETS
from hospital_sdk.model.contract import (
    Code, CodeSet, Column, Contract, RowRule, Table, code_set, suggest,
)
from hospital_sdk.model.tables import (
    catalog, diagnostics, events, inpatient, master, orders, outpatient, patient, referral, reported,
)

CONTRACT_VERSION = "1.0.0"

CONTRACT = Contract(
    CONTRACT_VERSION,
    (*master.TABLES, *catalog.TABLES, *patient.TABLES, *outpatient.TABLES, *inpatient.TABLES,
     *orders.TABLES, *diagnostics.TABLES, *referral.TABLES, *reported.TABLES, *events.TABLES),
    CODE_SETS,
)

__all__ = ["CONTRACT", "CONTRACT_VERSION", "Code", "CodeSet", "Column", "Contract", "RowRule",
           "Table", "code_set", "suggest"]
