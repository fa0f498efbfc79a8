"""Elementwise primitives: unary math, binary arithmetic, comparisons, select, convert.

All are shape-strict (equal shapes, equal dtypes); NumPy broadcasting and type
promotion happen in ``lepton.numpy``.  Each primitive states its impl, shape rule,
JVP (in lepton ops, so it differentiates again), transpose if linear, and batching.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from .._quiet import restore, silence
from ..core import Primitive, ShapedArray, concrete
from .base import (Zero, align_batched, check_dtype_kind, defjvp, deflinear, defnondiff,
                   defvectorized, fail_dtype, fail_shape, instantiate, is_undefined, provide,
                   same_shape_and_dtype, tangent_aval)
from .structural import broadcast_in_dim, full

FLOAT = "f"
INEXACT = "fc"
NUMERIC = "iufc"
INTEGRAL = "biu"
ANY = "biufc"
_KIND_WORDS = {FLOAT: "floating-point", INEXACT: "floating-point or complex", "c": "complex",
               "iu": "integer",
               NUMERIC: "numeric (non-bool)", INTEGRAL: "boolean or integer", ANY: "any"}


def _quiet(fn):
    """Run a NumPy function without floating-point warnings (JAX semantics: inf/nan, no warning)."""

    def impl(*args, **params):
        token = silence()  # np.errstate(all="ignore"), ~1 us cheaper (lepton/_quiet.py)
        try:
            return fn(*args)
        finally:
            restore(token)

    return impl


def _elementwise_rule(name, kinds, out_dtype=None):
    def rule(*avals, **params):
        same_shape_and_dtype(name, avals)
        if kinds != ANY:
            check_dtype_kind(name, avals, kinds, _KIND_WORDS[kinds])
        in_dt = avals[0].dtype
        dt = in_dt if out_dtype is None else out_dtype(in_dt)
        weak = dt.kind == in_dt.kind and all(a.weak_type for a in avals)
        return ShapedArray(avals[0].shape, dt, weak)

    return rule


def elementwise(name, impl, kinds=ANY, out_dtype=None, quiet=True):
    """Define an elementwise primitive with its impl, shape rule and batching.  Impls run
    without NumPy's floating-point warnings (overflow, x / 0, invalid): as in JAX, such
    results are inf or nan, silently, on every backend (``quiet=False`` for ops that
    cannot raise them, which saves silencing NumPy).  ``lepton.numpy``'s eager path calls
    the NumPy function directly (``p.numpy_impl``) and silences it where ``p.quiet`` says,
    so both routes come from this one definition."""
    p = Primitive(name)
    p.numpy_impl, p.quiet = impl, quiet
    p.impl = _quiet(impl) if quiet else (lambda *a, **k: impl(*a))
    p.abstract_eval = _elementwise_rule(name, kinds, out_dtype)
    defvectorized(p)
    return p


def _const(x, value):
    """``value`` broadcast to x's shape and dtype (a constant in any trace)."""
    aval = x.aval
    return full(aval.shape, value, aval.dtype)


def _bool_out(_):
    return dtypes.bool_


# ----------------------------------------------------------------------------- unary
neg_p = elementwise("neg", np.negative, NUMERIC, quiet=False)
deflinear(neg_p, lambda ct, x: [neg(ct)])
sign_p = elementwise("sign", np.sign, NUMERIC, quiet=False)
defnondiff(sign_p)
floor_p = elementwise("floor", np.floor, FLOAT, quiet=False)
defnondiff(floor_p)
ceil_p = elementwise("ceil", np.ceil, FLOAT, quiet=False)
defnondiff(ceil_p)
round_p = elementwise("round", np.round, FLOAT, quiet=False)  # half to even, as NumPy and jnp.round
defnondiff(round_p)
is_finite_p = elementwise("is_finite", np.isfinite, INEXACT, out_dtype=_bool_out, quiet=False)
defnondiff(is_finite_p)
not_p = elementwise("not", np.invert, INTEGRAL, quiet=False)
defnondiff(not_p)
exp_p = elementwise("exp", np.exp, INEXACT)
defjvp(exp_p, lambda t, x, ans: mul(t, ans))
expm1_p = elementwise("expm1", np.expm1, INEXACT)
defjvp(expm1_p, lambda t, x, ans: mul(t, add(ans, _const(ans, 1))))
log_p = elementwise("log", np.log, INEXACT)
defjvp(log_p, lambda t, x, ans: div(t, x))
log1p_p = elementwise("log1p", np.log1p, INEXACT)
defjvp(log1p_p, lambda t, x, ans: div(t, add(x, _const(x, 1))))
tanh_p = elementwise("tanh", np.tanh, INEXACT, quiet=False)  # never warns
defjvp(tanh_p, lambda t, x, ans: mul(t, sub(_const(ans, 1), mul(ans, ans))))
logistic_p = elementwise("logistic", lambda x: np.exp(-np.logaddexp(0, -x)).astype(x.dtype),
                         INEXACT)
defjvp(logistic_p, lambda t, x, ans: mul(t, mul(ans, sub(_const(ans, 1), ans))))
sin_p = elementwise("sin", np.sin, INEXACT)
defjvp(sin_p, lambda t, x, ans: mul(t, cos(x)))
cos_p = elementwise("cos", np.cos, INEXACT)
defjvp(cos_p, lambda t, x, ans: neg(mul(t, sin(x))))
tan_p = elementwise("tan", np.tan, INEXACT)
defjvp(tan_p, lambda t, x, ans: mul(t, add(_const(ans, 1), mul(ans, ans))))
asin_p = elementwise("asin", np.arcsin, INEXACT)
defjvp(asin_p, lambda t, x, ans: mul(t, rsqrt(sub(_const(x, 1), mul(x, x)))))
acos_p = elementwise("acos", np.arccos, INEXACT)
defjvp(acos_p, lambda t, x, ans: neg(mul(t, rsqrt(sub(_const(x, 1), mul(x, x))))))
atan_p = elementwise("atan", np.arctan, INEXACT, quiet=False)  # never warns
defjvp(atan_p, lambda t, x, ans: div(t, add(_const(x, 1), mul(x, x))))
sinh_p = elementwise("sinh", np.sinh, INEXACT)
defjvp(sinh_p, lambda t, x, ans: mul(t, cosh(x)))
cosh_p = elementwise("cosh", np.cosh, INEXACT)
defjvp(cosh_p, lambda t, x, ans: mul(t, sinh(x)))
asinh_p = elementwise("asinh", np.arcsinh, INEXACT)
defjvp(asinh_p, lambda t, x, ans: mul(t, rsqrt(add(mul(x, x), _const(x, 1)))))
acosh_p = elementwise("acosh", np.arccosh, INEXACT)
defjvp(acosh_p, lambda t, x, ans: mul(t, rsqrt(sub(mul(x, x), _const(x, 1)))))
atanh_p = elementwise("atanh", np.arctanh, INEXACT)
defjvp(atanh_p, lambda t, x, ans: div(t, sub(_const(x, 1), mul(x, x))))
sqrt_p = elementwise("sqrt", np.sqrt, INEXACT)
defjvp(sqrt_p, lambda t, x, ans: div(t, mul(_const(ans, 2), ans)))
rsqrt_p = elementwise("rsqrt", lambda x: (1 / np.sqrt(x)).astype(x.dtype), INEXACT)
defjvp(rsqrt_p, lambda t, x, ans: mul(t, mul(_const(ans, -0.5), div(ans, x))))
cbrt_p = elementwise("cbrt", np.cbrt, FLOAT, quiet=False)  # never warns
defjvp(cbrt_p, lambda t, x, ans: mul(t, div(ans, mul(_const(x, 3), x))))
real_p = elementwise("real", np.real, "c", out_dtype=dtypes.real_dtype, quiet=False)
deflinear(real_p, lambda ct, x: [complex(ct, _const(ct, 0))])
imag_p = elementwise("imag", np.imag, "c", out_dtype=dtypes.real_dtype, quiet=False)
deflinear(imag_p, lambda ct, x: [complex(_const(ct, 0), neg(ct))])
conj_p = elementwise("conj", np.conjugate, INEXACT, quiet=False)
deflinear(conj_p, lambda ct, x: [conj(ct)])


abs_p = elementwise("abs", np.abs, NUMERIC, out_dtype=dtypes.real_dtype, quiet=False)


def _abs_jvp(t, x, ans):
    if x.aval.dtype.kind == "c":  # Re(conj(x) t) / |x|, and 0 at x = 0 (as JAX: not NaN)
        zero = eq(ans, _const(ans, 0))
        return div(real(mul(conj(x), t)), select(zero, _const(ans, 1), ans))
    # JAX's rule: the derivative at 0 is 1 (the right-hand one), not sign(0) = 0
    return select(ge(x, _const(x, 0)), t, neg(t))


defjvp(abs_p, _abs_jvp)


integer_pow_p = Primitive("integer_pow")
integer_pow_p.impl = lambda x, *, y: _int_pow_impl(x, y)
integer_pow_p.abstract_eval = lambda a, *, y: (
    check_dtype_kind("integer_pow", [a], NUMERIC, "numeric") or a)
defvectorized(integer_pow_p)


def _int_pow_impl(x, y):
    with np.errstate(all="ignore"):
        if y < 0:
            return (np.ones((), x.dtype) / x ** (-y)).astype(x.dtype) if x.dtype.kind in "fc" \
                else np.power(x.astype(np.float64), y).astype(x.dtype)
        return np.power(x, y, dtype=x.dtype)


def _integer_pow_jvp(t, x, ans, *, y):
    if y == 0:
        return mul(t, _const(x, 0))
    return mul(t, mul(_const(x, y), integer_pow(x, y - 1) if y != 1 else _const(x, 1)))


defjvp(integer_pow_p, _integer_pow_jvp)


# ----------------------------------------------------------------------------- binary
add_p = elementwise("add", np.add, NUMERIC)
deflinear(add_p, lambda ct, x, y: [ct, ct])
sub_p = elementwise("sub", np.subtract, NUMERIC)
deflinear(sub_p, lambda ct, x, y: [ct, neg(ct) if type(ct) is not Zero else ct])
mul_p = elementwise("mul", np.multiply, NUMERIC)


def _mul_transpose(ct, x, y):
    if type(ct) is Zero:
        return [None, None]
    if is_undefined(x):
        return [mul(ct, y), None]
    return [None, mul(x, ct)]


defjvp(mul_p, lambda t, x, y, ans: mul(t, y), lambda t, x, y, ans: mul(x, t))
mul_p.transpose = _mul_transpose


def _int_divisor(x, y):
    """(divisor with 1 where the quotient is not computed, mask of y == 0): the hardware
    traps (and NumPy warns) on x / 0 and on INT_MIN / -1."""
    by0 = y == 0
    bad = by0
    if x.dtype.kind == "i":
        bad = by0 | ((x == np.iinfo(x.dtype).min) & (y == -1))
    return np.where(bad, np.ones((), y.dtype), y), by0


div_p = elementwise("div", lambda x, y: _div_impl(x, y), NUMERIC)


def _div_impl(x, y):
    """Integer division as XLA defines it (``lax.div``): truncating toward zero (C), x / 0
    is -1 (all bits set: the maximum for unsigned ints) and INT_MIN / -1 wraps to INT_MIN.
    ``lnp.floor_divide`` builds NumPy's floor division (x // 0 == 0) on top of it."""
    with np.errstate(all="ignore"):
        if x.dtype.kind not in "iu":
            return np.true_divide(x, y)
        d, by0 = _int_divisor(x, y)
        q = np.floor_divide(x, d)
        if x.dtype.kind == "i":  # floor to truncation: exact, (x - fmod) is a multiple of d
            q = np.floor_divide(x - np.fmod(x, d), d)
        return np.where(by0, np.array(-1).astype(x.dtype), q).astype(x.dtype, copy=False)


def _div_transpose(ct, x, y):
    if is_undefined(y):
        raise TypeError("div is not linear in its denominator")
    return [None if type(ct) is Zero else div(ct, y), None]


defjvp(div_p, lambda t, x, y, ans: div(t, y),
       lambda t, x, y, ans: neg(mul(t, div(ans, y))))
div_p.transpose = _div_transpose


rem_p = elementwise("rem", lambda x, y: _rem_impl(x, y), NUMERIC)


def _rem_impl(x, y):
    """``lax.rem``: C remainder (the dividend's sign, as np.fmod) for floats and ints; for
    ints x % 0 is x and INT_MIN % -1 is 0, as XLA (np.fmod gives 0 and warns)."""
    with np.errstate(all="ignore"):
        if x.dtype.kind not in "iu":
            return np.fmod(x, y)
        d, by0 = _int_divisor(x, y)
        return np.where(by0, x, np.fmod(x, d)).astype(x.dtype, copy=False)


# d rem / dy = -trunc(x / y), computed as (x - rem) / y: an integer up to rounding, so it is
# rounded to nearest (truncating 2.9999999 gave 2: a wrong derivative near the jumps' middle)
defjvp(rem_p, lambda t, x, y, ans: t,
       lambda t, x, y, ans: neg(mul(t, round(div(sub(x, ans), y)))))


pow_p = elementwise("pow", lambda x, y: _pow_impl(x, y), INEXACT)


def _pow_impl(x, y):
    """C ``pow`` at every element (as XLA, and as np.power with an array exponent).  NumPy
    computes sqrt instead where the exponent is a broadcast (stride-0) 0.5, which differs
    at -inf (nan, not inf) and -0.0 (-0.0, not +0.0): those answers are restored so that
    the result does not depend on strides.  ``lnp.power`` with a scalar exponent 0.5 uses
    sqrt itself, as NumPy does."""
    with np.errstate(all="ignore"):
        out = np.power(x, y)
    if x.dtype.kind == "f":
        fix = (y == 0.5) & ((x == 0) | (x == -np.inf))
        if fix.any():
            out = np.where(fix, np.where(x == 0, 0, np.inf).astype(out.dtype), out)
    return out


def _pow_jvp_x(t, x, y, ans):
    # y * x**(y-1), defined as 0 where y == 0 (so d/dx x**0 = 0 even at x = 0)
    zero = _const(x, 0)
    d = mul(y, pow(x, sub(y, _const(y, 1))))
    return mul(t, select(eq(y, zero), zero, d))


def _pow_jvp_y(t, x, y, ans):
    zero = _const(x, 0)
    safe_x = select(eq(x, zero), _const(x, 1), x)
    return mul(t, select(eq(x, zero), zero, mul(log(safe_x), ans)))


defjvp(pow_p, _pow_jvp_x, _pow_jvp_y)


def _minmax_jvp(cmp):
    # Balanced subgradient: ties split the tangent equally (as JAX does).
    def rule_x(t, x, y, ans):
        half = _const(x, 0.5)
        w = select(cmp(x, y), _const(x, 1), select(eq(x, y), half, _const(x, 0)))
        return mul(t, w)

    def rule_y(t, x, y, ans):
        half = _const(y, 0.5)
        w = select(cmp(y, x), _const(y, 1), select(eq(x, y), half, _const(y, 0)))
        return mul(t, w)

    return rule_x, rule_y


max_p = elementwise("max", np.maximum, ANY)
defjvp(max_p, *_minmax_jvp(lambda x, y: gt(x, y)))  # gt and lt are defined below
min_p = elementwise("min", np.minimum, ANY)
defjvp(min_p, *_minmax_jvp(lambda x, y: lt(x, y)))
atan2_p = elementwise("atan2", np.arctan2, FLOAT)


def _atan2_denom(x, y):
    return add(mul(x, x), mul(y, y))


defjvp(atan2_p, lambda t, x, y, ans: mul(t, div(y, _atan2_denom(x, y))),
       lambda t, x, y, ans: neg(mul(t, div(x, _atan2_denom(x, y)))))


nextafter_p = elementwise("nextafter", np.nextafter, FLOAT)
defnondiff(nextafter_p)
and_p = elementwise("and", np.bitwise_and, INTEGRAL, quiet=False)
defnondiff(and_p)
or_p = elementwise("or", np.bitwise_or, INTEGRAL, quiet=False)
defnondiff(or_p)
xor_p = elementwise("xor", np.bitwise_xor, INTEGRAL, quiet=False)
defnondiff(xor_p)
shift_left_p = elementwise("shift_left", lambda x, y: _shift(np.left_shift, x, y), "iu")
defnondiff(shift_left_p)
shift_right_logical_p = elementwise(
    "shift_right_logical", lambda x, y: _shift_logical(x, y), "iu")
defnondiff(shift_right_logical_p)
shift_right_arithmetic_p = elementwise(
    "shift_right_arithmetic", lambda x, y: _shift(np.right_shift, x, y), "iu")
defnondiff(shift_right_arithmetic_p)


def _shift(fn, x, y):
    bits = x.dtype.itemsize * 8
    bad = (y < 0) | (y >= bits)
    safe = np.where(bad, 0, y).astype(x.dtype)
    out = fn(x, safe)
    zero = np.zeros((), x.dtype)
    if fn is np.right_shift and x.dtype.kind == "i":  # out-of-range shifts give the sign fill
        return np.where(bad, np.where(x < 0, np.array(-1, x.dtype), zero), out)
    return np.where(bad, zero, out)


def _shift_logical(x, y):
    u = x.view(np.dtype(f"u{x.dtype.itemsize}"))
    return _shift(np.right_shift, u, y.view(u.dtype)).view(x.dtype)


eq_p = elementwise("eq", np.equal, ANY, out_dtype=_bool_out, quiet=False)
defnondiff(eq_p)
ne_p = elementwise("ne", np.not_equal, ANY, out_dtype=_bool_out, quiet=False)
defnondiff(ne_p)
lt_p = elementwise("lt", np.less, ANY, out_dtype=_bool_out, quiet=False)
defnondiff(lt_p)
le_p = elementwise("le", np.less_equal, ANY, out_dtype=_bool_out, quiet=False)
defnondiff(le_p)
gt_p = elementwise("gt", np.greater, ANY, out_dtype=_bool_out, quiet=False)
defnondiff(gt_p)
ge_p = elementwise("ge", np.greater_equal, ANY, out_dtype=_bool_out, quiet=False)
defnondiff(ge_p)


# ----------------------------------------------------------------------------- select/convert
select_n_p = Primitive("select_n")


def _select_n_impl(pred, *cases):
    if pred.dtype == np.bool_:
        if len(cases) == 1:
            return cases[0].copy()
        if (pred.ndim and pred.size >= 1024 and cases[0].dtype == cases[1].dtype
                and cases[0].dtype.itemsize in (1, 2, 4, 8)):
            return _select_bits(pred, *cases)
        return np.where(pred, cases[1], cases[0])
    return np.choose(pred, cases)


def _select_bits(pred, on_false, on_true):
    """np.where(pred, on_true, on_false) on the bits, branch-free: np.where costs ~4 ns an
    element on an unpredictable mask (a relu's), this ~0.3 ns.  A case broadcast from a
    scalar (relu's zeros) is read as that scalar."""
    ity = np.dtype(f"i{on_false.dtype.itemsize}")

    def bits(c):
        if c.ndim and not any(c.strides):  # a broadcast scalar
            return np.array(c[(0,) * c.ndim]).view(ity)[()]
        return c.view(ity)

    f, t = bits(on_false), bits(on_true)
    if np.ndim(f) == 0 and f == 0:  # pred ? t : 0
        out = np.negative(pred.view(np.int8), dtype=ity)
        np.bitwise_and(out, t, out=out)
    elif np.ndim(t) == 0 and t == 0:  # pred ? 0 : f
        out = np.subtract(pred.view(np.int8), 1, dtype=ity)
        np.bitwise_and(out, f, out=out)
    else:  # f ^ ((f ^ t) & -pred)
        out = np.negative(pred.view(np.int8), dtype=ity)
        out &= np.bitwise_xor(f, t)
        out ^= f
    return out.view(on_false.dtype)


def _select_n_rule(pred, *cases):
    if not cases:
        fail_shape("select_n", "needs at least one case", pred)
    same_shape_and_dtype("select_n", cases)
    if pred.shape != cases[0].shape and pred.shape != ():
        fail_shape("select_n", "predicate must be a scalar or have the cases' shape", pred, *cases)
    if pred.dtype != dtypes.bool_ and pred.dtype.kind not in "iu":
        fail_dtype("select_n", "predicate must be boolean or integer", pred)
    if pred.dtype == dtypes.bool_ and len(cases) > 2:
        fail_dtype("select_n", "a boolean predicate selects between at most 2 cases", pred)
    return ShapedArray(cases[0].shape, cases[0].dtype, all(c.weak_type for c in cases))


select_n_p.impl = _select_n_impl
select_n_p.abstract_eval = _select_n_rule


def _select_n_batch(axis_size, vals, dims):
    pred, cases = vals[0], vals[1:]
    if dims[0] is None and not pred.aval.shape:
        cases, bd = align_batched(axis_size, cases, dims[1:])
        return select_n(pred, *cases), bd
    if not pred.aval.shape:  # batched scalar predicate: give it the cases' shape
        case_shape = next(c.aval.shape for c, d in zip(cases, dims[1:]) if d is None) \
            if all(d is None for d in dims[1:]) else None
        if case_shape is None:
            cases, bd = align_batched(axis_size, cases, dims[1:])
            full_shape = cases[0].aval.shape
            pred = broadcast_in_dim(pred, full_shape, (bd,))
            return select_n(pred, *cases), bd
        pred = broadcast_in_dim(pred, (axis_size,) + case_shape, (0,))
        vals, bd = align_batched(axis_size, [pred, *cases], [0] + [None] * len(cases))
        return select_n(*vals), bd
    vals, bd = align_batched(axis_size, vals, dims)
    return select_n(*vals), bd


select_n_p.batch = _select_n_batch


def _select_n_jvp(primals, tangents):
    pred, cases = primals[0], primals[1:]
    ans = select_n(pred, *cases)
    ts = tangents[1:]
    if all(type(t) is Zero for t in ts):
        return ans, Zero.like(ans)
    ts = [instantiate(t, tangent_aval(ans.aval)) for t in ts]
    return ans, select_n(pred, *ts)


def _select_n_transpose(ct, pred, *cases):
    if is_undefined(pred):
        raise TypeError("select_n is not linear in its predicate")
    if type(ct) is Zero:
        return [None] + [None] * len(cases)
    zeros = _const(ct, 0)
    out = [None]
    for i, c in enumerate(cases):
        if is_undefined(c):
            sel = [zeros] * len(cases)
            sel[i] = ct
            out.append(select_n(pred, *sel))
        else:
            out.append(None)
    return out


select_n_p.jvp = _select_n_jvp
select_n_p.transpose = _select_n_transpose

convert_element_type_p = Primitive("convert_element_type")


def _convert_impl(x, *, new_dtype, weak_type):
    if x.dtype.kind == "c" and new_dtype.kind != "c":
        x = x.real
    if new_dtype == dtypes.bool_:
        return x != 0
    with np.errstate(all="ignore"):
        return x.astype(new_dtype)


def _convert_rule(a, *, new_dtype, weak_type):
    return ShapedArray(a.shape, new_dtype, weak_type)


def _convert_jvp(primals, tangents, *, new_dtype, weak_type):
    (x,), (t,) = primals, tangents
    ans = convert_element_type(x, new_dtype, weak_type)
    if type(t) is Zero or not (dtypes.is_inexact(x.aval.dtype) and dtypes.is_inexact(new_dtype)):
        return ans, Zero.like(ans)
    return ans, convert_element_type(t, new_dtype, weak_type)


def _convert_transpose(ct, x, *, new_dtype, weak_type):
    if type(ct) is Zero:
        return [None]
    return [convert_element_type(ct, x.aval.dtype, x.aval.weak_type)]


convert_element_type_p.impl = _convert_impl
convert_element_type_p.abstract_eval = _convert_rule
convert_element_type_p.jvp = _convert_jvp
convert_element_type_p.transpose = _convert_transpose
convert_element_type_p.linear = True
defvectorized(convert_element_type_p)

complex_p = elementwise("complex", lambda x, y: (x + 1j * y).astype(
    dtypes.complex128 if x.dtype == dtypes.float64 else dtypes.complex64), FLOAT,
    out_dtype=lambda d: dtypes.complex128 if d == dtypes.float64 else dtypes.complex64)


# ----------------------------------------------------------------------------- lax-level API
def _unary(p):
    return lambda x: p.bind(x)


def _binary(p):
    return lambda x, y: p.bind(x, y)


neg, sign, floor, ceil, round, is_finite, bitwise_not = map(
    _unary, (neg_p, sign_p, floor_p, ceil_p, round_p, is_finite_p, not_p))
deflinear(complex_p, lambda ct, x, y: [real(ct), neg(imag(ct))])
exp, expm1, log, log1p, tanh, logistic = map(
    _unary, (exp_p, expm1_p, log_p, log1p_p, tanh_p, logistic_p))
sin, cos, tan, asin, acos, atan = map(_unary, (sin_p, cos_p, tan_p, asin_p, acos_p, atan_p))
sinh, cosh, asinh, acosh, atanh = map(_unary, (sinh_p, cosh_p, asinh_p, acosh_p, atanh_p))
sqrt, rsqrt, cbrt, abs, real, imag, conj = map(
    _unary, (sqrt_p, rsqrt_p, cbrt_p, abs_p, real_p, imag_p, conj_p))
add, sub, mul, pow = map(_binary, (add_p, sub_p, mul_p, pow_p))
provide(add=add)


def div(x, y):
    """``x / y``.  Integers divide as in C, truncating toward zero (``lax.div(-7, 2)`` is
    -3), with XLA's answers where C has none: ``x / 0`` is -1 (all bits set, so the
    maximum of an unsigned type) and ``INT_MIN / -1`` wraps to ``INT_MIN``."""
    return div_p.bind(x, y)


def rem(x, y):
    """The C remainder ``x - y * div(x, y)``: the dividend's sign, as ``np.fmod``.  For
    integers ``x % 0`` is ``x`` and ``INT_MIN % -1`` is 0, as in XLA."""
    return rem_p.bind(x, y)


def sign(x):
    """-1, 0 or 1 by the sign of ``x`` (NaN for NaN).  ``sign(-0.0)`` is +0.0, as np.sign
    (``jax.lax.sign`` keeps -0.0)."""
    return sign_p.bind(x)


def max(x, y):
    """Elementwise maximum; a NaN operand gives NaN.  Equal operands give ``y``, as
    ``np.maximum`` (``max(-0.0, 0.0)`` is 0.0 and ``max(0.0, -0.0)`` is -0.0)."""
    return max_p.bind(x, y)


def min(x, y):
    """Elementwise minimum; a NaN operand gives NaN; equal operands give ``y``."""
    return min_p.bind(x, y)
atan2, nextafter, bitwise_and, bitwise_or, bitwise_xor = map(
    _binary, (atan2_p, nextafter_p, and_p, or_p, xor_p))
shift_left, shift_right_logical, shift_right_arithmetic = map(
    _binary, (shift_left_p, shift_right_logical_p, shift_right_arithmetic_p))
eq, ne, lt, le, gt, ge = map(_binary, (eq_p, ne_p, lt_p, le_p, gt_p, ge_p))
complex = _binary(complex_p)

# Greatest common divisor / least common multiple of integers: host steps on NumPy's ufuncs,
# so every width's edge values (abs(INT_MIN) wrapping, overflowing products) are NumPy's.
gcd_p = elementwise("gcd", np.gcd, "iu")
defnondiff(gcd_p)
lcm_p = elementwise("lcm", np.lcm, "iu")
defnondiff(lcm_p)
gcd, lcm = _binary(gcd_p), _binary(lcm_p)


def integer_pow(x, y: int):
    return integer_pow_p.bind(x, y=int(y))


def select_n(pred, *cases):
    return select_n_p.bind(pred, *cases)


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` else ``on_false`` (lax.select argument order)."""
    return select_n_p.bind(pred, on_false, on_true)


def convert_element_type(x, new_dtype, weak_type=False):
    new_dtype = dtypes.canonicalize(new_dtype)
    aval = x.aval if hasattr(x, "aval") else concrete(x).aval
    if aval.dtype == new_dtype and aval.weak_type == weak_type:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=bool(weak_type))


def square(x):
    return mul(x, x)


def reciprocal(x):
    return div(_const(x, 1), x)


# ----------------------------------------------------------------------------- stop_gradient
stop_gradient_p = Primitive("stop_gradient")
stop_gradient_p.impl = lambda x: x
stop_gradient_p.abstract_eval = lambda a: a
stop_gradient_p.jvp = lambda primals, tangents: (stop_gradient_p.bind(*primals),
                                                 Zero.like(primals[0]))
defvectorized(stop_gradient_p)


def stop_gradient(x):
    """Identity whose derivative is zero."""
    return stop_gradient_p.bind(x)
