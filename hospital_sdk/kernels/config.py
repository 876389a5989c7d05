"""The one place the kernels' Numba options are set.

Every kernel is compiled with :data:`JIT_OPTIONS`: ``nopython`` (no silent fallback to Python
objects), ``fastmath`` **off** (results must not depend on reassociated floating point: the same
inputs give the same bits), ``nogil`` (a kernel can run beside other threads), no on-disk cache
(a cache shared by processes of different versions is a source of stale code).

``NUMBA_DISABLE_JIT=1`` in the environment (Numba's own switch) runs every kernel as plain Python:
the tests use each kernel's ``py_func`` for the same purpose, so the Python body is covered and
compared with the compiled one.

>>> JIT_OPTIONS["fastmath"], JIT_OPTIONS["nopython"]
(False, True)
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any, TypeVar

import numba

__all__ = ["JIT_OPTIONS", "kernel"]

JIT_OPTIONS = MappingProxyType({"nopython": True, "fastmath": False, "nogil": True,
                                "cache": False})
"""Options of every kernel (see the module)."""

F = TypeVar("F", bound=Callable[..., Any])


def kernel(function: F) -> F:
    """Compile ``function`` with :data:`JIT_OPTIONS` (lazily, on its first call).

    The result has ``py_func`` (the Python body) also when ``NUMBA_DISABLE_JIT=1`` leaves the
    function uncompiled, so wrappers can call ``py_func`` either way.

    >>> @kernel
    ... def _double(x):
    ...     return 2 * x
    >>> _double(21), _double.py_func(21)
    (42, 42)
    """
    compiled = numba.jit(**JIT_OPTIONS)(function)
    if compiled is function:  # NUMBA_DISABLE_JIT=1: the plain function, given the same handle
        function.py_func = function  # type: ignore[attr-defined]
    return compiled  # type: ignore[no-any-return]
