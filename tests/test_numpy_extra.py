"""The NumPy names added for JAX/autograd programs (issue 14) that the op table cannot
check on its own: index tricks, errstate, eig, lstsq conventions, sinc at zero, callable
pad modes and error messages.  Value/grad/vmap/jit rows live in tests/ops/np_extra.py."""
import warnings

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util

NEW_NAMES = ["append", "r_", "c_", "s_", "index_exp", "gradient", "cross", "rollaxis",
             "vsplit", "hsplit", "dsplit", "row_stack", "select", "fabs", "deg2rad",
             "rad2deg", "degrees", "radians", "sinc", "logaddexp2", "diagonal", "diag",
             "seterr", "geterr", "errstate", "pad"]


def test_names_importable():
    ns = {}
    exec("from lepton.numpy import *", ns)
    for name in NEW_NAMES:
        assert hasattr(lnp, name), name
        assert name in ns, f"{name} is not exported by `from lepton.numpy import *`"
    for name in ("pinv", "eig", "eigvals", "lstsq"):
        assert hasattr(lnp.linalg, name), name


# ----------------------------------------------------------------------------- r_, c_
@pytest.mark.parametrize("expr", [
    lambda m: m.r_[1:5],
    lambda m: m.r_[1:5, [7, 8], 0, np.array([1.5, 2.5])],
    lambda m: m.r_[0:1:5j],
    lambda m: m.r_[-1, 3:0:-1, 2.5],
    lambda m: m.r_[np.ones((2, 3)), np.zeros((1, 3))],
    lambda m: m.r_["-1", np.ones((2, 3)), np.zeros((2, 1))],
    lambda m: m.r_["0,2", [1, 2, 3], [4, 5, 6]],
    lambda m: m.r_["1,2,0", [1, 2, 3], [4, 5, 6]],
    lambda m: m.r_["0,3,1", [1, 2], [3, 4]],
    lambda m: m.r_["0,3,-1", [1, 2], [3, 4]],
    lambda m: m.c_[np.array([1, 2, 3]), np.array([4, 5, 6])],
    lambda m: m.c_[np.ones((2, 2)), [[7], [8]], 0:2],
    lambda m: m.c_[[1.5, 2.5], 0:2],
    lambda m: m.r_[True, 2],
])
def test_index_tricks_match_numpy(expr):
    want = expr(np)
    got = expr(lnp)
    assert isinstance(got, lnp.ndarray)
    assert got.shape == want.shape
    np.testing.assert_allclose(np.asarray(got), want.astype(np.asarray(got).dtype))


def test_index_tricks_dtypes_follow_lepton_rules():
    assert lnp.r_[1:4].dtype == lnp.arange(3).dtype
    assert lnp.r_[1:4, 0.5].dtype == lnp.float32  # a Python float is weak
    x = lnp.asarray(np.ones(2, np.float64))
    assert lnp.r_[x, 1:3].dtype == np.float64
    assert lnp.s_[1:3, ::2] == np.s_[1:3, ::2]
    assert lnp.index_exp[1:3] == np.index_exp[1:3]


def test_index_tricks_under_transforms():
    f = lambda x: lnp.sum(lnp.r_[x, 2.0 * x, 0:2] ** 2)  # noqa: E731
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(lepton.grad(f)(x), 2 * x + 8 * x)
    np.testing.assert_allclose(lepton.jit(lambda x: lnp.c_[x, -x])(x), np.c_[x, -x])
    out = lepton.vmap(lambda x: lnp.r_[x, 0.0])(np.ones((4, 3)))
    np.testing.assert_array_equal(out, np.c_[np.ones((4, 3)), np.zeros(4)])


def test_index_tricks_errors():
    with pytest.raises(ValueError, match="first"):
        lnp.r_[1, "0"]
    with pytest.raises(ValueError, match="matrix"):
        lnp.r_["r", [1, 2]]
    with pytest.raises(ValueError, match="unknown special directive"):
        lnp.r_["a,b", [1, 2]]
    with pytest.raises(ValueError, match="at least one array"):
        lnp.r_[()]


# ----------------------------------------------------------------------------- errstate
def test_errstate_is_recorded_and_restored_but_changes_nothing():
    before = lnp.geterr()
    assert set(before) == {"divide", "over", "under", "invalid"}
    with lnp.errstate(divide="raise", invalid="ignore"):
        assert lnp.geterr()["divide"] == "raise" and lnp.geterr()["invalid"] == "ignore"
        out = lnp.true_divide(1.0, lnp.asarray([0.0, 1.0]))  # no exception: a no-op
        np.testing.assert_array_equal(out, [np.inf, 1.0])
    assert lnp.geterr() == before
    old = lnp.seterr(all="ignore")
    try:
        assert old == before
        assert set(lnp.geterr().values()) == {"ignore"}
    finally:
        lnp.seterr(**old)
    assert lnp.geterr() == before

    @lnp.errstate(over="ignore")
    def decorated():
        return lnp.geterr()["over"]

    assert decorated() == "ignore" and lnp.geterr() == before


def test_errstate_rejects_bad_settings():
    with pytest.raises(ValueError, match="invalid action"):
        lnp.seterr(divide="explode")
    with pytest.raises(TypeError, match="unexpected keyword"):
        lnp.errstate(overflow="ignore")


# ----------------------------------------------------------------------------- sinc
def test_sinc_derivatives_at_zero_are_exact():
    d1 = lepton.grad(lnp.sinc)
    d2 = lepton.grad(d1)
    d3 = lepton.grad(d2)
    d4 = lepton.grad(d3)
    assert float(lnp.sinc(0.0)) == 1.0
    assert float(d1(0.0)) == 0.0
    np.testing.assert_allclose(float(d2(np.float64(0.0))), -np.pi ** 2 / 3, rtol=1e-14)
    assert float(d3(np.float64(0.0))) == 0.0
    np.testing.assert_allclose(float(d4(np.float64(0.0))), np.pi ** 4 / 5, rtol=1e-14)
    # continuity of the derivative across zero
    x = np.float64(1e-4)
    np.testing.assert_allclose(float(d1(x)), -np.pi ** 2 / 3 * x, rtol=1e-6)
    np.testing.assert_array_equal(lepton.vmap(d1)(np.zeros(3)), np.zeros(3))
    assert float(lepton.jit(d1)(0.0)) == 0.0


# ----------------------------------------------------------------------------- eig
def test_eig_matches_numpy_and_is_complex():
    rng = np.random.default_rng(0)
    for dt, cdt in ((np.float64, np.complex128), (np.float32, np.complex64)):
        a = rng.standard_normal((3, 4, 4)).astype(dt)
        w, v = lnp.linalg.eig(a)
        assert w.dtype == cdt and v.dtype == cdt and w.shape == (3, 4) and v.shape == (3, 4, 4)
        ww, vv = np.linalg.eig(a)
        tol = 1e-10 if dt == np.float64 else 1e-4
        np.testing.assert_allclose(w, ww, rtol=tol, atol=tol)
        np.testing.assert_allclose(v, vv, rtol=tol, atol=tol)
        np.testing.assert_allclose(np.asarray(a, cdt) @ np.asarray(v),
                                   np.asarray(v) * np.asarray(w)[:, None, :],
                                   rtol=tol, atol=tol)
    # real eigenvalues still come back complex (NumPy would give a real array)
    w = lnp.linalg.eigvals(np.diag([1.0, 2.0, 3.0]).astype(np.float32))
    assert w.dtype == np.complex64
    np.testing.assert_allclose(w, [1, 2, 3])


def test_eig_under_vmap_and_jit():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 3, 3))
    w = lepton.vmap(lnp.linalg.eigvals)(a)
    np.testing.assert_allclose(w, np.linalg.eigvals(a), rtol=1e-12)
    w2, v2 = lepton.jit(lnp.linalg.eig, backend="reference")(a[0])
    np.testing.assert_allclose(w2, np.linalg.eig(a[0])[0], rtol=1e-12)


def test_eig_compiles_on_the_cpu_backend():
    a = np.random.default_rng(7).standard_normal((3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", lepton.errors.CompileFallbackWarning)
        w = lepton.jit(lnp.linalg.eigvals)(a)
    np.testing.assert_allclose(w, np.linalg.eigvals(a), rtol=1e-12)


def test_eigvals_gradient():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 4))
    f = lambda a: lnp.sum(lnp.real(lnp.linalg.eigvals(a)) ** 2 + lnp.imag(  # noqa: E731
        lnp.linalg.eigvals(a)) ** 2 * 0.5)
    test_util.check_grads(f, (a,), order=2, modes=("fwd", "rev"), atol=1e-6, rtol=1e-6)
    # symmetric matrices: the same gradient as through eigh
    s = a + a.T
    g1 = lepton.grad(lambda m: lnp.sum(lnp.real(lnp.linalg.eigvals(m)) ** 3))(s)
    g2 = lepton.grad(lambda m: lnp.sum(lnp.linalg.eigh(m, UPLO="L")[0] ** 3))(s)
    np.testing.assert_allclose(g1 + g1.T, np.asarray(g2) + np.asarray(g2).T, atol=1e-10)


def test_eig_eigenvector_derivatives_raise_clearly():
    a = np.random.default_rng(3).standard_normal((3, 3))
    with pytest.raises(NotImplementedError, match="eigvals"):
        lepton.grad(lambda a: lnp.sum(lnp.real(lnp.linalg.eig(a)[1])))(a)
    with pytest.raises(lepton.errors.ShapeError, match="square"):
        lnp.linalg.eig(np.ones((2, 3)))


# ----------------------------------------------------------------------------- lstsq
def test_lstsq_matches_numpy():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    x, resid, rank, s = lnp.linalg.lstsq(a, b)
    xw, rw, kw, sw = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(x, xw, rtol=1e-12)
    np.testing.assert_allclose(resid, rw, rtol=1e-10)
    assert int(rank) == kw == 3
    np.testing.assert_allclose(s, sw, rtol=1e-12)
    x1, r1, _, _ = lnp.linalg.lstsq(a, b[:, 0])
    assert x1.shape == (3,) and r1.shape == (1,)


def test_lstsq_rank_deficient_and_residual_conventions():
    rng = np.random.default_rng(5)
    u = rng.standard_normal((5, 2))
    a = u @ rng.standard_normal((2, 4))  # rank 2, wide
    b = rng.standard_normal(5)
    x, resid, rank, s = lnp.linalg.lstsq(a, b)
    xw, rw, kw, sw = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(x, xw, rtol=1e-8, atol=1e-10)
    assert int(rank) == kw == 2
    # JAX's convention: residuals always present; NumPy's (empty here) on request
    np.testing.assert_allclose(resid, [np.sum((b - a @ xw) ** 2)], rtol=1e-8)
    assert rw.shape == (0,)
    assert lnp.linalg.lstsq(a, b, numpy_resid=True)[1].shape == (0,)
    # rcond cuts small singular values
    assert int(lnp.linalg.lstsq(np.diag([1.0, 1e-3]), np.ones(2), rcond=1e-2)[2]) == 1
    assert int(lnp.linalg.lstsq(np.diag([1.0, 1e-3]), np.ones(2), rcond=-1)[2]) == 2


def test_lstsq_transforms():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal(5)
    f = lambda a, b: lnp.linalg.lstsq(a, b)[0]  # noqa: E731
    test_util.check_grads(f, (a, b), order=1, modes=("fwd", "rev"), atol=1e-6, rtol=1e-6)
    batched = lepton.vmap(f)(np.stack([a, 2 * a]), np.stack([b, b]))
    np.testing.assert_allclose(batched[1], np.linalg.lstsq(2 * a, b)[0], rtol=1e-10)
    np.testing.assert_allclose(lepton.jit(f)(a, b), np.linalg.lstsq(a, b)[0], rtol=1e-10)
    with pytest.raises(TypeError, match="numpy_resid"):
        lepton.jit(lambda a, b: lnp.linalg.lstsq(a, b, numpy_resid=True)[1])(a, b)


def test_lstsq_errors_and_empty():
    with pytest.raises(lepton.errors.ShapeError, match="same number of rows"):
        lnp.linalg.lstsq(np.ones((3, 2)), np.ones(4))
    x, resid, rank, s = lnp.linalg.lstsq(np.zeros((0, 3)), np.zeros(0))
    assert x.shape == (3,) and int(rank) == 0 and s.shape == (0,)


def test_pinv_rcond_and_rtol():
    a = np.diag([1.0, 1e-3])
    np.testing.assert_allclose(lnp.linalg.pinv(a, rtol=1e-2), np.diag([1.0, 0.0]))
    np.testing.assert_allclose(lnp.linalg.pinv(a, rcond=1e-4), np.diag([1.0, 1e3]))
    with pytest.raises(ValueError, match="both"):
        lnp.linalg.pinv(a, rcond=1e-2, rtol=1e-2)


# ----------------------------------------------------------------------------- pad
def test_pad_callable_mode():
    def jax_style(v, width, axis, kw):
        return v.at[:width[0]].set(kw.get("val", 9)).at[v.shape[0] - width[1]:].set(-axis)

    def numpy_style(v, width, axis, kw):
        v[:width[0]] = kw.get("val", 9)
        v[v.shape[0] - width[1]:] = -axis

    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(lnp.pad(x, ((1, 2), (2, 1)), jax_style, val=5),
                                  np.pad(x, ((1, 2), (2, 1)), numpy_style, val=5))
    g = lepton.grad(lambda x: lnp.sum(lnp.pad(x, 1, jax_style) * 2.0))(x)
    np.testing.assert_array_equal(g, np.full_like(x, 2.0))
    with pytest.raises(TypeError, match="immutable"):
        lnp.pad(x, 1, numpy_style)
    with pytest.raises(TypeError, match="must return"):
        lnp.pad(x, 1, lambda v, w, a, kw: None)


def test_pad_mode_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="not supported"):
        lnp.pad(x, 1, "nearest")
    with pytest.raises(TypeError, match="unsupported keyword"):
        lnp.pad(x, 1, "mean", end_values=1)
    with pytest.raises(ValueError, match="reflect_type"):
        lnp.pad(x, 1, "reflect", reflect_type="odd-ish")
    with pytest.raises(ValueError, match="stat_length of 0"):
        lnp.pad(x, 1, "maximum", stat_length=0)
    with pytest.raises(ValueError, match="empty axis"):
        lnp.pad(np.zeros((0, 2)), 1, "mean")
    assert lnp.pad(np.zeros((0, 2)), ((0, 0), (1, 1)), "median").shape == (0, 4)


def test_pad_odd_reflection_wider_than_data():
    x = np.array([1.0, 2.0, 4.0])
    for mode in ("reflect", "symmetric"):
        np.testing.assert_array_equal(lnp.pad(x, (9, 11), mode, reflect_type="odd"),
                                      np.pad(x, (9, 11), mode, reflect_type="odd"))
    np.testing.assert_array_equal(lnp.pad(np.array([3.0]), 4, "reflect", reflect_type="odd"),
                                  np.pad(np.array([3.0]), 4, "reflect", reflect_type="odd"))


def test_pad_linear_ramp_integers_and_traced_end_values():
    x = np.array([[1, 5], [-3, 2]], np.int32)
    np.testing.assert_array_equal(lnp.pad(x, (3, 4), "linear_ramp", end_values=(7, -6)),
                                  np.pad(x, (3, 4), "linear_ramp", end_values=(7, -6)))
    xf = np.array([1.0, 2.0])
    f = lambda e: lnp.sum(lnp.pad(xf, 2, "linear_ramp", end_values=e))  # noqa: E731
    np.testing.assert_allclose(f(lnp.asarray(3.0)), np.sum(np.pad(xf, 2, "linear_ramp",
                                                                  end_values=3.0)))
    np.testing.assert_allclose(lepton.grad(f)(lnp.asarray(3.0)), 3.0)  # 1 + 1/2 per side


# ----------------------------------------------------------------------------- errors
def test_new_function_errors_name_the_problem():
    with pytest.raises(TypeError, match="boolean"):
        lnp.select([np.array([1, 0])], [np.array([1.0, 2.0])])
    with pytest.raises(ValueError, match="same length"):
        lnp.select([np.array([True])], [])
    with pytest.raises(ValueError, match="empty condition list"):
        lnp.select([], [])
    with pytest.raises(ValueError, match="dimension must be 2 or 3"):
        lnp.cross(np.ones(4), np.ones(3))
    with pytest.raises(ValueError, match="too small"):
        lnp.gradient(np.ones(2), edge_order=2)
    with pytest.raises(ValueError, match="match the length"):
        lnp.gradient(np.ones(4), np.arange(3.0))
    with pytest.raises(TypeError, match="spacing arguments"):
        lnp.gradient(np.ones((3, 3)), 1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        lnp.vsplit(np.ones(4), 2)
    with pytest.raises(ValueError, match="3 or more dimensions"):
        lnp.dsplit(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match="start"):
        lnp.rollaxis(np.ones((2, 3)), 0, 3)
    with pytest.raises(TypeError, match="complex"):
        lnp.fabs(np.array([1j]))


def test_gradient_traced_coordinates_differentiate():
    f = np.array([0.0, 1.0, 4.0, 9.0, 16.0])
    x = np.array([0.0, 0.5, 1.5, 2.0, 3.5])
    test_util.check_grads(lambda f, x: lnp.gradient(f, x), (f, x), order=2,
                          modes=("fwd", "rev"), atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(lepton.jit(lambda f, x: lnp.gradient(f, x))(f, x),
                               np.gradient(f, x), rtol=1e-12)
