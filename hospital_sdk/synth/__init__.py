"""Synthetic data of a Chinese public hospital group, in the contract's source format.

:func:`generate` writes one file set per contract source table (Parquet and/or CSV), month by
month, deterministically for a given seed; :class:`GenerationReport` says what was written;
:class:`World` is the group's structure, staff and patient base.

Scale factor
------------
``scale=1`` (SF 1) is one large tertiary hospital-year for the whole group: per year about
5 million outpatient and emergency visits, 200,000 discharges and more than 40 million
medication-order and charge lines. Volumes are linear in SF: the demo runs SF 0.01 over two years
(≈ 100,000 visits, 4,000 discharges) in seconds, tests use SF 0.002–0.005.

Examples
--------
>>> import tempfile
>>> report = generate(tempfile.mkdtemp(), scale=0.0005, years=(2024,))
>>> report.tables["inpatient_stay"].rows > 0, report.manifest.name
(True, '_manifest.json')
"""

from hospital_sdk.synth.generator import generate
from hospital_sdk.synth.report import GenerationReport, TableReport
from hospital_sdk.synth.world import DISCHARGES_PER_YEAR, VISITS_PER_YEAR, World, build_world

__all__ = ["DISCHARGES_PER_YEAR", "GenerationReport", "TableReport", "VISITS_PER_YEAR", "World",
           "build_world", "generate"]
