"""Host linear algebra: the primitives (cholesky, triangular_solve, qr, svd, eigh, lu) and
lepton.numpy.linalg.  Decompositions are checked by reconstruction and invariants,
gradients against central differences to second order (float64, well-conditioned inputs
with distinct eigen/singular values), the triangular_solve transpose by the adjoint
identity, batching against loops, and the failure modes (NaNs, clear errors)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.errors import DTypeError, ShapeError
from lepton.primitives import linalg as la
from lepton.test_util import check_batching, check_grads, check_jvp

RNG = np.random.default_rng(0)
LA = lnp.linalg


def rand(*shape):
    return RNG.standard_normal(shape)


def spd(*batch, n=4):
    b = rand(*batch, n, n)
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def spectral(m, n, *batch, complex_=False):
    """``U diag(s) V^H`` with singular values 1, 1.5, 2, ... (well separated)."""
    def orth(k):
        x = rand(*batch, k, k) + (1j * rand(*batch, k, k) if complex_ else 0)
        return np.linalg.qr(x)[0]

    k = min(m, n)
    s = 1.0 + 0.5 * np.arange(k)
    u, v = orth(m)[..., :, :k], orth(n)[..., :, :k]
    return (u * s) @ np.conj(np.swapaxes(v, -1, -2))


def lower_symmetric(a):
    """The symmetric matrix the lower triangle of real ``a`` denotes (what the impls read)."""
    off = la.tril(a, -1)
    return la.tril(a) + la.adjoint(off)


# ----------------------------------------------------------------------------- cholesky
def test_cholesky_matches_numpy_and_symmetrizes_as_jax():
    a = spd(2, 3)
    junk = a + np.triu(rand(2, 3, 4, 4), 1) * 0.1
    sym = (junk + np.swapaxes(junk, -1, -2)) / 2
    np.testing.assert_allclose(la.cholesky(junk), np.linalg.cholesky(a), rtol=1e-12)
    # as JAX: the factor of (a + a^H) / 2
    np.testing.assert_allclose(LA.cholesky(junk), np.linalg.cholesky(sym), rtol=1e-12)
    np.testing.assert_allclose(LA.cholesky(junk, upper=True),
                               np.linalg.cholesky(sym, upper=True), rtol=1e-12)
    # symmetrize_input=False: one triangle is read, garbage in the other ignored (NumPy)
    np.testing.assert_allclose(LA.cholesky(junk, symmetrize_input=False),
                               np.linalg.cholesky(junk), rtol=1e-12)
    np.testing.assert_allclose(LA.cholesky(a, upper=True), np.linalg.cholesky(a, upper=True))
    g = lepton.grad(lambda x: LA.cholesky(x, symmetrize_input=False).sum())(junk[0, 0])
    assert np.all(np.triu(np.asarray(g), 1) == 0)  # the upper triangle is never read
    g = np.asarray(lepton.grad(lambda x: LA.cholesky(x).sum())(junk[0, 0]))
    np.testing.assert_allclose(g, g.T, rtol=1e-12)  # symmetric, as JAX


def test_cholesky_grads():
    check_grads(lambda a: la.cholesky(lower_symmetric(a)), (spd(2),), order=2)
    check_grads(LA.cholesky, (spd(),), order=2)


def test_cholesky_complex_forward_mode():
    b = rand(3, 3) + 1j * rand(3, 3)
    check_jvp(LA.cholesky, (b @ b.conj().T + 3 * np.eye(3),))


def test_cholesky_not_positive_definite_gives_nan_per_matrix():
    a = np.stack([spd(), -np.eye(4)])
    out = np.asarray(LA.cholesky(a))
    np.testing.assert_allclose(out[0], np.linalg.cholesky(a[0]))
    assert np.isnan(out[1]).all()


# ----------------------------------------------------------------------------- triangular_solve
FLAGS = list(itertools.product([True, False], repeat=4))  # left, lower, transpose, unit


def _op(a, lower, transpose_a, unit):
    t = np.tril(a) if lower else np.triu(a)
    if unit:
        t = t - np.diag(np.diag(t)) + np.eye(len(t))
    return t.T if transpose_a else t


@pytest.mark.parametrize("left,lower,transpose_a,unit", FLAGS)
def test_triangular_solve_matches_dense_solve(left, lower, transpose_a, unit):
    a = rand(4, 4) + 4 * np.eye(4)
    b = rand(4, 3) if left else rand(3, 4)
    kw = dict(left_side=left, lower=lower, transpose_a=transpose_a, unit_diagonal=unit)
    x = np.asarray(la.triangular_solve(a, b, **kw))
    op = _op(a, lower, transpose_a, unit)
    np.testing.assert_allclose(op @ x if left else x @ op, b, atol=1e-12)


@pytest.mark.parametrize("left,lower,transpose_a,unit", FLAGS)
def test_triangular_solve_grads_and_adjoint(left, lower, transpose_a, unit):
    a = rand(2, 4, 4) + 4 * np.eye(4)
    b = rand(2, 4, 3) if left else rand(2, 3, 4)
    kw = dict(left_side=left, lower=lower, transpose_a=transpose_a, unit_diagonal=unit)
    check_grads(lambda a, b: la.triangular_solve(a, b, **kw), (a, b), order=2)
    ct = rand(*b.shape)
    x, pullback = lepton.vjp(lambda b: la.triangular_solve(lnp.asarray(a), b, **kw), b)
    np.testing.assert_allclose(np.vdot(ct, np.asarray(x)), np.vdot(pullback(ct)[0], b))


def test_triangular_solve_complex_conjugate_a():
    a = rand(3, 3) + 1j * rand(3, 3) + 3 * np.eye(3)
    b = rand(3, 2) + 1j * rand(3, 2)
    x = la.triangular_solve(a, b, left_side=True, lower=True, transpose_a=True,
                            conjugate_a=True)
    np.testing.assert_allclose(np.tril(a).conj().T @ np.asarray(x), b, atol=1e-12)
    check_jvp(lambda a, b: la.triangular_solve(a, b, left_side=True, lower=True,
                                               conjugate_a=True), (a, b))


@pytest.mark.parametrize("axes", [(0, None), (None, 0), (0, 2), (1, 1)])
def test_triangular_solve_vmap(axes):
    a, b = rand(4, 4) + 4 * np.eye(4), rand(4, 3)
    aa = a if axes[0] is None else np.stack([a, a + np.eye(4)], axis=axes[0])
    bb = b if axes[1] is None else np.stack([b, -b], axis=axes[1])
    check_batching(lambda a, b: la.triangular_solve(a, b, left_side=True, lower=True),
                   [aa, bb], axes, atol=1e-10)


def test_triangular_solve_errors():
    with pytest.raises(ShapeError, match="4 rows"):
        la.triangular_solve(np.eye(4), rand(3, 2), left_side=True)
    with pytest.raises(ShapeError, match="square"):
        la.triangular_solve(rand(3, 4), rand(3, 2))
    with pytest.raises(DTypeError, match="floating-point"):
        la.triangular_solve(np.eye(2, dtype=np.int32), np.ones((2, 2), np.int32))


# ----------------------------------------------------------------------------- lu
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5), (0, 0), (1, 1)])
def test_lu_reconstructs_and_pivots_agree(shape):
    a = rand(*shape)
    lu, pivots, perm = (np.asarray(x) for x in la.lu(a))
    m, n = shape[-2:]
    k = min(m, n)
    l_ = np.tril(lu[..., :, :k], -1) + np.eye(m, k)
    u_ = np.triu(lu[..., :k, :])
    np.testing.assert_allclose(l_ @ u_, np.take_along_axis(a, perm[..., :, None], -2),
                               atol=1e-12)
    assert pivots.dtype == perm.dtype == np.int32
    for idx in np.ndindex(shape[:-2]):  # applying the row swaps in order gives perm
        p = np.arange(m)
        for j, q in enumerate(pivots[idx]):
            p[[j, q]] = p[[q, j]]
        np.testing.assert_array_equal(p, perm[idx])


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)])
def test_lu_grads(shape):
    check_grads(lambda a: la.lu(a)[0], (rand(*shape),), order=2)


# ----------------------------------------------------------------------------- qr / svd / eigh
@pytest.mark.parametrize("shape,full", [((5, 3), False), ((5, 3), True), ((3, 5), False),
                                        ((2, 4, 4), True), ((0, 3), False)])
def test_qr_reconstructs(shape, full):
    a = rand(*shape)
    q, r = (np.asarray(x) for x in la.qr(a, full_matrices=full))
    np.testing.assert_allclose(q @ r, a, atol=1e-12)
    qtq = np.swapaxes(q, -1, -2) @ q
    np.testing.assert_allclose(qtq, np.broadcast_to(np.eye(q.shape[-1]), qtq.shape), atol=1e-12)
    assert np.allclose(np.tril(r, -1), 0)


@pytest.mark.parametrize("shape,full", [((5, 3), False), ((2, 4, 4), False), ((4, 4), True)])
def test_qr_grads(shape, full):
    check_grads(lambda a: la.qr(a, full_matrices=full), (rand(*shape),), order=2)


def test_qr_complex_forward_mode():
    check_jvp(lambda a: la.qr(a), (rand(4, 3) + 1j * rand(4, 3),))


def test_qr_grads_of_wide_or_complete_raise_clearly():
    with pytest.raises(NotImplementedError, match="tall or square"):
        lepton.jvp(lambda a: la.qr(a), (rand(3, 5),), (rand(3, 5),))
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        lepton.jvp(lambda a: LA.qr(a, "complete"), (rand(5, 3),), (rand(5, 3),))


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 3, 3)])
def test_svd_reconstructs_and_matches_numpy(shape):
    a = rand(*shape)
    s, u, vt = (np.asarray(x) for x in la.svd(a, full_matrices=False))
    np.testing.assert_allclose((u * s[..., None, :]) @ vt, a, atol=1e-12)
    np.testing.assert_allclose(s, np.linalg.svd(a, compute_uv=False))
    u_full, s_full, vt_full = LA.svd(a)
    assert u_full.shape[-1] == shape[-2] and vt_full.shape[-2] == shape[-1]


@pytest.mark.parametrize("m,n,batch", [(4, 4, ()), (5, 3, ()), (3, 5, ()), (3, 3, (2,))])
def test_svd_grads(m, n, batch):
    a = spectral(m, n, *batch)
    check_grads(lambda a: la.svd(a, full_matrices=False), (a,), order=2)
    check_grads(lambda a: la.svd(a, compute_uv=False)[0], (a,), order=2)


@pytest.mark.parametrize("m,n", [(4, 3), (3, 4), (3, 3)])
def test_svd_complex_forward_mode(m, n):
    # singular vectors carry a phase gauge: compare s and the rank-one parts u_i v_i^H
    def parts(a):
        s, u, vt = la.svd(a, full_matrices=False)
        return s, lnp.einsum("ik,kj->kij", u, vt)

    check_jvp(parts, (spectral(m, n, complex_=True),))


def test_svd_full_matrices_grads_need_square():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        lepton.jvp(lambda a: LA.svd(a), (rand(4, 3),), (rand(4, 3),))
    check_grads(lambda a: LA.svd(a), (spectral(3, 3),), order=1)


def test_eigh_matches_numpy_and_reads_one_triangle_without_symmetrizing():
    a = spd(2, 3)
    junk = a + np.triu(rand(2, 3, 4, 4), 1)
    w, v = LA.eigh(junk, symmetrize_input=False)
    np.testing.assert_allclose(w, np.linalg.eigh(junk).eigenvalues)
    np.testing.assert_allclose(np.abs(v), np.abs(np.linalg.eigh(junk).eigenvectors), atol=1e-10)
    # as JAX by default: the eigensystem of (a + a^H) / 2
    sym = (junk + np.swapaxes(junk, -1, -2)) / 2
    np.testing.assert_allclose(LA.eigvalsh(junk), np.linalg.eigvalsh(sym), rtol=1e-12)
    np.testing.assert_allclose(LA.eigh(junk, "U").eigenvalues, np.linalg.eigvalsh(sym),
                               rtol=1e-12)
    g = np.asarray(lepton.grad(lambda x: (LA.eigvalsh(x) ** 2).sum())(junk[0, 0]))
    np.testing.assert_allclose(g, 2 * sym[0, 0], rtol=1e-10)  # d tr(S^2) = 2 S, symmetric
    w_up, v_up = LA.eigh(a.swapaxes(-1, -2) + np.tril(rand(2, 3, 4, 4), -1), UPLO="U",
                         symmetrize_input=False)
    np.testing.assert_allclose((np.asarray(v_up) * np.asarray(w_up)[..., None, :])
                               @ np.swapaxes(v_up, -1, -2), a, atol=1e-10)


def test_eigh_grads_with_distinct_eigenvalues():
    q = np.linalg.qr(rand(4, 4))[0]
    a = (q * np.array([1.0, 2.0, 3.5, 5.0])) @ q.T
    check_grads(LA.eigh, (a,), order=2)
    check_grads(lambda a: la.eigh(lower_symmetric(a)), (np.stack([a, a + np.eye(4)]),),
                order=2)


def test_eigh_complex_forward_mode():
    # complex eigenvectors carry a phase gauge (LAPACK's differs from the rule's), so only
    # gauge-invariant outputs can be compared: the eigenvalues and the projectors |v v^H|
    h = spectral(3, 3, complex_=True)
    h = h @ h.conj().T
    check_jvp(lambda a: LA.eigh(a).eigenvalues, (h,))
    check_jvp(lambda a: lnp.abs(LA.eigh(a).eigenvectors), (h,))


@pytest.mark.parametrize("fn", [lambda a: la.qr(a), lambda a: la.svd(a, False),
                                lambda a: la.eigh(a), la.cholesky, lambda a: la.lu(a)])
def test_decompositions_vmap(fn):
    check_batching(fn, [np.stack([spd(), spd()], axis=1)], (1,), atol=1e-10)


# ----------------------------------------------------------------------------- lnp.linalg
def test_solve_and_inv_broadcast_like_numpy_2():
    a, b = spd(2), rand(2, 4, 3)
    np.testing.assert_allclose(LA.solve(a, b), np.linalg.solve(a, b))
    np.testing.assert_allclose(LA.solve(a, b[0, :, 0]), np.linalg.solve(a, b[0, :, 0]))
    np.testing.assert_allclose(LA.solve(a[0], b), np.linalg.solve(a[0], b))
    np.testing.assert_allclose(LA.inv(a), np.linalg.inv(a))
    check_grads(LA.solve, (a, b), order=2)
    check_grads(LA.inv, (a,), order=2)


def test_det_and_slogdet():
    a = rand(3, 4, 4) + 4 * np.eye(4)
    np.testing.assert_allclose(LA.det(a), np.linalg.det(a))
    sign, logabs = LA.slogdet(a)
    want = np.linalg.slogdet(a)
    np.testing.assert_allclose(sign, want.sign)
    np.testing.assert_allclose(logabs, want.logabsdet)
    check_grads(LA.det, (a,), order=2)
    check_grads(lambda a: LA.slogdet(a).logabsdet, (a,), order=2)
    np.testing.assert_allclose(lepton.grad(LA.det)(a[0]), np.linalg.det(a[0]) *
                               np.linalg.inv(a[0]).T)


def test_singular_matrices_give_zero_det_and_nan_inverse():
    s = np.ones((3, 3))
    assert float(LA.det(s)) == 0.0
    sign, logabs = LA.slogdet(s)
    assert float(sign) == 0.0 and float(logabs) == -np.inf
    assert np.isnan(np.asarray(LA.inv(s))).all()


def test_complex_slogdet():
    a = rand(3, 3) + 1j * rand(3, 3)
    sign, logabs = LA.slogdet(a)
    want = np.linalg.slogdet(a)
    np.testing.assert_allclose(sign, want.sign)
    np.testing.assert_allclose(logabs, want.logabsdet)


def test_traced_det_and_vmap():
    a = rand(3, 3, 3) + 3 * np.eye(3)
    assert "lu" in str(lepton.make_jaxpr(LA.det)(a[0]))
    check_batching(LA.det, [a], (0,), atol=1e-10)


def test_pinv_and_rank():
    a = spectral(5, 3)
    np.testing.assert_allclose(LA.pinv(a), np.linalg.pinv(a), atol=1e-12)
    check_grads(LA.pinv, (a,), order=2)
    low = a[:, :2] @ a[:, :2].T
    assert int(LA.matrix_rank(low)) == 2
    assert int(LA.matrix_rank(np.zeros(3))) == 0 and int(LA.matrix_rank(np.ones(3))) == 1


def test_matrix_power():
    a = rand(2, 3, 3) + 3 * np.eye(3)
    for n in (-3, -1, 0, 1, 2, 5):
        np.testing.assert_allclose(LA.matrix_power(a, n), np.linalg.matrix_power(a, n))
    ints = np.arange(4, dtype=np.int32).reshape(2, 2)
    assert LA.matrix_power(ints, 3).dtype == np.int32


@pytest.mark.parametrize("ord", [None, "fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2])
def test_matrix_norms(ord):
    a = spectral(3, 4, 2)
    for axis in [(1, 2), (2, 0), (-1, -2)]:
        for keepdims in (False, True):
            np.testing.assert_allclose(LA.norm(a, ord, axis, keepdims),
                                       np.linalg.norm(a, ord, axis, keepdims))
    check_grads(lambda x: LA.norm(x, ord, (1, 2)), (a,), order=2)


@pytest.mark.parametrize("ord", [None, np.inf, -np.inf, 0, 1, -1, 2, -2, 3, 0.5])
def test_vector_norms(ord):
    x = rand(3, 4)
    np.testing.assert_allclose(LA.norm(x[0], ord), np.linalg.norm(x[0], ord))
    np.testing.assert_allclose(LA.norm(x, ord, axis=1, keepdims=True),
                               np.linalg.norm(x, ord, axis=1, keepdims=True))
    if ord != 0:
        check_grads(lambda v: LA.norm(v, ord, axis=-1), (x,), order=2)


def test_norm_of_complex_and_int():
    z = rand(4) + 1j * rand(4)
    np.testing.assert_allclose(LA.norm(z), np.linalg.norm(z))
    assert LA.norm(z.astype(np.complex64)).dtype == np.float32
    assert LA.norm(np.arange(3, dtype=np.int32)).dtype == np.float32


@pytest.mark.parametrize("call,err,msg", [
    (lambda: LA.inv(rand(3, 4)), ShapeError, "square"),
    (lambda: LA.det(rand(3)), ShapeError, "matrix"),
    (lambda: LA.solve(spd(), rand(3)), ShapeError, "b needs 4"),
    (lambda: LA.qr(rand(3, 3), "raw"), ValueError, "mode"),
    (lambda: LA.eigh(spd(), "X"), ValueError, "UPLO"),
    (lambda: LA.norm(rand(3), "fro"), ValueError, "for vectors"),
    (lambda: LA.norm(rand(3, 3), 3), ValueError, "for matrices"),
    (lambda: LA.norm(rand(2, 2, 2), 2), ValueError, "1-d or 2-d"),
    (lambda: la.cholesky(np.ones((2, 3))), ShapeError, "square"),
])
def test_errors(call, err, msg):
    with pytest.raises(err, match=msg):
        call()
