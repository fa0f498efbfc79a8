"""``cond`` and ``switch``: run one of several branches, chosen by a value.

``cond_p``'s operands are an int32 index and the branches' operands; its parameter
``branches`` is a tuple of jaxprs that all take every operand (the consts captured
by each branch included) and return one common signature.  Transforms rewrite each
branch the same way: ``jvp`` and ``batch`` force one output signature on all of
them, a batched index computes every branch and selects per lane, ``partial_eval``
gives all branches one residual layout (shared slots, zero-filled where a branch
has no such residual), and ``transpose`` transposes each branch.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes, tree
from ..core import Primitive, set_trace
from ..errors import DTypeError, ShapeError
from ..ir import Jaxpr, eval_jaxpr
from ..numpy import asarray
from ..primitives.base import Zero, instantiate, is_undefined, move_to_front, tangent_aval
from ..primitives.elementwise import convert_element_type, ne, select_n
from ..primitives.elementwise import max as emax, min as emin
from ..primitives.structural import broadcast_in_dim, full, moveaxis, zeros
from ..transforms.transpose import backward_pass
from .common import (batch_call, batched_aval, check_operands, describe, executable, join_consts,
                      jvp_call, memo, partial_eval_inst, trace_fun, trace_jaxpr, zero_tangents)

cond_p = Primitive("cond", multiple_results=True)


def _cond_impl(index, *ops, branches):
    return executable(branches[int(index)])(*ops)


def _cond_abstract_eval(index, *avals, branches):
    if index.shape != () or index.dtype != dtypes.int32:
        raise TypeError(f"cond: the branch index must be an int32 scalar, got "
                        f"{index.str_short()}")
    check_operands("cond", avals, [v.aval for v in branches[0].invars])
    return [v.aval.update(weak_type=all(b.outvars[i].aval.weak_type for b in branches))
            for i, v in enumerate(branches[0].outvars)]


def _union(flag_lists):
    return [any(col) for col in zip(*flag_lists)]


# ----------------------------------------------------------------------------- jvp
def _jvp_branches(branches, nz):
    avals = [v.aval for v in branches[0].invars]
    t_avals = [tangent_aval(a) for a, n in zip(avals, nz) if n]

    def trace(br, inst):
        store = {}

        def f(*args):
            ops, ts = args[:len(avals)], args[len(avals):]
            outs, out_t = jvp_call(br, ops, zero_tangents(avals, nz, ts))
            store["nz"] = [type(t) is not Zero for t in out_t]
            return outs + [instantiate(t) for t, i in zip(out_t, inst) if i]

        return trace_jaxpr(f, avals + t_avals, "cond.jvp"), store["nz"]

    n_out = len(branches[0].outvars)
    out_nz = _union([trace(br, [False] * n_out)[1] for br in branches])
    joined, consts = join_consts([trace(br, out_nz)[0] for br in branches])
    return joined, consts, out_nz


def _cond_jvp(primals, tangents, *, branches):
    index, ops = primals[0], primals[1:]
    nz = [type(t) is not Zero for t in tangents[1:]]
    new, consts, out_nz = memo("cond.jvp", branches, tuple(nz),
                               lambda: _jvp_branches(branches, nz))
    outs = cond_p.bind(index, *consts, *ops, *[t for t in tangents[1:] if type(t) is not Zero],
                       branches=new)
    n = len(branches[0].outvars)
    return outs[:n], zero_tangents([o.aval for o in outs[:n]], out_nz, outs[n:])


# ----------------------------------------------------------------------------- batching
def _batch_branches(branches, axis_size, in_b):
    avals = [batched_aval(v.aval, axis_size) if b else v.aval
             for v, b in zip(branches[0].invars, in_b)]

    def trace(br, force):
        store = {}

        def f(*args):
            outs, store["b"] = batch_call(br, axis_size, args, in_b)
            return [move_to_front(o, None, axis_size) if fb and not b else o
                    for o, b, fb in zip(outs, store["b"], force)]

        return trace_jaxpr(f, avals, "cond.batch"), store["b"]

    n_out = len(branches[0].outvars)
    out_b = _union([trace(br, [False] * n_out)[1] for br in branches])
    joined, consts = join_consts([trace(br, out_b)[0] for br in branches])
    return joined, consts, out_b


def _cond_batch(axis_size, vals, dims, *, branches):
    in_b = [d is not None for d in dims[1:]]
    ops = [v if d is None else moveaxis(v, d, 0) for v, d in zip(vals[1:], dims[1:])]
    if dims[0] is None:
        new, consts, out_b = memo("cond.batch", branches, (axis_size, tuple(in_b)),
                                  lambda: _batch_branches(branches, axis_size, in_b))
        outs = cond_p.bind(vals[0], *consts, *ops, branches=new)
        return outs, [0 if b else None for b in out_b]
    # A batched index: every lane may take another branch, so run all and select.
    index = moveaxis(vals[0], dims[0], 0)
    per_branch = []
    for br in branches:
        outs, out_b = batch_call(br, axis_size, ops, in_b)
        per_branch.append([o if b else move_to_front(o, None, axis_size)
                           for o, b in zip(outs, out_b)])
    outs = [select_n(broadcast_in_dim(index, cases[0].aval.shape, (0,)), *cases)
            for cases in zip(*per_branch)]
    return outs, [0] * len(outs)


# ----------------------------------------------------------------------------- partial eval
class _Split:
    """Known and unknown branches with one residual layout (built once per pattern)."""

    def __init__(self, branches, uk):
        n_out = len(branches[0].outvars)
        out_uk = _union([partial_eval_inst(br, uk, [False] * n_out)[2] for br in branches])
        splits = [partial_eval_inst(br, uk, out_uk) for br in branches]
        slots, owned = [], []  # residuals of equal type share a slot across branches
        for _, unknown, _, n_res in splits:
            used = []
            for a in (v.aval for v in unknown.invars[:n_res]):
                s = next((i for i, b in enumerate(slots) if b == a and i not in used), None)
                if s is None:
                    slots.append(a)
                    s = len(slots) - 1
                used.append(s)
            owned.append(used)
        self.out_uk, self.n_known = out_uk, out_uk.count(False)
        invars = branches[0].invars
        known_avals = [v.aval for v, u in zip(invars, uk) if not u]
        unknown_avals = slots + [v.aval for v, u in zip(invars, uk) if u]
        self.known, self.known_consts = join_consts([
            trace_jaxpr(self._known_fn(k, mine, slots), known_avals, "cond.known")
            for (k, _, _, _), mine in zip(splits, owned)])
        self.unknown, self.unknown_consts = join_consts([
            trace_jaxpr(self._unknown_fn(u, mine, len(slots)), unknown_avals, "cond.unknown")
            for (_, u, _, _), mine in zip(splits, owned)])

    def _known_fn(self, known, mine, slots):
        def f(*ops):
            outs = eval_jaxpr(known.jaxpr, known.consts, *ops)
            res = dict(zip(mine, outs[self.n_known:]))
            return outs[:self.n_known] + [res[s] if s in res else zeros(a)
                                          for s, a in enumerate(slots)]
        return f

    @staticmethod
    def _unknown_fn(unknown, mine, n_slots):
        def f(*args):
            return eval_jaxpr(unknown, [], *[args[s] for s in mine], *args[n_slots:])
        return f


def _cond_partial_eval(trace, args, params):
    branches = params["branches"]
    index, ops = args[0], args[1:]
    if trace.owns(index):  # which branch runs is unknown: all of it is
        return trace.stage(cond_p, args, params)
    uk = [trace.owns(a) for a in ops]
    s = memo("cond.partial_eval", branches, tuple(uk), lambda: _Split(branches, uk))
    with set_trace(trace.parent):
        known = cond_p.bind(index, *s.known_consts, *[a for a, u in zip(ops, uk) if not u],
                            branches=s.known)
    known_outs, res = known[:s.n_known], known[s.n_known:]
    unknown = []
    if any(s.out_uk):
        unknown = trace.stage(cond_p, [index, *s.unknown_consts, *res,
                                       *[a for a, u in zip(ops, uk) if u]],
                              dict(branches=s.unknown))
    known_it, unknown_it = iter(known_outs), iter(unknown)
    return [next(unknown_it) if u else next(known_it) for u in s.out_uk]


# ----------------------------------------------------------------------------- transpose
def _transpose_branches(branches, lin, ct_nz):
    res_avals = [v.aval for v, is_lin in zip(branches[0].invars, lin) if not is_lin]
    out_avals = [v.aval for v in branches[0].outvars]
    ct_avals = [tangent_aval(a) for a, n in zip(out_avals, ct_nz) if n]

    def backward(br):
        linear = Jaxpr([v for v, is_lin in zip(br.invars, lin) if not is_lin],
                       [v for v, is_lin in zip(br.invars, lin) if is_lin], br.outvars, br.eqns)

        def f(*args):
            res, cts = args[:len(res_avals)], args[len(res_avals):]
            return [instantiate(c) for c in
                    backward_pass(linear, res, zero_tangents(out_avals, ct_nz, cts))]
        return f

    return join_consts([trace_jaxpr(backward(br), res_avals + ct_avals, "cond.transpose")
                        for br in branches])


def _cond_transpose(cts, index, *ops, branches):
    lin = [is_undefined(a) for a in ops]
    ct_nz = [type(c) is not Zero for c in cts]
    new, consts = memo("cond.transpose", branches, (tuple(lin), tuple(ct_nz)),
                       lambda: _transpose_branches(branches, lin, ct_nz))
    outs = iter(cond_p.bind(index, *consts, *[a for a in ops if not is_undefined(a)],
                            *[c for c in cts if type(c) is not Zero], branches=new))
    return [None] + [next(outs) if is_lin else None for is_lin in lin]


cond_p.impl = _cond_impl
cond_p.abstract_eval = _cond_abstract_eval
cond_p.jvp = _cond_jvp
cond_p.batch = _cond_batch
cond_p.partial_eval = _cond_partial_eval
cond_p.transpose = _cond_transpose


# ----------------------------------------------------------------------------- user API
def _scalar_index(name, x, what):
    x = asarray(x)
    if x.shape != ():
        raise ShapeError(f"{name}: the {what} must be a scalar, got shape {x.shape}. For an "
                         "elementwise choice use lnp.where or lax.select; otherwise reduce it "
                         "(e.g. .any() or .all()).")
    return x


def _common_outputs(name, names, traced):
    """All branches must return one structure, shapes and dtypes; weak-typed outputs (Python
    scalars) take the dtype the other branches give them.  Returns the target avals."""
    (_, _, tree0), avals0 = traced[0], [v.aval for v in traced[0][0].outvars]
    same = [t for t in traced if t[2] == tree0 and len(t[0].outvars) == len(avals0)]
    targets = [a.update(dtype=dtypes.promote(*((t[0].outvars[i].aval.dtype,
                                                 t[0].outvars[i].aval.weak_type)
                                                for t in same))[0])
               for i, a in enumerate(avals0)]
    for j, _, t in traced:
        avals = [v.aval for v in j.outvars]
        if t == tree0 and all(a.shape == b.shape and (a.dtype == b.dtype or a.weak_type)
                              for a, b in zip(avals, targets)):
            continue
        shapes_differ = all(t == tree0 for _, _, t in traced) and any(
            [v.aval.shape for v in j.outvars] != [a.shape for a in avals0] for j, _, _ in traced)
        sigs = "".join(f"\n    {nm} returns {describe(t, [v.aval for v in j.outvars])}"
                       for nm, (j, _, t) in zip(names, traced))
        raise (ShapeError if shapes_differ else DTypeError)(
            f"{name}: all branches must return the same structure, shapes and dtypes, but"
            f"{sigs}\nMake them agree (e.g. cast with .astype(...)).")
    return targets


def _switch(name, index, funs, names, operands):
    leaves, in_tree = tree.flatten(operands)
    leaves = [asarray(x) for x in leaves]
    avals = [x.aval for x in leaves]

    def trace(f, targets=None):
        def g(ops):
            out = f(*ops)
            if targets is None:
                return out
            out_leaves, t = tree.flatten(out)
            return tree.unflatten(t, [convert_element_type(asarray(o), a.dtype)
                                      for o, a in zip(out_leaves, targets)])
        return trace_fun(g, in_tree, avals, f"{name} branch")

    traced = [trace(f) for f in funs]
    targets = _common_outputs(name, names, traced)
    traced = [t if [v.aval.dtype for v in t[0].outvars] == [a.dtype for a in targets]
              else trace(f, targets) for f, t in zip(funs, traced)]
    branches, consts = join_consts([(j, c) for j, c, _ in traced])
    outs = cond_p.bind(index, *consts, *leaves, branches=branches)
    return tree.unflatten(traced[0][2], outs)


def cond(pred, true_fun, false_fun, *operands):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``; only the chosen
    branch runs (under vmap with a batched ``pred``, both run and lanes select)."""
    pred = _scalar_index("cond", pred, "predicate")
    if pred.dtype.kind in "iu":
        pred = ne(pred, full((), 0, pred.dtype))
    elif pred.dtype != dtypes.bool_:
        raise DTypeError(f"cond: the predicate must be boolean (or an integer), got "
                         f"{pred.aval.str_short()}. Compare explicitly, e.g. `x > 0`.")
    index = convert_element_type(pred, np.int32)
    return _switch("cond", index, (false_fun, true_fun), ("false_fun", "true_fun"), operands)


def switch(index, branches, *operands):
    """``branches[index](*operands)``, with ``index`` clamped to ``[0, len(branches) - 1]``."""
    branches = tuple(branches)
    if not branches:
        raise ValueError("switch: needs at least one branch")
    index = _scalar_index("switch", index, "index")
    if index.dtype.kind not in "iu":
        raise DTypeError(f"switch: the index must be an integer, got {index.aval.str_short()}")
    if len(branches) == 1:
        return branches[0](*operands)
    index = convert_element_type(index, np.int32)
    index = emin(emax(index, full((), 0, np.int32)), full((), len(branches) - 1, np.int32))
    return _switch("switch", index, branches, [f"branch {i}" for i in range(len(branches))],
                   operands)
