"""Named random streams: one independent generator per purpose, derived from the seed and a name.

Each stream is seeded by ``SeedSequence([seed, *blake2b(name)])``, so the numbers a stream yields
depend only on the seed and its own name. Adding a stream, drawing more from another one, or
generating tables in a different order never changes a table that does not use it; that is what
keeps the generated files byte-identical from run to run and stable across code changes that
touch only one table.

Stream names are paths such as ``"outpatient/2024-03"`` or ``"world/staff"``.

Examples
--------
>>> streams = rng_factory(20240101)
>>> a = streams("outpatient/2024-01").integers(0, 1000, 3)
>>> b = rng_factory(20240101)("outpatient/2024-01").integers(0, 1000, 3)
>>> bool((a == b).all())
True
>>> bool((a == streams("inpatient/2024-01").integers(0, 1000, 3)).all())
False
>>> stream_key("outpatient/2024-01") == stream_key("outpatient/2024-01")
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

from hospital_sdk.errors import GeneratorError

RngFactory = Callable[[str], np.random.Generator]
"""A function from a stream name to a fresh generator for that stream."""


def stream_key(name: str) -> tuple[int, int, int, int]:
    """Four 32-bit words of a stable 128-bit hash of ``name`` (BLAKE2b; not Python's ``hash``).

    >>> stream_key("world/staff")
    (..., ..., ..., ...)
    """
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16, person=b"hospital_sdk").digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))  # type: ignore[return-value]


def rng_factory(seed: int) -> RngFactory:
    """A function that returns the generator of a named stream for ``seed``.

    Every call returns a *new* generator positioned at the start of the stream, so two calls with
    the same name give the same numbers.

    Parameters
    ----------
    seed
        Non-negative integer seed of the whole generation.

    Raises
    ------
    GeneratorError
        For a negative or non-integer seed, or an empty stream name.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GeneratorError(f"seed must be a non-negative integer, got {seed!r}")
    root = int(seed)

    def stream(name: str) -> np.random.Generator:
        if not name:
            raise GeneratorError("a random stream needs a non-empty name")
        seeds = np.random.SeedSequence([root, *stream_key(name)])
        return np.random.Generator(np.random.PCG64(seeds))

    return stream


def grouped_choice(rng: np.random.Generator, group: np.ndarray, offsets: np.ndarray,
                   weights: np.ndarray) -> np.ndarray:
    """For each event, a position drawn from its group's slice of ``weights``.

    Group ``g`` owns ``weights[offsets[g]:offsets[g + 1]]``; an event of group ``g`` gets a
    position in that slice with probability proportional to the weight (an empty or all-zero
    slice gives -1). Vectorised: one binary search over the concatenated, per-group normalised
    cumulative weights shifted by the group number.

    >>> rng = np.random.default_rng(0)
    >>> pos = grouped_choice(rng, np.array([0, 1, 1, 2]), np.array([0, 2, 3, 3]),
    ...                      np.array([1.0, 0.0, 5.0]))
    >>> pos.tolist()
    [0, 2, 2, -1]
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    n_groups = len(offsets) - 1
    sizes = np.diff(offsets)
    owner = np.repeat(np.arange(n_groups), sizes)
    cum = np.cumsum(weights)
    base = np.concatenate([[0.0], cum])[offsets[:-1]]
    total = np.concatenate([[0.0], cum])[offsets[1:]] - base
    safe = np.where(total > 0, total, 1.0)
    local = (cum - base[owner]) / safe[owner]
    shifted = local + owner
    group = np.asarray(group, dtype=np.int64)
    u = rng.random(len(group))
    pos = np.searchsorted(shifted, group + u, side="right")
    pos = np.minimum(pos, offsets[group + 1] - 1)
    pos = np.maximum(pos, offsets[group])
    return np.where(total[group] > 0, pos, -1)
