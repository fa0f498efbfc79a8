"""Hoist a loop's accumulated sums of products out of the loop.

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

from ..ir import Jaxpr, Var, live_eqns
from ..primitives.linalg import dot_general
from ..primitives.reductions import reduce_sum
from ..primitives.structural import transpose


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
