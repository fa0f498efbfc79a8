"""``lepton.numpy.fft`` (as ``jax.numpy.fft``): discrete Fourier transforms over the ``fft``
primitive (NumPy's pocketfft on the host, in every backend), so they jit, vmap and
differentiate; the frequency helpers and shifts are plain array ops.

As JAX: complex results are complex64 for float32/complex64/integer inputs (complex128 for
64-bit ones), not NumPy's complex128; ``rfft*`` reject complex inputs (NumPy drops the
imaginary part with a warning).
"""
from __future__ import annotations

import math
import operator

import numpy as np

from .. import dtypes
from ..core import Tracer
from ..primitives.fft import fft as _lax_fft
from ._creation import arange
from ._pad import pad
from ._shape import moveaxis, roll
from ._ufuncs import conj
from .util import asarray, to_dtype

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2",
           "irfft2", "fftn", "ifftn", "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift",
           "ifftshift"]

_NORMS = (None, "backward", "ortho", "forward")


def _operand(name, kind, a):
    """``a`` in the dtype the transform takes: complex for fft/ifft/irfft, real for rfft."""
    x = asarray(a)
    dt = x.dtype
    if kind == "rfft":
        if dt.kind == "c":
            raise ValueError(f"{name}: only real-valued inputs are supported (got {dt}); use "
                             f"fft for complex inputs")
        out = dt if dt.kind == "f" and dt != dtypes.float16 else dtypes.promote(
            (dt, False), (dtypes.float32, True))[0]
        if out == dtypes.float16:
            out = dtypes.float32
        return to_dtype(x, out)
    if dt.kind == "c":
        return x
    real = dt if dt.kind == "f" else dtypes.promote((dt, False), (dtypes.float32, True))[0]
    return to_dtype(x, dtypes.complex128 if real == dtypes.float64 else dtypes.complex64)


def _scale(name, norm, s, inverse):
    if norm not in _NORMS:
        raise ValueError(f'{name}: invalid norm {norm!r}; use "backward", "ortho" or '
                         f'"forward"')
    if norm in (None, "backward"):
        return None
    n = math.prod(s)
    if norm == "ortho":
        return math.sqrt(n) if inverse else 1 / math.sqrt(n)
    return float(n) if inverse else 1 / n


def _core(name, kind, a, s, axes, norm):
    arr = _operand(name, kind, a)
    if s is not None:
        if isinstance(s, Tracer):
            raise TypeError(f"{name}: s must be static (a tuple of ints)")
        s = tuple(operator.index(n) for n in s)
        if any(n <= 0 for n in s):
            raise ValueError(f"{name}: s must be positive, got {s}")
    if s is not None and axes is not None and len(s) != len(axes):
        raise ValueError(f"{name}: s {s} and axes {tuple(axes)} have different lengths")
    orig_axes = axes
    if axes is None:
        axes = tuple(range(arr.ndim)) if s is None else tuple(range(arr.ndim - len(s),
                                                                    arr.ndim))
    axes = tuple(operator.index(ax) for ax in axes)
    if len(axes) > arr.ndim:
        raise ValueError(f"{name}: {len(axes)} axes given for an array of shape {arr.shape}")
    norm_axes = tuple(ax % arr.ndim if -arr.ndim <= ax < arr.ndim else None for ax in axes)
    if None in norm_axes:
        raise ValueError(f"{name}: axes {axes} out of range for an array of shape "
                         f"{arr.shape}")
    if len(set(norm_axes)) != len(norm_axes):
        raise ValueError(f"{name} does not support repeated axes, got axes {axes}")
    if orig_axes is not None:
        axes = tuple(range(arr.ndim - len(axes), arr.ndim))
        arr = moveaxis(arr, norm_axes, axes)
    if s is not None:
        in_s = list(arr.shape)
        for ax, n in zip(axes, s):
            in_s[ax] = n
        if kind == "irfft":
            in_s[-1] = in_s[-1] // 2 + 1
        arr = arr[tuple(slice(n) for n in in_s)]
        arr = pad(arr, [(0, n - m) for n, m in zip(in_s, arr.shape)])
    else:
        if kind == "irfft":
            s = [arr.shape[ax] for ax in axes[:-1]]
            if axes:
                s += [max(0, 2 * (arr.shape[axes[-1]] - 1))]
        else:
            s = [arr.shape[ax] for ax in axes]
    s = tuple(s)
    if any(n < 1 for n in s):
        raise ValueError(f"{name}: invalid number of data points ({s}) for an array of "
                         f"shape {np.shape(arr)} along axes {tuple(axes)}")
    out = _lax_fft(arr, kind, s)
    scale = _scale(name, norm, s, name.startswith("i"))
    if scale is not None:
        out = out * scale  # a weak Python float: keeps out's dtype, no float32 rounding
    if orig_axes is not None:
        out = moveaxis(out, axes, norm_axes)
    return out


def _one_axis(name, axis):
    if isinstance(axis, (list, tuple)):
        raise ValueError(f"{name} does not support multiple axes; use {name}n (got axis "
                         f"{axis!r})")
    return None if axis is None else [axis]


def _two_axes(name, axes):
    if len(axes) != 2:
        raise ValueError(f"{name} only supports 2 axes, got axes {axes!r}")
    return axes


def fft(a, n=None, axis=-1, norm=None):
    """One-dimensional DFT along ``axis`` (``n`` crops or zero-pads the input)."""
    return _core("fft", "fft", a, None if n is None else [n], _one_axis("fft", axis), norm)


def ifft(a, n=None, axis=-1, norm=None):
    """Inverse of ``fft``."""
    return _core("ifft", "ifft", a, None if n is None else [n], _one_axis("ifft", axis), norm)


def rfft(a, n=None, axis=-1, norm=None):
    """DFT of a real input: the ``n // 2 + 1`` non-negative frequency terms."""
    return _core("rfft", "rfft", a, None if n is None else [n], _one_axis("rfft", axis), norm)


def irfft(a, n=None, axis=-1, norm=None):
    """Inverse of ``rfft``: a real output of length ``n`` (default ``2 * (m - 1)``)."""
    return _core("irfft", "irfft", a, None if n is None else [n], _one_axis("irfft", axis),
                 norm)


_SWAP = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def hfft(a, n=None, axis=-1, norm=None):
    """DFT of a signal with Hermitian symmetry (a real spectrum), as NumPy:
    ``irfft(conj(a), n, axis, norm=swapped direction)``."""
    if norm not in _NORMS:
        _scale("hfft", norm, (1,), False)
    return irfft(conj(asarray(a)), n, axis, _SWAP[norm])


def ihfft(a, n=None, axis=-1, norm=None):
    """Inverse of ``hfft``: ``conj(rfft(a, n, axis, norm=swapped direction))``."""
    if norm not in _NORMS:
        _scale("ihfft", norm, (1,), False)
    return conj(rfft(a, n, axis, _SWAP[norm]))


def fft2(a, s=None, axes=(-2, -1), norm=None):
    return _core("fft2", "fft", a, s, _two_axes("fft2", axes), norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    return _core("ifft2", "ifft", a, s, _two_axes("ifft2", axes), norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    return _core("rfft2", "rfft", a, s, _two_axes("rfft2", axes), norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    return _core("irfft2", "irfft", a, s, _two_axes("irfft2", axes), norm)


def fftn(a, s=None, axes=None, norm=None):
    """N-dimensional DFT over ``axes`` (all, or the last ``len(s)``, by default)."""
    return _core("fftn", "fft", a, s, axes, norm)


def ifftn(a, s=None, axes=None, norm=None):
    return _core("ifftn", "ifft", a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm=None):
    return _core("rfftn", "rfft", a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
    return _core("irfftn", "irfft", a, s, axes, norm)


def _freq_dtype(name, n, d, dtype):
    if isinstance(n, (list, tuple)):
        raise ValueError(f"{name}: n must be an int, got {list(n)}")
    if isinstance(d, (list, tuple)):
        raise ValueError(f"{name}: d must be a single value, got {list(d)}")
    return dtypes.default_float() if dtype is None else dtypes.canonicalize(dtype)


def fftfreq(n, d=1.0, *, dtype=None, device=None):
    """Sample frequencies of an ``n``-point DFT with sample spacing ``d`` (float32 by
    default, as JAX)."""
    dt = _freq_dtype("fftfreq", n, d, dtype)
    n = operator.index(n)
    i = arange(n, dtype=dt)
    k = (i + n // 2) % n - n // 2
    return k / to_dtype(asarray(d) * n, dt)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
    """The non-negative sample frequencies of ``rfft`` (``n // 2 + 1`` of them)."""
    dt = _freq_dtype("rfftfreq", n, d, dtype)
    n = operator.index(n)
    k = arange(0, n // 2 + 1, dtype=dt)
    return k / to_dtype(asarray(d) * n, dt)


def _shifts(x, axes, sign):
    if axes is None:
        axes = tuple(range(x.ndim))
        return [sign * (dim // 2) for dim in x.shape], axes
    if isinstance(axes, int):
        return sign * (x.shape[axes] // 2), axes
    return [sign * (x.shape[ax] // 2) for ax in axes], tuple(axes)


def fftshift(x, axes=None):
    """Move the zero-frequency term to the centre (a roll by half of each axis)."""
    x = asarray(x)
    shift, axes = _shifts(x, axes, 1)
    return roll(x, shift, axes)


def ifftshift(x, axes=None):
    """Inverse of ``fftshift``."""
    x = asarray(x)
    shift, axes = _shifts(x, axes, -1)
    return roll(x, shift, axes)
