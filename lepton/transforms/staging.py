"""Staging: record primitive applications into a Jaxpr.

One trace class serves two policies:

* ``stage_all=True`` (``make_jaxpr``, ``jit``, control-flow bodies): every primitive
  applied while this trace is current is recorded; values from outside (concrete
  arrays or tracers of outer traces) become constvars.
* ``stage_all=False`` (partial evaluation, used by ``linearize``): only applications
  that touch one of this trace's tracers are recorded; everything else is evaluated
  right away by the parent trace.  The recorded program is the *unknown* part; the
  known values it reads become constvars (the residuals).  With ``effects_unknown``,
  effectful applications (``ir.effectful``: debug callbacks) are recorded too, even on
  known values: a loop's invariant part is hoisted out of it, but its prints are not.
"""
from __future__ import annotations

from ..core import Array, ShapedArray, Trace, Tracer, get_aval
from ..ir import ClosedJaxpr, Eqn, Jaxpr, Literal, Var, effectful


class StagingTracer(Tracer):
    __slots__ = ("aval", "var")

    def __init__(self, trace, aval: ShapedArray, var: Var):
        self._trace = trace
        self.aval = aval
        self.var = var


class StagingTrace(Trace):
    __slots__ = ("stage_all", "eqns", "invars", "const_vars", "const_vals", "name",
                 "effects_unknown")

    def __init__(self, parent: Trace, stage_all: bool, name: str = "staging",
                 effects_unknown: bool = False):
        super().__init__(parent)
        self.stage_all = stage_all
        self.effects_unknown = effects_unknown
        self.name = name
        self.eqns: list[Eqn] = []
        self.invars: list[Var] = []
        self.const_vars: dict[int, tuple] = {}  # id -> (the value itself, its Var)
        self.const_vals: list = []

    def __repr__(self):
        return self.name

    def new_arg(self, aval: ShapedArray) -> StagingTracer:
        v = Var(aval)
        self.invars.append(v)
        return StagingTracer(self, aval, v)

    def var_of(self, x):
        """The Var for a value: own tracers map to their var, others become constvars."""
        if type(x) is StagingTracer and x._trace is self:
            return x.var
        if type(x) is Array and x.aval.ndim == 0:
            return Literal(x, x.aval)
        # Keyed by id, so the entry holds the value itself: a temporary (a NumPy array
        # that ``concrete`` copies) freed meanwhile would leave its id to the next one,
        # which then read the first one's constant.
        key = id(x)
        hit = self.const_vars.get(key)
        if hit is not None:
            return hit[1]
        v = Var(get_aval(x))
        self.const_vars[key] = (x, v)
        if not isinstance(x, (Array, Tracer)):
            from ..core import concrete
            x = concrete(x)
        self.const_vals.append(x)
        return v

    def process(self, prim, args, params):
        if not self.stage_all:
            if not any(type(a) is StagingTracer and a._trace is self for a in args):
                if self.effects_unknown and effectful(prim, params):
                    return self.stage(prim, args, params)
                return self.delegate(prim, args, params)
            if prim.partial_eval is not None:  # higher-order: split known from unknown work
                return prim.partial_eval(self, args, params)
        return self.stage(prim, args, params)

    def stage(self, prim, args, params):
        """Record ``prim`` applied to ``args`` as an equation; returns its output tracer(s)."""
        invars = [self.var_of(a) for a in args]
        out_avals = prim.abstract_eval(*(v.aval for v in invars), **params)
        if prim.multiple_results:
            outs = [StagingTracer(self, a, Var(a)) for a in out_avals]
            self.eqns.append(Eqn(prim, invars, [t.var for t in outs], params))
            return outs
        out = StagingTracer(self, out_avals, Var(out_avals))
        self.eqns.append(Eqn(prim, invars, [out.var], params))
        return out

    def to_jaxpr(self, outs) -> ClosedJaxpr:
        """Close the recording over ``outs``; constvars come first, in capture order."""
        outvars = [self.var_of(o) for o in outs]
        # Keep the const list aligned with its vars (var_of may add consts for outputs).
        constvars = [v for _, v in self.const_vars.values()]
        jaxpr = Jaxpr(constvars, self.invars, outvars, self.eqns)
        return ClosedJaxpr(jaxpr, list(self.const_vals))
