"""Checks on the frames a report is given, before anything is computed or written.

Two rules hold for every report:

- the frame has the columns the report reads (a missing one is named, with the near spelling
  among the columns that are there);
- no column identifies a patient. Reports are aggregates that leave the information department
  by e-mail and on shared drives, so a column named like the contract's ``patient_local_id``,
  ``empi_id``, ``id_number`` / ``id_number_token`` or ``medical_record_number`` (also with a
  prefix, e.g. ``mother_empi_id``) stops the report before a byte is written. Tokens are
  refused too: a stable token still links rows of one person across files.

The workbook and HTML writers apply the second rule again to every frame they write.

Examples
--------
>>> from hospital_sdk.reports.inputs import patient_identifier_columns
>>> patient_identifier_columns(["dept_id", "EMPI_ID", "id_number_token", "discharges"])
['EMPI_ID', 'id_number_token']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

from hospital_sdk.errors import ReportError
from hospital_sdk.model.contract import suggest

PATIENT_IDENTIFIER_PATTERN = re.compile(
    r"^(?:.*_)?(?:patient_local_id|empi_id|medical_record_number)$|^id_number",
    re.IGNORECASE,
)
"""Column names that identify a patient: the contract's identifier columns, with any prefix,
and everything starting with ``id_number``."""


def patient_identifier_columns(columns: Iterable[object]) -> list[str]:
    """The names among ``columns`` that identify a patient, in their given order.

    Examples
    --------
    >>> patient_identifier_columns(["patient_local_id", "patient_days", "medical_record_number"])
    ['patient_local_id', 'medical_record_number']
    """
    return [str(c) for c in columns if PATIENT_IDENTIFIER_PATTERN.search(str(c).strip())]


def refuse_patient_identifiers(columns: Iterable[object], *, where: str) -> None:
    """Raise :class:`~hospital_sdk.errors.ReportError` if any column identifies a patient.

    Parameters
    ----------
    columns
        Column names of a frame about to be used or written.
    where
        What the frame is, for the message (e.g. ``"quality results"``).

    Examples
    --------
    >>> refuse_patient_identifiers(["dept_id", "discharges"], where="department_month")
    >>> refuse_patient_identifiers(["dept_id", "empi_id"], where="department_month")
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: department_month has patient identifier column(s) ['empi_id']: ...
    """
    found = patient_identifier_columns(columns)
    if found:
        raise ReportError(f"{where} has patient identifier column(s) {found}: reports hold "
                          "aggregates only; drop them (or aggregate them away) before writing "
                          "a report")


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, where: str) -> None:
    """Raise :class:`~hospital_sdk.errors.ReportError` naming every column of ``columns``
    that ``frame`` lacks, and refuse patient identifiers (see :func:`refuse_patient_identifiers`).

    Examples
    --------
    >>> frame = pd.DataFrame(columns=["table", "status"])
    >>> require_columns(frame, ["table_name", "status"], where="quality results")
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: quality results lack column(s) ['table_name'] (did you mean 'table'?); ...
    """
    if not isinstance(frame, pd.DataFrame):
        raise ReportError(f"{where} must be a pandas DataFrame, not {type(frame).__name__}")
    refuse_patient_identifiers(frame.columns, where=where)
    present = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in present]
    if missing:
        extra = [c for c in present if c not in columns]
        hints = "".join(suggest(m, extra) for m in missing)
        raise ReportError(f"{where} lack column(s) {missing}{hints}; expected {list(columns)}")


def require_values(values: pd.Series, allowed: Sequence[str], *, where: str) -> None:
    """Raise :class:`~hospital_sdk.errors.ReportError` if ``values`` holds a null or a value
    outside ``allowed`` (each bad value is named once, with its count and the near spelling).

    Examples
    --------
    >>> require_values(pd.Series(["passed", "failed"]), ["passed", "failed"], where="status")
    >>> require_values(pd.Series(["passed", "fail", "fail", None]), ["passed", "failed"],
    ...                where="column 'status'")
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.ReportError: column 'status' has value(s) outside ['passed', 'failed']: ...
    """
    text = values.astype("object").where(values.notna(), None)
    bad = text[~text.isin(list(allowed))]
    if bad.empty:
        return
    parts = []
    for value, n in bad.value_counts(dropna=False, sort=False).items():
        if value is None or pd.isna(value):
            parts.append(f"null ×{n}")
        else:
            parts.append(f"{str(value)!r} ×{n}{suggest(str(value), allowed)}")
    raise ReportError(f"{where} has value(s) outside {list(allowed)}: {', '.join(parts)}")
