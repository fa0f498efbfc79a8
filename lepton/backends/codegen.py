"""Render a fused group as the Python source of a Numba kernel.

Each primitive has a scalar expression template (``TEMPLATES``) over its operands'
expressions; a group becomes one loop nest whose body evaluates its equations in order
at each index, reads leaves by index arithmetic and writes its outputs.  Sizes are read
from the ``n`` argument at run time, never baked in, so one source (and one compiled
kernel) serves every shape of the same rank, dtypes and broadcasting pattern.
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import Literal
from .kernels_cpu import KERNEL_OPTIONS, PARALLEL_KERNEL_OPTIONS

_NUMBA_DTYPES = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float32, np.float64, np.complex64, np.complex128))


def ty(dtype) -> str:
    """The NumPy scalar constructor of ``dtype`` as source text."""
    return "np.bool_" if dtype == np.bool_ else f"np.{np.dtype(dtype).name}"


def const(value, dtype) -> str:
    """A typed constant: ``np.float32(0.5)`` (a bare float would make float32 code float64)."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return repr(bool(value))
    if dtype.kind in "iu":
        return f"{ty(dtype)}({int(value)})"
    if dtype.kind == "c":
        c = complex(value)
        return f"{ty(dtype)}(complex({_float(c.real)}, {_float(c.imag)}))"
    return f"{ty(dtype)}({_float(float(value))})"


def _float(x: float) -> str:
    if math.isnan(x):
        return "np.nan"
    if math.isinf(x):
        return "np.inf" if x > 0 else "-np.inf"
    return repr(x)


# ----------------------------------------------------------------------------- templates
# A template maker receives (input dtypes, output dtype, params) and returns a format
# string over the operands ({0}, {1}, ...) or None when these dtypes are not supported
# (the equation then runs as a host op).  Results are cast to the output dtype, which
# also gives integer arithmetic its wrap-around (Numba computes ints in 64 bits).

def _only(kinds, fmt):
    """``fmt`` for operands of these dtype kinds, else unsupported."""
    return lambda ins, out, p: fmt if ins[0].kind in kinds else None


def _by_kind(**fmts):
    """Per-dtype-kind formats: keys are kind letters ('f', 'iu', 'b', 'c')."""
    def make(ins, out, p):
        return next((fmt for kinds, fmt in fmts.items() if ins[0].kind in kinds), None)
    return make


def _bits(d):
    return d.itemsize * 8


# Constants in integer templates are typed (``const``): Numba unifies a bare int (int64)
# with a uint64 operand as float64, which rounds values beyond 2**53.
def _shift_left(ins, out, p):
    d = ins[0]
    return f"({const(0, d)} if ({{1}} < 0 or {{1}} >= {_bits(d)}) else ({{0}} << {{1}}))"


def _shift_right_arithmetic(ins, out, p):
    d = ins[0]
    if d.kind == "u":
        return _shift_right_logical(ins, out, p)
    fill = f"({const(-1, d)} if {{0}} < 0 else {const(0, d)})"
    return f"({fill} if ({{1}} < 0 or {{1}} >= {_bits(d)}) else ({{0}} >> {{1}}))"


def _shift_right_logical(ins, out, p):
    d = ins[0]
    bad = f"({{1}} < 0 or {{1}} >= {_bits(d)})"
    if d.kind == "u":
        return f"({const(0, d)} if {bad} else ({{0}} >> {{1}}))"
    if d.itemsize < 8:  # the unsigned view of a sign-extended value, shifted in 64 bits
        return f"(0 if {bad} else (({{0}} & {(1 << _bits(d)) - 1}) >> {{1}}))"
    return f"(0 if {bad} else np.int64(np.uint64({{0}}) >> np.uint64({{1}})))"


def _sign(ins, out, p):
    """NumPy's sign: -1, 0 or 1; sign(-0.0) is +0.0 and sign(nan) is nan."""
    d = ins[0]
    if d.kind == "u":
        return f"({const(1, d)} if {{0}} != 0 else {const(0, d)})"
    if d.kind == "i":
        return f"({const(1, d)} if {{0}} > 0 else ({const(-1, d)} if {{0}} < 0 else {const(0, d)}))"
    if d.kind == "f":
        return (f"({const(1, d)} if {{0}} > 0 else ({const(-1, d)} if {{0}} < 0 else "
                f"({{0}} if {{0}} != {{0}} else {const(0, d)})))")
    return None


def _integer_pow(ins, out, p):
    y, d = p["y"], ins[0]
    if d.kind == "c" or (y < 0 and d.kind != "f"):
        return None
    one = const(1, d)
    pos = (one if y == 0 else " * ".join(["{0}"] * abs(y)) if abs(y) <= 4
           else f"{{0}} ** {const(abs(y), d)}")  # typed: uint64 ** int64 is float64
    return f"({pos})" if y >= 0 else f"({one} / ({pos}))"


def _convert(ins, out, p):
    src, dst = ins[0], p["new_dtype"]
    if dst not in _NUMBA_DTYPES:
        return None
    if dst == np.bool_:
        return "({0} != 0)"
    x = "{0}.real" if src.kind == "c" and dst.kind != "c" else "{0}"
    if src.kind in "fc" and (dst.kind == "u" or dst.itemsize < 4):
        # Through int64, then wrapped, as NumPy does (-1.5 -> 255 for uint8, 300.7 -> 44
        # for int8): LLVM's direct conversion of a float outside the target's range is
        # undefined (it saturated in vectorised loops).  uint64 takes 2**63 and up directly.
        if dst.itemsize < 8:
            return f"np.int64({x})"
        return f"(np.uint64({x}) if {x} >= 9223372036854775808.0 else np.uint64(np.int64({x})))"
    return x


def _select_n(ins, out, p):
    n = len(ins) - 1
    if n == 1:
        return "{1}"
    if ins[0] == np.bool_:
        return "({2} if {0} else {1})"
    expr = f"{{{n}}}"
    for k in range(n - 2, -1, -1):
        expr = f"({{{k + 1}}} if {{0}} == {k} else {expr})"
    return expr


def _minmax(cmp):
    """As np.maximum/np.minimum: a NaN operand wins (the first if both are NaN), and equal
    operands give the second, so that max(-0.0, 0.0) is 0.0 and max(0.0, -0.0) is -0.0."""
    def make(ins, out, p):
        if ins[0].kind == "c":
            return None
        nan = " or {0} != {0}" if ins[0].kind == "f" else ""
        return f"({{0}} if ({{0}} {cmp} {{1}}{nan}) else {{1}})"
    return make


def _typed(fmt_fn):
    """A template that needs typed constants of the input dtype: ``fmt_fn(dtype)``."""
    return lambda ins, out, p: fmt_fn(ins[0]) if ins[0].kind == "f" else None


_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_ARITH = {"add": "+", "sub": "-", "mul": "*"}
_UFUNC = {"exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "tanh": "tanh",
          "sin": "sin", "cos": "cos", "tan": "tan", "asin": "arcsin", "acos": "arccos",
          "atan": "arctan", "sinh": "sinh", "cosh": "cosh", "asinh": "arcsinh",
          "acosh": "arccosh", "atanh": "arctanh", "sqrt": "sqrt", "cbrt": "cbrt",
          "floor": "floor", "ceil": "ceil", "round": "rint"}

TEMPLATES = {
    **{name: _only("iufc", f"({{0}} {op} {{1}})") for name, op in _ARITH.items()},
    **{name: _only("f", f"np.{fn}({{0}})") for name, fn in _UFUNC.items()},
    **{name: _only("biuf" if name not in ("eq", "ne") else "biufc", f"({{0}} {op} {{1}})")
       for name, op in _CMP.items()},
    "neg": _only("iufc", "(-{0})"),
    "sign": _sign,
    "is_finite": _only("fc", "np.isfinite({0})"),
    "not": _by_kind(b="(not {0})", iu="(~{0})"),
    "logistic": _typed(lambda d: f"K.logistic({{0}}, {const(1, d)})"),
    "rsqrt": _typed(lambda d: f"({const(1, d)} / np.sqrt({{0}}))"),
    "abs": _only("iufc", "abs({0})"),
    "real": _by_kind(c="{0}.real", f="{0}"),
    "imag": _by_kind(c="{0}.imag"),
    "conj": _by_kind(c="{0}.conjugate()", f="{0}"),
    "complex": _only("f", "complex({0}, {1})"),
    "integer_pow": _integer_pow,
    "div": _by_kind(f="({0} / {1})", iu="K.idiv({0}, {1})"),
    "rem": _by_kind(f="np.fmod({0}, {1})", iu="K.irem({0}, {1})"),
    "pow": _only("f", "({0} ** {1})"),
    "max": _minmax(">"),
    "min": _minmax("<"),
    "atan2": _only("f", "np.arctan2({0}, {1})"),
    "nextafter": _only("f", "np.nextafter({0}, {1})"),
    "and": _only("biu", "({0} & {1})"),
    "or": _only("biu", "({0} | {1})"),
    "xor": _only("biu", "({0} ^ {1})"),
    "shift_left": _shift_left,
    "shift_right_arithmetic": _shift_right_arithmetic,
    "shift_right_logical": _shift_right_logical,
    "select_n": _select_n,
    "convert_element_type": _convert,
    # special functions (lepton.primitives.special): libm, as their reference impls
    "erf": _only("f", "math.erf({0})"),
    "erfc": _only("f", "math.erfc({0})"),
    "lgamma": _typed(lambda d: f"(np.inf if ({{0}} <= {const(0, d)} and {{0}} == np.floor({{0}}))"
                               f" else math.lgamma({{0}}))"),
}

#: Primitives that cost about as much as 1000 adds (see ``cost``).
TRANSCENDENTAL = frozenset({"exp", "expm1", "log", "log1p", "tanh", "logistic", "sin", "cos",
                            "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
                            "atanh", "cbrt", "pow", "atan2", "erf", "erfc", "lgamma"})


#: Vectorisable float32 versions (``kernels_cpu``), used in place of the libm templates.
FAST_F32 = {"exp": "K.exp_f32({0})", "tanh": "K.tanh_f32({0})",
            "logistic": "K.logistic_f32({0})", "sin": "K.sin_f32({0})", "cos": "K.cos_f32({0})"}
#: Fast versions exact only on part of the domain: a kernel counts the arguments outside
#: it and, if there are any, recomputes everything with the exact (libm) templates.
GUARDED = {"sin": "abs({0}) >= np.float32(K.SINCOS_LIMIT)",
           "cos": "abs({0}) >= np.float32(K.SINCOS_LIMIT)"}


# ----------------------------------------------------------------------------- reductions
def acc_dtype(eqn):
    """Sums and products of float32/complex64 accumulate in double precision: a long
    vectorised float32 sum would otherwise drift (1e-5 relative over 8M terms)."""
    d = eqn.outvars[0].aval.dtype
    if eqn.prim.name in ("reduce_sum", "reduce_prod") and d.kind in "fc" and d.itemsize < 16:
        return np.dtype(np.complex128 if d.kind == "c" else np.float64)
    return d


def _init(eqn):
    return identity(eqn.prim.name[len("reduce_"):], acc_dtype(eqn))


def identity(kind: str, d) -> str:
    """The identity of reduction ``kind`` ('sum', 'prod', 'max', 'min', 'and', 'or')."""
    d = np.dtype(d)
    if kind in ("sum", "or"):
        return const(0, d)
    if kind in ("prod", "and"):
        return const(1, d)
    big = kind == "min"
    if d == np.bool_:
        return repr(big)
    if d.kind == "f":
        return const(np.inf if big else -np.inf, d)
    info = np.iinfo(d)
    return const(info.max if big else info.min, d)


REDUCERS = {  # name -> (accumulate template over {a} and {v}, supported dtype kinds)
    "reduce_sum": ("({a} + {v})", "biufc"),
    "reduce_prod": ("({a} * {v})", "biufc"),
    "reduce_max": ("({a} if ({a} >= {v} or {a} != {a}) else {v})", "biuf"),  # NaN wins
    "reduce_min": ("({a} if ({a} <= {v} or {a} != {a}) else {v})", "biuf"),
    "reduce_and": ("({a} & {v})", "b"),
    "reduce_or": ("({a} | {v})", "b"),
}


def reduction_axes(eqn):
    """The reduced axes if ``eqn`` is a fusable reduction, else None."""
    return eqn.params["axes"] if eqn.prim.name in REDUCERS else None


def template(eqn):
    """The expression template of ``eqn`` or None if it cannot be fused."""
    dts = [v.aval.dtype for v in eqn.invars] + [v.aval.dtype for v in eqn.outvars]
    if any(d not in _NUMBA_DTYPES for d in dts):
        return None
    name = eqn.prim.name
    if name in REDUCERS:
        fmt, kinds = REDUCERS[name]
        return fmt if dts[0].kind in kinds else None
    make = TEMPLATES.get(name)
    return None if make is None else make(dts[:len(eqn.invars)], dts[-1], eqn.params)


def fusable(eqn) -> bool:
    return len(eqn.outvars) == 1 and template(eqn) is not None


# ----------------------------------------------------------------------------- rendering
class Kernel:
    """Generated source plus how the driver calls it: ``inputs`` and ``outputs`` are
    (var, kernel shape) pairs in argument order; ``sizes`` is the loop-size tuple and
    ``params`` the offsets tuple ``q`` of slice/pad reads (passed only when non-empty)."""

    def __init__(self, source, inputs, outputs, sizes, parallel, params=()):
        self.source, self.inputs, self.outputs = source, inputs, outputs
        self.sizes, self.parallel, self.params = sizes, parallel, tuple(params)


def cost(group) -> int:
    """Work per domain element, in adds: a transcendental counts as 1000 so that a
    transcendental-heavy kernel goes parallel around 1k elements, a cheap one near 1M."""
    return 1 + sum(1000 if e.prim.name in TRANSCENDENTAL else 1 for e in group.eqns)


def render(group, nest, parallel: bool) -> Kernel:
    return _Renderer(group, nest).render(parallel)


class _Renderer:
    """Writes one kernel: arguments, per-mode loop bodies, and the loop structure."""

    def __init__(self, group, nest):
        self.g, self.nest = group, nest
        self.args: dict = {}        # (var, loop axes) -> argument name
        self.inputs: list = []      # (var, kernel shape) per argument
        self.params: list = []      # run-time ints of offset reads, the kernel's ``q``
        self.offset_reads: dict = {}  # offset leaf contents -> (index, guard) source

    def idx(self, axes):
        """An index tuple.  Indices are cast to unsigned: Numba then skips its negative-index
        wraparound, which LLVM cannot prove dead for loops that start past 0 (chunks of a
        parallel reduction, slice offsets) and which stops them vectorising (2x measured)."""
        return ", ".join(f"np.uint64(i{a})" for a in axes) or "0"

    def arg(self, leaf):
        axes = self.nest.index(leaf.amap)
        key = (leaf.base, axes)
        if key not in self.args:
            self.args[key] = f"a{len(self.args)}"
            self.inputs.append((leaf.base, self.nest.shape(leaf.amap)))
        return self.args[key], axes

    def offset_load(self, leaf):
        """(index, guard) source of an offset read: slice starts and pad bounds come from
        the run-time tuple ``q``; the stride is part of the source."""
        content = (leaf.base, leaf.amap, leaf.start, leaf.step, leaf.bounds)
        if content not in self.offset_reads:
            self.offset_reads[content] = self._offset_read(leaf)
        return self.offset_reads[content]

    def _offset_read(self, leaf):
        key = (leaf.base, "base shape")
        if key not in self.args:
            self.args[key] = f"a{len(self.args)}"
            self.inputs.append((leaf.base, leaf.base.aval.shape))
        index, guard = [], []
        for a, d in enumerate(leaf.amap):
            ax = self.nest.axis(d)
            expr = f"q[{self.param(leaf.start[a])}]"
            if ax is not None:
                expr += f" + i{ax}" if leaf.step[a] == 1 else f" + {leaf.step[a]} * i{ax}"
            index.append(f"np.uint64({expr})")  # non-negative where read: see ``idx``
            if leaf.bounds[a] is not None:
                lo, hi = leaf.bounds[a]
                guard.append(f"q[{self.param(lo)}] <= {expr} < q[{self.param(hi)}]")
        return f"{self.args[key]}[{', '.join(index)}]", " and ".join(guard)

    def param(self, value) -> int:
        self.params.append(int(value))
        return len(self.params) - 1

    def body(self, fast: bool):
        """The innermost-loop statements; returns (lines, accumulators, guarded)."""
        lines, names, loads, accs, guards = [], {}, {}, [], []

        def leaf(x):
            base = x.base
            if type(base) is Literal:
                return const(base.value._value, base.aval.dtype)
            if type(base) is tuple:  # iota
                _, dtype, _, dim = base
                ax = self.nest.axis(x.amap[dim])
                return f"{ty(dtype)}({'0' if ax is None else f'i{ax}'})"
            if x.offset:
                read, guard = self.offset_load(x)
                if guard:
                    read = f"({read} if {guard} else {const(x.fill, x.base.aval.dtype)})"
            else:
                name, axes = self.arg(x)
                read = f"{name}[{self.idx(axes)}]"
            if read not in loads:
                loads[read] = t = f"x{len(loads)}"
                lines.append(f"{t} = {read}")
            return loads[read]

        for e in self.g.eqns:
            ops = [names[x] if kind == "val" else leaf(x) for kind, x in self.g.operands[e]]
            out, name = e.outvars[0], e.prim.name
            dt = out.aval.dtype
            if name in REDUCERS:
                acc = names[out] = f"acc{len(accs)}"
                accs.append((acc, e))
                comb = template(e).format(a=acc, v=ops[0])
                lines.append(f"{acc} = {ty(acc_dtype(e))}({comb})")
                continue
            fmt = template(e)
            if dt == np.float32 and name in FAST_F32 and (fast or name not in GUARDED):
                fmt = FAST_F32[name]
                if name in GUARDED and GUARDED[name].format(*ops) not in guards:
                    guards.append(GUARDED[name].format(*ops))
            t = names[out] = f"v{len(names)}"
            lines.append(f"{t} = {ty(dt)}({fmt.format(*ops)})")
        full = self.idx(range(len(self.nest.sizes)))
        lines += [f"o{k}[{full}] = {names[v]}" for k, v in enumerate(self.g.outputs)
                  if v in self.g.values]
        if guards:  # one update per iteration: a prange reduction variable allows no more
            lines.append(f"nbig += np.int64({' | '.join(f'({c})' for c in guards)})")
        return lines, accs, bool(guards)

    def render(self, parallel):
        g, nest = self.g, self.nest
        kept = tuple(d for d in range(len(g.domain)) if d not in (g.red_axes or ()))
        outputs = [(v, nest.sizes if v in g.values else nest.shape(kept)) for v in g.outputs]
        finals = {v: (f"o{k}", self.idx(nest.index(kept))) for k, v in enumerate(g.outputs)
                  if v in g.reduced}
        body, accs, guarded = self.body(fast=True)
        lines, parallel = self.structure(body, accs, finals, parallel)
        if guarded:  # some argument was outside a fast function's exact domain
            exact, accs, _ = self.body(fast=False)
            lines = (["nbig = 0"] + lines + ["if nbig > 0:"]
                     + ["    " + ln for ln in self.structure(exact, accs, finals, False)[0]])
        args = (["n"] + (["q"] if self.params else []) + list(self.args.values())
                + [f"o{i}" for i in range(len(outputs))])
        flags = PARALLEL_KERNEL_OPTIONS if parallel else KERNEL_OPTIONS
        if accs:
            flags += ", fastmath={'reassoc'}"
        src = "\n".join([f"@njit({flags})", f"def kernel({', '.join(args)}):"]
                        + ["    " + ln for ln in lines]) + "\n"
        return Kernel(src, self.inputs, outputs, nest.sizes, parallel, self.params)

    def structure(self, body, accs, finals, parallel):
        """The loop nest around ``body``; returns (lines, whether it is parallel)."""
        r, red = len(self.nest.sizes), self.nest.red
        stores = [(finals[e.outvars[0]], acc, e) for acc, e in accs]
        if red and red != tuple(range(r - len(red), r)):
            return self.scatter_reduce(r, body, stores, parallel and 0 not in red)
        if accs and parallel and red and red[0] == 0:
            return self.chunked_reduce(r, body, stores), True
        first_red = red[0] if red else r
        lines = self.loops(range(first_red), parallel, 0)
        lines += ["    " * first_red + f"{acc} = {_init(e)}" for _, acc, e in stores]
        lines += self.loops(range(first_red, r), False, first_red)
        lines += ["    " * r + ln for ln in body]
        lines += ["    " * first_red + f"{o}[{i}] = {acc}" for (o, i), acc, _ in stores]
        return lines, parallel and first_red > 0

    def loops(self, axes, parallel_first, depth):
        return ["    " * (depth + k)
                + f"for i{a} in {'prange' if parallel_first and k == 0 else 'range'}(n[{a}]):"
                for k, a in enumerate(axes)]

    def chunked_reduce(self, r, body, stores):
        """A full reduction split into chunks of the outer axis, combined serially."""
        lines = ["nc = min(n[0], 64)"]
        lines += [f"p{k} = np.empty(max(nc, 1), {ty(acc_dtype(e))})"
                  for k, (_, _, e) in enumerate(stores)]
        lines.append("for c in prange(nc):")
        lines += [f"    {acc} = {_init(e)}" for _, acc, e in stores]
        lines.append("    for i0 in range(c * n[0] // nc, (c + 1) * n[0] // nc):")
        lines += self.loops(range(1, r), False, 2)
        lines += ["    " * (r + 1) + ln for ln in body]
        lines += [f"    p{k}[c] = {acc}" for k, (_, acc, _) in enumerate(stores)]
        if any(ln.startswith("nbig += ") for ln in body):  # count per chunk, add once
            lines = [ln.replace("nbig += ", "nb += ") for ln in lines]
            at = lines.index("for c in prange(nc):") + 1
            lines[at:at] = ["    nb = 0"]
            lines.append("    nbig += nb")
        for k, ((o, i), acc, e) in enumerate(stores):
            comb = REDUCERS[e.prim.name][0].format(a=acc, v=f"p{k}[c]")
            lines += [f"{acc} = {_init(e)}", "for c in range(nc):",
                      f"    {acc} = {ty(acc_dtype(e))}({comb})", f"{o}[{i}] = {acc}"]
        return lines

    def scatter_reduce(self, r, body, stores, parallel):
        """Reductions over leading or interleaved axes accumulate into their outputs (or
        into a double-precision copy, see ``acc_dtype``)."""
        lines, copies = [], []
        for (o, i), acc, e in stores:
            buf = o
            if acc_dtype(e) != e.outvars[0].aval.dtype:
                buf = f"s{o[1:]}"
                lines.append(f"{buf} = np.empty({o}.shape, {ty(acc_dtype(e))})")
                copies.append(f"{o}[:] = {buf}")
            lines.append(f"{buf}[:] = {_init(e)}")
            body = [ln.replace(acc, f"{buf}[{i}]") if ln.startswith(acc + " = ") else ln
                    for ln in body]
        lines += self.loops(range(r), parallel, 0)
        lines += ["    " * r + ln for ln in body]
        return lines + copies, parallel
