"""Gather and the scatter family: point indexing along a chosen set of axes.

A simple, general form (not XLA's windowed gather): ``gather(x, *indices, axes)``
takes integer arrays of one common shape ``B`` (already broadcast), one per entry
of ``axes``; element ``b`` of the result reads ``x`` at ``indices[k][b]`` along
``axes[k]``, keeping the other axes whole.  The result has shape ``B`` followed by
the non-indexed axes in order.  Scatters write ``updates`` of that same layout.

Indices must be non-negative (the NumPy layer normalises negative ones).  Out of
bounds, ``gather`` clamps (``mode='clip'``) or reads ``fill_value`` (``'fill'``;
default NaN, the minimum signed int, the maximum unsigned int, or True); scatters
clamp (``'clip'``) or skip the update (``'drop'``).

Duplicate indices: ``scatter_add``/``scatter_mul``/``scatter_min``/``scatter_max``
combine every update; ``scatter`` keeps the last one in C order of ``B``, and its
gradient flows to that update only.  Derivatives are exact with duplicates too (ties
of min/max split the tangent equally), with one exception: ``scatter_mul``'s second
and higher derivatives in its updates are wrong at a location that receives several
updates of which one is exactly zero (first derivatives are exact there).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from ..core import Primitive, ShapedArray, get_aval
from .base import (Zero, deflinear_in, fail_dtype, fail_shape, index_dtype, instantiate,
                   is_undefined, move_to_front)
from .elementwise import (add, convert_element_type, div, eq, gt, mul, select, sub,
                          max as emax)
from .structural import broadcast_in_dim, full, iota, moveaxis, reshape, zeros

GATHER_MODES = ("clip", "fill")
SCATTER_MODES = ("clip", "drop")


def _rest(ndim, axes):
    return tuple(a for a in range(ndim) if a not in axes)


def _check_indices(name, a, idx, axes):
    """Validate axes and index arrays; return the common index shape ``B``."""
    if len(idx) != len(axes):
        fail_shape(name, f"needs one index array per axis in axes={axes}, got {len(idx)}", a,
                   *idx)
    if len(set(axes)) != len(axes) or any(not 0 <= ax < a.ndim for ax in axes):
        fail_shape(name, f"axes {axes} must be distinct axes in range({a.ndim})", a)
    for i in idx:
        if i.dtype.kind not in "iu":
            fail_dtype(name, "index arrays must have an integer dtype", a, *idx)
        if i.shape != idx[0].shape:
            fail_shape(name, "index arrays must share one shape", a, *idx,
                       fix="Broadcast them first (lepton.numpy indexing does this for you).")
    return idx[0].shape if idx else ()


def _transposed(x, axes):
    """A view of ``x`` with the indexed axes first and the rest in order."""
    perm = tuple(axes) + _rest(x.ndim, axes)
    return x if perm == tuple(range(x.ndim)) else x.transpose(perm)


def _in_bounds(idx, sizes):
    ok = np.ones(np.shape(idx[0]) if idx else (), bool)
    for i, n in zip(idx, sizes):
        ok &= (i >= 0) & (i < n)
    return ok


def default_fill(dtype):
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "i":
        return np.iinfo(dtype).min
    if dtype.kind == "u":
        return np.iinfo(dtype).max
    return True


# ----------------------------------------------------------------------------- gather
gather_p = Primitive("gather")


def _gather_impl(x, *idx, axes, mode, fill_value):
    xt = _transposed(x, axes)
    sizes = xt.shape[:len(axes)]
    if mode == "clip" and all(sizes):
        return xt[tuple(np.clip(i, 0, n - 1) for i, n in zip(idx, sizes))]
    fill = 0 if mode == "clip" else (default_fill(x.dtype) if fill_value is None else fill_value)
    fill = np.asarray(fill).astype(x.dtype)
    ok = _in_bounds(idx, sizes)
    rest = xt.shape[len(axes):]
    if not all(sizes):
        return np.full(ok.shape + rest, fill, x.dtype)
    out = xt[tuple(np.where(ok, i, 0) for i in idx)]
    return out if ok.all() else np.where(ok.reshape(ok.shape + (1,) * len(rest)), out, fill)


def _gather_rule(a, *idx, axes, mode, fill_value):
    b = _check_indices("gather", a, idx, axes)
    if mode not in GATHER_MODES:
        raise ValueError(f"gather: mode must be one of {GATHER_MODES}, got {mode!r}")
    return ShapedArray(b + tuple(a.shape[r] for r in _rest(a.ndim, axes)), a.dtype, a.weak_type)


def _gather_transpose(ct, x, *idx, axes, mode, fill_value):
    if type(ct) is Zero:
        return [None] * (1 + len(idx))
    mode = "clip" if mode == "clip" else "drop"
    return [scatter_add(zeros(x.aval.update(dtype=ct.aval.dtype)), ct, idx, axes, mode)] + \
        [None] * len(idx)


def _batch_indices(axis_size, idx, dims):
    """Indices moved/broadcast to a leading batch axis."""
    return [move_to_front(i, d, axis_size) for i, d in zip(idx, dims)]


def _with_batch_index(idx, axes):
    """Also index a leading batch axis of the operand by the indices' leading batch axis."""
    b = iota(index_dtype([get_aval(i) for i in idx]), get_aval(idx[0]).shape, 0)
    return [b] + list(idx), (0,) + tuple(a + 1 for a in axes)


def _gather_batch(axis_size, vals, dims, *, axes, mode, fill_value):
    x, idx = vals[0], vals[1:]
    kw = dict(mode=mode, fill_value=fill_value)
    if all(d is None for d in dims[1:]):  # only the operand is batched: a kept axis
        d = dims[0]
        new_axes = tuple(a + (a >= d) for a in axes)
        b = get_aval(idx[0]).ndim if idx else 0
        out_d = b + sum(1 for r in _rest(get_aval(x).ndim, new_axes) if r < d)
        return gather(x, idx, new_axes, **kw), out_d
    idx = _batch_indices(axis_size, idx, dims[1:])
    if dims[0] is None:
        return gather(x, idx, axes, **kw), 0
    idx, axes = _with_batch_index(idx, axes)
    return gather(moveaxis(x, dims[0], 0), idx, axes, **kw), 0


gather_p.impl = _gather_impl
gather_p.abstract_eval = _gather_rule
gather_p.batch = _gather_batch
deflinear_in(gather_p, 1, _gather_transpose,
             tangent_params=lambda p: dict(p, fill_value=0) if p["mode"] == "fill" else p)


def gather(x, indices, axes, mode="clip", fill_value=None):
    """Read ``x`` at integer ``indices`` (one array per axis in ``axes``, equal shapes)."""
    if fill_value is not None:
        fill_value = fill_value.item() if hasattr(fill_value, "item") else fill_value
    return gather_p.bind(x, *indices, axes=tuple(int(a) for a in axes), mode=mode,
                         fill_value=fill_value)


# ----------------------------------------------------------------------------- scatters
def _last_writes(idx, sizes, upd, nb):
    """Keep only the last update (C order) to each location, so ``set`` is deterministic."""
    flat = np.ravel_multi_index(tuple(np.ravel(i) for i in idx), sizes)
    if flat.size < 2:
        return idx, upd
    _, first_rev = np.unique(flat[::-1], return_index=True)
    if first_rev.size == flat.size:
        return idx, upd
    keep = flat.size - 1 - first_rev
    return ([np.ravel(i)[keep] for i in idx],
            upd.reshape((-1,) + upd.shape[nb:])[keep])


def _scatter_impl(kind):
    ufunc = {"add": np.add, "mul": np.multiply, "min": np.minimum, "max": np.maximum}.get(kind)

    def impl(x, upd, *idx, axes, mode):
        out = x.copy()
        ot = _transposed(out, axes)  # a view: writes land in `out`
        sizes = ot.shape[:len(axes)]
        if not all(sizes) or upd.size == 0:
            return out
        nb = upd.ndim - (ot.ndim - len(axes))
        if mode == "clip":
            idx = [np.clip(i, 0, n - 1) for i, n in zip(idx, sizes)]
        else:
            ok = _in_bounds(idx, sizes)
            if not ok.all():
                idx, upd, nb = [i[ok] for i in idx], upd[ok], 1
        if ufunc is not None:
            with np.errstate(all="ignore"):
                ufunc.at(ot, tuple(idx), upd)
        else:
            idx, upd = _last_writes(idx, sizes, upd, nb) if idx else (idx, upd)
            ot[tuple(idx)] = upd
        return out

    return impl


def _scatter_rule(name):
    def rule(a, u, *idx, axes, mode):
        b = _check_indices(name, a, idx, axes)
        if mode not in SCATTER_MODES:
            raise ValueError(f"{name}: mode must be one of {SCATTER_MODES}, got {mode!r}")
        if u.dtype != a.dtype:
            fail_dtype(name, "updates must have the operand's dtype", a, u)
        want = b + tuple(a.shape[r] for r in _rest(a.ndim, axes))
        if u.shape != want:
            fail_shape(name, f"updates must have shape {want} (index shape + non-indexed "
                       "operand axes)", a, u, *idx)
        return a

    return rule


def _scatter_batch(prim):
    def batch(axis_size, vals, dims, *, axes, mode):
        x, u, idx = vals[0], vals[1], vals[2:]
        if all(d is None for d in dims[2:]):
            # batch axis of x goes first; in the updates it is the first non-indexed axis
            x = move_to_front(x, dims[0], axis_size)
            nb = get_aval(idx[0]).ndim if idx else 0
            u = moveaxis(move_to_front(u, dims[1], axis_size), 0, nb)
            return prim.bind(x, u, *idx, axes=tuple(a + 1 for a in axes), mode=mode), 0
        x = move_to_front(x, dims[0], axis_size)
        u = move_to_front(u, dims[1], axis_size)
        idx, axes = _with_batch_index(_batch_indices(axis_size, idx, dims[2:]), axes)
        return prim.bind(x, u, *idx, axes=axes, mode=mode), 0

    return batch


def _scatter_prim(kind):
    p = Primitive("scatter" if kind == "set" else f"scatter_{kind}")
    p.impl = _scatter_impl(kind)
    p.abstract_eval = _scatter_rule(p.name)
    p.batch = _scatter_batch(p)
    return p


scatter_p = _scatter_prim("set")
scatter_add_p = _scatter_prim("add")
scatter_mul_p = _scatter_prim("mul")
scatter_min_p = _scatter_prim("min")
scatter_max_p = _scatter_prim("max")


def _bind(p):
    def f(x, updates, indices, axes, mode="drop"):
        return p.bind(x, updates, *indices, axes=tuple(int(a) for a in axes), mode=mode)

    f.__name__ = p.name
    f.__doc__ = f"``{p.name}`` of ``updates`` into ``x`` at ``indices`` along ``axes``."
    return f


scatter, scatter_add, scatter_mul, scatter_min, scatter_max = map(
    _bind, (scatter_p, scatter_add_p, scatter_mul_p, scatter_min_p, scatter_max_p))


def _read_back(ct, idx, axes, mode):
    """Gather matching a scatter's mode: dropped updates read zero."""
    return gather(ct, idx, axes, "clip" if mode == "clip" else "fill", 0)


def _scatter_add_transpose(ct, x, u, *idx, axes, mode):
    if type(ct) is Zero:
        return [None] * (2 + len(idx))
    return [ct if is_undefined(x) else None,
            _read_back(ct, idx, axes, mode) if is_undefined(u) else None] + [None] * len(idx)


deflinear_in(scatter_add_p, 2, _scatter_add_transpose)


def _winners(idx, axes, shape, mode):
    """Boolean of shape B: which updates a ``scatter`` keeps (the last per location)."""
    b = get_aval(idx[0]).shape
    n = int(np.prod(b, dtype=np.int64))
    dt = dtypes.int64 if n >= 2**31 else dtypes.int32
    ids = reshape(iota(dt, (n,)), b)
    sizes = tuple(shape[a] for a in axes)
    own = tuple(range(len(axes)))
    written = scatter(full(sizes, -1, dt), ids, idx, own, mode)
    return eq(gather(written, idx, own, "clip" if mode == "clip" else "fill", -1), ids)


def _scatter_transpose(ct, x, u, *idx, axes, mode):
    none = [None] * len(idx)
    if type(ct) is Zero:
        return [None, None] + none
    ct_x = ct_u = None
    if is_undefined(x):
        ct_x = scatter(ct, zeros(u.aval.update(dtype=ct.aval.dtype)), idx, axes, mode)
    if is_undefined(u):
        ct_u = _read_back(ct, idx, axes, mode)
        b = get_aval(idx[0]).shape if idx else ()
        if int(np.prod(b, dtype=np.int64)) > 1:  # duplicates possible
            keep = broadcast_in_dim(_winners(idx, axes, ct.aval.shape, mode), ct_u.aval.shape,
                                    tuple(range(len(b))))
            ct_u = select(keep, ct_u, zeros(ct_u.aval))
    return [ct_x, ct_u] + none


deflinear_in(scatter_p, 2, _scatter_transpose)


def _as_float(b, like):
    return convert_element_type(b, like.aval.dtype)


def _scatter_mul_jvp(primals, tangents, *, axes, mode):
    x, u, idx = primals[0], primals[1], primals[2:]
    tx, tu = tangents[0], tangents[1]
    ans = scatter_mul(x, u, idx, axes, mode)
    if type(tx) is Zero and type(tu) is Zero:
        return ans, Zero.like(ans)
    ones = full(x.aval.shape, 1, x.aval.dtype)
    out = None
    if type(tx) is not Zero:  # d/dx: the product of the updates at each location
        out = mul(tx, scatter_mul(ones, u, idx, axes, mode))
    if type(tu) is not Zero:
        # d/du_j = x * (product of the other updates at u_j's location), computed without
        # dividing by zero: count the zero updates per location separately.
        zero_u, one_u = zeros(u.aval), full(u.aval.shape, 1, u.aval.dtype)
        is_zero = eq(u, zero_u)
        safe = select(is_zero, one_u, u)
        nzeros = sub(_read_back(scatter_add(zeros(x.aval), _as_float(is_zero, u), idx, axes,
                                            mode), idx, axes, mode), _as_float(is_zero, u))
        others = div(_read_back(scatter_mul(ones, safe, idx, axes, mode), idx, axes, mode), safe)
        others = select(gt(nzeros, zero_u), zero_u, others)
        part = scatter_add(zeros(x.aval), mul(mul(_read_back(x, idx, axes, mode), others), tu),
                           idx, axes, mode)
        out = part if out is None else add(out, part)
    return ans, out


scatter_mul_p.jvp = _scatter_mul_jvp


def _scatter_extremum_jvp(p):
    # The tangent of each output comes from every input attaining it, split equally
    # (as reduce_max does): ties between the operand and updates share it.
    def jvp(primals, tangents, *, axes, mode):
        x, u, idx = primals[0], primals[1], primals[2:]
        ans = p.bind(x, u, *idx, axes=axes, mode=mode)
        tx, tu = tangents[0], tangents[1]
        if type(tx) is Zero and type(tu) is Zero:
            return ans, Zero.like(ans)
        tx, tu = instantiate(tx), instantiate(tu)
        hit_x = _as_float(eq(x, ans), ans)
        hit_u = _as_float(eq(u, gather(ans, idx, axes, "clip")), ans)
        num = add(mul(tx, hit_x), scatter_add(zeros(ans.aval), mul(tu, hit_u), idx, axes, mode))
        count = add(hit_x, scatter_add(zeros(ans.aval), hit_u, idx, axes, mode))
        return ans, div(num, emax(count, full(count.aval.shape, 1, count.aval.dtype)))

    p.jvp = jvp


_scatter_extremum_jvp(scatter_min_p)
_scatter_extremum_jvp(scatter_max_p)
