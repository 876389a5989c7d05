"""The hospital group's data assets as a Dagster code location.

Layers (asset groups and key prefixes): ``raw`` → ``cleaned`` → ``aggregated`` →
``application``. Every asset body is a few lines calling :mod:`hospital_sdk`; this package only
wires them: keys, dependencies, partitions, checks, jobs, schedules and the sensor.
Load it with ``dagster dev -m assets.definitions``.
"""
