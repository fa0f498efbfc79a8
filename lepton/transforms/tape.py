"""Eager reverse mode on a tape: what ``vjp``/``grad`` do when called outside any transform.

``linearize`` (JVP + partial evaluation + transpose) re-derives every primitive's
linear map on every call, through several nested traces.  Eagerly that is pure
overhead: the values are concrete, so we can run the function once on NumPy while a
``TapeTrace`` records, for each primitive application that touches a differentiated
value, its residuals and the (cached) program of its VJP; the pullback walks the tape
backwards.  Python control flow on values stays correct: each call records the
operations it actually ran (autograd's design).

The VJP of a primitive is not written by hand: it is derived once per
(primitive, params, input avals, which inputs carry tangents) from the primitive's own
``jvp`` and ``transpose`` rules, by staging them symbolically (``vjp_rules.py``):

* a *forward* program: primal inputs -> (outputs, residuals) (the JVP rule's known part);
* a *backward* program: (residuals, output cotangents) -> input cotangents (the
  transposed linear part).

Both are compiled to straight-line Python functions of NumPy arrays calling the
primitives' ``impl``s (shapes were checked when they were staged).  ``lepton.numpy``'s
eager ufunc path hands a call on tape values to ``TapeTrace.eager_ufunc``, which stages
the whole NumPy-level function (promotion, broadcasting, primitive) as one such rule.
Primitives whose rules cannot be staged (a rule that looks at values, higher-order
primitives with a ``partial_eval`` rule, custom_jvp/custom_vjp functions, effectful
ones) are linearized per application with the general machinery (``StagingTrace`` +
``JVPTrace``) and their linear jaxpr is transposed by ``backward_pass``: slower, same
answers.

Deviation from the linearize path (and as JAX): a gradient has its primal's aval, so
``grad(f)(1.0)`` is weakly typed.

A pullback called under a transform (``vmap`` in ``jacrev``, ``jit``) or with traced
cotangents evaluates the same programs with ``bind`` instead of NumPy.
"""
from __future__ import annotations

import numpy as np

from .. import config as _config, dtypes, tree
from ..core import (Array, ShapedArray, Trace, Tracer, concrete, new_array, set_trace,
                    trace_context as _ctx)
from ..ir import effectful
from ..primitives.base import Zero, add_tangents, instantiate, tangent_aval
from .jvp import JVPTrace, JVPTracer
from .staging import StagingTrace
from .transpose import backward_pass
from .vjp_rules import derive, fun_jvp, prim_jvp, quiet_run

_CACHE_LIMIT = 4096
_rules: dict = {}
_GENERIC = object()  # cache value: this application is linearized in full each time


class TapeTracer(Tracer):
    """A differentiated value during an eager ``vjp``: its concrete primal and its tape id."""

    __slots__ = ("primal", "node", "aval")

    def __init__(self, trace, primal, node, aval):
        self._trace = trace
        self.primal = primal
        self.node = node
        self.aval = aval


_PY_SCALARS = (bool, int, float, complex)
_UFUNCS = None
_UTIL = None  # lepton.numpy.util, imported on first use (it is imported after us)
_UFUNC_NAMES = ("exp expm1 log log1p sqrt cbrt sin cos tan arcsin arccos arctan sinh cosh tanh "
                "arcsinh arccosh arctanh negative add subtract multiply true_divide maximum "
                "minimum matmul equal not_equal less less_equal greater greater_equal").split()


def _numpy_util():
    global _UTIL
    if _UTIL is None:
        from ..numpy import util
        _UTIL = util
    return _UTIL


def _ufunc_table():
    """NumPy ufunc -> the lepton.numpy function that ``_eager`` serves it for."""
    global _UFUNCS
    from .. import numpy as lnp
    table = {}
    for name in _UFUNC_NAMES:
        f, g = getattr(np, name, None), getattr(lnp, name, None)
        if f is not None and g is not None:
            table[f] = g
    _UFUNCS = table
    return table


# ----------------------------------------------------------------------------- the trace
class TapeTrace(Trace):
    """Records differentiated primitive applications while evaluating them eagerly."""

    __slots__ = ("tape", "count")

    def __init__(self, parent):
        super().__init__(parent)
        self.tape = []
        self.count = 0

    def __repr__(self):
        return "vjp"

    def unpack(self, x):
        """(primal, tape id or None) of a value seen by this trace."""
        if type(x) is TapeTracer and x._trace is self:
            return x.primal, x.node
        return x, None

    def process(self, prim, args, params):
        own = tuple([type(a) is TapeTracer and a._trace is self for a in args])
        if True not in own:
            return self.delegate(prim, args, params)
        vals, kav, ps = [], [], []
        for a, o in zip(args, own):
            p = a.primal if o else a if type(a) is Array else concrete(a)
            ps.append(p)
            v = p._value
            vals.append(v)
            kav.append((v.shape, v.dtype, p._weak))
        try:
            # parameter types too: 1 == 1.0 == True, but a rule staged for one need not
            # suit the others
            key = (prim, tuple(params.items()), tuple(map(type, params.values())), tuple(kav),
                   own, _config.x64)
            rule = _rules.get(key)
        except TypeError:  # an unhashable parameter
            key, rule = None, _GENERIC
        if rule is None:
            rule = self._new_rule(key, prim, ps, own, params)
        if rule is _GENERIC:
            return self._generic(prim, args, own, params)
        return self._apply(rule, vals, args, prim.multiple_results)

    def _apply(self, rule, vals, args, multi):
        """Run ``rule``'s forward program on NumPy ``vals``; record it on the tape."""
        vals = rule.fwd.run(vals)
        if not multi:
            aval = rule.out_avals[0]
            out = new_array(vals[0], aval.weak_type)
            out._aval = aval
            if not rule.nz_out[0]:
                return out
            out = TapeTracer(self, out, self.count, aval)
            self.count += 1
            if rule.ct_pos:
                del vals[0]
                self.tape.append((rule, vals, out.node,  # one output: its id, no tuple
                                  [args[k].node for k in rule.ct_pos]))
            return out
        outs, out_ids = [], []
        for v, aval, nz in zip(vals, rule.out_avals, rule.nz_out):
            o = new_array(v, aval.weak_type)
            o._aval = aval
            if nz:
                o = TapeTracer(self, o, self.count, aval)
                self.count += 1
                out_ids.append(o.node)
            outs.append(o)
        if out_ids and rule.ct_pos:
            self.tape.append((rule, vals[len(outs):], tuple(out_ids),
                              tuple([args[k].node for k in rule.ct_pos])))
        return outs

    def eager_ufunc(self, np_fn, args, inexact):
        """``lepton.numpy``'s hook for a ufunc call under this trace: the whole NumPy-level
        function (promotion, broadcasting, primitive) as one staged rule, or None to take
        the ordinary path.  Python scalars become weak 0-d inputs of the promoted dtype,
        converted as the eager path converts them, so one rule serves every value."""
        fn = _UFUNCS.get(np_fn) if _UFUNCS is not None else _ufunc_table().get(np_fn)
        if fn is None:
            return None
        own, vals, kav = [], [], []
        scalar = -1
        for k, a in enumerate(args):
            t = type(a)
            if t is TapeTracer and a._trace is self:
                p = a.primal
                own.append(True)
            elif t is Array:
                p = a
                own.append(False)
            elif t in _PY_SCALARS and scalar < 0 and len(args) == 2:
                scalar = k
                own.append(False)
                vals.append(None)
                kav.append(None)
                continue
            else:
                return None
            v = p._value
            vals.append(v)
            kav.append((v.shape, v.dtype, p._weak))
        if True not in own:
            return None
        if scalar >= 0:
            util = _numpy_util()
            _, od, ow = kav[1 - scalar]
            sd = util.scalar_dtypes()[type(args[scalar])]
            dt, weak = util.promoted_dtype(od, ow, sd, True, inexact)
            if util.promoted_dtype(od, ow, dt, True, inexact) != (dt, weak):
                return None
            try:
                vals[scalar] = util.cast_operand(args[scalar], dt)
            except (ValueError, OverflowError):
                return None
            kav[scalar] = ((), dt, True)
        own = tuple(own)
        key = (fn, tuple(kav), own, _config.x64)
        rule = _rules.get(key)
        if rule is None:
            try:
                rule = derive(fun_jvp(fn), [ShapedArray(*k) for k in kav], own, self.parent)
            except Exception:  # the ordinary path raises the user's error, if any
                rule = _GENERIC
            if len(_rules) >= _CACHE_LIMIT:
                _rules.clear()
            _rules[key] = rule
        if rule is _GENERIC:
            return None
        return self._apply(rule, vals, args, False)

    def _new_rule(self, key, prim, primals, own, params):
        rule = _GENERIC
        if prim.jvp is not None and prim.partial_eval is None and not effectful(prim, params):
            avals = [p.aval for p in primals]
            try:
                rule = derive(prim_jvp(prim, params), avals, own, self.parent)
            except Exception:  # a rule that needs values, or no transpose: per call
                rule = _GENERIC
        if key is not None:
            if len(_rules) >= _CACHE_LIMIT:
                _rules.clear()
            _rules[key] = rule
        return rule

    def _generic(self, prim, args, own, params):
        if prim.jvp is None:
            raise NotImplementedError(f"differentiation rule for '{prim.name}' not implemented")
        ids = [a.node if o else None for a, o in zip(args, own)]
        primals = self._primals(args, ids)

        def call(jt, ins):
            out = jt.process(prim, ins, params)
            return out if prim.multiple_results else [out]

        outs = self._linearize_call(call, primals, ids)
        return outs if prim.multiple_results else outs[0]

    def process_custom_jvp(self, fun, rule, args):
        ids = self._ids(args)
        if ids is None:
            with set_trace(self.parent):
                return self.parent.process_custom_jvp(fun, rule, args)
        return self._linearize_call(lambda jt, ins: list(jt.process_custom_jvp(fun, rule, ins)),
                                    self._primals(args, ids), ids)

    def process_custom_vjp(self, fun, fwd, bwd, args):
        ids = self._ids(args)
        if ids is None:
            with set_trace(self.parent):
                return self.parent.process_custom_vjp(fun, fwd, bwd, args)
        return self._linearize_call(
            lambda jt, ins: list(jt.process_custom_vjp(fun, fwd, bwd, ins)),
            self._primals(args, ids), ids)

    def _ids(self, args):
        ids = [a.node if type(a) is TapeTracer and a._trace is self else None for a in args]
        return ids if any(i is not None for i in ids) else None

    @staticmethod
    def _primals(args, ids):
        return [concrete(a) if i is None else a.primal for a, i in zip(args, ids)]

    def _linearize_call(self, call, primals, ids):
        """Run ``call(jvp_trace, ins)`` with staged tangents for the differentiated inputs
        and record the linear jaxpr of this one application on the tape."""
        lin = StagingTrace(self.parent, stage_all=False, name="tape.linearize")
        jt = JVPTrace(lin)
        ins, in_ids = [], []
        for p, i in zip(primals, ids):
            if i is not None:
                ins.append(JVPTracer(jt, p, lin.new_arg(tangent_aval(p.aval))))
                in_ids.append(i)
            else:
                ins.append(p)
        try:
            with set_trace(jt):
                outs = call(jt, ins)
        finally:
            jt.alive = False
        res, ts, out_ids = [], [], []
        for o in outs:
            p, t = jt.unpack(o)
            p = p if type(p) is Array else concrete(p)
            if type(t) is Zero:
                res.append(p)
            else:
                tr = TapeTracer(self, p, self.count, p.aval)
                self.count += 1
                res.append(tr)
                ts.append(t)
                out_ids.append(tr.node)
        closed = lin.to_jaxpr(ts)
        lin.alive = False
        if out_ids:
            self.tape.append((None, closed, tuple(out_ids), tuple(in_ids)))
        return res


# ----------------------------------------------------------------------------- vjp
#: Off: eager ``vjp``/``grad`` linearize as under a transform (for benchmarks and checks).
ENABLED = True


def usable(primals):
    """Whether ``vjp`` of a function at ``primals`` can run on the tape: no transform is
    active and every primal is a concrete array."""
    return ENABLED and _ctx.trace.parent is None and all(type(p) is Array for p in primals)


def vjp_flat(fun, primals, store=None):
    """``(outputs, pullback)`` as ``autodiff.vjp_flat``, by recording a tape."""
    prev = _ctx.trace
    trace = TapeTrace(prev)
    ins, in_ids = [], []
    for k, p in enumerate(primals):
        if p._value.dtype.kind in "fc" or dtypes.is_inexact(p.dtype):
            ins.append(TapeTracer(trace, p, k, p.aval))
            in_ids.append(k)
        else:
            ins.append(p)
            in_ids.append(None)
    trace.count = len(primals)
    _ctx.trace = trace
    try:
        outs = fun(*ins)
    finally:
        _ctx.trace = prev
        trace.alive = False
    if store is not None and "aux" in store:
        store["aux"] = tree.map(lambda x: trace.unpack(x)[0] if isinstance(x, Tracer) else x,
                                store["aux"])
    out_primals, out_ids = [], []
    for o in outs:
        if type(o) is TapeTracer and o._trace is trace:
            out_primals.append(o.primal)
            out_ids.append(o.node)
        else:
            out_primals.append(o)
            out_ids.append(None)
    tape, size = trace.tape, trace.count

    def pullback(cts):
        return _backward(tape, size, primals, in_ids, out_primals, out_ids, cts)

    return out_primals, pullback


def _backward(tape, size, primals, in_ids, outs, out_ids, cts):
    """Cotangents of ``primals`` (``Zero`` where none flows) from those of ``outs``."""
    fast = _ctx.trace.parent is None
    if fast:
        for c, o in zip(cts, outs):
            if not (c is None or type(c) is Zero or
                    (type(c) is Array and c._value.dtype == o.dtype)):
                fast = False
                break
    env = [None] * size
    if fast:
        for i, c in zip(out_ids, cts):
            if i is not None and c is not None and type(c) is not Zero:
                env[i] = _add_np(env[i], c._value)
        if tape:
            quiet_run(lambda env: _walk_np(tape, env), env)
        return [Zero(tangent_aval(p.aval)) if i is None or env[i] is None else
                new_array(env[i], p._weak) for i, p in zip(in_ids, primals)]
    for i, c in zip(out_ids, cts):
        if i is not None and c is not None and type(c) is not Zero:
            env[i] = c if env[i] is None else add_tangents(env[i], c)
    _walk(tape, env)
    return [Zero(tangent_aval(p.aval)) if i is None or env[i] is None else env[i]
            for i, p in zip(in_ids, primals)]


def _add_np(a, b):
    if a is None:
        return b
    s = a + b
    return s if type(s) is np.ndarray else np.asarray(s)


def _walk_np(tape, env):
    """The backward pass on NumPy cotangents (root trace, concrete values), run with
    NumPy's floating-point warnings off as every elementwise primitive runs."""
    ndarray = np.ndarray
    for rule, res, out_ids, in_ids in reversed(tape):
        if out_ids.__class__ is int:  # the common case: one output, a staged rule
            c = env[out_ids]
            if c is None:
                continue
            env[out_ids] = None
            # residuals + cotangent in a new list (a pullback may run in several threads)
            for i, g in zip(in_ids, rule.bwd._run(res + [c])):
                cur = env[i]
                if cur is None:
                    env[i] = g
                else:
                    cur = cur + g
                    env[i] = cur if cur.__class__ is ndarray else np.asarray(cur)
            continue
        cs = [env[i] for i in out_ids]
        if all(c is None for c in cs):
            continue
        for i in out_ids:
            env[i] = None
        if rule is None:  # a generically linearized application
            avals = res.jaxpr.out_avals
            got = backward_pass(res.jaxpr, res.consts,
                                [Zero(a) if c is None else new_array(c, a.weak_type)
                                 for c, a in zip(cs, avals)])
            for i, g in zip(in_ids, got):
                if type(g) is not Zero:
                    env[i] = _add_np(env[i], g._value if type(g) is Array else
                                     concrete(g)._value)
            continue
        if any(c is None for c in cs):
            avals = rule.bwd.closed.jaxpr.invars[len(res):]
            cs = [np.zeros(v.aval.shape, v.aval.dtype) if c is None else c
                  for c, v in zip(cs, avals)]
        for i, g in zip(in_ids, rule.bwd._run(res + cs)):
            env[i] = _add_np(env[i], g)


def _walk(tape, env):
    """The backward pass under the current trace (cotangents may be tracers)."""
    for rule, res, out_ids, in_ids in reversed(tape):
        if out_ids.__class__ is int:
            out_ids = (out_ids,)
        cs = [env[i] for i in out_ids]
        if all(c is None for c in cs):
            continue
        for i in out_ids:
            env[i] = None
        if rule is None:
            avals = res.jaxpr.out_avals
            got = backward_pass(res.jaxpr, res.consts,
                                [Zero(a) if c is None else c for c, a in zip(cs, avals)])
        else:
            bj = rule.bwd.closed.jaxpr
            res_v = [new_array(r, v.aval.weak_type) for r, v in zip(res, bj.invars)]
            cs = [instantiate(Zero(v.aval)) if c is None else c
                  for c, v in zip(cs, bj.invars[len(res):])]
            got = rule.bwd.bind(res_v + cs)
        for i, g in zip(in_ids, got):
            if type(g) is not Zero:
                env[i] = g if env[i] is None else add_tangents(env[i], g)
