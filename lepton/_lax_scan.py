"""``lax.associative_scan``: an inclusive prefix scan with an associative operator, by the
parallel-prefix recursion JAX uses (Blelloch's odd/even split): ``O(log n)`` levels of
whole-array ``fn`` calls instead of ``n`` sequential steps.  It is built from slices,
concatenations and ``fn`` only, so ``grad``, ``vmap`` and ``jit`` go straight through it.
"""
from __future__ import annotations

from . import tree
from .control_flow.common import as_values
from .core import get_aval
from .errors import ShapeError
from .primitives.slicing import rev
from .primitives.structural import concatenate, reshape
from ._lax_misc import slice_in_dim

__all__ = ["associative_scan"]


def _interleave(a, b, axis):
    """``[a0, b0, a1, b1, ...]`` along ``axis``; ``a`` has as many entries as ``b`` or one
    more."""
    na, nb = get_aval(a).shape[axis], get_aval(b).shape[axis]
    head = a if na == nb else slice_in_dim(a, 0, nb, axis=axis)
    shape = get_aval(head).shape
    pair_shape = shape[:axis + 1] + (1,) + shape[axis + 1:]
    pairs = concatenate([reshape(head, pair_shape), reshape(b, pair_shape)], axis + 1)
    out = reshape(pairs, shape[:axis] + (2 * nb,) + shape[axis + 1:])
    if na == nb:
        return out
    return concatenate([out, slice_in_dim(a, nb, na, axis=axis)], axis)


def associative_scan(fn, elems, reverse=False, axis=0):
    """Inclusive scan of ``elems`` (a pytree of arrays with equal length along ``axis``)
    with the associative ``fn(a, b)``, which maps pairs of such pytrees elementwise.

    ``associative_scan(lax.add, x)`` is ``cumsum(x)``; ``reverse=True`` scans from the end.
    ``fn`` is called on slices, so it must work on any number of elements along ``axis``.
    """
    leaves, treedef = tree.flatten(elems)
    leaves = as_values(leaves)
    if not leaves:
        return elems
    ndim = leaves[0].ndim
    if not -ndim <= axis < max(ndim, 1) or ndim == 0:
        raise ValueError(f"lax.associative_scan: axis {axis} is out of range for elements of "
                         f"shape {leaves[0].shape}")
    axis %= ndim
    n = leaves[0].shape[axis]
    if any(x.ndim <= axis or x.shape[axis] != n for x in leaves):
        raise ShapeError(f"lax.associative_scan: every element needs the same length along "
                         f"axis {axis}, got shapes {[x.shape for x in leaves]}")
    if reverse:
        leaves = [rev(x, (axis,)) for x in leaves]

    def combine(a, b):
        out, out_tree = tree.flatten(fn(tree.unflatten(treedef, a), tree.unflatten(treedef, b)))
        if out_tree != treedef:
            raise TypeError(f"lax.associative_scan: fn must return the structure of its "
                            f"inputs {treedef}, got {out_tree}")
        out = as_values(out)
        want = [x.shape for x in a]
        if [x.shape for x in out] != want:
            raise ShapeError(f"lax.associative_scan: fn must map elements of shapes {want} to "
                             f"the same shapes, got {[x.shape for x in out]}")
        return out

    def scan(xs):
        m = xs[0].shape[axis]
        if m < 2:
            return xs
        reduced = combine([slice_in_dim(x, 0, -1, 2, axis) for x in xs],
                          [slice_in_dim(x, 1, None, 2, axis) for x in xs])
        odd = scan(reduced)
        if m % 2 == 0:
            even = combine([slice_in_dim(e, 0, -1, axis=axis) for e in odd],
                           [slice_in_dim(x, 2, None, 2, axis) for x in xs])
        else:
            even = combine(odd, [slice_in_dim(x, 2, None, 2, axis) for x in xs])
        even = [concatenate([slice_in_dim(x, 0, 1, axis=axis), e], axis)
                for x, e in zip(xs, even)]
        return [_interleave(e, o, axis) for e, o in zip(even, odd)]

    out = scan(leaves)
    if reverse:
        out = [rev(x, (axis,)) for x in out]
    return tree.unflatten(treedef, out)
