"""dot_general and the NumPy products: einsum against np.einsum, the transpose rule by the
adjoint identity, batching against loops, gradients and the shape errors."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.errors import DTypeError, ShapeError
from lepton.primitives import linalg as la
from lepton.test_util import check_batching, check_grads

RNG = np.random.default_rng(0)


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def assert_adjoint(f, x, ct_shape):
    """``<ct, f(x)> == <f^T(ct), x>`` for linear ``f``; ``f^T`` comes from the transpose rules."""
    ct = rand(*ct_shape)
    y, pullback = lepton.vjp(f, x)
    (xt,) = pullback(ct)
    np.testing.assert_allclose(np.vdot(ct, np.asarray(y)), np.vdot(np.asarray(xt), x),
                               rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- dot_general
# (lhs shape, rhs shape, dimension numbers, the einsum that means the same)
DOT_CASES = [
    ((3, 4), (4, 5), (((1,), (0,)), ((), ())), "ik,kj->ij"),
    ((4, 3), (4, 5), (((0,), (0,)), ((), ())), "ki,kj->ij"),
    ((3, 4), (5, 4), (((1,), (1,)), ((), ())), "ik,jk->ij"),
    ((4, 3), (5, 4), (((0,), (1,)), ((), ())), "ki,jk->ij"),
    ((2, 3, 4), (2, 4, 5), (((2,), (1,)), ((0,), (0,))), "bik,bkj->bij"),
    ((3, 2, 4, 5), (5, 6, 4, 2), (((2, 3), (2, 0)), ((1,), (3,))), "ibkl,ljkb->bij"),
    ((2, 3), (4, 5), (((), ()), ((), ())), "ij,kl->ijkl"),
    ((4,), (4,), (((0,), (0,)), ((), ())), "i,i->"),
    ((2, 0, 3), (2, 3, 4), (((2,), (1,)), ((0,), (0,))), "bik,bkj->bij"),
    ((2, 3, 4), (4, 2, 3), (((1, 2), (2, 0)), ((0,), (1,))), "bjk,kbj->b"),
]


@pytest.mark.parametrize("sa,sb,dn,sub", DOT_CASES)
def test_dot_general_matches_einsum(sa, sb, dn, sub):
    a, b = rand(*sa), rand(*sb)
    np.testing.assert_allclose(la.dot_general(a, b, dn), np.einsum(sub, a, b), rtol=1e-12)


@pytest.mark.parametrize("sa,sb,dn,sub", DOT_CASES)
def test_dot_general_transposes_are_adjoint(sa, sb, dn, sub):
    a, b = rand(*sa), rand(*sb)
    out_shape = np.einsum(sub, a, b).shape
    assert_adjoint(lambda x: la.dot_general(x, lnp.asarray(b), dn), a, out_shape)
    assert_adjoint(lambda y: la.dot_general(lnp.asarray(a), y, dn), b, out_shape)


@pytest.mark.parametrize("sa,sb,dn,sub", DOT_CASES[:6])
def test_dot_general_grads_second_order(sa, sb, dn, sub):
    check_grads(lambda x, y: la.dot_general(x, y, dn), (rand(*sa), rand(*sb)), order=2)


@pytest.mark.parametrize("sa,sb,dn,sub", DOT_CASES[:7])
@pytest.mark.parametrize("axes", [(0, None), (None, 0), (0, 0), (-1, 1)])
def test_dot_general_vmap_matches_loop(sa, sb, dn, sub, axes):
    a, b = rand(*sa), rand(*sb)
    args = [np.stack([x, -2 * x], axis=ax) if ax is not None else x
            for x, ax in zip((a, b), axes)]
    check_batching(lambda x, y: la.dot_general(x, y, dn), args, axes, atol=1e-12)


def test_dot_general_keeps_float32_and_preferred_type():
    a, b = rand(3, 4, dtype=np.float32), rand(4, 2, dtype=np.float32)
    dn = (((1,), (0,)), ((), ()))
    assert la.dot_general(a, b, dn).dtype == np.float32
    out = la.dot_general(a.astype(np.int8), b.astype(np.int8), dn, preferred_element_type=np.int32)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, a.astype(np.int8).astype(np.int32)
                                  @ b.astype(np.int8).astype(np.int32))


def test_dot_general_errors_name_shapes_and_fix():
    a, b = rand(3, 4), rand(5, 2)
    with pytest.raises(ShapeError, match=r"contracting dimension 1 of the lhs has size 4.*"
                                         r"f64\[3,4\], f64\[5,2\].*orientation"):
        la.dot_general(a, b, (((1,), (0,)), ((), ())))
    with pytest.raises(ShapeError, match="distinct axes"):
        la.dot_general(a, rand(4, 4), (((1, 1), (0, 1)), ((), ())))
    with pytest.raises(ShapeError, match="pair each"):
        la.dot_general(a, rand(4, 4), (((1,), (0, 1)), ((), ())))
    with pytest.raises(DTypeError, match="equal dtypes"):
        la.dot_general(a, rand(4, 2, dtype=np.float32), (((1,), (0,)), ((), ())))


# ----------------------------------------------------------------------------- einsum
EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,jk", [(3, 4), (4, 5)]), ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]), ("ij->", [(3, 4)]), ("ij->ji", [(3, 4)]), ("ba", [(3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ij,ij->ij", [(3, 1), (3, 4)]), ("i,i", [(5,), (5,)]), ("i,j->ij", [(3,), (4,)]),
    ("ijk,kl,lm->im", [(2, 3, 4), (4, 5), (5, 6)]), ("iij->j", [(3, 3, 4)]),
    ("iji->j", [(3, 4, 3)]), ("iii->i", [(3, 3, 3)]), ("Ba,bA", [(2, 3), (4, 5)]),
    ("bA,Ba", [(2, 3), (4, 5)]), ("...,...", [(2, 3), (3,)]),
    ("ij,jk,kl,li->", [(2, 3), (3, 4), (4, 5), (5, 2)]), ("i...->...", [(3, 4, 5)]),
    ("...ii->...i", [(2, 3, 3)]), ("ab,cd,ef->fedcba", [(1, 2), (2, 1), (3, 1)]),
    ("ij,ik->jk", [(0, 3), (0, 4)]), ("", [()]), ("->", [()]), (",", [(), ()]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]), ("a,ab,abc->abc", [(2,), (2, 3), (2, 3, 4)]),
    ("ijk,ikj->", [(2, 3, 3), (2, 3, 3)]), ("...j,j...->...", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("sub,shapes", EINSUM_CASES)
def test_einsum_matches_numpy(sub, shapes):
    ops = [rand(*s) for s in shapes]
    got, want = lnp.einsum(sub, *ops), np.einsum(sub, *ops)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sub,shapes", [c for c in EINSUM_CASES if c[1][0] and all(
    np.prod(s) for s in c[1])][:14])
def test_einsum_grads(sub, shapes):
    check_grads(lambda *ops: lnp.einsum(sub, *ops), [rand(*s) for s in shapes], order=2)


def test_einsum_interleaved_form_and_optimize_is_accepted():
    a, b = rand(3, 4), rand(4, 5)
    np.testing.assert_allclose(lnp.einsum(a, [0, 1], b, [1, 2], [0, 2]), a @ b)
    np.testing.assert_allclose(lnp.einsum(a, [0, 1], b, [1, 2]), a @ b)
    np.testing.assert_allclose(lnp.einsum(a, [Ellipsis, 1], b, [1, 2], [Ellipsis, 2]), a @ b)
    np.testing.assert_allclose(lnp.einsum("ij,jk", a, b, optimize="optimal"), a @ b)


def test_einsum_promotes_dtypes():
    out = lnp.einsum("i,i", np.arange(3, dtype=np.int32), np.ones(3, np.float32))
    assert out.dtype == np.float32


def test_einsum_is_one_dot_general_per_pair():
    jaxpr = lepton.make_jaxpr(lambda a, b, c: lnp.einsum("ij,jk,kl->il", a, b, c))(
        rand(2, 3), rand(3, 4), rand(4, 5))
    assert str(jaxpr).count("dot_general") == 2


@pytest.mark.parametrize("sub,ops,err,msg", [
    ("ij,jk->ik", [(3, 4), (5, 6)], ShapeError, "label 'j' has size 4 .* 5"),
    ("ij,jk", [(3, 4)], ValueError, "2 operand subscripts .* 1 operands"),
    ("ij", [(3,)], ValueError, "names 2 axes but its operand has 1"),
    ("i1", [(3, 3)], ValueError, "invalid subscript"),
    ("ij->k", [(3, 3)], ValueError, "output label 'k'"),
    ("ij->ii", [(3, 3)], ValueError, "repeats a label"),
])
def test_einsum_errors(sub, ops, err, msg):
    with pytest.raises(err, match=msg):
        lnp.einsum(sub, *[rand(*s) for s in ops])


# ----------------------------------------------------------------------------- matmul & co
def test_matmul_operator_and_numpy_operands():
    a, b = rand(2, 3, 4), rand(4, 5)
    np.testing.assert_allclose(lnp.asarray(a) @ b, a @ b)
    np.testing.assert_allclose(a @ lnp.asarray(b), a @ b)
    assert isinstance(a @ lnp.asarray(b), lnp.ndarray)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                   ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
                                   ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)),
                                   ((5, 2, 3), (3,))])
def test_matmul_batching_and_vector_promotion(sa, sb):
    a, b = rand(*sa), rand(*sb)
    got = lnp.matmul(a, b)
    assert got.shape == np.matmul(a, b).shape
    np.testing.assert_allclose(got, np.matmul(a, b), rtol=1e-12)
    check_grads(lnp.matmul, (a, b), order=2)


def test_matmul_of_a_stack_against_a_matrix_needs_no_broadcast():
    jaxpr = str(lepton.make_jaxpr(lnp.matmul)(rand(6, 2, 3), rand(3, 4)))
    assert "broadcast_in_dim" not in jaxpr and jaxpr.count("dot_general") == 1


@pytest.mark.parametrize("fn,sa,sb,msg", [
    (lnp.matmul, (2, 3), (4, 5), r"matmul: contraction sizes differ: f64\[2,3\] contributes 3"
                                  r" \(last axis\) but f64\[4,5\] contributes 4"),
    (lnp.matmul, (3,), (4,), "matmul: contraction sizes differ"),
    (lnp.dot, (2, 3), (2, 3), "dot: contraction sizes differ"),
    (lnp.inner, (2, 3), (2, 4), "inner: contraction sizes differ"),
    (lambda a, b: lnp.tensordot(a, b, axes=([0], [1])), (2, 3), (2, 3),
     "tensordot: contraction sizes differ"),
])
def test_contraction_size_errors(fn, sa, sb, msg):
    with pytest.raises(ShapeError, match=msg):
        fn(rand(*sa), rand(*sb))


def test_matmul_rejects_scalars():
    with pytest.raises(ValueError, match="at least 1-d"):
        lnp.matmul(2.0, rand(3))


def test_tensordot_axes_forms():
    a, b = rand(2, 3, 4), rand(4, 3, 5)
    for axes in (([1, 2], [1, 0]), ([-2, -1], [1, 0]), ((2,), (0,)), (2, 0)):
        np.testing.assert_allclose(lnp.tensordot(a, b, axes), np.tensordot(a, b, axes))
    c, d = rand(3, 4), rand(4, 5)
    np.testing.assert_allclose(lnp.tensordot(c, d, 1), np.tensordot(c, d, 1))
    with pytest.raises(ValueError, match="out of range"):
        lnp.tensordot(a, b, 4)


def test_vdot_conjugates_and_flattens():
    a = rand(2, 3) + 1j * rand(2, 3)
    b = rand(3, 2) + 1j * rand(3, 2)
    np.testing.assert_allclose(lnp.vdot(a, b), np.vdot(a, b))


def test_trace_kron_outer_inner_dtypes():
    assert lnp.trace(np.ones((3, 3), bool)).dtype == np.int32
    assert lnp.trace(np.ones((3, 3), np.float32)).dtype == np.float32
    assert lnp.kron(np.ones((2, 2), np.float32), np.ones(3, np.int32)).dtype == np.float32
    assert lnp.trace(rand(3, 4, 5), 1, 2, 0).shape == (4,)
    assert lnp.dot(2, np.ones(3, np.float32)).dtype == np.float32  # weak scalar
