"""Op rows: lax.reduce_window in JAX's form (lax.add/max/min, any binary fn, dilations),
top_k, associative_scan, the *_in_dim slicing helpers, custom_linear_solve, custom_root."""
import numpy as np
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import lepton.numpy as lnp
from lepton import lax
from tests.ops import Op, array, shape
from tests.ops.reductions import _spread

# ----------------------------------------------------------------------------- reduce_window
def _np_reduce_window(x, init, op, window, strides, padding, base_dilation, window_dilation):
    """Direct NumPy reference: dilate and pad with the identity (padding and holes are in
    no window), take dilated windows, reduce, fold init in once."""
    x = np.asarray(x)
    nd = x.ndim
    ident = {"add": 0., "max": -np.inf, "min": np.inf, "mul": 1.}[op]
    dil_shape = [0 if n == 0 else (n - 1) * d + 1 for n, d in zip(x.shape, base_dilation)]
    xd = np.full(dil_shape, ident, x.dtype)
    xd[tuple(slice(None, None, d) for d in base_dilation)] = x
    eff = [(w - 1) * d + 1 for w, d in zip(window, window_dilation)]
    if padding == "VALID":
        pads = [(0, 0)] * nd
    elif isinstance(padding, str):  # SAME on the undilated shape and dilated window (as JAX)
        pads = []
        for n, e, s in zip(x.shape, eff, strides):
            total = max(0, (-(-n // s) - 1) * s + e - n)
            pads.append((total // 2, total - total // 2))
    else:
        pads = padding
    xp = np.pad(xd, pads, constant_values=ident)
    if any(n < e for n, e in zip(xp.shape, eff)):
        out_shape = tuple(max(0, (n - e) // s + 1) if n >= e else 0
                          for n, e, s in zip(xp.shape, eff, strides))
        return np.full(out_shape, init, x.dtype)
    win = sliding_window_view(xp, eff)[tuple(slice(None, None, s) for s in strides)]
    win = win[(Ellipsis,) + tuple(slice(None, None, d) for d in window_dilation)]
    red = {"add": np.sum, "max": np.max, "min": np.min, "mul": np.prod}[op]
    axes = tuple(range(nd, 2 * nd))
    out = red(win, axis=axes) if win.size else np.zeros(win.shape[:nd], x.dtype)
    comb = {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}[op]
    return comb(out, np.asarray(init, x.dtype)).astype(x.dtype)


_LAX_OPS = {"add": lax.add, "max": lax.max, "min": lax.min, "mul": lax.mul}
_INITS = {"add": 0., "max": -np.inf, "min": np.inf, "mul": 1.}


def _rw_gen(op, dilate):
    def gen(draw, dtype, for_grad):
        s = shape(draw, min_dims=1, max_dims=3, min_side=1, max_side=5)
        nd = len(s)
        window = tuple(draw(st.integers(1, max(1, n))) for n in s)
        strides = tuple(draw(st.integers(1, 2)) for _ in s)
        bd = tuple(draw(st.integers(1, 2)) if dilate else 1 for _ in s)
        wd = tuple(draw(st.integers(1, 2)) if dilate else 1 for _ in s)
        padding = draw(st.sampled_from(["VALID", "SAME", "pairs"]))
        if padding == "pairs":
            padding = tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in s)
        # inf - inf in a window sum makes NumPy warn inside the impl (a separate issue):
        # sums and products draw positive values (edges: inf, 1).
        kind = "positive" if op in ("add", "mul") else "real"
        x = _spread(draw, s).astype(dtype) if for_grad else array(draw, s, dtype, kind)
        init = _INITS[op]
        if for_grad and op in ("max", "min"):
            init = -1e3 if op == "max" else 1e3  # all-padding windows: finite, flat
        if op in ("add", "mul") and draw(st.booleans()):
            init = 0.5 if op == "add" else 2.0  # non-identity init: folded into every window
        del nd
        return (x,), dict(op=op, init=init, window=window, strides=strides, padding=padding,
                          base_dilation=bd, window_dilation=wd)
    return gen


def _rw(x, op, init, window, strides, padding, base_dilation, window_dilation):
    return lax.reduce_window(x, init, _LAX_OPS[op], window, strides, padding,
                             base_dilation=base_dilation, window_dilation=window_dilation)


# A generic computation (mul) and window dilation are folded over the window positions, one
# step each; with the windows that scaled-up shapes draw, the fused parallel kernel grows to
# hundreds of ops: Numba's parfor analysis ran for minutes on one, and rejected another
# (UnsupportedParforsError; the program then falls back to the reference with a warning).
# Those rows stay at the small size until the scheduler caps a kernel's size.
_RW = [Op(f"lax.reduce_window_{op}{'_dilated' if dil else ''}", _rw, _np_reduce_window,
          _rw_gen(op, dil), grad_order=1, scalable=op != "mul" and not dil)
       for op in ("add", "max", "min", "mul") for dil in (False, True)]


# ----------------------------------------------------------------------------- top_k
def _top_k_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1, max_dims=3, min_side=0, max_side=5)
    k = draw(st.integers(0, s[-1]))
    if for_grad:
        return (_spread(draw, s),), {"k": k}
    x = array(draw, s, dtype, "int" if dtype == "int32" else "real")
    if dtype != "int32" and x.size and draw(st.booleans()):
        x = np.round(x)  # ties: the lower index comes first
    return (x,), {"k": k}


def _np_top_k(x, k):
    """Stable descending order, NaN largest, the lower index first among ties."""
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        order = np.lexsort((np.where(nan, 0, -x), ~nan), axis=-1)
    else:
        order = np.argsort(-x.astype(np.int64), axis=-1, kind="stable")
    order = order[..., :k].astype(np.int32)
    return np.take_along_axis(x, order, -1), order


# ----------------------------------------------------------------------------- associative_scan
def _ascan_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1, max_dims=3, min_side=0, max_side=9)
    axis = draw(st.integers(-len(s), len(s) - 1))
    kind = "unit"  # |a| < 1 keeps the recurrence bounded (no inf * 0 warnings)
    return (array(draw, s, dtype, kind, for_grad), array(draw, s, dtype, kind, for_grad, salt=1)), \
        {"axis": axis, "reverse": draw(st.booleans())}


def _linrec(a, b, axis, reverse):
    """h_t = a_t h_{t-1} + b_t as an associative scan over (a, b) pairs."""
    def fn(e1, e2):
        a1, b1 = e1
        a2, b2 = e2
        return a1 * a2, a2 * b1 + b2
    return lax.associative_scan(fn, (a, b), reverse=reverse, axis=axis)[1]


def _np_linrec(a, b, axis, reverse):
    a, b = np.moveaxis(a, axis, 0), np.moveaxis(b, axis, 0)
    if reverse:
        a, b = a[::-1], b[::-1]
    h, out = np.zeros(a.shape[1:], a.dtype), []
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        out.append(h)
    out = np.stack(out) if out else np.zeros(a.shape, a.dtype)
    if reverse:
        out = out[::-1]
    return np.moveaxis(out, 0, axis).astype(a.dtype)


def _cumsum_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=1, max_dims=3, min_side=0, max_side=9)
    return (array(draw, s, dtype, "real", for_grad),), \
        {"axis": draw(st.integers(-len(s), len(s) - 1)), "reverse": draw(st.booleans())}


def _np_cumsum(x, axis, reverse):
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis), axis).astype(x.dtype)
    return np.cumsum(x, axis).astype(x.dtype)


# ----------------------------------------------------------------------------- *_in_dim
def _in_dim_gen(kind):
    def gen(draw, dtype, for_grad):
        s = shape(draw, min_dims=1, max_dims=3, min_side=1, max_side=5)
        axis = draw(st.integers(-len(s), len(s) - 1))
        n = s[axis]
        x = array(draw, s, dtype, "real", for_grad)
        if kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n, n)))
            limit = draw(st.one_of(st.none(), st.integers(-n, n)))
            return (x,), dict(start=start, limit=limit, stride=draw(st.integers(1, 3)), axis=axis)
        if kind == "index":
            return (x,), dict(index=draw(st.integers(-n, n - 1)), axis=axis,
                              keepdims=draw(st.booleans()))
        size = draw(st.integers(0, n))
        start = np.int32(draw(st.integers(-2, n + 2)))  # wrapped if negative, then clamped
        if kind == "dslice":
            return (x, start), dict(size=size, axis=axis)
        if kind == "dindex":
            return (x, start), dict(axis=axis, keepdims=draw(st.booleans()))
        us = list(s)
        us[axis] = size
        return (x, array(draw, tuple(us), dtype, "real", for_grad, salt=1), start), \
            dict(axis=axis)
    return gen


def _clamp(start, size, n):
    start = int(start) + n if int(start) < 0 else int(start)  # JAX: negative counts from the end
    return int(min(max(start, 0), n - size))


def _np_dslice(x, start, size, axis):
    i = _clamp(start, size, x.shape[axis])
    return np.take(x, np.arange(i, i + size), axis=axis)


def _np_dindex(x, start, axis, keepdims):
    out = _np_dslice(x, start, 1, axis)
    return out if keepdims else np.squeeze(out, axis)


def _np_dupdate(x, u, start, axis):
    x = x.copy()
    i = _clamp(start, u.shape[axis], x.shape[axis])
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(i, i + u.shape[axis])
    x[tuple(idx)] = u
    return x


def _np_slice(x, start, limit, stride, axis):
    idx = [slice(None)] * x.ndim
    idx[axis] = slice(start, limit, stride)
    return x[tuple(idx)]


def _np_index(x, index, axis, keepdims):
    out = np.take(x, [index], axis=axis)
    return out if keepdims else np.squeeze(out, axis)


# ----------------------------------------------------------------------------- solves
def _system_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    a = (rng.uniform(-0.3, 0.3, (n, n)) + 2 * np.eye(n)).astype(dtype)  # well conditioned
    b = rng.uniform(-2, 2, (n,)).astype(dtype)
    return (a, b), {"symmetric": draw(st.booleans())}


def _lin_solve(a, b, symmetric):
    if symmetric:
        a = (a + a.T) / 2
        return lax.custom_linear_solve(lambda v: a @ v, b,
                                       lambda mv, r: lnp.linalg.solve(a, r), symmetric=True)
    return lax.custom_linear_solve(lambda v: a @ v, b, lambda mv, r: lnp.linalg.solve(a, r),
                                   lambda vm, r: lnp.linalg.solve(a.T, r))


def _np_lin_solve(a, b, symmetric):
    if symmetric:
        a = (a + a.T) / 2
    return np.linalg.solve(a, b).astype(b.dtype)


def _root_gen(draw, dtype, for_grad):
    s = shape(draw, max_dims=2)
    x = array(draw, s, dtype, "positive", for_grad, low=0.5, high=4.)
    # Newton's fixed iteration has no finite iterate at c = inf (cbrt(inf) is inf, the
    # iteration gives nan): the row checks root finding, so the inf edge becomes 1.
    return (np.where(np.isfinite(x), x, 1).astype(x.dtype),), {}


def _newton_fixed(f, x0):
    """Newton's method for an elementwise f, a fixed number of steps (fori_loop)."""
    def step(_, x):
        y, t = lepton_jvp(f, x)
        return x - y / t
    return lax.fori_loop(0, 30, step, x0)


def lepton_jvp(f, x):
    import lepton
    return lepton.jvp(f, (x,), (lnp.ones_like(x),))


def _cbrt_root(c):
    """The cube root of c as the root of x**3 - c, differentiated implicitly."""
    return lax.custom_root(lambda x: x ** 3 - c, lnp.ones_like(c), _newton_fixed,
                           lambda g, y: y / g(lnp.ones_like(y)))


OPS = _RW + [
    Op("lax.top_k", lax.top_k, _np_top_k, _top_k_gen, dtypes=("float32", "float64", "int32")),
    Op("lax.associative_scan_add", lambda x, axis, reverse: lax.associative_scan(
        lax.add, x, reverse=reverse, axis=axis), _np_cumsum, _cumsum_gen,
       rtol=1e-5, atol=1e-5),
    Op("lax.associative_scan_linrec", _linrec, _np_linrec, _ascan_gen, rtol=1e-5, atol=1e-5),
    Op("lax.slice_in_dim", lambda x, start, limit, stride, axis: lax.slice_in_dim(
        x, start, limit, stride, axis), _np_slice, _in_dim_gen("slice")),
    Op("lax.index_in_dim", lambda x, index, axis, keepdims: lax.index_in_dim(
        x, index, axis, keepdims), _np_index, _in_dim_gen("index")),
    Op("lax.dynamic_slice_in_dim", lambda x, start, size, axis: lax.dynamic_slice_in_dim(
        x, start, size, axis), _np_dslice, _in_dim_gen("dslice"), diff_args=(0,),
       vmap_args=(0,)),
    Op("lax.dynamic_index_in_dim", lambda x, start, axis, keepdims: lax.dynamic_index_in_dim(
        x, start, axis, keepdims), _np_dindex, _in_dim_gen("dindex"), diff_args=(0,),
       vmap_args=(0, 1)),
    Op("lax.dynamic_update_slice_in_dim", lambda x, u, start, axis:
       lax.dynamic_update_slice_in_dim(x, u, start, axis), _np_dupdate, _in_dim_gen("dupdate"),
       diff_args=(0, 1), vmap_args=(0, 1, 2)),
    Op("lax.custom_linear_solve", _lin_solve, _np_lin_solve, _system_gen, grad_order=1,
       rtol=1e-4, atol=1e-4, scalable=False),  # fixed small systems
    Op("lax.custom_root", _cbrt_root, lambda c: np.cbrt(c).astype(c.dtype), _root_gen,
       grad_order=1, rtol=1e-5, atol=1e-5),
]
