"""Numba kernels for the calculations SQL does slowly or awkwardly.

Each kernel is a public wrapper (validation, pandas/Arrow input, output shaping) around a
private compiled function over contiguous arrays, compiled with the options of
:mod:`~hospital_sdk.kernels.config`. The SQL (Ibis) path of the same calculation stays in the
product and is used wherever Numba cannot run (e.g. on Spark); the tests compare both.

========================  =====================================================================
module                    kernels
========================  =====================================================================
``episodes``              :func:`readmission_gaps` — 0–31-day unplanned readmission linking
                          (:func:`link_readmissions` over arrays), :func:`previous_operation_hours`
                          (unplanned return to theatre), :func:`revisits_within` (emergency
                          revisit within 72 h)
``bootstrap``             :func:`bootstrap_groups` — percentile bootstrap intervals of a mean,
                          a ratio of sums or a median for many groups at once
``sweeps``                :func:`occupied_bed_days`, :func:`hourly_census` (ward occupancy
                          from stay movements), :func:`waiting_queue` (patients waiting at
                          each minute per clinic)
``spc``                   :func:`ewma_chart`, :func:`cusum_chart`, :func:`risk_adjusted_cusum`,
                          :func:`xmr_chart` (with run rules), :func:`spc_baseline`
========================  =====================================================================
"""

from hospital_sdk.kernels.bootstrap import (
    BOOTSTRAP_STATISTICS,
    bootstrap_groups,
    mix32,
    percentile_levels,
    resample_positions,
)
from hospital_sdk.kernels.config import JIT_OPTIONS, kernel
from hospital_sdk.kernels.episodes import (
    READMISSION_COLUMNS,
    link_readmissions,
    previous_operation_hours,
    readmission_gaps,
    revisits_within,
)
from hospital_sdk.kernels.spc import (
    RULES,
    cusum_chart,
    ewma_chart,
    risk_adjusted_cusum,
    spc_baseline,
    xmr_chart,
)
from hospital_sdk.kernels.sweeps import (
    MOVEMENT_COLUMNS,
    VISIT_COLUMNS,
    Uncalled,
    WaitingQueue,
    hourly_census,
    occupied_bed_days,
    waiting_queue,
)

__all__ = ["BOOTSTRAP_STATISTICS", "JIT_OPTIONS", "MOVEMENT_COLUMNS", "READMISSION_COLUMNS",
           "RULES", "VISIT_COLUMNS", "Uncalled", "WaitingQueue", "bootstrap_groups",
           "cusum_chart", "ewma_chart", "hourly_census", "kernel", "link_readmissions", "mix32",
           "occupied_bed_days", "percentile_levels", "previous_operation_hours",
           "readmission_gaps", "resample_positions", "revisits_within", "risk_adjusted_cusum",
           "spc_baseline", "waiting_queue", "xmr_chart"]
