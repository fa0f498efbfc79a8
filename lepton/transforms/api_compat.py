"""Top-level ``jax`` names that are thin on one CPU device: ``device_get`` (arrays to
NumPy), ``float0`` (the tangent dtype of integer values), ``typeof`` (a value's abstract
type), and the naming helpers ``named_scope`` / ``named_call`` (JAX uses the names in
compiled-program metadata; lepton accepts them and changes nothing)."""
from __future__ import annotations

import contextlib

import numpy as np

from .. import tree
from ..core import ArrayBase, get_aval
from ..dtypes import float0

__all__ = ["device_get", "float0", "named_call", "named_scope", "typeof"]


def device_get(x):
    """Every lepton array in the pytree ``x`` as a NumPy array (other leaves unchanged)."""
    return tree.map(lambda v: np.asarray(v) if isinstance(v, ArrayBase) else v, x)


def typeof(x):
    """The abstract value of ``x`` (shape, dtype, weak type), as ``jax.typeof``."""
    return get_aval(x)


@contextlib.contextmanager
def named_scope(name: str):
    """A name for the operations inside (profiling metadata in JAX); a no-op here."""
    if not isinstance(name, str):
        raise TypeError(f"named_scope: name must be a str, got {type(name).__name__}")
    yield


def named_call(fun, *, name=None):
    """``fun`` itself (JAX names its staged call ``name``)."""
    if not callable(fun):
        raise TypeError(f"named_call: fun must be callable, got {type(fun).__name__}")
    return fun
