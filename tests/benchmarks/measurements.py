"""Repeated measurements: the median of ``n`` fresh-process runs of one benchmark kind.

Every benchmark group hands the runner's ``measure(kind, **params)`` (one child process, its
``RESULT`` with ``seconds`` and peak ``rss_mb``) to :func:`median_run`.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Mapping

__all__ = ["Measure", "in_process", "median_run"]

Measure = Callable[..., dict]


def median_run(measure: Measure, n: int, kind: str, *, digits: int = 2,
               **params: object) -> dict:
    """``n`` runs of ``kind``: the first run's result with the median seconds, the largest peak
    RSS and every run's seconds (rounded to ``digits``).

    >>> times = iter([3.0, 1.0, 2.0])
    >>> fake = lambda kind, **p: {"seconds": next(times), "rss_mb": 10.0, "rows": 5}
    >>> r = median_run(fake, 3, "x")
    >>> r["seconds"], r["runs"], r["rows"]
    (2.0, [3.0, 1.0, 2.0], 5)
    """
    runs = [measure(kind, **params) for _ in range(n)]
    seconds = sorted(r["seconds"] for r in runs)[len(runs) // 2]
    return {**runs[0], "seconds": seconds, "rss_mb": max(r["rss_mb"] for r in runs),
            "runs": [round(r["seconds"], digits) for r in runs]}


def in_process(children: Mapping[str, tuple[str, str]]) -> Measure:
    """A ``measure`` for trial runs of a benchmark module's ``CHILD`` code in this process (no
    fresh process, so no peak RSS): the setup, then the timed body, with the parameters as
    upper-case globals, as the runner's child processes get them."""
    def measure(kind: str, **params: object) -> dict:
        setup, body = children[kind]
        scope: dict = {k.upper(): v for k, v in params.items()}
        exec(textwrap.dedent(setup), scope)  # noqa: S102 - the benchmark's own code
        began = time.perf_counter()
        exec(textwrap.dedent(body), scope)  # noqa: S102
        return {**scope["RESULT"], "seconds": time.perf_counter() - began, "rss_mb": 0.0}
    return measure
