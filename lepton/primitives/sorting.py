"""The multi-operand ``sort`` primitive.

``sort(*operands, dimension, is_stable, num_keys)`` orders all operands along
``dimension`` by the first ``num_keys`` of them, compared lexicographically (NaNs
last, as NumPy); the other operands are carried along.  Carrying is a permutation
fixed by the keys, so ``sort`` is linear in the carried operands: tangents are carried
through the same sort, and cotangents go back through the inverse permutation, found
by sorting the forward permutation.  No gather primitive is needed.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import Primitive, get_aval
from .base import Zero, check_dtype_kind, fail_shape, instantiate, is_undefined, move_to_front
from .structural import iota

sort_p = Primitive("sort", multiple_results=True)


def _sort_impl(*operands, dimension, is_stable, num_keys):
    keys = operands[:num_keys]
    if len(operands) == 1:
        return [np.sort(keys[0], axis=dimension, kind="stable")]
    if num_keys == 1:
        perm = np.argsort(keys[0], axis=dimension, kind="stable")
    else:  # np.lexsort sorts by its last key first
        perm = np.lexsort(keys[::-1], axis=dimension)
    return [np.take_along_axis(x, perm, axis=dimension) for x in operands]


def _sort_rule(*avals, dimension, is_stable, num_keys):
    if not avals:
        raise ValueError("sort needs at least one operand")
    a0 = avals[0]
    if any(a.shape != a0.shape for a in avals):
        fail_shape("sort", "operands must have equal shapes", *avals,
                   fix="Broadcast the carried operands to the keys' shape first.")
    if not 0 <= dimension < a0.ndim:
        fail_shape("sort", f"dimension {dimension} must be in range({a0.ndim}) (operands need "
                   "rank >= 1)", *avals)
    if not 1 <= num_keys <= len(avals):
        fail_shape("sort", f"num_keys={num_keys} must be between 1 and the number of operands "
                   f"({len(avals)})", *avals)
    check_dtype_kind("sort", avals[:num_keys], "biufc", "numeric or boolean key")
    return list(avals)


def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    out = sort_p.bind(*primals, dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    keys = primals[:num_keys]
    moving = [i for i, t in enumerate(tangents) if type(t) is not Zero]
    if not moving:
        return out, [Zero.like(o) for o in out]
    carried = sort_p.bind(*keys, *(instantiate(tangents[i]) for i in moving),
                          dimension=dimension, is_stable=True, num_keys=num_keys)[num_keys:]
    out_t = [Zero.like(o) for o in out]
    for i, t in zip(moving, carried):
        out_t[i] = t
    return out, out_t


def _sort_transpose(cts, *operands, dimension, is_stable, num_keys):
    keys = operands[:num_keys]
    if any(is_undefined(k) for k in keys):
        raise TypeError("sort is not linear in its keys: it cannot be transposed with respect "
                        "to them")
    live = [i for i, (x, ct) in enumerate(zip(operands, cts))
            if is_undefined(x) and type(ct) is not Zero]
    out = [None] * len(operands)
    if not live:
        return out
    shape = keys[0].aval.shape
    perm = sort_p.bind(*keys, iota(dtypes.int32, shape, dimension), dimension=dimension,
                       is_stable=True, num_keys=num_keys)[-1]
    back = sort_p.bind(perm, *(cts[i] for i in live), dimension=dimension, is_stable=True,
                       num_keys=1)[1:]
    for i, ct in zip(live, back):
        out[i] = ct
    return out


def _sort_batch(axis_size, vals, dims, *, dimension, is_stable, num_keys):
    vals = [move_to_front(v, d, axis_size) for v, d in zip(vals, dims)]
    out = sort_p.bind(*vals, dimension=dimension + 1, is_stable=is_stable, num_keys=num_keys)
    return out, [0] * len(out)


sort_p.impl = _sort_impl
sort_p.abstract_eval = _sort_rule
sort_p.jvp = _sort_jvp
sort_p.transpose = _sort_transpose
sort_p.batch = _sort_batch


def sort(operands, dimension=-1, is_stable=True, num_keys=1):
    """Sort ``operands`` along ``dimension`` by the first ``num_keys``.

    As ``jax.lax.sort``: one array gives one sorted array; a sequence of arrays gives a
    tuple sorted together."""
    single = not isinstance(operands, (list, tuple))
    operands = [operands] if single else list(operands)
    nd = get_aval(operands[0]).ndim
    out = sort_p.bind(*operands, dimension=int(dimension) % max(nd, 1),
                      is_stable=bool(is_stable), num_keys=int(num_keys))
    return out[0] if single else tuple(out)


def argsort(keys, dimension=-1, index_dtype=dtypes.int32):
    """Indices that sort ``keys`` (one array or a sequence compared lexicographically)."""
    keys = list(keys) if isinstance(keys, (list, tuple)) else [keys]
    shape = get_aval(keys[0]).shape
    nd = len(shape)
    dimension = int(dimension) % max(nd, 1)
    idx = iota(index_dtype, shape, dimension)
    return sort(keys + [idx], dimension, num_keys=len(keys))[-1]
