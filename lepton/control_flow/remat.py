"""Recompute a loop's cheap residuals in its backward body instead of storing them.

A JVP rule's derivative factor is usually a cheap function of a value that reverse mode
keeps anyway: ``s * (1 - s)`` of a sigmoid ``s``, ``1 - t * t`` of a tanh ``t``.  Stored,
each is one more array written per step by the forward loop and read back by the
backward one (an LSTM step stored 12, 5 of them such factors): memory traffic that costs
more than a multiply.  ``drop_cheap_residuals`` rebuilds those residuals in the unknown
(backward) body from the residuals that stay stored and from literals, so the results are
bit-for-bit the same while the loop carries fewer arrays.
"""
from __future__ import annotations

from collections import Counter

from ..ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, live_eqns

#: Elementwise primitives whose recomputation costs less than a store and a load.
CHEAP = frozenset({"add", "sub", "mul", "neg", "square", "broadcast_in_dim"})

#: Most equations rebuilt for one dropped residual.
MOST_EQNS = 4


def drop_cheap_residuals(known: ClosedJaxpr, unknown: Jaxpr, n_res: int):
    """Returns (known, unknown, n_res) with the residuals that ``CHEAP`` equations make
    from literals and other kept residuals rebuilt at the head of ``unknown``.

    ``known`` returns its outputs followed by ``n_res`` residuals, which are the leading
    invars of ``unknown`` (``partial_eval_jaxpr``'s layout)."""
    kj = known.jaxpr
    n_out = len(kj.outvars) - n_res
    res = kj.outvars[n_out:]
    counts = Counter(map(id, res))
    made = {id(o): e for e in kj.eqns for o in e.outvars}
    order = {id(o): k for k, e in enumerate(kj.eqns) for o in e.outvars}
    kept, plans = {id(v) for v in res}, {}
    # In definition order, so that whatever a rebuild reads is already decided.
    for v in sorted((v for v in res if type(v) is Var and counts[id(v)] == 1 and id(v) in made),
                    key=lambda v: order[id(v)]):
        kept.discard(id(v))
        eqns = _rebuild(v, made, kept)
        if eqns is None or len(eqns) > MOST_EQNS:
            kept.add(id(v))
        else:
            plans[id(v)] = eqns
    if not plans:
        return known, unknown, n_res
    # Kept residuals are the body's invars; dropped ones become the rebuilds' outputs.
    pairs = list(zip(res, unknown.invars[:n_res]))
    subst = {id(kv): uv for kv, uv in pairs if id(kv) in kept}
    targets = {id(kv): uv for kv, uv in pairs if id(kv) in plans}
    head = []
    for kv, _ in pairs:
        if id(kv) in plans:
            _emit(plans[id(kv)], targets, subst, head)
    keep_res = [kv for kv, _ in pairs if id(kv) not in plans]
    keep_in = [uv for kv, uv in pairs if id(kv) not in plans]
    outs = kj.outvars[:n_out] + keep_res
    new_known = Jaxpr(kj.constvars, kj.invars, outs, kj.eqns)
    new_known = ClosedJaxpr(Jaxpr(kj.constvars, kj.invars, outs, live_eqns(new_known)),
                            known.consts)
    new_unknown = Jaxpr(unknown.constvars, keep_in + unknown.invars[n_res:], unknown.outvars,
                        head + unknown.eqns)
    return new_known, new_unknown, len(keep_res)


def _rebuild(v, made, kept, depth=0):
    """The equations that compute ``v`` from literals and ``kept`` vars, or None."""
    e = made.get(id(v))
    if e is None or e.prim.name not in CHEAP or len(e.outvars) != 1 or depth >= MOST_EQNS:
        return None
    eqns = []
    for x in e.invars:
        if type(x) is Literal or id(x) in kept:
            continue
        sub = _rebuild(x, made, kept, depth + 1)
        if sub is None:
            return None
        eqns += [s for s in sub if s not in eqns]
    return eqns + [e]


def _emit(eqns, targets, subst, head):
    """Append to ``head`` the unknown-body copies of ``eqns`` not emitted yet."""
    for e in eqns:
        out = e.outvars[0]
        if id(out) in subst:
            continue
        ins = [x if type(x) is Literal else subst[id(x)] for x in e.invars]
        target = targets.get(id(out)) or Var(out.aval)
        head.append(Eqn(e.prim, ins, [target], e.params))
        subst[id(out)] = target
