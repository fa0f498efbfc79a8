"""Small ``jax.lax`` names that are compositions of lepton.numpy / lax operations:
broadcast, broadcast_to_rank, clamp, collapse, full_like, exp2, batch_matmul,
broadcast_shapes, tile, split, sort_key_val.  Shapes are checked as lax does (no NumPy
broadcasting where lax has none), with errors that name the shapes."""
from __future__ import annotations

import builtins

from . import numpy as lnp
from .core import get_aval
from .errors import ShapeError
from .primitives.slicing import slice_in_dim as _slice_in_dim
from .primitives.sorting import sort as _sort

__all__ = ["batch_matmul", "broadcast", "broadcast_shapes", "broadcast_to_rank", "clamp",
           "collapse", "exp2", "full_like", "sort_key_val", "split", "tile"]


def broadcast(operand, sizes):
    """``operand`` with new leading axes of ``sizes`` (``lax.broadcast``)."""
    x = lnp.asarray(operand)
    return lnp.broadcast_to(x, tuple(sizes) + x.shape)


def broadcast_to_rank(x, rank):
    """``x`` with leading size-1 axes added up to ``rank`` dimensions."""
    x = lnp.asarray(x)
    if rank < x.ndim:
        raise ShapeError(f"lax.broadcast_to_rank: rank {rank} is below x's {x.ndim} "
                         f"dimensions (shape {x.shape})")
    return x.reshape((1,) * (rank - x.ndim) + x.shape)


def broadcast_shapes(*shapes):
    """The NumPy broadcast of shapes, as a tuple."""
    return tuple(lnp.broadcast_shapes(*shapes))


def clamp(min, x, max):
    """``min <= x <= max`` elementwise: min and max are scalars or have x's shape; all
    three share one dtype (as lax)."""
    x = lnp.asarray(x)
    lo, hi = lnp.asarray(min, x.dtype), lnp.asarray(max, x.dtype)
    for name, b in (("min", lo), ("max", hi)):
        if b.shape not in ((), x.shape):
            raise ShapeError(f"lax.clamp: {name} must be a scalar or have x's shape {x.shape}, "
                             f"got shape {b.shape}")
    return lnp.minimum(lnp.maximum(x, lo), hi)


def collapse(operand, start_dimension, stop_dimension=None):
    """Axes ``start_dimension:stop_dimension`` (negative values count from the end)
    merged into one."""
    x = lnp.asarray(operand)
    start = start_dimension + x.ndim if start_dimension < 0 else start_dimension
    stop = x.ndim if stop_dimension is None else (
        stop_dimension + x.ndim if stop_dimension < 0 else stop_dimension)
    if not 0 <= start <= stop <= x.ndim:
        raise ShapeError(f"lax.collapse: bad dimensions {start_dimension}:{stop_dimension} "
                         f"for shape {x.shape}")
    size = 1
    for s in x.shape[start:stop]:
        size *= s
    return x.reshape(x.shape[:start] + (size,) + x.shape[stop:])


def full_like(x, fill_value, dtype=None, shape=None, sharding=None):
    """An array of ``fill_value`` with x's shape and dtype (or the given ones)."""
    a = get_aval(lnp.asarray(x))
    return lnp.full(a.shape if shape is None else tuple(shape), fill_value,
                    dtype=a.dtype if dtype is None else dtype)


def exp2(x, *, accuracy=None):
    """2 ** x."""
    return lnp.exp2(x)


def batch_matmul(lhs, rhs, precision=None):
    """Batched matrix product of operands of equal rank >= 2 and equal batch axes."""
    a, b = lnp.asarray(lhs), lnp.asarray(rhs)
    if a.ndim < 2 or a.ndim != b.ndim or a.shape[:-2] != b.shape[:-2]:
        raise ShapeError(f"lax.batch_matmul: operands need equal rank >= 2 and equal batch "
                         f"axes, got shapes {a.shape} and {b.shape}")
    return lnp.matmul(a, b)


def tile(operand, reps):
    x = lnp.asarray(operand)
    reps = tuple(reps)
    if len(reps) != x.ndim:
        raise ShapeError(f"lax.tile: reps {reps} must have one entry per axis of shape "
                         f"{x.shape}")
    return lnp.tile(x, reps)


def split(operand, sizes, axis=0):
    """``operand`` cut along ``axis`` into pieces of ``sizes`` (which must add up)."""
    x = lnp.asarray(operand)
    sizes = [int(s) for s in sizes]
    if builtins.sum(sizes) != x.shape[axis]:
        raise ShapeError(f"lax.split: sizes {sizes} add up to {builtins.sum(sizes)}, not to "
                         f"axis {axis}'s length {x.shape[axis]} (shape {x.shape})")
    out, start = [], 0
    for s in sizes:
        out.append(_slice_in_dim(x, start, start + s, 1, axis % x.ndim))
        start += s
    return out


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """``keys`` sorted along ``dimension`` and ``values`` permuted alike."""
    k, v = lnp.asarray(keys), lnp.asarray(values)
    if k.shape != v.shape:
        raise ShapeError(f"lax.sort_key_val: keys and values need one shape, got {k.shape} "
                         f"and {v.shape}")
    return tuple(_sort((k, v), dimension=dimension, is_stable=is_stable, num_keys=1))
