"""The fast NumPy impls of the window primitives and of select_n against their generic
(spec) implementations: bit-for-bit equal results over shapes, windows, strides and
padding (overlapping or not), dtypes, ties, NaNs, infinities and signed zeros."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lepton.primitives import conv
from lepton.primitives import elementwise as ew

DTYPES = ["float32", "float64", "float16", "int8", "int32", "uint8", "bool"]
_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _values(rng, shape, dtype, special):
    """Few distinct values (ties everywhere); floats also get NaN, +-inf and -0.0."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind == "u":
        return rng.integers(0, 4, shape).astype(dtype)
    if dtype.kind == "i":
        # the extremes tie with the padding's identity and wrap integer sums
        pool = np.array([-3, 0, 2, np.iinfo(dtype).min, np.iinfo(dtype).max], dtype)
        return pool[rng.integers(0, 5 if special else 3, shape)]
    pool = np.array([-1.5, 0.0, 2.0, 1e4, -2.5e-3] +
                    ([np.nan, np.inf, -np.inf, -0.0] if special else []), dtype)
    x = pool[rng.integers(0, len(pool), shape)]
    return x * rng.integers(1, 3, shape).astype(dtype) if dtype.kind == "f" else x


def _same(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes(), \
        (got, want)


@st.composite
def _window_case(draw):
    rank = draw(st.integers(1, 5))
    big = 6 if rank <= 3 else 4
    shape = tuple(draw(st.lists(st.integers(0, big), min_size=rank, max_size=rank)))
    window = tuple(draw(st.integers(1, 3)) for _ in shape)
    kind = draw(st.sampled_from(["disjoint", "any", "gaps"]))
    if kind == "disjoint":
        strides = window
    elif kind == "gaps":
        strides = tuple(w + draw(st.integers(0, 2)) for w in window)
    else:
        strides = tuple(draw(st.integers(1, 3)) for _ in shape)
    if draw(st.booleans()):
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    else:
        padding = ((0, 0),) * rank
    dtype = draw(st.sampled_from(DTYPES))
    special = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return shape, dict(window_dimensions=window, window_strides=strides,
                       padding=padding), dtype, special, seed


@settings(max_examples=300, **_SETTINGS)
@given(case=_window_case(), select=st.sampled_from(["max", "min"]))
def test_select_and_scatter_add_matches_generic(case, select):
    shape, params, dtype, special, seed = case
    rng = np.random.default_rng(seed)
    x = _values(rng, shape, dtype, special)
    out = conv._windows_out(shape, params["window_dimensions"], params["window_strides"],
                            params["padding"])
    s = _values(rng, out, dtype, special)
    with np.errstate(over="ignore"):  # overlapping float16 sums may overflow to inf
        want = conv._ssa_generic(s, x, select=select, **params)
    _same(conv._ssa_impl(s, x, select=select, **params), want)


@settings(max_examples=300, **_SETTINGS)
@given(case=_window_case(), select=st.sampled_from(["max", "min"]))
def test_select_and_gather_add_matches_generic(case, select):
    shape, params, dtype, special, seed = case
    rng = np.random.default_rng(seed)
    x = _values(rng, shape, dtype, special)
    t = _values(rng, shape, dtype, special)
    _same(conv._sga_impl(t, x, select=select, **params),
          conv._sga_generic(t, x, select=select, **params))


@settings(max_examples=300, **_SETTINGS)
@given(case=_window_case(), computation=st.sampled_from(["max", "min", "sum"]))
def test_reduce_window_matches_generic(case, computation):
    shape, params, dtype, special, seed = case
    if computation == "sum" and dtype == "bool":
        dtype = "int8"
    x = _values(np.random.default_rng(seed), shape, dtype, special)
    p = conv._REDUCE_WINDOW[computation]
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a float sum
        want = p.generic(x, **params)
        got = p.impl(x, **params)
    _same(got, want)


def _pool_params(layout, window=2, stride=2, pad=0):
    sp = ((pad, pad),) * 2
    if layout == "NHWC":
        return dict(window_dimensions=(1, window, window, 1),
                    window_strides=(1, stride, stride, 1), padding=((0, 0),) + sp + ((0, 0),))
    return dict(window_dimensions=(1, 1, window, window),
                window_strides=(1, 1, stride, stride), padding=((0, 0),) * 2 + sp)


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("window,stride,pad", [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 3, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pooling_layouts_match_generic(layout, window, stride, pad, dtype):
    """Max pooling's forward, JVP and VJP impls on image batches (odd sizes leave
    uncovered rows/columns), with a tied, NaN-carrying input."""
    rng = np.random.default_rng(0)
    shape = (3, 11, 9, 4) if layout == "NHWC" else (3, 4, 11, 9)
    x = rng.standard_normal(shape).astype(dtype)
    x[x > 1.0] = 1.0  # ties
    x.flat[rng.integers(0, x.size, 20)] = np.nan
    params = _pool_params(layout, window, stride, pad)
    out = conv._windows_out(shape, params["window_dimensions"], params["window_strides"],
                            params["padding"])
    s = rng.standard_normal(out).astype(dtype)
    for select in ("max", "min"):
        _same(conv._ssa_impl(s, x, select=select, **params),
              conv._ssa_generic(s, x, select=select, **params))
        _same(conv._sga_impl(x * 2, x, select=select, **params),
              conv._sga_generic(x * 2, x, select=select, **params))
    for p in (conv.reduce_window_max_p, conv.reduce_window_min_p):
        _same(p.impl(x, **params), p.generic(x, **params))


def test_overlapping_scatter_sums_like_the_generic():
    """Overlapping windows add several values at one element: in float64, in window order,
    so magnitudes that round differently in another order still agree."""
    x = np.zeros((7,), np.float32)  # every window's first element is its max
    s = np.array([1e8, 1.0, -1e8, 3.0, 1e-8], np.float32)
    params = dict(window_dimensions=(3,), window_strides=(1,), padding=((0, 0),))
    got = conv._ssa_impl(s, x, select="max", **params)
    _same(got, conv._ssa_generic(s, x, select="max", **params))
    x = np.array([5, 0, 0, 5, 0, 0, 5], np.float32)  # windows pile onto a few maxima
    s = np.array([1e8, 1.0, 3.0, -1e8, 7.0], np.float32)
    _same(conv._ssa_impl(s, x, select="max", **params),
          conv._ssa_generic(s, x, select="max", **params))


def test_padding_never_receives_and_ties_pick_the_first():
    """A window whose real elements all equal the padding's identity selects the padding
    (the first tap): the scattered value is dropped, the gathered tangent is 0."""
    x = np.array([[-np.inf, 1.0, -np.inf], [-np.inf] * 3, [-np.inf, -np.inf, 2.0]], np.float32)
    params = dict(window_dimensions=(2, 2), window_strides=(2, 2), padding=((1, 0), (1, 0)))
    s = np.array([[5.0, 6.0], [7.0, 8.0]], np.float32)
    got = conv._ssa_impl(s, x, select="max", **params)
    _same(got, conv._ssa_generic(s, x, select="max", **params))
    np.testing.assert_array_equal(got, [[0.0, 6.0, 0.0], [0.0] * 3, [0.0, 0.0, 8.0]])
    t = np.full((3, 3), 3.0, np.float32)
    np.testing.assert_array_equal(conv._sga_impl(t, x, select="max", **params),
                                  [[0.0, 3.0], [0.0, 3.0]])


def test_many_tap_windows_use_the_generic_path():
    """A global pool (more taps than the loop pays for) still gives the generic's answer."""
    x = np.random.default_rng(1).standard_normal((2, 20, 20)).astype(np.float32)
    params = dict(window_dimensions=(1, 20, 20), window_strides=(1, 1, 1),
                  padding=((0, 0),) * 3)
    assert not conv._use_taps(x, params["window_dimensions"], (2, 1, 1))
    s = np.ones((2, 1, 1), np.float32)
    _same(conv._ssa_impl(s, x, select="max", **params),
          conv._ssa_generic(s, x, select="max", **params))
    _same(conv.reduce_window_max_p.impl(x, **params),
          conv.reduce_window_max_p.generic(x, **params))


# ----------------------------------------------------------------------------- select_n
SELECT_DTYPES = DTYPES + ["complex64", "complex128", "int64", "uint16"]


@settings(max_examples=200, **_SETTINGS)
@given(dtype=st.sampled_from(SELECT_DTYPES), size=st.sampled_from([0, 5, 1024, 3000]),
       which=st.sampled_from(["arrays", "zero_false", "zero_true", "scalar_false",
                              "negzero_true", "transposed"]),
       seed=st.integers(0, 2 ** 32 - 1))
def test_select_n_matches_where(dtype, size, which, seed):
    rng = np.random.default_rng(seed)
    shape = (size // 5, 5) if size else (0, 5)
    dt = np.dtype(dtype)

    def values():
        if dt.kind != "c":
            return _values(rng, shape, dt, True)
        z = np.empty(shape, dt)
        z.real, z.imag = (_values(rng, shape, z.real.dtype, True) for _ in "ri")
        return z

    a, b = values(), values()
    pred = rng.random(shape) < 0.5
    if which == "transposed":  # a strided predicate too
        pred = (rng.random(shape[::-1]) < 0.5).T

    def const(v):
        return np.broadcast_to(np.asarray(v).astype(dt), shape)

    on_false, on_true = {
        "arrays": (a, b), "zero_false": (const(0), b), "zero_true": (a, const(0)),
        "scalar_false": (const(1), b),
        "negzero_true": (a, const(-0.0 if dt.kind in "fc" else 0)),
        "transposed": (a.T.copy().T, b[::-1][::-1])}[which]
    got = ew.select_n_p.impl(pred, on_false, on_true)
    _same(got, np.where(pred, on_true, on_false))
    assert got.flags.writeable  # a fresh array, not a view of a case
    assert not np.shares_memory(got, on_false) and not np.shares_memory(got, on_true)


def test_select_n_scalar_and_integer_predicates():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 40, 40)).astype(np.float32)
    _same(ew.select_n_p.impl(np.array(True), a, b), b)
    _same(ew.select_n_p.impl(np.array(False), a, b), a)
    which = rng.integers(0, 3, (40, 40)).astype(np.int32)
    _same(ew.select_n_p.impl(which, a, b, a + b), np.choose(which, (a, b, a + b)))
    _same(ew.select_n_p.impl(rng.random((40, 40)) < 0.5, a), a)
