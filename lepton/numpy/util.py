"""The one place where NumPy semantics meet the shape-strict primitives.

Conversion of user values, type promotion (JAX's lattice, see ``lepton.dtypes``),
broadcasting (explicit ``broadcast_in_dim``) and axis normalisation live here, so
primitive rules never unbroadcast or guess dtypes.  Public, because the libraries built
on ``lepton.numpy`` (``random``, ``nn``, ``scipy``, the tape) promote the same way.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from .. import config as _config, dtypes
from ..core import Array, ArrayBase, ShapedArray
from ..errors import ShapeError
from ..primitives import elementwise as ew
from ..primitives.structural import broadcast_in_dim

_SCALARS = (bool, int, float, complex)


def _from_numpy(x: np.ndarray, weak=False) -> Array:
    dt = dtypes.canonicalize(x.dtype)
    return Array(np.array(x, dtype=dt), ShapedArray(x.shape, dt, weak))


def _exact_numpy(x):
    """Nested Python data as NumPy's exact (64-bit) array, or a clear error."""
    try:
        arr = np.array(x)
    except ValueError:
        arr = np.array(None, dtype=object)
    if arr.dtype == object:
        raise TypeError(f"cannot build an array from {type(x).__name__} with ragged or "
                        "non-numeric entries; nested lists must be rectangular")
    return arr


def _python_data_to_numpy(x, dtype=None):
    """NumPy array for nested Python data: lepton's defaults, or ``dtype`` straight from
    NumPy's exact 64-bit values (never through float32: ``[0.1]`` as float64 is 0.1)."""
    arr = _exact_numpy(x)
    if dtype is None:
        return arr.astype(dtypes.default_for(arr.dtype), copy=False)
    if arr.dtype == dtype:
        return arr
    with np.errstate(all="ignore"):  # explicit narrowing wraps/saturates as NumPy's astype
        return arr.astype(dtype)


def _contains_traced(x) -> bool:
    if isinstance(x, ArrayBase):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(_contains_traced(e) for e in x)
    return False


def asarray(x, dtype=None) -> ArrayBase:
    """Convert to a lepton array (no copy for lepton arrays; Python scalars stay weak).

    Python numbers and lists given with a ``dtype`` convert from their exact values
    straight to it, so ``asarray(0.1, float64)`` is exactly 0.1."""
    if isinstance(x, ArrayBase):
        out = x
    elif isinstance(x, (np.ndarray, np.generic)):  # before _SCALARS: np.float64 is a float
        out = _from_numpy(np.asarray(x))
    elif isinstance(x, _SCALARS):
        if dtype is not None:
            dt = dtypes.canonicalize(dtype)
            return Array(_python_data_to_numpy(x, dt), ShapedArray((), dt, False))
        dt = dtypes.python_scalar_dtype(x)
        out = Array(np.array(x, dtype=dt), ShapedArray((), dt, True))
    elif isinstance(x, (list, tuple)):
        if _contains_traced(x):
            from ._shape import stack
            out = stack(list(x))  # promotes first: Python floats beside float64 stay exact
        else:
            dt = None if dtype is None else dtypes.canonicalize(dtype)
            out = _from_numpy(_python_data_to_numpy(x, dt))
    elif hasattr(x, "__array__"):
        out = _from_numpy(np.asarray(x))
    else:
        raise TypeError(f"cannot convert {type(x).__name__} to a lepton array")
    if dtype is not None:
        out = ew.convert_element_type(out, dtypes.canonicalize(dtype))
    return out


def aval_of(x) -> ShapedArray:
    if isinstance(x, ArrayBase):
        return x.aval
    if isinstance(x, _SCALARS) and not isinstance(x, np.generic):
        return ShapedArray((), dtypes.python_scalar_dtype(x), True)
    if isinstance(x, (list, tuple)) and not _contains_traced(x):  # no float32 copy made
        arr = _exact_numpy(x)
        return ShapedArray(arr.shape, dtypes.canonicalize(dtypes.default_for(arr.dtype)))
    return asarray(x).aval


def result_type_of(*xs) -> tuple[np.dtype, bool]:
    """Promoted (dtype, weak) of values: arrays, Python scalars, dtypes."""
    typed = []
    for x in xs:
        if isinstance(x, (np.dtype, type)) and not isinstance(x, _SCALARS) or isinstance(x, str):
            typed.append((dtypes.canonicalize(x), False))
        else:
            a = aval_of(x)
            typed.append((a.dtype, a.weak_type))
    return dtypes.promote(*typed)


def _is_python_data(x) -> bool:
    """A Python number, or nested lists/tuples of them (no arrays inside)."""
    if isinstance(x, (list, tuple)):
        return not _contains_traced(x)
    return isinstance(x, _SCALARS) and not isinstance(x, np.generic)


def to_dtype(x, dtype, weak=False):
    """``x`` as ``dtype``; Python numbers and lists convert from their exact values (a
    Python float never detours through float32 on its way to float64)."""
    if _is_python_data(x):
        v = _python_data_to_numpy(x, dtype)
        return Array(v, ShapedArray(v.shape, dtype, weak))
    x = asarray(x)
    if x.aval.dtype == dtype and x.aval.weak_type == weak:
        return x
    if type(x) is Array and x.aval.ndim == 0:  # fold scalar constants right here
        with np.errstate(all="ignore"):
            v = x._value.astype(dtype) if dtype != dtypes.bool_ else x._value != 0
        return Array(np.asarray(v), ShapedArray((), dtype, weak))
    return ew.convert_element_type(x, dtype, weak)


def broadcast_shapes(*shapes, name="broadcast"):
    nd = builtins.max((len(s) for s in shapes), default=0)
    out = []
    for i in range(nd):
        sizes = {s[i - nd + len(s)] for s in shapes if i - nd + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{name}: shapes {' and '.join(map(str, shapes))} cannot be "
                             "broadcast together (sizes must match or be 1 on each axis, "
                             "aligned from the right)")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def broadcast_to(x, shape):
    x = asarray(x)
    shape = tuple(shape)
    xs = x.aval.shape
    if xs == shape:
        return x
    if len(xs) > len(shape) or broadcast_shapes(xs, shape, name="broadcast_to") != shape:
        raise ShapeError(f"broadcast_to: cannot broadcast an array of shape {xs} to {shape}")
    return broadcast_in_dim(x, shape, tuple(range(len(shape) - len(xs), len(shape))))


def _as_dtype(x, dt, weak):
    """Convert to ``dt``; Python scalars go straight to ``dt`` (no float32 detour)."""
    if isinstance(x, _SCALARS) and not isinstance(x, np.generic):
        with np.errstate(all="ignore"):
            return Array(np.array(x, dtype=dt), ShapedArray((), dt, weak))
    return to_dtype(x, dt, weak)


def promote_args(name, *xs):
    """Convert, promote to a common dtype and broadcast to a common shape."""
    avals = [aval_of(x) for x in xs]
    a0 = avals[0]
    if builtins.all(a.dtype == a0.dtype and a.weak_type == a0.weak_type for a in avals):
        dt, weak = a0.dtype, a0.weak_type
    else:
        dt, weak = dtypes.promote(*((a.dtype, a.weak_type) for a in avals))
    arrs = [_as_dtype(x, dt, weak) for x in xs]
    if builtins.any(a.shape != a0.shape for a in avals):
        shape = broadcast_shapes(*(a.shape for a in avals), name=name)
        arrs = [broadcast_to(a, shape) for a in arrs]
    return arrs


def promote_args_inexact(name, *xs):
    avals = [aval_of(x) for x in xs]
    dt, weak = dtypes.promote(*((a.dtype, a.weak_type) for a in avals))
    dt, weak = inexact_dtype(dt, weak)
    arrs = [_as_dtype(x, dt, weak) for x in xs]
    if builtins.any(a.shape != avals[0].shape for a in avals):
        shape = broadcast_shapes(*(a.shape for a in avals), name=name)
        arrs = [broadcast_to(a, shape) for a in arrs]
    return arrs


def inexact_dtype(dtype, weak=False):
    """The dtype a math function computes in: ints and bools become float32 (weak stays weak)."""
    if dtypes.is_inexact(dtype):
        return dtype, weak
    return dtypes.promote((dtype, weak), (dtypes.float32, True))[0], weak


def normalize_axis(axis, ndim, name="axis"):
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(axis).__name__}") from None
    if not -builtins.max(ndim, 1) <= axis < builtins.max(ndim, 1):
        raise ShapeError(f"{name} {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim if ndim else 0


def normalize_axes(axis, ndim, name="axis"):
    """``None`` -> all axes; int or tuple -> sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, ndim, name) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"repeated axis in {name}={axis}")
        return tuple(sorted(axes))
    return (normalize_axis(axis, ndim, name),)


def scalar_like(x, value):
    """A constant of x's dtype, broadcast to x's shape."""
    from ..primitives.structural import full
    a = x.aval
    return full(a.shape, value, a.dtype, a.weak_type)


# ----------------------------------------------------------------- eager fast-path helpers
# (``numpy._eager`` and the tape's eager rules in ``transforms.tape`` share them)
_PY_TYPES = (bool, int, float, complex)
_promote_cache: dict = {}


_scalar_cache: dict = {}


def scalar_dtypes():
    """Python scalar type -> its weak dtype, memoised per 64-bit mode (which changes
    them)."""
    mode = _config.x64
    r = _scalar_cache.get(mode)
    if r is None:
        r = _scalar_cache[mode] = {t: dtypes.python_scalar_dtype(t()) for t in _PY_TYPES}
    return r


def promoted_dtype(xd, xw, yd, yw, inexact):
    """The promoted (dtype, weak) of two operands, as ``promote_args(_inexact)`` computes it.

    Memoised on *everything* the answer depends on, so a result never depends on which
    calls came before (the flag ``inexact`` and the 64-bit mode are part of the key)."""
    key = (xd, xw, yd, yw, inexact, _config.x64)
    r = _promote_cache.get(key)
    if r is None:
        dt, weak = dtypes.promote((xd, xw), (yd, yw))
        if inexact:
            dt = inexact_dtype(dt, weak)[0]
        r = _promote_cache[key] = (dt, weak)
    return r


def cast_operand(v, dt):
    """``v`` (an ndarray or Python scalar) as an ndarray of dtype ``dt``, without NumPy warnings."""
    if type(v) is np.ndarray:
        return v if v.dtype == dt else v.astype(dt)
    if abs(v) < 65504:  # exact or finite in every dtype it can be cast to: cannot warn
        return np.array(v, dtype=dt)
    with np.errstate(all="ignore"):  # as promote_args: a large scalar may round to inf
        return np.array(v, dtype=dt)  # an int out of range raises OverflowError, as in JAX
