"""select, cross and gradient: NumPy conveniences written in lepton ops (differentiable)."""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from ..core import Tracer
from ..primitives import slicing as sl
from ._shape import concatenate, moveaxis, stack
from ._ufuncs import add, multiply, subtract, true_divide, where
from .util import (asarray, broadcast_shapes, broadcast_to, inexact_dtype, normalize_axis,
                    result_type_of, to_dtype)

__all__ = ["select", "cross", "gradient"]


# ----------------------------------------------------------------------------- select
def select(condlist, choicelist, default=0):
    """The first ``choicelist[i]`` whose ``condlist[i]`` holds, else ``default``, per element.

    Conditions must be boolean (as NumPy 2); choices and default promote together."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist and choicelist must have the same length, got "
                         f"{len(condlist)} and {len(choicelist)}")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    conds = [asarray(c) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype != dtypes.bool_:
            raise TypeError(f"select: invalid entry {i} in condlist: should be boolean, got "
                            f"{c.aval.str_short()} (compare it, e.g. `x > 0`)")
    dt, weak = result_type_of(default, *choicelist)
    choices = [to_dtype(x, dt, weak) for x in choicelist]
    default = to_dtype(default, dt, weak)
    shape = broadcast_shapes(*(a.aval.shape for a in conds + choices + [default]),
                             name="select")
    out = broadcast_to(default, shape)
    for c, x in zip(reversed(conds), reversed(choices)):
        out = where(broadcast_to(c, shape), broadcast_to(x, shape), out)
    return out


# ----------------------------------------------------------------------------- cross
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-vectors along ``axisa``/``axisb`` (``axis`` sets all three).

    Two 2-vectors give the z component (a scalar per pair); a 2-vector beside a 3-vector
    counts as having z = 0.  The result's vector axis is ``axisc``."""
    if axis is not None:
        axisa = axisb = axisc = axis
    dt, weak = result_type_of(a, b)
    if dt == dtypes.bool_:
        raise TypeError("cross: boolean arrays are not supported (NumPy cannot subtract "
                        "booleans); convert with .astype(int)")
    a, b = to_dtype(a, dt, weak), to_dtype(b, dt, weak)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("cross: both inputs must have at least one dimension")
    a = moveaxis(a, normalize_axis(axisa, a.ndim, "axisa"), -1)
    b = moveaxis(b, normalize_axis(axisb, b.ndim, "axisb"), -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: incompatible dimensions for cross product (dimension must be "
                         f"2 or 3), got vectors of length {na} and {nb}")
    lead = broadcast_shapes(a.shape[:-1], b.shape[:-1], name="cross")
    ax, ay = a[..., 0], a[..., 1]
    bx, by = b[..., 0], b[..., 1]
    z = subtract(multiply(ax, by), multiply(ay, bx))
    if na == 2 and nb == 2:
        return broadcast_to(z, lead)
    az = a[..., 2] if na == 3 else None
    bz = b[..., 2] if nb == 3 else None
    if az is None:  # a = (ax, ay, 0)
        x, y = multiply(ay, bz), subtract(0, multiply(ax, bz))
    elif bz is None:  # b = (bx, by, 0)
        x, y = subtract(0, multiply(az, by)), multiply(az, bx)
    else:
        x = subtract(multiply(ay, bz), multiply(az, by))
        y = subtract(multiply(az, bx), multiply(ax, bz))
    out = stack([broadcast_to(c, lead) for c in (x, y, z)], -1)
    return moveaxis(out, -1, normalize_axis(axisc, out.ndim, "axisc"))


# ----------------------------------------------------------------------------- gradient
def _spacing(h, n, axis, dt):
    """One axis's spacing: a scalar step, or the 1-D coordinates' differences."""
    if not isinstance(h, Tracer) and np.ndim(h) == 0:
        return "uniform", h
    h = asarray(h)
    if h.ndim == 0:
        return "uniform", h
    if h.ndim != 1:
        raise ValueError(f"gradient: distances must be scalars or 1-D coordinates, got "
                         f"{h.aval.str_short()}")
    if h.shape[0] != n:
        raise ValueError(f"gradient: when 1-D, distances must match the length of the "
                         f"corresponding dimension (axis {axis} has {n}, coordinates have "
                         f"{h.shape[0]})")
    if h.dtype.kind in "biu":
        h = to_dtype(h, dt)
    # As JAX, coordinates always take the non-uniform formula (NumPy switches to the uniform
    # one when the differences are all equal: the same values up to rounding), so that jit,
    # where the coordinates are traced, computes exactly what eager does.
    return "coords", subtract(h[1:], h[:-1])


def _along(f, axis, start, stop):
    return sl.slice_in_dim(f, start, stop, axis=axis)


def _bcast(v, f, axis):
    """A 1-D vector along ``axis`` of ``f``."""
    shape = [1] * f.ndim
    shape[axis] = v.shape[0]
    return v.reshape(shape)


def _grad_axis(f, axis, kind, h, edge_order):
    n = f.shape[axis]
    g = lambda i, j: _along(f, axis, i, j)  # noqa: E731
    if kind == "uniform":
        inner = true_divide(subtract(g(2, n), g(0, n - 2)), multiply(2, h))
        if edge_order == 1:
            first = true_divide(subtract(g(1, 2), g(0, 1)), h)
            last = true_divide(subtract(g(n - 1, n), g(n - 2, n - 1)), h)
        else:
            first = true_divide(add(add(multiply(-1.5, g(0, 1)), multiply(2, g(1, 2))),
                                    multiply(-0.5, g(2, 3))), h)
            last = true_divide(add(add(multiply(0.5, g(n - 3, n - 2)),
                                       multiply(-2, g(n - 2, n - 1))),
                                   multiply(1.5, g(n - 1, n))), h)
        return concatenate([first, inner, last], axis)
    dx = h  # coordinate differences, length n - 1
    dx1, dx2 = dx[:-1], dx[1:]
    a = -dx2 / (dx1 * (dx1 + dx2))
    b = (dx2 - dx1) / (dx1 * dx2)
    c = dx1 / (dx2 * (dx1 + dx2))
    inner = add(add(multiply(_bcast(a, f, axis), g(0, n - 2)),
                    multiply(_bcast(b, f, axis), g(1, n - 1))),
                multiply(_bcast(c, f, axis), g(2, n)))
    if edge_order == 1:
        first = true_divide(subtract(g(1, 2), g(0, 1)), dx[0])
        last = true_divide(subtract(g(n - 1, n), g(n - 2, n - 1)), dx[-1])
    else:
        d1, d2 = dx[0], dx[1]
        first = (-(2. * d1 + d2) / (d1 * (d1 + d2)) * g(0, 1) + (d1 + d2) / (d1 * d2) * g(1, 2)
                 - d1 / (d2 * (d1 + d2)) * g(2, 3))
        d1, d2 = dx[-2], dx[-1]
        last = (d2 / (d1 * (d1 + d2)) * g(n - 3, n - 2) - (d2 + d1) / (d1 * d2) * g(n - 2, n - 1)
                + (2. * d2 + d1) / (d2 * (d1 + d2)) * g(n - 1, n))
    return concatenate([first, inner, last], axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    """Second-order central differences inside, one-sided (``edge_order`` 1 or 2) at the
    ends, as ``np.gradient``.

    ``varargs``: nothing (unit spacing), one scalar for every axis, or one scalar or 1-D
    coordinate array per axis.  Returns one array, or a list (as JAX) for several axes.
    Spacings and coordinates may be traced and are differentiated through."""
    f = asarray(f)
    dt, _ = inexact_dtype(f.dtype, f.aval.weak_type)
    f = to_dtype(f, dt, f.aval.weak_type)
    if f.ndim == 0:
        raise ValueError("gradient: the input must have at least one dimension, got a 0-d "
                         "array")
    axes = tuple(range(f.ndim)) if axis is None else tuple(
        normalize_axis(a, f.ndim, "gradient axis")
        for a in (axis if isinstance(axis, (list, tuple)) else (axis,)))
    if len(set(axes)) != len(axes):
        raise ValueError(f"gradient: repeated axis in axis={axis!r}")
    edge_order = operator.index(edge_order)
    if edge_order not in (1, 2):
        raise ValueError("gradient: 'edge_order' greater than 2 not supported")
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError(f"gradient: invalid number of spacing arguments ({len(varargs)}) for "
                        f"{len(axes)} axes; give none, one scalar, or one per axis")
    out = []
    for ax, h in zip(axes, spacings):
        n = f.shape[ax]
        if n < edge_order + 1:
            raise ValueError(f"gradient: shape of array too small to calculate a numerical "
                             f"gradient along axis {ax} (size {n}); at least (edge_order + 1) "
                             f"= {edge_order + 1} elements are required")
        kind, h = _spacing(h, n, ax, dt)
        if kind == "uniform":
            h = asarray(h)
            if h.dtype.kind in "biu":
                h = to_dtype(h, dt, h.aval.weak_type)
        out.append(_grad_axis(f, ax, kind, h, edge_order))
    return out[0] if len(out) == 1 else out
