"""Report files: pure functions of results, written as xlsx workbooks and HTML pages.

The core is reusable by every report: :mod:`~hospital_sdk.reports.workbook` (sheets from
frames, reproducible bytes), :mod:`~hospital_sdk.reports.html` (self-contained pages with
bilingual headings and inline Plotly), :mod:`~hospital_sdk.reports.files` (atomic writes and a
manifest of what was written) and :mod:`~hospital_sdk.reports.inputs` (required columns; no
patient identifier ever reaches a report). The reports themselves:

- :func:`write_quality_report`: the data-quality scorecard (``quality_scorecard.*``);
- :func:`write_activity_report`: the monthly activity summary (``activity_summary.*``).

Each returns the paths it wrote, manifest last; the same input gives the same bytes.

Examples
--------
>>> import tempfile
>>> import pandas as pd
>>> from hospital_sdk.reports import ACTIVITY_COLUMNS, write_activity_report
>>> with tempfile.TemporaryDirectory() as tmp:
...     paths = write_activity_report(pd.DataFrame(columns=list(ACTIVITY_COLUMNS)), tmp)
...     page = paths[1].read_text(encoding="utf-8")
>>> [p.name for p in paths]
['activity_summary.xlsx', 'activity_summary.html', 'activity_summary_manifest.json']
>>> "无数据 / no data" in page
True
"""

from __future__ import annotations

from hospital_sdk.reports.activity_report import (
    ACTIVITY_COLUMNS,
    RATIOS,
    activity_by_department,
    activity_by_institution_month,
    write_activity_report,
)
from hospital_sdk.reports.assessment_report import write_assessment_report
from hospital_sdk.reports.edition_report import report_edition
from hospital_sdk.reports.files import WrittenFile, verify_manifest, write_atomic, write_manifest
from hospital_sdk.reports.html import Figure, Section, Table, page_html, write_page
from hospital_sdk.reports.inputs import refuse_patient_identifiers
from hospital_sdk.reports.quality_report import (
    QUALITY_COLUMNS,
    failed_heatmap,
    quality_issues,
    quality_summary,
    write_quality_report,
)
from hospital_sdk.reports.workbook import Sheet, workbook_bytes, write_workbook

__all__ = [
    "ACTIVITY_COLUMNS", "QUALITY_COLUMNS", "RATIOS", "Figure", "Section", "Sheet", "Table",
    "WrittenFile", "activity_by_department", "activity_by_institution_month", "failed_heatmap",
    "page_html", "quality_issues", "quality_summary", "refuse_patient_identifiers",
    "report_edition", "write_assessment_report",
    "verify_manifest", "workbook_bytes", "write_activity_report", "write_atomic",
    "write_manifest", "write_page", "write_quality_report", "write_workbook",
]
