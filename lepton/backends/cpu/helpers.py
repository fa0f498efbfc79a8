"""Scalar helpers called from generated kernels (``K.name(...)`` in their source).

They are plain ``njit`` functions: Numba links them into each calling kernel, where LLVM
inlines them, so they cost nothing per call and keep loops vectorisable.  They are not
cached themselves (that would write next to this file, possibly into site-packages);
the kernels that inline them are, and the kernel cache key hashes this file.

float32 transcendentals.  PyPI's llvmlite has no SVML, so ``np.exp`` & co. on float32
become scalar libm calls that block vectorisation.  The ``*_f32`` helpers below evaluate
in float64 with branch-free polynomials (FMA-contracted), then round once to float32:
measured against the correctly rounded result on 10M samples spanning the float32 range,
exp, tanh, logistic, sin and cos are within 0.51 ulp (NumPy's own float32 exp is 2.5 ulp),
including inf, nan, -0.0, overflow and subnormal results.  ``sin_f32``/``cos_f32`` are
exact only for |x| < 2**20 (Cody-Waite reduction); kernels check that bound and redo
their loop with libm when any argument exceeds it (the ``guard`` of their rows in
``cpu/lowering.py``).
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


# ----------------------------------------------------------------------------- float64 core
@intrinsic
def _f64_from_bits(typingctx, bits):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_INV_LN2 = 1.4426950408889634
_LN2_HI = 0.6931471803691238      # 32 significant bits: k * _LN2_HI is exact
_LN2_LO = 1.9082149292705877e-10


@njit(**_fast)
def _exp64(x):
    """exp(x) for float64 |x| <= 700 to ~2e-10 relative (plenty for a float32 result):
    x = k ln2 + r with |r| <= ln2/2, a degree-8 Taylor polynomial for e^r, times 2^k."""
    k = np.floor(x * _INV_LN2 + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 + r * (1.0 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (
        1 / 120 + r * (1 / 720 + r * (1 / 5040 + r * (1 / 40320))))))))
    return p * _f64_from_bits((np.int64(k) + 1023) << 52)


# ----------------------------------------------------------------------------- float32
@njit(**_fast)
def exp_f32(x):
    d = np.float64(x)
    y = np.float32(_exp64(min(max(d, -104.0), 89.0)))  # beyond: 0 and inf after rounding
    return y if d == d else x


@njit(**_fast)
def tanh_f32(x):
    d = np.float64(x)
    a = min(abs(d), 20.0)  # tanh(20) rounds to 1 in float32
    a2 = a * a
    series = a * (1.0 + a2 * (-1 / 3 + a2 * (2 / 15 + a2 * (-17 / 315 + a2 * (
        62 / 2835 + a2 * (-1382 / 155925))))))
    t = series if a < 0.0625 else 1.0 - 2.0 / (_exp64(2.0 * a) + 1.0)
    y = np.float32(np.copysign(t, d))
    return y if d == d else x


@njit(**_fast)
def logistic_f32(x):
    d = np.float64(x)
    e = _exp64(max(-abs(d), -120.0))
    y = np.float32(1.0 / (1.0 + e) if d >= 0 else e / (1.0 + e))
    return y if d == d else x


# Cody-Waite: pi/2 = _PIO2_1 + _PIO2_2 + _PIO2_3, the first two with 33 significant bits,
# so k * _PIO2_1 and k * _PIO2_2 are exact for |k| < 2**20.
_TWO_OVER_PI = 0.6366197723675814
_PIO2_1 = 1.5707963267341256
_PIO2_2 = 6.077100506303966e-11
_PIO2_3 = 2.0222662487959506e-21
SINCOS_LIMIT = 1048576.0  # 2**20: |x| below this reduces exactly


@njit(**_fast)
def _sincos64(d, shift):
    """sin(d + shift * pi/2) for |d| < 2**20 (shift 1 gives cos)."""
    k = np.floor(d * _TWO_OVER_PI + 0.5)
    r = ((d - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
    q = (np.int64(k) + shift) & 3
    r2 = r * r
    s = r * (1.0 + r2 * (-1 / 6 + r2 * (1 / 120 + r2 * (-1 / 5040 + r2 * (
        1 / 362880 + r2 * (-1 / 39916800))))))
    c = 1.0 + r2 * (-0.5 + r2 * (1 / 24 + r2 * (-1 / 720 + r2 * (1 / 40320 + r2 * (
        -1 / 3628800 + r2 * (1 / 479001600))))))
    v = s if (q & 1) == 0 else c
    return -v if q & 2 else v


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
