"""lepton.stax: every layer keeps init's shape promise; conv, transposed conv and pooling
against direct NumPy loops; float64 gradients; BatchNorm state; Dropout rates; shape-error
messages; jit and vmap; the stateful protocol; and (when installed) JAX's stax."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import random, stax, tree
from lepton.stax import LayerShapeError
from lepton.test_util import check_grads

RNG = np.random.default_rng(0)
KEY = random.PRNGKey(0)


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def to64(params):
    return tree.map(lambda p: np.asarray(p, np.float64), params)


def run(layer, shape, data=None, **kw):
    """init with -1 batch and with the real one; apply; return (promised, got) shapes."""
    init, apply = layer
    batch = shape[0]
    out_unknown = init(KEY, (-1,) + tuple(shape[1:]))
    out_known = init(KEY, tuple(shape))
    x = rand(*shape) if data is None else data
    if stax.is_stateful(layer):
        (s_unknown, _, _), (s_known, params, state) = out_unknown, out_known
        y, _ = apply(params, state, x, rng=KEY, **kw)
    else:
        (s_unknown, _), (s_known, params) = out_unknown, out_known
        y = apply(params, x, rng=KEY, **kw)
    fill = lambda s: tuple(batch if d == -1 else d for d in s)  # noqa: E731
    if isinstance(s_known, list) or (s_known and isinstance(s_known[0], tuple)):
        return [fill(s) for s in s_unknown], list(s_known), [tuple(v.shape) for v in y]
    return fill(s_unknown), tuple(s_known), tuple(y.shape)


SAME_SHAPES = [(1, 6, 7, 3), (4, 5, 5, 2)]
LAYERS = {
    "Dense": (lambda: stax.Dense(5), [(1, 3), (4, 7), (2, 3, 7)]),
    "Conv_valid": (lambda: stax.Conv(4, (3, 2)), SAME_SHAPES),
    "Conv_same_strided": (lambda: stax.Conv(4, (3, 3), (2, 2), "SAME"), SAME_SHAPES),
    "Conv_explicit_dilated": (lambda: stax.Conv(2, (2, 3), (1, 2), ((1, 0), (2, 1)),
                                                dilation=(2, 1)), SAME_SHAPES),
    "Conv1D": (lambda: stax.Conv1D(3, (2,), padding="SAME"), [(1, 5, 2), (3, 8, 1)]),
    "GeneralConv_NCHW": (lambda: stax.GeneralConv(("NCHW", "OIHW", "NCHW"), 3, (2, 2), (2, 1)),
                         [(1, 2, 6, 5), (2, 3, 4, 4)]),
    "ConvTranspose_valid": (lambda: stax.ConvTranspose(3, (3, 3), (2, 2)), SAME_SHAPES),
    "ConvTranspose_same": (lambda: stax.ConvTranspose(2, (2, 3), (2, 1), "SAME"), SAME_SHAPES),
    "ConvTranspose_small_kernel": (lambda: stax.ConvTranspose(2, (1, 2), (3, 3)), SAME_SHAPES),
    "Conv1DTranspose": (lambda: stax.Conv1DTranspose(2, (3,), (2,), "SAME"), [(1, 5, 2)]),
    "MaxPool": (lambda: stax.MaxPool((2, 2), (2, 2)), SAME_SHAPES),
    "MaxPool_same": (lambda: stax.MaxPool((3, 3), (2, 2), "SAME"), SAME_SHAPES),
    "AvgPool_same": (lambda: stax.AvgPool((2, 3), (1, 2), "SAME"), SAME_SHAPES),
    "AvgPool": (lambda: stax.AvgPool((2, 2)), SAME_SHAPES),
    "SumPool": (lambda: stax.SumPool((2, 1), (2, 1)), SAME_SHAPES),
    "MaxPool_NCHW": (lambda: stax.MaxPool((2, 2), (2, 2), spec="NCHW"), [(2, 3, 6, 6)]),
    "GlobalAvgPool": (lambda: stax.GlobalAvgPool, SAME_SHAPES + [(2, 7, 3)]),
    "GlobalMaxPool": (lambda: stax.GlobalMaxPool(), SAME_SHAPES),
    "GlobalAvgPool_NCHW": (lambda: stax.GlobalAvgPool(spec="NCHW"), [(2, 3, 4, 5)]),
    "Flatten": (lambda: stax.Flatten, SAME_SHAPES + [(3, 4)]),
    "Reshape": (lambda: stax.Reshape((-1, 6)), [(2, 3, 4), (1, 12)]),
    "Identity": (lambda: stax.Identity, [(2, 3)]),
    "LayerNorm": (lambda: stax.LayerNorm(), [(1, 4), (3, 2, 5)]),
    "LayerNorm_axes": (lambda: stax.LayerNorm(axis=(1, 2)), [(2, 3, 4)]),
    "BatchNorm": (lambda: stax.BatchNorm(), SAME_SHAPES),
    "BatchNorm_dense": (lambda: stax.BatchNorm(axis=(0,)), [(4, 3)]),
    "BatchNorm_jax": (lambda: stax.BatchNorm(track_running_stats=False), SAME_SHAPES),
    "Dropout": (lambda: stax.Dropout(0.3), [(1, 3), (2, 4, 5)]),
    "SimpleRNN": (lambda: stax.SimpleRNN(4), [(1, 3, 2), (2, 5, 3)]),
    "LSTM_seq": (lambda: stax.LSTM(3, return_sequences=True), [(1, 3, 2), (2, 5, 3)]),
    "GRU": (lambda: stax.GRU(3), [(1, 3, 2), (2, 5, 3)]),
    "Bidirectional": (lambda: stax.Bidirectional(stax.GRU(2, return_sequences=True)),
                      [(1, 3, 2), (2, 4, 3)]),
    "serial_cnn": (lambda: stax.serial(stax.Conv(3, (3, 3), padding="SAME"), stax.Relu,
                                       stax.MaxPool((2, 2), (2, 2)), stax.Flatten,
                                       stax.Dense(4), stax.LogSoftmax),
                   [(1, 4, 4, 2), (3, 6, 6, 1)]),
    "serial_bn_dropout": (lambda: stax.serial(stax.Dense(4), stax.BatchNorm(axis=(0,)),
                                              stax.Relu, stax.Dropout(0.5), stax.Dense(2)),
                          [(1, 3), (5, 3)]),
    "residual": (lambda: stax.serial(stax.FanOut(2), stax.parallel(stax.Dense(3), stax.Identity),
                                     stax.FanInSum), [(2, 3)]),
    "inception": (lambda: stax.serial(stax.FanOut(3), stax.parallel(
        stax.Conv(2, (1, 1)), stax.Conv(3, (3, 3), padding="SAME"),
        stax.MaxPool((3, 3), (1, 1), "SAME")), stax.FanInConcat()), SAME_SHAPES),
    "parallel": (lambda: stax.serial(stax.FanOut(2), stax.parallel(stax.Dense(2), stax.Tanh)),
                 [(2, 3)]),
    "shape_dependent": (lambda: stax.shape_dependent(lambda s: stax.Dense(s[-1] * 2)),
                        [(2, 3)]),
}
ACTIVATIONS = ["Tanh", "Relu", "Relu6", "Exp", "LogSoftmax", "Softmax", "Softplus", "Sigmoid",
               "Elu", "LeakyRelu", "Selu", "Gelu", "Silu"]
for _a in ACTIVATIONS:
    LAYERS[_a] = (lambda a=_a: getattr(stax, a), [(1, 3), (2, 3, 4)])


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_output_shape_is_inits_promise(name):
    make, shapes = LAYERS[name]
    for shape in shapes:
        promised_unknown, promised, got = run(make(), shape)
        assert promised == got == promised_unknown, (name, shape)


def test_embedding_shapes_and_values():
    init, apply = stax.Embedding(10, 4)
    out, W = init(KEY, (-1, 5))
    assert out == (-1, 5, 4) and W.shape == (10, 4)
    ids = np.array([[1, 2, 3, 0, 9]], np.int32)
    y = apply(W, ids)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(W)[ids])
    g = lepton.grad(lambda w: lnp.sum(apply(w, ids) ** 2))(W)
    want = np.zeros((10, 4), np.float32)
    np.add.at(want, ids[0], 2 * np.asarray(W)[ids[0]])
    np.testing.assert_allclose(np.asarray(g), want, rtol=1e-6)
    with pytest.raises(TypeError, match="integers"):
        apply(W, ids.astype(np.float32))
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        apply(W, np.array([[10]]))


# ----------------------------------------------------------------------------- references
def _pads(n, k, s, padding):
    if padding == "VALID":
        return 0, 0
    if padding == "SAME":
        out = -(-n // s)
        total = max(0, (out - 1) * s + k - n)
        return total // 2, total - total // 2
    return padding


def ref_conv_nhwc(x, w, strides, padding, dilation=(1, 1)):
    """Direct loops: out[n, i, j, o] = sum x[n, i*s + a*d, j*s + b*d, c] w[a, b, c, o]."""
    N, H, W_, C = x.shape
    KH, KW, _, O = w.shape
    eh, ew = (KH - 1) * dilation[0] + 1, (KW - 1) * dilation[1] + 1
    pads = [_pads(H, eh, strides[0], padding if isinstance(padding, str) else padding[0]),
            _pads(W_, ew, strides[1], padding if isinstance(padding, str) else padding[1])]
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    oh = max(0, (xp.shape[1] - eh) // strides[0] + 1)
    ow = max(0, (xp.shape[2] - ew) // strides[1] + 1)
    out = np.zeros((N, oh, ow, O))
    for n, i, j, o in itertools.product(range(N), range(oh), range(ow), range(O)):
        acc = 0.0
        for a, b, c in itertools.product(range(KH), range(KW), range(C)):
            acc += xp[n, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1], c] \
                * w[a, b, c, o]
        out[n, i, j, o] = acc
    return out


def ref_conv_transpose_nhwc(x, w, strides, padding):
    """Scatter loops: every input pixel adds its kernel-weighted copy at stride steps
    (JAX's conv_transpose, kernel not flipped: tap a lands at offset lo - a)."""
    N, H, W_, C = x.shape
    KH, KW, _, O = w.shape
    dims = []
    for n, k, s in ((H, KH, strides[0]), (W_, KW, strides[1])):
        if padding == "SAME":
            pad_len = k + s - 2
            lo = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
        elif not isinstance(padding, str):  # explicit (lo, hi) of the dilated input (JAX)
            lo, p_hi = padding[len(dims)]
            pad_len = lo + p_hi
        else:
            pad_len = k + s - 2 + max(k - s, 0)
            lo = k - 1
        dims.append((lo, (n - 1) * s + 1 + pad_len - k + 1))
    (lo_h, oh), (lo_w, ow) = dims
    out = np.zeros((N, oh, ow, O))
    for n, i, j, a, b in itertools.product(range(N), range(H), range(W_), range(KH), range(KW)):
        p, q = lo_h + i * strides[0] - a, lo_w + j * strides[1] - b
        if 0 <= p < oh and 0 <= q < ow:
            out[n, p, q] += x[n, i, j] @ w[a, b]
    return out


def ref_pool_nhwc(x, window, strides, padding, kind):
    N, H, W_, C = x.shape
    pads = [_pads(H, window[0], strides[0], padding), _pads(W_, window[1], strides[1], padding)]
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=fill)
    real = np.pad(np.ones((H, W_)), pads)
    oh = max(0, (xp.shape[1] - window[0]) // strides[0] + 1)
    ow = max(0, (xp.shape[2] - window[1]) // strides[1] + 1)
    out = np.zeros((N, oh, ow, C))
    for n, i, j, c in itertools.product(range(N), range(oh), range(ow), range(C)):
        sl = (slice(i * strides[0], i * strides[0] + window[0]),
              slice(j * strides[1], j * strides[1] + window[1]))
        win = xp[n][sl][..., c]
        if kind == "max":
            out[n, i, j, c] = win.max()
        elif kind == "sum":
            out[n, i, j, c] = win.sum()
        else:
            out[n, i, j, c] = win.sum() / real[sl].sum()
    return out


@pytest.mark.parametrize("strides,padding,dilation", [
    ((1, 1), "VALID", (1, 1)), ((2, 2), "SAME", (1, 1)), ((2, 1), "SAME", (1, 1)),
    ((1, 2), ((1, 2), (0, 1)), (1, 1)), ((1, 1), "VALID", (2, 1)), ((1, 1), "SAME", (1, 2))])
def test_conv_matches_loops(strides, padding, dilation):
    x = rand(2, 6, 5, 3, dtype=np.float64)
    init, apply = stax.Conv(4, (3, 2), strides, padding, dilation=dilation)
    shape, (w, b) = init(KEY, x.shape)
    w, b = np.asarray(w, np.float64), rand(1, 1, 1, 4, dtype=np.float64)
    got = np.asarray(apply((w, b), x))
    want = ref_conv_nhwc(x, w, strides, padding, dilation) + b
    assert got.shape == shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.asarray(lepton.jit(apply)((w, b), x)), want, rtol=1e-9,
                               atol=1e-9)


def test_conv1d_and_nchw_match_loops():
    x = rand(2, 7, 3, dtype=np.float64)
    init, apply = stax.Conv1D(2, (3,), (2,), "SAME")
    _, (w, b) = init(KEY, x.shape)
    w = np.asarray(w, np.float64)
    want = ref_conv_nhwc(x[:, :, None], w[:, None], (2, 1), "SAME")[:, :, 0] + np.asarray(b)
    np.testing.assert_allclose(np.asarray(apply((w, b), x)), want, rtol=1e-6)
    xc = rand(2, 3, 5, 6, dtype=np.float64)  # NCHW data, OIHW kernel
    init, apply = stax.GeneralConv(("NCHW", "OIHW", "NCHW"), 4, (2, 3), (1, 2), "SAME")
    _, (w, b) = init(KEY, xc.shape)
    w = np.asarray(w, np.float64)
    want = ref_conv_nhwc(xc.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), (1, 2), "SAME")
    got = np.asarray(apply((w, b), xc)).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(got, want + np.asarray(b).reshape(1, 1, 1, 4), rtol=1e-6)


@pytest.mark.parametrize("kernel,strides,padding", [
    ((3, 3), (2, 2), "VALID"), ((3, 2), (2, 1), "SAME"), ((2, 2), (2, 2), "SAME"),
    ((1, 2), (3, 3), "VALID"), ((4, 3), (1, 2), "SAME"), ((3, 3), (2, 2), ((1, 1), (0, 2))),
    ((3, 2), (2, 1), ((2, 0), (1, 3)))])
def test_conv_transpose_matches_loops(kernel, strides, padding):
    x = rand(2, 4, 3, 3, dtype=np.float64)
    init, apply = stax.ConvTranspose(2, kernel, strides, padding)
    shape, (w, b) = init(KEY, x.shape)
    w = np.asarray(w, np.float64)
    want = ref_conv_transpose_nhwc(x, w, strides, padding) + np.asarray(b)
    got = np.asarray(apply((w, b), x))
    assert got.shape == shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind,window,strides,padding", [
    ("max", (2, 2), (2, 2), "VALID"), ("max", (3, 3), (2, 2), "SAME"),
    ("max", (2, 3), (1, 1), "SAME"), ("avg", (2, 2), (2, 2), "VALID"),
    ("avg", (3, 2), (2, 1), "SAME"), ("sum", (2, 2), (1, 2), "SAME"),
    ("sum", (3, 1), (1, 1), "VALID")])
def test_pools_match_loops(kind, window, strides, padding):
    x = rand(2, 5, 6, 3, dtype=np.float64)
    layer = {"max": stax.MaxPool, "avg": stax.AvgPool, "sum": stax.SumPool}[kind](
        window, strides, padding)
    shape, _ = layer[0](KEY, x.shape)
    want = ref_pool_nhwc(x, window, strides, padding, kind)
    got = np.asarray(layer[1]((), x))
    assert got.shape == shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(lepton.jit(layer[1])((), x)), want, rtol=1e-10)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 3), padding=st.sampled_from(["SAME", "VALID"]),
       kind=st.sampled_from(["conv", "transpose", "max", "avg", "sum"]))
def test_random_windows_match_loops(h, w, kh, kw, sh, sw, padding, kind):
    """Any sizes (kernels larger than the input included): init's shape, apply's result
    and the loop reference agree."""
    x = RNG.standard_normal((2, h, w, 2))
    if kind in ("conv", "transpose"):
        layer = (stax.Conv if kind == "conv" else stax.ConvTranspose)(
            3, (kh, kw), (sh, sw), padding, b_init=lambda k, s: lnp.zeros(s))
        shape, (k, b) = layer[0](KEY, (-1, h, w, 2))
        k = np.asarray(k, np.float64)
        got = np.asarray(layer[1]((k, b), x))
        want = (ref_conv_nhwc if kind == "conv" else ref_conv_transpose_nhwc)(
            x, k, (sh, sw), padding)
    else:
        layer = {"max": stax.MaxPool, "avg": stax.AvgPool, "sum": stax.SumPool}[kind](
            (kh, kw), (sh, sw), padding)
        shape, _ = layer[0](KEY, (-1, h, w, 2))
        got = np.asarray(layer[1]((), x))
        want = ref_pool_nhwc(x, (kh, kw), (sh, sw), padding, kind)
    assert got.shape == want.shape == (2,) + tuple(shape[1:])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_mixed_dtypes_promote():
    """float64 NumPy data into a float32 model computes in float64 (no dtype error)."""
    init, apply = stax.serial(stax.Conv(2, (2, 2)), stax.ConvTranspose(2, (2, 2)),
                              stax.Flatten, stax.Dense(3))
    _, params = init(KEY, (-1, 4, 4, 1))
    x = RNG.standard_normal((2, 4, 4, 1))
    y64 = apply(params, x)
    assert y64.dtype == np.float64
    np.testing.assert_allclose(np.asarray(y64), np.asarray(apply(params, x.astype(np.float32))),
                               rtol=1e-4, atol=1e-5)
    assert apply(params, x.astype(np.int32)).dtype == np.float32


def test_global_pools():
    x = rand(2, 3, 4, 5)
    np.testing.assert_allclose(np.asarray(stax.GlobalAvgPool[1]((), x)), x.mean((1, 2)),
                               rtol=1e-5)
    np.testing.assert_allclose(np.asarray(stax.GlobalMaxPool[1]((), x)), x.max((1, 2)))
    np.testing.assert_allclose(np.asarray(stax.GlobalAvgPool(spec="NCHW")[1]((), x)),
                               x.mean((2, 3)), rtol=1e-5)


# ----------------------------------------------------------------------------- gradients
GRAD_LAYERS = {
    "Dense": (lambda: stax.Dense(3), (2, 4)),
    "Conv": (lambda: stax.Conv(2, (2, 2), (2, 1), "SAME"), (1, 4, 3, 2)),
    "ConvTranspose": (lambda: stax.ConvTranspose(2, (2, 3), (2, 1), "SAME"), (1, 3, 2, 2)),
    "AvgPool": (lambda: stax.AvgPool((2, 2), (1, 1), "SAME"), (1, 3, 3, 2)),
    "MaxPool": (lambda: stax.MaxPool((2, 2), (2, 2)), (1, 4, 4, 1)),
    "LayerNorm": (lambda: stax.LayerNorm(), (3, 4)),
    "BatchNorm_jax": (lambda: stax.BatchNorm(axis=(0,), track_running_stats=False), (5, 3)),
    "GlobalAvgPool": (lambda: stax.GlobalAvgPool, (2, 2, 3, 2)),
    "Dropout": (lambda: stax.serial(stax.Dense(6), stax.Dropout(0.5)), (3, 2)),
    "Conv1DTranspose": (lambda: stax.Conv1DTranspose(2, (3,), (2,)), (2, 3, 2)),
    "cnn": (lambda: stax.serial(stax.Conv(2, (2, 2)), stax.Tanh, stax.Flatten, stax.Dense(2),
                                stax.LogSoftmax), (2, 3, 3, 1)),
}


@pytest.mark.parametrize("name", sorted(GRAD_LAYERS))
def test_gradients_float64(name):
    make, shape = GRAD_LAYERS[name]
    init, apply = make()
    _, params = init(KEY, shape)
    params = to64(params)
    x = RNG.permutation(np.prod(shape)).reshape(shape) * 0.1 + 0.05  # distinct: no max ties
    check_grads(lambda p, v: apply(p, v, rng=KEY), (params, x), order=1)


def test_batchnorm_gradient_float64():
    init, apply = stax.BatchNorm(axis=(0, 1, 2))
    _, params, state = init(KEY, (2, 2, 2, 3))
    params = to64(params)
    x = rand(2, 2, 2, 3, dtype=np.float64)
    check_grads(lambda p, v: apply(p, state, v)[0], (params, x), order=1)


# ----------------------------------------------------------------------------- BatchNorm
def test_batchnorm_running_stats_train_and_eval():
    init, apply = stax.BatchNorm(momentum=0.9)
    _, params, state = init(KEY, (-1, 3, 3, 2))
    assert [s.shape for s in state] == [(2,), (2,)]
    np.testing.assert_array_equal(np.asarray(state[0]), 0)
    np.testing.assert_array_equal(np.asarray(state[1]), 1)
    x = rand(4, 3, 3, 2) * 3 + 5
    y, new = apply(params, state, x)  # train=True by default
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    np.testing.assert_allclose(np.asarray(y), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(np.asarray(new[0]), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(new[1]), 0.9 + 0.1 * var, rtol=1e-5)
    # eval: normalise with the running statistics, state unchanged
    y_eval, same = apply(params, new, x, train=False)
    want = (x - np.asarray(new[0])) / np.sqrt(np.asarray(new[1]) + 1e-5)
    np.testing.assert_allclose(np.asarray(y_eval), want, rtol=1e-5, atol=1e-5)
    assert same is new
    # many steps on the same data: the running stats converge to the batch stats
    s = state
    for _ in range(80):
        _, s = apply(params, s, x)
    np.testing.assert_allclose(np.asarray(s[0]), mean, rtol=1e-3)
    np.testing.assert_allclose(np.asarray(s[1]), var, rtol=1e-3)
    np.testing.assert_allclose(np.asarray(apply(params, s, x, train=False)[0]),
                               np.asarray(apply(params, s, x)[0]), atol=2e-3)


def test_batchnorm_in_a_model_gradient_of_params_not_state():
    init, apply = stax.serial(stax.Dense(3), stax.BatchNorm(axis=(0,)), stax.Relu, stax.Dense(1))
    assert stax.is_stateful((init, apply))
    _, params, state = init(KEY, (-1, 2))
    x = rand(6, 2)

    def loss(p, s):
        y, s = apply(p, s, x)
        return lnp.mean(y ** 2), s

    (l, new_state), g = lepton.jit(lepton.value_and_grad(loss, has_aux=True))(params, state)
    assert np.isfinite(float(l)) and new_state[0] == () and len(new_state) == 4
    assert tree.structure(g) == tree.structure(params)
    assert not np.allclose(np.asarray(new_state[1][0]), np.asarray(state[1][0]))


def test_batchnorm_jax_mode_matches_standardize():
    init, apply = stax.BatchNorm(track_running_stats=False, center=False)
    assert not stax.is_stateful((init, apply))
    shape, params = init(KEY, (2, 3, 3, 4))
    assert params[0] == ()
    x = rand(2, 3, 3, 4)
    want = (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + 1e-5)
    np.testing.assert_allclose(np.asarray(apply(params, x)), want, rtol=1e-3, atol=1e-4)


# ----------------------------------------------------------------------------- Dropout
def test_dropout_rate_is_drop_probability():
    init, apply = stax.Dropout(0.3)
    x = lnp.ones((200, 500))
    y = np.asarray(apply((), x, rng=KEY))
    dropped = np.mean(y == 0)
    assert abs(dropped - 0.3) < 0.01, dropped
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    assert abs(y.mean() - 1) < 0.02
    y2 = np.asarray(stax.Dropout(keep_prob=0.3)[1]((), x, rng=KEY))
    assert abs(np.mean(y2 == 0) - 0.7) < 0.01
    # a different key drops different elements
    assert not np.array_equal(y, np.asarray(apply((), x, rng=random.PRNGKey(1))))


def test_dropout_eval_and_errors():
    x = rand(3, 4)
    _, apply = stax.Dropout(0.5)
    np.testing.assert_array_equal(np.asarray(apply((), x, train=False)), x)
    np.testing.assert_array_equal(np.asarray(stax.Dropout(0.5, mode="test")[1]((), x)), x)
    np.testing.assert_array_equal(np.asarray(stax.Dropout(0.0)[1]((), x)), x)
    np.testing.assert_array_equal(np.asarray(stax.Dropout(1.0)[1]((), x, rng=KEY)), 0)
    with pytest.raises(ValueError, match=r"rng=key.*PRNGKey.*train=False"):
        apply((), x)
    with pytest.raises(ValueError, match="probability of dropping"):
        stax.Dropout(1.5)
    with pytest.raises(TypeError, match="exactly one"):
        stax.Dropout(0.1, keep_prob=0.9)
    with pytest.raises(ValueError, match="mode"):
        stax.Dropout(0.1, mode="eval")


def test_dropout_in_models_train_and_eval():
    init, apply = stax.serial(stax.Dense(50), stax.Dropout(0.5))
    _, params = init(KEY, (-1, 4))
    x = rand(8, 4)
    full = np.asarray(apply(params, x, train=False))
    dropped = np.asarray(apply(params, x, rng=KEY))
    assert 0.3 < np.mean(dropped == 0) < 0.7
    np.testing.assert_allclose(dropped[dropped != 0], 2 * full[dropped != 0], rtol=1e-5)
    # stateful model: train=False turns dropout off, train=True needs rng
    init, apply = stax.serial(stax.Dense(50), stax.BatchNorm(axis=(0,)), stax.Dropout(0.5))
    _, params, state = init(KEY, (-1, 4))
    y, _ = apply(params, state, x, train=False)
    assert np.all(np.asarray(y) != 0)
    with pytest.raises(ValueError, match="PRNG key"):
        apply(params, state, x)
    y, _ = lepton.jit(lambda p, s, v, k: apply(p, s, v, rng=k))(params, state, x, KEY)
    assert 0.3 < np.mean(np.asarray(y) == 0) < 0.7


# ----------------------------------------------------------------------------- shape errors
def _err(fn, *args, **kw):
    with pytest.raises(LayerShapeError) as info:
        fn(*args, **kw)
    return str(info.value)


def test_dense_fed_4d_names_index_and_flatten():
    init, apply = stax.serial(stax.Conv(4, (3, 3)), stax.Relu, stax.Dense(10))
    msg = _err(init, KEY, (-1, 8, 8, 1))
    assert "layer 2 (Dense)" in msg and "(batch, 6, 6, 4)" in msg and "Flatten()" in msg
    assert "(batch, 144)" in msg
    init, apply = stax.serial(stax.Conv(4, (3, 3)), stax.Flatten, stax.Dense(10))
    _, params = init(KEY, (-1, 8, 8, 1))
    msg = _err(apply, params, rand(2, 9, 9, 1))
    assert "layer 2 (Dense)" in msg and "(2, 196)" in msg and "(..., 144)" in msg


def test_conv_given_nchw_data():
    init, apply = stax.serial(stax.Conv(8, (3, 3)), stax.Relu)
    _, params = init(KEY, (-1, 28, 28, 3))
    msg = _err(apply, params, rand(2, 3, 28, 28))
    assert "layer 0 (Conv)" in msg and "(2, 3, 28, 28)" in msg
    assert "(batch, H, W, 3) [NHWC]" in msg and "NCHW" in msg and "transpose(0, 2, 3, 1)" in msg
    msg = _err(init, KEY, (-1, 28, 28))
    assert "rank 3" in msg and "x[..., None]" in msg


def test_lstm_given_2d_and_nested_index():
    model = stax.serial(stax.Dense(4), stax.serial(stax.Relu, stax.LSTM(3)))
    msg = _err(model[0], KEY, (-1, 5))
    assert "layer 1.1 (LSTM)" in msg and "(batch, 4)" in msg and "(batch, time, features)" in msg
    assert "x[:, None, :]" in msg
    init, apply = stax.LSTM(3)
    _, params = init(KEY, (-1, 4, 2))
    msg = _err(apply, params, rand(3, 4, 5))
    assert "stax layer LSTM" in msg and "(batch, time, 2)" in msg


def test_more_shape_errors():
    assert "rank-4" in _err(stax.MaxPool((2, 2))[0], KEY, (-1, 4, 4))
    assert "axis=(0,)" in _err(stax.BatchNorm()[0], KEY, (-1, 4))
    msg = _err(stax.serial(stax.FanOut(2), stax.parallel(stax.Dense(3), stax.Dense(4)),
                           stax.FanInSum)[0], KEY, (-1, 2))
    assert "layer 2 (FanInSum)" in msg and "(batch, 4)" in msg
    assert "Reshape" in _err(stax.Reshape((5,))[0], KEY, (-1, 2, 3))
    with pytest.raises(ValueError, match="FanOut"):
        stax.parallel(stax.Dense(2), stax.Dense(2))[0](KEY, (-1, 2))
    with pytest.raises(ValueError, match="one entry per layer"):
        stax.serial(stax.Dense(2), stax.Relu)[1]([()], rand(1, 2))
    with pytest.raises(TypeError, match="call it"):
        stax.serial(stax.Dense)
    # errors raise at trace time under jit too
    init, apply = stax.serial(stax.Dense(3))
    _, params = init(KEY, (-1, 2))
    with pytest.raises(LayerShapeError, match="layer 0 \\(Dense\\)"):
        lepton.jit(apply)(params, rand(2, 5))


# ----------------------------------------------------------------------------- transforms
def test_model_under_jit_vmap_and_grad():
    init, apply = stax.serial(stax.Conv(3, (3, 3), padding="SAME"), stax.Relu,
                              stax.AvgPool((2, 2), (2, 2)), stax.Flatten, stax.Dense(4),
                              stax.LogSoftmax)
    _, params = init(KEY, (-1, 6, 6, 2))
    x = rand(5, 6, 6, 2)
    want = np.asarray(apply(params, x))
    np.testing.assert_allclose(np.asarray(lepton.jit(apply)(params, x)), want, rtol=1e-5,
                               atol=1e-5)
    per_example = lepton.vmap(lambda v: apply(params, v[None])[0])(x)
    np.testing.assert_allclose(np.asarray(per_example), want, rtol=1e-5, atol=1e-5)
    y = RNG.integers(0, 4, 5)

    def loss(p, v, t):
        return -lnp.mean(lnp.take_along_axis(apply(p, v), t[:, None], axis=1))

    g = lepton.grad(loss)(params, x, y)
    gj = lepton.jit(lepton.grad(loss))(params, x, y)
    for a, b in zip(tree.leaves(g), tree.leaves(gj)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    # per-example gradients (DP-SGD style)
    pg = lepton.vmap(lepton.grad(lambda p, v, t: loss(p, v[None], t[None])),
                     in_axes=(None, 0, 0))(params, x, y)
    mean_pg = tree.map(lambda a: np.asarray(a).mean(0), pg)
    for a, b in zip(tree.leaves(mean_pg), tree.leaves(g)):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-5)


def test_no_overhead_over_handwritten_numpy():
    """The traced program of a stax model is the hand-written one: same equations."""
    from lepton import nn
    init, apply = stax.serial(stax.Dense(8), stax.Relu, stax.Dense(3), stax.LogSoftmax)
    _, params = init(KEY, (-1, 5))
    x = rand(4, 5)

    def by_hand(p, v):
        (w1, b1), (), (w2, b2), () = p
        return nn.log_softmax(lnp.dot(nn.relu(lnp.dot(v, w1) + b1), w2) + b2, axis=-1)

    a = str(lepton.make_jaxpr(apply)(params, x))
    b = str(lepton.make_jaxpr(by_hand)(params, x))
    assert a == b


def test_traced_train_flag_error():
    init, apply = stax.serial(stax.Dense(3), stax.BatchNorm(axis=(0,)), stax.Dropout(0.5))
    _, params, state = init(KEY, (-1, 2))
    x = rand(4, 2)
    with pytest.raises(lepton.errors.ConcretizationError, match="static_argnames='train'"):
        lepton.jit(apply)(params, state, x, train=False)
    y, _ = lepton.jit(apply, static_argnames="train")(params, state, x, train=False)
    np.testing.assert_allclose(np.asarray(y), np.asarray(apply(params, state, x, train=False)[0]),
                               rtol=1e-5, atol=1e-6)


def test_stateful_protocol_helpers():
    layer = stax.Dense(2)
    assert not stax.is_stateful(layer)
    init, apply = stax.stateful(layer)
    shape, params, state = init(KEY, (-1, 3))
    assert shape == (-1, 2) and state == ()
    y, s = apply(params, state, rand(2, 3))
    assert y.shape == (2, 2) and s == ()
    par = stax.parallel(stax.BatchNorm(axis=(0,)), stax.Dense(2))
    assert stax.is_stateful(par)
    shapes, params, state = par[0](KEY, [(-1, 3), (-1, 4)])
    assert shapes == ((-1, 3), (-1, 2)) and state[1] == ()
    ys, new = par[1](params, state, [rand(5, 3), rand(5, 4)], train=False)
    assert [y.shape for y in ys] == [(5, 3), (5, 2)]
    with pytest.raises(TypeError, match="stateful"):
        stax.shape_dependent(lambda s: stax.BatchNorm())[0](KEY, (-1, 3))


def test_parameterless_layers_callable_like_keras():
    for layer in (stax.Flatten, stax.Identity, stax.Relu, stax.FanInSum, stax.GlobalAvgPool):
        again = layer()
        assert stax.is_stateful(again) is False and again.name == layer.name


def test_jax_compatible_protocol_and_rng_splitting():
    """serial splits rng into one key per layer exactly as jax's stax does."""
    seen = []

    def probe():
        return (lambda rng, s: (s, ()),
                lambda p, x, rng=None, **kw: (seen.append(np.asarray(rng)), x)[1])

    init, apply = stax.serial(probe(), probe(), probe())
    shape, params = init(KEY, (-1, 2))
    assert shape == (-1, 2) and params == [(), (), ()]
    apply(params, rand(1, 2), rng=KEY)
    keys = np.asarray(random.split(KEY, 3))
    np.testing.assert_array_equal(np.stack(seen), keys)


# ----------------------------------------------------------------------------- JAX
def test_same_model_as_jax_stax():
    jax = pytest.importorskip("jax")
    from jax.example_libraries import stax as jstax
    old_x64 = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        _compare_with_jax(jax, jstax)
    finally:
        jax.config.update("jax_enable_x64", old_x64)


def _compare_with_jax(jax, jstax):
    def model(s):
        return s.serial(s.Conv(4, (3, 3), (1, 1), "SAME"), s.Relu,
                        s.MaxPool((2, 2), (2, 2)), s.Conv(3, (2, 2)), s.Elu,
                        s.AvgPool((2, 2), padding="SAME"), s.ConvTranspose(2, (2, 2), (2, 2)),
                        s.Flatten, s.Dense(5), s.Gelu, s.Dense(3), s.LogSoftmax)

    shape_l, params = model(stax)[0](KEY, (3, 8, 8, 2))
    params = to64(params)
    x = rand(3, 8, 8, 2, dtype=np.float64)
    # (JAX's init runs op by op and takes ~10 s here; its apply under jit is quick.)
    want = np.asarray(jax.jit(model(jstax)[1])(tree.map(jax.numpy.asarray, params), x))
    assert tuple(shape_l) == want.shape
    np.testing.assert_allclose(np.asarray(model(stax)[1](params, x)), want, rtol=1e-9,
                               atol=1e-9)


def test_dropout_matches_jax_keep_probability():
    """lepton's Dropout(keep_prob=p) is JAX's Dropout(p), mask for mask."""
    jax = pytest.importorskip("jax")
    from jax.example_libraries import stax as jstax
    x = rand(4, 50)
    want = np.asarray(jstax.Dropout(0.8)[1]((), x, rng=jax.random.PRNGKey(3)))
    got = np.asarray(stax.Dropout(keep_prob=0.8)[1]((), x, rng=random.PRNGKey(3)))
    np.testing.assert_array_equal(got == 0, want == 0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
