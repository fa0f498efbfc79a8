"""Hoist products out of loops: per-step inputs times weights, and accumulated sums.

``hoist_products``: a step's ``x_t @ W`` (an xs operand times a loop-invariant one, the
input projection of an RNN) is one product of the stacked xs computed before the loop, a
large GEMM instead of T small ones; the body reads its rows as an extra xs.

``hoist_sums``, the reverse-mode counterpart:

Reverse mode through ``scan`` accumulates each loop-invariant operand's cotangent in a
carry: an RNN's weight gradient is ``acc = acc + x_t^T @ dz_t`` at every step.  Summed over
the loop that is one product of the stacked operands, contracting over time too: one large
GEMM instead of T small ones and T adds (BLAS runs a 1792-deep contraction far faster than
28 64-deep ones).  The loop body then only stacks ``dz_t`` as an extra output.  A sum over
axes (a bias gradient) and transposes of such terms hoist the same way.

A plan is a small expression over stacked operands, evaluated after the loop by ``total``:
``("xs", j)`` is the loop's j-th xs operand, ``("ys", m)`` its m-th extra stacked output,
``("dot", dimension_numbers, preferred_element_type, a, b)``, ``("transpose", perm, e)``,
``("sum", axes, a)``.
"""
from __future__ import annotations

import numpy as np

from ..ir import Jaxpr, Var, live_eqns
from ..primitives.linalg import dot_general
from ..primitives.reductions import reduce_sum
from ..primitives.structural import transpose

#: Largest stacked product (bytes) hoisted before a loop: beyond it, memory wins over speed.
MAX_STACKED_BYTES = 64 << 20


def hoist_products(body: Jaxpr, n_consts: int, n_carry: int, length: int):
    """Split ``dot_general(xs, const)`` equations out of a scan body.

    Returns (new body, plans, kept consts): the new body reads each hoisted product as an
    extra xs (appended) and drops the consts only they read (``kept consts`` flags the
    consts it still takes; None when nothing was hoisted); ``plans`` gives, per extra xs,
    (equation, xs index, const index, whether xs is the left operand) for
    ``stacked_product``.
    """
    first_xs = n_consts + n_carry
    position = {v: i for i, v in enumerate(body.invars)}
    plans, kept, extra = [], [], []
    for e in body.eqns:
        plan = None
        if e.prim.name == "dot_general" and e.params["dimension_numbers"][1] == ((), ()):
            out = e.outvars[0].aval
            size = length * int(np.prod(out.shape, dtype=np.int64)) * out.dtype.itemsize
            i, j = (position.get(v, -1) if type(v) is Var else -1 for v in e.invars)
            if size <= MAX_STACKED_BYTES:
                if i >= first_xs and 0 <= j < n_consts:
                    plan = (e, i - first_xs, j, True)
                elif j >= first_xs and 0 <= i < n_consts:
                    plan = (e, j - first_xs, i, False)
        if plan is None:
            kept.append(e)
        else:
            plans.append(plan)
            extra.append(e.outvars[0])
    if not plans:
        return body, plans, None
    used = {v for e in kept for v in e.invars} | set(body.outvars)
    keep = [i >= n_consts or v in used for i, v in enumerate(body.invars)]  # consts in use
    invars = [v for v, k in zip(body.invars, keep) if k]
    return Jaxpr([], invars + extra, body.outvars, kept), plans, keep[:n_consts]


def stacked_product(plan, consts, xs):
    """Every step's product of a ``hoist_products`` plan, stacked along axis 0."""
    e, xi, ci, xs_left = plan
    (lc, rc), _ = e.params["dimension_numbers"]
    pref = e.params["preferred_element_type"]
    if xs_left:
        return dot_general(xs[xi], consts[ci], ((tuple(c + 1 for c in lc), rc), ((), ())),
                           preferred_element_type=pref)
    out = dot_general(consts[ci], xs[xi], ((lc, tuple(c + 1 for c in rc)), ((), ())),
                      preferred_element_type=pref)
    n_free = consts[ci].ndim - len(lc)  # the step axis follows the const's free axes
    return transpose(out, (n_free,) + tuple(a for a in range(out.ndim) if a != n_free))


def hoist_sums(body: Jaxpr, first_carry: int, n_acc: int, first_xs: int):
    """Split accumulating carries out of ``body``.

    The body's invars are consts, then carries from ``first_carry`` (the first ``n_acc`` of
    them accumulators), then xs from ``first_xs``; its outvars are the carries, then ys.
    Returns (new body, plans): the new body lacks the hoisted carries and stacks their
    operands as extra ys at the end; ``plans[k]`` is accumulator k's plan or None (kept).
    """
    defn = {v: e for e in body.eqns for v in e.outvars}
    uses: dict = {}
    for v in [v for e in body.eqns for v in e.invars] + list(body.outvars):
        uses[v] = uses.get(v, 0) + 1
    xs_index = {v: j for j, v in enumerate(body.invars[first_xs:])}
    consts = set(body.invars[:first_carry])
    extra: list = []

    def leaf(v):
        if type(v) is not Var or v in consts:
            return None  # loop-invariant: stacking it would be waste
        if v in xs_index:
            return ("xs", xs_index[v])
        if v not in extra:
            extra.append(v)
        return ("ys", extra.index(v))

    def term(v):
        e = defn.get(v)
        name = e.prim.name if e is not None else None
        if name == "transpose":
            inner = term(e.invars[0])
            return inner and ("transpose", e.params["permutation"], inner)
        if name == "reduce_sum":
            a = leaf(e.invars[0])
            return a and ("sum", e.params["axes"], a)
        if name == "dot_general" and e.params["dimension_numbers"][1] == ((), ()):
            a, b = leaf(e.invars[0]), leaf(e.invars[1])
            return a and b and ("dot", e.params["dimension_numbers"],
                                e.params["preferred_element_type"], a, b)
        return None

    plans, hoisted = [], set()
    for k in range(n_acc):
        acc, out = body.invars[first_carry + k], body.outvars[k]
        e = defn.get(out)
        plan = None
        if (e is not None and e.prim.name == "add" and acc in e.invars and uses[acc] == 1
                and uses[out] == 1):
            other = e.invars[1] if e.invars[0] is acc else e.invars[0]
            saved = list(extra)
            plan = term(other)
            if plan is None:
                extra[:] = saved
        plans.append(plan)
        if plan is not None:
            hoisted.add(k)
    if not hoisted:
        return body, plans
    keep_in = [v for i, v in enumerate(body.invars) if i - first_carry not in hoisted]
    keep_out = [v for k, v in enumerate(body.outvars) if k not in hoisted]
    new = Jaxpr([], keep_in, keep_out + extra, body.eqns)
    new.eqns = live_eqns(new)
    return new, plans


def total(plan, xs, ys):
    """The sum over the loop of ``plan``'s term, from the stacked operands."""
    kind = plan[0]
    if kind == "xs":
        return xs[plan[1]]
    if kind == "ys":
        return ys[plan[1]]
    if kind == "transpose":
        return transpose(total(plan[2], xs, ys), plan[1])
    if kind == "sum":
        return reduce_sum(total(plan[2], xs, ys), (0,) + tuple(a + 1 for a in plan[1]))
    (lc, rc), _ = plan[1]
    step = ((0,) + tuple(c + 1 for c in lc), (0,) + tuple(c + 1 for c in rc))
    return dot_general(total(plan[3], xs, ys), total(plan[4], xs, ys), (step, ((), ())),
                       preferred_element_type=plan[2])
