"""User-defined derivative rules: custom_jvp, custom_vjp; stop_gradient; checkpoint.

Each trace decides what a custom-rule call means to it (``process_custom_jvp`` /
``process_custom_vjp``): the eager and staging traces just run the function, the
JVP trace applies the user's rule, the batching trace vmaps function and rule.

A ``custom_vjp`` function also works in *forward* mode: its backward function is
linear in the cotangent, so the JVP is the transpose of ``bwd``, obtained by
differentiating ``bwd`` with respect to the cotangent.  (JAX rejects this case.)
"""
from __future__ import annotations

import functools

import numpy as np

from .. import core, dtypes, tree
from ..core import ArrayBase, Primitive, Trace, concrete, set_trace
from ..errors import ShapeError
from ..primitives import elementwise as ew
from ..primitives.base import Zero, instantiate
from .api import fun_name
from .batching import BatchTrace, BatchTracer
from .jvp import JVPTrace, JVPTracer
from .staging import StagingTrace


def _flat(xs):
    leaves, t = tree.flatten(xs)
    return [x if isinstance(x, ArrayBase) else concrete(x) for x in leaves], t


# ----------------------------------------------------------------------------- default handling
def _run(self, fun, args):
    with set_trace(self):
        return fun(*args)


Trace.process_custom_jvp = lambda self, fun, rule, args: _run(self, fun, args)
Trace.process_custom_vjp = lambda self, fun, fwd, bwd, args: _run(self, fun, args)


def _owns_any(trace, cls, args):
    return any(type(a) is cls and a._trace is trace for a in tree.leaves(args))


def _delegate(trace, method, *rest):
    with set_trace(trace.parent):
        return getattr(trace.parent, method)(*rest)


# ----------------------------------------------------------------------------- custom_jvp
class custom_jvp:
    """Give ``fun`` a custom JVP rule: ``@f.defjvp def rule(primals, tangents) -> (out, t_out)``."""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.rule = None

    def defjvp(self, rule):
        self.rule = rule
        return rule

    def defjvps(self, *per_arg):
        """One rule per argument, ``rule(t, ans, *primals)``; contributions are summed."""

        def rule(primals, tangents):
            ans = self.fun(*primals)
            out = None
            for r, t in zip(per_arg, tangents):
                if r is None:
                    continue
                c = r(t, ans, *primals)
                out = c if out is None else tree.map(lambda a, b: a + b, out, c)
            return ans, out if out is not None else tree.map(_zeros_like, ans)

        self.rule = rule

    def __call__(self, *args, **kwargs):
        if self.rule is None:
            raise AttributeError(f"custom_jvp function {fun_name(self.fun)} has no JVP rule; "
                                 "define one with @f.defjvp")
        args = _bind(self.fun, args, kwargs)
        fixed, dyn, merge = _split_static(args, self.nondiff_argnums)
        leaves, in_tree = tree.flatten(tuple(dyn))  # transforms see flat leaves only
        store = {}
        name = fun_name(self.fun)

        def fun(*xs):
            out_l, store["out"] = _flat(self.fun(*merge(tree.unflatten(in_tree, list(xs)))))
            return out_l

        def rule(primals, tangents):
            ps = tree.unflatten(in_tree, list(primals))
            ts = tree.unflatten(in_tree, list(tangents))
            out, out_t = self.rule(*fixed, tuple(ps), tuple(ts))
            out_l, out_tree = _flat(out)
            t_l, t_tree = _flat(out_t)
            if out_tree != t_tree:
                raise TypeError(f"custom_jvp {name}: the rule returned primal output {out_tree} "
                                f"and tangent output {t_tree} of different structure")
            store["out"] = out_tree
            return out_l, t_l

        outs = core.current_trace().process_custom_jvp(fun, rule, leaves)
        return tree.unflatten(store["out"], list(outs))


def _bind(fun, args, kwargs):
    """Keyword arguments mapped onto positions through ``fun``'s signature (as JAX)."""
    if not kwargs:
        return args
    import inspect
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{fun_name(fun)}: {e}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(f"custom derivative function {fun_name(fun)} got keyword-only "
                        f"arguments {sorted(bound.kwargs)}; pass them positionally "
                        "(and list them in nondiff_argnums if they are not arrays)")
    return bound.args


def _split_static(args, nondiff_argnums):
    """(nondiff values in order, differentiable args, merge(dyn) -> all args)."""
    n = len(args)
    nums = sorted({i + n if i < 0 else i for i in nondiff_argnums})
    bad = [i for i in nums if not 0 <= i < n]
    if bad:
        raise ValueError(f"nondiff_argnums {tuple(nondiff_argnums)} out of range for a call "
                         f"with {n} positional argument(s)")
    static = {i: args[i] for i in nums}
    dyn = [a for i, a in enumerate(args) if i not in static]

    def merge(dyn_args):
        it = iter(dyn_args)
        return [static[i] if i in static else next(it) for i in range(n)]

    return [static[i] for i in nums], dyn, merge


def _zeros_like(x):
    from ..primitives.base import tangent_aval
    from ..primitives.structural import zeros
    return zeros(tangent_aval(core.get_aval(x)))


def _jvp_process_custom_jvp(self, fun, rule, args):
    if not _owns_any(self, JVPTracer, args):
        return _delegate(self, "process_custom_jvp", fun, rule, args)
    primals = tree.map(lambda a: a.primal if type(a) is JVPTracer and a._trace is self else a,
                       args)
    tangents = tree.map(lambda a: a.tangent if type(a) is JVPTracer and a._trace is self
                        else Zero.like(a), args)
    tangents = tree.map(lambda t: instantiate(t), tangents,
                        is_leaf=lambda t: type(t) is Zero)
    with set_trace(self.parent):
        out, out_t = rule(primals, tangents)
    out_l, out_tree = _flat(out)
    t_l, t_tree = _flat(out_t)
    if out_tree != t_tree:
        raise TypeError(f"custom_jvp rule returned primal output {out_tree} and tangent output "
                        f"{t_tree} of different structure")
    return tree.unflatten(out_tree, [JVPTracer(self, p, t) for p, t in zip(out_l, t_l)])


JVPTrace.process_custom_jvp = _jvp_process_custom_jvp


def _batched_args(self, args):
    vals = [a.val if type(a) is BatchTracer and a._trace is self else a for a in args]
    dims = [a.bdim if type(a) is BatchTracer and a._trace is self else None for a in args]
    return vals, dims


def _batch_process_custom_jvp(self, fun, rule, args):
    if not _owns_any(self, BatchTracer, args):
        return _delegate(self, "process_custom_jvp", fun, rule, args)
    from .vmap import vmap
    vals, dims = _batched_args(self, args)
    size = self.axis_size
    fun_b = vmap(fun, in_axes=tuple(dims), axis_size=size)

    def rule_b(primals, tangents):
        return vmap(lambda p, t: rule(p, t), in_axes=(tuple(dims), tuple(dims)),
                    axis_size=size)(tuple(primals), tuple(tangents))

    with set_trace(self.parent):
        out = self.parent.process_custom_jvp(fun_b, rule_b, vals)
    return tree.map(lambda o: BatchTracer(self, o, 0), out)


BatchTrace.process_custom_jvp = _batch_process_custom_jvp


# ----------------------------------------------------------------------------- custom_vjp
class custom_vjp:
    """Give ``fun`` a custom VJP: ``f.defvjp(fwd, bwd)`` with ``fwd(*args) -> (out, res)`` and
    ``bwd(res, ct) -> tuple of cotangents, one per argument``."""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise AttributeError(f"custom_vjp function {fun_name(self.fun)} has no VJP; define "
                                 "one with f.defvjp(fwd, bwd)")
        args = _bind(self.fun, args, kwargs)
        fixed, dyn, merge = _split_static(args, self.nondiff_argnums)
        leaves, in_tree = tree.flatten(tuple(dyn))  # transforms see flat leaves only
        arg_trees = [tree.structure(a) for a in dyn]
        name = fun_name(self.fun)
        store = {}

        def fun(*xs):
            out_l, store["out"] = _flat(self.fun(*merge(tree.unflatten(in_tree, list(xs)))))
            return out_l

        def fwd(*xs):
            res = self.fwd(*merge(tree.unflatten(in_tree, list(xs))))
            if not isinstance(res, (tuple, list)) or len(res) != 2:
                raise TypeError(f"custom_vjp {name}: fwd must return a pair (output, residuals), "
                                f"got {res!r:.200}")
            out_l, store["out"] = _flat(res[0])
            return out_l, res[1]

        def bwd(res, ct):
            cts = self.bwd(*fixed, res, tree.unflatten(store["out"], list(ct)))
            if isinstance(cts, list):
                cts = tuple(cts)
            if type(cts) is not tuple or len(cts) != len(dyn):
                raise TypeError(f"custom_vjp {name}: bwd must return a tuple with one cotangent "
                                f"per differentiable argument ({len(dyn)}), got {cts!r:.200}")
            flat = []
            for i, (c, td) in enumerate(zip(cts, arg_trees)):
                if c is None:  # JAX: None stands for a zero cotangent
                    flat.extend([None] * td.num_leaves)
                    continue
                try:
                    flat.extend(td.flatten_up_to(c))
                except ValueError as e:
                    raise TypeError(f"custom_vjp {name}: bwd's cotangent for argument {i} must "
                                    f"have the argument's structure {td}; {e}") from None
            for k, (c, x) in enumerate(zip(flat, leaves)):
                if c is not None and np.shape(c) != np.shape(x):
                    raise ShapeError(
                        f"custom_vjp {name}: bwd returned a cotangent of shape {np.shape(c)} "
                        f"for an input of shape {np.shape(x)} (leaf {k} of the arguments); "
                        "each cotangent must have its primal input's shape (as JAX)")
            return tuple(_zeros_like(x) if c is None else c for c, x in zip(flat, leaves))

        outs = core.current_trace().process_custom_vjp(fun, fwd, bwd, leaves)
        return tree.unflatten(store["out"], list(outs))


def _jvp_process_custom_vjp(self, fun, fwd, bwd, args, record=False):
    if not _owns_any(self, JVPTracer, args):
        return _delegate(self, "process_custom_vjp", fun, fwd, bwd, args)
    primals = [a.primal if type(a) is JVPTracer and a._trace is self else a for a in args]
    tangents = [a.tangent if type(a) is JVPTracer and a._trace is self else Zero.like(a)
                for a in args]
    with set_trace(self.parent):
        out, res = fwd(*primals)
        out_l, out_tree = _flat(out)
        ts = [instantiate(t) if type(t) is not Zero else _zeros_like(p)
              for t, p in zip(tangents, primals)]
        res_l, res_tree = _flat(res)
        params = dict(num_res=len(res_l), bwd=bwd, res_tree=res_tree, out_tree=out_tree,
                      out_avals=tuple(o.aval for o in out_l))
        if record or _linearizing(self.parent, ts):  # record it: reverse mode calls bwd
            out_t = custom_lin_p.bind(*res_l, *ts, **params)
        else:
            out_t = _custom_lin_forward(*res_l, *ts, **params)
    return tree.unflatten(out_tree, [JVPTracer(self, p, t) for p, t in zip(out_l, out_t)])


# The tangent map of a custom_vjp function: linear in the tangents, given residuals.
# Transposing it runs the user's bwd (so reverse mode saves exactly fwd's residuals);
# evaluating it forwards transposes bwd instead (forward mode from a VJP rule).
custom_lin_p = Primitive("custom_lin", multiple_results=True)
custom_lin_p.abstract_eval = lambda *avals, out_avals, **_: list(out_avals)


def _custom_lin_forward(*args, num_res, bwd, res_tree, out_tree, out_avals):
    from .autodiff import vjp
    res = tree.unflatten(res_tree, list(args[:num_res]))
    ts = tuple(args[num_res:])
    from ..primitives.structural import zeros
    ct0 = tree.unflatten(out_tree, [zeros(a) for a in out_avals])
    _, bwd_transposed = vjp(lambda ct: bwd(res, ct), ct0)
    (out_t,) = bwd_transposed(ts)
    return _flat(out_t)[0]


def _custom_lin_transpose(cts, *args, num_res, bwd, res_tree, out_tree, out_avals):
    res = tree.unflatten(res_tree, list(args[:num_res]))
    cts = [instantiate(c) for c in cts]
    cts_in = bwd(res, tree.unflatten(out_tree, cts))
    return [None] * num_res + [None if c is None else c for c in cts_in]


def _linearizing(trace, tangents):
    from .staging import StagingTrace, StagingTracer
    return (type(trace) is StagingTrace and not trace.stage_all and
            any(type(t) is StagingTracer and t._trace is trace for t in tangents))


def _custom_lin_impl(*args, **params):
    outs = _custom_lin_forward(*(core.Array(a) for a in args), **params)
    return [o._value for o in outs]


def _custom_lin_jvp(primals, tangents, **params):
    from .autodiff import jvp
    tangents = [instantiate(t) for t in tangents]
    return jvp(lambda *a: _custom_lin_forward(*a, **params), tuple(primals), tuple(tangents))


def _custom_lin_batch(axis_size, vals, dims, **params):
    from .vmap import vmap
    outs = vmap(lambda *a: _custom_lin_forward(*a, **params), in_axes=tuple(dims),
                axis_size=axis_size)(*vals)
    return outs, [0] * len(outs)


custom_lin_p.impl = _custom_lin_impl
custom_lin_p.jvp = _custom_lin_jvp
custom_lin_p.batch = _custom_lin_batch
custom_lin_p.transpose = _custom_lin_transpose
custom_lin_p.linear = True


JVPTrace.process_custom_vjp = _jvp_process_custom_vjp


def _batch_process_custom_vjp(self, fun, fwd, bwd, args):
    if not _owns_any(self, BatchTracer, args):
        return _delegate(self, "process_custom_vjp", fun, fwd, bwd, args)
    from ..primitives.reductions import reduce_sum
    from .vmap import vmap
    vals, dims = _batched_args(self, args)
    size = self.axis_size
    fun_b = vmap(fun, in_axes=tuple(dims), axis_size=size)
    fwd_b = vmap(fwd, in_axes=tuple(dims), axis_size=size)

    def unbatch(x):  # an unbatched argument's cotangent: summed over the batch
        if np.dtype(x.dtype) == dtypes.float0:  # an int argument's: there is nothing to sum
            return np.zeros(np.shape(x)[1:], dtypes.float0)
        return reduce_sum(x, (0,))

    def bwd_b(res, ct):
        cts = vmap(bwd, in_axes=(0, 0), axis_size=size)(res, ct)
        return tuple(c if d is not None else tree.map(unbatch, c) for c, d in zip(cts, dims))

    with set_trace(self.parent):
        out = self.parent.process_custom_vjp(fun_b, fwd_b, bwd_b, vals)
    return tree.map(lambda o: BatchTracer(self, o, 0), out)


BatchTrace.process_custom_vjp = _batch_process_custom_vjp


# ----------------------------------------------------------------------------- stop_gradient
def stop_gradient(x):
    """Identity whose derivative is zero (applied to every leaf of a pytree)."""
    return tree.map(lambda v: ew.stop_gradient(v if isinstance(v, ArrayBase) else concrete(v)), x)


# ----------------------------------------------------------------------------- checkpoint
def checkpoint(fun, *, static_argnums=()):
    """Rematerialise ``fun`` under reverse mode: save only its inputs, recompute the rest.

    Trades compute for memory; see ``saved_residuals`` for what a function keeps.  ``fun``
    is staged first, so the values it closes over (a weight of the function being
    differentiated, say) become inputs of the rematerialised call, with gradients, as in
    JAX.
    """
    static = tuple(static_argnums) if not isinstance(static_argnums, int) else (static_argnums,)

    @functools.wraps(fun)
    def remat(*args):
        from ..ir import eval_jaxpr
        from .api import _abstractify, trace_to_jaxpr
        from .autodiff import vjp
        dyn = [i for i in range(len(args)) if i not in static]
        leaves, in_tree = tree.flatten([args[i] for i in dyn])
        store = {}

        def flat(*xs):
            full = list(args)
            for i, v in zip(dyn, tree.unflatten(in_tree, list(xs))):
                full[i] = v
            out, store["tree"] = tree.flatten(fun(*full))
            return out

        closed = trace_to_jaxpr(flat, [_abstractify(x) for x in leaves], name="checkpoint")
        jaxpr = closed.jaxpr

        def run(consts, *xs):
            return eval_jaxpr(jaxpr, consts, *xs)

        f = custom_vjp(run)
        f.defvjp(lambda consts, *xs: (run(consts, *xs), (consts, xs)),
                 lambda res, ct: vjp(run, res[0], *res[1])[1](ct))
        return tree.unflatten(store["tree"], f(list(closed.consts), *leaves))

    return remat


def saved_residuals(fun, *args):
    """What reverse mode stores for ``fun(*args)``: ``[(shape, dtype, nbytes), ...]``, total bytes."""
    from .autodiff import _as_values, linearize_flat
    flat, in_tree = tree.flatten(args)
    flat = _as_values(flat, "saved_residuals inputs")

    def f_flat(*leaves):
        out = fun(*tree.unflatten(in_tree, leaves))
        return _as_values(tree.leaves(out), "outputs")

    _, lin, _, _ = linearize_flat(f_flat, flat)
    report = [(tuple(c.aval.shape), c.aval.dtype, int(c.aval.size * c.aval.dtype.itemsize))
              for c in lin.consts]
    return report, sum(r[2] for r in report)


# ----------------------------------------------------------------------------- under staging
# Under jit (and make_jaxpr, control-flow bodies) a custom-derivative call is recorded as one
# equation holding the traced function and the user's rules, so that differentiating the
# *staged* program (grad(jit(f)), or jvp/vmap of a jitted f) still applies the rules.  Its
# impl runs the traced function; compiled backends see it inlined (``inline_custom_calls``).
# Values the function closes over travel as leading operands (``num_consts``).  When they
# are tracers of the staging trace (a custom rule defined inside the jitted function,
# closing over its traced arguments), the rules would close over dead tracers once the
# trace ends, so they are staged too (``staged`` param: their jaxprs, whose own captured
# values lead the operands), and rebuilt from the operands when the equation is
# differentiated.  The rule gives the derivative in the explicit arguments; a closed-over
# value that is itself differentiated contributes the derivative of the function in it
# (JAX raises there instead).
custom_jvp_call_p = Primitive("custom_jvp_call", multiple_results=True)
custom_vjp_call_p = Primitive("custom_vjp_call", multiple_results=True)
_CUSTOM_CALLS = (custom_jvp_call_p, custom_vjp_call_p)


def _open(closed):
    """A ClosedJaxpr as a Jaxpr whose consts are leading invars."""
    from ..ir import Jaxpr
    j = closed.jaxpr
    return Jaxpr([], j.constvars + j.invars, j.outvars, j.eqns)


def _stage_rules(prim, fun_jaxpr, avals, rules):
    """Trace the user's rules (custom_jvp: ``rule``; custom_vjp: ``fwd`` and ``bwd``) to
    jaxprs: ``(staged, consts)`` with ``staged`` a tuple of (jaxpr, number of consts)."""
    from ..primitives.base import tangent_aval
    from .api import trace_to_jaxpr
    n_in, out_avals = len(avals), [v.aval for v in fun_jaxpr.outvars]
    t_avals = [tangent_aval(a) for a in avals]
    if prim is custom_jvp_call_p:
        rule = rules["rule"]

        def rule_flat(*pt):
            out, out_t = rule(list(pt[:n_in]), list(pt[n_in:]))
            return [*out, *(instantiate(t) for t in out_t)]

        closed = trace_to_jaxpr(rule_flat, [*avals, *t_avals], name="custom_jvp rule")
        return ((_open(closed), len(closed.consts)),), list(closed.consts)
    fwd, bwd, store = rules["fwd"], rules["bwd"], {}

    def fwd_flat(*xs):
        out, res = fwd(*xs)
        res_l, store["res_tree"] = _flat(res)
        return [*out, *res_l]

    closed_f = trace_to_jaxpr(fwd_flat, list(avals), name="custom_vjp fwd")
    res_avals = [v.aval for v in closed_f.jaxpr.outvars[len(out_avals):]]
    res_tree = store["res_tree"]

    def bwd_flat(*rc):
        res = tree.unflatten(res_tree, list(rc[:len(res_avals)]))
        return [instantiate(c) for c in bwd(res, list(rc[len(res_avals):]))]

    ct_avals = [tangent_aval(a) for a in out_avals]
    closed_b = trace_to_jaxpr(bwd_flat, [*res_avals, *ct_avals], name="custom_vjp bwd")
    staged = ((_open(closed_f), len(closed_f.consts)), (_open(closed_b), len(closed_b.consts)),
              res_tree)
    return staged, [*closed_f.consts, *closed_b.consts]


def _rules_from(staged, consts, n_out):
    """The Python rules of a ``staged`` equation, given its staged rules' const values."""
    from ..ir import eval_jaxpr
    if len(staged) == 1:
        (rj, _), = staged

        def rule(ps, ts):
            outs = eval_jaxpr(rj, [], *consts, *ps, *ts)
            return list(outs[:n_out]), list(outs[n_out:])
        return {"rule": rule}
    (fj, nf), (bj, _), _ = staged
    fc, bc = consts[:nf], consts[nf:]

    # bwd's captured values travel with the residuals (as operands of custom_lin), not in
    # bwd's closure: the backward pass may run in another trace than this forward one
    def fwd(*xs):
        outs = eval_jaxpr(fj, [], *fc, *xs)
        return list(outs[:n_out]), (list(bc), list(outs[n_out:]))

    def bwd(res, ct):
        b_consts, r = res
        return tuple(eval_jaxpr(bj, [], *b_consts, *r, *ct))
    return {"fwd": fwd, "bwd": bwd}


def _n_staged(staged):
    return sum(n for n in (x[1] for x in staged if isinstance(x, tuple)))


_STAGING_RULES = [0]  # > 0 while a rule is being staged


def _stage_custom(self, prim, fun, args, **rules):
    from ..ir import Jaxpr, Var
    from .api import trace_to_jaxpr
    avals = [core.get_aval(a) for a in args]
    closed = trace_to_jaxpr(fun, avals, name=prim.name)
    flat = _open(closed)
    if not any(isinstance(c, core.Tracer) for c in closed.consts):
        return prim.bind(*closed.consts, *args, call_jaxpr=flat, num_consts=len(closed.consts),
                         staged=None, **rules)
    if _STAGING_RULES[0]:
        # a custom function called inside a rule being staged (typically the function
        # itself, for its primal value): run it, or staging its rule would recurse
        return _run(self, fun, args)
    _STAGING_RULES[0] += 1
    try:
        staged, rule_consts = _stage_rules(prim, flat, avals, rules)
    finally:
        _STAGING_RULES[0] -= 1
    # the rules' captured values lead the operands; the function's jaxpr ignores them
    call = Jaxpr([], [Var(core.get_aval(c)) for c in rule_consts] + flat.invars,
                 flat.outvars, flat.eqns)
    none = {k: None for k in rules}
    return prim.bind(*rule_consts, *closed.consts, *args, call_jaxpr=call,
                     num_consts=len(rule_consts) + len(closed.consts), staged=staged, **none)


def _known_only(self, args):
    """Partial evaluation with every argument known: the call belongs to the parent trace
    (an outer JVP trace must apply its rule there: grad(grad(f)) through custom_root)."""
    from .staging import StagingTracer
    return not self.stage_all and not _owns_any(self, StagingTracer, args)


def _staging_process_custom_jvp(self, fun, rule, args):
    if _known_only(self, args):
        return _delegate(self, "process_custom_jvp", fun, rule, args)
    if not self.stage_all:  # partial evaluation: the JVP trace above already applied rules
        return _run(self, fun, args)
    return _stage_custom(self, custom_jvp_call_p, fun, args, rule=rule)


def _staging_process_custom_vjp(self, fun, fwd, bwd, args):
    if _known_only(self, args):
        return _delegate(self, "process_custom_vjp", fun, fwd, bwd, args)
    if not self.stage_all:
        return _run(self, fun, args)
    return _stage_custom(self, custom_vjp_call_p, fun, args, fwd=fwd, bwd=bwd)


def _call_abstract_eval(*avals, call_jaxpr, **_):
    return [v.aval for v in call_jaxpr.outvars]


def _call_fun(call_jaxpr, consts):
    from ..ir import eval_jaxpr
    return lambda *a: eval_jaxpr(call_jaxpr, [], *consts, *a)


def _call_impl(*args, call_jaxpr, **_):
    import numpy as np
    outs = _call_fun(call_jaxpr, [])(*(core.Array(np.asarray(a)) for a in args))
    return [np.asarray(o._value if isinstance(o, core.Array) else o) for o in outs]


def _closure_tangents(call_jaxpr, primals, tangents, num_consts, n_staged):
    """The derivative of the function in its closed-over values (None if they have zero
    tangents): ``num_consts`` leading operands, the first ``n_staged`` of them the staged
    rules' (not the function's)."""
    cts = tangents[n_staged:num_consts]
    if all(type(t) is Zero for t in cts):
        return None
    from ..ir import eval_jaxpr
    from .autodiff import jvp
    lead, cs, ps = primals[:n_staged], primals[n_staged:num_consts], primals[num_consts:]
    _, out_t = jvp(lambda *c: list(eval_jaxpr(call_jaxpr, [], *lead, *c, *ps)), tuple(cs),
                   tuple(instantiate(t) if type(t) is Zero else t for t in cts))
    return list(out_t)


def _add(ts, extra):
    return ts if extra is None else [ew.add(instantiate(t), e) for t, e in zip(ts, extra)]


def _custom_jvp_call_jvp(primals, tangents, *, call_jaxpr, num_consts, rule, staged):
    n_st = 0
    if staged is not None:
        n_st = _n_staged(staged)
        rule = _rules_from(staged, primals[:n_st], len(call_jaxpr.outvars))["rule"]
    ps = list(primals[num_consts:])
    ts = [instantiate(t) for t in tangents[num_consts:]]
    out, out_t = rule(ps, ts)
    out_t = _add([instantiate(t) for t in out_t],
                 _closure_tangents(call_jaxpr, primals, tangents, num_consts, n_st))
    return list(out), out_t


def _custom_vjp_call_jvp(primals, tangents, *, call_jaxpr, num_consts, fwd, bwd, staged):
    n_st = 0
    if staged is not None:
        n_st = _n_staged(staged)
        r = _rules_from(staged, primals[:n_st], len(call_jaxpr.outvars))
        fwd, bwd = r["fwd"], r["bwd"]
    fake = JVPTrace(core.current_trace())  # reuse the eager rule: JVP of fwd + custom_lin
    ps, ts = primals[num_consts:], tangents[num_consts:]
    args = [JVPTracer(fake, p, t) if type(t) is not Zero else p for p, t in zip(ps, ts)]
    # Recorded (not evaluated): a staged program may be transposed later, which must call
    # bwd itself (bwd need not be linear, e.g. gradient clipping).
    outs = _jvp_process_custom_vjp(fake, None, fwd, bwd, args, record=True)
    out_t = _add([instantiate(o.tangent) for o in outs],
                 _closure_tangents(call_jaxpr, primals, tangents, num_consts, n_st))
    return [o.primal for o in outs], out_t


def _batch_custom_call(axis_size, vals, dims, *, call_jaxpr, num_consts, staged, **rules):
    from .vmap import vmap
    if any(d is not None for d in dims[:num_consts]):
        # a batched closed-over value: the rules cannot see it, so run the function itself
        outs = vmap(_call_fun(call_jaxpr, []), in_axes=tuple(dims), axis_size=axis_size)(*vals)
        return list(outs), [0] * len(outs)
    consts, dyn, ddims = vals[:num_consts], vals[num_consts:], tuple(dims[num_consts:])
    if staged is not None:
        n_st = _n_staged(staged)
        rules = _rules_from(staged, consts[:n_st], len(call_jaxpr.outvars))
    fun_b = vmap(_call_fun(call_jaxpr, consts), in_axes=ddims, axis_size=axis_size)
    trace = core.current_trace()
    if "rule" in rules:
        rule = rules["rule"]

        def rule_b(p, t):
            return vmap(lambda p, t: rule(list(p), list(t)), in_axes=(ddims, ddims),
                        axis_size=axis_size)(tuple(p), tuple(t))

        outs = trace.process_custom_jvp(fun_b, rule_b, list(dyn))
    else:
        from ..primitives.reductions import reduce_sum
        fwd, bwd = rules["fwd"], rules["bwd"]
        fwd_b = vmap(fwd, in_axes=ddims, axis_size=axis_size)

        def bwd_b(res, ct):
            cts = vmap(bwd, in_axes=(0, 0), axis_size=axis_size)(res, ct)
            return tuple(c if d is not None else reduce_sum(c, (0,)) for c, d in zip(cts, ddims))

        outs = trace.process_custom_vjp(fun_b, fwd_b, bwd_b, list(dyn))
    return list(outs), [0] * len(outs)


for _p in _CUSTOM_CALLS:
    _p.inlined_before_lowering = True  # jit's executable inlines them (inline_custom_calls)
    _p.abstract_eval = _call_abstract_eval
    _p.impl = _call_impl
    _p.batch = _batch_custom_call
custom_jvp_call_p.jvp = _custom_jvp_call_jvp
custom_vjp_call_p.jvp = _custom_vjp_call_jvp
StagingTrace.process_custom_jvp = _staging_process_custom_jvp
StagingTrace.process_custom_vjp = _staging_process_custom_vjp


def inline_custom_calls(jaxpr):
    """``jaxpr`` with every custom-derivative call replaced by its traced function's
    equations: what compiled backends run (derivative rules only matter to transforms)."""
    from ..ir import Eqn, Jaxpr, Var
    if not any(e.prim in _CUSTOM_CALLS for e in jaxpr.eqns):
        return jaxpr
    sub = {}

    def r(a):
        return sub.get(a, a) if isinstance(a, Var) else a

    eqns = []
    for e in jaxpr.eqns:
        if e.prim not in _CUSTOM_CALLS:
            eqns.append(Eqn(e.prim, [r(a) for a in e.invars], e.outvars, e.params))
            continue
        inner = inline_custom_calls(e.params["call_jaxpr"])
        env = dict(zip(inner.invars, [r(a) for a in e.invars]))

        def m(a):
            return env.get(a, a) if isinstance(a, Var) else a

        for ie in inner.eqns:
            outs = [Var(v.aval) for v in ie.outvars]
            eqns.append(Eqn(ie.prim, [m(a) for a in ie.invars], outs, ie.params))
            env.update(zip(ie.outvars, outs))
        for ov, iv in zip(e.outvars, inner.outvars):
            sub[ov] = m(iv)
    return Jaxpr(jaxpr.constvars, jaxpr.invars, [r(a) for a in jaxpr.outvars], eqns)
