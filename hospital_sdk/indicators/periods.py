"""Assessment periods: a year, a quarter, a month, or a range of months.

An indicator is computed over one :class:`Period`: the half-open interval ``[start, end)`` of
calendar dates that places each fact row by its time field (a stay by its discharge date, a visit
by its registration time). A period is written the way analysts write it:

=================== ============================== =========
text                meaning                        grain
=================== ============================== =========
``2024``            the calendar year              year
``2024-Q2``         April–June 2024                quarter
``2024-03``         March 2024                     month
``2024-01..2024-06`` January through June 2024    range
=================== ============================== =========

Examples
--------
>>> p = parse_period("2024-Q2")
>>> p.start, p.end, p.grain
(datetime.date(2024, 4, 1), datetime.date(2024, 7, 1), 'quarter')
>>> p.shift(months=-12).label
'2023-Q2'
>>> parse_period("2024-01..2024-06").months()[-1]
'2024-06'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from hospital_sdk.errors import IndicatorError

__all__ = ["TIME_GRAINS", "Period", "month_label", "parse_period"]

TIME_GRAINS: tuple[str, ...] = ("year", "quarter", "month")
"""Time dimensions a result can be cut by (``by=["month"]``)."""

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_label(d: date) -> str:
    """``'YYYY-MM'`` of a date.

    >>> month_label(date(2024, 3, 31))
    '2024-03'
    """
    return f"{d.year:04d}-{d.month:02d}"


@dataclass(frozen=True)
class Period:
    """A half-open range of whole months ``[start, end)``.

    Parameters
    ----------
    start, end
        First days of the first month and of the month after the last.
    grain
        ``year``, ``quarter``, ``month`` or ``range`` (how it was written).
    """

    start: date
    end: date
    grain: str

    def __post_init__(self) -> None:
        if self.start.day != 1 or self.end.day != 1 or self.end <= self.start:
            raise IndicatorError(f"a period must span whole months, got {self.start}..{self.end}")

    @property
    def label(self) -> str:
        """The period as it is written (:func:`parse_period` reads it back)."""
        last = _add_months(self.end, -1)
        if self.grain == "year":
            return f"{self.start.year}"
        if self.grain == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.grain == "month":
            return month_label(self.start)
        return f"{month_label(self.start)}..{month_label(last)}"

    def shift(self, *, months: int) -> Period:
        """The same span moved by ``months`` (``-12``: a year earlier, ``-1``: a month earlier).

        >>> parse_period("2024-03").shift(months=-1).label
        '2024-02'
        """
        return Period(_add_months(self.start, months), _add_months(self.end, months), self.grain)

    def months(self) -> list[str]:
        """Every month of the period, ``'YYYY-MM'``, in order."""
        out, d = [], self.start
        while d < self.end:
            out.append(month_label(d))
            d = _add_months(d, 1)
        return out

    def years(self) -> list[int]:
        """Every calendar year the period touches."""
        return list(range(self.start.year, _add_months(self.end, -1).year + 1))

    def __str__(self) -> str:
        return self.label


def parse_period(text: str | int | Period) -> Period:
    """Read a period written as ``2024``, ``2024-Q2``, ``2024-03`` or ``2024-01..2024-06``.

    Raises
    ------
    IndicatorError
        The text is none of these forms, or a range runs backwards.

    Examples
    --------
    >>> parse_period(2024).label
    '2024'
    >>> parse_period("2024-13")
    Traceback (most recent call last):
    ...
    hospital_sdk.errors.IndicatorError: period '2024-13' is not a year (2024), quarter (2024-Q2), month (2024-03) or range of months (2024-01..2024-06)
    """
    if isinstance(text, Period):
        return text
    raw = str(text).strip()
    if m := _YEAR.match(raw):
        y = int(m[1])
        return Period(date(y, 1, 1), date(y + 1, 1, 1), "year")
    if m := _QUARTER.match(raw):
        start = date(int(m[1]), 3 * int(m[2]) - 2, 1)
        return Period(start, _add_months(start, 3), "quarter")
    if ".." in raw:
        first, _, last = raw.partition("..")
        a, b = parse_period(first.strip()), parse_period(last.strip())
        if a.grain != "month" or b.grain != "month":
            raise IndicatorError(f"period {raw!r}: a range joins two months (2024-01..2024-06)")
        if b.start < a.start:
            raise IndicatorError(f"period {raw!r}: the range runs backwards")
        return Period(a.start, b.end, "range")
    if (m := _MONTH.match(raw)) and 1 <= int(m[2]) <= 12:
        start = date(int(m[1]), int(m[2]), 1)
        return Period(start, _add_months(start, 1), "month")
    raise IndicatorError(
        f"period {raw!r} is not a year (2024), quarter (2024-Q2), month (2024-03) or range of "
        f"months (2024-01..2024-06)")
