"""Helpers shared by the control-flow primitives (scan, while, cond) and the lax loops and
solves built on them (``lepton._lax_scan``, ``lepton._lax_solves``).

Like ``jit``, these primitives carry traced jaxprs as parameters and sit at the
level of the transforms: their rules trace transformed bodies (``jvp_call``,
``batch_call`` inside ``trace_jaxpr``) or split them (``partial_eval_inst``).
Bodies are *open* jaxprs: no constvars, values captured while tracing become
leading operands, so they can travel through any transform as ordinary arguments.
"""
from __future__ import annotations

from .. import dtypes, tree
from ..backends import running_backend
from ..core import ArrayBase, ShapedArray, concrete, current_trace, set_trace
from ..errors import DTypeError, ShapeError
from ..ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, eval_jaxpr
from ..primitives.base import Zero, move_to_front, tangent_aval
from ..transforms.api import trace_to_jaxpr
from ..transforms.batching import BatchTrace, BatchTracer
from ..transforms.jit import executable as jit_executable
from ..transforms.memo import memo  # noqa: F401  (re-exported for the loop modules)
from ..transforms.partial_eval import partial_eval_jaxpr



def executable(jaxpr: Jaxpr):
    """The body compiled once per loop, so a loop's cost does not grow with its trip count.

    Eager loops use the NumPy reference (no compile latency); inside a jitted program the
    body is compiled by that program's backend."""
    return jit_executable(jaxpr, running_backend())  # cached per program, counted in cache_info()



def split(xs, *sizes):
    """Cut ``xs`` into consecutive lists of the given sizes plus the rest."""
    out, i = [], 0
    for n in sizes:
        out.append(list(xs[i:i + n]))
        i += n
    out.append(list(xs[i:]))
    return out


def as_values(leaves):
    return [x if isinstance(x, ArrayBase) else concrete(x) for x in leaves]


def avals_of(xs):
    return [x.aval for x in xs]


def open_jaxpr(closed: ClosedJaxpr):
    """(jaxpr taking its consts as leading invars, consts)."""
    j = closed.jaxpr
    return Jaxpr([], j.constvars + j.invars, j.outvars, j.eqns), list(closed.consts)


def trace_jaxpr(fun, avals, name):
    """Trace a function of flat arrays to (open jaxpr, consts)."""
    return open_jaxpr(trace_to_jaxpr(lambda *xs: as_values(fun(*xs)), avals, name=name))


def trace_fun(fun, in_tree, avals, name):
    """Trace ``fun(value)`` where ``value`` has structure ``in_tree``: (open jaxpr, consts,
    output treedef)."""
    store = {}

    def flat(*leaves):
        out_leaves, store["tree"] = tree.flatten(fun(tree.unflatten(in_tree, leaves)))
        return out_leaves

    jaxpr, consts = trace_jaxpr(flat, avals, name)
    return jaxpr, consts, store["tree"]


# ----------------------------------------------------------------------------- transforms of bodies
def jvp_call(jaxpr: Jaxpr, primals, tangents):
    """Evaluate the JVP of an open jaxpr; tangents may be ``Zero``; outputs' too."""
    from ..transforms.autodiff import jvp_flat
    return jvp_flat(lambda *xs: eval_jaxpr(jaxpr, [], *xs), list(primals), list(tangents))


def batch_call(jaxpr: Jaxpr, axis_size, args, batched):
    """Evaluate ``jaxpr`` on args batched at axis 0 where ``batched``; returns
    (outputs, batch dims moved to 0, which outputs are batched)."""
    trace = BatchTrace(current_trace(), axis_size)
    ins = [BatchTracer(trace, a, 0) if b else a for a, b in zip(args, batched)]
    try:
        with set_trace(trace):
            outs = eval_jaxpr(jaxpr, [], *ins)
    finally:
        trace.alive = False
    pairs = [trace.unpack(o) for o in outs]
    return ([v if d is None else move_to_front(v, d, axis_size) for v, d in pairs],
            [d is not None for _, d in pairs])


def batched_aval(aval, axis_size):
    return ShapedArray((axis_size,) + aval.shape, aval.dtype, aval.weak_type)


def zero_tangents(avals, nonzero, given):
    """Tangent list: the next of ``given`` where ``nonzero``, else a symbolic Zero."""
    it = iter(given)
    return [next(it) if nz else Zero(tangent_aval(a)) for a, nz in zip(avals, nonzero)]


def partial_eval_inst(jaxpr: Jaxpr, unknowns, instantiate, effects_unknown=False):
    """``partial_eval_jaxpr`` that also makes the outputs marked ``instantiate`` unknown.

    A forced output that turned out known becomes an extra residual which the unknown
    jaxpr passes through: loop carries keep one known/unknown type per iteration.
    Returns (known ClosedJaxpr, unknown open Jaxpr, out_unknowns, number of residuals).
    """
    known, unknown, out_uk, n_res = partial_eval_jaxpr(jaxpr, [], unknowns, effects_unknown)
    uj = unknown.jaxpr
    force = [i and not u for i, u in zip(instantiate, out_uk)]
    if not any(force):
        return known, uj, out_uk, n_res
    kj = known.jaxpr
    n_kout = len(kj.outvars) - n_res
    keep, moved = [], []
    for v, f in zip(kj.outvars[:n_kout], [f for f, u in zip(force, out_uk) if not u]):
        (moved if f else keep).append(v)
    new_known = ClosedJaxpr(Jaxpr(kj.constvars, kj.invars, keep + kj.outvars[n_kout:] + moved,
                                  kj.eqns), known.consts)
    passed = [Var(v.aval) for v in moved]
    uk_outs, pass_it = iter(uj.outvars), iter(passed)
    outvars = [next(uk_outs) if u else next(pass_it) for u, f in zip(out_uk, force) if u or f]
    new_unknown = Jaxpr([], uj.invars[:n_res] + passed + uj.invars[n_res:], outvars, uj.eqns)
    return new_known, new_unknown, [u or f for u, f in zip(out_uk, force)], n_res + len(moved)


def join_consts(traced):
    """Give each of several (jaxpr, consts) pairs the same leading operands: all consts.

    Returns (tuple of jaxprs, joined consts); a jaxpr ignores the others' consts.
    """
    consts = [c for _, cs in traced for c in cs]
    jaxprs = []
    for k, (j, cs) in enumerate(traced):
        lead = []
        for m, (_, other) in enumerate(traced):
            lead += j.invars[:len(cs)] if m == k else [Var(c.aval) for c in other]
        jaxprs.append(Jaxpr([], lead + j.invars[len(cs):], j.outvars, j.eqns))
    return tuple(jaxprs), consts


def check_operands(name, avals, expected):
    """The operands of a control-flow primitive must have the types its jaxprs expect."""
    if len(avals) != len(expected):
        raise TypeError(f"{name}: got {len(avals)} operands, the program expects {len(expected)}")
    for i, (a, b) in enumerate(zip(avals, expected)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise TypeError(f"{name}: operand {i} has type {a.str_short()} but the program "
                            f"expects {b.str_short()}")


# ----------------------------------------------------------------------------- carry types
def describe(treedef, avals):
    """``{path: type, ...}`` of a flattened value, for error messages."""
    rows = [f"{tree.keystr(p) or '<value>'}: {a.str_short()}" for (p, _), a in
            zip(tree.leaves_with_path(tree.unflatten(treedef, list(range(len(avals))))), avals)]
    return "{" + ", ".join(rows) + "}"


def check_carry(what, in_tree, in_avals, out_tree, out_avals, fix):
    """Raise a clear error when a loop body changes its carry's structure, shape or dtype."""
    if in_tree == out_tree and all(a.shape == b.shape and a.dtype == b.dtype
                                   for a, b in zip(in_avals, out_avals)):
        return
    cls = ShapeError if in_tree == out_tree and any(
        a.shape != b.shape for a, b in zip(in_avals, out_avals)) else DTypeError
    raise cls(f"{what} must keep the carry's type across iterations, but it maps\n"
              f"    {describe(in_tree, in_avals)}  (initial value)\n"
              f" to {describe(out_tree, out_avals)}  (body output)\n{fix}")


def promote_weak_carry(leaves, out_avals):
    """Weakly typed initial values (Python scalars) take the dtype the body promotes them
    to, as in JAX; returns the converted leaves, or None when nothing changes."""
    from ..primitives.elementwise import convert_element_type
    changed, out = False, []
    for x, b in zip(leaves, out_avals):
        a = x.aval
        if a.weak_type and a.shape == b.shape and a.dtype != b.dtype and \
                dtypes.promote((a.dtype, True), (b.dtype, False))[0] == b.dtype:
            x, changed = convert_element_type(x, b.dtype), True
        out.append(x)
    return out if changed else None


def sink_fills(hoist: ClosedJaxpr, n_first: int, first: Jaxpr, second: Jaxpr):
    """Rebuild filled constants inside the loop bodies instead of storing them.

    ``hoist`` computes loop-invariant values once, before the loop: its first ``n_first``
    outputs feed ``first``'s leading invars, the rest ``second``'s.  An output that is
    only a scalar broadcast (a JVP's ``1``s, say) would become an array that the compiled
    body reads from memory every step; rebuilt in the body it is a constant in registers.
    Returns (hoist, n_first, first, second) without those outputs.
    """
    j = hoist.jaxpr
    defn = {v: e for e in j.eqns for v in e.outvars}
    outs, bodies, counts = [], [], []
    for (lo, hi), body in zip(((0, n_first), (n_first, len(j.outvars))), (first, second)):
        prologue, kept = [], []
        for v, inv in zip(j.outvars[lo:hi], body.invars):
            e = defn.get(v)
            if (e is not None and e.prim.name == "broadcast_in_dim"
                    and type(e.invars[0]) is Literal):
                prologue.append(Eqn(e.prim, e.invars, [inv], e.params))
            else:
                kept.append((v, inv))
        outs += [v for v, _ in kept]
        bodies.append(Jaxpr(body.constvars, [inv for _, inv in kept] + body.invars[hi - lo:],
                            body.outvars, prologue + body.eqns))
        counts.append(len(kept))
    return (ClosedJaxpr(Jaxpr(j.constvars, j.invars, outs, j.eqns), hoist.consts), counts[0],
            *bodies)
