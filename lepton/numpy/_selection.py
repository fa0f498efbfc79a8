"""Selection and reshaping helpers as ``jax.numpy``: ``choose``, ``compress``, ``extract``,
``correlate``, ``resize``, ``apply_along_axis``, ``apply_over_axes``, ``fill_diagonal`` and
``block``, built from existing lepton.numpy functions (no new primitives)."""
from __future__ import annotations

import operator

import numpy as np

from ..core import Tracer
from ..errors import ConcretizationError, DTypeError
from .. import numpy as _lnp  # this package; attributes are read at call time

__all__ = ["choose", "compress", "extract", "correlate", "resize", "apply_along_axis",
           "apply_over_axes", "fill_diagonal", "block"]


def choose(a, choices, out=None, mode="raise"):
    """``choices[a[i...]][i...]`` with ``a`` and every choice broadcast together.

    ``mode='raise'`` checks the indices, so (as JAX) it needs a concrete ``a``; use
    ``'wrap'`` or ``'clip'`` under ``jit``/``vmap``."""
    if out is not None:
        raise NotImplementedError("choose: the 'out' argument is not supported (lepton "
                                  "arrays are immutable); use the returned array")
    a = _lnp.asarray(a)
    choices = [_lnp.asarray(c) for c in choices]
    if a.dtype.kind not in "iu":
        raise DTypeError(f"choose: the index array a must be integer typed, got {a.dtype}")
    n = len(choices)
    if n == 0:
        raise ValueError("choose: choices must be a non-empty sequence of arrays")
    if mode == "raise":
        if isinstance(a, Tracer):
            raise ConcretizationError(
                "choose: mode='raise' checks the index values, which a traced array does "
                "not have; use mode='wrap' or mode='clip' under jit/vmap.")
        av = np.asarray(a)
        if av.size and (av.min() < 0 or av.max() >= n):
            raise ValueError(f"choose: invalid entry in the choice array a (values must be "
                             f"in [0, {n}), got [{av.min()}, {av.max()}])")
    elif mode == "wrap":
        a = a % n
    elif mode == "clip":
        a = _lnp.clip(a, 0, n - 1)
    else:
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    a, *choices = _lnp.broadcast_arrays(a, *choices)
    stacked = _lnp.stack(choices, 0)
    return _lnp.take_along_axis(stacked, a[None], axis=0)[0]


def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
    """The slices of ``a`` along ``axis`` (flattened ``a`` if None) where the 1-D
    ``condition`` is true.  ``size=`` (needed when ``condition`` is traced) pads the result
    with ``fill_value`` or truncates it, as JAX."""
    if out is not None:
        raise NotImplementedError("compress: the 'out' argument is not supported")
    cond = _lnp.asarray(condition).astype(bool)
    arr = _lnp.asarray(a)
    if cond.ndim != 1:
        raise ValueError(f"compress: condition must be 1-D, got shape {cond.shape}")
    if axis is None:
        axis, arr = 0, _lnp.ravel(arr)
    else:
        arr = _lnp.moveaxis(arr, axis, 0)
    n = arr.shape[0]
    cond, extra = cond[:n], cond[n:]
    arr = arr[:cond.shape[0]]
    if size is None:
        if isinstance(cond, Tracer):
            raise ConcretizationError(
                f"compress: the result length depends on the traced condition "
                f"{cond.aval.str_short()}. Pass size= (a static result length) and "
                "optionally fill_value= for the padding.")
        if extra.shape[0] and bool(np.any(np.asarray(extra))):
            raise ValueError(f"compress: condition (length {cond.shape[0] + extra.shape[0]})"
                             f" has true entries beyond the axis length {n}")
        result = arr[np.flatnonzero(np.asarray(cond))]
    else:
        size = operator.index(size)
        if not 0 <= size <= arr.shape[0]:
            raise ValueError(f"compress: size must be in [0, a.shape[axis]]; got size={size}"
                             f" for a.shape[axis]={arr.shape[0]}")
        mask = _lnp.expand_dims(cond, tuple(range(1, arr.ndim)))
        arr = _lnp.where(mask, arr, _lnp.asarray(fill_value).astype(arr.dtype))
        result = arr[_lnp.argsort(cond, stable=True, descending=True)][:size]
    return _lnp.moveaxis(result, 0, axis)


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of ``arr`` where ``condition`` is true, flattened (``compress`` on the
    raveled inputs); ``size=``/``fill_value=`` as ``compress``."""
    return compress(_lnp.ravel(condition), _lnp.ravel(arr), size=size, fill_value=fill_value)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """Cross-correlation of two 1-D arrays: ``convolve(a, conj(v[::-1]))`` (NumPy's
    definition; modes 'valid' (default), 'same', 'full').  ``precision`` is accepted for
    JAX compatibility and ignored."""
    a, v = _lnp.asarray(a), _lnp.asarray(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"correlate: both inputs must be 1-D, got shapes {a.shape}, "
                         f"{v.shape}")
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    flipped = _lnp.conj(v[::-1]) if v.dtype.kind == "c" else v[::-1]
    out = _lnp.convolve(a, flipped, mode="full")
    n, m = a.shape[0], v.shape[0]
    # NumPy's windows of the full correlation; for n < m NumPy correlates the swapped
    # inputs and reverses the result, which moves the 'same' window
    start, length = {"full": (0, n + m - 1),
                     "valid": (min(n, m) - 1, abs(n - m) + 1),
                     "same": ((m - 1) // 2 if n >= m else n - 1 - (n - 1) // 2, max(n, m))}[mode]
    out = out[start:start + length]
    if preferred_element_type is not None:
        out = out.astype(preferred_element_type)
    return out


def resize(a, new_shape):
    """``a`` flattened, repeated cyclically and reshaped to ``new_shape`` (zeros if ``a`` is
    empty, as JAX; NumPy pads with zeros too)."""
    shape = (operator.index(new_shape),) if not isinstance(new_shape, (tuple, list)) \
        else tuple(operator.index(d) for d in new_shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"resize: all elements of new_shape must be non-negative, got {shape}")
    arr = _lnp.ravel(_lnp.asarray(a))
    new_size = int(np.prod(shape))
    if arr.shape[0] == 0 or new_size == 0:
        return _lnp.zeros(shape, arr.dtype)
    reps = -(-new_size // arr.shape[0])
    return _lnp.reshape(_lnp.tile(arr, reps)[:new_size], shape)


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d`` applied to every 1-D slice of ``arr`` along ``axis``; its output axes
    replace ``axis``.

    Deviation from JAX (which vmaps ``func1d``): lepton calls ``func1d`` once per slice
    in Python, as NumPy does, so under ``jit`` the trace grows with the number of slices.
    """
    arr = _lnp.asarray(arr)
    if arr.ndim == 0:
        raise ValueError("apply_along_axis: arr must have at least one dimension")
    ax = axis + arr.ndim if axis < 0 else axis
    if not 0 <= ax < arr.ndim:
        raise ValueError(f"apply_along_axis: axis {axis} is out of bounds for an array "
                         f"of dimension {arr.ndim}")
    moved = _lnp.moveaxis(arr, ax, -1)
    outer = moved.shape[:-1]
    if not int(np.prod(outer)):
        raise ValueError(f"apply_along_axis: cannot apply to the empty slices of shape "
                         f"{arr.shape} along axis {axis}")
    results = [_lnp.asarray(func1d(moved[idx], *args, **kwargs)) for idx in np.ndindex(outer)]
    out = _lnp.reshape(_lnp.stack(results, 0), outer + results[0].shape)
    k = results[0].ndim
    # the result axes go where ``axis`` was
    return _lnp.moveaxis(out, tuple(range(len(outer), len(outer) + k)),
                         tuple(range(ax, ax + k)))


def apply_over_axes(func, a, axes):
    """``func(a, axis)`` applied for each axis in turn, keeping the rank (a reduced axis is
    re-inserted with length 1), as NumPy."""
    a = _lnp.asarray(a)
    for axis in [axes] if isinstance(axes, int) else axes:
        b = _lnp.asarray(func(a, axis))
        if b.ndim == a.ndim - 1:
            b = _lnp.expand_dims(b, axis)
        elif b.ndim != a.ndim:
            raise ValueError(f"apply_over_axes: func must keep the rank or drop one axis; "
                             f"got shape {b.shape} from {a.shape} on axis {axis}")
        a = b
    return a


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """A copy of ``a`` with its main diagonal set to ``val`` (tiled as NumPy).  As JAX,
    ``inplace=False`` is required (lepton arrays are immutable) and ``wrap`` is unsupported."""
    if inplace:
        raise NotImplementedError("fill_diagonal: lepton arrays are immutable; pass "
                                  "inplace=False and use the returned array")
    if wrap:
        raise NotImplementedError("fill_diagonal: wrap=True is not implemented; use "
                                  "wrap=False")
    a, val = _lnp.asarray(a), _lnp.asarray(val)
    if a.ndim < 2:
        raise ValueError(f"fill_diagonal: a must be at least 2-D, got shape {a.shape}")
    if a.ndim > 2 and any(d != a.shape[0] for d in a.shape[1:]):
        raise ValueError(f"fill_diagonal: all dimensions of a must have equal length for "
                         f"ndim > 2, got shape {a.shape}")
    n = min(a.shape)
    idx = _lnp.arange(n)
    if val.ndim:
        flat = _lnp.ravel(val)
        if not flat.shape[0]:
            return a
        val = _lnp.tile(flat, -(-n // flat.shape[0]))[:n]
    return a.at[(idx,) * a.ndim].set(val.astype(a.dtype))


def block(arrays):
    """Assemble an array from nested lists of blocks: the innermost lists concatenate
    along the last axis, the next along the second last, ... (as NumPy/JAX)."""
    out, _ = _block(arrays)
    return out


def _block(xs):
    if isinstance(xs, tuple):
        raise ValueError(f"block: tuples are not allowed, use lists; got {xs!r}")
    if isinstance(xs, list):
        if not xs:
            raise ValueError("block: empty lists are not allowed")
        parts, depths = zip(*(_block(x) for x in xs))
        if any(d != depths[0] for d in depths[1:]):
            raise ValueError(f"block: mismatched list depths {list(depths)}; every branch "
                             "must nest to the same depth")
        rank = max(depths[0], max(p.ndim for p in parts))
        parts = [_lnp.reshape(p, (1,) * (rank - p.ndim) + p.shape) for p in parts]
        return _lnp.concatenate(parts, axis=-depths[0]), depths[0] + 1
    return _lnp.asarray(xs), 1
