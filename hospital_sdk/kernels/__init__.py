"""Numba kernels for the calculations SQL does slowly or awkwardly.

Each kernel is a public wrapper (validation, pandas/Arrow input, output shaping) around a
private compiled function over contiguous arrays, compiled with the options of
:mod:`~hospital_sdk.kernels.config`. The SQL (Ibis) path of the same calculation stays in the
product and is used wherever Numba cannot run (e.g. on Spark); the tests compare both.

========================  =====================================================================
module                    kernels
========================  =====================================================================
``episodes``              :func:`readmission_gaps` — 0–31-day unplanned readmission linking
========================  =====================================================================
"""

from hospital_sdk.kernels.config import JIT_OPTIONS, kernel
from hospital_sdk.kernels.episodes import READMISSION_COLUMNS, readmission_gaps

__all__ = ["JIT_OPTIONS", "READMISSION_COLUMNS", "kernel", "readmission_gaps"]
