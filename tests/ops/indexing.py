"""Op rows: ``x[idx]``, ``x.at[idx]`` updates, take, take_along_axis, nonzero & co, diagonals,
tril/triu, searchsorted, indices, and the gather/scatter primitives against loop oracles."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from lepton.primitives import indexing as ix
from tests.ops import ALL, NUMERIC, Op, array, bshape, shape

_I32 = lambda d: np.dtype(np.int32)  # noqa: E731


def _rng(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def index_expr(draw, s, arrays=True, masks=True):
    """A NumPy index expression for shape ``s``: ints, slices (any step), None, Ellipsis,
    integer arrays (broadcastable, maybe repeated entries, as lists too) and boolean masks."""
    rng = _rng(draw)
    common = shape(draw, max_dims=2, max_side=3)
    items, ax, ellipsis = [], 0, False
    kinds = ["int", "slice", "slice", "none", "ellipsis", "stop"] + \
        ["array", "array"] * arrays + ["mask"] * masks
    while ax < len(s):
        n, kind = s[ax], draw(st.sampled_from(kinds))
        if kind == "stop":
            break
        if kind == "none":
            items.append(None)
        elif kind == "ellipsis" and not ellipsis:
            ellipsis = True
            items.append(Ellipsis)
            ax = len(s) - draw(st.integers(0, len(s) - ax))
        elif kind == "int" and n:
            items.append(draw(st.integers(-n, n - 1)))
            ax += 1
        elif kind == "array" and n:
            a = rng.integers(-n, n, bshape(draw, common))
            items.append(a.tolist() if a.ndim == 1 and draw(st.booleans()) else a)
            ax += 1
        elif kind == "mask":
            k = draw(st.integers(1, len(s) - ax))
            items.append(rng.random(s[ax:ax + k]) < 0.5)
            ax += k
        else:
            bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
            items.append(slice(draw(bound), draw(bound),
                               draw(st.sampled_from([None, 1, 2, -1, -2, 3]))))
            ax += 1
    if draw(st.booleans()):
        items.append(None)
    return items[0] if len(items) == 1 and draw(st.booleans()) else tuple(items)


def _indexed_shape(s, idx):
    """Shape of ``x[idx]``, or None when NumPy rejects the index."""
    try:
        return np.empty(s)[idx].shape
    except IndexError:
        return None


def _getitem_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw), dtype, for_grad=for_grad)
    idx = index_expr(draw, x.shape)
    return (x,), {"idx": idx if _indexed_shape(x.shape, idx) is not None else ()}


_TEMPLATES = [("A",), ("A", "A"), (slice(None), "A"), ("A", slice(1, None), "A"),
              (Ellipsis, "A"), ("A", None, 0), (0, slice(None, None, -1), "A"), ("A", Ellipsis)]


def _fill(template, arrays):
    it = iter(arrays)
    return tuple(next(it) if t == "A" else t for t in template)


def _template_axes(template, nd):
    """The operand axis each "A" of the template indexes."""
    consumed = sum(t is not None and t is not Ellipsis for t in template)
    axes, ax = [], 0
    for t in template:
        if t is Ellipsis:
            ax += nd - consumed
        elif t is not None:
            if t == "A":
                axes.append(ax)
            ax += 1
    return axes


def _traced_index_gen(draw, dtype, for_grad):
    """Index arrays as arguments: traced under jit and batched under vmap."""
    template = draw(st.sampled_from(_TEMPLATES))
    consumed = sum(t is not None and t is not Ellipsis for t in template)
    s = shape(draw, min_dims=consumed, max_dims=consumed + 1, min_side=1)
    rng, common = _rng(draw), shape(draw, max_dims=2, max_side=3)
    arrays = tuple(rng.integers(-s[a], s[a], bshape(draw, common)).astype(np.int32)
                   for a in _template_axes(template, len(s)))
    return (array(draw, s, dtype, for_grad=for_grad),) + arrays, {"template": template}


def _getitem_traced(x, *arrays, template):
    return x[_fill(template, arrays)]


def _lepton_getitem_traced(x, *arrays, template):
    return lnp.asarray(x)[_fill(template, arrays)]


def _at_gen(kind="real", vkind="real"):
    def gen(draw, dtype, for_grad):
        x = array(draw, shape(draw), dtype, kind, for_grad)
        idx = index_expr(draw, x.shape)
        target = _indexed_shape(x.shape, idx)
        if target is None:  # e.g. masks whose counts do not broadcast: update everything
            idx, target = (), x.shape
        vshape = bshape(draw, target) if draw(st.booleans()) else target
        return (x, array(draw, vshape, dtype, vkind, for_grad)), {"idx": idx}

    return gen


def _np_update(how):
    def ref(x, v, idx):
        y = x.copy()
        if how == "set":
            y[idx] = v
        elif how == "power":
            y[idx] = y[idx] ** np.broadcast_to(v, y[idx].shape)
        else:
            getattr(np, how).at(y, idx, np.broadcast_to(v, y[idx].shape))
        return y

    return ref


def _at(method):
    return lambda x, v, idx: getattr(lnp.asarray(x).at[idx], method)(v)


def _at_get_gen(draw, dtype, for_grad):
    """Out-of-bounds indices read the fill value (mode='fill') or clamp (mode='clip')."""
    s = shape(draw, min_dims=1, min_side=1)
    rng = _rng(draw)
    i = rng.integers(-s[0] - 2, s[0] + 2, shape(draw, max_dims=2)).astype(np.int32)
    mode = draw(st.sampled_from(["fill", "clip"]))
    return (array(draw, s, dtype, for_grad=for_grad), i), {"mode": mode, "fill_value": 7}


def _np_at_get(x, i, mode, fill_value):
    n = x.shape[0]
    j = np.where(i < 0, i + n, i)
    if mode == "clip":
        return x[np.clip(j, 0, n - 1)]
    ok = (j >= 0) & (j < n)
    out = x[np.where(ok, j, 0)]
    out[~ok] = fill_value
    return out


def _at_traced_gen(draw, dtype, for_grad):
    """``x.at[i, :, j].add(v)`` with index arrays as arguments (repeats allowed)."""
    s = shape(draw, min_dims=3, max_dims=3, min_side=1)
    rng, b = _rng(draw), shape(draw, max_dims=2, max_side=3)
    i = rng.integers(-s[0], s[0], b).astype(np.int32)
    j = rng.integers(-s[2], s[2], bshape(draw, b)).astype(np.int32)
    v = array(draw, np.broadcast_shapes(i.shape, j.shape) + (s[1],), dtype, for_grad=for_grad)
    return (array(draw, s, dtype, for_grad=for_grad), v, i, j), {}


def _np_at_traced(x, v, i, j):
    y = x.copy()
    np.add.at(y, (i, slice(None), j), v)
    return y


# ----------------------------------------------------------------------------- take & co
def _take_gen(draw, dtype, for_grad):
    s = shape(draw)
    axis = draw(st.sampled_from([None] + list(range(-len(s), len(s)))))
    n = int(np.prod(s)) if axis is None else s[axis]
    mode = draw(st.sampled_from([None, "clip", "wrap"])) if n else None
    lo, hi = (-n, n - 1) if mode is None else (-2 * n - 1, 2 * n + 1)
    ishape = shape(draw, max_dims=2) if n else (0,)  # an empty axis takes nothing
    i = _rng(draw).integers(lo, max(hi, lo) + 1, ishape).astype(np.int32)
    return (array(draw, s, dtype, for_grad=for_grad), i), {"axis": axis, "mode": mode}


def _np_take(a, i, axis, mode):
    return np.take(a, i, axis, mode="raise" if mode is None else mode)


def _take_along_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1)
    axis = draw(st.integers(-len(s), len(s) - 1))
    n = s[axis]
    ishape = list(bshape(draw, s[-len(s):]))
    ishape = [1] * (len(s) - len(ishape)) + ishape
    ishape[axis] = draw(st.integers(0, 3)) if n else 0
    i = _rng(draw).integers(-n, max(n, 1), ishape).astype(np.int32)
    return (array(draw, s, dtype, for_grad=for_grad), i), {"axis": axis}


def _nonzero_gen(draw, dtype, for_grad):
    """``size`` always set: the rows also run traced (size=None is tested eagerly elsewhere)."""
    x = array(draw, shape(draw, min_dims=1), dtype, kind="int", low=0, high=2)
    return (x,), {"size": draw(st.sampled_from([0, 2, 30]))}


def _sized(rows, size):
    """The first ``size`` rows, padded with zeros (lepton's ``size=``, default fill 0)."""
    pad = np.zeros((max(size - len(rows), 0),) + rows.shape[1:], rows.dtype)
    return np.concatenate([rows[:size], pad])


def _np_nonzero(x, size):
    return tuple(_sized(v, size) for v in np.nonzero(x))


def _np_flatnonzero(x, size):
    return _sized(np.flatnonzero(x), size)


def _np_argwhere(x, size):
    return _sized(np.argwhere(x), size)


def _lepton_nonzero(fn):
    return lambda x, size: fn(x, size=size)


def _diagonal_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=2)
    a1, a2 = draw(st.lists(st.integers(-len(s), len(s) - 1), min_size=2, max_size=2))
    if a1 % len(s) == a2 % len(s):
        a1, a2 = 0, 1
    return (array(draw, s, dtype, for_grad=for_grad),), \
        {"offset": draw(st.integers(-4, 4)), "axis1": a1, "axis2": a2}


def _tri_gen(draw, dtype, for_grad):
    return (array(draw, shape(draw, min_dims=1), dtype, for_grad=for_grad),), \
        {"k": draw(st.integers(-3, 3))}


def _searchsorted_gen(draw, dtype, for_grad):
    a = np.sort(array(draw, (draw(st.integers(0, 9)),), dtype))
    v = array(draw, shape(draw), dtype)
    if a.size and draw(st.booleans()):  # exact hits and ties
        v = _rng(draw).choice(a, np.shape(v)).astype(dtype)
    return (a, v), {"side": draw(st.sampled_from(["left", "right"]))}


def _indices_gen(draw, dtype, for_grad):
    return (), {"dimensions": shape(draw, max_dims=3), "sparse": draw(st.booleans())}


# ----------------------------------------------------------------------------- gather/scatter
def _gather_gen(draw, dtype, for_grad):
    """Indices out of bounds and repeated, on 1 or 2 of the operand's axes."""
    s = shape(draw, min_dims=1, max_side=3)
    axes = tuple(draw(st.lists(st.integers(0, len(s) - 1), min_size=0, max_size=2,
                               unique=True)))
    rng, b = _rng(draw), shape(draw, max_dims=2, max_side=3)
    idx = tuple(rng.integers(-1, s[a] + 2, b).astype(np.int32) for a in axes)
    mode = draw(st.sampled_from(["clip", "fill"]))
    kw = {"axes": axes, "mode": mode}
    if mode == "fill":
        kw["fill_value"] = 0.5 if for_grad else draw(st.sampled_from([None, 3]))
    return (array(draw, s, dtype, for_grad=for_grad),) + idx, kw


def _rest(nd, axes):
    return [a for a in range(nd) if a not in axes]


def _loop_gather(x, *idx, axes, mode, fill_value=None):
    """Oracle: one point per index tuple, in Python loops."""
    xt = np.transpose(x, list(axes) + _rest(x.ndim, axes))
    sizes = xt.shape[:len(axes)]
    b = idx[0].shape if idx else ()
    out = np.zeros(b + xt.shape[len(axes):], x.dtype)
    fill = fill_value
    if fill is None:
        fill = {"f": np.nan, "i": np.iinfo(x.dtype).min if x.dtype.kind == "i" else 0,
                "b": True}[x.dtype.kind]
    for pos in np.ndindex(*b):
        point = [int(i[pos]) for i in idx]
        if mode == "clip" and all(sizes):
            out[pos] = xt[tuple(min(max(p, 0), n - 1) for p, n in zip(point, sizes))]
        elif all(0 <= p < n for p, n in zip(point, sizes)):
            out[pos] = xt[tuple(point)]
        else:
            out[pos] = fill if mode == "fill" else 0
    return out


def _scatter_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1, max_side=3)
    axes = tuple(draw(st.lists(st.integers(0, len(s) - 1), min_size=0, max_size=2,
                               unique=True)))
    rng, b = _rng(draw), shape(draw, max_dims=2, max_side=3)
    idx = tuple(rng.integers(-1, s[a] + 2, b).astype(np.int32) for a in axes)
    u_shape = (idx[0].shape if idx else ()) + tuple(s[r] for r in _rest(len(s), axes))
    u = array(draw, u_shape, dtype, "nonzero", for_grad)  # no ties with x (min/max kinks)
    return (array(draw, s, dtype, for_grad=for_grad), u) + idx, \
        {"axes": axes, "mode": draw(st.sampled_from(["clip", "drop"]))}


def _loop_scatter(combine):
    """Oracle: apply the updates one at a time, in C order of the index shape."""
    def ref(x, u, *idx, axes, mode):
        out = x.copy()
        ot = np.transpose(out, list(axes) + _rest(x.ndim, axes))
        sizes = ot.shape[:len(axes)]
        for pos in np.ndindex(*(idx[0].shape if idx else ())):
            point = [int(i[pos]) for i in idx]
            if mode == "clip":
                if not all(sizes):
                    continue
                point = [min(max(p, 0), n - 1) for p, n in zip(point, sizes)]
            elif not all(0 <= p < n for p, n in zip(point, sizes)):
                continue
            ot[tuple(point)] = combine(ot[tuple(point)], u[pos])
        return out

    return ref


def _scatter_row(name, fn, combine, dtypes=NUMERIC):
    def call(x, u, *idx, axes, mode):
        return fn(lnp.asarray(x), lnp.asarray(u), [lnp.asarray(i) for i in idx], axes, mode)

    return Op(f"lax.{name}", call, _loop_scatter(combine), _scatter_gen, dtypes=dtypes)


OPS = [
    Op("getitem", lambda x, idx: lnp.asarray(x)[idx], lambda x, idx: x[idx], _getitem_gen,
       dtypes=ALL),
    Op("getitem", _lepton_getitem_traced, _getitem_traced, _traced_index_gen, dtypes=ALL,
       id="getitem_traced_indices"),
    Op("at.set", _at("set"), _np_update("set"), _at_gen(), dtypes=ALL),
    Op("at.add", _at("add"), _np_update("add"), _at_gen(), dtypes=NUMERIC),
    Op("at.subtract", _at("subtract"), _np_update("subtract"), _at_gen(), dtypes=NUMERIC),
    Op("at.multiply", _at("multiply"), _np_update("multiply"), _at_gen(), dtypes=NUMERIC),
    Op("at.divide", _at("divide"), _np_update("divide"), _at_gen(vkind="nonzero")),
    Op("at.power", _at("power"), _np_update("power"), _at_gen("positive")),
    # updates of another kind than x: equal seeds must not draw ties (kinks of min/max)
    Op("at.min", _at("min"), _np_update("minimum"), _at_gen(vkind="nonzero"), dtypes=NUMERIC),
    Op("at.max", _at("max"), _np_update("maximum"), _at_gen(vkind="nonzero"), dtypes=NUMERIC),
    Op("at.get", lambda x, i, mode, fill_value: lnp.asarray(x).at[i].get(
        mode=mode, fill_value=fill_value), _np_at_get, _at_get_gen, dtypes=NUMERIC),
    Op("at.add", lambda x, v, i, j: lnp.asarray(x).at[i, :, j].add(v), _np_at_traced,
       _at_traced_gen,
       dtypes=NUMERIC, id="at.add_traced_indices"),
    Op("take", lnp.take, _np_take, _take_gen, dtypes=ALL),
    Op("take_along_axis", lnp.take_along_axis, np.take_along_axis, _take_along_gen, dtypes=ALL),
    Op("nonzero", _lepton_nonzero(lnp.nonzero), _np_nonzero, _nonzero_gen, dtypes=ALL,
       nondiff=True, out_dtype=_I32),
    Op("flatnonzero", _lepton_nonzero(lnp.flatnonzero), _np_flatnonzero, _nonzero_gen,
       dtypes=ALL, nondiff=True, out_dtype=_I32),
    Op("argwhere", _lepton_nonzero(lnp.argwhere), _np_argwhere, _nonzero_gen, dtypes=ALL,
       nondiff=True, out_dtype=_I32),
    Op("diagonal", lnp.diagonal, np.diagonal, _diagonal_gen, dtypes=ALL),
    Op("tril", lnp.tril, np.tril, _tri_gen, dtypes=ALL),
    Op("triu", lnp.triu, np.triu, _tri_gen, dtypes=ALL),
    Op("searchsorted", lnp.searchsorted, np.searchsorted, _searchsorted_gen, dtypes=NUMERIC,
       nondiff=True, out_dtype=_I32),
    Op("indices", lnp.indices, np.indices, _indices_gen, dtypes=("int32",), grad=False,
       vmap=False),
    Op("lax.gather", lambda x, *idx, axes, mode, fill_value=None: ix.gather(
        lnp.asarray(x), [lnp.asarray(i) for i in idx], axes, mode, fill_value), _loop_gather,
       _gather_gen, dtypes=ALL),
    _scatter_row("scatter", ix.scatter, lambda old, new: new, dtypes=ALL),
    _scatter_row("scatter_add", ix.scatter_add, np.add),
    _scatter_row("scatter_mul", ix.scatter_mul, np.multiply),
    _scatter_row("scatter_min", ix.scatter_min, np.minimum),
    _scatter_row("scatter_max", ix.scatter_max, np.maximum),
]
