"""National assessments: editions of indicator sets, computed, scored and reported.

An *assessment* (the tertiary 国考, the secondary 国考, the high-quality-development evaluation)
is a structure of dimensions; an *edition* lists ``indicator@version`` items with their numbers,
▲ flags, weights and cut-offs (``national_assessments/<assessment>/``). Computing an edition gives
an :class:`~hospital_sdk.assessments.result.AssessmentResult`, which scoring completes and the
report presents.
"""

from hospital_sdk.assessments.result import AssessmentResult

__all__ = ["AssessmentResult"]
