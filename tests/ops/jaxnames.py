"""Op rows: the JAX names JAX programs missed: histogram, histogram_bin_edges, insert, delete,
put_along_axis, gcd, lcm (and the fft family, linalg.tensorsolve/tensorinv)."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import NUMERIC, Op, array, shape

_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _inexact(d):
    d = np.dtype(d)
    return d if d.kind in "fc" else np.dtype(np.float32)


# ----------------------------------------------------------------------------- histogram
def _hist_gen(weighted):
    def gen(draw, dtype, for_grad):
        a = array(draw, shape(draw, 0, 2), dtype, for_grad=True)
        kw = {"density": draw(st.booleans())}
        how = draw(st.sampled_from(["int", "range", "edges"]))
        if how == "edges":
            kw["bins"] = np.sort(np.unique(np.round(np.random.default_rng(
                draw(st.integers(0, 999))).uniform(-3, 3, draw(st.integers(2, 5))), 1)))
            if kw["bins"].size < 2:
                kw["bins"] = np.array([-1.0, 1.0])
        else:
            kw["bins"] = draw(st.integers(1, 6))
        if how == "range":
            kw["range"] = (-2.0, draw(st.sampled_from([-2.0, 0.5, 2.5])))
        if weighted:
            # finite weights: NumPy sums weighted bins by cumsum differences (inf - inf)
            return (a, array(draw, a.shape, dtype, "positive", True, salt=1)), kw
        if a.size == 0:  # no data and a density: 0/0, as NumPy (which warns)
            kw["density"] = False
        return (a,), kw

    return gen


def _hist(a, w=None, **kw):
    return lnp.histogram(a, weights=w, **kw)


def _hist_ref(a, w=None, **kw):
    dt = np.result_type(_inexact(a.dtype), *(() if w is None else (w.dtype,)))
    bins = kw.pop("bins")
    edges = np.histogram_bin_edges(a.astype(dt), bins, kw.get("range"))
    edges = bins.astype(dt) if np.ndim(bins) else edges.astype(dt)
    counts, _ = np.histogram(a.astype(dt), edges, weights=w, density=kw.get("density"))
    return counts.astype(dt), edges


def _edges_gen(draw, dtype, for_grad):
    a = array(draw, shape(draw, 1, 2, min_side=1), dtype, for_grad=True)
    kw = {"bins": draw(st.integers(1, 6))}
    if draw(st.booleans()):
        kw["range"] = (-1.0, draw(st.sampled_from([-1.0, 2.0])))
    return (a,), kw


def _edges_ref(a, bins, range=None):
    return np.histogram_bin_edges(a, bins, range).astype(_inexact(a.dtype))


def _hdd_gen(two):
    def gen(draw, dtype, for_grad):
        n = draw(st.integers(0, 12))
        d = 2 if two else draw(st.integers(1, 3))
        pts = array(draw, (n, d), dtype, for_grad=True)
        kw = {"density": draw(st.booleans()) and n > 0}
        how = draw(st.sampled_from(["int", "each", "range"]))
        if how == "each":
            kw["bins"] = tuple(draw(st.integers(1, 4)) for _ in range(d))
        else:
            kw["bins"] = draw(st.integers(1, 4))
        if how == "range" or n == 0:  # (NumPy needs a range for empty samples)
            kw["range"] = tuple(None if n and draw(st.booleans()) else (-2.0, 2.0)
                                for _ in range(d))
        args = (pts[:, 0], pts[:, 1]) if two else (pts,)
        if draw(st.booleans()) or for_grad:
            args += (array(draw, (n,), dtype, "positive", True, salt=5),)
        return args, kw

    return gen


def _hdd(*args, **kw):
    if len(args) == 2:
        return lnp.histogramdd(args[0], weights=args[1], **kw)
    return lnp.histogramdd(*args, **kw)


def _hdd_ref(*args, **kw):
    w = args[1] if len(args) == 2 else None
    hist, edges = np.histogramdd(args[0], weights=w, **kw)
    dt = np.result_type(_inexact(args[0].dtype), *(() if w is None else (w.dtype,)))
    return (hist.astype(dt if (w is not None or kw.get("density")) else np.int32),
            [e.astype(dt) for e in edges])


def _h2d(x, y, w=None, **kw):
    return lnp.histogram2d(x, y, weights=w, **kw)


def _h2d_ref(x, y, w=None, **kw):
    hist, ex, ey = np.histogram2d(x, y, weights=w, **kw)
    dt = np.result_type(_inexact(x.dtype), *(() if w is None else (w.dtype,)))
    return (hist.astype(dt if (w is not None or kw.get("density")) else np.int32),
            ex.astype(dt), ey.astype(dt))


# ----------------------------------------------------------------------------- insert/delete
def _axis_or_none(draw, ndim):
    return None if ndim == 0 or draw(st.booleans()) else draw(st.integers(-ndim, ndim - 1))


def _insert_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, 1, 3, min_side=1), dtype, for_grad=for_grad)
    axis = _axis_or_none(draw, x.ndim)
    n = x.size if axis is None else x.shape[axis]
    how = draw(st.sampled_from(["int", "array", "slice"]))
    if how == "int":
        obj = draw(st.integers(-n, n))
        k = 1
    elif how == "slice":
        obj = slice(draw(st.integers(0, n)), None, draw(st.integers(1, 2)))
        k = len(range(*obj.indices(n)))
    else:
        k = draw(st.integers(1, 3))
        obj = np.random.default_rng(draw(st.integers(0, 999))).integers(-n, n + 1, k)
    if axis is None:
        vshape = (k,) if how != "int" else ()
    else:
        vshape = list(x.shape)
        vshape[axis] = k
        vshape = tuple(vshape)
        if how == "int":  # one value slab (NumPy and JAX: values move to axis as 1)
            vshape = (1,) + tuple(s for i, s in enumerate(x.shape) if i != axis % x.ndim)
    v = array(draw, vshape, dtype, for_grad=for_grad, salt=2)
    return (x, v), {"obj": obj if how != "array" else tuple(obj.tolist()), "axis": axis}


def _insert(x, v, obj, axis):
    obj = np.asarray(obj) if isinstance(obj, tuple) else obj
    return lnp.insert(x, obj, v, axis)


def _insert_ref(x, v, obj, axis):
    obj = np.asarray(obj) if isinstance(obj, tuple) else obj
    return np.insert(x, obj, v, axis)


def _delete_gen(unique):
    def gen(draw, dtype, for_grad):
        x = array(draw, shape(draw, 1, 3, min_side=1), dtype, for_grad=for_grad)
        axis = _axis_or_none(draw, x.ndim)
        n = x.size if axis is None else x.shape[axis]
        rng = np.random.default_rng(draw(st.integers(0, 999)))
        how = "array" if unique else draw(st.sampled_from(["int", "array", "slice", "bool"]))
        if how == "int":
            obj = draw(st.integers(-n, n - 1))
        elif how == "slice":
            obj = slice(draw(st.integers(0, n)), None, draw(st.integers(1, 2)))
        elif how == "bool":
            obj = tuple((rng.random(n) < 0.5).tolist())
        elif unique:
            obj = tuple(rng.permutation(n)[:draw(st.integers(0, n))].tolist())
        else:
            obj = tuple(rng.integers(-n, n, draw(st.integers(0, 4))).tolist())
        return (x,), {"obj": obj, "axis": axis, **({"unique": True} if unique else {})}

    return gen


def _delete(x, obj, axis, unique=False):
    obj = np.asarray(obj, dtype=None if len(obj) else int) if isinstance(obj, tuple) else obj
    return lnp.delete(x, obj, axis, assume_unique_indices=unique)


def _delete_ref(x, obj, axis, unique=False):
    obj = np.asarray(obj, dtype=None if len(obj) else int) if isinstance(obj, tuple) else obj
    return np.delete(x, obj, axis)


def _put_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw, 1, 3, min_side=1), dtype, for_grad=for_grad)
    axis = None if draw(st.booleans()) and x.ndim == 1 else draw(st.integers(-x.ndim,
                                                                            x.ndim - 1))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    n = x.size if axis is None else x.shape[axis]
    ishape = list(x.shape)
    if axis is not None:
        ishape[axis] = draw(st.integers(1, n))
        # distinct per slice so that grads and the order of duplicate writes agree
        idx = np.argsort(rng.random(x.shape), axis=axis)
        idx = np.take(idx, np.arange(ishape[axis]), axis=axis) - \
            (n if draw(st.booleans()) else 0)
    else:
        idx = rng.permutation(n)[:draw(st.integers(1, n))]
    v = array(draw, idx.shape if draw(st.booleans()) else (), dtype, for_grad=for_grad,
              salt=3)
    return (x, idx.astype(np.int32), v), {"axis": axis}


def _put(x, i, v, axis):
    return lnp.put_along_axis(x, i, v, axis, inplace=False)


def _put_ref(x, i, v, axis):
    out = x.copy()
    np.put_along_axis(out, i.astype(np.intp), v, axis)
    return out


# ----------------------------------------------------------------------------- gcd / lcm
def _int_pair_gen(draw, dtype, for_grad):
    s = shape(draw)
    d = np.dtype(dtype)
    info = np.iinfo(d)
    edges = np.array(sorted({info.min, info.min + 1, info.max, info.max - 1, 0, 1,
                             max(info.min, -1)}), dtype=d)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))

    def one():
        x = rng.integers(max(info.min, -60), 61, s).astype(d)
        mask = rng.random(s) < 0.2
        return np.where(mask, rng.choice(edges, s), x).astype(d)

    return (one(), one()), {}


# ----------------------------------------------------------------------------- fft
_NORM = st.sampled_from([None, "backward", "ortho", "forward"])


# Finite inputs only: where inf and nan land in a transform depends on its algorithm.
def _fft1_gen(draw, dtype, for_grad):
    # (sides of 2 for gradients: an irfft of one bin has no default length, NumPy raises)
    x = array(draw, shape(draw, 1, 3, min_side=1 + for_grad), dtype, for_grad=True)
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    n = draw(st.sampled_from([None, None, 1, 2, 3, 5, 8]))
    return (x,), {"n": n, "axis": axis, "norm": draw(_NORM)}


def _fftn_gen(two):
    def gen(draw, dtype, for_grad):
        x = array(draw, shape(draw, 2 if two else 1, 3, min_side=1 + for_grad), dtype,
                  for_grad=True)
        if two:
            axes = tuple(draw(st.permutations(range(-x.ndim, 0)))[:2])
        else:
            k = draw(st.integers(1, x.ndim))
            axes = tuple(draw(st.permutations(range(x.ndim)))[:k])
        s = None if draw(st.booleans()) else tuple(draw(st.integers(1, 5)) for _ in axes)
        return (x,), {"s": s, "axes": axes, "norm": draw(_NORM)}

    return gen


def _fft_row(name, gen, dtypes=("float32", "float64"), **kw):
    return Op(f"fft.{name}", getattr(lnp.fft, name), getattr(np.fft, name), gen,
              dtypes=dtypes, scalable=False,
              rtol={"float32": 2e-4, "complex64": 2e-4},
              atol={"float32": 2e-4, "complex64": 2e-4}, **kw)


def _freq_gen(draw, dtype, for_grad):
    return (draw(st.integers(1, 9)), np.asarray(draw(st.sampled_from([1.0, 0.5, 2.5])),
                                                dtype)), {"dtype": np.dtype(dtype)}


def _shift_gen(draw, dtype, for_grad):
    x = array(draw, shape(draw), dtype, for_grad=for_grad)
    axes = None if x.ndim == 0 or draw(st.booleans()) else (
        draw(st.integers(-x.ndim, x.ndim - 1)) if draw(st.booleans())
        else tuple(draw(st.permutations(range(x.ndim)))[:draw(st.integers(1, x.ndim))]))
    return (x,), {"axes": axes}


_FFT_ROWS = [
    *[_fft_row(n, _fft1_gen) for n in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")],
    *[_fft_row(n, _fftn_gen(True)) for n in ("fft2", "ifft2", "rfft2", "irfft2")],
    *[_fft_row(n, _fftn_gen(False)) for n in ("fftn", "ifftn", "rfftn", "irfftn")],
    # dtype= as d's (the default is float32 whatever d is, as JAX; NumPy's is float64)
    Op("fft.fftfreq", lnp.fft.fftfreq, lambda n, d, dtype: np.fft.fftfreq(n, d), _freq_gen,
       diff_args=(1,), vmap_args=(1,), scalable=False),
    Op("fft.rfftfreq", lnp.fft.rfftfreq, lambda n, d, dtype: np.fft.rfftfreq(n, d),
       _freq_gen, diff_args=(1,), vmap_args=(1,), scalable=False),
    Op("fft.fftshift", lnp.fft.fftshift, np.fft.fftshift, _shift_gen, dtypes=NUMERIC),
    Op("fft.ifftshift", lnp.fft.ifftshift, np.fft.ifftshift, _shift_gen, dtypes=NUMERIC),
]

# ----------------------------------------------------------------------------- tensorsolve/inv
_SPLITS = {1: [(1,)], 2: [(2,), (1, 2)], 4: [(4,), (2, 2)], 6: [(6,), (2, 3), (3, 2)],
           8: [(8,), (2, 4), (2, 2, 2)]}


def _square(draw, dtype, n):
    """A well-conditioned n x n matrix (diagonally dominant), complex for complex dtypes."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    m = rng.uniform(-1, 1, (n, n))
    if np.dtype(dtype).kind == "c":
        m = m + 1j * rng.uniform(-1, 1, (n, n))
    return (m + n * np.eye(n)).astype(dtype)


def _tensorsolve_gen(draw, dtype, for_grad):
    n = draw(st.sampled_from(sorted(_SPLITS)))
    bshape, xshape = draw(st.sampled_from(_SPLITS[n])), draw(st.sampled_from(_SPLITS[n]))
    a = _square(draw, dtype, n).reshape(bshape + xshape)
    b = array(draw, bshape, dtype, for_grad=True, salt=4)
    axes = None
    if draw(st.booleans()) and len(xshape) > 1:  # the x axes given first, moved by axes=
        a = np.moveaxis(a, tuple(range(len(bshape), a.ndim)), tuple(range(len(xshape))))
        axes = tuple(range(len(xshape)))
    return (a, b), {"axes": axes}


def _tensorinv_gen(draw, dtype, for_grad):
    n = draw(st.sampled_from(sorted(_SPLITS)))
    head, tail = draw(st.sampled_from(_SPLITS[n])), draw(st.sampled_from(_SPLITS[n]))
    return (_square(draw, dtype, n).reshape(head + tail),), {"ind": len(head)}


OPS = _FFT_ROWS + [
    Op("linalg.tensorsolve", lnp.linalg.tensorsolve, np.linalg.tensorsolve, _tensorsolve_gen,
       scalable=False, rtol={"float32": 1e-4}, atol={"float32": 1e-5}),
    Op("linalg.tensorinv", lnp.linalg.tensorinv, np.linalg.tensorinv, _tensorinv_gen,
       scalable=False, rtol={"float32": 1e-4}, atol={"float32": 1e-5}),
    Op("histogram", _hist, _hist_ref, _hist_gen(False), dtypes=("float32", "float64", "int32"),
       grad=False, out_dtype=_inexact, scalable=False),
    Op("histogram", _hist, _hist_ref, _hist_gen(True), dtypes=("float32", "float64"),
       diff_args=(1,), out_dtype=_inexact, id="histogram_weights", scalable=False),
    Op("histogram_bin_edges", lnp.histogram_bin_edges, _edges_ref, _edges_gen,
       dtypes=("float32", "float64", "int32"), out_dtype=_inexact, scalable=False,
       rtol={"float32": 1e-5}, atol={"float32": 1e-5}),
    Op("histogramdd", _hdd, _hdd_ref, _hdd_gen(False), dtypes=("float32", "float64"),
       diff_args=(1,), scalable=False, check_dtype=False),
    Op("histogram2d", _h2d, _h2d_ref, _hdd_gen(True), dtypes=("float32", "float64"),
       diff_args=(2,), scalable=False, check_dtype=False),
    Op("insert", _insert, _insert_ref, _insert_gen, dtypes=NUMERIC + ("bool",)),
    Op("delete", _delete, _delete_ref, _delete_gen(False), dtypes=NUMERIC + ("bool",)),
    Op("delete", _delete, _delete_ref, _delete_gen(True), dtypes=NUMERIC,
       id="delete_unique_indices"),
    Op("put_along_axis", _put, _put_ref, _put_gen, dtypes=NUMERIC, diff_args=(0, 2),
       vmap_args=(0, 2)),
    Op("gcd", lnp.gcd, np.gcd, _int_pair_gen, dtypes=_INTS, grad=False),
    Op("lcm", lnp.lcm, np.lcm, _int_pair_gen, dtypes=_INTS, grad=False),
]
