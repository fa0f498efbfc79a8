"""``lepton.debug``: print values and call host functions from traced and compiled code.

``print`` and ``callback`` run when the program runs, with the runtime values, under
``jit``, ``vmap``, ``grad`` and loops, as JAX's do: under ``vmap`` once per batch element
(in order), under ``grad`` with the primal values of the forward pass (never affecting
derivatives), inside ``scan``/``while_loop`` at every iteration.  They have no outputs yet
are never removed as dead code, and compiled programs run them in program order.

Limits: a print that reads tangents (inside a ``custom_jvp`` rule) prints under ``jvp``
but is skipped under ``grad``, where no tangent values exist (JAX raises there);
``linearize`` through a ``while_loop`` runs the loop, and its prints, again when the
linear function is applied; ``checkpoint`` prints again when it recomputes (as JAX).
"""
from __future__ import annotations

import string
import sys

from .callbacks import host_function
from .primitives.callback import debug_callback

__all__ = ["callback", "print"]


def callback(callback, *args, ordered=False, partitioned=False, **kwargs):
    """Run ``callback(*args, **kwargs)`` on the host with the runtime values; returns None.

    Array leaves arrive as lepton Arrays, other leaves as given.  ``ordered`` and
    ``partitioned`` are accepted for compatibility: lepton always runs callbacks in
    program order, on one device.
    """
    del ordered, partitioned

    def run(*a, **k):
        callback(*a, **k)
        return []

    fn, dyn = host_function(run, args, kwargs,
                            getattr(callback, "__name__", None) or type(callback).__name__)
    debug_callback(fn, *dyn)


def print(fmt: str, *args, ordered=False, **kwargs):  # noqa: A001 - JAX's name
    """Print ``fmt.format(*args, **kwargs)`` with the runtime values (a line on stdout).

    The format string is checked when traced: a field naming a missing argument raises
    here, not later from compiled code.
    """
    _check_format(fmt, args, kwargs)

    def _print(*a, **k):
        sys.stdout.write(fmt.format(*a, **k) + "\n")

    callback(_print, *args, **kwargs)


class _Any:
    """Stands for any value while checking a format string."""

    def __format__(self, spec):
        return ""

    def __getattr__(self, name):
        return self

    def __getitem__(self, key):
        return self


def _check_format(fmt, args, kwargs):
    if not isinstance(fmt, str):
        raise TypeError(f"debug.print: the format must be a str, got {type(fmt).__name__}")
    try:
        string.Formatter().vformat(fmt, [_Any()] * len(args), {k: _Any() for k in kwargs})
    except (IndexError, KeyError, ValueError) as e:
        raise ValueError(f"debug.print: the format string {fmt!r} does not fit the arguments "
                         f"({len(args)} positional, keywords {sorted(kwargs)}): "
                         f"{type(e).__name__}: {e}") from None
