"""The one exception hierarchy of hospital_sdk.

Every error the SDK raises on purpose derives from :class:`HospitalSDKError`, so callers can
catch the family with one ``except`` and tell the kinds apart when they need to.

Examples
--------
>>> from hospital_sdk.errors import ContractError, HospitalSDKError
>>> issubclass(ContractError, HospitalSDKError)
True
"""

from __future__ import annotations


class HospitalSDKError(Exception):
    """Root of every error raised by hospital_sdk."""


class ContractError(HospitalSDKError):
    """A name, type or code does not exist in the data contract, or a definition is invalid."""


class ConfigError(HospitalSDKError):
    """A setting is missing or has a value the SDK cannot use."""


class StoreError(HospitalSDKError):
    """The lakehouse store cannot be opened, locked or written."""


class WriteConflictError(StoreError):
    """A write kept conflicting with another writer after every retry."""


class SourceFileError(HospitalSDKError):
    """A source file cannot be read at all: unknown table, wrong columns, bad encoding, truncated.

    The message names the file and what was expected. Row-level problems never raise this: those
    rows go to the rejects table with their file, row number, field and reason.
    """


class GeneratorError(HospitalSDKError):
    """The synthetic data generator was given parameters it cannot honour."""


class ReconciliationError(HospitalSDKError):
    """Rows in did not equal rows loaded plus rows rejected: the load is refused, never half-kept."""


class CodeMappingError(HospitalSDKError):
    """The code map gives more than one standard code for one institution, code and date."""


class LinkageNotConvergedError(HospitalSDKError):
    """Patient linkage did not reach a fixed point within the allowed number of passes."""


class StatusHistoryError(HospitalSDKError):
    """The events table cannot be read as a status history (e.g. a column is missing)."""


class ReportError(HospitalSDKError):
    """A report cannot be written: an input lacks a column, holds a patient identifier, has a
    value outside its vocabulary, or a file cannot be written. The message names which."""


class ResultsError(HospitalSDKError):
    """A check-results frame lacks the columns an operation needs, or does not fit another one."""


class BlockedByChecksError(HospitalSDKError):
    """A layer refused to build from data whose blocking data-quality checks failed."""


class SpecError(HospitalSDKError):
    """Indicator, measure or value-set spec files are invalid.

    Loading collects every problem in every file before raising; :attr:`problems` holds them
    (each names the file, the indicator or measure id and the key), and the message lists them
    one per line.
    """

    def __init__(self, message: str, problems: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class ExpressionError(SpecError):
    """An expression string in a spec is malformed or uses something outside the allow-list.

    Expressions are parsed against an allow-list and never passed to ``eval``/``exec``.
    """


class IndicatorError(HospitalSDKError):
    """An indicator cannot be computed as asked: unknown id or version, bad period, a dimension
    the indicator's facts do not have, or a source lacking a fact table."""


class ReportedValueError(HospitalSDKError):
    """An entered reported-indicator file cannot be accepted as a whole (wrong template, unknown
    file layout). Row-level problems are listed with file, row and field instead."""
