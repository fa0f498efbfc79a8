"""Op rows: shape manipulation and joining (reshape ... pad, atleast_nd, diag, bitcast) and the
lax-level slicing primitives (slice, pad, rev, dynamic_slice, dynamic_update_slice)."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from lepton.primitives import slicing as sl
from tests.ops import ALL, FLOATS, NUMERIC, Op, array, shape

_I32 = lambda d: np.dtype(np.int32)  # noqa: E731


def _one(draw, dtype, for_grad, **shape_kw):
    return array(draw, shape(draw, **shape_kw), dtype, for_grad=for_grad)


def _gen(extra=None, **shape_kw):
    """One array argument of a drawn shape; ``extra(draw, shape)`` draws the static kwargs."""
    def gen(draw, dtype, for_grad):
        x = _one(draw, dtype, for_grad, **shape_kw)
        return (x,), (extra(draw, x.shape) if extra else {})

    return gen


def _axis(draw, nd, extra=0):
    n = nd + extra
    return draw(st.integers(-n, n - 1)) if n else 0


def _perm(draw, nd):
    return tuple(draw(st.permutations(range(nd))))


# ----------------------------------------------------------------------------- reshape family
def _reshape_kw(draw, s):
    size = int(np.prod(s))
    if size == 0:
        return {"shape": draw(st.sampled_from([(0,), (-1,), (0, 3), (2, 0, 1)]))}
    divisors = [d for d in range(1, min(size, 1 << 12) + 1) if size % d == 0]
    d = draw(st.sampled_from(divisors))
    new = draw(st.sampled_from([(size,), (d, size // d), (size // d, 1, d), (-1, d), ()]))
    return {"shape": new if new != () or size == 1 else (-1,)}


def _squeeze_kw(draw, s):
    ones = [i for i, n in enumerate(s) if n == 1]
    if ones and draw(st.booleans()):
        return {"axis": tuple(draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))}
    return {"axis": None}


def _expand_kw(draw, s):
    k = draw(st.integers(1, 2))
    axes = draw(st.lists(st.integers(-(len(s) + k), len(s) + k - 1), min_size=k, max_size=k))
    nd = len(s) + k
    if len({a % nd for a in axes}) != k:
        axes = list(range(k))
    return {"axis": axes[0] if k == 1 and draw(st.booleans()) else tuple(axes)}


def _moveaxis_kw(draw, s):
    nd = len(s)
    if nd == 0:
        return {"source": (), "destination": ()}
    k = draw(st.integers(1, nd))
    src = draw(st.lists(st.integers(0, nd - 1), min_size=k, max_size=k, unique=True))
    dst = draw(st.lists(st.integers(0, nd - 1), min_size=k, max_size=k, unique=True))
    return {"source": tuple(src), "destination": tuple(d - nd for d in dst)}


def _swap_kw(draw, s):
    return {"axis1": _axis(draw, len(s)), "axis2": _axis(draw, len(s))}


def _broadcast_kw(draw, s):
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    return {"shape": lead + tuple(draw(st.integers(0, 3)) if n == 1 else n for n in s)}


# ----------------------------------------------------------------------------- joining
def _join_gen(min_dims=1, same_shape=False, max_arrays=3):
    def gen(draw, dtype, for_grad):
        s = shape(draw, min_dims=min_dims)
        axis = _axis(draw, len(s), extra=int(same_shape))
        k = draw(st.integers(1, max_arrays))
        shapes = []
        for i in range(k):
            t = list(s)
            if not same_shape and t and i:
                t[axis] = draw(st.integers(0, 3))
            shapes.append(tuple(t))
        arrays = [array(draw, t, dtype, for_grad=for_grad) for t in shapes]
        return tuple(arrays), {"axis": axis}

    return gen


def _stackish_gen(draw, dtype, for_grad):
    """Arrays of rank 0-3 that hstack/vstack/dstack/column_stack accept together."""
    s = shape(draw, max_dims=3, min_side=1)
    k = draw(st.integers(1, 3))
    return tuple(array(draw, s, dtype, for_grad=for_grad) for _ in range(k)), {}


def _varargs(fn):
    return lambda *xs, **kw: fn(list(xs), **kw)


def _split_kw(draw, s):
    axis = _axis(draw, len(s))
    n = s[axis]
    if draw(st.booleans()):
        k = draw(st.sampled_from([d for d in range(1, 5) if n % d == 0]))
        return {"indices_or_sections": k, "axis": axis}
    points = sorted(draw(st.lists(st.integers(-n - 1, n + 2), max_size=3)))
    return {"indices_or_sections": points, "axis": axis}


def _array_split_kw(draw, s):
    kw = _split_kw(draw, s)
    if isinstance(kw["indices_or_sections"], int):
        kw["indices_or_sections"] = draw(st.integers(1, 5))
    return kw


def _tile_kw(draw, s):
    reps = draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    return {"reps": reps[0] if len(reps) == 1 and draw(st.booleans()) else tuple(reps)}


def _repeat_kw(draw, s):
    axis = draw(st.sampled_from([None] + list(range(-len(s), len(s)))))
    n = int(np.prod(s)) if axis is None else s[axis]
    if draw(st.booleans()):
        return {"repeats": draw(st.integers(0, 3)), "axis": axis}
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return {"repeats": rng.integers(0, 4, n if n != 1 or draw(st.booleans()) else 1),
            "axis": axis}


def _repeat_traced_gen(draw, dtype, for_grad):
    """``repeats`` as an array argument (traced under jit/vmap): needs total_repeat_length."""
    s = shape(draw, min_dims=1)
    axis = _axis(draw, len(s))
    reps = array(draw, (s[axis],), "int32", low=0, high=3)
    total = int(reps.sum()) + draw(st.sampled_from([0, 0, 2]))
    return (array(draw, s, dtype, for_grad=for_grad), reps), \
        {"axis": axis, "total_repeat_length": total}


def _np_repeat_total(a, repeats, axis, total_repeat_length):
    """NumPy's repeat, padded with the last element up to ``total_repeat_length`` (as JAX)."""
    out = np.repeat(a, repeats, axis)
    extra = total_repeat_length - out.shape[axis]
    last = np.take(a, [a.shape[axis] - 1] * extra, axis) if extra > 0 else None
    return out if last is None else np.concatenate([out, last], axis)


# ----------------------------------------------------------------------------- flips and rolls
def _flip_kw(draw, s):
    nd = len(s)
    kind = draw(st.sampled_from(["none", "int", "tuple"])) if nd else "none"
    if kind == "none":
        return {"axis": None}
    if kind == "int":
        return {"axis": _axis(draw, nd)}
    return {"axis": tuple(draw(st.lists(st.integers(0, nd - 1), min_size=1, unique=True)))}


def _roll_kw(draw, s):
    nd = len(s)
    if nd == 0 or draw(st.booleans()):
        return {"shift": draw(st.integers(-7, 7)), "axis": None}
    axes = draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=3))
    if len(axes) == 1 and draw(st.booleans()):
        return {"shift": draw(st.integers(-7, 7)), "axis": axes[0]}
    return {"shift": tuple(draw(st.integers(-7, 7)) for _ in axes), "axis": tuple(axes)}


def _roll_traced_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1)
    shift = np.array(draw(st.integers(-7, 7)), np.int32)
    return (array(draw, s, dtype, for_grad=for_grad), shift), {"axis": _axis(draw, len(s))}


def _rot90_kw(draw, s):
    nd = len(s)
    a0, a1 = draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2))
    if a0 % nd == a1 % nd:
        a0, a1 = 0, 1
    return {"k": draw(st.integers(-2, 5)), "axes": (a0, a1)}


# ----------------------------------------------------------------------------- pad
def _pad_kw(draw, s):
    nd = len(s)
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    if mode != "constant" and 0 in s:
        mode = "constant"
    form = draw(st.sampled_from(["int", "pair", "per_axis"])) if nd else "int"
    if form == "int":
        width = draw(st.integers(0, 5))
    elif form == "pair":
        width = (draw(st.integers(0, 5)), draw(st.integers(0, 5)))
    else:
        width = tuple((draw(st.integers(0, 5)), draw(st.integers(0, 5))) for _ in range(nd))
    kw = {"pad_width": width, "mode": mode}
    if mode == "constant" and draw(st.booleans()):
        kw["constant_values"] = draw(st.sampled_from([1.5, -2, ((1, 2),) * max(nd, 1)]))
        if nd == 0:
            kw["constant_values"] = 3
    return kw


def _pad_value_gen(draw, dtype, for_grad):
    """The constant as an array argument: differentiable, traced under jit and vmap."""
    x = _one(draw, dtype, for_grad)
    return (x, array(draw, (), dtype, for_grad=for_grad)), \
        {"pad_width": draw(st.integers(0, 3))}


def _np_pad_value(x, v, pad_width):
    return np.pad(x, pad_width, constant_values=v)


# ----------------------------------------------------------------------------- diag and bitcast
def _diag_gen(draw, dtype, for_grad):
    x = _one(draw, dtype, for_grad, min_dims=1, max_dims=2)
    return (x,), {"k": draw(st.integers(-4, 4))}


def _bitcast_gen(draw, dtype, for_grad):
    x = _one(draw, dtype, False)
    return (x,), {"dtype": {"float32": "int32", "float64": "int64", "int32": "float32"}[dtype]}


def _np_bitcast(x, dtype):
    return x.view(dtype)


def _bitcast_out(d):
    return np.dtype({"float32": "int32", "float64": "int64", "int32": "float32"}[d.name])


# ----------------------------------------------------------------------------- lax-level slicing
def _lax_slice_gen(draw, dtype, for_grad):
    x = _one(draw, dtype, for_grad)
    starts, limits, strides = [], [], []
    for n in x.shape:
        a, b = sorted(draw(st.lists(st.integers(0, n), min_size=2, max_size=2)))
        starts.append(a)
        limits.append(b)
        strides.append(draw(st.integers(1, 3)))
    return (x,), {"start_indices": starts, "limit_indices": limits, "strides": strides}


def _np_slice(x, start_indices, limit_indices, strides):
    return x[tuple(slice(a, b, c) for a, b, c in zip(start_indices, limit_indices, strides))]


def _lax_pad_gen(draw, dtype, for_grad):
    x = _one(draw, dtype, for_grad)
    cfg = []
    for n in x.shape:
        it = draw(st.integers(0, 2))
        grown = n + max(n - 1, 0) * it
        lo = draw(st.integers(-grown, 3))
        hi = draw(st.integers(-(grown + lo), 3))
        cfg.append((lo, hi, it))
    return (x, array(draw, (), dtype, for_grad=for_grad)), {"padding_config": cfg}


def _np_lax_pad(x, v, padding_config):
    """Reference: interior padding by strided assignment, then lo/hi by np.pad or cropping."""
    out = x
    for ax, (lo, hi, it) in enumerate(padding_config):
        n = out.shape[ax]
        shape = list(out.shape)
        shape[ax] = n + max(n - 1, 0) * it
        grown = np.full(shape, v, x.dtype)
        idx = [slice(None)] * out.ndim
        idx[ax] = slice(0, None, it + 1)
        grown[tuple(idx)] = out
        width = [(0, 0)] * out.ndim
        width[ax] = (max(lo, 0), max(hi, 0))
        grown = np.pad(grown, width, constant_values=v)
        idx[ax] = slice(max(-lo, 0), grown.shape[ax] - max(-hi, 0))
        out = grown[tuple(idx)]
    return out


def _rev_gen(draw, dtype, for_grad):
    x = _one(draw, dtype, for_grad)
    dims = draw(st.lists(st.integers(0, max(x.ndim - 1, 0)), unique=True,
                         max_size=x.ndim))
    return (x,), {"dimensions": tuple(dims)}


def _starts(draw, s, sizes):
    return tuple(np.array(draw(st.integers(-2, n + 2)), np.int32) for n in s)


def _dynamic_slice_gen(draw, dtype, for_grad):
    x = _one(draw, dtype, for_grad)
    sizes = tuple(draw(st.integers(0, n)) for n in x.shape)
    return (x,) + _starts(draw, x.shape, sizes), {"slice_sizes": sizes}


def _clamped(shape, starts, sizes):
    # As JAX: a negative start counts from the end of its axis, then the window is clamped.
    starts = [int(s) + n if int(s) < 0 else int(s) for s, n in zip(starts, shape)]
    return tuple(slice(s, s + k) for s, k in
                 ((min(max(s, 0), n - k), k) for s, n, k in zip(starts, shape, sizes)))


def _np_dynamic_slice(x, *starts, slice_sizes):
    return x[_clamped(x.shape, starts, slice_sizes)]


def _dus_gen(draw, dtype, for_grad):
    x = _one(draw, dtype, for_grad)
    u = array(draw, tuple(draw(st.integers(0, n)) for n in x.shape), dtype, for_grad=for_grad)
    return (x, u) + _starts(draw, x.shape, u.shape), {}


def _np_dus(x, u, *starts):
    out = x.copy()
    out[_clamped(x.shape, starts, u.shape)] = u
    return out


OPS = [
    Op("reshape", lnp.reshape, np.reshape, _gen(_reshape_kw), dtypes=ALL),
    Op("ravel", lnp.ravel, np.ravel, _gen(), dtypes=ALL),
    Op("transpose", lnp.transpose, np.transpose,
       _gen(lambda draw, s: {"axes": draw(st.sampled_from([None, _perm(draw, len(s))]))}),
       dtypes=ALL),
    Op("swapaxes", lnp.swapaxes, np.swapaxes, _gen(_swap_kw, min_dims=1), dtypes=ALL),
    Op("moveaxis", lnp.moveaxis, np.moveaxis, _gen(_moveaxis_kw), dtypes=ALL),
    Op("expand_dims", lnp.expand_dims, np.expand_dims, _gen(_expand_kw), dtypes=ALL),
    Op("squeeze", lnp.squeeze, np.squeeze, _gen(_squeeze_kw, max_side=2), dtypes=ALL),
    Op("broadcast_to", lnp.broadcast_to, np.broadcast_to, _gen(_broadcast_kw, max_side=2),
       dtypes=ALL),
    Op("concatenate", _varargs(lnp.concatenate), _varargs(np.concatenate), _join_gen(),
       dtypes=ALL),
    Op("stack", _varargs(lnp.stack), _varargs(np.stack), _join_gen(0, same_shape=True),
       dtypes=ALL),
    Op("hstack", _varargs(lnp.hstack), _varargs(np.hstack), _stackish_gen, dtypes=ALL),
    Op("vstack", _varargs(lnp.vstack), _varargs(np.vstack), _stackish_gen, dtypes=ALL),
    Op("dstack", _varargs(lnp.dstack), _varargs(np.dstack), _stackish_gen, dtypes=ALL),
    Op("column_stack", _varargs(lnp.column_stack), _varargs(np.column_stack), _stackish_gen,
       dtypes=ALL),
    Op("split", lnp.split, np.split, _gen(_split_kw, min_dims=1), dtypes=ALL),
    Op("array_split", lnp.array_split, np.array_split, _gen(_array_split_kw, min_dims=1),
       dtypes=ALL),
    Op("tile", lnp.tile, np.tile, _gen(_tile_kw, max_side=3), dtypes=ALL),
    Op("repeat", lnp.repeat, np.repeat, _gen(_repeat_kw), dtypes=ALL),
    Op("repeat", lnp.repeat, _np_repeat_total, _repeat_traced_gen, dtypes=NUMERIC,
       id="repeat_traced_repeats"),
    Op("flip", lnp.flip, np.flip, _gen(_flip_kw), dtypes=ALL),
    Op("fliplr", lnp.fliplr, np.fliplr, _gen(min_dims=2), dtypes=ALL),
    Op("flipud", lnp.flipud, np.flipud, _gen(min_dims=1), dtypes=ALL),
    Op("roll", lnp.roll, np.roll, _gen(_roll_kw), dtypes=ALL),
    Op("roll", lnp.roll, np.roll, _roll_traced_gen, dtypes=NUMERIC, id="roll_traced_shift"),
    Op("rot90", lnp.rot90, np.rot90, _gen(_rot90_kw, min_dims=2), dtypes=ALL),
    Op("pad", lnp.pad, np.pad, _gen(_pad_kw), dtypes=NUMERIC),
    Op("pad", lambda x, v, pad_width: lnp.pad(x, pad_width, constant_values=v), _np_pad_value,
       _pad_value_gen, dtypes=NUMERIC, id="pad_traced_constant"),
    Op("atleast_1d", lnp.atleast_1d, np.atleast_1d, _gen(), dtypes=ALL),
    Op("atleast_2d", lnp.atleast_2d, np.atleast_2d, _gen(), dtypes=ALL),
    Op("atleast_3d", lnp.atleast_3d, np.atleast_3d, _gen(), dtypes=ALL),
    Op("atleast_3d", lnp.atleast_3d, np.atleast_3d, _stackish_gen, dtypes=FLOATS,
       id="atleast_3d_many"),
    Op("diag", lnp.diag, np.diag, _diag_gen, dtypes=ALL),
    Op("shape", lambda x: lnp.asarray(lnp.shape(x)), lambda x: np.asarray(np.shape(x)), _gen(),
       dtypes=FLOATS,
       grad=False, vmap=False, check_dtype=False),
    Op("ndim", lambda x: lnp.asarray(lnp.ndim(x)), np.ndim, _gen(), dtypes=FLOATS,
       grad=False, vmap=False, check_dtype=False),
    Op("bitcast", lnp.bitcast, _np_bitcast, _bitcast_gen, dtypes=NUMERIC, nondiff=True,
       out_dtype=_bitcast_out),
    # lax-level slicing primitives
    Op("lax.slice", sl.slice, _np_slice, _lax_slice_gen, dtypes=ALL),
    Op("lax.pad", sl.pad, _np_lax_pad, _lax_pad_gen, dtypes=ALL),
    Op("lax.rev", sl.rev, lambda x, dimensions: np.flip(x, dimensions), _rev_gen, dtypes=ALL),
    Op("lax.dynamic_slice", lambda x, *s, slice_sizes: sl.dynamic_slice(x, s, slice_sizes),
       _np_dynamic_slice, _dynamic_slice_gen, dtypes=ALL),
    Op("lax.dynamic_update_slice", lambda x, u, *s: sl.dynamic_update_slice(x, u, s), _np_dus,
       _dus_gen, dtypes=ALL),
]
