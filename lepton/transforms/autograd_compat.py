"""autograd's names for derivatives that JAX spells otherwise, so autograd programs run
with only their import lines changed (``from autograd import elementwise_grad``)."""
from __future__ import annotations

import functools

from .. import tree
from ..primitives.structural import full
from .autodiff import vjp
from .api import fun_name

__all__ = ["elementwise_grad"]


def elementwise_grad(fun, argnum=0):
    """autograd's ``elementwise_grad``: the vector-Jacobian product of ``fun`` with a
    cotangent of ones, i.e. the derivative of each output element with respect to the
    matching input element when ``fun`` acts elementwise (and the gradient of the sum of
    the outputs in general).  ``argnum`` picks the argument, as in autograd."""

    @functools.wraps(fun)
    def egrad(*args, **kwargs):
        if not 0 <= argnum < len(args):
            raise TypeError(f"elementwise_grad({fun_name(fun)}): argnum={argnum} but the call "
                            f"has {len(args)} positional argument(s)")
        rest = list(args)

        def f(x):
            rest[argnum] = x
            return fun(*rest, **kwargs)

        out, pull = vjp(f, args[argnum])
        ones = tree.map(lambda o: full(o.aval.shape, 1, o.aval.dtype), out)
        return pull(ones)[0]

    return egrad
