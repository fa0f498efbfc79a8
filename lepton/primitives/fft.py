"""The discrete Fourier transform primitive (as ``jax.lax.fft``): one of four types ("fft",
"ifft", "rfft", "irfft") over the trailing ``len(fft_lengths)`` axes, run on the host by
NumPy's pocketfft (a host step in every backend).

It is linear, so its JVP applies it to the tangent and its transpose is again a transform
(the DFT matrix is symmetric; the real transforms reweight the bins that the Hermitian half
spectrum stores once), following JAX's rules and its convention for complex cotangents.
"""
from __future__ import annotations

import enum
import math

import numpy as np

from .. import dtypes
from ..core import Array, Primitive, ShapedArray, concrete
from . import elementwise as ew
from .base import Zero, deflinear, fail_dtype, fail_shape, move_to_front
from .structural import broadcast_in_dim, full

FFT_TYPES = ("fft", "ifft", "rfft", "irfft")


class FftType(enum.IntEnum):
    """``jax.lax.FftType``: ``fft`` also takes the lower-case names as strings."""
    FFT = 0
    IFFT = 1
    RFFT = 2
    IRFFT = 3

fft_p = Primitive("fft")


def _complex_of(dt):
    return dtypes.complex128 if dt in (dtypes.float64, dtypes.complex128) else dtypes.complex64


def _real_of(dt):
    return dtypes.float64 if dt in (dtypes.float64, dtypes.complex128) else dtypes.float32


def _impl(x, *, fft_type, fft_lengths):
    axes = tuple(range(x.ndim - len(fft_lengths), x.ndim))
    fn = {"fft": np.fft.fftn, "ifft": np.fft.ifftn, "rfft": np.fft.rfftn,
          "irfft": np.fft.irfftn}[fft_type]
    out_dt = _real_of(x.dtype) if fft_type == "irfft" else _complex_of(x.dtype)
    if x.size == 0 or not fft_lengths:
        shape = _rule(ShapedArray(x.shape, x.dtype), fft_type=fft_type,
                      fft_lengths=fft_lengths).shape
        return np.zeros(shape, out_dt)
    return np.asarray(fn(x, s=fft_lengths, axes=axes)).astype(out_dt, copy=False)


def _rule(x, *, fft_type, fft_lengths):
    name = f"fft ({fft_type})"
    k = len(fft_lengths)
    if fft_type not in FFT_TYPES:
        raise ValueError(f"fft: fft_type must be one of {FFT_TYPES}, got {fft_type!r}")
    if any(n < 1 for n in fft_lengths):
        fail_shape(name, f"fft_lengths {fft_lengths} must be positive (a transform of no "
                   "points is undefined)", x)
    if k > x.ndim:
        fail_shape(name, f"fft_lengths {fft_lengths} name more axes than the operand has", x)
    minor = x.shape[x.ndim - k:]
    if fft_type == "rfft":
        if x.dtype not in (dtypes.float32, dtypes.float64):
            fail_dtype(name, "needs a float32 or float64 operand", x)
        if minor != fft_lengths:
            fail_shape(name, f"the operand's minor dimensions must equal fft_lengths "
                       f"{fft_lengths}", x)
        shape = x.shape[:x.ndim - k] + fft_lengths[:-1] + (fft_lengths[-1] // 2 + 1,)
        return ShapedArray(shape, _complex_of(x.dtype))
    if x.dtype.kind != "c":
        fail_dtype(name, "needs a complex64 or complex128 operand", x)
    if fft_type == "irfft":
        if minor[:-1] != fft_lengths[:-1]:
            fail_shape(name, f"the operand's minor dimensions but the last must equal "
                       f"fft_lengths[:-1] {fft_lengths[:-1]}", x)
        return ShapedArray(x.shape[:x.ndim - k] + fft_lengths, _real_of(x.dtype))
    if minor != fft_lengths:
        fail_shape(name, f"the operand's minor dimensions must equal fft_lengths "
                   f"{fft_lengths}", x)
    return ShapedArray(x.shape, x.dtype)


def fft(x, fft_type, fft_lengths):
    """``jax.lax.fft``: the transform of type ``fft_type`` (a string or an enum with a
    ``name``) over the trailing ``len(fft_lengths)`` axes.  As JAX, the operand is converted
    first: to its real floating dtype for "rfft" (complex operands are rejected), to complex
    for the others."""
    fft_type = str(getattr(fft_type, "name", fft_type)).lower()
    if fft_type not in FFT_TYPES:
        raise ValueError(f"fft: fft_type must be one of {FFT_TYPES}, got {fft_type!r}")
    fft_lengths = tuple(int(n) for n in fft_lengths)
    if not hasattr(x, "aval"):  # NumPy arrays and Python scalars
        x = concrete(x)
    dt = x.aval.dtype
    if fft_type == "rfft":
        if dt.kind == "c":
            raise ValueError(f"fft: rfft takes real operands only, got {x.aval.str_short()}")
        x = ew.convert_element_type(x, dt if dt in (dtypes.float32, dtypes.float64)
                                    else dtypes.float32)
    elif dt.kind != "c":
        x = ew.convert_element_type(x, _complex_of(dt))
    if not fft_lengths:
        return x
    return fft_p.bind(x, fft_type=fft_type, fft_lengths=fft_lengths)


def _half_weights(t, n, dt):
    """Weight of each stored bin of a half spectrum of length ``n`` along the last axis of
    ``t``: 1 for the bins stored once (0, and n/2 for even n), 2 for the mirrored ones."""
    m = t.aval.shape[-1]
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    wa = Array(w.astype(dt), ShapedArray((m,), dt))
    return broadcast_in_dim(wa, t.aval.shape, (t.aval.ndim - 1,))


def _transpose(ct, x, *, fft_type, fft_lengths):
    if type(ct) is Zero:
        return [None]
    n = math.prod(fft_lengths)
    if fft_type == "rfft":
        w = _half_weights(ct, fft_lengths[-1], ct.aval.dtype)
        out = fft(ew.div(ew.conj(ct), w), "irfft", fft_lengths)
        return [ew.mul(out, full(out.aval.shape, n, out.aval.dtype))]
    if fft_type == "irfft":
        y = fft(ct, "rfft", fft_lengths)
        w = _half_weights(y, fft_lengths[-1], y.aval.dtype)
        y = ew.mul(ew.div(w, full(w.aval.shape, n, w.aval.dtype)), y)
        return [ew.conj(y)]
    return [fft(ct, fft_type, fft_lengths)]


def _batch(axis_size, vals, dims, *, fft_type, fft_lengths):
    (x,), (d,) = vals, dims
    return fft(move_to_front(x, d, axis_size), fft_type, fft_lengths), 0


fft_p.impl = _impl
fft_p.abstract_eval = _rule
deflinear(fft_p, _transpose)
fft_p.batch = _batch
