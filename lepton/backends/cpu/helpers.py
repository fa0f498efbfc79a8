"""Scalar helpers called from generated kernels (``K.name(...)`` in their source).

They are plain ``njit`` functions: Numba links them into each calling kernel, where LLVM
inlines them, so they cost nothing per call and keep loops vectorisable.  They are not
cached themselves (that would write next to this file, possibly into site-packages);
the kernels that inline them are, and the kernel cache key hashes this file.

float32 transcendentals.  PyPI's llvmlite has no SVML, so ``np.exp`` & co. on float32
become scalar libm calls that block vectorisation.  The ``*_f32`` helpers below evaluate
in float64 with branch-free polynomials (FMA-contracted), then round once to float32:
measured against float64 libm on every 7th (exp) or 101st float32 bit pattern, exp, tanh,
logistic, sin and cos are within 0.5001 ulp, and fewer than 1 in 10**6 results round
the wrong way (NumPy's own float32 exp is 2.5 ulp), inf, nan, -0.0, overflow and subnormal
results included (tests/test_cpu_helpers.py).  ``sin_f32``/``cos_f32`` are exact only for
|x| < 2**20 (argument reduction in float64); kernels check that bound and redo their loop
with libm when any argument exceeds it (the ``guard`` of their rows in
``cpu/lowering.py``).

Vector throughput is what counts here: LLVM vectorises a kernel's loop with these helpers
inlined (8 float64 lanes per AVX-512 op), and the loop is bound by its FMA-unit ops.  So
the helpers spend as few as the accuracy allows: fitted rather than Taylor polynomials,
one polynomial for sin and cos instead of two and a select, rounding to an integer by
adding a shifter constant (no floor and float-to-int conversion), 2^k from the shifted
sum's bits, and FMA argument reductions.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core.extending import intrinsic

from .noalias import NoAliasCompiler  # noqa: F401  (kernel options name K.NoAliasCompiler)

_fast = dict(error_model="numpy", fastmath={"contract"})


def _int_division(rem: bool):
    """An intrinsic computing lax.div (``rem=False``) or lax.rem of two integers as XLA
    defines them: C division truncating toward zero (the remainder takes the dividend's
    sign); ``x / 0`` is -1 (all bits set), ``x % 0`` is ``x``; ``INT_MIN / -1`` wraps to
    ``INT_MIN`` and ``INT_MIN % -1`` is 0.  LLVM's ``sdiv``/``udiv`` on the operands' own
    width: no ``abs()`` (which overflows at ``INT_MIN``) and no float64 round trip (inexact
    beyond 2**53), and the divisor is replaced by 1 where the hardware would trap."""
    def typer(typingctx, a, b):
        if not (isinstance(a, types.Integer) and isinstance(b, types.Integer)):
            return None
        ty = a if a == b else typingctx.unify_pairs(a, b)
        if not isinstance(ty, types.Integer):  # int64 with uint64: no common integer type
            return None

        def codegen(context, builder, sig, args):
            x, y = (context.cast(builder, v, t, ty) for v, t in zip(args, sig.args))
            lt = x.type
            by0 = builder.icmp_unsigned("==", y, ir.Constant(lt, 0))
            bad = by0
            if ty.signed:
                ovf = builder.and_(
                    builder.icmp_signed("==", x, ir.Constant(lt, -(1 << (ty.bitwidth - 1)))),
                    builder.icmp_signed("==", y, ir.Constant(lt, -1)))
                bad = builder.or_(by0, ovf)
            safe = builder.select(bad, ir.Constant(lt, 1), y)
            if rem:
                r = (builder.srem if ty.signed else builder.urem)(x, safe)
                return builder.select(by0, x, r)
            q = (builder.sdiv if ty.signed else builder.udiv)(x, safe)
            return builder.select(by0, ir.Constant(lt, -1), q)
        return ty(ty, ty), codegen
    return intrinsic(typer)


idiv = _int_division(rem=False)
irem = _int_division(rem=True)


@njit(error_model="numpy")
def logistic(x, one):
    """1 / (1 + exp(-x)) without overflow: exp only ever sees -|x|."""
    e = np.exp(-abs(x))
    return one / (one + e) if x >= 0 else e / (one + e)


# ----------------------------------------------------------------------------- accumulators
def _reassociable(opname: str):
    """An intrinsic ``acc <op> value`` (value cast to the accumulator's float type) whose
    one instruction carries LLVM's ``reassoc`` flag: a reduction loop vectorises (its
    partial sums may be combined in any order) while the values it accumulates keep the
    order the program gives them (no kernel-wide fast-math)."""
    @intrinsic
    def op(typingctx, acc, value):
        if not isinstance(acc, types.Float) or not isinstance(value, types.Number):
            return None

        def codegen(context, builder, sig, args):
            v = context.cast(builder, args[1], sig.args[1], sig.args[0])
            return getattr(builder, opname)(args[0], v, flags=("reassoc",))
        return acc(acc, value), codegen
    return op


reassoc_add = _reassociable("fadd")
reassoc_mul = _reassociable("fmul")


def _extremum(name: str):
    """An intrinsic ``llvm.maximum``/``llvm.minimum`` of two floats of one type: IEEE
    754-2019 maximum and minimum, which propagate NaN and order -0 below +0 (what JAX's
    max and min return, whatever the order of their operands).  Unlike a compare and
    select, LLVM vectorises a reduction over them: a 1M float32 max took 1.9 ms as a
    select chain, 65 us as ``llvm.maximum``."""
    @intrinsic
    def op(typingctx, a, b):
        if not isinstance(a, types.Float) or a != b:
            return None

        def codegen(context, builder, sig, args):
            lt = args[0].type
            fn = builder.module.declare_intrinsic(f"llvm.{name}", [lt],
                                                  ir.FunctionType(lt, [lt, lt]))
            return builder.call(fn, args)
        return a(a, b), codegen
    return op


maximum = _extremum("maximum")
minimum = _extremum("minimum")


# ----------------------------------------------------------------------------- float64 core
@intrinsic
def _f64_from_bits(typingctx, bits):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _bits_of_f64(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once (``llvm.fma``: one vector FMA, never split into a multiply
    and an add, which the two-part reduction of ``_sincos64`` relies on)."""
    def codegen(context, builder, sig, args):
        return builder.fma(*args)
    return types.float64(types.float64, types.float64, types.float64), codegen


# Rounding to an integer by adding 1.5 * 2**52: the sum's last mantissa bit is worth 1, so
# round-to-nearest leaves the integer k = sum - _SHIFTER exactly, and the sum's low bits
# hold k in two's complement (its parity; 2^k's exponent with the bias added in).  Two
# vector ops (an FMA and a subtraction) where floor() and a float-to-int conversion cost
# four, and valid for |k| < 2**51.
_SHIFTER = 6755399441055744.0


_INV_LN2 = 1.4426950408889634
_LN2 = 0.6931471805599453

# Polynomials: Chebyshev fits (``mpmath.chebyfit``, 40 digits, coefficients rounded to
# float64, lowest degree first) on the reduced ranges, slightly widened for the reductions'
# rounding.  Fewer terms than Taylor series of the same accuracy (every term is one FMA in
# the vectorised loop), and the leading terms stay exact, so that the error vanishes with
# r as a Taylor series' does: near 0, where most float32 arguments are, results that lie
# close to a rounding midpoint still round correctly.
_EXPM1_Q = (0.5, 0.1666666671931248, 0.041666666719295684, 0.008333298344023092,
            0.001388885390994504, 0.00019899390183679232,
            2.485969439475207e-05)  # e^r = 1 + r + r^2 q(r), |r| <= ln2/2: 4.3e-12 relative
_SIN_P = (-0.1666666666666665, 0.008333333333325924, -0.00019841269836464245,
          2.755731805475644e-06, -2.505197284086259e-08, 1.60509690477946e-10,
          -7.408007795516067e-13)  # sin(r) = r (1 + r^2 p(r^2)), |r| <= pi/2: 7.6e-16


@njit(**_fast)
def _reduce_ln2(x):
    """(r, 2^k) with x = k ln2 + r, |r| <= ln2/2, for |x| < 708 (2^k normal).  One FMA
    for r: |k| <= 1022 times _LN2's error (2.3e-17) leaves r within 3e-14, a relative
    error that e^r keeps, far below a float32 ulp (no Cody-Waite split needed)."""
    t = x * _INV_LN2 + (_SHIFTER + 1023.0)  # low bits: k + 1023, 2^k's biased exponent
    k = t - (_SHIFTER + 1023.0)
    r = x - k * _LN2
    return r, _f64_from_bits(_bits_of_f64(t) << 52)


@njit(**_fast)
def _expm1_q(r):
    c = _EXPM1_Q
    return c[0] + r * (c[1] + r * (c[2] + r * (c[3] + r * (c[4] + r * (c[5] + r * c[6])))))


@njit(**_fast)
def _exp64(x):
    """exp(x) for float64 |x| <= 700 to ~5e-12 relative (plenty for a float32 result):
    x = k ln2 + r, a polynomial for e^r, times 2^k."""
    r, scale = _reduce_ln2(x)
    return (1.0 + r * (1.0 + r * _expm1_q(r))) * scale


@njit(**_fast)
def _expm1_64(x):
    """e^x - 1 for float64 0 <= x <= 700 to ~5e-12 relative, small x included (no
    cancellation): 2^k (1 + p) - 1 = 2^k p + (2^k - 1), with p = e^r - 1 = r + r^2 q(r)."""
    r, s = _reduce_ln2(x)
    p = r + (r * r) * _expm1_q(r)
    return s * p + (s - 1.0)


# ----------------------------------------------------------------------------- float32
@njit(**_fast)
def exp_f32(x):
    d = np.float64(x)
    y = np.float32(_exp64(min(max(d, -104.0), 89.0)))  # beyond: 0 and inf after rounding
    return y if d == d else x


@njit(**_fast)
def tanh_f32(x):
    """tanh|x| = E / (E + 2) with E = expm1(2|x|): one exp and one division, no branch
    for small |x| (expm1 keeps their relative accuracy)."""
    d = np.float64(x)
    e = _expm1_64(2.0 * min(abs(d), 20.0))  # tanh(20) rounds to 1 in float32
    y = np.float32(np.copysign(e / (e + 2.0), d))
    return y if d == d else x


@njit(**_fast)
def logistic_f32(x):
    d = np.float64(x)
    e = _exp64(max(-abs(d), -120.0))
    y = np.float32(1.0 / (1.0 + e) if d >= 0 else e / (1.0 + e))
    return y if d == d else x


# pi/2 = _PIO2_HI + _PIO2_LO to ~1e-33.  With FMAs, r = (d - m _PIO2_HI) - m _PIO2_LO
# loses only the first FMA's rounding, at most 2**-53 |r + m _PIO2_LO|: relative to r
# under 1e-16 for every float32 |d| < 2**20: |m _PIO2_LO| < 7e-11, and the float32
# closest to a nonzero multiple of pi/2 there (252.89821 = 161 pi/2 + 4.2e-9) is 4.2e-9
# away.
_INV_PI = 0.3183098861837907
_PIO2_HI = 1.5707963267948966
_PIO2_LO = 6.123233995736766e-17
SINCOS_LIMIT = 1048576.0  # 2**20: |x| below this reduces exactly


@njit(**_fast)
def _sincos64(d, shift):
    """sin(d + shift * pi/2) for |d| < 2**20 (shift 1 gives cos), to ~1e-15: with
    k = round(d/pi + shift/2), d + shift pi/2 = k pi + r, |r| <= pi/2, and the result is
    (-1)^k sin(r).  One odd polynomial on [-pi/2, pi/2] rather than a sine and a cosine
    polynomial on [-pi/4, pi/4] and a select: vectorised code evaluated both."""
    t = (d * _INV_PI + 0.5) + _SHIFTER if shift else d * _INV_PI + _SHIFTER
    k = t - _SHIFTER
    m = 2.0 * k - shift  # r = d - m pi/2; |m| < 2**20
    r = _fma(-m, _PIO2_LO, _fma(-m, _PIO2_HI, d))
    r2 = r * r
    c = _SIN_P
    s = r * (1.0 + r2 * (c[0] + r2 * (c[1] + r2 * (c[2] + r2 * (c[3] + r2 * (
        c[4] + r2 * (c[5] + r2 * c[6])))))))
    return _f64_from_bits(_bits_of_f64(s) ^ (_bits_of_f64(t) << 63))  # (-1)^k: k's parity


@njit(**_fast)
def sin_f32(x):
    d = np.float64(x)
    y = np.float32(_sincos64(d, 0))
    return y if np.isfinite(d) else np.float32(np.nan)


@njit(**_fast)
def cos_f32(x):
    d = np.float64(x)
    y = np.float32(_sincos64(d, 1))
    return y if np.isfinite(d) else np.float32(np.nan)
