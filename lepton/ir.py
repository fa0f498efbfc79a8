"""The IR: a Jaxpr is a straight-line program of primitive equations over typed variables.

Jaxprs are what staging produces (``make_jaxpr``, ``jit``, control-flow bodies,
the linear part of ``linearize``) and what backends compile.  ``eval_jaxpr``
interprets one by calling ``bind``, so evaluating a jaxpr under any trace applies
that trace's transform to it.
"""
from __future__ import annotations

import itertools

import numpy as np

from .core import ShapedArray

_counter = itertools.count()


class Var:
    """A variable of a jaxpr, typed by its aval.  Compared by identity."""

    __slots__ = ("aval", "id")

    def __init__(self, aval: ShapedArray):
        self.aval = aval
        self.id = next(_counter)

    def __repr__(self):
        return f"Var{self.id}:{self.aval.str_short()}"


class Literal:
    """A scalar constant (an ``Array``) written inline in a jaxpr."""

    __slots__ = ("value", "aval")

    def __init__(self, value, aval: ShapedArray):
        self.value = value
        self.aval = aval

    def __repr__(self):
        return repr(np.asarray(self.value).item()) if self.aval.ndim == 0 else "<array>"


class Eqn:
    __slots__ = ("prim", "invars", "outvars", "params")

    def __init__(self, prim, invars, outvars, params):
        self.prim = prim
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.params = params

    def __repr__(self):
        return pp_eqn(self, Namer())


class Jaxpr:
    """``constvars`` (closed-over values), ``invars``, ``eqns`` and ``outvars``."""

    __slots__ = ("constvars", "invars", "outvars", "eqns")

    def __init__(self, constvars, invars, outvars, eqns):
        self.constvars = list(constvars)
        self.invars = list(invars)
        self.outvars = list(outvars)
        self.eqns = list(eqns)

    in_avals = property(lambda self: [v.aval for v in self.invars])
    out_avals = property(lambda self: [v.aval for v in self.outvars])

    def __repr__(self):
        return pp_jaxpr(self)


class ClosedJaxpr:
    """A jaxpr together with the values of its constvars."""

    __slots__ = ("jaxpr", "consts")

    def __init__(self, jaxpr: Jaxpr, consts):
        self.jaxpr = jaxpr
        self.consts = list(consts)

    in_avals = property(lambda self: self.jaxpr.in_avals)
    out_avals = property(lambda self: self.jaxpr.out_avals)

    def __repr__(self):
        return pp_jaxpr(self.jaxpr)

    def __call__(self, *args):
        return eval_jaxpr(self.jaxpr, self.consts, *args)


def eval_jaxpr(jaxpr: Jaxpr, consts, *args):
    """Interpret ``jaxpr`` with ``bind`` under the current trace; returns the output list."""
    env = {}
    for v, x in zip(jaxpr.constvars, consts):
        env[v] = x
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"jaxpr takes {len(jaxpr.invars)} arguments, got {len(args)}")
    for v, x in zip(jaxpr.invars, args):
        env[v] = x

    def read(v):
        return v.value if type(v) is Literal else env[v]

    for eqn in jaxpr.eqns:
        outs = eqn.prim.bind(*map(read, eqn.invars), **eqn.params)
        if eqn.prim.multiple_results:
            for v, o in zip(eqn.outvars, outs):
                env[v] = o
        else:
            env[eqn.outvars[0]] = outs
    return [read(v) for v in jaxpr.outvars]


def has_effects(eqn: Eqn) -> bool:
    """Whether running ``eqn`` does more than compute its outputs: an effectful primitive
    (``prim.effectful``, e.g. a debug callback) or a sub-program (jit, loop, branch) that
    contains one.  Dead-code elimination keeps such equations."""
    return effectful(eqn.prim, eqn.params)


def effectful(prim, params) -> bool:
    """``has_effects`` for a primitive application not yet recorded as an equation."""
    if getattr(prim, "effectful", False):
        return True
    return any(has_effects(e) for j in sub_jaxprs(params) for e in j.eqns)


def sub_jaxprs(params):
    """The jaxprs among an equation's ``params`` (a loop's body, a branch, a jit's
    program), ``ClosedJaxpr``s opened, in tuples and lists too."""
    for p in params.values():
        for j in (p if type(p) in (tuple, list) else (p,)):
            j = j.jaxpr if isinstance(j, ClosedJaxpr) else j
            if isinstance(j, Jaxpr):
                yield j


def live_eqns(jaxpr: Jaxpr):
    """The equations some output depends on, plus effectful ones (``has_effects``) and
    what they read."""
    needed = {v for v in jaxpr.outvars if type(v) is Var}
    keep = []
    for e in reversed(jaxpr.eqns):
        if any(v in needed for v in e.outvars) or has_effects(e):
            keep.append(e)
            needed.update(v for v in e.invars if type(v) is Var)
    return keep[::-1]


def typecheck(jaxpr: Jaxpr):
    """Re-run every equation's shape rule and check it matches the recorded avals."""
    defined = set(jaxpr.constvars) | set(jaxpr.invars)
    for eqn in jaxpr.eqns:
        for v in eqn.invars:
            if type(v) is Var and v not in defined:
                raise TypeError(f"{eqn.prim} reads {v} before it is defined")
        out = eqn.prim.abstract_eval(*(v.aval for v in eqn.invars), **eqn.params)
        out = list(out) if eqn.prim.multiple_results else [out]
        got = [v.aval for v in eqn.outvars]
        if [a.strip_weak() for a in out] != [a.strip_weak() for a in got]:
            raise TypeError(f"{eqn.prim}: shape rule gives {out} but jaxpr records {got}")
        defined.update(eqn.outvars)
    for v in jaxpr.outvars:
        if type(v) is Var and v not in defined:
            raise TypeError(f"output {v} is never defined")


# ----------------------------------------------------------------------------- printing
class Namer:
    """Short names (a, b, ..., z, ba, ...) for the variables of one printed jaxpr, in order of
    first use; ``typed`` adds the aval (``a:f32[3]``)."""

    def __init__(self):
        self.names = {}

    def __call__(self, v):
        if type(v) is Literal:
            return repr(v)
        if v not in self.names:
            n = len(self.names)
            s = ""
            while True:
                s = chr(ord("a") + n % 26) + s
                n = n // 26 - 1
                if n < 0:
                    break
            self.names[v] = s
        return self.names[v]

    def typed(self, v):
        return f"{self(v)}:{v.aval.str_short()}"




def _pp_param(v):
    if isinstance(v, Jaxpr):
        return "{ " + pp_jaxpr(v).replace("\n", "\n    ") + " }"
    if isinstance(v, ClosedJaxpr):
        return _pp_param(v.jaxpr)
    if isinstance(v, np.dtype):
        return str(v)
    return repr(v)


def pp_eqn(eqn: Eqn, name) -> str:
    lhs = " ".join(name.typed(v) for v in eqn.outvars)
    params = " ".join(f"{k}={_pp_param(v)}" for k, v in sorted(eqn.params.items()))
    rhs = " ".join(name(v) for v in eqn.invars)
    head = f"{eqn.prim.name}[{params}]" if params else eqn.prim.name
    return f"{lhs + ' = ' if lhs else ''}{head} {rhs}".rstrip()


def pp_jaxpr(jaxpr: Jaxpr) -> str:
    name = Namer()
    consts = " ".join(name.typed(v) for v in jaxpr.constvars)
    ins = " ".join(name.typed(v) for v in jaxpr.invars)
    lines = [f"{{ lambda {consts}; {ins}. let"]
    lines += ["    " + pp_eqn(e, name) for e in jaxpr.eqns]
    outs = ", ".join(name(v) for v in jaxpr.outvars)
    lines.append(f"  in ({outs}{',' if len(jaxpr.outvars) == 1 else ''}) }}")
    return "\n".join(lines)
