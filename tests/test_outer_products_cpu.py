"""The cpu backend's outer products and transposed batched products (issue 15: per-example
gradients).  A ``dot_general`` without contracting dimensions runs as a fused ``mul`` of
broadcast views, and ``transpose(dot_general)`` that swaps the free blocks behind the batch
dimensions is computed in the transposed layout: checked against the reference backend,
NumPy and a Python loop over examples, with the generated source pinning the lowering."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import lax, tree
from lepton.backends import schedule
from lepton.backends.cpu.lowering import LOWERINGS
from lepton.primitives import linalg as la

pytestmark = pytest.mark.usefixtures("fresh_kernel_cache")

_settings = dict(deadline=None, derandomize=True, database=None, max_examples=25,
                 suppress_health_check=list(HealthCheck))
RNG = np.random.default_rng(15)


def _driver(src: str) -> str:
    return src.split("\n\n")[0]


def _rand(shape, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return RNG.random(shape) < 0.5
    if dtype.kind in "iu":
        return RNG.integers(-50, 50, shape).astype(dtype)
    if dtype.kind == "c":
        return (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def _einsum_spec(xs, ys, dn):
    """The einsum meaning outer product ``dn`` (no contraction) of ranks ``xs``, ``ys``."""
    (_, _), (xb, yb) = dn
    letters = iter("abcdefghijklmnop")
    x = [None] * xs
    y = [None] * ys
    for i, j in zip(xb, yb):
        x[i] = y[j] = next(letters)
    for k in range(xs):
        x[k] = x[k] or next(letters)
    for k in range(ys):
        y[k] = y[k] or next(letters)
    out = [x[i] for i in xb] + [c for k, c in enumerate(x) if k not in xb] + \
          [c for k, c in enumerate(y) if k not in yb]
    return f"{''.join(x)},{''.join(y)}->{''.join(out)}"


# (lhs shape, rhs shape, dimension numbers): no contracting dimensions
OUTER_CASES = [
    ((3,), (4,), (((), ()), ((), ()))),
    ((2, 3), (4, 5), (((), ()), ((), ()))),
    ((5, 3), (5, 4), (((), ()), ((0,), (0,)))),            # per-example weight gradients
    ((3, 5), (4, 5), (((), ()), ((1,), (1,)))),            # batch axis last on both sides
    ((3, 2, 5), (2, 4), (((), ()), ((1,), (0,)))),
    ((2, 3, 4), (4, 2), (((), ()), ((0, 2), (1, 0)))),     # batch order differs
    ((), (4,), (((), ()), ((), ()))),                      # a scalar operand
    ((2, 3), (2, 3), (((), ()), ((0, 1), (0, 1)))),        # all batch: elementwise
    ((0, 3), (0, 4), (((), ()), ((0,), (0,)))),            # empty
    ((3, 0), (2,), (((), ()), ((), ()))),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32", "int8",
                                   "complex64", "bool"])
@pytest.mark.parametrize("sx,sy,dn", OUTER_CASES)
def test_outer_products_match_reference_and_numpy(sx, sy, dn, dtype):
    x, y = _rand(sx, dtype), _rand(sy, dtype)
    f = lambda a, b: la.dot_general(a, b, dn)  # noqa: E731
    got = lepton.jit(f, backend="cpu")(x, y)
    want = lepton.jit(f, backend="reference")(x, y)
    oracle = np.einsum(_einsum_spec(len(sx), len(sy), dn), x, y)
    if dtype == "complex64":  # BLAS may fuse the complex product's multiply-adds
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.asarray(got), oracle, rtol=1e-6, atol=1e-6)
    else:  # a product of two real numbers rounds the same way everywhere: bit for bit
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
        np.testing.assert_array_equal(np.asarray(got), oracle.astype(dtype))
    assert np.asarray(got).dtype == np.dtype(dtype) and np.asarray(got).flags.c_contiguous


@pytest.mark.parametrize("sx,sy,dn", OUTER_CASES[:8])
def test_outer_products_are_fused_kernels(sx, sy, dn):
    x, y = _rand(sx, np.float32), _rand(sy, np.float32)
    src = lepton.jit(lambda a, b: la.dot_general(a, b, dn), backend="cpu").source(x, y)
    assert "dot_general" not in src and "# host" not in _driver(src), src
    assert "mul" in src


def test_outer_product_fuses_with_its_reader():
    """An SGD update by one example's outer product never materialises the product."""
    w, x, g = _rand((6, 4), np.float32), _rand((6,), np.float32), _rand((4,), np.float32)
    f = lambda w, x, g: w - 0.1 * la.dot_general(x, g, (((), ()), ((), ())))  # noqa: E731
    jf = lepton.jit(f, backend="cpu")
    driver = _driver(jf.source(w, x, g))
    assert driver.count("kernel_") == 1 and "dot_general" not in driver, driver
    np.testing.assert_allclose(np.asarray(jf(w, x, g)), w - np.float32(0.1) * np.outer(x, g),
                               rtol=1e-6, atol=1e-6)


def test_preferred_element_type_outer_product_keeps_its_host_step():
    x, y = _rand((3, 2), np.int8), _rand((3, 4), np.int8)
    f = lambda a, b: lax.dot_general(a, b, (((), ()), ((0,), (0,))),  # noqa: E731
                                     preferred_element_type=np.float32)
    jf = lepton.jit(f, backend="cpu")
    assert "dot_general" in _driver(jf.source(x, y))
    np.testing.assert_array_equal(np.asarray(jf(x, y)),
                                  np.einsum("bi,bj->bij", x.astype(np.float32),
                                            y.astype(np.float32)))


@settings(**_settings)
@given(st.data())
def test_outer_products_any_batch_layout(data):
    """Random ranks, batch axes and their pairing: the cpu matches NumPy bit for bit."""
    nb = data.draw(st.integers(0, 2))
    fx, fy = data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=nb + fx + fy, max_size=nb + fx + fy))
    xb = data.draw(st.permutations(range(nb + fx)))[:nb]
    yb = data.draw(st.permutations(range(nb + fy)))[:nb]
    sx, sy = [0] * (nb + fx), [0] * (nb + fy)
    rest_x = iter(sizes[nb:nb + fx])
    rest_y = iter(sizes[nb + fx:])
    for k, (i, j) in enumerate(zip(xb, yb)):
        sx[i] = sy[j] = sizes[k]
    sx = [s if k in xb else next(rest_x) for k, s in enumerate(sx)]
    sy = [s if k in yb else next(rest_y) for k, s in enumerate(sy)]
    dn = (((), ()), (tuple(xb), tuple(yb)))
    x, y = _rand(tuple(sx), np.float64), _rand(tuple(sy), np.float64)
    got = lepton.jit(lambda a, b: la.dot_general(a, b, dn), backend="cpu")(x, y)
    np.testing.assert_array_equal(np.asarray(got),
                                  np.einsum(_einsum_spec(len(sx), len(sy), dn), x, y))


def test_transposed_batched_products_are_computed_in_the_reading_layout():
    a, b = _rand((4, 3, 5), np.float32), _rand((4, 5, 2), np.float32)
    dn = (((2,), (1,)), ((0,), (0,)))
    f = lambda a, b: lnp.transpose(la.dot_general(a, b, dn), (0, 2, 1))  # noqa: E731
    jf = lepton.jit(f, backend="cpu")
    driver = _driver(jf.source(a, b))
    assert "transpose" not in driver and "dot_general(b, a)" in driver, driver
    got = np.asarray(jf(a, b))
    assert got.flags.c_contiguous
    np.testing.assert_allclose(got, np.einsum("bik,bkj->bji", a, b), rtol=1e-5, atol=1e-5)
    # another permutation is not a swap of the free blocks: it stays a transpose
    g = lambda a, b: lnp.transpose(la.dot_general(a, b, dn), (1, 0, 2))  # noqa: E731
    assert "dot_general(a, b)" in _driver(lepton.jit(g, backend="cpu").source(a, b))
    np.testing.assert_allclose(np.asarray(lepton.jit(g, backend="cpu")(a, b)),
                               np.einsum("bik,bkj->ibj", a, b), rtol=1e-5, atol=1e-5)


def test_expansion_declines_where_the_device_cannot_fuse_mul():
    x, y = _rand((5, 3), np.float32), _rand((5, 4), np.float32)
    closed = lepton.make_jaxpr(
        lambda a, b: la.dot_general(a, b, (((), ()), ((0,), (0,)))))(x, y)
    eqns = closed.jaxpr.eqns
    no_mul = type(LOWERINGS)({k: v for k, v in LOWERINGS.rows.items() if k != "mul"})
    assert schedule.expand_outer_products(eqns, no_mul) == eqns
    names = [e.prim.name for e in schedule.expand_outer_products(eqns, LOWERINGS)]
    assert names == ["broadcast_in_dim", "broadcast_in_dim", "mul"]


# ----------------------------------------------------------------------------- vmap(grad)
def _mlp_loss(params, x, y):
    for w, b in params[:-1]:
        x = lnp.maximum(x @ w + b, 0.0)
    w, b = params[-1]
    logits = x @ w + b
    return -lnp.sum(y * (logits - lnp.log(lnp.sum(lnp.exp(logits)))))


def _mlp(dtype):
    sizes = [(7, 5), (5, 3)]
    return [(_rand((m, n), dtype) * 0.5, _rand((n,), dtype) * 0.1) for m, n in sizes]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_example_grads_run_as_kernels_and_match_a_loop(dtype):
    params, xs = _mlp(dtype), _rand((6, 7), dtype)
    ys = np.eye(3, dtype=dtype)[RNG.integers(0, 3, 6)]
    per_ex = lepton.vmap(lepton.grad(_mlp_loss), in_axes=(None, 0, 0))
    jf = lepton.jit(per_ex, backend="cpu")
    driver = _driver(jf.source(params, xs, ys))
    # the forward and backward products through the shared weights are single GEMMs; the
    # per-example weight gradients (batched outer products) are kernels, not host steps
    assert "# host: NumPy impl" not in driver and "transpose" not in driver, driver
    assert driver.count("# host: BLAS") == 3, driver
    got = jf(params, xs, ys)
    want = lepton.jit(per_ex, backend="reference")(params, xs, ys)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for g, w in zip(tree.leaves(got), tree.leaves(want)):
        assert np.asarray(g).flags.c_contiguous and np.asarray(g).dtype == dtype
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=rtol)
    for i in range(xs.shape[0]):
        one = lepton.grad(_mlp_loss)(params, xs[i], ys[i])
        for g, w in zip(tree.leaves(got), tree.leaves(one)):
            np.testing.assert_allclose(np.asarray(g)[i], np.asarray(w), rtol=rtol, atol=rtol)


# ----------------------------------------------------------------------------- summed
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("sx,sy,dn,axes,spec", [
    ((5, 3), (5, 4), (((), ()), ((0,), (0,))), (0,), "bi,bj->ij"),
    ((2, 5, 3), (5, 2, 4), (((), ()), ((0, 1), (1, 0))), (1,), "cbi,bcj->cij"),
    ((2, 5, 3), (5, 2, 4), (((), ()), ((0, 1), (1, 0))), (0, 1), "cbi,bcj->ij"),
    ((0, 3), (0, 4), (((), ()), ((0,), (0,))), (0,), "bi,bj->ij"),
])
def test_sums_over_batch_of_outer_products_are_contractions(sx, sy, dn, axes, spec, dtype):
    x, y = _rand(sx, dtype), _rand(sy, dtype)
    f = lambda a, b: lnp.sum(la.dot_general(a, b, dn), axis=axes)  # noqa: E731
    jf = lepton.jit(f, backend="cpu")
    driver = _driver(jf.source(x, y))
    assert driver.count("dot_general") == 1 and "kernel_" not in driver, driver
    got = np.asarray(jf(x, y))
    want = np.einsum(spec, x, y)
    assert got.dtype == want.dtype and got.shape == want.shape
    if np.dtype(dtype).kind == "i":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, np.asarray(lepton.jit(f, backend="reference")(x, y)),
                               rtol=1e-5, atol=1e-5)


def test_sums_that_are_not_over_batch_alone_stay_kernels():
    x, y = _rand((5, 3), np.float32), _rand((5, 4), np.float32)
    dn = (((), ()), ((0,), (0,)))
    over_free = lambda a, b: lnp.sum(la.dot_general(a, b, dn), axis=(0, 1))  # noqa: E731

    def shared(a, b):  # the product is an output too: it is computed once, by a kernel
        c = la.dot_general(a, b, dn)
        return lnp.sum(c, axis=0), c
    for f, spec in ((over_free, ["bi,bj->j"]), (shared, ["bi,bj->ij", "bi,bj->bij"])):
        jf = lepton.jit(f, backend="cpu")
        assert "dot_general" not in _driver(jf.source(x, y))
        for g, s in zip(tree.leaves(jf(x, y)), spec):
            np.testing.assert_allclose(np.asarray(g), np.einsum(s, x, y), rtol=1e-5, atol=1e-5)


def test_mean_of_per_example_grads_is_the_batch_gradient_by_blas():
    params, xs = _mlp(np.float32), _rand((6, 7), np.float32)
    ys = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, 6)]
    per_ex = lepton.vmap(lepton.grad(_mlp_loss), in_axes=(None, 0, 0))
    mean = lambda p, x, y: tree.map(lambda g: lnp.mean(g, axis=0), per_ex(p, x, y))  # noqa
    jf = lepton.jit(mean, backend="cpu")
    driver = _driver(jf.source(params, xs, ys))
    # three products forward and back, two weight gradients: no (batch, m, n) kernel
    assert driver.count("# host: BLAS") == 5 and "# host: NumPy" not in driver, driver
    assert "(6, 7, 5)" not in jf.source(params, xs, ys)
    got = jf(params, xs, ys)
    batch = lepton.grad(lambda p: _batch_loss(p, xs, ys) / xs.shape[0])(params)
    for g, w in zip(tree.leaves(got), tree.leaves(batch)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-5)


def _batch_loss(params, xs, ys):
    return lnp.sum(lepton.vmap(_mlp_loss, in_axes=(None, 0, 0))(params, xs, ys))


def test_outer_product_of_an_operand_with_itself_and_with_a_constant():
    x = _rand((4, 3), np.float64)
    c = _rand((4, 2), np.float64)
    dn = (((), ()), ((0,), (0,)))
    f = lambda a: (la.dot_general(a, a, dn), la.dot_general(a, lnp.asarray(c), dn))  # noqa
    jf = lepton.jit(f, backend="cpu")
    assert "dot_general" not in jf.source(x)
    got = jf(x)
    np.testing.assert_array_equal(np.asarray(got[0]), np.einsum("bi,bj->bij", x, x))
    np.testing.assert_array_equal(np.asarray(got[1]), np.einsum("bi,bj->bij", x, c))


def test_outer_product_zeros_keep_their_sign_on_every_backend():
    """0 * -1 is -0: the reference multiplies (BLAS adds the product to +0 and gave +0,
    where the compiled kernel gave -0; found by the op table's tiered test)."""
    x = np.array([1.0, 0.0, -0.0], np.float32)
    y = np.array([[-1.0, 2.0], [0.0, -3.0]], np.float32)
    f = lambda x, y: lnp.einsum("j...,...->...j", x, y)  # noqa: E731
    want = x[:, None, None] * y[None]
    for backend in ("reference", "cpu"):
        got = np.asarray(lepton.jit(f, backend=backend)(x, y))
        np.testing.assert_array_equal(got, np.moveaxis(want, 0, -1))
        np.testing.assert_array_equal(np.signbit(got), np.signbit(np.moveaxis(want, 0, -1)))
