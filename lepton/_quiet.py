"""NumPy without floating-point warnings, cheaply.

lepton follows JAX: inf and NaN results say what happened, no ``RuntimeWarning`` does (the
eager fast path, the tape's staged rules and compiled programs' host steps all call NumPy).
``np.errstate`` costs about 1.5 us per entry, because it builds a new state object each
time, which is more than a small op's whole overhead. NumPy 2 keeps the state in a context
variable, so ``silence`` sets it to a memoised "ignore everything" copy of the current state
(the caller's bufsize and errcall are kept) and ``restore`` puts the caller's back.
"""
from __future__ import annotations

import functools

import numpy as np

try:  # NumPy 2: np.errstate sets this context variable to an error-state object
    from numpy._core._ufunc_config import _extobj_contextvar as STATE
except ImportError:  # pragma: no cover - another NumPy layout: np.errstate itself
    class STATE:
        @staticmethod
        def get():
            return None

        @staticmethod
        def set(_):
            cm = np.errstate(all="ignore")
            cm.__enter__()
            return cm

        @staticmethod
        def reset(cm):
            cm.__exit__(None, None, None)

#: The hot paths inline ``silence`` as ``STATE.set(IGNORING.get(STATE.get()) or ignore_all())``.
IGNORING: dict = {}  # current error state -> the same state with every error ignored


def ignore_all():
    cur = STATE.get()
    if len(IGNORING) > 64:  # states made by users' errstate blocks: keep a few
        IGNORING.clear()
    with np.errstate(all="ignore"):
        state = IGNORING[cur] = STATE.get()
    return state


def silence():
    """Ignore NumPy's floating-point errors until ``restore(token)``; returns the token."""
    return STATE.set(IGNORING.get(STATE.get()) or ignore_all())


restore = STATE.reset


def quiet(fn):
    """``fn`` running with NumPy's floating-point warnings off (name, docs and attributes
    kept)."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        token = silence()
        try:
            return fn(*args, **kwargs)
        finally:
            restore(token)
    return call
