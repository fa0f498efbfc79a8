"""conv_general_dilated, reduce_window and the max-pooling gradient pair against naive loop
references; gradients to second order against central differences; both transpose rules
(and select_and_gather/scatter) by the adjoint identity; vmap against loops; errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.errors import DTypeError, ShapeError
from lepton.primitives import conv as C
from lepton.test_util import check_batching, check_grads

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape)


def distinct(*shape):
    """Values at least 0.1 apart and away from 0: no ties within eps of a max/min window."""
    n = int(np.prod(shape))
    return ((RNG.permutation(n) - n // 2 + 0.5) * 0.1).reshape(shape)


def assert_adjoint(f, x, ct_shape):
    """``<ct, f(x)> == <f^T(ct), x>`` for linear ``f``; ``f^T`` comes from the transpose rules."""
    ct = rand(*ct_shape)
    y, pullback = lepton.vjp(f, x)
    (xt,) = pullback(ct)
    np.testing.assert_allclose(np.vdot(ct, np.asarray(y)), np.vdot(np.asarray(xt), x),
                               rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- references
def _dilate_pad(x, dilation, padding, fill=0.0):
    """x (N, C, S...) with interior dilation, then (lo, hi) padding (negative crops)."""
    sp = x.shape[2:]
    dil = [(n - 1) * d + 1 if n else 0 for n, d in zip(sp, dilation)]
    big = np.full(x.shape[:2] + tuple(max(lo, 0) + max(hi, 0) + n
                                      for n, (lo, hi) in zip(dil, padding)), fill)
    big[(slice(None),) * 2 + tuple(slice(max(lo, 0), max(lo, 0) + n, d) for n, (lo, _), d in
                                   zip(dil, padding, dilation))] = x
    return big[(slice(None),) * 2 + tuple(slice(-min(lo, 0), big.shape[2 + i] + min(hi, 0))
                                          for i, (lo, hi) in enumerate(padding))]


def naive_conv(lhs, rhs, strides, padding, lhs_dil, rhs_dil, dn, groups):
    """Loops over every output element: the definition, with no im2col."""
    lhs_spec, rhs_spec, out_spec = dn
    x = _dilate_pad(np.transpose(lhs, lhs_spec), lhs_dil, padding)
    w = np.transpose(rhs, rhs_spec)
    (n_batch, _), (n_out, n_in), ksz = x.shape[:2], w.shape[:2], w.shape[2:]
    eff = [(k - 1) * d + 1 for k, d in zip(ksz, rhs_dil)]
    out_sp = [max(0, (p - e) // s + 1) for p, e, s in zip(x.shape[2:], eff, strides)]
    out = np.zeros((n_batch, n_out) + tuple(out_sp))
    per_group = n_out // groups
    for n, o in itertools.product(range(n_batch), range(n_out)):
        g = o // per_group
        for pos in itertools.product(*map(range, out_sp)):
            for c, k in itertools.product(range(n_in), itertools.product(*map(range, ksz))):
                src = tuple(p * s + kk * d for p, s, kk, d in zip(pos, strides, k, rhs_dil))
                out[(n, o) + pos] += x[(n, g * n_in + c) + src] * w[(o, c) + k]
    return np.transpose(out, np.argsort(out_spec))


NHWC = C.conv_dimension_numbers("NHWC", "HWIO", "NHWC")
NCHW = ((0, 1, 2, 3),) * 3

# (lhs shape, rhs shape, strides, padding, lhs_dilation, rhs_dilation, dn, groups)
CONV_CASES = [
    ((2, 6, 5, 3), (3, 3, 3, 4), (1, 1), "SAME", (1, 1), (1, 1), NHWC, 1),
    ((2, 6, 5, 3), (3, 2, 3, 4), (1, 1), "VALID", (1, 1), (1, 1), NHWC, 1),
    ((2, 4, 6, 5), (4, 2, 3, 2), (2, 1), "VALID", (1, 1), (1, 1), NCHW, 2),
    ((1, 2, 7), (2, 2, 3), (2,), ((1, 2),), (2,), (2,), ((0, 1, 2),) * 3, 1),
    ((2, 6, 5, 6), (2, 3, 2, 6), (1, 2), ((2, -1), (0, 1)), (1, 2), (2, 1), NHWC, 3),
    ((1, 3, 3, 4, 2), (2, 2, 1, 2, 3), (1, 2, 1), "SAME", (1, 1, 1), (1, 1, 2),
     C.conv_dimension_numbers("NDHWC", "DHWIO", "NDHWC"), 1),
    ((2, 5, 5, 2), (3, 3, 1, 2), (2, 2), "SAME", (1, 1), (1, 1),
     C.conv_dimension_numbers("NHWC", "HWIO", "NCHW"), 2),
    ((1, 3, 3, 1), (5, 5, 1, 2), (1, 1), "SAME", (1, 1), (1, 1), NHWC, 1),
]


def _conv(args):
    _, _, strides, padding, ld, rd, dn, g = args
    return lambda x, w: C.conv_general_dilated(x, w, strides, padding, ld, rd, dn, g)


def _explicit_pads(args):
    sl, sr, strides, padding, ld, rd, dn, _ = args
    if not isinstance(padding, str):
        return padding
    in_sp = [(sl[d] - 1) * l_ + 1 for d, l_ in zip(dn[0][2:], ld)]
    eff = [(sr[d] - 1) * r + 1 for d, r in zip(dn[1][2:], rd)]
    return C.padtype_to_pads(in_sp, eff, strides, padding)


@pytest.mark.parametrize("args", CONV_CASES)
def test_conv_matches_naive_loops(args):
    lhs, rhs = rand(*args[0]), rand(*args[1])
    want = naive_conv(lhs, rhs, args[2], _explicit_pads(args), *args[4:])
    got = _conv(args)(lhs, rhs)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("args", CONV_CASES)
def test_conv_float32_stays_float32(args):
    lhs, rhs = rand(*args[0]).astype(np.float32), rand(*args[1]).astype(np.float32)
    out = _conv(args)(lhs, rhs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, _conv(args)(lhs.astype(float), rhs.astype(float)),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("args", CONV_CASES[:-1])
def test_conv_grads_second_order(args):
    check_grads(_conv(args), (rand(*args[0]), rand(*args[1])), order=2)


@pytest.mark.parametrize("args", CONV_CASES)
def test_conv_transposes_are_adjoint(args):
    lhs, rhs = rand(*args[0]), rand(*args[1])
    f = _conv(args)
    out_shape = f(lhs, rhs).shape
    assert_adjoint(lambda x: f(x, lnp.asarray(rhs)), lhs, out_shape)
    assert_adjoint(lambda w: f(lnp.asarray(lhs), w), rhs, out_shape)


@pytest.mark.parametrize("args", CONV_CASES[:5])
@pytest.mark.parametrize("axes", [(0, None), (None, 0), (0, 0), (2, 1), (None, 3)])
def test_conv_vmap_matches_loop(args, axes):
    lhs, rhs = rand(*args[0]), rand(*args[1])
    batched = [x if ax is None else np.stack([x, -0.5 * x], axis=ax)
               for x, ax in zip((lhs, rhs), axes)]
    check_batching(_conv(args), batched, axes, atol=1e-10)


def test_conv_empty_output_cotangent_gives_zero_grads():
    f = _conv(((0,), (0,), (1, 1), "VALID", (1, 1), (1, 1), NHWC, 1))
    gx, gw = lepton.grad(lambda x, w: lnp.sum(f(x, w)), argnums=(0, 1))(rand(0, 4, 4, 2),
                                                                           rand(3, 3, 2, 2))
    assert gx.shape == (0, 4, 4, 2) and not np.asarray(gw).any()


def test_conv_dimension_numbers_and_same_padding():
    assert NHWC == ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    assert C.padtype_to_pads((28, 28), (5, 5), (1, 1), "SAME") == ((2, 2), (2, 2))
    assert C.padtype_to_pads((5,), (2,), (2,), "SAME") == ((0, 1),)
    assert C.padtype_to_pads((5,), (2,), (2,), "SAME_LOWER") == ((1, 0),)
    with pytest.raises(ValueError, match="padding must be"):
        C.padtype_to_pads((5,), (2,), (1,), "FULL")
    with pytest.raises(ValueError, match="invalid convolution layout"):
        C.conv_dimension_numbers("NHWC", "HWI", "NHWC")


@pytest.mark.parametrize("call,err,msg", [
    (lambda: C.conv_general_dilated(rand(1, 5, 5, 3), rand(3, 3, 2, 4), (1, 1), "SAME",
                                    dimension_numbers=NHWC),
     ShapeError, r"lhs has 3 input features but the kernel expects 2 .*f64\[1,5,5,3\]"),
    (lambda: C.conv_general_dilated(rand(1, 5, 5, 4), rand(3, 3, 2, 3), (1, 1), "SAME",
                                    dimension_numbers=NHWC, feature_group_count=2),
     ShapeError, "not divisible by feature_group_count"),
    (lambda: C.conv_general_dilated(rand(1, 5, 5, 2), rand(3, 3, 2, 4).astype(np.float32),
                                    (1, 1), "SAME", dimension_numbers=NHWC),
     DTypeError, "equal dtypes"),
    (lambda: C.conv_general_dilated(rand(1, 2, 5), rand(4, 2, 3), (1, 1), "VALID"),
     ShapeError, "one entry per spatial dimension"),
    (lambda: C.conv_general_dilated(rand(1, 2, 5), rand(4, 2, 3), (0,), "VALID"),
     ShapeError, "must be positive"),
    (lambda: C.conv_general_dilated(rand(1, 2, 5), rand(4, 2, 3, 3), (1,), "VALID"),
     ShapeError, "equal rank"),
])
def test_conv_errors(call, err, msg):
    with pytest.raises(err, match=msg):
        call()


def test_lenet_layer_grad_shapes_and_values():
    """Conv 6@5x5 SAME (NHWC/HWIO), then 2x2/2 max pooling: the MNIST-style CNN block."""
    x, w = distinct(2, 8, 8, 1), rand(5, 5, 1, 6)

    def block(x, w):
        y = C.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=NHWC)
        return C.reduce_window(lnp.tanh(y), -np.inf, "max", (1, 2, 2, 1), (1, 2, 2, 1))

    assert block(x, w).shape == (2, 4, 4, 6)
    check_grads(block, (x, w), order=1)


# ----------------------------------------------------------------------------- reduce_window
def naive_reduce_window(x, init, computation, window, strides, padding):
    fn = {"sum": np.sum, "max": np.max, "min": np.min}[computation]
    # Padding is in no window (XLA, as JAX 0.10 computes it): pad with the identity.
    xp = np.pad(x, padding, constant_values={"sum": 0., "max": -np.inf, "min": np.inf}[computation])
    out_shape = [max(0, (n - w) // s + 1) for n, w, s in zip(xp.shape, window, strides)]
    out = np.empty(out_shape)
    for pos in itertools.product(*map(range, out_shape)):
        win = xp[tuple(slice(p * s, p * s + w) for p, s, w in zip(pos, strides, window))]
        out[pos] = fn(np.append(win.ravel(), init))
    return out


WINDOW_CASES = [
    ((2, 6, 6, 3), (1, 2, 2, 1), (1, 2, 2, 1), ((0, 0),) * 4),
    ((7,), (3,), (2,), ((1, 2),)),
    ((4, 5), (2, 3), (1, 1), ((1, 1), (0, 2))),
    ((3, 5), (3, 2), (2, 3), ((0, 0), (1, 0))),
    ((2, 3), (4, 1), (1, 1), ((0, 0), (0, 0))),
]


@pytest.mark.parametrize("computation,init", [("sum", 0.0), ("max", -np.inf),
                                              ("min", np.inf), ("sum", 1.5), ("max", 0.0),
                                              ("min", 0.5)])
@pytest.mark.parametrize("case", WINDOW_CASES)
def test_reduce_window_matches_naive_loops(computation, init, case):
    shape, window, strides, padding = case
    x = rand(*shape)
    got = C.reduce_window(x, init, computation, window, strides, padding)
    want = naive_reduce_window(x, init, computation, window, strides, padding)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("computation,init", [("sum", 0.0), ("max", -np.inf),
                                              ("min", np.inf), ("max", 0.0)])
@pytest.mark.parametrize("case", WINDOW_CASES[:4])
def test_reduce_window_grads_and_vmap(computation, init, case):
    shape, window, strides, padding = case
    x = distinct(*shape)

    def f(x):
        return C.reduce_window(x, init, computation, window, strides, padding)

    check_grads(f, (x,), order=2)
    check_batching(f, [np.stack([x, x[::-1] * 2], axis=-1)], (-1,), atol=1e-12)


def test_reduce_window_traced_init_value():
    x = distinct(3, 4)
    for computation in ("sum", "max", "min"):
        check_grads(lambda x, init: C.reduce_window(x, init, computation, (2, 2), (1, 2),
                                                    ((1, 0), (0, 1))), (x, np.array(0.03)),
                    order=2)


def test_reduce_window_same_padding_and_int_dtypes():
    x = np.arange(25, dtype=np.int32).reshape(5, 5)
    got = C.reduce_window(x, np.iinfo(np.int32).min, "max", (2, 2), (2, 2), "SAME")
    np.testing.assert_array_equal(got, [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    assert got.dtype == np.int32
    assert C.reduce_window(x, 0, "sum", (5, 5)).dtype == np.int32


def test_max_pool_gradient_goes_to_the_first_argmax():
    x = np.array([[1.0, 3.0, 2.0, 2.0],
                  [3.0, 0.0, 2.0, 1.0]])
    g = lepton.grad(lambda x: lnp.sum(C.reduce_window(x, -np.inf, "max", (2, 2), (2, 2))))(x)
    np.testing.assert_array_equal(g, [[0, 1, 1, 0], [0, 0, 0, 0]])
    overlapping = lepton.grad(lambda x: lnp.sum(C.reduce_window(x, -np.inf, "max", (2, 2))))(x)
    np.testing.assert_array_equal(overlapping, [[0, 2, 1, 0], [0, 0, 0, 0]])


@pytest.mark.parametrize("select", ["max", "min"])
@pytest.mark.parametrize("case", WINDOW_CASES[:4])
def test_select_and_gather_scatter_are_adjoint(select, case):
    shape, window, strides, padding = case
    x = lnp.asarray(rand(*shape))
    params = dict(select=select, window_dimensions=window, window_strides=strides,
                  padding=padding)
    out_shape = C.reduce_window(x, 0.0, "sum", window, strides, padding).shape
    assert_adjoint(lambda t: C.select_and_gather_add_p.bind(t, x, **params), rand(*shape),
                   out_shape)
    assert_adjoint(lambda s: C.select_and_scatter_add_p.bind(s, x, **params), rand(*out_shape),
                   shape)
    assert_adjoint(lambda t: C.reduce_window(t, 0.0, "sum", window, strides, padding),
                   rand(*shape), out_shape)


@pytest.mark.parametrize("call,err,msg", [
    (lambda: C.reduce_window(rand(3, 3), 0.0, "prod", (2, 2)), ValueError, "'sum', 'max'"),
    (lambda: C.reduce_window(rand(3, 3), 0.0, "sum", (2,)), ShapeError, "one entry"),
    (lambda: C.reduce_window(rand(3, 3), 0.0, "sum", (2, 0)), ShapeError, "positive"),
    (lambda: C.reduce_window(rand(3, 3), 0.0, "sum", (2, 2), padding=((-1, 0), (0, 0))),
     ShapeError, "non-negative"),
    (lambda: C.reduce_window(rand(3) + 1j, 0.0, "max", (2,)), DTypeError, "real or boolean"),
])
def test_reduce_window_errors(call, err, msg):
    with pytest.raises(err, match=msg):
        call()
