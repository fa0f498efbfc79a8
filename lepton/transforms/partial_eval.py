"""Partial evaluation of a jaxpr: split it into the part computable now and the rest.

Given which inputs are *unknown*, ``partial_eval_jaxpr`` returns

* a known jaxpr: known inputs -> (known outputs, residuals), and
* an unknown jaxpr: (residuals, unknown inputs) -> unknown outputs,

by evaluating the jaxpr under two staging traces: an inner partial one that records
only equations touching unknown values, on top of an outer one that records all the
rest.  Higher-order primitives (jit, and later the control-flow ones) use this in
their ``partial_eval`` rules so that reverse mode stores residuals, not programs.
"""
from __future__ import annotations

from ..core import current_trace, set_trace
from ..ir import ClosedJaxpr, Jaxpr, eval_jaxpr
from .staging import StagingTrace, StagingTracer


def partial_eval_jaxpr(jaxpr: Jaxpr, consts, unknowns, effects_unknown=False):
    """Split ``jaxpr``; returns (known ClosedJaxpr, unknown ClosedJaxpr, out_unknowns, n_res).

    Effectful equations on known values are known (they run in the forward pass), unless
    ``effects_unknown``: then they stay in the unknown part (a loop body, not its hoisted
    invariant prologue)."""
    known_trace = StagingTrace(current_trace(), stage_all=True, name="partial_eval.known")
    unknown_trace = StagingTrace(known_trace, stage_all=False, name="partial_eval.unknown",
                                 effects_unknown=effects_unknown)
    args = [unknown_trace.new_arg(v.aval) if u else known_trace.new_arg(v.aval)
            for v, u in zip(jaxpr.invars, unknowns)]
    try:
        with set_trace(unknown_trace):
            outs = eval_jaxpr(jaxpr, consts, *args)
    finally:
        unknown_trace.alive = False
    out_unknowns = [type(o) is StagingTracer and o._trace is unknown_trace for o in outs]
    unknown_closed = unknown_trace.to_jaxpr([o for o, u in zip(outs, out_unknowns) if u])
    # The unknown part's consts are its residuals: known-trace values (or concrete constants).
    residuals = unknown_closed.consts
    known_outs = [o for o, u in zip(outs, out_unknowns) if not u]
    try:
        with set_trace(known_trace):
            known_closed = known_trace.to_jaxpr(known_outs + residuals)
    finally:
        known_trace.alive = False
    # Unknown jaxpr: residuals become leading invars (in place of its constvars).
    uj = unknown_closed.jaxpr
    unknown_jaxpr = Jaxpr([], uj.constvars + uj.invars, uj.outvars, uj.eqns)
    return known_closed, ClosedJaxpr(unknown_jaxpr, []), out_unknowns, len(residuals)
