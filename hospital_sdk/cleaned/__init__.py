"""The cleaned layer: typed, deduplicated, conformed tables built from the raw layer.

* :mod:`~hospital_sdk.cleaned.patient_index` links every institution's patient record to a
  group-wide patient master index id (EMPI) with deterministic rules.
* :mod:`~hospital_sdk.cleaned.code_mapping` maps local codes to standard codes through the
  ``code_map`` table, valid at each row's date.
* :mod:`~hospital_sdk.cleaned.status_history` turns the ``status_event`` log into validity
  intervals per visit/stay/order and answers as-of queries (as it was, and as it was known).

Every function takes and returns Ibis tables, so the same code runs on any Ibis backend.
"""

from hospital_sdk.cleaned.code_mapping import CodeMappingError, map_codes, unmapped_codes
from hospital_sdk.cleaned.patient_index import (
    LinkageNotConvergedError,
    build_patient_index,
    empi_id,
)
from hospital_sdk.cleaned.status_history import (
    StatusHistoryError,
    status_as_of,
    status_intervals,
    transition_breaks,
)

__all__ = [
    "CodeMappingError", "LinkageNotConvergedError", "build_patient_index", "empi_id",
    "map_codes", "unmapped_codes",
    "StatusHistoryError", "status_as_of", "status_intervals", "transition_breaks",
]
