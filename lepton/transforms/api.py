"""``make_jaxpr`` and ``eval_shape``: trace a function to the IR without running it."""
from __future__ import annotations

import functools

from .. import tree
from ..core import ArrayBase, ShapedArray, concrete, current_trace, get_aval, set_trace
from .staging import StagingTrace


def fun_name(fun) -> str:
    """A readable name for any callable (functions, partials, bound methods, callable objects),
    for messages and IR names; transforms must not assume ``fun.__name__`` exists."""
    name = getattr(fun, "__name__", None)
    if isinstance(name, str):
        return name
    if isinstance(fun, functools.partial):
        return f"partial({fun_name(fun.func)})"
    return type(fun).__name__


class ShapeDtypeStruct:
    """Shape and dtype of an output, as returned by ``eval_shape``."""

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape, self.dtype, self.weak_type = tuple(shape), dtype, weak_type

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(__import__("math").prod(self.shape)))

    def __eq__(self, other):
        return isinstance(other, ShapeDtypeStruct) and (self.shape, self.dtype) == (
            other.shape, other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype})"


def _abstractify(x):
    if isinstance(x, ShapeDtypeStruct):
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, ArrayBase) \
            and type(x).__module__.startswith("jax"):
        return ShapedArray(x.shape, x.dtype)
    return get_aval(x)


def trace_to_jaxpr(fun, in_avals, name="make_jaxpr"):
    """Stage ``fun`` (a function of flat arrays returning a flat list) into a ClosedJaxpr."""
    trace = StagingTrace(current_trace(), stage_all=True, name=name)
    args = [trace.new_arg(a) for a in in_avals]
    try:
        with set_trace(trace):
            outs = fun(*args)
        outs = [o if isinstance(o, ArrayBase) else concrete(o) for o in outs]
        return trace.to_jaxpr(outs)
    finally:
        trace.alive = False


def _traced(fun, args, kwargs, static_argnums=()):
    flat, in_tree = tree.flatten(args)
    avals = [_abstractify(x) for x in flat]
    store = {}

    def flat_fun(*leaves):
        out = fun(*tree.unflatten(in_tree, leaves), **kwargs)
        out_leaves, store["tree"] = tree.flatten(out)
        return out_leaves

    return trace_to_jaxpr(flat_fun, avals), store["tree"]


def make_jaxpr(fun, static_argnums=()):
    """Function returning the traced IR (a printable ClosedJaxpr) of ``fun`` at given args."""
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def make(*args, **kwargs):
        if static:
            fixed = {i: args[i] for i in static}
            dyn = [a for i, a in enumerate(args) if i not in fixed]

            def f(*dyn_args):
                it = iter(dyn_args)
                return fun(*[fixed[i] if i in fixed else next(it) for i in range(len(args))],
                           **kwargs)

            return _traced(f, tuple(dyn), {})[0]
        return _traced(fun, args, kwargs)[0]

    return make


def eval_shape(fun, *args, **kwargs):
    """Output shapes/dtypes of ``fun(*args)`` (a pytree of ShapeDtypeStruct), no computation."""
    closed, out_tree = _traced(fun, args, kwargs)
    return tree.unflatten(out_tree, [ShapeDtypeStruct(a.shape, a.dtype, a.weak_type)
                                     for a in closed.out_avals])
