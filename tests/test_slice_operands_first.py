"""An elementwise value read only through disjoint slices is computed slice by slice
(``schedule.slice_operands_first``): the slices' kernel computes it from slices of the
operands, and the full-size value is never written."""
import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.backends import schedule


def _gates(z_in, h, w, b):
    """An LSTM cell's pre-activations, read as four gate slices."""
    z = z_in + h @ w + b
    n = z.shape[1] // 4
    i, f, g, o = (z[:, k * n:(k + 1) * n] for k in range(4))
    c = lax.logistic(f) * h[:, :n] + lax.logistic(i) * lnp.tanh(g)
    return lax.logistic(o) * lnp.tanh(c)


def _args(dtype, rows=5, n=3):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((rows, 4 * n)).astype(dtype),
            rng.standard_normal((rows, 4 * n)).astype(dtype),
            rng.standard_normal((4 * n, 4 * n)).astype(dtype),
            rng.standard_normal(4 * n).astype(dtype))


def _kernels(fn, *args):
    return lepton.jit(fn, backend="cpu").source(*args).count("@njit(")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [1, 5, 1 << 17])
def test_sliced_sums_fuse_into_their_readers(dtype, rows):
    args = _args(dtype, rows)
    got = np.asarray(lepton.jit(_gates, backend="cpu")(*args))
    want = np.asarray(lepton.jit(_gates, backend="reference")(*args))
    np.testing.assert_allclose(got, want, rtol=2e-6 if dtype == np.float32 else 1e-14,
                               atol=1e-6 if dtype == np.float32 else 1e-14)
    assert _kernels(_gates, *args) == 1  # the sum z is not a kernel of its own


def test_without_the_rewrite_the_sum_is_its_own_kernel(monkeypatch):
    args = _args(np.float32)
    monkeypatch.setattr(schedule, "slice_operands_first", lambda eqns, outvars, table: eqns)
    assert _kernels(_gates, *args) == 2


@pytest.mark.parametrize("case", ["overlapping", "also_read_whole", "strided", "returned"])
def test_values_that_must_stay_whole(case):
    """Overlapping slices would compute elements twice; a value read whole, or returned,
    or sliced with a stride keeps its own kernel (and every answer stays right)."""
    x = np.arange(24.0).reshape(4, 6)
    y = np.linspace(-1, 1, 24).reshape(4, 6)

    def f(x, y):
        s = lnp.sin(x) * y
        if case == "overlapping":
            return s[:, :4] + s[:, 2:]
        if case == "also_read_whole":
            return s[:, :3] * 2, lnp.sum(s)
        if case == "strided":
            return lax.slice(s, (0, 0), (4, 6), (1, 2)) + 1
        return s, s[:, 1:] + 1

    got = lepton.jit(f, backend="cpu")(x, y)
    want = lepton.jit(f, backend="reference")(x, y)
    for a, b in zip(lepton.tree.leaves(got), lepton.tree.leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-14)


def test_gradients_through_sliced_gates():
    args = _args(np.float64)
    loss = lambda *a: lnp.sum(_gates(*a) ** 2)
    got = lepton.jit(lepton.grad(loss, argnums=(0, 1, 2, 3)), backend="cpu")(*args)
    want = lepton.jit(lepton.grad(loss, argnums=(0, 1, 2, 3)), backend="reference")(*args)
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-13)


def test_slices_read_by_products_keep_one_kernel():
    """Slices that feed host steps (matrix products) are views of one computed value: sliced
    first, each would need a kernel of its own."""
    def f(x, w1, w2):
        h = lnp.tanh(x)
        return h[:, :2] @ w1 + h[:, 2:] @ w2
    rng = np.random.default_rng(2)
    x, w1, w2 = (rng.standard_normal(s) for s in [(4, 6), (2, 2), (4, 2)])
    assert _kernels(f, x, w1, w2) == 2  # tanh, then the sum of the products
    np.testing.assert_allclose(lepton.jit(f, backend="cpu")(x, w1, w2),
                               np.tanh(x)[:, :2] @ w1 + np.tanh(x)[:, 2:] @ w2, rtol=1e-13)
