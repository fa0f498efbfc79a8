"""Counter-based random bits: the Threefry-2x32 block cipher as one primitive.

``threefry2x32(key0, key1, x0, x1) -> (y0, y1)`` encrypts the counter pairs ``(x0, x1)``
under the key ``(key0, key1)`` with 20 rounds of Threefry-2x32 (Salmon et al., "Parallel
random numbers: as easy as 1, 2, 3", SC'11), the hash behind JAX's default PRNG.  It is a
pure function of its inputs, so it needs no state and vectorises trivially.  Keeping it a
single primitive lets a backend lower it to one kernel; the key/counter bookkeeping of
``lepton.random`` is ordinary lepton ops around it (``threefry_2x32`` below).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import Primitive, ShapedArray, get_aval
from .base import align_batched, defnondiff, fail_dtype, fail_shape
from .slicing import slice_in_dim
from .structural import broadcast_in_dim, concatenate, full, reshape

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)  # Threefish key-schedule parity constant

threefry2x32_p = Primitive("threefry2x32", multiple_results=True)


def _threefry2x32_impl(key0, key1, x0, x1):
    shape = x0.shape
    # 1-D working copies: in-place uint32 ufuncs wrap silently (0-d NumPy scalars would warn).
    key0, key1, x0, x1 = (np.reshape(a, -1) for a in (key0, key1, x0, x1))
    ks = (key0, key1, key0 ^ key1 ^ _PARITY)
    x0 = x0 + ks[0]
    x1 = x1 + ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 += x1
            rotated = x1 << np.uint32(r)
            x1 >>= np.uint32(32 - r)
            x1 |= rotated
            x1 ^= x0
        x0 += ks[(i + 1) % 3]
        x1 += ks[(i + 2) % 3]
        x1 += np.uint32(i + 1)
    return [x0.reshape(shape), x1.reshape(shape)]


def _threefry2x32_rule(*avals):
    if any(a.dtype != dtypes.uint32 for a in avals):
        fail_dtype("threefry2x32", "all operands must be uint32", *avals,
                   fix="Keys and counters are uint32 words; convert with .astype('uint32').")
    if any(a.shape != avals[0].shape for a in avals):
        fail_shape("threefry2x32", "all operands must have one shape", *avals,
                   fix="Broadcast the key words to the counters' shape first.")
    out = ShapedArray(avals[0].shape, dtypes.uint32)
    return [out, out]


def _threefry2x32_batch(axis_size, vals, dims):
    vals, bd = align_batched(axis_size, vals, dims)
    return threefry2x32_p.bind(*vals), [bd, bd]


threefry2x32_p.impl = _threefry2x32_impl
threefry2x32_p.abstract_eval = _threefry2x32_rule
threefry2x32_p.batch = _threefry2x32_batch
defnondiff(threefry2x32_p)


def threefry2x32(key0, key1, x0, x1):
    """Threefry-2x32 of uint32 operands of one shape; returns ``[y0, y1]``."""
    return threefry2x32_p.bind(key0, key1, x0, x1)


def threefry_2x32(key, count):
    """Hash a uint32 ``count`` array of any shape under ``key`` (uint32[2]), as JAX does.

    The flattened counts (padded with a zero to even length) are cut in halves that form
    the cipher's two input words; the two output words are concatenated back.
    """
    shape = get_aval(count).shape
    n = int(np.prod(shape, dtype=np.int64))
    flat = reshape(count, (n,))
    if n % 2:
        flat = concatenate([flat, full((1,), 0, dtypes.uint32)], 0)
    half = (n + 1) // 2
    k0, k1 = (broadcast_in_dim(reshape(slice_in_dim(key, i, i + 1), ()), (half,), ())
              for i in (0, 1))
    y0, y1 = threefry2x32(k0, k1, slice_in_dim(flat, 0, half), slice_in_dim(flat, half, 2 * half))
    out = concatenate([y0, y1], 0)
    if n % 2:
        out = slice_in_dim(out, 0, n)
    return reshape(out, shape)
