"""The cpu backend's direct conv kernels (lepton/backends/cpu/conv.py) against the reference
backend: forward convs and both gradients (whose transpose rules emit the input- and
kernel-gradient convs) over layouts, strides, paddings, dilations, groups and ranks, with
each kernel kind serial and parallel; the cost model's choices; no recompiles for a new
batch size."""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton.backends.cpu import conv as conv_cpu
from lepton.primitives.conv import conv_general_dilated


pytestmark = pytest.mark.usefixtures("fresh_kernel_cache")


@pytest.fixture
def force(monkeypatch):
    """``force(kind, parallel)``: every conv runs kernel ``kind``, whatever the cost model
    says (``parallel`` also makes tiny convs split their contraction across threads)."""
    def apply(kind, parallel):
        monkeypatch.setattr(conv_cpu._Plan, "direct_ns", lambda self, k: float(k != kind))
        monkeypatch.setattr(conv_cpu._Plan, "direct_wins", lambda self: True)
        monkeypatch.setattr(conv_cpu, "PARALLEL_NS", -1.0 if parallel else float("inf"))
        monkeypatch.setattr(conv_cpu, "SHARED_PARALLEL_NS", -1.0 if parallel else float("inf"))
    return apply


def _close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape)
    tol = 2e-5 if want.dtype == np.float32 else 1e-12
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


def _conv(**kw):
    return lambda x, k: conv_general_dilated(x, k, **kw)


def _check(f, x, k, dtype=np.float32, grads=True):
    """``f`` and the gradients of <f(x, k), ct> on cpu against the reference backend."""
    rng = np.random.default_rng(0)
    x, k = x.astype(dtype), k.astype(dtype)
    ct = rng.standard_normal(lepton.eval_shape(f, x, k).shape).astype(dtype)
    fns = [f] + ([lepton.grad(lambda x, k, ct: lnp.sum(f(x, k) * ct), argnums=(0, 1))]
                 if grads else [])
    for fn in fns:
        args = (x, k) if fn is f else (x, k, ct)
        got = lepton.jit(fn, backend="cpu")(*args)
        want = lepton.jit(fn, backend="reference")(*args)
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            _close(g, w)


def _rand(*shape):
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape)


NHWC = ("NHWC", "HWIO", "NHWC")
NCHW = ("NCHW", "OIHW", "NCHW")
CONFIGS = {  # name: (lhs shape, rhs shape, conv keywords)
    "nhwc-same": ((2, 9, 8, 3), (3, 3, 3, 4),
                  dict(window_strides=(1, 1), padding="SAME", dimension_numbers=NHWC)),
    "nchw-valid-strided": ((2, 3, 9, 8), (4, 3, 3, 2),
                           dict(window_strides=(2, 1), padding="VALID",
                                dimension_numbers=NCHW)),
    "negative-padding": ((2, 7, 8, 2), (2, 3, 2, 3),
                         dict(window_strides=(1, 2), padding=((1, -1), (2, 0)),
                              dimension_numbers=NHWC)),
    "dilations": ((2, 2, 8, 9), (3, 2, 3, 2),
                  dict(window_strides=(1, 1), padding=((1, 2), (0, 1)), lhs_dilation=(2, 1),
                       rhs_dilation=(1, 2), dimension_numbers=NCHW)),
    "groups": ((2, 8, 7, 4), (3, 3, 2, 6),
               dict(window_strides=(1, 1), padding="SAME", feature_group_count=2,
                    dimension_numbers=NHWC)),
    "1d": ((3, 11, 2), (4, 2, 5),
           dict(window_strides=(1,), padding=((2, 1),), dimension_numbers=("NWC", "WIO", "NWC"))),
    "3d": ((2, 5, 6, 4, 2), (2, 3, 2, 2, 3),
           dict(window_strides=(1, 2, 1), padding="SAME",
                dimension_numbers=("NDHWC", "DHWIO", "NDHWC"))),
    "batch-1": ((1, 6, 6, 1), (5, 5, 1, 6),
                dict(window_strides=(1, 1), padding="SAME", dimension_numbers=NHWC)),
    "mixed-layouts": ((3, 5, 2, 6), (2, 2, 3, 4),
                      dict(window_strides=(1, 1), padding="SAME",
                           dimension_numbers=("NHCW", "HIOW", "CNWH"))),
    "row-tiles": ((1, 40, 45, 2), (3, 3, 2, 3),  # 42 x 47 grid: two TILEs of accumulator
                  dict(window_strides=(1, 1), padding="SAME", dimension_numbers=NHWC)),
    "empty-batch": ((0, 5, 5, 2), (3, 3, 2, 3),
                    dict(window_strides=(1, 1), padding="SAME", dimension_numbers=NHWC)),
    "empty-output": ((2, 4, 4, 2), (5, 5, 2, 3),
                     dict(window_strides=(1, 1), padding="VALID", dimension_numbers=NHWC)),
}


@pytest.mark.parametrize("kind,parallel", [("rows", False), ("dot", False), ("rows", True),
                                           ("dot", True)])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_conv_and_its_gradients_match_reference(force, name, kind, parallel):
    force(kind, parallel)
    x, k, kw = CONFIGS[name]
    _check(_conv(**kw), _rand(*x), _rand(*k))


@pytest.mark.parametrize("name", ["nhwc-same", "dilations", "groups"])
def test_float64(force, name):
    force("rows", False)
    x, k, kw = CONFIGS[name]
    _check(_conv(**kw), _rand(*x), _rand(*k), np.float64)
    force("dot", True)
    _check(_conv(**kw), _rand(*x), _rand(*k), np.float64)


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_convs_match_reference(data):
    draw = data.draw
    nsp = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    ksize = [draw(st.integers(1, 3)) for _ in range(nsp)]
    strides = [draw(st.integers(1, 2)) for _ in range(nsp)]
    lhs_dil = [draw(st.integers(1, 2)) for _ in range(nsp)]
    rhs_dil = [draw(st.integers(1, 2)) for _ in range(nsp)]
    pads = [(draw(st.integers(-1, 2)), draw(st.integers(-1, 2))) for _ in range(nsp)]
    insize = [draw(st.integers(3, 6)) for _ in range(nsp)]
    n, c, o = draw(st.integers(1, 3)), groups * draw(st.integers(1, 3)), \
        groups * draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["rows", "dot", None]))
    spec = "".join("DHW"[3 - nsp:])
    with pytest.MonkeyPatch.context() as mp:
        if kind:
            mp.setattr(conv_cpu._Plan, "direct_ns", lambda self, k: float(k != kind))
            mp.setattr(conv_cpu._Plan, "direct_wins", lambda self: True)
        f = _conv(window_strides=strides, padding=pads, lhs_dilation=lhs_dil,
                  rhs_dilation=rhs_dil, feature_group_count=groups,
                  dimension_numbers=("N" + spec + "C", spec + "IO", "N" + spec + "C"))
        # inputs of 3+ with pads of -1+ never crop to nothing (windows may still not fit:
        # empty outputs are compared too)
        x, k = _rand(n, *insize, c), _rand(*ksize, c // groups, o)
        _check(f, x, k, grads=False)


# ----------------------------------------------------------------------------- the driver
def _cnn_convs():
    """The convs of the cnn_step benchmark's gradient: forward and kernel gradient."""
    def loss(k, x):
        h = conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=NHWC)
        return lnp.sum(lnp.maximum(h, 0.0))
    return lepton.grad(loss)


def test_cnn_step_convs_run_direct_kernels():
    g = lepton.jit(_cnn_convs(), backend="cpu")
    k, x = _rand(5, 5, 1, 6).astype(np.float32), _rand(64, 28, 28, 1).astype(np.float32)
    listing = g.source(k, x).split("\n\n")[0]
    assert listing.count("conv_general_dilated(") == 2, listing
    assert listing.count("# direct kernel") >= 2, listing
    _close(g(k, x), lepton.jit(g.fun, backend="reference")(k, x))


def test_wide_convs_stay_on_blas():
    f = lepton.jit(_conv(window_strides=(1, 1), padding="SAME", dimension_numbers=NHWC),
                   backend="cpu")
    x, k = _rand(8, 8, 8, 128).astype(np.float32), _rand(3, 3, 128, 128).astype(np.float32)
    assert "conv_general_dilated(a, b)  # host" in f.source(x, k)
    _close(f(x, k), lepton.jit(f.fun, backend="reference")(x, k))


def test_new_batch_size_compiles_nothing():
    g = lepton.jit(_cnn_convs(), backend="cpu")
    k = _rand(5, 5, 1, 6).astype(np.float32)
    for i, n in enumerate([16, 9, 33]):
        x = _rand(n, 28, 28, 1).astype(np.float32)
        before = lepton.cache_info().numba_compiles
        got = g(k, x)
        if i:
            assert lepton.cache_info().numba_compiles == before, "a new batch size recompiled"
        _close(got, lepton.jit(g.fun, backend="reference")(k, x))


def test_unsupported_dtypes_use_the_host_impl():
    f = lepton.jit(_conv(window_strides=(1,), padding="SAME",
                         dimension_numbers=("NWC", "WIO", "NWC")), backend="cpu")
    x, k = np.arange(12, dtype=np.int32).reshape(1, 6, 2), np.ones((3, 2, 2), np.int32)
    assert "# host" in f.source(x, k)
    np.testing.assert_array_equal(f(x, k), lepton.jit(f.fun, backend="reference")(x, k))


def test_quick_program_runs_convs_on_the_host_and_the_full_one_brings_direct_kernels():
    """The quick tier leaves direct conv kernels (0.5-1.2 s of Numba each) to the full
    program, which is then worth compiling; both give the reference's result."""
    from lepton.backends.cpu import backend
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 12, 12, 3)).astype(np.float32)
    w = rng.standard_normal((5, 5, 3, 6)).astype(np.float32)

    def f(x, w):
        return conv_general_dilated(x, w, (1, 1), "SAME",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))
    closed = lepton.make_jaxpr(f)(x, w)
    quick, full = backend.compile(closed.jaxpr, quick=True), backend.compile(closed.jaxpr)
    assert "direct kernel" not in quick.source and quick.upgradable
    assert "direct kernel" in full.source
    want = np.asarray(lepton.jit(f, backend="reference")(x, w))
    for exe in (quick, full):
        np.testing.assert_allclose(exe(x, w)[0], want, rtol=1e-5, atol=1e-5)


def test_convs_run_prange_only_past_the_shared_bar(monkeypatch):
    """A conv's program always has a host step (the conv itself), so its prange bar is
    ``SHARED_PARALLEL_NS``: the quick-start CNN's predict conv (batch 500, modelled
    1.6 ms) runs serial and shares the train step's kernel; a conv four times wider
    (modelled past the bar) runs in parallel."""
    chosen = []
    real = conv_cpu._Plan._choose

    def spy(self, kind):
        real(self, kind)
        chosen.append((self.direct_ns(kind), self.parallel))
    monkeypatch.setattr(conv_cpu._Plan, "_choose", spy)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((500, 28, 28, 1)).astype(np.float32)
    conv = _conv(window_strides=(1, 1), padding="VALID",
                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    for features, parallel in [(6, False), (24, True)]:
        k = rng.standard_normal((5, 5, 1, features)).astype(np.float32)
        w = rng.standard_normal((24 * 24 * features, 10)).astype(np.float32)

        def predict(x, k, w):
            return conv(x, k).reshape(500, -1) @ w
        chosen.clear()
        jf = lepton.jit(predict, backend="cpu")
        jf.source(x, k, w)
        (ns, got), = chosen
        assert (ns > conv_cpu.SHARED_PARALLEL_NS) == parallel, ns
        assert ns > conv_cpu.PARALLEL_NS * 16  # past the bar of other kernels
        assert got == parallel
        _close(jf(x, k, w), lepton.jit(predict, backend="reference")(x, k, w))
