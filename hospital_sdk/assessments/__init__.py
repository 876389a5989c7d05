"""National assessments: editions of indicator sets, computed, scored and reported.

An *assessment* (the tertiary 国考, the secondary 国考, the high-quality-development evaluation)
is a structure of dimensions; an *edition* lists ``indicator@version`` items with their numbers,
▲ flags, weights and cut-offs (``national_assessments/<assessment>/``). Computing an edition
(:func:`compute_edition`) gives an :class:`AssessmentResult`, which scoring completes
(:func:`score_items`: direction-aware scores, peer percentiles, Wilson / exact Poisson intervals,
funnel limits, a tier estimate with its assumptions) and the report presents
(:func:`hospital_sdk.reports.edition_report.report_edition`). :func:`diff_editions` compares two
editions over one period. :func:`clopper_pearson_interval` gives exact binomial intervals and
:func:`bootstrap_interval` percentile-bootstrap intervals of means, medians and standardized ratios
(a Numba kernel, or the same resamples in SQL on other backends).

Examples
--------
>>> from hospital_sdk.assessments import edition
>>> tertiary = edition("tertiary", year=2025)
>>> tertiary.edition, tertiary.summary()["items"], tertiary.summary()["national_monitoring"]
('2024', 56, 26)
"""

from hospital_sdk.assessments.binomial import clopper_pearson_interval
from hospital_sdk.assessments.compare import diff_editions
from hospital_sdk.assessments.compute import compute_edition, latest_complete_year
from hospital_sdk.assessments.editions import Assessment, Edition, edition, load_assessments
from hospital_sdk.assessments.intervals import funnel_limits, poisson_interval, wilson_interval
from hospital_sdk.assessments.result import AssessmentResult
from hospital_sdk.assessments.scoring import score_items, small_count_suppression
from hospital_sdk.assessments.uncertainty import bootstrap_interval

__all__ = ["Assessment", "AssessmentResult", "Edition", "bootstrap_interval",
           "clopper_pearson_interval", "compute_edition", "diff_editions", "edition",
           "funnel_limits", "latest_complete_year", "load_assessments",
           "poisson_interval", "score_items", "small_count_suppression", "wilson_interval"]
