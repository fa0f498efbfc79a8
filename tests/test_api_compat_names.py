"""Top-level, nn and scipy.special names added for JAX compatibility that the op table
does not cover: device_get, typeof, float0, named_scope/named_call, logmeanexp's where,
the edge values of rel_entr / kl_div, factorial's exact flag."""
import numpy as np
import pytest

import lepton
import lepton.nn as nn
import lepton.numpy as lnp
import lepton.scipy.special as lss


def test_device_get_typeof_float0():
    tree = {"a": lnp.ones(2), "b": [lnp.zeros((1, 2), lnp.int32), 3]}
    out = lepton.device_get(tree)
    assert type(out["a"]) is np.ndarray and out["b"][1] == 3
    assert out["b"][0].dtype == np.int32
    t = lepton.typeof(lnp.ones((2, 3)))
    assert t.shape == (2, 3) and t.dtype == np.float32
    _, pull = lepton.vjp(lambda x, n: x * n, 1.0, 3)
    assert pull(1.0)[1].dtype == lepton.float0  # an int input's cotangent
    assert lepton.float0.itemsize == 0


def test_named_scope_and_named_call_are_transparent():
    def f(x):
        with lepton.named_scope("block"):
            return lnp.sin(x) * 2

    g = lepton.jit(lepton.named_call(f, name="f"))
    np.testing.assert_allclose(float(g(0.5)), 2 * np.sin(0.5), rtol=1e-6)
    with pytest.raises(TypeError, match="str"):
        with lepton.named_scope(3):
            pass


def test_logmeanexp_where_and_log1mexp_edges():
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 5.0, 0.0]])
    w = np.array([[True, False, True], [True, True, True]])
    got = np.asarray(nn.logmeanexp(x, axis=1, where=w))
    np.testing.assert_allclose(got, [np.log(np.mean(np.exp([1.0, 3.0]))),
                                     np.log(np.mean(np.exp(x[1])))], rtol=1e-6)
    assert float(nn.log1mexp(0.0)) == -np.inf
    np.testing.assert_allclose(float(nn.log1mexp(1e-8)), np.log(1e-8), rtol=1e-6)
    g = lepton.grad(lambda v: nn.logmeanexp(v))(lnp.array([0.0, np.log(3.0)]))
    np.testing.assert_allclose(np.asarray(g), [0.25, 0.75], rtol=1e-6)


def test_entropy_edges_and_factorial():
    p = np.array([0.0, 0.0, 1.0, 2.0, -1.0, 1.0])
    q = np.array([0.0, 1.0, 2.0, 0.0, 1.0, -1.0])
    np.testing.assert_array_equal(np.asarray(lss.rel_entr(p, q)),
                                  [0, 0, np.log(0.5), np.inf, np.inf, np.inf])
    np.testing.assert_allclose(np.asarray(lss.kl_div(p, q)),
                               [0, 1, np.log(0.5) + 1, np.inf, np.inf, np.inf])
    np.testing.assert_allclose(np.asarray(lss.factorial(np.array([0.0, 4.0, -2.0]))),
                               [1, 24, 0], rtol=1e-6)
    with pytest.raises(NotImplementedError, match="exact"):
        lss.factorial(3, exact=True)


def test_misc_flatten_and_optimizers_follow_autograd():
    from lepton.misc import flatten, flatten_func
    from lepton.misc.optimizers import adam, rmsprop, sgd
    value = {"b": lnp.ones(2), "a": (lnp.zeros((1, 2)), 3.0)}
    flat, unflatten = flatten(value)
    np.testing.assert_array_equal(np.asarray(flat), [0, 0, 3, 1, 1])  # sorted dict keys
    back = unflatten(flat * 2)
    np.testing.assert_array_equal(np.asarray(back["b"]), [2, 2])
    assert back["a"][0].shape == (1, 2)
    f, unf, ex = flatten_func(lambda t: {"s": t["b"] * 2}, value)
    np.testing.assert_array_equal(np.asarray(f(ex)), [2, 2])

    def loss(p):
        return lnp.sum((p["w"] - 3.0) ** 2) + (p["b"] + 1.0) ** 2

    g = lepton.grad(loss)
    seen = []
    for opt, kw in [(adam, dict(num_iters=1500, step_size=0.05)),
                    (sgd, dict(num_iters=300, step_size=0.5)),
                    (rmsprop, dict(num_iters=600, step_size=0.01))]:
        out = opt(lambda p, i: g(p), {"w": lnp.zeros(3), "b": 0.0},
                  callback=lambda p, i, gr: seen.append(i), **kw)
        np.testing.assert_allclose(np.asarray(out["w"]), 3.0, atol=2e-2)
        np.testing.assert_allclose(float(out["b"]), -1.0, atol=2e-2)
    assert seen[:3] == [0, 1, 2]
