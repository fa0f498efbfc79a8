"""The NumPy reference backend: run a jaxpr equation by equation with each ``impl``.

Floating-point warnings (overflow, inf - inf, 0/0) are off while it runs: the compiled
backends cannot raise them, so a jitted function warns in no backend and tier (JAX never
warns either); the values (inf, nan) carry the information."""
from __future__ import annotations

import numpy as np

from ..ir import Jaxpr, Literal


def compile(jaxpr: Jaxpr, consts=()):
    """A callable ``f(*numpy_arrays) -> list of numpy arrays`` evaluating ``jaxpr``."""
    const_vals = [np.asarray(c) for c in consts]
    eqns = [(e.prim, e.invars, e.outvars, e.params, e.prim.multiple_results) for e in jaxpr.eqns]
    invars, constvars, outvars = jaxpr.invars, jaxpr.constvars, jaxpr.outvars

    def run(*args, out=None):
        """``out``: destination arrays (or None) to copy the outputs into (and return)."""
        env = dict(zip(constvars, const_vals))
        env.update(zip(invars, args))

        def read(v):
            return v.value._value if type(v) is Literal else env[v]

        with np.errstate(all="ignore"):  # as the compiled backends: no warnings, as in JAX
            for prim, ins, outs, params, multi in eqns:
                res = prim.impl(*map(read, ins), **params)
                if multi:
                    for v, r in zip(outs, res):
                        env[v] = _as_dtype(r, v)
                else:
                    env[outs[0]] = _as_dtype(res, outs[0])
        results = [read(v) for v in outvars]
        for k, d in enumerate(out or ()):
            if d is not None:  # as a compiled driver: the destination is the result
                if results[k] is not d:
                    d[...] = results[k]
                results[k] = d
        return results

    run.source = None  # interpreted: there is no generated source
    return run


def _as_dtype(x, var):
    if type(x) is not np.ndarray or x.dtype != var.aval.dtype:
        return np.asarray(x, dtype=var.aval.dtype)
    return x
