"""lax additions for JAX programs: reduce_window in JAX's form, Precision, *_in_dim, conv
shape helpers, top_k, associative_scan, custom_linear_solve, custom_root, jac* chunk_size.

Values are checked against NumPy or closed forms; tests marked ``jax`` compare with an
installed JAX and are skipped without it."""
import functools

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax, test_util
from lepton.errors import ShapeError


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.fixture(autouse=True)
def _reset_jax_x64():
    yield
    import sys
    if "jax" in sys.modules:
        sys.modules["jax"].config.update("jax_enable_x64", False)


# ----------------------------------------------------------------------------- reduce_window
def _cnn(params, x):
    """A JAX-style CNN: conv, relu, max pool and average pool written with reduce_window."""
    w1, w2, wd = params
    dn = lax.conv_dimension_numbers(x.shape, w1.shape, ("NHWC", "HWIO", "NHWC"))
    y = lax.conv_general_dilated(x, w1, (1, 1), "SAME", dimension_numbers=dn,
                                 precision=lax.Precision.HIGHEST)
    y = lnp.maximum(y, 0)
    y = lax.reduce_window(y, -lnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    y = lax.conv_general_dilated(y, w2, (1, 1), "SAME", dimension_numbers=dn)
    y = lax.reduce_window(y, 0., lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "SAME") / 4.
    return lnp.tanh(y.reshape((y.shape[0], -1)) @ wd)


def _cnn_params(dtype=np.float64):
    rng = np.random.default_rng(0)
    return (rng.normal(size=(3, 3, 2, 4)).astype(dtype) * 0.5,
            rng.normal(size=(3, 3, 4, 3)).astype(dtype) * 0.5,
            rng.normal(size=(12, 2)).astype(dtype) * 0.5)


def test_jax_style_cnn_pools_under_grad_and_jit():
    params = _cnn_params()
    x = np.random.default_rng(1).normal(size=(2, 8, 6, 2))
    loss = lambda p, x: lnp.sum(_cnn(p, x) ** 2)  # noqa: E731
    g = lepton.grad(loss)(params, x)
    gj = lepton.jit(lepton.grad(loss))(params, x)
    for a, b in zip(g, gj):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)
    test_util.check_grads(lambda *p: loss(p, x), params, order=1, modes=("rev",))
    # The string spellings are the same computation.
    y = np.random.default_rng(2).normal(size=(1, 6, 6, 2))
    np.testing.assert_array_equal(
        np.asarray(lax.reduce_window(y, -np.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME")),
        np.asarray(lax.reduce_window(y, -np.inf, "max", (1, 3, 3, 1), (1, 2, 2, 1), "SAME")))


def test_reduce_window_values_and_init_folding():
    x = np.arange(10.)
    np.testing.assert_array_equal(lax.reduce_window(x, 1., lax.mul, (2,)), x[:-1] * x[1:])
    np.testing.assert_array_equal(lax.reduce_window(x, 0., lax.add, (3,), (2,)),
                                  [3., 9., 15., 21.])
    # A non-identity init enters every window once (XLA's semantics).
    np.testing.assert_array_equal(lax.reduce_window(x, 5., lax.max, (2,)),
                                  np.maximum(np.maximum(x[:-1], x[1:]), 5.))
    np.testing.assert_array_equal(lax.reduce_window(x, 100., lax.min, (3,), (3,), "VALID"),
                                  [0., 3., 6.])
    xi = np.arange(6, dtype=np.int32)
    out = lax.reduce_window(xi, np.iinfo(np.int32).min, lax.max, (2,), (2,), "VALID")
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [1, 3, 5])


def test_reduce_window_dilations():
    x = np.arange(1., 8.)
    # window dilation 2: windows {0, 2}, {1, 3}, ...
    np.testing.assert_array_equal(
        lax.reduce_window(x, 0., lax.add, (2,), (1,), "VALID", window_dilation=(2,)),
        x[:-2] + x[2:])
    # base dilation 2: [1, _, 2, _, 3]; holes and padding are in no window and the init
    # value enters each window once (XLA's semantics, as JAX)
    np.testing.assert_array_equal(
        lax.reduce_window(x[:3], 0.5, lax.add, (2,), (1,), "VALID", base_dilation=(2,)),
        [1.5, 2.5, 2.5, 3.5])
    np.testing.assert_array_equal(
        lax.reduce_window(x[:3], 0.5, lax.add, (2,), (1,), ((1, 1),)), [1.5, 3.5, 5.5, 3.5])
    np.testing.assert_array_equal(
        lax.reduce_window(x[:3], 2., lax.mul, (2,), (1,), ((1, 1),), base_dilation=(2,)),
        [2., 2., 4., 4., 6., 6.])


def test_reduce_window_errors():
    with pytest.raises(ValueError, match="computation must be"):
        lax.reduce_window(np.ones(3), 0., "prod", (2,))
    with pytest.raises(TypeError, match="binary function"):
        lax.reduce_window(np.ones(3), 0., 3, (2,))
    with pytest.raises(ValueError, match="one entry per axis"):
        lax.reduce_window(np.ones((3, 3)), 0., lax.add, (2,))
    with pytest.raises(ValueError, match="window_dilation"):
        lax.reduce_window(np.ones(3), 0., lax.add, (2,), window_dilation=(0,))


@pytest.mark.parametrize("comp", ["add", "max", "min", "mul"])
@pytest.mark.parametrize("padding", ["VALID", "SAME", ((1, 0), (0, 2))])
def test_reduce_window_matches_jax(comp, padding):
    jax = _jax()
    x = np.random.default_rng(3).normal(size=(5, 6))
    init = {"add": 0.5, "max": -np.inf, "min": np.inf, "mul": 1.}[comp]
    kw = dict(base_dilation=(1, 2), window_dilation=(2, 1))
    want = jax.lax.reduce_window(x, init, getattr(jax.lax, comp), (2, 3), (1, 2), padding,
                                 **kw)
    got = lax.reduce_window(x, init, getattr(lax, comp), (2, 3), (1, 2), padding, **kw)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12)


# ----------------------------------------------------------------------------- Precision
def test_precision_is_accepted_and_ignored():
    P = lax.Precision
    assert P("highest") is P.HIGHEST and P("float32") is P.HIGHEST
    assert P("bfloat16") is P.DEFAULT and P("tensorfloat32") is P.HIGH
    a, b = np.random.default_rng(0).normal(size=(2, 3, 4)), np.ones((4, 5))
    want = a @ b
    for prec in (None, P.HIGH, "highest", (P.DEFAULT, P.HIGHEST)):
        np.testing.assert_allclose(lnp.matmul(a, b, precision=prec), want)
        np.testing.assert_allclose(
            lax.dot_general(a, b, (((2,), (0,)), ((), ())), precision=prec), want)
    np.testing.assert_allclose(lax.dot(a[0], b, precision=P.HIGHEST), want[0])
    with pytest.raises(ValueError, match="precision"):
        lax.dot_general(a, b, (((2,), (0,)), ((), ())), precision="fast")
    with pytest.raises(TypeError, match="lax.dot"):
        lax.dot(a, b)


# ----------------------------------------------------------------------------- *_in_dim
def test_in_dim_helpers():
    x = np.arange(24.).reshape(2, 3, 4)
    np.testing.assert_array_equal(lax.slice_in_dim(x, 1, None, axis=2), x[:, :, 1:])
    np.testing.assert_array_equal(lax.slice_in_dim(x, -2, -1, axis=-1), x[..., -2:-1])
    np.testing.assert_array_equal(lax.index_in_dim(x, -1, 1), x[:, -1:])
    np.testing.assert_array_equal(lax.index_in_dim(x, 2, 1, keepdims=False), x[:, 2])
    with pytest.raises(IndexError, match="out of bounds"):
        lax.index_in_dim(x, 3, 1)

    @lepton.jit
    def f(x, i):
        return (lax.dynamic_slice_in_dim(x, i, 2, axis=2),
                lax.dynamic_index_in_dim(x, i, 1, keepdims=False),
                lax.dynamic_update_slice_in_dim(x, -np.ones((2, 3, 1)), i, axis=2),
                lax.dynamic_update_index_in_dim(x, np.zeros((2, 4)), i, 1))

    a, b, c, d = f(x, 1)
    np.testing.assert_array_equal(a, x[:, :, 1:3])
    np.testing.assert_array_equal(b, x[:, 1])
    want = x.copy()
    want[:, :, 1] = -1
    np.testing.assert_array_equal(c, want)
    want = x.copy()
    want[:, 1] = 0
    np.testing.assert_array_equal(d, want)
    np.testing.assert_array_equal(f(x, 7)[0], x[:, :, 2:4])  # clamped, as dynamic_slice


# ----------------------------------------------------------------------------- conv shapes
@pytest.mark.parametrize("dn", [None, ("NHWC", "HWIO", "NHWC"), ("NCHW", "OIHW", "NHWC")])
@pytest.mark.parametrize("padding", ["SAME", "VALID", ((1, 2), (0, 0))])
def test_conv_general_shape_tuple_matches_conv(dn, padding):
    if dn is None or dn[0] == "NCHW":
        lhs_shape, rhs_shape = (2, 3, 7, 6), (5, 3, 3, 2)
    else:
        lhs_shape, rhs_shape = (2, 7, 6, 3), (3, 2, 3, 5)
    shape = lax.conv_general_shape_tuple(lhs_shape, rhs_shape, (2, 1), padding, dn)
    out = lax.conv_general_dilated(np.ones(lhs_shape), np.ones(rhs_shape), (2, 1), padding,
                                   dimension_numbers=dn)
    assert shape == out.shape and all(type(s) is int for s in shape)
    cdn = lax.conv_dimension_numbers(lhs_shape, rhs_shape, dn)
    assert isinstance(cdn, lax.ConvDimensionNumbers)
    if dn is None:
        return  # JAX's conv_general_shape_tuple needs explicit dimension numbers
    jax = _jax()
    assert shape == tuple(int(s) for s in jax.lax.conv_general_shape_tuple(
        lhs_shape, rhs_shape, (2, 1), padding, dn))
    assert tuple(map(tuple, cdn)) == tuple(map(tuple, jax.lax.conv_dimension_numbers(
        lhs_shape, rhs_shape, dn)))


def test_conv_dimension_numbers_keeps_the_layout_string_form():
    assert lax.conv_dimension_numbers("NHWC", "HWIO", "NHWC") == ((0, 3, 1, 2), (3, 2, 0, 1),
                                                                  (0, 3, 1, 2))


# ----------------------------------------------------------------------------- top_k
def test_top_k_values_indices_ties_and_grad():
    x = np.array([[1., 3., 3., -1., 2.], [0., 0., 5., 5., 5.]])
    v, i = lax.top_k(x, 3)
    np.testing.assert_array_equal(v, [[3., 3., 2.], [5., 5., 5.]])
    np.testing.assert_array_equal(i, [[1, 2, 4], [2, 3, 4]])
    assert i.dtype == np.int32
    g = lepton.grad(lambda x: lnp.sum(lax.top_k(x, 2)[0] * np.array([1., 10.])))(x)
    np.testing.assert_array_equal(g, [[0, 1, 10, 0, 0], [0, 0, 1, 10, 0]])
    vj, ij = lepton.jit(lambda x: lax.top_k(x, 3))(x)
    np.testing.assert_array_equal(vj, v)
    np.testing.assert_array_equal(ij, i)
    vv, iv = lepton.vmap(lambda r: lax.top_k(r, 3))(x)
    np.testing.assert_array_equal(iv, i)
    with pytest.raises(ValueError, match="k=6"):
        lax.top_k(x, 6)
    with pytest.raises(TypeError, match="at least one axis"):
        lax.top_k(np.float32(1), 1)


def test_top_k_matches_jax():
    jax = _jax()
    x = np.round(np.random.default_rng(4).normal(size=(3, 4, 9)), 1)
    for k in (0, 1, 5, 9):
        v, i = lax.top_k(x, k)
        jv, ji = jax.lax.top_k(x, k)
        np.testing.assert_array_equal(v, jv)
        np.testing.assert_array_equal(i, ji)


# ----------------------------------------------------------------------------- associative_scan
def _linrec_fn(e1, e2):
    return {"a": e1["a"] * e2["a"], "b": e2["a"] * e1["b"] + e2["b"]}


def test_associative_scan_pytree_recurrence_grad_jit_vmap():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(-1, 1, (11, 3)), rng.normal(size=(11, 3))

    def scanned(a, b):
        return lax.associative_scan(_linrec_fn, {"a": a, "b": b})["b"]

    def loop(a, b):
        h, out = lnp.zeros(3), []
        for t in range(a.shape[0]):
            h = a[t] * h + b[t]
            out.append(h)
        return lnp.stack(out)

    np.testing.assert_allclose(scanned(a, b), loop(a, b), rtol=1e-12)
    np.testing.assert_allclose(lepton.jit(scanned)(a, b), loop(a, b), rtol=1e-12)
    for x, y in zip(lepton.grad(lambda a, b: lnp.sum(scanned(a, b) ** 2), (0, 1))(a, b),
                    lepton.grad(lambda a, b: lnp.sum(loop(a, b) ** 2), (0, 1))(a, b)):
        np.testing.assert_allclose(x, y, rtol=1e-10)
    test_util.check_grads(scanned, (a, b), order=2, modes=("fwd", "rev"))
    batched = lepton.vmap(scanned, in_axes=1, out_axes=1)(a, b)
    np.testing.assert_allclose(batched, loop(a, b), rtol=1e-12)


def test_associative_scan_axis_reverse_and_errors():
    x = np.random.default_rng(6).normal(size=(2, 7, 3))
    np.testing.assert_allclose(lax.associative_scan(lax.add, x, axis=1), np.cumsum(x, 1))
    np.testing.assert_allclose(lax.associative_scan(lax.max, x, reverse=True, axis=-1),
                               np.maximum.accumulate(x[..., ::-1], -1)[..., ::-1])
    assert lax.associative_scan(lax.add, np.zeros((0, 2))).shape == (0, 2)
    with pytest.raises(ShapeError, match="same length"):
        lax.associative_scan(lambda a, b: a, (np.ones(3), np.ones(4)))
    with pytest.raises(TypeError, match="structure"):
        lax.associative_scan(lambda a, b: a[0], (np.ones(3), np.ones(3)))


def test_associative_scan_matches_jax():
    jax = _jax()
    x = np.random.default_rng(7).normal(size=(13, 2))
    fn = lambda a, b: (a[0] * b[0], b[0] * a[1] + b[1])  # noqa: E731
    for rev in (False, True):
        want = jax.lax.associative_scan(fn, (np.tanh(x), x), reverse=rev)
        got = lax.associative_scan(fn, (np.tanh(x), x), reverse=rev)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12)


# ----------------------------------------------------------------------------- solves
def _cg(matvec, b, iters=None):
    """Conjugate gradients in a while_loop (not differentiable in reverse mode itself)."""
    def cond(c):
        return (c[3] < 50) & (lnp.sum(c[1] ** 2) > 1e-26)

    def body(c):
        x, r, p, i = c
        ap = matvec(p)
        alpha = (r @ r) / (p @ ap)
        x, r_new = x + alpha * p, r - alpha * ap
        return x, r_new, r_new + ((r_new @ r_new) / (r @ r)) * p, i + 1

    return lax.while_loop(cond, body, (lnp.zeros_like(b), b, b, 0))[0]


def _spd(n=4, seed=8):
    m = np.random.default_rng(seed).normal(size=(n, n))
    return m @ m.T + n * np.eye(n), np.random.default_rng(seed + 1).normal(size=n)


def test_custom_linear_solve_cg_gradients_reach_captured_matrix():
    a, b = _spd()

    def f(a, b):
        a = (a + a.T) / 2
        x = lax.custom_linear_solve(lambda v: a @ v, b, _cg, symmetric=True)
        return lnp.sum(x ** 3)

    def ref(a, b):
        return lnp.sum(lnp.linalg.solve((a + a.T) / 2, b) ** 3)

    np.testing.assert_allclose(f(a, b), ref(a, b), rtol=1e-9)
    for g, w in zip(lepton.grad(f, (0, 1))(a, b), lepton.grad(ref, (0, 1))(a, b)):
        np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-10)
    for g, w in zip(lepton.jit(lepton.grad(f, (0, 1)))(a, b), lepton.grad(ref, (0, 1))(a, b)):
        np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-10)
    bs = np.stack([b, 2 * b, -b])
    np.testing.assert_allclose(lepton.vmap(lambda b: f(a, b))(bs),
                               [float(ref(a, bb)) for bb in bs], rtol=1e-9)


def test_custom_linear_solve_forward_mode_and_transpose_solve():
    a = np.array([[3., 1., 0.], [0.5, 2., 0.2], [0., 0.3, 1.5]])
    b = np.array([1., -2., 0.5])

    def solve(mv, r):
        return lnp.linalg.solve(a, r)

    def tsolve(vm, r):
        return lnp.linalg.solve(a.T, r)

    def f(b):
        return lax.custom_linear_solve(lambda v: a @ v, b, solve, tsolve)

    def f_fwd_only(b):
        return lax.custom_linear_solve(lambda v: a @ v, b, solve)

    want = np.linalg.inv(a)
    np.testing.assert_allclose(lepton.jacrev(f)(b), want, rtol=1e-12)
    np.testing.assert_allclose(lepton.jacfwd(f)(b), want, rtol=1e-12)
    np.testing.assert_allclose(lepton.jacfwd(f_fwd_only)(b), want, rtol=1e-12)
    np.testing.assert_allclose(lepton.jacrev(f_fwd_only)(b), want, rtol=1e-12)


def test_custom_linear_solve_pytree_has_aux_and_errors():
    d = {"u": np.array([2., 4.]), "w": np.array(5.)}
    b = {"u": np.array([1., 2.]), "w": np.array(10.)}

    def matvec(v):
        return {"u": d["u"] * v["u"], "w": d["w"] * v["w"]}

    def solve(mv, r):
        return {"u": r["u"] / d["u"], "w": r["w"] / d["w"]}, lnp.array(7)

    x, aux = lax.custom_linear_solve(matvec, b, solve, symmetric=True, has_aux=True)
    np.testing.assert_allclose(x["u"], [0.5, 0.5])
    np.testing.assert_allclose(x["w"], 2.)
    assert int(aux) == 7
    g = lepton.grad(lambda b: lax.custom_linear_solve(matvec, b, solve, symmetric=True,
                                                      has_aux=True)[0]["w"])(b)
    np.testing.assert_allclose(g["w"], 0.2)
    np.testing.assert_allclose(g["u"], [0., 0.])
    with pytest.raises(ShapeError, match="matvec"):
        lax.custom_linear_solve(lambda v: v[:1], np.ones(2), lambda mv, r: r)
    with pytest.raises(ShapeError, match="solve"):
        lax.custom_linear_solve(lambda v: v, np.ones(2), lambda mv, r: r[:1])


def _newton(f, x0):
    def body(c):
        x, i = c
        y, t = lepton.jvp(f, (x,), (lnp.ones_like(x),))
        return x - y / t, i + 1

    return lax.while_loop(lambda c: (c[1] < 40), body, (x0, 0))[0]


def _sqrt(a):
    return lax.custom_root(lambda x: x ** 2 - a, lnp.ones_like(a), _newton,
                           lambda g, y: y / g(lnp.ones_like(y)))


def test_custom_root_newton_in_while_loop():
    a = np.array([0.5, 2., 9.])
    np.testing.assert_allclose(_sqrt(a), np.sqrt(a), rtol=1e-12)
    dsqrt = lepton.grad(lambda a: lnp.sum(_sqrt(a)))
    np.testing.assert_allclose(dsqrt(a), 0.5 / np.sqrt(a), rtol=1e-10)
    np.testing.assert_allclose(lepton.jit(dsqrt)(a), 0.5 / np.sqrt(a), rtol=1e-10)
    np.testing.assert_allclose(lepton.vmap(lepton.grad(_sqrt))(a), 0.5 / np.sqrt(a),
                               rtol=1e-10)
    np.testing.assert_allclose(lepton.jacfwd(_sqrt)(a), np.diag(0.5 / np.sqrt(a)),
                               rtol=1e-10)
    # Second order: forward over reverse.
    np.testing.assert_allclose(lepton.jacfwd(lepton.grad(lambda a: _sqrt(a)))(np.float64(2.)),
                               -0.25 * 2. ** -1.5, rtol=1e-8)


def test_custom_root_has_aux_and_vector_tangent_solve():
    m = np.array([[2., 0.5], [0.5, 1.]])

    def f(x, c):
        return m @ x + 0.1 * x ** 3 - c

    def solve(g, x0):
        def body(carry):
            x, i = carry
            jac = lepton.jacfwd(g)(x)
            return x - lnp.linalg.solve(jac, g(x)), i + 1
        x, n = lax.while_loop(lambda c: c[1] < 30, body, (x0, 0))
        return x, n

    def tangent_solve(g, y):
        return lnp.linalg.solve(lepton.jacfwd(g)(y), y)

    def root(c):
        return lax.custom_root(lambda x: f(x, c), np.zeros(2), solve, tangent_solve,
                               has_aux=True)

    c = np.array([1., -0.5])
    x, n = root(c)
    np.testing.assert_allclose(f(x, c), 0, atol=1e-12)
    assert int(n) == 30
    jac = lepton.jacrev(lambda c: root(c)[0])(c)
    # implicit function theorem: dx/dc = (df/dx)^-1
    want = np.linalg.inv(m + np.diag(0.3 * np.asarray(x) ** 2))
    np.testing.assert_allclose(jac, want, rtol=1e-10)


# ----------------------------------------------------------------------------- chunk_size
@pytest.mark.parametrize("chunk", [None, 1, 2, 5, 100])
def test_jacobian_chunk_size(chunk):
    def f(x, y):
        return {"p": lnp.sin(x)[:, None] * y, "q": lnp.sum(x ** 2) * y[0]}

    x, y = np.linspace(0.1, 1, 5), np.array([1., 2., 3.])
    for jac in (lepton.jacfwd, lepton.jacrev):
        got = jac(f, (0, 1), chunk_size=chunk)(x, y)
        want = jac(f, (0, 1))(x, y)
        for g, w in zip(lepton.tree.leaves(got), lepton.tree.leaves(want)):
            np.testing.assert_allclose(g, w, rtol=1e-14)
    got = lepton.jit(lepton.jacrev(functools.partial(f, y=y), chunk_size=chunk))(x)
    np.testing.assert_allclose(got["p"], lepton.jacrev(lambda x: f(x, y))(x)["p"])


def test_jacobian_chunk_size_errors():
    with pytest.raises(ValueError, match="chunk_size"):
        lepton.jacfwd(lnp.sin, chunk_size=0)(np.ones(3))
    with pytest.raises(ValueError, match="chunk_size"):
        lepton.jacrev(lnp.sin, chunk_size=1.5)(np.ones(3))
