"""dtypes: defaults, weak Python scalars, and the type-promotion lattice.

lepton follows JAX's promotion semantics rather than NumPy's value-based ones:

* Python scalars are *weakly typed*: ``x_f32 * 2.0`` stays float32 and
  ``x_u8 + 1`` stays uint8.  A weak value joins the lattice at the category
  nodes ``i*``, ``f*`` and ``c*`` below.
* Python floats and creation functions default to float32, Python ints to
  int32 (as JAX does), but explicitly 64-bit inputs stay 64-bit.  In 64-bit mode
  (``lepton.config``, ``jax_enable_x64``) the defaults are float64, int64 and
  complex128 instead; ``default_float()`` and friends read the mode.
* The result of combining dtypes is the least upper bound in this lattice
  (arrows point to wider types)::

      b1 -> i*
      i* -> u8, i8          u8 -> u16, i16      u16 -> u32, i32
      u32 -> u64, i64       u64 -> f*           i8 -> i16 -> i32 -> i64 -> f*
      f* -> f16, c*         f16 -> f32          f32 -> f64, c64
      f64 -> c128           c* -> c64           c64 -> c128

  A result at a weak node (``i*``, ``f*``, ``c*``) is the default dtype of that
  category (int32, float32, complex64; 64-bit in x64 mode), marked weak.  So ``int8 + uint8`` is
  int16, ``int32 + float16`` is float16, ``int64 + uint64`` is float32 (weak)
  and ``float32 + complex64`` is complex64.
"""
from __future__ import annotations

import functools

import numpy as np

from . import config as _config

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)

#: dtype of the tangent of an integer or boolean value (as in JAX): zero-sized.
float0 = np.dtype([("float0", np.void, 0)])

#: Defaults outside 64-bit mode (see ``default_float()`` etc. for the current ones).
DEFAULT_INT = int32
DEFAULT_UINT = uint32
DEFAULT_FLOAT = float32
DEFAULT_COMPLEX = complex64


def x64_enabled() -> bool:
    """Whether 64-bit mode is on (``lepton.config``)."""
    return _config.x64


def default_int() -> np.dtype:
    """int64 in 64-bit mode, else int32."""
    return int64 if _config.x64 else int32


def default_uint() -> np.dtype:
    """uint64 in 64-bit mode, else uint32."""
    return uint64 if _config.x64 else uint32


def default_float() -> np.dtype:
    """float64 in 64-bit mode, else float32."""
    return float64 if _config.x64 else float32


def default_complex() -> np.dtype:
    """complex128 in 64-bit mode, else complex64."""
    return complex128 if _config.x64 else complex64


SUPPORTED = (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
             float16, float32, float64, complex64, complex128)
_SUPPORTED_SET = frozenset(SUPPORTED)

# Lattice nodes: concrete dtypes plus the weak categories.
_I, _F, _C = "i*", "f*", "c*"
_EDGES = {
    bool_: [_I],
    _I: [uint8, int8],
    uint8: [uint16, int16], uint16: [uint32, int32], uint32: [uint64, int64],
    uint64: [_F],
    int8: [int16], int16: [int32], int32: [int64], int64: [_F],
    _F: [float16, _C], float16: [float32], float32: [float64, complex64],
    float64: [complex128],
    _C: [complex64], complex64: [complex128], complex128: [],
}
_WEAK_DEFAULT = {_I: int32, _F: float32, _C: complex64}
_WEAK_DEFAULT_X64 = {_I: int64, _F: float64, _C: complex128}


def _upper_sets():
    ups = {}

    def visit(node):
        if node not in ups:
            s = {node}
            for nxt in _EDGES[node]:
                s |= visit(nxt)
            ups[node] = frozenset(s)
        return ups[node]

    for n in _EDGES:
        visit(n)
    return ups


_UP = _upper_sets()


def _node(dtype: np.dtype, weak: bool):
    if weak:
        if dtype == bool_:
            return bool_
        kind = dtype.kind
        return _I if kind in "iu" else _F if kind == "f" else _C
    return dtype


@functools.lru_cache(maxsize=4096)
def _join(nodes: tuple):
    common = frozenset.intersection(*(_UP[n] for n in nodes))
    # The least upper bound is the common ancestor contained in all others' upper sets.
    for cand in common:
        if _UP[cand] == common:
            return cand
    raise TypeError(f"no common type for {nodes}")  # pragma: no cover - lattice is complete


def promote(*typed) -> tuple[np.dtype, bool]:
    """Promote ``(dtype, weak)`` pairs; return ``(result dtype, result weak)``."""
    node = _join(tuple(_node(d, w) for d, w in typed))
    if isinstance(node, str):
        return (_WEAK_DEFAULT_X64 if _config.x64 else _WEAK_DEFAULT)[node], True
    return node, False


def canonicalize(dtype) -> np.dtype:
    """Turn a user dtype spec (``float``, ``'f4'``, ``np.float64``...) into a supported ``np.dtype``.

    Python's ``float``/``int``/``complex`` map to lepton's defaults (float32, int32, complex64;
    64-bit in x64 mode), as in JAX.  ``None`` is not accepted here: callers decide the default.
    """
    if dtype is float:
        return default_float()
    if dtype is int:
        return default_int()
    if dtype is complex:
        return default_complex()
    if dtype is bool:
        return bool_
    try:
        d = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{dtype!r} is not a valid dtype: {e}") from None
    if d == float0:
        return d
    if d not in _SUPPORTED_SET:
        raise TypeError(
            f"dtype {d} is not supported by lepton; use one of "
            + ", ".join(str(s) for s in SUPPORTED))
    return d


def python_scalar_dtype(x) -> np.dtype:
    """Default dtype of a Python scalar (weak): bool, int32, float32 or complex64 (the
    64-bit ones in x64 mode)."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return default_int()
    if isinstance(x, float):
        return default_float()
    if isinstance(x, complex):
        return default_complex()
    raise TypeError(f"not a Python scalar: {type(x).__name__}")


def default_for(dtype: np.dtype) -> np.dtype:
    """Map NumPy's 64-bit defaults from *Python-built* data to lepton's defaults (32-bit,
    unchanged in x64 mode)."""
    if _config.x64:
        return dtype
    if dtype == float64:
        return float32
    if dtype == int64:
        return int32
    if dtype == complex128:
        return complex64
    return dtype


def is_complex(dtype) -> bool:
    return np.dtype(dtype).kind == "c"


def is_inexact(dtype) -> bool:
    return np.dtype(dtype).kind in "fc"


def is_integer(dtype) -> bool:
    return np.dtype(dtype).kind in "iu"


def real_dtype(dtype) -> np.dtype:
    """complex64 -> float32, complex128 -> float64; other dtypes unchanged."""
    d = np.dtype(dtype)
    return {complex64: float32, complex128: float64}.get(d, d)


def short_name(dtype) -> str:
    """Compact name used in avals and jaxpr printing: f32, i32, u8, bool, c64..."""
    d = np.dtype(dtype)
    if d == bool_:
        return "bool"
    if d == float0:
        return "float0"
    return {"f": "f", "i": "i", "u": "u", "c": "c"}[d.kind] + str(d.itemsize * 8)
