"""lepton.nn: activations against NumPy formulas and float64 gradients, numerical
stability for huge inputs, initializers' statistics and fans, and the losses."""
from __future__ import annotations

import math

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import nn, random
from lepton.nn import initializers as init
from lepton.nn import losses
from lepton.test_util import check_grads

RNG = np.random.default_rng(0)
X64 = np.linspace(-4, 4, 17) + 0.013  # avoids the kinks at 0 and 6


def _erf(v):
    return np.vectorize(math.erf)(v)


def _sig(v):
    return 1 / (1 + np.exp(-v))


REFERENCE = {
    "relu": (nn.relu, lambda v: np.maximum(v, 0)),
    "relu6": (nn.relu6, lambda v: np.clip(v, 0, 6)),
    "gelu_tanh": (nn.gelu, lambda v: 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) *
                                                            (v + 0.044715 * v ** 3)))),
    "gelu_exact": (lambda v: nn.gelu(v, approximate=False),
                   lambda v: 0.5 * v * (1 + _erf(v / np.sqrt(2)))),
    "elu": (nn.elu, lambda v: np.where(v > 0, v, np.expm1(v))),
    "elu_alpha": (lambda v: nn.elu(v, 0.5), lambda v: np.where(v > 0, v, 0.5 * np.expm1(v))),
    "celu": (nn.celu, lambda v: np.maximum(v, 0) + np.minimum(np.expm1(v), 0)),
    "selu": (nn.selu, lambda v: 1.0507009873554805 * np.where(v > 0, v, 1.6732632423543772 *
                                                              np.expm1(v))),
    "leaky_relu": (nn.leaky_relu, lambda v: np.where(v >= 0, v, 0.01 * v)),
    "softplus": (nn.softplus, lambda v: np.log1p(np.exp(v))),
    "sigmoid": (nn.sigmoid, _sig),
    "log_sigmoid": (nn.log_sigmoid, lambda v: np.log(_sig(v))),
    "silu": (nn.silu, lambda v: v * _sig(v)),
    "swish": (nn.swish, lambda v: v * _sig(v)),
    "tanh": (nn.tanh, np.tanh),
    "hard_tanh": (nn.hard_tanh, lambda v: np.clip(v, -1, 1)),
    "soft_sign": (nn.soft_sign, lambda v: v / (1 + np.abs(v))),
    "softmax": (nn.softmax, lambda v: np.exp(v) / np.exp(v).sum(-1, keepdims=True)),
    "log_softmax": (nn.log_softmax, lambda v: v - np.log(np.exp(v).sum(-1, keepdims=True))),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_matches_numpy(name):
    f, ref = REFERENCE[name]
    x = X64.reshape(1, -1)
    np.testing.assert_allclose(np.asarray(f(lnp.asarray(x))), ref(x), rtol=1e-7, atol=1e-12)
    x32 = lnp.asarray(x.astype(np.float32))
    out = f(x32)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(np.asarray(out), ref(x), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name", ["relu", "gelu_tanh", "gelu_exact", "elu", "selu",
                                  "leaky_relu", "softplus", "sigmoid", "log_sigmoid", "silu",
                                  "softmax", "log_softmax"])
def test_activation_gradients_float64(name):
    f, _ = REFERENCE[name]
    check_grads(lambda x: f(x), (X64.reshape(1, -1),), order=2 if name != "gelu_exact" else 1)


def test_kink_derivatives_follow_jax():
    g = lepton.grad(lambda x: lnp.sum(nn.relu(x)))(lnp.array([0., 1.]))
    np.testing.assert_array_equal(np.asarray(g), [0., 1.])
    g = lepton.grad(lambda x: lnp.sum(nn.relu6(x)))(lnp.array([0., 6., 3.]))
    np.testing.assert_array_equal(np.asarray(g), [0., 0., 1.])


HUGE = np.array([-1e30, -1e4, -100., 0., 100., 1e4, 1e30], np.float32)


@pytest.mark.parametrize("fn", [nn.softplus, nn.log_sigmoid, nn.sigmoid, nn.silu, nn.elu,
                                nn.selu, nn.gelu, lambda x: nn.gelu(x, approximate=False),
                                nn.softmax, nn.log_softmax, nn.logsumexp, nn.celu])
def test_huge_inputs_are_finite_in_value_and_gradient(fn):
    x = lnp.asarray(HUGE)
    y = np.asarray(fn(x))
    assert np.all(np.isfinite(y)), y
    g = np.asarray(lepton.grad(lambda v: lnp.sum(fn(v)))(x))
    assert np.all(np.isfinite(g)), g


def test_stable_values_at_extremes():
    np.testing.assert_allclose(np.asarray(nn.softplus(lnp.array([1e4, -1e4]))), [1e4, 0.])
    np.testing.assert_allclose(np.asarray(nn.log_sigmoid(lnp.array([-1e4, 1e4]))), [-1e4, 0.])
    np.testing.assert_allclose(np.asarray(nn.log_softmax(lnp.array([1e4, 0.]))), [0., -1e4])
    np.testing.assert_allclose(np.asarray(nn.softmax(lnp.array([1e4, 0.]))), [1., 0.])
    assert float(nn.gelu(lnp.array(-1e4, np.float32), approximate=False)) == 0.0
    assert float(nn.gelu(lnp.array(1e4, np.float32), approximate=False)) == 1e4


def test_logsumexp():
    a = RNG.standard_normal((3, 4)) * 10
    np.testing.assert_allclose(np.asarray(nn.logsumexp(a)), np.log(np.exp(a).sum()))
    np.testing.assert_allclose(np.asarray(nn.logsumexp(a, axis=1, keepdims=True)),
                               np.log(np.exp(a).sum(1, keepdims=True)))
    b = RNG.standard_normal((3, 4))
    out, sign = nn.logsumexp(a, axis=0, b=b, return_sign=True)
    s = (b * np.exp(a)).sum(0)
    np.testing.assert_allclose(np.asarray(out), np.log(np.abs(s)), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(sign), np.sign(s))
    # all -inf row: -inf, not nan
    assert float(nn.logsumexp(lnp.array([-np.inf, -np.inf]))) == -np.inf
    check_grads(lambda v: nn.logsumexp(v, axis=1), (a,), order=2)


def test_softmax_where_and_axis():
    x = RNG.standard_normal((2, 5))
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], bool)
    got = np.asarray(nn.softmax(x, where=mask))
    e = np.where(mask, np.exp(x), 0)
    np.testing.assert_allclose(got, e / e.sum(-1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(np.asarray(nn.softmax(x, axis=0)).sum(0), np.ones(5))


def test_one_hot_and_standardize():
    oh = nn.one_hot(lnp.array([0, 2, 5, -1]), 3)
    np.testing.assert_array_equal(np.asarray(oh), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert oh.dtype == np.float32
    assert nn.one_hot(lnp.array([[1]]), 4, axis=0).shape == (4, 1, 1)
    assert nn.one_hot(lnp.array([1]), 2, dtype=lnp.int32).dtype == np.int32
    x = RNG.standard_normal((4, 6)) * 3 + 2
    z = np.asarray(nn.standardize(x, axis=1, epsilon=0.))
    np.testing.assert_allclose(z.mean(1), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(1), 1, rtol=1e-10)
    check_grads(lambda v: nn.standardize(v, axis=-1), (x,), order=1)


def test_activations_under_jit_and_vmap():
    x = RNG.standard_normal((3, 7)).astype(np.float32)
    fns = (nn.gelu, nn.softmax, nn.log_softmax, nn.elu, nn.relu)
    want = [np.asarray(f(x)) for f in fns]
    got = lepton.jit(lambda v: [f(v) for f in fns])(x)  # one compile for all of them
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-5, atol=1e-6)
    for g, w in zip(lepton.vmap(lambda v: [f(v) for f in fns])(x), want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------- initializers
KEY = random.PRNGKey(0)


@pytest.mark.parametrize("make,scale,mode", [
    (init.glorot_normal, 1., "avg"), (init.glorot_uniform, 1., "avg"),
    (init.xavier_normal, 1., "avg"), (init.xavier_uniform, 1., "avg"),
    (init.he_normal, 2., "in"), (init.he_uniform, 2., "in"),
    (init.kaiming_normal, 2., "in"), (init.kaiming_uniform, 2., "in"),
    (init.lecun_normal, 1., "in"), (init.lecun_uniform, 1., "in")])
def test_variance_scaling_families(make, scale, mode):
    shape = (3, 3, 40, 60)  # an HWIO kernel: fan_in = 9 * 40, fan_out = 9 * 60
    w = np.asarray(make()(KEY, shape))
    assert w.shape == shape and w.dtype == np.float32
    fan_in, fan_out = 9 * 40, 9 * 60
    n = {"in": fan_in, "avg": (fan_in + fan_out) / 2}[mode]
    np.testing.assert_allclose(w.std(), math.sqrt(scale / n), rtol=0.03)
    assert abs(w.mean()) < 0.05 * w.std()
    limit = math.sqrt(3 * scale / n)
    if "uniform" in make.__name__:
        assert np.abs(w).max() <= limit
    else:  # truncated at 2 std of the untruncated normal
        assert np.abs(w).max() <= 2 * math.sqrt(scale / n) / .87962566103423978 + 1e-6
    w64 = make()(KEY, (5, 7), lnp.float64)
    assert w64.dtype == np.float64


def test_variance_scaling_modes_and_axes():
    w = np.asarray(init.variance_scaling(1., "fan_out", "normal")(KEY, (50, 400)))
    np.testing.assert_allclose(w.std(), math.sqrt(1 / 400), rtol=0.03)
    # in_axis / out_axis pick the fans: OIHW kernel (out=0, in=1)
    w = np.asarray(init.variance_scaling(1., "fan_in", "normal", in_axis=1, out_axis=0)(
        KEY, (64, 32, 3, 3)))
    np.testing.assert_allclose(w.std(), math.sqrt(1 / (32 * 9)), rtol=0.03)
    assert init.compute_fans((2, 3, 4, 5), in_axis=-2, out_axis=-1) == (24, 30)
    assert init.compute_fans((2, 3, 4), batch_axis=0) == (3, 4)
    with pytest.raises(ValueError, match="at least 2-d"):
        init.glorot_normal()(KEY, (5,))
    with pytest.raises(ValueError, match="mode"):
        init.variance_scaling(1., "fan_sum", "normal")
    with pytest.raises(ValueError, match="distribution"):
        init.variance_scaling(1., "fan_in", "cauchy")


def test_simple_initializers():
    np.testing.assert_array_equal(np.asarray(init.zeros(KEY, (2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(np.asarray(init.ones(KEY, (2,))), np.ones(2))
    c = init.constant(-7.)(KEY, (2, 2), lnp.float64)
    assert c.dtype == np.float64 and np.all(np.asarray(c) == -7)
    u = np.asarray(init.uniform(10.)(KEY, (20000,)))
    assert u.min() >= 0 and u.max() < 10 and abs(u.mean() - 5) < 0.1
    n = np.asarray(init.normal(5.)(KEY, (20000,)))
    np.testing.assert_allclose(n.std(), 5., rtol=0.03)
    t = np.asarray(init.truncated_normal(2.)(KEY, (20000,)))
    assert np.abs(t).max() <= 4. and 1.5 < t.std() < 1.8
    assert init.normal()(KEY, (3,)).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        init.normal()(KEY, (3,), lnp.int32)


@pytest.mark.parametrize("shape,col", [((6, 4), -1), ((4, 6), -1), ((3, 3, 4, 8), -1),
                                       ((5, 2, 7), 1)])
def test_orthogonal(shape, col):
    w = np.asarray(init.orthogonal(scale=2.)(KEY, shape) if col == -1 else
                   init.orthogonal(column_axis=col)(KEY, shape), np.float64)
    scale = 2. if col == -1 else 1.
    assert w.shape == shape
    cols = np.moveaxis(w, col, -1).reshape(-1, shape[col])
    if cols.shape[0] >= cols.shape[1]:
        np.testing.assert_allclose(cols.T @ cols, scale ** 2 * np.eye(cols.shape[1]), atol=1e-5)
    else:
        np.testing.assert_allclose(cols @ cols.T, scale ** 2 * np.eye(cols.shape[0]), atol=1e-5)


def test_delta_orthogonal_and_jit():
    w = np.asarray(init.delta_orthogonal()(KEY, (3, 3, 4, 4)))
    centre = w[1, 1]
    np.testing.assert_allclose(centre.T @ centre, np.eye(4), atol=1e-5)
    assert np.abs(w).sum() == pytest.approx(np.abs(centre).sum())
    a, o = lepton.jit(lambda k: (init.glorot_normal()(k, (4, 5)),
                                 init.orthogonal()(k, (4, 4))))(KEY)
    np.testing.assert_allclose(np.asarray(a), np.asarray(init.glorot_normal()(KEY, (4, 5))),
                               rtol=1e-6)
    o = np.asarray(o)
    np.testing.assert_allclose(o.T @ o, np.eye(4), atol=1e-5)


# ----------------------------------------------------------------------------- losses
def _np_log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_mse():
    p, t = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    np.testing.assert_allclose(float(losses.mse(t, p)), ((p - t) ** 2).mean())
    np.testing.assert_allclose(float(losses.mse(t, p, reduction="sum")), ((p - t) ** 2).sum())
    assert losses.mse(t, p, reduction="none").shape == (4, 3)
    check_grads(lambda a: losses.mse(t, a), (p,), order=2)
    with pytest.raises(ValueError, match="same shape"):
        losses.mse(t, p[:, :2])


def test_categorical_crossentropy_logits_and_probs():
    logits = RNG.standard_normal((5, 4)) * 3
    labels = np.eye(4)[RNG.integers(0, 4, 5)]
    want = -(labels * _np_log_softmax(logits)).sum(-1)
    np.testing.assert_allclose(np.asarray(losses.categorical_crossentropy(
        labels, logits, from_logits=True, reduction="none")), want, rtol=1e-10)
    probs = np.exp(_np_log_softmax(logits))
    np.testing.assert_allclose(float(losses.categorical_crossentropy(labels, probs)),
                               want.mean(), rtol=1e-6)
    ints = labels.argmax(-1)
    np.testing.assert_allclose(float(losses.sparse_categorical_crossentropy(
        ints, logits, from_logits=True)), want.mean(), rtol=1e-10)
    np.testing.assert_allclose(float(losses.sparse_categorical_crossentropy(ints, probs)),
                               want.mean(), rtol=1e-6)
    soft = np.abs(RNG.standard_normal((5, 4)))
    soft /= soft.sum(-1, keepdims=True)
    check_grads(lambda z: losses.categorical_crossentropy(soft, z, from_logits=True),
                (logits,), order=2)
    check_grads(lambda z: losses.sparse_categorical_crossentropy(ints, z, from_logits=True),
                (logits,), order=2)


def test_binary_crossentropy():
    x = RNG.standard_normal((6, 3)) * 3
    z = (RNG.random((6, 3)) > 0.5).astype(np.float64)
    p = _sig(x)
    want = -(z * np.log(p) + (1 - z) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(np.asarray(losses.binary_crossentropy(
        z, x, from_logits=True, reduction="none")), want, rtol=1e-9)
    np.testing.assert_allclose(float(losses.binary_crossentropy(z, p)), want.mean(), rtol=1e-6)
    check_grads(lambda v: losses.binary_crossentropy(z, v, from_logits=True), (x,), order=2)
    g = np.asarray(lepton.grad(lambda v: losses.binary_crossentropy(
        z, v, from_logits=True, reduction="sum"))(x))
    np.testing.assert_allclose(g, (p - z) / 3, rtol=1e-9)


@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_losses_finite_for_huge_logits(scale):
    logits = (RNG.standard_normal((4, 5)) * scale).astype(np.float32)
    logits[0, 0] = scale  # exact ties and huge values of either sign
    logits[0, 1] = scale
    labels = np.arange(4) % 5
    onehot = np.eye(5, dtype=np.float32)[labels]
    fns = [lambda z: losses.sparse_categorical_crossentropy(labels, z, from_logits=True),
           lambda z: losses.categorical_crossentropy(onehot, z, from_logits=True),
           lambda z: losses.binary_crossentropy(onehot, z, from_logits=True)]
    for f in fns:
        v, g = lepton.value_and_grad(f)(lnp.asarray(logits))
        assert np.isfinite(float(v)) and np.all(np.isfinite(np.asarray(g)))
    # probabilities that are exactly 0 and 1: clipped, finite
    probs = np.eye(5, dtype=np.float32)[(labels + 1) % 5]
    for f in (lambda q: losses.categorical_crossentropy(onehot, q),
              lambda q: losses.sparse_categorical_crossentropy(labels, q),
              lambda q: losses.binary_crossentropy(onehot, q)):
        v, g = lepton.value_and_grad(f)(lnp.asarray(probs))
        assert np.isfinite(float(v)) and np.all(np.isfinite(np.asarray(g)))


def test_categorical_with_neg_inf_logits():
    logits = lnp.array([[0., -np.inf, 1.]])
    labels = lnp.array([[1., 0., 0.]])
    v, g = lepton.value_and_grad(lambda z: losses.categorical_crossentropy(
        labels, z, from_logits=True))(logits)
    assert np.isfinite(float(v)) and not np.any(np.isnan(np.asarray(g)))


def test_loss_errors():
    with pytest.raises(TypeError, match="integer class indices"):
        losses.sparse_categorical_crossentropy(np.array([0.5]), np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"labels need shape \(2,\)"):
        losses.sparse_categorical_crossentropy(np.array([0, 1, 2]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        losses.sparse_categorical_crossentropy(np.array([0, 3]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="reduction"):
        losses.mse(np.zeros(2), np.zeros(2), reduction="avg")


def test_losses_under_jit_and_vmap():
    logits = RNG.standard_normal((8, 10)).astype(np.float32)
    labels = RNG.integers(0, 10, 8).astype(np.int32)
    f = lambda z, y: losses.sparse_categorical_crossentropy(y, z, from_logits=True)  # noqa
    np.testing.assert_allclose(float(lepton.jit(f)(logits, labels)), float(f(logits, labels)),
                               rtol=1e-5)
    per = lepton.vmap(lambda z, y: f(z[None], y[None]))(logits, labels)
    np.testing.assert_allclose(np.asarray(per).mean(), float(f(logits, labels)), rtol=1e-5)
    g = lepton.jit(lepton.grad(f))(logits, labels)
    np.testing.assert_allclose(np.asarray(g), np.asarray(lepton.grad(f)(logits, labels)),
                               rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------- JAX
@pytest.fixture
def jax64():
    jax = pytest.importorskip("jax")
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", old)


def test_activations_match_jax_nn(jax64):
    jnn = jax64.nn
    x = np.concatenate([X64, [-50., 0., 50.]]).reshape(2, 10)
    pairs = [("relu", {}), ("relu6", {}), ("gelu", {}), ("gelu", dict(approximate=False)),
             ("elu", {}), ("celu", {}), ("selu", {}), ("leaky_relu", {}), ("softplus", {}),
             ("sigmoid", {}), ("log_sigmoid", {}), ("silu", {}), ("hard_tanh", {}),
             ("soft_sign", {}), ("softmax", {}), ("log_softmax", dict(axis=0)),
             ("logsumexp", dict(axis=1)), ("standardize", {}), ("glu", {}), ("mish", {}),
             ("squareplus", {}), ("sparse_plus", {}), ("sparse_sigmoid", {}),
             ("identity", {}), ("hard_sigmoid", {}), ("hard_silu", {})]

    def all_of(mod, grad, v):
        return [(getattr(mod, n)(v, **kw), grad(lambda u: getattr(mod, n)(u, **kw).sum())(v))
                for n, kw in pairs]

    want = jax64.jit(lambda v: all_of(jnn, jax64.grad, v))(x)  # one compile, not op by op
    got = all_of(nn, lepton.grad, lnp.asarray(x))
    for (name, _), (v_l, g_l), (v_j, g_j) in zip(pairs, got, want):
        np.testing.assert_allclose(np.asarray(v_l), np.asarray(v_j), rtol=1e-12, atol=1e-14,
                                   err_msg=name)
        np.testing.assert_allclose(np.asarray(g_l), np.asarray(g_j), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    np.testing.assert_array_equal(np.asarray(nn.one_hot(np.array([0, 3, 1]), 3)),
                                  np.asarray(jnn.one_hot(np.array([0, 3, 1]), 3)))


def test_initializers_match_jax():
    jax = pytest.importorskip("jax")
    cases = [("glorot_uniform", ()), ("glorot_normal", ()), ("he_uniform", ()),
             ("he_normal", ()), ("lecun_uniform", ()), ("lecun_normal", ()),
             ("normal", (0.3,)), ("uniform", (2.,)), ("truncated_normal", (0.5,)),
             ("orthogonal", ())]

    def shape(name):
        return (3, 3, 4, 6) if name != "orthogonal" else (8, 5)

    want = jax.jit(lambda k: [getattr(jax.nn.initializers, n)(*a)(k, shape(n))
                              for n, a in cases])(jax.random.PRNGKey(7))
    for (name, args), w in zip(cases, want):
        got = np.asarray(getattr(init, name)(*args)(random.PRNGKey(7), shape(name)))
        assert got.dtype == np.asarray(w).dtype == np.float32
        np.testing.assert_allclose(got, np.asarray(w), rtol=2e-5, atol=2e-6, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_derivatives_at_kinks_follow_jax(dtype):
    """abs'(0) is 1 (JAX's rule, the right-hand derivative), and the functions built on
    |x| keep their true derivative at 0: logaddexp and softplus 1/2 (each side of a tie),
    the Laplace cdf its density 1/2, the logistic log-density 0."""
    from lepton.scipy.stats import laplace, logistic
    zero = np.zeros((), dtype)
    cases = [(lnp.abs, 1.0), (lepton.nn.softplus, 0.5), (lepton.nn.log_sigmoid, 0.5),
             (lambda x: lnp.logaddexp(x, zero), 0.5), (lambda x: lnp.logaddexp2(x, zero), 0.5),
             (laplace.cdf, 0.5), (logistic.logpdf, 0.0)]
    for f, want in cases:
        assert float(lepton.grad(f)(zero)) == want
        assert float(lepton.jit(lepton.grad(f))(zero)) == want
    assert float(lepton.grad(lnp.abs)(np.asarray(-2.0, dtype))) == -1.0


def test_one_hot_defaults_to_the_default_float():
    assert nn.one_hot(np.array([0, 2]), 3).dtype == np.float32
    with lepton.enable_x64():
        assert nn.one_hot(np.array([0, 2]), 3).dtype == np.float64
