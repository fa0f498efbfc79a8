"""``ravel_pytree``: a pytree of arrays as one flat vector, and back (``jax.flatten_util``).

It is built from lepton.numpy ops (so it works on traced values too), which sit above
``lepton.tree``; importing this module installs it there as ``lepton.tree.ravel_pytree``,
the name it had before it moved (``import lepton`` imports this module).
"""
from __future__ import annotations

from . import numpy as lnp
from . import tree as _tree

__all__ = ["ravel_pytree"]


def ravel_pytree(tree):
    """Concatenate all leaves into one 1-D array; return it with a function that undoes it.

    The flat vector has the promoted dtype of the leaves (float32 when there are none);
    unravel casts each piece back to its leaf's dtype and shape.
    """
    leaves, treedef = _tree.flatten(tree)
    arrays = [lnp.asarray(x) for x in leaves]
    shapes = [a.shape for a in arrays]
    dtypes = [a.dtype for a in arrays]
    sizes = [a.size for a in arrays]
    total = sum(sizes)
    if arrays:
        dtype = lnp.result_type(*dtypes)
        flat = lnp.concatenate([_cast(lnp.ravel(a), dtype) for a in arrays])
    else:
        flat = lnp.zeros((0,), dtype=lnp.float32)

    def unravel(flat):
        if tuple(flat.shape) != (total,):
            raise ValueError(f"unravel expects a vector of shape ({total},), got shape {tuple(flat.shape)}")
        pieces, start = [], 0
        for shape, dtype, size in zip(shapes, dtypes, sizes):
            pieces.append(_cast(lnp.reshape(flat[start : start + size], shape), dtype))
            start += size
        return treedef.unflatten(pieces)

    return flat, unravel


def _cast(a, dtype):
    return a if a.dtype == dtype else a.astype(dtype)


_tree.ravel_pytree = ravel_pytree  # installed late: lepton.tree sits below lepton.numpy
