"""What an assessment run produces: the frames every later step reads (scoring, reports).

:class:`AssessmentResult` is the contract between computing an edition
(:mod:`hospital_sdk.assessments.editions`), scoring it (:mod:`hospital_sdk.assessments.scoring`)
and presenting it (:mod:`hospital_sdk.reports.assessment_report`). Each frame's columns are
declared here once; :meth:`AssessmentResult.check` verifies a result has them, so a step that
drops a column fails loudly instead of a report silently showing blanks.

Frames
------
``items``
    One row per edition item × institution (:data:`ITEM_COLUMNS`): the indicator's value in the
    period with numerator, denominator, status and reason, the same for the prior period and the
    change, the edition's structure (dimension, sub-dimension, ▲, weight), the national reference
    where known, and the score columns once scored (:data:`SCORE_COLUMNS`, null before).
``departments``
    One row per item × institution × department for the items computed from patient records
    (:data:`DEPARTMENT_COLUMNS`): the department breakdown and funnel plot.
``trend``
    One row per item × institution × month (:data:`TREND_COLUMNS`).
``tiers``
    One row per institution (:data:`TIER_COLUMNS`): the total score and the tier estimate, with
    the assumptions written out.
``reported``
    The reported inputs used (:data:`REPORTED_COLUMNS`): what was entered, by whom, from which
    file.
``quality``
    The data-quality scorecard rows of the period (whatever
    :func:`hospital_sdk.quality.scorecard.latest_scorecard` returns), for the report's data-quality
    sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hospital_sdk.errors import ResultsError

__all__ = ["AssessmentResult", "DEPARTMENT_COLUMNS", "ITEM_COLUMNS", "REPORTED_COLUMNS",
           "SCORE_COLUMNS", "TIER_COLUMNS", "TREND_COLUMNS"]

ITEM_COLUMNS: tuple[str, ...] = (
    "assessment", "edition", "item", "order",
    "dimension", "dimension_zh", "dimension_en",
    "sub_dimension", "sub_dimension_zh", "sub_dimension_en",
    "indicator_id", "version", "name_zh", "name_en", "kind", "unit", "direction",
    "national_monitoring", "weight",
    "institution", "period", "numerator", "denominator", "value", "status", "reason",
    "prior_period", "prior_value", "change", "change_pct",
    "national_reference", "national_reference_note",
    "data_source", "responsible_department", "confidence", "notes",
)
"""``items`` columns. ``item`` is the edition's item number as printed (``'4'``, ``'增1'``);
``order`` sorts items as the manual lists them. ``status`` is ``ok`` or ``not_computable`` (with
``reason``); ``change`` = value − prior value, ``change_pct`` = change ÷ |prior| × 100 (null when
either is missing or the prior is 0). ``data_source`` is the manual's source (病案首页, 财务,
填报, 平台, 满意度). ``notes`` carries the version's assumptions and the edition item's notes."""

SCORE_COLUMNS: tuple[str, ...] = (
    "score", "score_note", "peer_percentile", "ci_low", "ci_high", "ci_method",
    "funnel_low", "funnel_high", "funnel_flag",
)
"""Columns scoring adds to ``items`` (null until scored). ``score`` respects the direction
(monitor-only items are not scored monotonically: ``score_note`` says how they were treated);
``peer_percentile`` is the institution's percentile among the group's institutions; ``ci_*`` the
confidence interval of a proportion (Wilson) or rate (exact Poisson); ``funnel_*`` the control
limits at the institution's denominator around the group value, ``funnel_flag`` ``above`` /
``below`` / ``within``."""

DEPARTMENT_COLUMNS: tuple[str, ...] = (
    "item", "indicator_id", "version", "institution", "department", "department_name_zh",
    "department_name_en", "numerator", "denominator", "value", "status", "reason",
    "funnel_low", "funnel_high", "funnel_flag", "suppressed",
)
"""``departments`` columns; ``suppressed`` is true where counts below the small-count threshold
were hidden (numerator, denominator and value then null)."""

TREND_COLUMNS: tuple[str, ...] = (
    "item", "indicator_id", "version", "institution", "period", "numerator", "denominator",
    "value", "status",
)
"""``trend`` columns; ``period`` is a month ``YYYY-MM``."""

TIER_COLUMNS: tuple[str, ...] = (
    "institution", "total_score", "scored_items", "percentile", "tier", "assumptions",
)
"""``tiers`` columns; ``tier`` is an estimate (A++, A+, A, B…) from the edition's cut-offs and is
always shown with ``assumptions``."""

REPORTED_COLUMNS: tuple[str, ...] = (
    "item", "indicator_id", "version", "institution", "period", "value", "unit", "source_file",
    "submitted_at", "status", "reason",
)
"""``reported`` columns."""


@dataclass(frozen=True)
class AssessmentResult:
    """One assessment edition computed for one period.

    Parameters
    ----------
    assessment, edition
        Ids (``tertiary``, ``2024``).
    name_zh, name_en
        The assessment's names.
    period
        The assessment period (a year, ``'2025'``).
    items, departments, trend, tiers, reported, quality
        The frames described in the module docstring.
    assumptions
        Statements the report prints with the tier estimate and the scoring (e.g. "weights
        equal: the official weights are not published").
    """

    assessment: str
    edition: str
    name_zh: str
    name_en: str
    period: str
    items: pd.DataFrame
    departments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(DEPARTMENT_COLUMNS)))
    trend: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TREND_COLUMNS)))
    tiers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TIER_COLUMNS)))
    reported: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(REPORTED_COLUMNS)))
    quality: pd.DataFrame = field(default_factory=pd.DataFrame)
    assumptions: tuple[str, ...] = ()

    def check(self) -> AssessmentResult:
        """Return ``self`` if every frame has its declared columns.

        Raises
        ------
        ResultsError
            A frame lacks columns (the message names the frame and the columns).

        Examples
        --------
        >>> AssessmentResult("tertiary", "2024", "三级", "Tertiary", "2025",
        ...                  pd.DataFrame(columns=list(ITEM_COLUMNS))).check().edition
        '2024'
        >>> AssessmentResult("tertiary", "2024", "三级", "Tertiary", "2025",
        ...                  pd.DataFrame(columns=["item"])).check()
        Traceback (most recent call last):
        ...
        hospital_sdk.errors.ResultsError: assessment result: items lacks columns assessment, edition, order, ...
        """
        for name, columns in (("items", ITEM_COLUMNS), ("departments", DEPARTMENT_COLUMNS),
                              ("trend", TREND_COLUMNS), ("tiers", TIER_COLUMNS),
                              ("reported", REPORTED_COLUMNS)):
            frame: pd.DataFrame = getattr(self, name)
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
                raise ResultsError(f"assessment result: {name} lacks columns {shown}")
        return self
