"""Error types that point at the user's line.

Every lepton error names the first stack frame outside the lepton package, so a
message raised deep inside a transform still says which line of *your* code
caused it.
"""
from __future__ import annotations

import os
import sys

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def user_frame_summary() -> str:
    """``file:line (function)`` of the innermost frame outside lepton, or ''."""
    f = sys._getframe(1)
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not fn.startswith(_PKG_DIR + os.sep) and "/_pytest/" not in fn and "/pluggy/" not in fn:
            return f"{f.f_code.co_filename}:{f.f_lineno} ({f.f_code.co_name})"
        f = f.f_back
    return ""


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning raised by our caller point at the user's line."""
    level, f = 1, sys._getframe(1)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PKG_DIR + os.sep):
        level, f = level + 1, f.f_back
    return level


def warn(message: str, category: type[Warning]):
    """``warnings.warn`` attributed to the innermost frame outside lepton (and the Numba
    machinery lepton calls), so filters and the printed location name the user's line."""
    import warnings
    f, level = sys._getframe(1), 2
    while f is not None:
        fn = os.path.abspath(f.f_code.co_filename)
        if not (fn.startswith(_PKG_DIR + os.sep) or f"{os.sep}numba{os.sep}" in fn):
            break
        f, level = f.f_back, level + 1
    warnings.warn(message, category, stacklevel=level if f is not None else 1)


class LeptonError(Exception):
    """Base class: appends where in the user's code the problem arose."""

    def __init__(self, msg: str):
        where = user_frame_summary()
        super().__init__(f"{msg}\n  (at {where})" if where else msg)


class ShapeError(LeptonError, ValueError):
    """Operand shapes do not fit an operation."""


class DTypeError(LeptonError, TypeError):
    """Operand dtypes do not fit an operation."""


class ConcretizationError(LeptonError, TypeError):
    """A traced (abstract) value was used where a concrete Python value is needed."""


class LeakedTracerError(LeptonError, RuntimeError):
    """A traced value escaped the transform that created it."""


class MutationError(LeptonError, TypeError):
    """lepton arrays are immutable."""


class KernelCacheWarning(UserWarning):
    """A kernel cache file was damaged (and was dropped) or the cache is not writable."""


class CompileFallbackWarning(RuntimeWarning):
    """A backend failed to compile a program, which runs on the reference interpreter."""
