"""Transposition of linear jaxprs: the backward pass of reverse mode.

The linear jaxpr comes from partially evaluating a JVP: its invars are the input
tangents, its constvars the residuals; equations that read no tangent (constants rebuilt
in a loop body) are evaluated first.  Walking its equations backwards, each
linear primitive's ``transpose`` rule maps output cotangents to input cotangents;
cotangents of a variable read twice are summed.
"""
from __future__ import annotations

from ..ir import Jaxpr, Literal
from ..primitives.base import UndefinedPrimal, Zero, add_tangents, instantiate, tangent_aval


def backward_pass(jaxpr: Jaxpr, consts, cts_out):
    """Cotangents of ``jaxpr.invars`` given cotangents of its outputs (``Zero`` allowed)."""
    primal_env = dict(zip(jaxpr.constvars, consts))
    linear = set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        if any(type(v) is not Literal and v in linear for v in eqn.invars):
            linear.update(eqn.outvars)
        else:  # a constant built inside the linear program (a filled array): evaluate it
            args = [v.value if type(v) is Literal else primal_env[v] for v in eqn.invars]
            outs = eqn.prim.bind(*args, **eqn.params)
            primal_env.update(zip(eqn.outvars, outs if eqn.prim.multiple_results else [outs]))
    ct_env = {}

    def add_ct(v, ct):
        if type(v) is Literal or v not in linear or ct is None or type(ct) is Zero:
            return
        ct_env[v] = add_tangents(ct_env[v], ct) if v in ct_env else ct

    for v, ct in zip(jaxpr.outvars, cts_out):
        add_ct(v, ct)

    def read_primal(v):
        if type(v) is Literal:
            return v.value
        if v in linear:
            return UndefinedPrimal(v.aval)
        return primal_env[v]

    for eqn in reversed(jaxpr.eqns):
        cts = [ct_env.pop(v, None) for v in eqn.outvars]
        if all(c is None for c in cts):
            continue
        cts = [Zero(tangent_aval(v.aval)) if c is None else c for v, c in zip(eqn.outvars, cts)]
        if eqn.prim.transpose is None:
            raise NotImplementedError(
                f"reverse-mode differentiation of '{eqn.prim.name}' is not implemented "
                "(it has no transpose rule)")
        args = [read_primal(v) for v in eqn.invars]
        ct_in = eqn.prim.transpose(cts if eqn.prim.multiple_results else cts[0], *args,
                                   **eqn.params)
        for v, ct in zip(eqn.invars, ct_in):
            add_ct(v, ct)

    return [instantiate(ct_env[v]) if v in ct_env else Zero(tangent_aval(v.aval))
            for v in jaxpr.invars]


__all__ = ["backward_pass", "UndefinedPrimal"]
