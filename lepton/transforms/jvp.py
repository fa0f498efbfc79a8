"""Forward mode: the JVP trace carries (primal, tangent) pairs through primitives' jvp rules.

Tangents may be symbolic ``Zero``s, so integer inputs and constants never
materialise zero arrays.  Arguments that are not this trace's tracers are
constants here (zero tangent), which is what keeps nested differentiation free
of perturbation confusion.
"""
from __future__ import annotations

from ..core import Trace, Tracer, get_aval, set_trace
from ..primitives.base import Zero, tangent_aval


class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self):
        return self.primal.aval


class JVPTrace(Trace):
    __slots__ = ()

    def __repr__(self):
        return "JVPTrace"

    def process(self, prim, args, params):
        primals, tangents, own = [], [], False
        for a in args:
            if type(a) is JVPTracer and a._trace is self:
                primals.append(a.primal)
                tangents.append(a.tangent)
                own = own or type(a.tangent) is not Zero
            else:
                primals.append(a)
                tangents.append(None)
        if not own:
            return self.delegate(prim, primals, params)
        tangents = [Zero(tangent_aval(get_aval(p))) if t is None else t
                    for p, t in zip(primals, tangents)]
        if prim.jvp is None:
            raise NotImplementedError(f"differentiation rule for '{prim.name}' not implemented")
        with set_trace(self.parent):
            out, out_t = prim.jvp(primals, tangents, **params)
        if prim.multiple_results:
            return [self.wrap(o, t) for o, t in zip(out, out_t)]
        return self.wrap(out, out_t)

    def wrap(self, primal, tangent):
        if type(tangent) is Zero:
            return primal
        return JVPTracer(self, primal, tangent)

    def unpack(self, x):
        """(primal, tangent) of an output; non-own outputs have a zero tangent."""
        if type(x) is JVPTracer and x._trace is self:
            return x.primal, x.tangent
        return x, Zero(tangent_aval(get_aval(x)))
