"""Array creation: array, zeros, ones, full, arange, linspace, eye, meshgrid, ..."""
from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from .. import dtypes
from ..core import Array, ArrayBase, ShapedArray, Tracer
from ..errors import ConcretizationError
from ..primitives import elementwise as ew
from ..primitives.structural import broadcast_in_dim, full as _full, iota
from .util import _as_dtype, _python_data_to_numpy, aval_of, asarray, broadcast_to, to_dtype


def _shape_tuple(shape, name="shape"):
    if isinstance(shape, Tracer):
        raise ConcretizationError(f"{name} must be static; got a traced value. Pass Python ints")
    try:
        if isinstance(shape, (tuple, list)):
            return tuple(operator.index(s) for s in shape)
        return (operator.index(shape),)
    except TypeError:
        raise TypeError(f"{name} must be an int or a tuple of ints, got {shape!r}") from None


def _dtype_or(dtype, default):
    return default if dtype is None else dtypes.canonicalize(dtype)


def array(object, dtype=None, copy=True, ndmin=0):
    """Create an array (copies NumPy input: lepton arrays never alias mutable memory)."""
    out = asarray(object, dtype)
    if isinstance(object, (bool, int, float, complex)) and dtype is None:
        pass  # keep weak type for Python scalars, as JAX
    if ndmin > out.ndim:
        out = out.reshape((1,) * (ndmin - out.ndim) + out.shape)
    return out


def copy(a):
    """Arrays are immutable, so a copy is the array itself (converted if needed)."""
    return asarray(a)


def zeros(shape, dtype=None):
    """Zeros of ``dtype`` (default float32; float64 in x64 mode)."""
    return _full(_shape_tuple(shape), 0, _dtype_or(dtype, dtypes.default_float()))


def ones(shape, dtype=None):
    """Ones of ``dtype`` (default float32; float64 in x64 mode)."""
    return _full(_shape_tuple(shape), 1, _dtype_or(dtype, dtypes.default_float()))


empty = zeros


def _fill(fill_value, dt, weak=False):
    """``fill_value`` as ``dt``; Python numbers convert exactly (no float32 detour)."""
    if isinstance(fill_value, (list, tuple)):
        return asarray(fill_value, dt)
    if isinstance(fill_value, (bool, int, float, complex)) and \
            not isinstance(fill_value, np.generic):
        return Array(_python_data_to_numpy(fill_value, dt), ShapedArray((), dt, weak))
    return to_dtype(fill_value, dt, weak)


def full(shape, fill_value, dtype=None):
    shape = _shape_tuple(shape)
    dt = _dtype_or(dtype, aval_of(fill_value).dtype)
    return broadcast_to(_fill(fill_value, dt), shape)


def _like(a, dtype, shape):
    a = asarray(a)
    dt = _dtype_or(dtype, a.aval.dtype)
    return (a.aval.shape if shape is None else _shape_tuple(shape)), dt, a.aval.weak_type \
        and dtype is None


def zeros_like(a, dtype=None, shape=None):
    shape, dt, weak = _like(a, dtype, shape)
    return _full(shape, 0, dt, weak)


def ones_like(a, dtype=None, shape=None):
    shape, dt, weak = _like(a, dtype, shape)
    return _full(shape, 1, dt, weak)


empty_like = zeros_like


def full_like(a, fill_value, dtype=None, shape=None):
    shape, dt, weak = _like(a, dtype, shape)
    return broadcast_to(_fill(fill_value, dt, weak), shape)


def _static_number(x, name):
    if isinstance(x, Tracer):
        raise ConcretizationError(
            f"arange: `{name}` must be a concrete number, not a traced value; its value sets "
            "the output shape. Use a static argument or lax.iota with a fixed size.")
    if isinstance(x, ArrayBase):
        return x.item()
    return x


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop); int arguments give int32, floats float32
    (int64 / float64 in x64 mode).  Float ranges are computed in float64, then cast."""
    start = _static_number(start, "start")
    stop = _static_number(stop, "stop") if stop is not None else None
    step = _static_number(step, "step") if step is not None else None
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        vals = (start, stop, step)
        dt = dtypes.default_float() if builtins.any(isinstance(v, float) or (
            isinstance(v, np.floating)) for v in vals) else dtypes.default_int()
        for v in vals:
            if isinstance(v, np.generic) and np.dtype(type(v)).itemsize == 8:
                dt = dtypes.float64 if np.dtype(type(v)).kind == "f" or dt.kind == "f" \
                    else dtypes.int64
    else:
        dt = dtypes.canonicalize(dtype)
    n = builtins.max(int(math.ceil((stop - start) / step)), 0)
    if dt.kind in "iu" and builtins.all(float(v).is_integer() for v in (start, step)):
        out = iota(dt, (n,))
        if step != 1:
            out = ew.mul(out, _full((n,), step, dt))
        if start != 0:
            out = ew.add(out, _full((n,), start, dt))
        return out
    return asarray(np.arange(start, stop, step).astype(dt))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced samples over [start, stop] (array endpoints allowed)."""
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    sa, ea = aval_of(start), aval_of(stop)
    comp_dt = dtypes.promote((sa.dtype, sa.weak_type), (ea.dtype, ea.weak_type),
                             (dtypes.float32, True))[0]
    if dtype is not None and dtypes.is_inexact(dtype):
        comp_dt = dtypes.promote((comp_dt, False), (dtypes.canonicalize(dtype), False))[0]
    out_dt = comp_dt if dtype is None else dtypes.canonicalize(dtype)
    # Python endpoints go straight to comp_dt: linspace(0, 0.1, dtype=float64) ends at 0.1.
    start, stop = _as_dtype(start, comp_dt, False), _as_dtype(stop, comp_dt, False)
    from .util import broadcast_shapes
    bshape = broadcast_shapes(start.aval.shape, stop.aval.shape)
    start, stop = broadcast_to(start, bshape), broadcast_to(stop, bshape)
    div = (num - 1) if endpoint else num
    shape = (num,) + bshape
    dims = tuple(range(1, len(shape)))
    s = broadcast_in_dim(start, shape, dims)
    e = broadcast_in_dim(stop, shape, dims)
    idx = to_dtype(iota(dtypes.int32, shape, 0), comp_dt)
    delta = ew.sub(e, s)
    if div > 0:
        step = ew.div(delta, _full(shape, div, comp_dt))
        out = ew.add(s, ew.mul(idx, step))
        if endpoint and num > 1:
            last = ew.eq(iota(dtypes.int32, shape, 0), _full(shape, num - 1, dtypes.int32))
            out = ew.select(last, e, out)
        step_out = ew.div(ew.sub(stop, start), _full(bshape, div, comp_dt))
    else:
        out = s
        step_out = _full(bshape, np.nan, comp_dt)
    if axis != 0:
        from ._shape import moveaxis
        out = moveaxis(out, 0, axis)
    if dtypes.is_integer(out_dt):
        out = ew.floor(out)
    out = to_dtype(out, out_dt)
    return (out, step_out) if retstep else out


def eye(N, M=None, k=0, dtype=None):
    N = operator.index(N)
    M = N if M is None else operator.index(M)
    k = operator.index(k)
    dt = _dtype_or(dtype, dtypes.default_float())
    rows = iota(dtypes.int32, (N, M), 0)
    cols = iota(dtypes.int32, (N, M), 1)
    on = ew.eq(ew.add(rows, _full((N, M), k, dtypes.int32)), cols)
    return to_dtype(on, dt)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [asarray(x).ravel() for x in xi]
    n = len(xs)
    shape = [x.shape[0] for x in xs]
    if indexing == "xy" and n > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, x in enumerate(xs):
        axis = i
        if indexing == "xy" and n > 1 and i < 2:
            axis = 1 - i
        if sparse:
            s = [1] * n
            s[axis] = x.shape[0]
            out.append(x.reshape(s))
        else:
            out.append(broadcast_in_dim(x, tuple(shape), (axis,)))
    return out


class _ScalarMeta(type):
    """``lnp.float32`` and friends, as in ``jax.numpy``: calling one makes a 0-d array of
    that dtype (``lnp.float32(1.0)``), and it works wherever a dtype is accepted:
    ``dtype=lnp.float32``, ``np.dtype(lnp.float32)``, ``x.dtype == lnp.float32``."""

    dtype: np.dtype

    def __hash__(cls):
        return hash(cls.dtype.type)

    def __eq__(cls, other):
        return cls is other or cls.dtype.type == other

    def __ne__(cls, other):
        return not cls == other

    def __call__(cls, x):
        return asarray(x, dtype=cls.dtype)

    def __instancecheck__(cls, instance):
        return isinstance(instance, cls.dtype.type)

    def __repr__(cls):
        return f"<class 'lepton.numpy.{cls.__name__}'>"


def _scalar_type(dtype) -> _ScalarMeta:
    dtype = np.dtype(dtype)
    name = "bool_" if dtype == np.bool_ else dtype.name
    t = _ScalarMeta(name, (object,), {"dtype": dtype, "__module__": "lepton.numpy"})
    t.__qualname__ = name
    return t
