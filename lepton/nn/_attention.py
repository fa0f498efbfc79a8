"""``dot_product_attention``: scaled dot-product attention as ``jax.nn`` (the 'xla' path).

Layout BTNH (batch, sequence, heads, head dim); key/value may have fewer heads K than the
query's N (grouped-query attention: each group of N // K query heads shares one key/value
head).  Written in lepton.numpy ops, so grad, vmap and jit apply.
"""
from __future__ import annotations

import numpy as np

from .. import numpy as lnp
from ..transforms.custom import stop_gradient
from ._activations import logsumexp, softmax

__all__ = ["dot_product_attention"]


def _as_4d(name, t):
    t = lnp.asarray(t)
    if t.ndim > 4:
        raise ValueError(f"dot_product_attention: {name} must have at most 4 dims (BTNH), "
                         f"got shape {t.shape}")
    return lnp.reshape(t, (1,) * (4 - t.ndim) + t.shape)


def _check(t, shape, dtype, name):
    if t is None:
        return
    if t.ndim != len(shape):
        raise ValueError(f"dot_product_attention: {name} should have {len(shape)} dims, "
                         f"got shape {t.shape}")
    if dtype is not None and t.dtype != dtype:
        raise ValueError(f"dot_product_attention: {name} dtype should be {np.dtype(dtype)}, "
                         f"got {t.dtype}")
    if any(want != -1 and got != want for got, want in zip(t.shape, shape)):
        raise ValueError(f"dot_product_attention: {name} shape should be "
                         f"{tuple('*' if s == -1 else s for s in shape)}, got {t.shape}")


def _grouped(t, B_, K, G):
    """A (b, n, t, s) bias or mask broadcast to the grouped (b, K, G, t, s) layout."""
    if t is None:
        return None
    tb, tn, tt, ts = t.shape
    if tn == 1:
        return lnp.reshape(t, (tb, 1, 1, tt, ts))
    if tn != K * G:
        raise ValueError(f"dot_product_attention: bias/mask head axis must be 1 or the "
                         f"number of query heads {K * G}, got shape {t.shape}")
    return lnp.reshape(t, (tb, K, G, tt, ts))


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal=False, query_seq_lengths=None,
                          key_value_seq_lengths=None, local_window_size=None,
                          implementation=None, return_residual=False):
    """softmax(scale * Q K^T + bias, masked) V over BTNH arrays (or TNH, unbatched).

    ``mask`` (bool, broadcastable to (B, N, T, S)) keeps True entries; ``is_causal`` keeps
    key positions <= the query position; ``local_window_size`` (int or (left, right))
    keeps keys within the window; ``*_seq_lengths`` (int32, shape (B,)) mask padding, and
    outputs past a query's length are zero.  Masked logits get -0.7 * float32 max (as JAX),
    so a fully masked row attends uniformly.  ``return_residual`` also returns the
    logsumexp of the logits (B, T, N), without gradient.  Deviation: the softmax runs in
    float32 or the wider input dtype (JAX always uses float32), so float64 stays exact.
    """
    if implementation not in (None, "xla"):
        raise NotImplementedError(f"dot_product_attention: implementation="
                                  f"{implementation!r} is not available on lepton's CPU "
                                  "backend; use None or 'xla'")
    out_shape = lnp.asarray(query).shape
    q, k, v = _as_4d("query", query), _as_4d("key", key), _as_4d("value", value)
    bias = None if bias is None else _as_4d("bias", bias)
    mask = None if mask is None else _as_4d("mask", mask)
    qlen = None if query_seq_lengths is None else lnp.asarray(query_seq_lengths)
    kvlen = None if key_value_seq_lengths is None else lnp.asarray(key_value_seq_lengths)
    if isinstance(local_window_size, int):
        local_window_size = (local_window_size, local_window_size)
    B, S, K, H = k.shape
    _check(v, (B, S, K, H), k.dtype, "value")
    _check(q, (B, -1, -1, H), k.dtype, "query")
    _check(mask, (-1,) * 4, np.dtype(bool), "mask")
    _check(qlen, (B,), np.dtype(np.int32), "query_seq_lengths")
    _check(kvlen, (B,), np.dtype(np.int32), "key_value_seq_lengths")
    T, N = q.shape[1], q.shape[2]
    if N % K:
        raise ValueError(f"dot_product_attention: the number of query heads must be a "
                         f"multiple of the key/value heads, got {N} vs {K}")
    G = N // K
    scale = 1.0 / np.sqrt(H) if scale is None else scale

    logits_dt = lnp.promote_types(q.dtype, np.float32)
    qg = lnp.reshape(q, (B, T, K, G, H)).astype(logits_dt)
    logits = lnp.einsum("btkgh,bskh->bkgts", qg, k.astype(logits_dt))
    logits = logits * lnp.asarray(scale, logits_dt)
    if bias is not None:
        logits = (logits + _grouped(bias, B, K, G)).astype(logits_dt)
    keep = _keep_mask(_grouped(mask, B, K, G), is_causal, T, S, local_window_size, qlen,
                      kvlen)
    if keep is not None:
        big_neg = -0.7 * min(float(lnp.finfo(logits_dt).max), float(np.finfo(np.float32).max))
        logits = lnp.where(keep, logits, lnp.asarray(big_neg, logits_dt))
    probs = softmax(logits, axis=-1).astype(k.dtype)
    out = lnp.einsum("bkgts,bskh->btkgh", probs, v)
    if qlen is not None:
        valid = lnp.arange(T)[None, :] < qlen[:, None]
        out = out * valid[:, :, None, None, None].astype(out.dtype)
    out = lnp.reshape(out, out_shape)
    if not return_residual:
        return out
    lse = logsumexp(logits, axis=-1).astype(k.dtype)  # (B, K, G, T)
    lse = lnp.reshape(lnp.transpose(lse, (0, 3, 1, 2)), out_shape[:-1])
    return out, stop_gradient(lse)


def _keep_mask(mask, is_causal, T, S, window, qlen, kvlen):
    """The combined boolean keep-mask, broadcastable to (B, K, G, T, S); None if none."""
    keep = mask
    tpos, spos = lnp.arange(T)[:, None], lnp.arange(S)[None, :]

    def both(a, b):
        return b if a is None else lnp.logical_and(a, b)

    if is_causal:
        keep = both(keep, (tpos >= spos)[None, None, None])
    if window is not None:
        left, right = window
        win = lnp.logical_and(tpos <= spos + left, tpos >= spos - right)
        keep = both(keep, win[None, None, None])
    if qlen is not None or kvlen is not None:
        pad = lnp.ones((1, T, S), bool)
        if qlen is not None:
            pad = lnp.logical_and(pad, lnp.arange(T)[None, :, None] < qlen[:, None, None])
        if kvlen is not None:
            pad = lnp.logical_and(pad, lnp.arange(S)[None, None, :] < kvlen[:, None, None])
        keep = both(keep, pad[:, None, None])
    return keep
