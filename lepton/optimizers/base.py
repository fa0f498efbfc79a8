"""The optimizer protocol: per-array rules lifted to pytrees, and the state they share.

An optimizer is a triple ``(init, update, get_params)``. ``@optimizer`` takes a maker whose
three functions handle ONE array and returns a maker of functions that handle whole pytrees
of parameters, exactly as ``jax.example_libraries.optimizers.optimizer`` does. The state is
an ``OptimizerState``: a pytree (so it goes through ``jit``, ``vmap``, ``lepton.save``) whose
only child is the flat list of per-leaf states; the parameter structure and the per-leaf
state structures are static aux data.
"""
from __future__ import annotations

import collections
import functools
from typing import Any, Callable, NamedTuple

import numpy as np

from .. import tree
from ..core import ArrayBase

__all__ = ["OptimizerState", "Optimizer", "optimizer", "make_schedule", "JoinPoint",
           "pack_optimizer_state", "unpack_optimizer_state"]

OptimizerState = collections.namedtuple("OptimizerState", ["packed_state", "tree_def", "subtree_defs"])
OptimizerState.__doc__ = """State of an ``@optimizer`` optimizer over a pytree of parameters.

``packed_state`` holds the leaves of every per-parameter state (a tuple of lists, one list per
parameter leaf); ``tree_def`` is the parameters' PyTreeDef and ``subtree_defs`` the PyTreeDef
of each per-parameter state. Only ``packed_state`` is a pytree child, the rest is static."""


def _state_flatten_with_keys(s):
    return [(tree.GetAttrKey("packed_state"), s.packed_state)], (s.tree_def, s.subtree_defs)


tree.register_pytree_node(
    OptimizerState,
    lambda s: ((s.packed_state,), (s.tree_def, s.subtree_defs)),
    lambda aux, children: OptimizerState(children[0], aux[0], aux[1]),
    _state_flatten_with_keys,
)


class Optimizer(NamedTuple):
    """``(init_fn, update_fn, params_fn)``; unpacks as ``opt_init, opt_update, get_params``."""

    init_fn: Callable
    update_fn: Callable
    params_fn: Callable


def _as_triple(made, maker):
    try:
        init, update, get_params = made
    except (TypeError, ValueError):
        raise TypeError(f"optimizer maker {maker.__name__} must return an (init, update, get_params) "
                        f"triple, got {type(made).__name__}") from None
    return init, update, get_params


def _keep_dtype(new, old):
    """Cast an updated floating (or complex) state leaf back to its previous precision.

    Deviation from JAX, which lets e.g. a float32 schedule promote float16 parameters: here
    the state keeps its dtypes, so a jitted or scanned training step stays stable. Integer
    leaves still promote as in JAX (casting back would truncate the update).
    """
    if isinstance(old, (ArrayBase, np.ndarray)) and isinstance(new, (ArrayBase, np.ndarray)):
        if new.dtype != old.dtype and new.dtype.kind == old.dtype.kind and old.dtype.kind in "fc":
            return new.astype(old.dtype)
    return new


def optimizer(opt_maker: Callable) -> Callable[..., Optimizer]:
    """Decorator: lift a maker of single-array ``(init, update, get_params)`` to pytrees.

    ``init(x0) -> state``, ``update(i, g, state) -> state`` and ``get_params(state) -> x``
    work on one array (a state may itself be any pytree of arrays); the decorated maker
    returns an ``Optimizer`` whose functions work on any pytree of parameters.
    """

    @functools.wraps(opt_maker)
    def tree_opt_maker(*args, **kwargs):
        init, update, get_params = _as_triple(opt_maker(*args, **kwargs), opt_maker)

        @functools.wraps(init)
        def tree_init(x0_tree):
            x0_flat, treedef = tree.flatten(x0_tree)
            flat_states, subtrees = [], []
            for x0 in x0_flat:
                leaves, sub = tree.flatten(init(x0))
                flat_states.append(leaves)
                subtrees.append(sub)
            return OptimizerState(tuple(flat_states), treedef, tuple(subtrees))

        @functools.wraps(update)
        def tree_update(i, grad_tree, opt_state):
            states_flat, treedef, subtrees = _unpack(opt_state, "opt_update")
            grad_flat, grad_def = tree.flatten(grad_tree)
            if grad_def != treedef:
                raise TypeError(
                    "optimizer update function was passed a gradient tree that does not match the "
                    f"parameter tree it was initialized with: parameter tree {treedef}, gradient "
                    f"tree {grad_def}. Pass grads with the structure of get_params(opt_state).")
            new_flat = []
            for g, sub, leaves in zip(grad_flat, subtrees, states_flat):
                new_leaves, new_sub = tree.flatten(update(i, g, sub.unflatten(leaves)))
                if new_sub != sub:
                    raise TypeError("optimizer update function produced a state structure that does not "
                                    f"match its input: input {sub}, output {new_sub}.")
                new_flat.append([_keep_dtype(n, o) for n, o in zip(new_leaves, leaves)])
            return OptimizerState(tuple(new_flat), treedef, subtrees)

        @functools.wraps(get_params)
        def tree_get_params(opt_state):
            states_flat, treedef, subtrees = _unpack(opt_state, "get_params")
            return treedef.unflatten([get_params(sub.unflatten(leaves))
                                      for sub, leaves in zip(subtrees, states_flat)])

        return Optimizer(tree_init, tree_update, tree_get_params)

    return tree_opt_maker


def _unpack(opt_state, who):
    if not isinstance(opt_state, OptimizerState):
        raise TypeError(f"{who} expects the OptimizerState returned by opt_init or opt_update, got "
                        f"{type(opt_state).__name__}. Did you swap the arguments? The call is "
                        "opt_update(step, grads, opt_state).")
    return opt_state


def make_schedule(scalar_or_schedule) -> Callable:
    """A schedule ``i -> step size`` from a callable (returned as is) or a scalar (constant)."""
    if callable(scalar_or_schedule):
        return scalar_or_schedule
    if np.ndim(scalar_or_schedule) == 0:
        value = scalar_or_schedule
        return lambda i: value
    raise TypeError(f"step_size must be a scalar or a callable schedule i -> step size, got "
                    f"{type(scalar_or_schedule).__name__} of shape {np.shape(scalar_or_schedule)}")


class JoinPoint:
    """Marks where the parameter tree ends and one parameter's state tree begins.

    A leaf (not a pytree node), so ``unpack_optimizer_state`` gives a parameter-shaped tree
    of per-parameter states that stays one level deep under tree maps.
    """

    __slots__ = ("subtree",)

    def __init__(self, subtree):
        self.subtree = subtree

    def __iter__(self):
        yield self.subtree

    def __repr__(self):
        return f"JoinPoint({self.subtree!r})"


def unpack_optimizer_state(opt_state) -> Any:
    """OptimizerState -> the parameter tree with a ``JoinPoint(state of that leaf)`` per leaf.

    JAX code calls this before pickling a state; with lepton, ``lepton.save`` stores an
    ``OptimizerState`` as is (JoinPoints, being opaque leaves, cannot be saved).
    """
    states_flat, treedef, subtrees = _unpack(opt_state, "unpack_optimizer_state")
    return treedef.unflatten([JoinPoint(sub.unflatten(leaves)) for sub, leaves in zip(subtrees, states_flat)])


def pack_optimizer_state(marked_pytree) -> OptimizerState:
    """Inverse of ``unpack_optimizer_state``."""
    sentinels, treedef = tree.flatten(marked_pytree)
    bad = [type(s).__name__ for s in sentinels if not isinstance(s, JoinPoint)]
    if bad:
        raise TypeError(f"pack_optimizer_state expects a tree whose leaves are all JoinPoints (from "
                        f"unpack_optimizer_state), found leaves of type {sorted(set(bad))}")
    flat, subs = [], []
    for s in sentinels:
        leaves, sub = tree.flatten(s.subtree)
        flat.append(leaves)
        subs.append(sub)
    return OptimizerState(tuple(flat), treedef, tuple(subs))
