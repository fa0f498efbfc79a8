"""Public checks for users' own functions: gradients against finite differences, vmap against loops.

``check_grads(f, args, order=2)`` verifies forward mode against central differences
and reverse mode against forward mode (via the inner-product identity
``<u, J v> == <J^T u, v>``), recursively to ``order``.  Use float64 inputs.
"""
from __future__ import annotations

import numpy as np

from . import tree
from .dtypes import float0
from .transforms.autodiff import jvp, vjp
from .transforms.vmap import vmap

_DEFAULT_TOL = {np.dtype(np.float16): 5e-2, np.dtype(np.float32): 2e-2,
                np.dtype(np.float64): 1e-5, np.dtype(np.complex64): 2e-2,
                np.dtype(np.complex128): 1e-5}


def _np(x):
    return np.asarray(x)


def _inexact(x):
    return np.asarray(x).dtype.kind in "fc"


def _tol(leaves, tol):
    if tol is not None:
        return tol
    dts = [np.asarray(x).dtype for x in leaves if _inexact(x)]
    return max((_DEFAULT_TOL.get(d, 1e-5) for d in dts), default=1e-5)


def _rand_like(rng, x):
    x = np.asarray(x)
    if x.dtype.kind == "c":
        return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(x.dtype)
    return rng.standard_normal(x.shape).astype(x.dtype)


def _axpy(a, v, x):
    return tree.map(lambda vi, xi: (np.asarray(xi) + a * np.asarray(vi)).astype(np.asarray(xi).dtype)
                    if _inexact(xi) else xi, v, x)


def _inner(a, b):
    """Re(sum(a * b)): the bilinear pairing under which lepton's (JAX's) transposes are adjoint."""
    total = 0.0
    for x, y in zip(tree.leaves(a), tree.leaves(b)):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype.kind not in "fc" or y.dtype.kind not in "fc":
            continue
        total = total + np.sum(x.astype(np.complex128) * y.astype(np.complex128)).real
    return total


def _assert_close(name, got, want, atol, rtol):
    g_leaves, w_leaves = tree.leaves(got), tree.leaves(want)
    if len(g_leaves) != len(w_leaves):
        raise AssertionError(f"{name}: structure mismatch ({len(g_leaves)} vs {len(w_leaves)})")
    for i, (g, w) in enumerate(zip(g_leaves, w_leaves)):
        g, w = _np(g), _np(w)
        if g.dtype == float0 or w.dtype == float0:
            continue
        if not np.allclose(g, w, atol=atol, rtol=rtol, equal_nan=True):
            err = np.max(np.abs(g.astype(np.complex128) - w)) if g.size else 0
            raise AssertionError(f"{name}: leaf {i} differs (max abs error {err:.3g}, "
                                 f"atol={atol}, rtol={rtol})\n got: {g}\nwant: {w}")


def _lepton(xs):
    import lepton.numpy as lnp
    return tree.map(lambda x: lnp.asarray(x) if isinstance(x, (np.ndarray, np.generic)) else x, xs)


def numerical_jvp(f, args, tangents, eps):
    plus = f(*_lepton(_axpy(eps, tangents, args)))
    minus = f(*_lepton(_axpy(-eps, tangents, args)))

    def diff(p, m):
        if not _inexact(p):  # integer outputs have no tangent space
            return np.zeros(np.shape(p), float0)
        wide = np.complex128 if _np(p).dtype.kind == "c" else np.float64
        return (np.asarray(p, wide) - np.asarray(m)) / (2 * eps)

    return tree.map(diff, plus, minus)


def check_jvp(f, args, atol=None, rtol=None, eps=None, seed=0):
    """Forward mode of ``f`` at ``args`` against central differences along a random direction."""
    rng = np.random.default_rng(seed)
    args = tuple(args)
    tol = _tol(tree.leaves(args), atol)
    eps = eps or (1e-4 if tol < 1e-3 else 1e-2)
    v = tree.map(lambda x: _rand_like(rng, x) if _inexact(x) else np.zeros(np.shape(x), float0),
                 args)
    _, out_t = jvp(f, _lepton(args), v)
    want = numerical_jvp(f, args, v, eps)
    _assert_close("jvp vs finite differences", out_t, want, tol, rtol or tol)


def check_vjp(f, args, atol=None, rtol=None, eps=None, seed=0):
    """Reverse mode of ``f``: ``<u, J v>`` (finite differences) equals ``<J^T u, v>``."""
    rng = np.random.default_rng(seed)
    args = tuple(args)
    tol = _tol(tree.leaves(args), atol)
    eps = eps or (1e-4 if tol < 1e-3 else 1e-2)
    out, pullback = vjp(f, *_lepton(args))
    u = tree.map(lambda o: _rand_like(rng, o) if _inexact(o) else np.zeros(np.shape(o)), out)
    g = pullback(u)
    v = tree.map(lambda x: _rand_like(rng, x) if _inexact(x) else np.zeros((), np.float32), args)
    lhs = _inner(u, numerical_jvp(f, args, v, eps))
    rhs = _inner(g, v)
    scale = max(1.0, abs(lhs), abs(rhs))
    if not abs(lhs - rhs) <= (tol + (rtol or tol)) * scale:
        raise AssertionError(f"vjp inconsistent with finite differences: <u, J v> = {lhs:.6g} "
                             f"but <J^T u, v> = {rhs:.6g} (tol {tol})")


def check_grads(f, args, order=2, modes=("fwd", "rev"), atol=None, rtol=None, eps=None,
                seed=0):
    """Check derivatives of ``f`` at ``args`` up to ``order`` in the given modes."""
    args = tuple(args)
    if isinstance(modes, str):
        modes = (modes,)

    def rec(fun, xs, k):
        if "fwd" in modes:
            check_jvp(fun, xs, atol, rtol, eps, seed + k)
        if "rev" in modes:
            check_vjp(fun, xs, atol, rtol, eps, seed + k)
        if k < order:
            rng = np.random.default_rng(seed + 100 + k)
            if "fwd" in modes:
                v = tree.map(lambda x: _rand_like(rng, x) if _inexact(x) else
                             np.zeros(np.shape(x), float0), xs)
                rec(lambda *a: jvp(fun, a, v)[1], xs, k + 1)
            if "rev" in modes:
                out = fun(*xs)
                u = tree.map(lambda o: _rand_like(rng, o) if _inexact(o) else
                             np.zeros(np.shape(o)), out)
                rec(lambda *a: vjp(fun, *a)[1](u), xs, k + 1)

    rec(f, args, 1)


def check_batching(f, args, in_axes=0, atol=1e-6, rtol=1e-6):
    """``vmap(f, in_axes)(*args)`` equals stacking ``f`` over a Python loop."""
    axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
    size = None
    for a, ax in zip(args, axes):
        if ax is not None:
            size = np.shape(a)[ax]
    got = vmap(f, in_axes=tuple(axes))(*_lepton(list(args)))
    rows = []
    for i in range(size):
        rows.append(f(*_lepton([a if ax is None else np.take(np.asarray(a), i, axis=ax)
                                for a, ax in zip(args, axes)])))
    want = tree.map(lambda *rs: np.stack([np.asarray(r) for r in rs]), *rows)
    _assert_close("vmap vs loop", got, want, atol, rtol)
