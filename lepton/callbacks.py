"""``lepton.pure_callback``: call a pure host (NumPy, SciPy, ...) function from traced code.

The user's function sees lepton Arrays (copies, so it may keep them) with the pytree
structure of its arguments; non-array leaves (strings, Python numbers, None...) are passed
through as they are, as static values.  The primitive underneath is
``primitives.callback.pure_callback_p``.
"""
from __future__ import annotations

import numpy as np

from . import dtypes, tree
from .core import ArrayBase, ShapedArray, new_array
from .primitives import callback as cb


def host_function(fn, args, kwargs, name=None):
    """Split ``fn(*args, **kwargs)`` into a ``HostFn`` over the array leaves and those leaves.

    The HostFn rebuilds the call from NumPy values (as lepton Arrays) and the static
    leaves, and returns whatever ``fn`` returns.  It runs under the NumPy error state of
    the caller of ``host_function`` (the user's code, when traced), not the silenced one
    of lepton's compiled programs."""
    leaves, treedef = tree.flatten((args, kwargs))
    dynamic = [i for i, x in enumerate(leaves)
               if isinstance(x, (ArrayBase, np.ndarray, np.generic))]
    errstate = np.geterr()

    def call(*values):
        full = list(leaves)
        for i, v in zip(dynamic, values):
            full[i] = new_array(np.array(v))  # a copy: compiled code may reuse its buffers
        a, k = tree.unflatten(treedef, full)
        with np.errstate(**errstate):
            return fn(*a, **k)

    if name is None:
        name = getattr(fn, "__name__", None) or type(fn).__name__
    return cb.HostFn(call, name), [leaves[i] for i in dynamic]


def pure_callback(callback, result_shape_dtypes, *args, sharding=None, vmap_method=None,
                  **kwargs):
    """Call the pure host function ``callback(*args, **kwargs)``; works under jit, vmap.

    ``result_shape_dtypes`` is a pytree whose leaves have ``.shape`` and ``.dtype``
    (``lepton.ShapeDtypeStruct``, or example arrays): the callback must return arrays of
    those shapes in the same structure.  Dtypes are canonicalised as everywhere in lepton
    (float64 means float32 unless 64-bit mode is on).  Deviation from JAX: a result whose
    dtype differs but converts within its kind (float64 -> float32) is converted rather
    than rejected.  ``vmap_method``: None (vmap raises), 'sequential' (one call per batch
    element; 'sequential_unrolled' is the same here), 'expand_dims' (one call; unbatched
    operands get a leading size-1 axis) or 'broadcast_all' (one call; every operand
    broadcast to the batch).  Not differentiable: wrap it in ``custom_jvp``/``custom_vjp``.
    ``sharding`` is accepted for compatibility and ignored (one CPU device).
    """
    del sharding
    res_leaves, res_tree = tree.flatten(result_shape_dtypes)
    try:
        avals = [ShapedArray(tuple(int(n) for n in r.shape), dtypes.canonicalize(r.dtype))
                 for r in res_leaves]
    except AttributeError:
        raise TypeError("pure_callback: every leaf of result_shape_dtypes needs .shape and "
                        ".dtype (use lepton.ShapeDtypeStruct(shape, dtype)); got "
                        f"{result_shape_dtypes!r}") from None

    def flat(*a, **k):
        out = callback(*a, **k)
        out_leaves = tree.leaves(out)
        if len(out_leaves) != len(avals):
            raise TypeError(f"pure_callback: {fn.name} returned {tree.structure(out)} but "
                            f"result_shape_dtypes declares {res_tree}")
        return out_leaves

    fn, dyn = host_function(flat, args, kwargs,
                            getattr(callback, "__name__", None) or type(callback).__name__)
    outs = cb.pure_callback(fn, avals, *dyn, vmap_method=vmap_method)
    return tree.unflatten(res_tree, outs)
