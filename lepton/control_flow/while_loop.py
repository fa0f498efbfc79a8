"""``while_loop`` and ``fori_loop``: loops whose trip count is a value.

``while_p``'s operands are the cond consts, the body consts and the initial carry;
its parameters the two jaxprs and ``max_steps`` (None, or a cap on the trip count).
Forward mode carries tangents along; a batched predicate runs until every lane is
done and freezes finished lanes with ``select``.

Reverse mode needs every step's residuals, so an unbounded loop cannot be
transposed (as in JAX).  With ``max_steps=N``, partial evaluation rewrites the loop
as a scan of N steps whose body runs the step only while the predicate holds (a
``cond``), so residuals live in an N-step buffer and ``grad`` works.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes, tree
from ..core import Array, Primitive, set_trace
from ..errors import DTypeError, LeptonError, ShapeError
from ..ir import ClosedJaxpr, Jaxpr, Var, eval_jaxpr
from ..numpy import asarray
from ..primitives.base import Zero, instantiate, move_to_front, tangent_aval
from ..primitives.elementwise import lt, select_n
from ..primitives.reductions import reduce_or
from ..primitives.structural import broadcast_in_dim, moveaxis
from ..transforms.partial_eval import partial_eval_jaxpr
from .common import (batch_call, batched_aval, check_carry, check_operands, describe, executable,
                      memo, open_jaxpr, partial_eval_inst, promote_weak_carry, split, trace_fun,
                      trace_jaxpr, zero_tangents)
from .cond import cond
from .scan import batch_body, jvp_body, scan

while_p = Primitive("while", multiple_results=True)


class UnboundedLoopError(LeptonError, ValueError):
    """Reverse-mode differentiation reached a while_loop without ``max_steps``."""


REVERSE_MODE_MESSAGE = (
    "reverse-mode differentiation (grad, vjp, jacrev) of a while_loop needs a bound on its "
    "trip count, because every step's values must be stored. Pass max_steps=N to "
    "while_loop (or to fori_loop with traced bounds): lepton then records at most N steps. "
    "Alternatively use fori_loop with static Python-int bounds, or lax.scan. Forward mode "
    "(jvp, jacfwd) works without a bound.")


def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, max_steps):
    cc, bc, carry = split(args, cond_nconsts, body_nconsts)
    pred, step = executable(cond_jaxpr), executable(body_jaxpr)
    steps = 0
    while (max_steps is None or steps < max_steps) and pred(*cc, *carry)[0]:
        carry = step(*bc, *carry)
        steps += 1
    return list(carry)


def _while_abstract_eval(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts,
                         max_steps):
    cc, bc, carry = split(avals, cond_nconsts, body_nconsts)
    check_operands("while_loop body", bc + carry, [v.aval for v in body_jaxpr.invars])
    check_operands("while_loop cond", cc + carry, [v.aval for v in cond_jaxpr.invars])
    return [v.aval for v in body_jaxpr.invars[body_nconsts:]]


def _bind(cc, bc, carry, cond_jaxpr, body_jaxpr, max_steps):
    return while_p.bind(*cc, *bc, *carry, cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr,
                        cond_nconsts=len(cc), body_nconsts=len(bc), max_steps=max_steps)


def _grow(flags, out_flags):
    return [a or b for a, b in zip(flags, out_flags)]


# ----------------------------------------------------------------------------- jvp
def _cond_ignoring_tangents(cond_jaxpr, ncc, carry_nz):
    tangents = [Var(tangent_aval(v.aval)) for v, n in zip(cond_jaxpr.invars[ncc:], carry_nz)
                if n]
    return Jaxpr([], cond_jaxpr.invars + tangents, cond_jaxpr.outvars, cond_jaxpr.eqns)


def _while_jvp(primals, tangents, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts,
               max_steps):
    ncc, nbc = cond_nconsts, body_nconsts
    cc, bc, init = split(primals, ncc, nbc)
    _, bc_t, init_t = split(tangents, ncc, nbc)
    bc_nz = [type(t) is not Zero for t in bc_t]
    carry_nz = [type(t) is not Zero for t in init_t]
    while True:
        body, consts, out_nz = memo("while.jvp", body_jaxpr, (tuple(bc_nz), tuple(carry_nz)),
                                    lambda: jvp_body(body_jaxpr, nbc, len(init), bc_nz,
                                                     carry_nz, []))
        grown = _grow(carry_nz, out_nz)
        if grown == carry_nz:
            break
        carry_nz = grown
    cond_t = memo("while.jvp_cond", cond_jaxpr, tuple(carry_nz),
                  lambda: _cond_ignoring_tangents(cond_jaxpr, ncc, carry_nz))
    init_t = [instantiate(t) for t, n in zip(init_t, carry_nz) if n]
    outs = _bind(cc, consts + bc + [t for t in bc_t if type(t) is not Zero], init + init_t,
                 cond_t, body, max_steps)
    carry, carry_t = outs[:len(init)], outs[len(init):]
    return carry, zero_tangents([o.aval for o in carry], carry_nz, carry_t)


# ----------------------------------------------------------------------------- batching
def _batch_cond(cond_jaxpr, axis_size, in_b):
    avals = [batched_aval(v.aval, axis_size) if b else v.aval
             for v, b in zip(cond_jaxpr.invars, in_b)]
    store = {}

    def f(*args):
        outs, store["b"] = batch_call(cond_jaxpr, axis_size, args, in_b)
        return outs

    j, consts = trace_jaxpr(f, avals, "while.batch_cond")
    return j, consts, store["b"][0]


def _lanewise(cond_b, body_b, cc_avals, bc_avals, carry_avals):
    """A loop over all lanes: it runs while any lane's predicate holds; each step
    updates only the lanes whose predicate holds."""
    ncc, nbc = len(cc_avals), len(bc_avals)

    def any_lane(*args):
        return [reduce_or(eval_jaxpr(cond_b, [], *args)[0], (0,))]

    def step(*args):
        cc, bc, carry = split(args, ncc, nbc)
        pred = eval_jaxpr(cond_b, [], *cc, *carry)[0]
        new = eval_jaxpr(body_b, [], *bc, *carry)
        return [select_n(broadcast_in_dim(pred, n.aval.shape, (0,)), c, n)
                for c, n in zip(carry, new)]

    return (trace_jaxpr(any_lane, cc_avals + carry_avals, "while.batch_any"),
            trace_jaxpr(step, cc_avals + bc_avals + carry_avals, "while.batch_step"))


def _while_batch(axis_size, vals, dims, *, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts,
                 max_steps):
    ncc, nbc = cond_nconsts, body_nconsts
    vals = [v if d is None else moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    cc_b, bc_b, carry_b = split([d is not None for d in dims], ncc, nbc)
    while True:
        body, bconsts, out_b = memo(
            "while.batch", body_jaxpr, (axis_size, tuple(bc_b), tuple(carry_b)),
            lambda: batch_body(body_jaxpr, axis_size, bc_b + carry_b, carry_b))
        grown = _grow(carry_b, out_b)
        if grown != carry_b:
            carry_b = grown
            continue
        pred, cconsts, pred_b = memo(
            "while.batch_cond", cond_jaxpr, (axis_size, tuple(cc_b), tuple(carry_b)),
            lambda: _batch_cond(cond_jaxpr, axis_size, cc_b + carry_b))
        if pred_b and not all(carry_b):  # lanes finish at different steps: batch all
            carry_b = [True] * len(carry_b)
            continue
        break
    cc, bc, carry = split(vals, ncc, nbc)
    carry = [move_to_front(v, None, axis_size) if b and d is None else v
             for v, b, d in zip(carry, carry_b, dims[ncc + nbc:])]
    if not pred_b:
        outs = _bind(cconsts + cc, bconsts + bc, carry, pred, body, max_steps)
        return outs, [0 if b else None for b in carry_b]
    nb = len(bconsts) + nbc
    (any_j, any_c), (step_j, step_c) = memo(
        "while.batch_lanes", body, pred,
        lambda: _lanewise(pred, body, [v.aval for v in pred.invars[:len(cconsts) + ncc]],
                          [v.aval for v in body.invars[:nb]],
                          [v.aval for v in body.invars[nb:]]))
    outs = _bind(any_c + cconsts + cc, step_c + cconsts + cc + bconsts + bc, carry, any_j, step_j,
                 max_steps)
    return outs, [0] * len(outs)


# ----------------------------------------------------------------------------- reverse mode
def _as_scan(args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts, max_steps):
    """The bounded loop as a scan of ``max_steps`` steps, each a ``cond`` on the predicate."""
    cc, bc, init = split(args, cond_nconsts, body_nconsts)

    def step(carry, _):
        pred = eval_jaxpr(cond_jaxpr, [], *cc, *carry)[0]
        new = cond(pred, lambda c: eval_jaxpr(body_jaxpr, [], *bc, *c), list, carry)
        return new, None

    return scan(step, list(init), length=max_steps)[0]


def _known_part(closed: ClosedJaxpr, n_out):
    j = closed.jaxpr
    return open_jaxpr(ClosedJaxpr(Jaxpr(j.constvars, j.invars, j.outvars[:n_out], j.eqns),
                                  closed.consts))


def _while_partial_eval(trace, args, params):
    if params["max_steps"] is not None:
        with set_trace(trace):
            return _as_scan(args, **params)
    cond_jaxpr, body_jaxpr = params["cond_jaxpr"], params["body_jaxpr"]
    ncc, nbc = params["cond_nconsts"], params["body_nconsts"]
    cc_uk, bc_uk, carry_uk = split([trace.owns(a) for a in args], ncc, nbc)
    while True:
        known_body, _, out_uk, _ = partial_eval_inst(body_jaxpr, bc_uk + carry_uk, carry_uk)
        grown = _grow(carry_uk, out_uk)
        if grown == carry_uk:
            break
        carry_uk = grown
    known_cond, _, pred_uk, _ = partial_eval_jaxpr(cond_jaxpr, [], cc_uk + carry_uk)
    if pred_uk[0] or all(carry_uk):
        return trace.stage(while_p, args, params)
    # Known carries are computed now; the unknown ones by the whole loop, staged (its
    # transpose raises: without max_steps there is no bounded place for residuals).
    cond_k, cond_kc = _known_part(known_cond, 1)
    body_k, body_kc = _known_part(known_body, carry_uk.count(False))
    cc, bc, init = split(args, ncc, nbc)
    known_in = [[a for a, u in zip(xs, uks) if not u]
                for xs, uks in ((cc, cc_uk), (bc, bc_uk), (init, carry_uk))]
    with set_trace(trace.parent):
        known = _bind(cond_kc + known_in[0], body_kc + known_in[1], known_in[2], cond_k, body_k,
                      None)
    unknown = trace.stage(while_p, args, params)
    known_it = iter(known)
    return [u if is_uk else next(known_it) for u, is_uk in zip(unknown, carry_uk)]


def _while_transpose(cts, *args, **params):
    raise UnboundedLoopError(REVERSE_MODE_MESSAGE)


while_p.impl = _while_impl
while_p.abstract_eval = _while_abstract_eval
while_p.jvp = _while_jvp
while_p.batch = _while_batch
while_p.partial_eval = _while_partial_eval
while_p.transpose = _while_transpose


# ----------------------------------------------------------------------------- user API
def while_loop(cond_fun, body_fun, init_val, max_steps=None):
    """``while cond_fun(val): val = body_fun(val)``; returns the final ``val`` (a pytree).

    ``max_steps=N`` stops after at most N steps and makes the loop reverse-differentiable.
    """
    if max_steps is not None:
        max_steps = operator.index(max_steps)
        if max_steps < 0:
            raise ValueError(f"while_loop: max_steps must be >= 0, got {max_steps}")
    leaves, in_tree = tree.flatten(init_val)
    leaves = [asarray(x) for x in leaves]
    while True:
        avals = [x.aval.strip_weak() for x in leaves]
        body, bconsts, out_tree = trace_fun(body_fun, in_tree, avals, "while_loop body")
        out_avals = [v.aval for v in body.outvars]
        promoted = promote_weak_carry(leaves, out_avals) if out_tree == in_tree else None
        if promoted is None:
            break
        leaves = promoted
    check_carry("while_loop: body_fun", in_tree, avals, out_tree, out_avals,
                "Return a value with the same structure, shapes and dtypes as init_val "
                "(cast with .astype(...), or give init_val the dtype the loop produces).")
    pred, cconsts, pred_tree = trace_fun(cond_fun, in_tree, avals, "while_loop cond")
    pred_avals = [v.aval for v in pred.outvars]
    if pred_tree != tree.structure(True) or pred_avals[0].shape != () or \
            pred_avals[0].dtype != dtypes.bool_:
        cls = ShapeError if pred_tree == tree.structure(True) and \
            pred_avals[0].dtype == dtypes.bool_ else DTypeError
        raise cls(f"while_loop: cond_fun must return a boolean scalar, got "
                  f"{describe(pred_tree, pred_avals)}. Reduce it (e.g. (x > 0).any()) or "
                  "compare explicitly (e.g. `i < n`).")
    return tree.unflatten(in_tree, _bind(cconsts, bconsts, leaves, pred, body, max_steps))


def _static_int(x):
    """The value of a concrete integer bound, or None for a traced one."""
    if isinstance(x, (int, np.integer)):
        return int(x)
    if type(x) is Array and x.ndim == 0 and x.dtype.kind in "iu":
        return int(x)
    return None


def fori_loop(lower, upper, body_fun, init_val, *, max_steps=None, unroll=1):
    """``for i in range(lower, upper): val = body_fun(i, val)``.

    Concrete bounds give a scan (reverse-differentiable); traced bounds a while_loop,
    which takes ``max_steps`` for reverse mode.
    """
    lo, hi = _static_int(lower), _static_int(upper)
    if lo is not None and hi is not None:
        dt = asarray(lower).dtype if isinstance(lower, Array) else dtypes.int32
        i0 = asarray(lo, dt)

        def step(carry, _):
            i, x = carry
            return (i + 1, body_fun(i, x)), None

        return scan(step, (i0, init_val), length=max(hi - lo, 0), unroll=unroll)[0][1]
    lower, upper = asarray(lower), asarray(upper)
    if lower.dtype != upper.dtype:
        dt = dtypes.promote((lower.dtype, lower.weak_type), (upper.dtype, upper.weak_type))[0]
        lower, upper = asarray(lower, dt), asarray(upper, dt)

    def body(carry):
        i, n, x = carry
        return i + 1, n, body_fun(i, x)

    return while_loop(lambda c: lt(c[0], c[1]), body, (lower, upper, init_val),
                      max_steps=max_steps)[2]
