"""seterr / geterr / errstate: accepted for NumPy compatibility, and no-ops.

lepton never raises or warns on floating-point errors: like JAX (and XLA), division by
zero gives inf, invalid operations give nan, overflow gives inf.  These functions record
and return the requested settings, so code written for NumPy runs unchanged, but the
settings do not change any result or raise anything.
"""
from __future__ import annotations

import contextlib

__all__ = ["seterr", "geterr", "errstate"]

_KINDS = ("divide", "over", "under", "invalid")
_ACTIONS = ("ignore", "warn", "raise", "call", "print", "log")
_state = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}


def geterr():
    """The recorded settings (NumPy's defaults unless changed); they affect nothing."""
    return dict(_state)


def seterr(all=None, divide=None, over=None, under=None, invalid=None):
    """Record floating-point error settings and return the old ones.  A no-op for lepton's
    results: lepton never raises on floating-point errors (see the module docstring)."""
    old = geterr()
    new = {k: v for k, v in zip(_KINDS, (divide, over, under, invalid))}
    for k in _KINDS:
        if new[k] is None:
            new[k] = all
    for k, v in new.items():
        if v is not None:
            if v not in _ACTIONS:
                raise ValueError(f"seterr: invalid action {v!r} for {k!r}; expected one of "
                                 f"{_ACTIONS}")
            _state[k] = v
    return old


class errstate(contextlib.ContextDecorator):
    """``with lnp.errstate(divide='ignore'): ...`` -- accepted and restored on exit, but a
    no-op: lepton never raises or warns on floating-point errors (as JAX)."""

    def __init__(self, *, call=None, **kwargs):
        bad = set(kwargs) - set(_KINDS) - {"all"}
        if bad:
            raise TypeError(f"errstate: unexpected keyword(s) {sorted(bad)}; expected "
                            f"'all', {', '.join(map(repr, _KINDS))}")
        self.kwargs = kwargs
        self.call = call
        self._old = []

    def __enter__(self):
        self._old.append(seterr(**self.kwargs))
        return self

    def __exit__(self, *exc):
        _state.update(self._old.pop())
        return False
