"""Op rows: sort, argsort, lexsort, unique (eager and sized), isin, bincount."""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import ALL, NUMERIC, Op, array, shape, side
from tests.ops.reductions import _spread

_I32 = lambda d: np.dtype(np.int32)  # noqa: E731
_BOOL = lambda d: np.dtype(bool)  # noqa: E731


def _sort_gen(draw, dtype, for_grad):
    s = shape(draw)
    if not s or draw(st.integers(0, 3)) == 0:
        axis = None
    else:
        axis = draw(st.integers(-len(s), len(s) - 1))
    if for_grad:
        return (_spread(draw, s),), {"axis": axis}
    x = array(draw, s, dtype)
    if dtype != "bool" and x.size and draw(st.booleans()):
        x = np.round(x)  # ties, to check stability
    return (x,), {"axis": axis}


def _lexsort_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    keys = tuple(rng.integers(0, 3, s).astype(dtype) for _ in range(draw(st.integers(1, 3))))
    return keys, {}


def _unique_gen(draw, dtype, for_grad):
    s = shape(draw)
    x = array(draw, s, dtype, "int", low=0, high=4) if dtype != "bool" else \
        array(draw, s, dtype)
    if dtype.startswith("float") and x.size and draw(st.booleans()):
        x = np.where(np.random.default_rng(0).random(s) < 0.3, np.nan, x).astype(dtype)
    flags = {k: draw(st.booleans()) for k in ("return_index", "return_inverse",
                                               "return_counts")}
    return (x,), flags


def _unique_sized(x, size, fill_value, **flags):
    return lnp.unique(x, size=size, fill_value=fill_value, **flags)


def _unique_sized_ref(x, size, fill_value, **flags):
    """NumPy's unique, padded (values with fill_value, indices and counts with 0)."""
    res = np.unique(x, **flags)
    res = res if isinstance(res, tuple) else (res,)
    names = [k for k in ("return_index", "return_inverse", "return_counts") if flags[k]]
    out = [_pad(res[0], size, fill_value)]
    for name, r in zip(names, res[1:]):
        out.append(r.reshape(np.shape(x)) if name == "return_inverse" else _pad(r, size, 0))
    return out[0] if len(out) == 1 else tuple(out)


def _pad(v, size, fill):
    v = v[:size]
    return np.concatenate([v, np.full(size - v.shape[0], fill, v.dtype)])


def _unique_sized_gen(draw, dtype, for_grad):
    (x,), flags = _unique_gen(draw, dtype, for_grad)
    if not x.size:
        x = np.zeros((1,), dtype)
    if for_grad:  # distinct values: unique is not differentiable where two inputs coincide
        x = (np.argsort(x.reshape(-1), kind="stable") * 0.75 - 1.0).astype(dtype)
    size = draw(st.integers(1, x.size + 2))
    return (x,), dict(flags, size=size, fill_value=draw(st.sampled_from([-1, 7])) if
                      dtype != "bool" else False)


def _isin_gen(draw, dtype, for_grad):
    s = shape(draw)
    return (array(draw, s, dtype, "int", low=0, high=5),
            array(draw, shape(draw, max_dims=2), dtype, "int", low=0, high=5)), \
        {"invert": draw(st.booleans())}


def _bincount_gen(weighted, with_length):
    def gen(draw, dtype, for_grad):
        n = side(draw, 0, 8)
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        x = rng.integers(0, 6, n).astype(np.int32)
        kw = {"minlength": draw(st.integers(0, 8))}
        if with_length:
            kw = {"length": 7}
            x = np.minimum(x, 6)
        args = (x,)
        if weighted:
            args += (array(draw, (n,), dtype, for_grad=for_grad),)
        return args, kw

    return gen


def _bincount_ref(x, weights=None, minlength=0, length=None):
    if length is None:
        return np.bincount(x, weights, minlength)
    return np.bincount(x, weights, length)[:length]


OPS = [
    Op("sort", lnp.sort, np.sort, _sort_gen, dtypes=ALL),
    Op("argsort", lnp.argsort, lambda x, axis: np.argsort(x, axis, kind="stable"), _sort_gen,
       dtypes=ALL, nondiff=True, out_dtype=_I32),
    Op("lexsort", lambda *k: lnp.lexsort(k), lambda *k: np.lexsort(k), _lexsort_gen,
       dtypes=NUMERIC, nondiff=True, out_dtype=_I32),
    Op("unique", lnp.unique, np.unique, _unique_gen, dtypes=ALL, grad=False, vmap=False,
       jit=False, check_dtype=False),
    Op("unique", _unique_sized, _unique_sized_ref, _unique_sized_gen, dtypes=ALL,
       check_dtype=False, id="unique_sized"),
    Op("isin", lnp.isin, np.isin, _isin_gen, dtypes=NUMERIC, nondiff=True, out_dtype=_BOOL),
    Op("bincount", lnp.bincount, _bincount_ref, _bincount_gen(False, False), dtypes=("int32",),
       grad=False, vmap=False, jit=False, out_dtype=_I32),
    Op("bincount", lnp.bincount, _bincount_ref, _bincount_gen(True, False),
       dtypes=("float32", "float64"), vmap=False, jit=False, diff_args=(1,),
       out_dtype=lambda d: d, id="bincount_weights"),
    Op("bincount", lnp.bincount, _bincount_ref, _bincount_gen(True, True),
       dtypes=("float32", "float64"), diff_args=(1,), out_dtype=lambda d: d,
       id="bincount_length"),
]
