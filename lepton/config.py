"""lepton.config: process-wide switches, set and read as in ``jax.config``.

64-bit mode
-----------
By default lepton follows JAX: Python floats, Python ints and the creation functions
(``zeros``, ``ones``, ``arange``, ``linspace``, ``full``, ``eye``, ``array`` of Python
numbers, the random samplers) give float32 / int32 / complex64.  Arrays that are
explicitly 64-bit stay 64-bit in either mode (lepton has no float64 truncation).

64-bit mode makes those defaults float64 / int64 / complex128, as ``jax_enable_x64`` does,
so that code written for autograd or NumPy (float64 throughout, Python float constants)
computes and differentiates in float64.  Turn it on in any of these ways::

    LEPTON_ENABLE_X64=1 python script.py           # environment, read at import
    lepton.config.update("jax_enable_x64", True)   # alias: "lepton_enable_x64"
    with lepton.enable_x64():                      # for a block; enable_x64(False) and
        ...                                        # disable_x64() turn it off

and read it back with ``lepton.config.jax_enable_x64``, ``lepton.config.x64_enabled`` or
``lepton.config.read("jax_enable_x64")``.

The mode is part of every jit cache key: a function jitted in one mode and called in the
other is traced again.  Deviation from JAX: the flag is process-wide, not thread-local
(``enable_x64()`` sets and restores the global value), and index results (``argmax``,
``argsort``, ``nonzero``...) and integer-sum accumulators stay int32 in both modes.
"""
from __future__ import annotations

import contextlib
import os

_ALIASES = {"jax_enable_x64": "jax_enable_x64", "lepton_enable_x64": "jax_enable_x64"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_flag(name: str) -> bool:
    raw = os.environ.get(name, "")
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"environment variable {name}={raw!r} is not a boolean; use 1 or 0")


#: The current value of the x64 flag (read on hot paths: a plain module global).
x64: bool = _env_flag("LEPTON_ENABLE_X64")


def _canonical_name(name: str) -> str:
    try:
        return _ALIASES[name]
    except (KeyError, TypeError):
        raise AttributeError(f"unrecognized config option {name!r}; known options: "
                         f"{', '.join(sorted(_ALIASES))}") from None


_listeners: list = []


def on_change(callback) -> None:
    """Call ``callback()`` after every change of the mode (caches of dtype results use it)."""
    _listeners.append(callback)


def _set_x64(value) -> None:
    global x64
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        raise TypeError(f"jax_enable_x64 must be a bool, got {value!r}")
    if bool(value) != x64:
        x64 = bool(value)
        for callback in _listeners:
            callback()


def update(name: str, value) -> None:
    """Set an option, e.g. ``update("jax_enable_x64", True)``."""
    _canonical_name(name)
    _set_x64(value)


def read(name: str):
    """Current value of an option, e.g. ``read("jax_enable_x64")``."""
    _canonical_name(name)
    return x64


def __getattr__(name):
    """``lepton.config.jax_enable_x64`` (or an alias) and ``lepton.config.x64_enabled``."""
    if name == "x64_enabled":
        return x64
    if name in _ALIASES:
        return x64
    raise AttributeError(f"module 'lepton.config' has no attribute {name!r}; options: "
                         f"{', '.join(sorted(_ALIASES))}")


@contextlib.contextmanager
def enable_x64(new_val: bool = True):
    """Run a block with 64-bit defaults on (or off, for ``enable_x64(False)``)."""
    prev = x64
    _set_x64(new_val)
    try:
        yield
    finally:
        _set_x64(prev)


def disable_x64():
    """Run a block with 64-bit defaults off (float32 / int32 defaults)."""
    return enable_x64(False)
