"""A scan's backward body rebuilds cheap residuals (``control_flow/remat.py``) instead of
reading them from per-step stacks: fewer stacked arrays, bit-identical gradients."""
import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.control_flow import remat
from lepton.test_util import check_grads


def _lstm_loss():
    """A fresh LSTM-like loss (a new body each call, so no split is memoised)."""
    def loss(w, xs):
        def cell(carry, x):
            h, c = carry
            z = x + h @ w
            i, f, g = z[:, :3], z[:, 3:6], z[:, 6:]
            c = lax.logistic(f) * c + lax.logistic(i) * lnp.tanh(g)
            h = lnp.tanh(c)
            return (h, c), h
        h0 = lnp.zeros((xs.shape[1], 3), xs.dtype)
        (h, _), hs = lax.scan(cell, (h0, h0), xs)
        return lnp.sum(h * h) + lnp.sum(hs)
    return loss


def _stacked_residuals(loss, *args):
    """How many per-step arrays the forward scan of ``grad(loss)`` stacks."""
    jaxpr = lepton.make_jaxpr(lepton.grad(loss))(*args).jaxpr
    fwd = next(e for e in jaxpr.eqns if e.prim.name == "scan")
    length = fwd.params["length"]
    return sum(1 for v in fwd.outvars[fwd.params["num_carry"]:]
               if v.aval.shape[:1] == (length,))


def _data(dtype=np.float64):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((3, 9)).astype(dtype) * 0.5,
            rng.standard_normal((7, 4, 9)).astype(dtype))


def test_derivative_factors_are_rebuilt_not_stacked(monkeypatch):
    w, xs = _data()
    rebuilt = _stacked_residuals(_lstm_loss(), w, xs)
    monkeypatch.setattr(remat, "CHEAP", frozenset())
    stored = _stacked_residuals(_lstm_loss(), w, xs)
    # sigmoid'(f), sigmoid'(i), tanh'(g): each a multiply or two away from a value the
    # backward pass keeps anyway (tanh'(c) = 1 - h^2 is stored: h itself is not kept).
    assert stored - rebuilt == 3, (stored, rebuilt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("jit", [False, True])
def test_gradients_are_bit_identical_to_stored_residuals(monkeypatch, dtype, jit):
    w, xs = _data(dtype)
    wrap = lepton.jit if jit else (lambda f: f)
    got = wrap(lepton.grad(_lstm_loss(), argnums=(0, 1)))(w, xs)
    monkeypatch.setattr(remat, "CHEAP", frozenset())
    want = wrap(lepton.grad(_lstm_loss(), argnums=(0, 1)))(w, xs)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_second_order_and_vmap_through_rebuilt_residuals():
    w, xs = _data()
    loss = _lstm_loss()
    check_grads(loss, (w, xs), order=2, modes=("rev",))
    per_seq = lepton.vmap(lepton.grad(loss), in_axes=(None, 1))(w, xs[:, :, None])
    for k in range(xs.shape[1]):
        np.testing.assert_allclose(per_seq[k], lepton.grad(loss)(w, xs[:, k:k + 1]),
                                   rtol=1e-12, atol=1e-12)


def test_a_rebuild_may_read_another_rebuilt_residual(monkeypatch):
    """``b = a * a`` and ``d = b + 1`` are both stored residuals and both cheap: ``d``'s
    rebuild reads ``b``'s."""
    def make():
        def loss(w, xs):
            def body(h, x):
                a = lnp.sin(h * w + x)
                b = a * a
                d = b + 1.0
                return lnp.sin(a) * b + lnp.cos(a) * d, None
            h, _ = lax.scan(body, np.ones(2), xs)
            return lnp.sum(h)
        return loss
    w, xs = np.array([0.3, -0.7]), np.random.default_rng(1).standard_normal((5, 2))
    rebuilt = _stacked_residuals(make(), w, xs)
    check_grads(make(), (w, xs), order=2, modes=("rev",))
    got = lepton.jit(lepton.grad(make()))(w, xs)
    monkeypatch.setattr(remat, "CHEAP", frozenset())
    assert _stacked_residuals(make(), w, xs) - rebuilt == 2
    np.testing.assert_array_equal(got, lepton.jit(lepton.grad(make()))(w, xs))
