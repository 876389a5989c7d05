"""Time in the generator: days, months, weekly and yearly seasonality, and clock-time profiles.

Days are ``int64`` counts since 1970-01-01 and instants are ``int64`` seconds since then (local
wall-clock time; China keeps no daylight saving). Demand on a day is a product of factors:

* a **weekday** profile per activity (outpatient clinics peak on Monday and are thin at weekends;
  emergency is nearly flat and slightly busier at weekends);
* **public holidays**: the Spring Festival week (from the eve) and the National Day week;
* a mild **winter respiratory season** (a cosine with its maximum in mid-January), applied by the
  callers to respiratory and paediatric departments.

Clock times are drawn from half-hour profiles: clinics open 8–12 and 14–17 (with the morning peak
8–11), the emergency department runs round the clock with a trough before dawn.

Examples
--------
>>> first, n = month_span(2024, 2)
>>> n, str(np.datetime64(first, "D"))
(29, '2024-02-01')
>>> int(weekday(np.array([first]))[0])  # 2024-02-01 was a Thursday
3
>>> w = day_factor(np.arange(first, first + n), "outpatient")
>>> bool(w[9] < 0.5 < w[4])  # 10 Feb 2024 (Spring Festival) vs Monday 5 Feb
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from hospital_sdk.errors import GeneratorError
from hospital_sdk.synth.schema import DAY

Activity = Literal["outpatient", "emergency", "health_check", "elective", "acute", "discharge",
                   "surgery", "daytime"]

#: Spring Festival (春节, first day of the lunar year); the holiday starts on its eve.
SPRING_FESTIVAL: dict[int, str] = {
    2018: "2018-02-16", 2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12",
    2022: "2022-02-01", 2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29",
    2026: "2026-02-17", 2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13",
    2030: "2030-02-03",
}

# Monday .. Sunday
_WEEKDAY: dict[str, tuple[float, ...]] = {
    "outpatient": (1.30, 1.12, 1.05, 1.02, 1.00, 0.50, 0.38),
    "emergency": (1.00, 0.97, 0.96, 0.96, 1.00, 1.06, 1.05),
    "health_check": (1.25, 1.15, 1.10, 1.10, 1.00, 0.30, 0.10),
    "elective": (1.35, 1.20, 1.12, 1.08, 1.00, 0.40, 0.30),
    "acute": (1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 1.00),
}
# Holiday multiplier by activity: (Spring Festival week, the week either side, National Day week)
_HOLIDAY: dict[str, tuple[float, float, float]] = {
    "outpatient": (0.30, 0.80, 0.55), "emergency": (1.05, 1.0, 1.05),
    "health_check": (0.05, 0.60, 0.20), "elective": (0.25, 0.75, 0.50),
    "acute": (0.95, 1.0, 1.0),
}


def _half_hours(spans: Sequence[tuple[float, float, float]], base: float = 0.0) -> np.ndarray:
    """48 half-hour weights: ``base`` everywhere plus ``w`` on each ``[start_h, end_h)`` span."""
    w = np.full(48, base)
    for start, end, weight in spans:
        w[int(start * 2):int(end * 2)] += weight
    return w / w.sum()


_CLOCK: dict[str, np.ndarray] = {
    "outpatient": _half_hours([(7, 7.5, 0.5), (7.5, 8, 1.4), (8, 9, 2.4), (9, 10, 2.6),
                               (10, 11, 2.0), (11, 12, 0.9), (12, 13.5, 0.15), (13.5, 14, 0.8),
                               (14, 15, 1.8), (15, 16, 1.5), (16, 17, 0.6), (17, 20, 0.12)]),
    "emergency": _half_hours([(0, 3, 0.55), (3, 7, 0.3), (7, 9, 0.9), (9, 12, 1.3),
                              (12, 14, 1.0), (14, 18, 1.1), (18, 22, 1.25), (22, 24, 0.8)]),
    "health_check": _half_hours([(7, 8, 1.5), (8, 9.5, 2.5), (9.5, 10.5, 1.0), (10.5, 11.5, 0.3),
                                 (14, 16, 0.2)]),
    "elective": _half_hours([(8, 9, 1.5), (9, 11, 2.2), (11, 12, 0.8), (14, 16, 1.2),
                             (16, 18, 0.4)], base=0.01),
    "acute": _half_hours([(0, 7, 0.5), (7, 12, 1.2), (12, 18, 1.1), (18, 24, 0.9)]),
    "discharge": _half_hours([(8, 9, 0.8), (9, 12, 2.5), (12, 14, 0.6), (14, 17, 1.2),
                              (17, 20, 0.3)], base=0.01),
    "surgery": _half_hours([(8, 9, 2.0), (9, 12, 2.2), (12, 14, 1.2), (14, 17, 1.8),
                            (17, 20, 0.5)], base=0.02),
    "daytime": _half_hours([(7, 12, 1.0), (12, 18, 0.9), (18, 22, 0.4)], base=0.02),
}


def to_day(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date.

    >>> to_day("1970-01-02")
    1
    """
    return int(np.datetime64(iso, "D").astype(np.int64))


def month_span(year: int, month: int) -> tuple[int, int]:
    """First day (days since epoch) and number of days of a month."""
    if not 1 <= month <= 12:
        raise GeneratorError(f"month must be 1..12, got {month}")
    first = np.datetime64(f"{year:04d}-{month:02d}", "M")
    start = first.astype("datetime64[D]").astype(np.int64)
    end = (first + 1).astype("datetime64[D]").astype(np.int64)
    return int(start), int(end - start)


def weekday(days: np.ndarray) -> np.ndarray:
    """Weekday of each day, 0 = Monday (1970-01-01 was a Thursday)."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def day_of_year(days: np.ndarray) -> np.ndarray:
    """Day of the year (0-based) of each day."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    return (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)


def years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]") \
        .astype(np.int64) + 1970


def months_of(seconds: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (``year * 12 + month - 1 - 1970 * 12``) of instants in seconds."""
    return (np.asarray(seconds, dtype=np.int64) // DAY).astype("datetime64[D]") \
        .astype("datetime64[M]").astype(np.int64)


def respiratory_season(days: np.ndarray, amplitude: float = 0.18) -> np.ndarray:
    """Winter respiratory factor ``1 + amplitude * cos(...)``, highest in mid-January."""
    phase = 2 * np.pi * (day_of_year(days) - 15) / 365.25
    return 1.0 + amplitude * np.cos(phase)


def _holiday_factor(days: np.ndarray, activity: str) -> np.ndarray:
    festival, shoulder, national = _HOLIDAY[activity]
    out = np.ones(len(days))
    for year in np.unique(years_of(days)) if len(days) else ():
        if int(year) in SPRING_FESTIVAL:
            eve = to_day(SPRING_FESTIVAL[int(year)]) - 1
            offset = days - eve
            out = np.where((offset >= 0) & (offset < 7), out * festival, out)
            out = np.where(((offset >= -7) & (offset < 0)) | ((offset >= 7) & (offset < 14)),
                           out * shoulder, out)
        oct1 = to_day(f"{int(year)}-10-01")
        out = np.where((days >= oct1) & (days < oct1 + 7), out * national, out)
    return out


def day_factor(days: np.ndarray, activity: Activity) -> np.ndarray:
    """Relative demand of ``activity`` on each day (weekday profile times holidays).

    >>> d = np.arange(to_day("2024-03-04"), to_day("2024-03-11"))  # Monday .. Sunday
    >>> f = day_factor(d, "outpatient")
    >>> bool(f[0] == f.max() and f[6] == f.min())
    True
    """
    if activity not in _WEEKDAY:
        raise GeneratorError(f"no daily profile for activity {activity!r}; "
                             f"expected one of {sorted(_WEEKDAY)}")
    days = np.asarray(days, dtype=np.int64)
    return np.asarray(_WEEKDAY[activity])[weekday(days)] * _holiday_factor(days, activity)


def clock(rng: np.random.Generator, n: int, activity: Activity) -> np.ndarray:
    """``n`` clock times (seconds after midnight) drawn from the half-hour profile of ``activity``.

    >>> t = clock(np.random.default_rng(0), 10_000, "outpatient")
    >>> bool(((t >= 8 * 3600) & (t < 11 * 3600)).mean() > 0.5)
    True
    """
    if activity not in _CLOCK:
        raise GeneratorError(f"no clock profile for activity {activity!r}; "
                             f"expected one of {sorted(_CLOCK)}")
    cdf = np.cumsum(_CLOCK[activity])
    bins = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), 47)
    return bins * 1800 + rng.integers(0, 1800, n)


def spread_days(rng: np.random.Generator, first: int, weights: np.ndarray,
                counts: np.ndarray) -> np.ndarray:
    """Days for ``counts[k]`` events of each group ``k``, drawn with the day ``weights``.

    ``weights`` has one row per group (or one shared row) and one column per day from ``first``.
    Returns the days of all events, group by group.
    """
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    cdf = np.cumsum(w, axis=1)
    cdf /= cdf[:, -1:]
    group = np.repeat(np.arange(len(counts)) % len(cdf), counts)
    u = rng.random(len(group))
    # searchsorted row by row through an offset trick: shift each row's cdf by its row index
    shifted = (cdf + np.arange(len(cdf))[:, None]).ravel()
    pos = np.searchsorted(shifted, u + group, side="right")
    return first + np.minimum(pos - group * w.shape[1], w.shape[1] - 1)
