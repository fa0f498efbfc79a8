"""Staged VJP rules of single primitive applications, compiled for eager evaluation.

``derive`` stages a JVP (a primitive's rule, or a NumPy-level function's) at given avals
into a ``Rule``: a *forward* program (primal inputs -> outputs and residuals: the JVP's
known part) and a *backward* program (residuals and output cotangents -> input
cotangents: the linear part, transposed by ``backward_pass``).  A ``Program`` compiles a
closed jaxpr into a straight-line Python function calling the primitives' NumPy
``impl``s: shapes were checked when it was staged, so nothing is re-checked per call.
The eager tape (``tape.py``) runs these; under a transform they run through ``bind``.
"""
from __future__ import annotations

import math

import numpy as np

from ..core import Array, concrete, set_trace
from ..ir import Literal, effectful, eval_jaxpr
from ..primitives.base import Zero, tangent_aval
from .._quiet import restore, silence
from .jvp import JVPTrace, JVPTracer
from .staging import StagingTrace
from .transpose import backward_pass


def quiet_run(fn, args):
    """``fn(args)`` without NumPy floating-point warnings (one switch per program)."""
    token = silence()
    try:
        return fn(args)
    finally:
        restore(token)


def _unquiet(impl):
    """The NumPy function inside an elementwise primitive's ``_quiet`` impl wrapper (which
    enters ``np.errstate`` on every call); a program with such steps enters it once."""
    code = getattr(impl, "__code__", None)
    if code is not None and code.co_name == "impl" and code.co_freevars == ("fn",) and \
            code.co_qualname.startswith("_quiet."):
        return impl.__closure__[0].cell_contents
    return impl


_SMALL_PRODUCT = 1 << 16  # multiply-adds (~10 us): below, two thread switches cost more


def _blas_policy(impl, eqn):
    """A product runs with the BLAS thread count that compiled programs use
    (``backends.cpu.blas_threads``): one thread, and every thread for a large product on an
    idle machine (while other processes keep the cores busy, a multi-threaded OpenBLAS
    product waits for descheduled threads: 10x slower on a loaded 2-core machine).  The
    caller's count is restored after the product; tiny products are left alone."""
    try:
        from ..backends.cpu import blas_threads as bt
        controls = None if bt.fixed_threads() is not None else bt.blas_controls()
        x = eqn.invars[0].aval
        k = math.prod(x.shape[i] for i in eqn.params["dimension_numbers"][0][0])
        size = eqn.outvars[0].aval.size * k
        if controls is None or size < _SMALL_PRODUCT:  # switching would cost more
            return impl
        wide = bt.wide_threads if size >= bt.BIG else lambda: 1
    except (ImportError, AttributeError, KeyError, IndexError, TypeError):
        return impl
    set_threads, get_threads = controls[0], controls[1]

    def product(*args, **params):
        n, prev = wide(), get_threads()
        if n == prev:
            return impl(*args, **params)
        set_threads(n)
        try:
            return impl(*args, **params)
        finally:
            set_threads(prev)
    return product


def _ufunc_impl(prim):
    f = _unquiet(prim.impl)
    return f if isinstance(f, np.ufunc) else None


def _scalar_broadcasts(jaxpr):
    """Equations broadcasting a 0-d value that need not run: every reader is a NumPy
    ufunc step (which broadcasts by itself) with another operand of the full shape, and
    the broadcast array is not an output of the program."""
    readers = {}
    for eqn in jaxpr.eqns:
        for v in eqn.invars:
            if type(v) is not Literal:
                readers.setdefault(v, []).append(eqn)
    outs = {v for v in jaxpr.outvars if type(v) is not Literal}
    cands = {eqn.outvars[0]: eqn for eqn in jaxpr.eqns
             if eqn.prim.name == "broadcast_in_dim" and eqn.invars[0].aval.shape == ()}
    skip = set()
    for v, eqn in cands.items():
        if v in outs or v not in readers:
            continue
        if all(_ufunc_impl(r.prim) is not None and not r.prim.multiple_results and
               r.outvars[0].aval.shape == v.aval.shape and
               any(type(u) is not Literal and u not in cands and u.aval.shape == v.aval.shape
                   for u in r.invars)
               for r in readers[v]):
            skip.add(eqn)
    return skip


class Program:
    """A closed jaxpr compiled to a straight-line Python function of NumPy arrays.

    Avals were checked when the jaxpr was staged, so running it skips ``abstract_eval``;
    results are cast to the staged dtypes as ``EvalTrace`` does.  Equations that read only
    constants (e.g. the ``1`` of ``1 - tanh(x)**2``) are evaluated once, here.  Elementwise
    steps call their NumPy function directly: the program switches NumPy's floating-point
    warnings off once around the call instead of once per step."""

    __slots__ = ("closed", "quiet", "_run")

    def __init__(self, closed):
        self.closed = closed
        jaxpr = closed.jaxpr
        ns = {"ndarray": np.ndarray, "asarray": np.asarray}
        consts, name = {}, {}

        def const(value):
            n = f"c{len(consts)}"
            consts[n] = ns[n] = value
            return n

        for v, c in zip(jaxpr.constvars, closed.consts):
            if type(c) is not Array:
                raise TypeError("a constant of the staged rule is not concrete")
            name[v] = const(c._value)

        def ref(v):
            return const(concrete(v.value)._value) if type(v) is Literal else name[v]

        ins = [f"a{i}" for i in range(len(jaxpr.invars))]
        name.update(zip(jaxpr.invars, ins))
        scalar_ok = _scalar_broadcasts(jaxpr)
        lines = ["def run(args):"] + ([f"    {', '.join(ins)}, = args"] if ins else [])
        quiet, k = False, 0
        for j, eqn in enumerate(jaxpr.eqns):
            prim = eqn.prim
            if prim.impl is None:
                raise TypeError(f"{prim} has no impl")
            args = [ref(v) for v in eqn.invars]
            impl, params = _unquiet(prim.impl), eqn.params
            unquieted = impl is not prim.impl
            if unquieted:  # the wrapper drops the parameters
                params = {}
            elif prim.name == "dot_general":
                impl = _blas_policy(impl, eqn)
            dts = [v.aval.dtype for v in eqn.outvars]
            if prim.name == "convert_element_type" and eqn.invars[0].aval.dtype == dts[0] \
                    or eqn in scalar_ok:
                # a weak-type change only, or a 0-d value that its ufunc consumers broadcast
                name[eqn.outvars[0]] = args[0]
                continue
            if all(a in consts for a in args) and not effectful(prim, eqn.params):
                vals = [consts[a] for a in args]
                r = quiet_run(lambda vs: impl(*vs, **params), vals)
                for v, o, d in zip(eqn.outvars, r if prim.multiple_results else [r], dts):
                    if type(o) is not np.ndarray or o.dtype != d:
                        o = np.asarray(o, d)
                    o.setflags(write=False)  # shared by every run of this rule
                    name[v] = const(o)
                continue
            quiet = quiet or unquieted
            ns[f"f{j}"], ns[f"p{j}"] = impl, params
            call = f"f{j}({', '.join(args)}{f', **p{j}' if params else ''})"
            outs = [f"t{k + i}" for i in range(len(eqn.outvars))]
            k += len(outs)
            lines.append(f"    {', '.join(outs)}, = {call}" if prim.multiple_results else
                         f"    {outs[0]} = {call}")
            for i, o in enumerate(outs):
                ns[f"d{j}_{i}"] = dts[i]
                lines.append(f"    if {o}.__class__ is not ndarray or {o}.dtype != d{j}_{i}:")
                lines.append(f"        {o} = asarray({o}, d{j}_{i})")
            name.update(zip(eqn.outvars, outs))
        lines.append(f"    return [{', '.join(ref(v) for v in jaxpr.outvars)}]")
        exec("\n".join(lines), ns)  # noqa: S102 - source built above from variable names
        self._run = ns["run"]
        self.quiet = quiet

    def run(self, args):
        """Outputs as NumPy arrays, from NumPy inputs (eager, no checks)."""
        return quiet_run(self._run, args) if self.quiet else self._run(args)

    def bind(self, args):
        """Outputs under the current trace (any lepton values in, lepton values out)."""
        return eval_jaxpr(self.closed.jaxpr, self.closed.consts, *args)


class Rule:
    """The staged VJP of one primitive application signature (see the module doc)."""

    __slots__ = ("fwd", "bwd", "nz_out", "ct_pos", "out_avals")

    def __init__(self, fwd, bwd, nz_out, ct_pos):
        self.fwd = fwd          # primal inputs -> outputs + residuals
        self.bwd = bwd          # residuals + cotangents of nz outputs -> nonzero input cts
        self.nz_out = nz_out    # which outputs carry a tangent
        self.ct_pos = ct_pos    # positions of the inputs that get a nonzero cotangent
        self.out_avals = tuple(v.aval for v in fwd.closed.jaxpr.outvars[:len(nz_out)])


def prim_jvp(prim, params):
    def jvp(lin, primals, tangents):
        out, out_t = prim.jvp(primals, tangents, **params)
        if prim.multiple_results:
            return list(out), list(out_t)
        return [out], [out_t]
    return jvp


def fun_jvp(fn):
    """The JVP of a NumPy-level function (a ufunc with its promotion and broadcasting)."""
    def jvp(lin, primals, tangents):
        jt = JVPTrace(lin)
        ins = [p if type(t) is Zero else JVPTracer(jt, p, t) for p, t in zip(primals, tangents)]
        try:
            with set_trace(jt):
                out = fn(*ins)
        finally:
            jt.alive = False
        p, t = jt.unpack(out)
        return [p], [t]
    return jvp


def derive(jvp, avals, own, root):
    """Stage ``jvp`` at ``avals`` into a ``Rule`` (raises if it cannot be staged)."""
    known = StagingTrace(root, stage_all=True, name="tape.forward")
    lin = StagingTrace(known, stage_all=False, name="tape.linear")
    try:
        primals = [known.new_arg(a) for a in avals]
        tangents = [lin.new_arg(tangent_aval(a)) if o else Zero(tangent_aval(a))
                    for a, o in zip(avals, own)]
        with set_trace(lin):
            outs, out_ts = jvp(lin, primals, tangents)
        nz_out = tuple(type(t) is not Zero for t in out_ts)
        lin_closed = lin.to_jaxpr([t for t, nz in zip(out_ts, nz_out) if nz])
        lin.alive = False
        res = lin_closed.consts
        with set_trace(known):
            fwd = known.to_jaxpr(outs + res)
    finally:
        lin.alive = False
        known.alive = False
    back = StagingTrace(root, stage_all=True, name="tape.backward")
    try:
        res_args = [back.new_arg(v.aval) for v in lin_closed.jaxpr.constvars]
        ct_args = [back.new_arg(tangent_aval(o.aval))
                   for o, nz in zip(outs, nz_out) if nz]
        with set_trace(back):
            cts = backward_pass(lin_closed.jaxpr, res_args, ct_args) if ct_args else \
                [Zero(v.aval) for v in lin_closed.jaxpr.invars]
        own_pos = [k for k, o in enumerate(own) if o]
        ct_pos = tuple(k for k, c in zip(own_pos, cts) if type(c) is not Zero)
        with set_trace(back):
            bwd = back.to_jaxpr([c for c in cts if type(c) is not Zero])
    finally:
        back.alive = False
    return Rule(Program(fwd), Program(bwd), nz_out, ct_pos)
