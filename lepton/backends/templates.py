"""Scalar expression templates of the fused primitives and their reducers: no dialect.

A template maker receives (input dtypes, output dtype, params) and returns a format
string over the operands' expressions (``{0}``, ``{1}``, ...) or None when these dtypes
are not supported (the equation then runs as a host step).  The text is Python over
NumPy scalars, which every Numba target compiles; helpers a device must provide are
called as ``K.name`` (``K`` is the device's helper module in the kernel's header:
``K.idiv``, ``K.irem``, ``K.logistic``).  Which primitive uses which template, and any
device-specific spelling of it, is the device's lowering table (``cpu/lowering.py``).
"""
from __future__ import annotations

import math

import numpy as np

#: Dtypes a generated scalar kernel computes in; an equation on any other runs on the host.
SCALAR_DTYPES = frozenset(np.dtype(t) for t in (
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
# Results are cast to the output dtype, which also gives integer arithmetic its
# wrap-around (Numba computes ints in 64 bits).

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
    if dst not in SCALAR_DTYPES:
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

#: Primitive name -> template maker.  A device lowers a primitive with one of these only
#: where its lowering table says so.
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


#: Primitive name -> operand positions whose literal values are written into a kernel's
#: source instead of passed as arguments (``render``'s rule), because the machine code
#: depends on them: LLVM specialises ``pow`` on a constant exponent (``x ** 2.0`` becomes
#: ``x * x``: 0.08 ms instead of 3.2 ms per 1M float32 elements measured).
BAKED_OPERANDS = {"pow": (1,)}


# ----------------------------------------------------------------------------- reductions
def acc_dtype(eqn):
    """Sums and products of float32/complex64 accumulate in double precision: a long
    vectorised float32 sum would otherwise drift (1e-5 relative over 8M terms)."""
    d = eqn.outvars[0].aval.dtype
    if eqn.prim.name in ("reduce_sum", "reduce_prod") and d.kind in "fc" and d.itemsize < 16:
        return np.dtype(np.complex128 if d.kind == "c" else np.float64)
    return d


def init(eqn):
    """The initial accumulator value of reduction ``eqn``, as source text."""
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


#: Reduction name -> (accumulate template over ``{a}`` and ``{v}``, supported dtype kinds).
REDUCERS = {
    "reduce_sum": ("({a} + {v})", "biufc"),
    "reduce_prod": ("({a} * {v})", "biufc"),
    "reduce_max": ("({a} if ({a} >= {v} or {a} != {a}) else {v})", "biuf"),  # NaN wins
    "reduce_min": ("({a} if ({a} <= {v} or {a} != {a}) else {v})", "biuf"),
    "reduce_and": ("({a} & {v})", "b"),
    "reduce_or": ("({a} | {v})", "b"),
}

