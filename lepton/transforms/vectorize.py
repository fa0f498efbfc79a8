"""``lepton.numpy.vectorize``: NumPy's ``vectorize`` as nested ``vmap`` (jax.numpy.vectorize).

It is built on ``vmap``, a transform, which sits above the numpy layer; importing this
module installs it into ``lepton.numpy`` (and its ``__all__``), as the numpy layer installs
operators on arrays (``import lepton`` imports this module).
"""
from __future__ import annotations

import functools
import re

from .. import numpy as lnp
from ..numpy import asarray, broadcast_shapes, broadcast_to
from .vmap import vmap

__all__ = ["vectorize"]

_DIM = r"\w+"
_CORE = rf"\((?:{_DIM}(?:,{_DIM})*)?\)"
_SIGNATURE = re.compile(rf"^{_CORE}(?:,{_CORE})*->{_CORE}(?:,{_CORE})*$")


def _parse_signature(signature):
    sig = signature.replace(" ", "")
    if not _SIGNATURE.match(sig):
        raise ValueError(f"vectorize: not a valid gufunc signature: {signature!r}")
    ins, outs = sig.split("->")
    parse = lambda part: [tuple(d for d in core.split(",") if d)  # noqa: E731
                          for core in re.findall(r"\(([^)]*)\)", part)]
    return parse(ins), parse(outs)


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
    """``pyfunc`` applied over broadcast leading (loop) dimensions with ``vmap``.

    Without ``signature`` every argument is looped over elementwise; with a gufunc
    signature such as ``'(n),(n)->()'`` the named trailing core dimensions are passed
    whole.  ``excluded`` names positions (ints) or keywords (strs) passed unchanged.
    Other keyword arguments are vectorized like positional ones (as NumPy).
    """
    in_core, out_core = _parse_signature(signature) if signature is not None else (None, None)
    for e in excluded:
        if not isinstance(e, (int, str)):
            raise TypeError(f"vectorize: excluded entries must be ints or strs, got {e!r}")

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        pos = [i for i in range(len(args)) if i not in excluded]
        names = [k for k in kwargs if k not in excluded]
        vals = [asarray(args[i]) for i in pos] + [asarray(kwargs[k]) for k in names]
        cores = in_core if in_core is not None else [()] * len(vals)
        if len(cores) != len(vals):
            raise TypeError(f"vectorize: signature {signature!r} has {len(cores)} inputs but "
                            f"{len(vals)} vectorized arguments were given")
        sizes = {}
        loops = []
        for x, core in zip(vals, cores):
            if x.ndim < len(core):
                raise ValueError(f"vectorize: input of shape {x.shape} has fewer dimensions "
                                 f"than its core dimensions {core}")
            for d, s in zip(core, x.shape[x.ndim - len(core):]):
                if sizes.setdefault(d, s) != s:
                    raise ValueError(f"vectorize: core dimension {d!r} has inconsistent "
                                     f"sizes {sizes[d]} and {s}")
            loops.append(x.shape[:x.ndim - len(core)])
        loop_shape = broadcast_shapes(*loops, name="vectorize")
        vals = [broadcast_to(x, loop_shape + x.shape[len(lp):]) for x, lp in zip(vals, loops)]

        def call(*xs):
            full_args, it = list(args), iter(xs)
            for i in pos:
                full_args[i] = next(it)
            kw = dict(kwargs)
            for k in names:
                kw[k] = next(it)
            return pyfunc(*full_args, **kw)

        f = call
        for _ in loop_shape:
            f = vmap(f)
        out = f(*vals)
        if out_core is not None:
            _check_outputs(out, out_core, loop_shape, sizes)
        return out

    return wrapped


def _check_outputs(out, out_core, loop_shape, sizes):
    outs = out if isinstance(out, tuple) else (out,)
    if len(outs) != len(out_core):
        raise ValueError(f"vectorize: the function returned {len(outs)} outputs but the "
                         f"signature declares {len(out_core)}")
    for o, core in zip(outs, out_core):
        core_shape = tuple(o.shape[len(loop_shape):])
        if len(core_shape) != len(core) or any(
                d in sizes and sizes[d] != s for d, s in zip(core, core_shape)):
            raise ValueError(f"vectorize: output core shape {core_shape} does not match the "
                             f"signature's {core}")


def _install():
    lnp.vectorize = vectorize
    lnp.__all__ = sorted({*lnp.__all__, "vectorize"})


_install()
