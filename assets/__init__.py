"""The hospital group's data assets as a Dagster code location.

Layers (asset groups and key prefixes): ``raw`` → ``cleaned`` → ``aggregated`` →
``application``. Every asset body is a few lines calling :mod:`hospital_sdk`; this package only
wires them: keys, dependencies, partitions, checks, jobs, schedules and the sensor.
Load it with ``dagster dev -m assets.definitions``.
"""

import warnings

import dagster as _dg

# Single-run backfills (``backfill_policy``) are what make a year's backfill one run; Dagster
# flags the parameter as beta on every decorated asset. Silence exactly that warning.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`", category=_dg.BetaWarning)
