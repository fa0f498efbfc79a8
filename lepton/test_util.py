"""Public checks for users' own functions: gradients against finite differences, vmap against loops.

``check_grads(f, args, order, modes=("fwd", "rev"), atol, rtol, eps)`` is JAX's: it
verifies forward mode against central differences and reverse mode against forward mode
(via the inner-product identity ``<u, J v> == <J^T u, v>``), recursively to ``order``.
``check_jvp``/``check_vjp`` take JAX's ``(f, f_jvp, args)`` form or ``(f, args)``.
Use float64 inputs.
"""
from __future__ import annotations

import numpy as np

from . import tree
from .dtypes import float0
from .transforms.autodiff import jvp, linearize, vjp
from .transforms.vmap import vmap

_DEFAULT_TOL = {np.dtype(np.float16): 5e-2, np.dtype(np.float32): 2e-2,
                np.dtype(np.float64): 1e-5, np.dtype(np.complex64): 2e-2,
                np.dtype(np.complex128): 1e-5}


def _np(x):
    return np.asarray(x)


def _inexact(x):
    dt = getattr(x, "dtype", None)  # traced values have a dtype but no NumPy value
    return (np.dtype(dt) if dt is not None else np.asarray(x).dtype).kind in "fc"


def _tol(leaves, tol):
    """One tolerance for these leaves: ``tol`` itself, or (for a dict ``{dtype: tol}``, as
    JAX's) the loosest entry over the leaves' dtypes, defaults filling missing dtypes."""
    if tol is not None and not isinstance(tol, dict):
        return tol
    table = dict(_DEFAULT_TOL)
    table.update({np.dtype(k): v for k, v in (tol or {}).items()})
    dts = [np.asarray(x).dtype for x in leaves if _inexact(x)]
    return max((table.get(d, 1e-5) for d in dts), default=1e-5)


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


def _assert_close(name, got, want, atol, rtol, scale_by_size=False):
    g_leaves, w_leaves = tree.leaves(got), tree.leaves(want)
    if len(g_leaves) != len(w_leaves):
        raise AssertionError(f"{name}: structure mismatch ({len(g_leaves)} vs {len(w_leaves)})")
    for i, (g, w) in enumerate(zip(g_leaves, w_leaves)):
        g, w = _np(g), _np(w)
        if g.dtype == float0 or w.dtype == float0:
            continue
        k = max(g.size, 1) if scale_by_size else 1  # as JAX's: tolerance grows with size
        if not np.allclose(g, w, atol=atol * k, rtol=rtol * k, equal_nan=True):
            err = np.max(np.abs(g.astype(np.complex128) - w)) if g.size else 0
            raise AssertionError(f"{name}: leaf {i} differs (max abs error {err:.3g}, "
                                 f"atol={atol * k:.3g}, rtol={rtol * k:.3g})\n got: {g}\nwant: {w}")


def _lepton(xs):
    import lepton.numpy as lnp
    return tree.map(lambda x: lnp.asarray(x) if isinstance(x, (np.ndarray, np.generic))
                    and x.dtype != float0 else x, xs)


def numerical_jvp(f, args, tangents, eps):
    plus = f(*_lepton(_axpy(eps, tangents, args)))
    minus = f(*_lepton(_axpy(-eps, tangents, args)))

    def diff(p, m):
        if not _inexact(p):  # integer outputs have no tangent space
            return np.zeros(np.shape(p), float0)
        wide = np.complex128 if _np(p).dtype.kind == "c" else np.float64
        return (np.asarray(p, wide) - np.asarray(m)) / (2 * eps)

    return tree.map(diff, plus, minus)


def _zero_tangent(x):
    return np.zeros(np.shape(x), float0)


def _split_jax_form(f_or_args, rest, names):
    """JAX's ``check_jvp(f, f_jvp, args, atol, rtol, eps, err_msg)`` or lepton's
    ``check_jvp(f, args, atol, rtol, eps, seed)``: tell them apart by a callable 2nd arg."""
    if callable(f_or_args):
        if not rest:
            raise TypeError(f"{names}: missing the args tuple after f_{names[6:]}")
        return f_or_args, rest[0], rest[1:]
    return None, f_or_args, rest


def _positional(rest, atol, rtol, eps):
    """(atol, rtol, eps, err_msg-or-seed) from trailing positional arguments."""
    if len(rest) > 4:
        raise TypeError(f"too many positional arguments: {len(rest) + 2}")
    defaults = [atol, rtol, eps, None]
    return list(rest) + defaults[len(rest):]


def check_jvp(f, f_jvp_or_args, *rest, atol=None, rtol=None, eps=None, seed=0, err_msg=""):
    """Forward mode of ``f`` at ``args`` against central differences along a random direction.

    Call as ``check_jvp(f, args)`` or as JAX's ``check_jvp(f, f_jvp, args)`` where
    ``f_jvp(primals, tangents) -> (out, tangent_out)`` (default ``partial(jvp, f)``).
    Also checks that ``f_jvp``'s primal output equals ``f(*args)``."""
    f_jvp, args, rest = _split_jax_form(f_jvp_or_args, rest, "check_jvp")
    atol, rtol, eps, last = _positional(rest, atol, rtol, eps)
    if last is not None:
        err_msg, seed = (last, seed) if isinstance(last, str) else (err_msg, last)
    f_jvp = f_jvp or (lambda p, t: jvp(f, p, t))
    rng = np.random.default_rng(seed)
    args = tuple(args)
    tol = _tol(tree.leaves(args), atol)
    rtol = _tol(tree.leaves(args), rtol) if rtol is not None else tol
    eps = eps or (1e-4 if tol < 1e-3 else 1e-2)
    v = tree.map(lambda x: _rand_like(rng, x) if _inexact(x) else _zero_tangent(x), args)
    out, out_t = f_jvp(_lepton(args), v)
    where = f"{err_msg}: " if err_msg else ""
    _assert_close(f"{where}primal output of the JVP vs f(*args)", out, f(*_lepton(args)),
                  tol, rtol, True)
    want = numerical_jvp(f, args, v, eps)
    _assert_close(f"{where}jvp vs finite differences", out_t, want, tol, rtol, True)


def check_vjp(f, f_vjp_or_args, *rest, atol=None, rtol=None, eps=None, seed=0, err_msg=""):
    """Reverse mode of ``f``: ``<u, J v>`` (finite differences) equals ``<J^T u, v>``.

    Call as ``check_vjp(f, args)`` or as JAX's ``check_vjp(f, f_vjp, args)`` where
    ``f_vjp(*args) -> (out, pullback)`` (default ``partial(vjp, f)``)."""
    f_vjp, args, rest = _split_jax_form(f_vjp_or_args, rest, "check_vjp")
    atol, rtol, eps, last = _positional(rest, atol, rtol, eps)
    if last is not None:
        err_msg, seed = (last, seed) if isinstance(last, str) else (err_msg, last)
    f_vjp = f_vjp or (lambda *a: vjp(f, *a))
    rng = np.random.default_rng(seed)
    args = tuple(args)
    tol = _tol(tree.leaves(args), atol)
    rtol = _tol(tree.leaves(args), rtol) if rtol is not None else tol
    eps = eps or (1e-4 if tol < 1e-3 else 1e-2)
    out, pullback = f_vjp(*_lepton(args))
    where = f"{err_msg}: " if err_msg else ""
    _assert_close(f"{where}primal output of the VJP vs f(*args)", out, f(*_lepton(args)),
                  tol, rtol, True)
    u = tree.map(lambda o: _rand_like(rng, o) if _inexact(o) else _zero_tangent(o), out)
    g = pullback(u)
    v = tree.map(lambda x: _rand_like(rng, x) if _inexact(x) else np.zeros((), np.float32), args)
    lhs = _inner(u, numerical_jvp(f, args, v, eps))
    rhs = _inner(g, v)
    scale = max(1.0, abs(lhs), abs(rhs))
    if not abs(lhs - rhs) <= (tol + rtol) * scale:
        raise AssertionError(f"{where}vjp inconsistent with finite differences: <u, J v> = "
                             f"{lhs:.6g} but <J^T u, v> = {rhs:.6g} (atol {tol}, rtol {rtol})")


_MODES = ("fwd", "rev", "lin")


def check_grads(f, args, order=2, modes=("fwd", "rev"), atol=None, rtol=None, eps=None,
                seed=0):
    """Check derivatives of ``f`` at ``args`` against finite differences, as JAX's
    ``jax.test_util.check_grads``: along one random direction, up to ``order``.

    ``modes``: any of ``"fwd"`` (``jvp`` against central differences), ``"rev"`` (``vjp``
    through the identity ``<u, J v> == <J^T u, v>``) and ``"lin"`` (``linearize``).
    Higher orders recurse as JAX does: ``"fwd"`` checks ``(primals, tangents) ->
    jvp(f, primals, tangents)`` and ``"rev"`` checks ``x -> pullback_x(f(x))``, so mixed
    and cross derivatives are covered too.  ``atol``/``rtol``: a number or a dict
    ``{dtype: tol}``; defaults are per dtype (float64 1e-5, float32 2e-2); as JAX's, they
    are multiplied by each output leaf's size.  ``eps``: the
    finite-difference step; by default 1e-4 for float64 and 1e-2 for lower precisions
    (JAX always uses 1e-4, too small a step for float32).  ``seed`` (lepton's addition)
    picks the random directions.  Use float64 inputs for tight checks."""
    args = tuple(args)
    if isinstance(modes, str):
        modes = (modes,)
    bad = [m for m in modes if m not in _MODES]
    if bad:
        raise ValueError(f"check_grads: unknown modes {bad}; use any of {_MODES}")
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"check_grads: order must be a positive integer, got {order!r}")
    kw = dict(atol=atol, rtol=rtol, eps=eps)

    def jvp_of(fun):
        return lambda primals, tangents: jvp(fun, tuple(primals), tuple(tangents))

    def lin_of(fun):
        def f_lin(primals, tangents):
            out, lin = linearize(fun, *primals)
            return out, lin(*tangents)
        return f_lin

    def rec(fun, xs, k, msg):
        for mode, name in (("fwd", "JVP"), ("lin", "LIN")):
            if mode in modes:
                m = f"{name} of {msg}" if msg else name
                f_jvp = jvp_of(fun) if mode == "fwd" else lin_of(fun)
                check_jvp(fun, f_jvp, xs, seed=seed + k, err_msg=m, **kw)
                if k < order:
                    ts = tree.map(lambda x: _rand_like(np.random.default_rng(seed + k), x)
                                  if _inexact(x) else _zero_tangent(x), xs)
                    rec(f_jvp, (xs, ts), k + 1, m)
        if "rev" in modes:
            m = f"VJP of {msg}" if msg else "VJP"
            check_vjp(fun, lambda *a: vjp(fun, *a), xs, seed=seed + k, err_msg=m, **kw)
            if k < order:
                def f_vjp(*a):
                    out, pullback = vjp(fun, *a)
                    # As JAX: the output itself is the cotangent (integer outputs get none).
                    return pullback(tree.map(lambda o: o if _inexact(o) else
                                             _zero_tangent(o), out))
                rec(f_vjp, xs, k + 1, m)

    rec(f, args, 1, "")


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
