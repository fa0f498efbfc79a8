"""Host callbacks: ``debug_callback`` (an effect, no outputs) and ``pure_callback``.

Both carry a Python callable as a parameter and run it on the host with the runtime
values, eagerly or from a compiled program (the cpu backend calls the impl as a host step).

* ``debug_callback_p`` has no outputs and is *effectful* (``prim.effectful``): dead-code
  elimination (``ir.live_eqns``) keeps it, and the scheduler keeps it in program order.
  Its JVP prints the primals and has no tangents; under ``vmap`` the callback runs once
  per batch element, in order, as JAX's does.
* ``pure_callback_p`` returns arrays of declared avals; it is pure (dropped when unused).
  Under ``vmap`` it follows ``vmap_method``; it has no JVP: JAX raises, and so do we.

The callable parameter is a ``HostFn``: hashable by identity, which is what jaxpr
equality and cache keys need.  It takes and returns NumPy arrays; ``lepton.debug`` and
``lepton.pure_callback`` wrap the user's function (pytrees, lepton Arrays) around it.
"""
from __future__ import annotations

import numpy as np

from ..core import Primitive, ShapedArray
from ..errors import DTypeError, ShapeError
from .base import move_to_front
from .structural import moveaxis, reshape

VMAP_METHODS = (None, "sequential", "sequential_unrolled", "expand_dims", "broadcast_all")


class HostFn:
    """A host function ``fn(*numpy_arrays)`` with a name for jaxprs and error messages."""

    __slots__ = ("fn", "name")

    def __init__(self, fn, name: str):
        self.fn, self.name = fn, name

    def __call__(self, *args):
        try:
            return self.fn(*args)
        except Exception as e:
            raise mark_host_error(e)

    def __repr__(self):
        return self.name


def mark_host_error(e: BaseException) -> BaseException:
    """Flag an exception raised by (or about) a user's host function: a compiled program
    that raises it must not be re-run on the reference interpreter (``backends.tiered``),
    which would call the function twice."""
    try:
        e.lepton_host_callback = True
    except AttributeError:  # an exception type with __slots__: left unflagged
        pass
    return e


class _PerElement(HostFn):
    """Run ``inner`` once per batch element: batched operands (batch axis first, flagged
    in ``batched``) are indexed, the others passed whole; results are stacked."""

    __slots__ = ("inner", "batched", "axis_size", "results")

    def __init__(self, inner: HostFn, batched, axis_size: int, results=None):
        super().__init__(self._run, f"vmap({inner.name})")
        self.inner, self.batched, self.axis_size = inner, tuple(batched), axis_size
        self.results = results  # per-element result avals (pure_callback), None: no results

    def _run(self, *args):
        outs = [self.inner(*[a[i] if b else a for a, b in zip(args, self.batched)])
                for i in range(self.axis_size)]
        if self.results is None:
            return []
        if not outs:
            return [np.empty((0,) + a.shape, a.dtype) for a in self.results]
        return [np.stack(rs) for rs in zip(*outs)]


# ----------------------------------------------------------------------------- debug_callback
debug_callback_p = Primitive("debug_callback", multiple_results=True)
debug_callback_p.effectful = True


def _debug_impl(*args, callback):
    callback(*args)
    return []


def _debug_jvp(primals, tangents, *, callback):
    return debug_callback_p.bind(*primals, callback=callback), []


def _debug_batch(axis_size, vals, dims, *, callback):
    batched = [d is not None for d in dims]
    vals = [v if d is None else moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    return debug_callback_p.bind(*vals, callback=_PerElement(callback, batched, axis_size)), []


debug_callback_p.impl = _debug_impl
debug_callback_p.abstract_eval = lambda *avals, callback: []
debug_callback_p.jvp = _debug_jvp
debug_callback_p.batch = _debug_batch


def debug_callback(callback: HostFn, *args):
    """Run ``callback(*numpy_values)`` when the program runs; returns nothing."""
    debug_callback_p.bind(*args, callback=callback)


# ----------------------------------------------------------------------------- pure_callback
pure_callback_p = Primitive("pure_callback", multiple_results=True)


def _pure_impl(*args, callback, result_avals, vmap_method):
    res = callback(*args)
    if res is None:
        res = []
    if len(res) != len(result_avals):
        raise mark_host_error(TypeError(
            f"pure_callback: {callback.name} returned {len(res)} values, but "
            f"result_shape_dtypes declares {len(result_avals)}"))
    return [_check_result(r, a, callback.name, i) for i, (r, a) in
            enumerate(zip(res, result_avals))]


def _check_result(r, aval: ShapedArray, name, i):
    r = np.asarray(r)
    want = f"declared {aval.str_short()} (result_shape_dtypes leaf {i})"
    if r.shape != aval.shape:
        raise mark_host_error(ShapeError(
            f"pure_callback: {name} returned an array of shape {r.shape} and dtype "
            f"{r.dtype} where {want}. Return the declared shape, or fix result_shape_dtypes."))
    if r.dtype != aval.dtype:
        if not np.can_cast(r.dtype, aval.dtype, "same_kind"):
            raise mark_host_error(DTypeError(
                f"pure_callback: {name} returned dtype {r.dtype} where {want}: it cannot be "
                "converted safely. Return the declared dtype (e.g. with .astype), or fix "
                "result_shape_dtypes."))
        return r.astype(aval.dtype)
    return np.array(r)  # a fresh buffer: never the callback's own (mutable) array


def _pure_jvp(primals, tangents, *, callback, result_avals, vmap_method):
    raise ValueError(
        f"pure_callback ({callback.name}) cannot be differentiated: lepton cannot see inside "
        "a host function. Wrap the function that calls pure_callback in lepton.custom_jvp "
        "(or custom_vjp) and give its derivative, as with jax.pure_callback.")


def _pure_batch(axis_size, vals, dims, *, callback, result_avals, vmap_method):
    batched = [d is not None for d in dims]
    out_avals = tuple(ShapedArray((axis_size,) + a.shape, a.dtype, a.weak_type)
                      for a in result_avals)
    vals = [v if d is None else moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    if vmap_method is None:
        raise NotImplementedError(
            f"vmap of pure_callback ({callback.name}) needs vmap_method: pass "
            "vmap_method='sequential' (call it once per batch element), 'expand_dims' (one "
            "call; unbatched operands get a leading size-1 axis) or 'broadcast_all' (one "
            "call; every operand has the batch axis first), as in JAX.")
    if vmap_method in ("sequential", "sequential_unrolled"):
        fn = _PerElement(callback, batched, axis_size, result_avals)
    else:
        fn = callback
        if vmap_method == "expand_dims":
            vals = [v if b else reshape(v, (1,) + v.aval.shape) for v, b in zip(vals, batched)]
        else:  # broadcast_all
            vals = [v if b else move_to_front(v, None, axis_size) for v, b in zip(vals, batched)]
    outs = pure_callback_p.bind(*vals, callback=fn, result_avals=out_avals,
                                vmap_method=vmap_method)
    return outs, [0] * len(outs)


pure_callback_p.impl = _pure_impl
pure_callback_p.abstract_eval = lambda *avals, callback, result_avals, vmap_method: list(
    result_avals)
pure_callback_p.jvp = _pure_jvp
pure_callback_p.batch = _pure_batch


def pure_callback(callback: HostFn, result_avals, *args, vmap_method=None):
    """``callback(*numpy_values)`` -> arrays of ``result_avals`` (a tuple of ShapedArray)."""
    if vmap_method not in VMAP_METHODS:
        raise ValueError(f"pure_callback: vmap_method must be one of {VMAP_METHODS}, "
                         f"got {vmap_method!r}")
    return pure_callback_p.bind(*args, callback=callback, result_avals=tuple(result_avals),
                                vmap_method=vmap_method)


__all__ = ["HostFn", "debug_callback", "debug_callback_p", "pure_callback", "pure_callback_p"]
