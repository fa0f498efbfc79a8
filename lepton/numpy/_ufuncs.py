"""Elementwise NumPy functions: arithmetic, exp/log/trig, rounding, predicates, complex, logic."""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import Array
from . import _eager
from ..primitives import elementwise as ew
from .util import (asarray, broadcast_shapes, broadcast_to, promote_args, promote_args_inexact,
                    scalar_like, to_dtype)


def _unary_inexact(prim, name):
    def f(x, /):
        r = _eager.unary(prim, x, inexact=True, kinds="fc")
        if r is not None:
            return r
        (x,) = promote_args_inexact(name, x)
        return prim.bind(x)

    f.__name__ = name
    f.__doc__ = f"Elementwise ``{name}`` (NumPy semantics; ints compute in float32)."
    return f


exp = _unary_inexact(ew.exp_p, "exp")
expm1 = _unary_inexact(ew.expm1_p, "expm1")
log = _unary_inexact(ew.log_p, "log")
log1p = _unary_inexact(ew.log1p_p, "log1p")
sqrt = _unary_inexact(ew.sqrt_p, "sqrt")
cbrt = _unary_inexact(ew.cbrt_p, "cbrt")
sin = _unary_inexact(ew.sin_p, "sin")
cos = _unary_inexact(ew.cos_p, "cos")
tan = _unary_inexact(ew.tan_p, "tan")
arcsin = _unary_inexact(ew.asin_p, "arcsin")
arccos = _unary_inexact(ew.acos_p, "arccos")
arctan = _unary_inexact(ew.atan_p, "arctan")
sinh = _unary_inexact(ew.sinh_p, "sinh")
cosh = _unary_inexact(ew.cosh_p, "cosh")
tanh = _unary_inexact(ew.tanh_p, "tanh")
arcsinh = _unary_inexact(ew.asinh_p, "arcsinh")
arccosh = _unary_inexact(ew.acosh_p, "arccosh")
arctanh = _unary_inexact(ew.atanh_p, "arctanh")


def log2(x, /):
    (x,) = promote_args_inexact("log2", x)
    return ew.div(ew.log(x), ew.log(scalar_like(x, 2)))


def log10(x, /):
    (x,) = promote_args_inexact("log10", x)
    return ew.div(ew.log(x), ew.log(scalar_like(x, 10)))


def exp2(x, /):
    (x,) = promote_args_inexact("exp2", x)
    return ew.exp(ew.mul(x, scalar_like(x, np.log(2))))


def logaddexp(x1, x2, /):
    """log(exp(x1) + exp(x2)) without overflow; exact at infinities (as NumPy)."""
    x1, x2 = promote_args_inexact("logaddexp", x1, x2)
    amax = ew.max(x1, x2)
    delta = ew.sub(x1, x2)
    finite = ew.eq(delta, delta)  # not nan: equal infinities give nan delta
    # -|delta| as min(delta, -delta): at a tie each operand's derivative is then 1/2
    safe = ew.select(finite, ew.min(delta, ew.neg(delta)), scalar_like(delta, 0))
    # equal infinities (or a nan) give a nan delta: then x1 + x2 is the exact answer
    return ew.select(finite, ew.add(amax, ew.log1p(ew.exp(safe))), ew.add(x1, x2))


def square(x, /):
    (x,) = promote_args("square", x)
    return ew.mul(x, x)


def reciprocal(x, /):
    (x,) = promote_args("reciprocal", x)
    return ew.div(scalar_like(x, 1), x)


def _bool_to_int(name, x):
    """NumPy computes boolean floor division and modulo in int8."""
    return to_dtype(x, dtypes.int8) if x.aval.dtype == dtypes.bool_ else x


def negative(x, /):
    r = _eager.unary(ew.neg_p, x)
    if r is not None:
        return r
    (x,) = promote_args("negative", x)
    if x.aval.dtype == dtypes.bool_:
        raise TypeError("negative: NumPy does not support negating booleans; use "
                        "lnp.logical_not (or ~x)")
    return ew.neg(x)


def positive(x, /):
    return asarray(x)


def absolute(x, /):
    (x,) = promote_args("abs", x)
    if x.aval.dtype == dtypes.bool_ or x.aval.dtype.kind == "u":
        return x
    return ew.abs(x)


abs = absolute


def sign(x, /):
    (x,) = promote_args("sign", x)
    if x.aval.dtype == dtypes.bool_:
        return x
    if x.aval.dtype.kind == "c":  # NumPy 2: x / |x|
        mag = ew.abs(x)
        z = ew.eq(mag, scalar_like(mag, 0))
        mag = ew.convert_element_type(ew.select(z, scalar_like(mag, 1), mag), x.aval.dtype)
        return ew.select(z, scalar_like(x, 0), ew.div(x, mag))
    return ew.sign(x)


def add(x1, x2, /):
    r = _eager.binary(ew.add_p, x1, x2)
    if r is not None:
        return r
    x1, x2 = promote_args("add", x1, x2)
    if x1.aval.dtype == dtypes.bool_:
        return ew.bitwise_or(x1, x2)
    return ew.add(x1, x2)


def subtract(x1, x2, /):
    r = _eager.binary(ew.sub_p, x1, x2)
    if r is not None:
        return r
    x1, x2 = promote_args("subtract", x1, x2)
    if x1.aval.dtype == dtypes.bool_:
        raise TypeError("subtract: NumPy does not subtract booleans; use lnp.logical_xor")
    return ew.sub(x1, x2)


def multiply(x1, x2, /):
    r = _eager.binary(ew.mul_p, x1, x2)
    if r is not None:
        return r
    x1, x2 = promote_args("multiply", x1, x2)
    if x1.aval.dtype == dtypes.bool_:
        return ew.bitwise_and(x1, x2)
    return ew.mul(x1, x2)


def true_divide(x1, x2, /):
    r = _eager.binary(ew.div_p, x1, x2, inexact=True, np_fn=np.true_divide)  # floats only
    if r is not None:
        return r
    x1, x2 = promote_args_inexact("divide", x1, x2)
    return ew.div(x1, x2)


divide = true_divide


def _float_divmod(x1, x2):
    """NumPy's floor-division and modulo for floats (same sign rules as Python)."""
    mod = ew.rem(x1, x2)
    div = ew.div(ew.sub(x1, mod), x2)
    zero = scalar_like(mod, 0)
    adjust = ew.bitwise_and(ew.ne(mod, zero), ew.ne(ew.lt(x2, zero), ew.lt(mod, zero)))
    mod = ew.select(adjust, ew.add(mod, x2), mod)
    # A zero remainder takes the divisor's sign (NumPy: copysign(0, x2)).  Subtracting
    # ``stop_gradient(mod) - mod`` (+0.0 there, which keeps any zero's sign) keeps the
    # derivative d mod / d x1 = 1 at these points too.
    signed_zero = ew.select(ew.lt(x2, zero), scalar_like(mod, -0.0), zero)
    mod = ew.select(ew.eq(mod, zero),
                    ew.sub(signed_zero, ew.sub(ew.stop_gradient(mod), mod)), mod)
    div = ew.select(adjust, ew.sub(div, scalar_like(div, 1)), div)
    floordiv = ew.floor(div)
    floordiv = ew.select(ew.gt(ew.sub(div, floordiv), scalar_like(div, 0.5)),
                         ew.add(floordiv, scalar_like(div, 1)), floordiv)
    floordiv = ew.select(ew.eq(div, zero), ew.mul(ew.div(x1, x2), zero), floordiv)
    # x2 == 0: NumPy gives nan for mod and inf/nan for the quotient
    is0 = ew.eq(x2, zero)
    floordiv = ew.select(is0, ew.div(x1, x2), floordiv)
    return floordiv, mod


def _real_division_operands(name, x1, x2):
    """Promoted operands of floor division / modulo: bools count as ints, complex is an error."""
    x1, x2 = promote_args(name, x1, x2)
    if x1.aval.dtype == dtypes.bool_:
        x1, x2 = _bool_to_int(name, x1), _bool_to_int(name, x2)
    if x1.aval.dtype.kind == "c":
        raise TypeError(f"{name} is not defined for complex numbers")
    return x1, x2, x1.aval.dtype


def _numpy_int_zero_division(x2, out):
    """NumPy's integer ``x // 0``, ``x % 0`` and ``fmod(x, 0)`` are 0 (``lax.div`` and
    ``lax.rem`` give -1 and ``x`` there, as XLA does)."""
    zero = scalar_like(out, 0)
    return ew.select(ew.eq(x2, scalar_like(x2, 0)), zero, out)


def floor_divide(x1, x2, /):
    """NumPy's floor division.  Integers: ``x // 0`` is 0 and ``INT_MIN // -1`` wraps to
    ``INT_MIN`` (as NumPy, without its warnings); exact for every width, uint64 included."""
    x1, x2, dt = _real_division_operands("floor_divide", x1, x2)
    if dt.kind in "iu":
        q = ew.div(x1, x2)
        if dt.kind == "i":
            zero = scalar_like(x1, 0)
            r = ew.rem(x1, x2)
            fix = ew.bitwise_and(ew.ne(r, zero), ew.ne(ew.lt(x1, zero), ew.lt(x2, zero)))
            q = ew.select(fix, ew.sub(q, scalar_like(q, 1)), q)
        return _numpy_int_zero_division(x2, q)
    return _float_divmod(x1, x2)[0]


def remainder(x1, x2, /):
    """NumPy's modulo (the divisor's sign).  Integers: ``x % 0`` is 0 (as NumPy)."""
    x1, x2, dt = _real_division_operands("mod", x1, x2)
    if dt.kind in "iu":
        r = ew.rem(x1, x2)
        if dt.kind == "i":
            zero = scalar_like(r, 0)
            fix = ew.bitwise_and(ew.ne(r, zero), ew.ne(ew.lt(r, zero), ew.lt(x2, zero)))
            r = ew.select(fix, ew.add(r, x2), r)
        return _numpy_int_zero_division(x2, r)
    return _float_divmod(x1, x2)[1]


mod = remainder


def fmod(x1, x2, /):
    """C remainder (the dividend's sign).  Integers: ``fmod(x, 0)`` is 0 (as NumPy)."""
    x1, x2 = promote_args("fmod", x1, x2)
    if x1.aval.dtype == dtypes.bool_:
        x1, x2 = _bool_to_int("fmod", x1), _bool_to_int("fmod", x2)
    r = ew.rem(x1, x2)
    return _numpy_int_zero_division(x2, r) if x1.aval.dtype.kind in "iu" else r


def divmod(x1, x2, /):
    return floor_divide(x1, x2), remainder(x1, x2)


def _int_power(x, y):
    """Integer ``x ** y`` by binary exponentiation (bounded loop, works under every transform)."""
    bits = y.aval.dtype.itemsize * 8
    acc = scalar_like(x, 1)
    base = x
    e = y
    one, zero = scalar_like(e, 1), scalar_like(e, 0)
    for _ in range(bits):
        acc = ew.select(ew.eq(ew.bitwise_and(e, one), one), ew.mul(acc, base), acc)
        base = ew.mul(base, base)
        e = ew.shift_right_logical(e, one)
    if y.aval.dtype.kind == "i":  # negative exponent: 1/x**|y| truncated (0 unless |x| == 1)
        neg = ew.lt(y, zero)
        xneg = ew.select(ew.eq(x, scalar_like(x, -1)),
                         ew.select(ew.eq(ew.bitwise_and(y, one), one), scalar_like(x, -1),
                                   scalar_like(x, 1)),
                         ew.select(ew.eq(x, scalar_like(x, 1)), scalar_like(x, 1),
                                   scalar_like(x, 0)))
        acc = ew.select(neg, xneg, acc)
    return acc


def _scalar_value(x):
    """The value of a Python or NumPy scalar (or 0-d ndarray), else None."""
    if isinstance(x, (float, np.floating)) or (isinstance(x, np.ndarray) and x.ndim == 0
                                               and x.dtype.kind == "f"):
        return float(x)
    return None


def power(x1, x2, /):
    """NumPy's power.  A scalar float exponent 0.5 computes sqrt, as NumPy does (so
    ``x ** 0.5`` is nan at -inf and -0.0 at -0.0, where C ``pow`` gives inf and +0.0)."""
    if _scalar_value(x2) == 0.5:
        x1, _ = promote_args("power", x1, x2)
        if x1.aval.dtype.kind == "f":
            return ew.sqrt(x1)
    if isinstance(x2, int) and not isinstance(x2, bool):
        (x1,) = promote_args("power", x1)
        if x1.aval.dtype == dtypes.bool_:
            x1 = to_dtype(x1, dtypes.int32, x1.aval.weak_type)
        if x1.aval.dtype.kind in "iu" and x2 < 0:
            return _int_power(x1, to_dtype(asarray(x2), x1.aval.dtype))
        return ew.integer_pow(x1, x2)
    x1, x2 = promote_args("power", x1, x2)
    dt = x1.aval.dtype
    if dt == dtypes.bool_:
        x1, x2 = to_dtype(x1, dtypes.int32), to_dtype(x2, dtypes.int32)
        dt = dtypes.int32
    if dt.kind in "iu":
        return _int_power(x1, x2)
    return ew.pow(x1, x2)


def float_power(x1, x2, /):
    x1, x2 = promote_args("float_power", x1, x2)
    dt = dtypes.complex128 if x1.aval.dtype.kind == "c" else dtypes.float64
    return ew.pow(to_dtype(x1, dt), to_dtype(x2, dt))


def maximum(x1, x2, /):
    """Elementwise max; propagates NaN (as NumPy and JAX).  ``max_p`` itself propagates
    NaN (its impl is ``np.maximum``, its kernel template is NaN-aware), so this is one
    primitive: a NaN operand gets a zero gradient, as in JAX."""
    r = _eager.binary(ew.max_p, x1, x2, kinds="biufc")
    if r is not None:
        return r
    x1, x2 = promote_args("maximum", x1, x2)
    return ew.max(x1, x2)


def minimum(x1, x2, /):
    """Elementwise min; propagates NaN, as ``maximum``."""
    r = _eager.binary(ew.min_p, x1, x2, kinds="biufc")
    if r is not None:
        return r
    x1, x2 = promote_args("minimum", x1, x2)
    return ew.min(x1, x2)


def fmax(x1, x2, /):
    x1, x2 = promote_args("fmax", x1, x2)
    out = ew.max(x1, x2)
    if x1.aval.dtype.kind in "fc":
        out = ew.select(ew.ne(x1, x1), x2, ew.select(ew.ne(x2, x2), x1, out))
    return out


def fmin(x1, x2, /):
    x1, x2 = promote_args("fmin", x1, x2)
    out = ew.min(x1, x2)
    if x1.aval.dtype.kind in "fc":
        out = ew.select(ew.ne(x1, x1), x2, ew.select(ew.ne(x2, x2), x1, out))
    return out


def arctan2(x1, x2, /):
    x1, x2 = promote_args_inexact("arctan2", x1, x2)
    return ew.atan2(x1, x2)


def hypot(x1, x2, /):
    """sqrt(x1**2 + x2**2) without overflow or underflow in the squares (as NumPy):
    float32 and narrower square in float64, float64 scales by the larger magnitude.
    An infinite operand gives inf even if the other is nan."""
    x1, x2 = promote_args_inexact("hypot", x1, x2)
    dt = x1.aval.dtype
    a, b = ew.abs(x1), ew.abs(x2)
    if dt.itemsize < 8:
        a64, b64 = to_dtype(a, dtypes.float64), to_dtype(b, dtypes.float64)
        h = to_dtype(ew.sqrt(ew.add(ew.mul(a64, a64), ew.mul(b64, b64))), dt, x1.aval.weak_type)
    else:
        big, small = ew.max(a, b), ew.min(a, b)
        zero = ew.eq(big, scalar_like(big, 0))
        r = ew.div(small, ew.select(zero, scalar_like(big, 1), big))
        h = ew.mul(big, ew.sqrt(ew.add(scalar_like(r, 1), ew.mul(r, r))))
    inf = scalar_like(h, np.inf)
    return ew.select(ew.bitwise_or(ew.eq(a, inf), ew.eq(b, inf)), inf, h)


# ----------------------------------------------------------------------------- rounding
def _float_only(name, fn):
    def f(x, /):
        (x,) = promote_args(name, x)
        if x.aval.dtype.kind in "biu":
            return x
        if x.aval.dtype.kind == "c":
            raise TypeError(f"{name} is not defined for complex numbers")
        return fn(x)

    f.__name__ = name
    return f


floor = _float_only("floor", ew.floor)
ceil = _float_only("ceil", ew.ceil)


def trunc(x, /):
    (x,) = promote_args("trunc", x)
    if x.aval.dtype.kind in "biu":
        return x
    return ew.select(ew.lt(x, scalar_like(x, 0)), ew.ceil(x), ew.floor(x))


fix = trunc


def round(a, decimals=0):
    """Round half to even (as NumPy), optionally at ``decimals`` digits."""
    (a,) = promote_args("round", a)
    dt = a.aval.dtype
    if dt.kind in "biu":
        if decimals >= 0:
            return a
        f = scalar_like(a, 10 ** (-decimals))
        return ew.mul(round_half_even_int(a, f), f)
    if dt.kind == "c":
        return ew.complex(round(ew.real(a), decimals), round(ew.imag(a), decimals))
    if decimals == 0:
        return ew.round(a)
    f = scalar_like(a, 10.0 ** decimals)
    return ew.div(ew.round(ew.mul(a, f)), f)


def round_half_even_int(a, f):
    q = floor_divide(a, f)
    r = ew.sub(a, ew.mul(q, f))
    twice = ew.mul(r, scalar_like(r, 2))
    up = ew.bitwise_or(ew.gt(twice, f), ew.bitwise_and(
        ew.eq(twice, f), ew.ne(remainder(q, scalar_like(q, 2)), scalar_like(q, 0))))
    return ew.select(up, ew.add(q, scalar_like(q, 1)), q)


around = round


def rint(x, /):
    return round(x)


# ----------------------------------------------------------------------------- predicates
def isnan(x, /):
    (x,) = promote_args("isnan", x)
    if x.aval.dtype.kind not in "fc":
        return _full_bool(x, False)
    return ew.ne(x, x)


def isinf(x, /):
    (x,) = promote_args("isinf", x)
    dt = x.aval.dtype
    if dt.kind not in "fc":
        return _full_bool(x, False)
    if dt.kind == "c":
        return logical_or(isinf(ew.real(x)), isinf(ew.imag(x)))
    return ew.eq(ew.abs(x), scalar_like(x, np.inf))


def isfinite(x, /):
    (x,) = promote_args("isfinite", x)
    if x.aval.dtype.kind not in "fc":
        return _full_bool(x, True)
    return ew.is_finite(x)


def isposinf(x, /):
    (x,) = promote_args("isposinf", x)
    return ew.eq(x, scalar_like(x, np.inf)) if x.aval.dtype.kind == "f" else _full_bool(x, False)


def isneginf(x, /):
    (x,) = promote_args("isneginf", x)
    return ew.eq(x, scalar_like(x, -np.inf)) if x.aval.dtype.kind == "f" else \
        _full_bool(x, False)


def signbit(x, /):
    (x,) = promote_args("signbit", x)
    dt = x.aval.dtype
    if dt.kind == "f":
        bits = dtypes.canonicalize(f"i{dt.itemsize}")
        from ._shape import bitcast
        return ew.lt(bitcast(x, bits), scalar_like(bitcast(x, bits), 0))
    if dt.kind == "i":
        return ew.lt(x, scalar_like(x, 0))
    return _full_bool(x, False)


def _full_bool(x, value):
    from ..primitives.structural import full
    return full(x.aval.shape, value, dtypes.bool_)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    (x,) = promote_args("nan_to_num", x)
    dt = x.aval.dtype
    if dt.kind == "c":
        return ew.complex(nan_to_num(ew.real(x), nan=nan, posinf=posinf, neginf=neginf),
                          nan_to_num(ew.imag(x), nan=nan, posinf=posinf, neginf=neginf))
    if dt.kind != "f":
        return x
    info = np.finfo(dt)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    x = ew.select(ew.ne(x, x), scalar_like(x, nan), x)
    x = ew.select(ew.eq(x, scalar_like(x, np.inf)), scalar_like(x, posinf), x)
    return ew.select(ew.eq(x, scalar_like(x, -np.inf)), scalar_like(x, neginf), x)


# ----------------------------------------------------------------------------- complex
def real(val, /):
    (val,) = promote_args("real", val)
    return ew.real(val) if val.aval.dtype.kind == "c" else val


def imag(val, /):
    (val,) = promote_args("imag", val)
    if val.aval.dtype.kind == "c":
        return ew.imag(val)
    return scalar_like(val, 0)


def conjugate(x, /):
    (x,) = promote_args("conj", x)
    return ew.conj(x) if x.aval.dtype.kind == "c" else x


conj = conjugate


def angle(z, deg=False):
    (z,) = promote_args_inexact("angle", z)
    if z.aval.dtype.kind == "c":
        out = ew.atan2(ew.imag(z), ew.real(z))
    else:
        out = ew.atan2(scalar_like(z, 0), z)
    if deg:
        out = ew.mul(out, scalar_like(out, 180 / np.pi))
    return out


# ----------------------------------------------------------------------------- comparison/logic
def _compare(prim, name):
    def f(x1, x2, /):
        r = _eager.binary(prim, x1, x2, kinds="biufc")
        if r is not None:
            return r
        x1, x2 = promote_args(name, x1, x2)
        return prim.bind(x1, x2)

    f.__name__ = name
    return f


equal = _compare(ew.eq_p, "equal")
not_equal = _compare(ew.ne_p, "not_equal")
less = _compare(ew.lt_p, "less")
less_equal = _compare(ew.le_p, "less_equal")
greater = _compare(ew.gt_p, "greater")
greater_equal = _compare(ew.ge_p, "greater_equal")


def _to_bool(x):
    x = asarray(x)
    if x.aval.dtype == dtypes.bool_:
        return x
    return ew.ne(x, scalar_like(x, 0))


def logical_and(x1, x2, /):
    x1, x2 = promote_args("logical_and", _to_bool(x1), _to_bool(x2))
    return ew.bitwise_and(x1, x2)


def logical_or(x1, x2, /):
    x1, x2 = promote_args("logical_or", _to_bool(x1), _to_bool(x2))
    return ew.bitwise_or(x1, x2)


def logical_xor(x1, x2, /):
    x1, x2 = promote_args("logical_xor", _to_bool(x1), _to_bool(x2))
    return ew.bitwise_xor(x1, x2)


def logical_not(x, /):
    return ew.bitwise_not(_to_bool(x))


def _bitwise(prim_fn, name):
    def f(x1, x2, /):
        x1, x2 = promote_args(name, x1, x2)
        if x1.aval.dtype.kind not in "biu":
            raise TypeError(f"{name} requires integer or boolean arrays, got {x1.aval.dtype}")
        return prim_fn(x1, x2)

    f.__name__ = name
    return f


bitwise_and = _bitwise(ew.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(ew.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(ew.bitwise_xor, "bitwise_xor")
left_shift = _bitwise(ew.shift_left, "left_shift")


def right_shift(x1, x2, /):
    x1, x2 = promote_args("right_shift", x1, x2)
    if x1.aval.dtype.kind == "u":
        return ew.shift_right_logical(x1, x2)
    return ew.shift_right_arithmetic(x1, x2)


def invert(x, /):
    (x,) = promote_args("invert", x)
    if x.aval.dtype.kind not in "biu":
        raise TypeError(f"invert requires integer or boolean arrays, got {x.aval.dtype}")
    return ew.bitwise_not(x)


bitwise_not = invert


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = promote_args("isclose", a, b)
    dt = a.aval.dtype
    if dt.kind not in "fc":
        if dt == dtypes.bool_:
            return ew.eq(a, b)
        a, b = to_dtype(a, dtypes.float32 if dt.itemsize < 8 else dtypes.float64), \
            to_dtype(b, dtypes.float32 if dt.itemsize < 8 else dtypes.float64)
    rdt = dtypes.real_dtype(a.aval.dtype)
    diff = ew.abs(ew.sub(a, b))
    from ..primitives.structural import full
    tol = ew.add(full(diff.aval.shape, atol, rdt), ew.mul(full(diff.aval.shape, rtol, rdt),
                                                         ew.abs(b)))
    close = ew.le(diff, tol)
    both_inf = ew.bitwise_and(isinf(a), ew.eq(a, b))
    close = ew.bitwise_or(ew.bitwise_and(close, isfinite(b)), both_inf)
    if equal_nan:
        close = ew.bitwise_or(close, ew.bitwise_and(isnan(a), isnan(b)))
    return close


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """``x`` where ``condition`` else ``y``; the one-argument form is ``nonzero``."""
    if x is None and y is None:
        from ._indexing import nonzero
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("where takes either 1 or 3 arguments (condition, x, y)")
    r = _eager.binary(ew.select_n_p, x, y, kinds="biufc",
                      np_fn=lambda a, b: np.where(np.asarray(condition), a, b)) \
        if type(condition) is Array or isinstance(condition, np.ndarray) else None
    if r is not None:
        return r
    c = _to_bool(condition)
    x, y = promote_args("where", x, y)
    shape = broadcast_shapes(c.aval.shape, x.aval.shape, name="where")
    return ew.select(broadcast_to(c, shape), broadcast_to(x, shape), broadcast_to(y, shape))


def clip(a, a_min=None, a_max=None, *, min=None, max=None):
    """Clamp into [min, max] (either may be None); NaN stays NaN."""
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    a = asarray(a)
    if lo is not None:
        a = maximum(a, lo)
    if hi is not None:
        a = minimum(a, hi)
    return a


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True where every element is close (``isclose``), as a boolean 0-d array."""
    from ._reductions import all as all_
    return all_(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """Same shape and equal elements (NaNs equal only with ``equal_nan``)."""
    from ..primitives.structural import full
    from ._reductions import all as all_
    a1, a2 = asarray(a1), asarray(a2)
    if a1.aval.shape != a2.aval.shape:
        return full((), False, dtypes.bool_)
    eq = equal(a1, a2)
    if equal_nan:
        eq = logical_or(eq, logical_and(isnan(a1), isnan(a2)))
    return all_(eq)
