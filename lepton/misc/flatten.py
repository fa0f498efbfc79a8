"""autograd's ``flatten``: a pytree (nested tuples, lists, dicts of arrays and scalars) as
one 1-D array, with the function that rebuilds it.  Dict entries go in sorted key order,
as in autograd; the vector has the leaves' promoted dtype."""
from __future__ import annotations

from ..flatten_util import ravel_pytree


def flatten(value):
    """``(flat_vector, unflatten)`` for the pytree ``value``; works on traced values too
    (the vector is differentiable in the leaves and ``unflatten`` in the vector)."""
    flat, unflatten = ravel_pytree(value)
    return flat, unflatten


def flatten_func(func, example):
    """``func`` of a pytree like ``example`` as a function of the flat vector:
    ``(flat_func, unflatten, flat_example)``."""
    flat_example, unflatten = flatten(example)

    def flat_func(x, *args):
        return flatten(func(unflatten(x), *args))[0]

    return flat_func, unflatten, flat_example
