"""One call from the lakehouse to the national-assessment report files.

:func:`report_edition` computes an edition for a data year
(:func:`~hospital_sdk.assessments.compute.compute_edition`), scores it with the edition's own
scoring options (:func:`~hospital_sdk.assessments.scoring.score_items`) and writes the workbook,
HTML page, PDF and manifest (:func:`~hospital_sdk.reports.assessment_report.
write_assessment_report`). The CLI's ``assess``, the application asset and ``make demo`` all call
it, so the three produce the same files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from hospital_sdk.assessments.compute import compute_edition
from hospital_sdk.assessments.editions import Edition
from hospital_sdk.assessments.result import AssessmentResult
from hospital_sdk.assessments.scoring import score_items
from hospital_sdk.indicators.catalog import Catalog
from hospital_sdk.reports.assessment_report import AssessmentReportFiles, write_assessment_report

__all__ = ["report_edition"]


def report_edition(catalog: Catalog, edition: Edition, source: Any, *, period: str | int,
                   out_dir: str | os.PathLike[str], institutions: Sequence[str] | None = None,
                   lang: str = "zh", suppress_below: int | None = None,
                   pdf: bool = True) -> tuple[AssessmentResult, AssessmentReportFiles]:
    """Compute, score and write ``edition`` for data year ``period``; returns the scored result
    and the files written (``files.pdf.message`` says what the PDF step did)."""
    result = compute_edition(catalog, edition, source, period=period, institutions=institutions)
    scored = score_items(result, **edition.scoring.score_options())
    files = write_assessment_report(scored, out_dir, lang=lang, suppress_below=suppress_below,
                                    pdf=pdf)
    return scored, files
