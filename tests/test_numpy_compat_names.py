"""The jax.numpy names of lepton/numpy/_compat.py that are not in the op table: type
aliases, predicates, index helpers and the argument checks of the compositions."""
import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.errors import ShapeError


def test_type_aliases_make_arrays_of_their_dtype():
    with lepton.enable_x64():
        for name, dt in [("double", "float64"), ("float_", "float64"), ("single", "float32"),
                         ("int_", "int64"), ("uint", "uint64"), ("complex_", "complex128"),
                         ("cdouble", "complex128"), ("csingle", "complex64"), ("bool", "bool")]:
            t = getattr(lnp, name)
            assert t(1).dtype == np.dtype(dt), name
            assert lnp.zeros(2, dtype=t).dtype == np.dtype(dt), name
    assert lnp.single(2.5).dtype == np.float32


def test_predicates():
    x = lnp.ones((2, 3))
    assert lnp.isscalar(1.0) and lnp.isscalar(np.float32(1)) and lnp.isscalar(lnp.array(2.0))
    assert not lnp.isscalar(x) and not lnp.isscalar([1.0])
    assert lnp.iscomplexobj(lnp.array(1j)) and not lnp.iscomplexobj(x)
    assert lnp.isrealobj(x) and lnp.isrealobj(3)
    assert lnp.iterable(x) and lnp.iterable([1]) and not lnp.iterable(3.0)


@pytest.mark.parametrize("n,k,m", [(3, 0, None), (4, 1, 2), (4, -1, 5), (0, 0, None)])
def test_index_helpers_match_numpy(n, k, m):
    for ours, ref in [(lnp.tril_indices(n, k, m), np.tril_indices(n, k, m)),
                      (lnp.triu_indices(n, k, m), np.triu_indices(n, k, m))]:
        assert len(ours) == 2
        for a, b in zip(ours, ref):
            np.testing.assert_array_equal(np.asarray(a), b)
    np.testing.assert_array_equal(np.asarray(lnp.tri(n, m, k)), np.tri(n, m, k))
    a = np.zeros((n, n if m is None else m))
    for a_, b_ in zip(lnp.tril_indices_from(a, k), np.tril_indices_from(a, k)):
        np.testing.assert_array_equal(np.asarray(a_), b_)
    for a_, b_ in zip(lnp.triu_indices_from(a, k), np.triu_indices_from(a, k)):
        np.testing.assert_array_equal(np.asarray(a_), b_)


def test_diag_indices_index_a_lepton_array():
    x = lnp.arange(27.0).reshape(3, 3, 3)
    np.testing.assert_array_equal(np.asarray(x[lnp.diag_indices_from(x)]), [0.0, 13.0, 26.0])
    np.testing.assert_array_equal(np.asarray(lnp.diag_indices(4)[0]), np.arange(4))
    r, c = lnp.tril_indices(3)
    m = lnp.zeros((3, 3)).at[r, c].set(1.0)
    np.testing.assert_array_equal(np.asarray(m), np.tri(3))
    with pytest.raises(ShapeError, match="square"):
        lnp.diag_indices_from(np.zeros((2, 3)))


def test_compositions_reject_bad_shapes_with_the_shapes_named():
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        lnp.matrix_transpose(lnp.ones(3))
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(2, 4\)"):
        lnp.vecdot(lnp.ones((2, 3)), lnp.ones((2, 4)))
    with pytest.raises(ShapeError, match="matvec"):
        lnp.matvec(lnp.ones(3), lnp.ones(3))
    with pytest.raises(ValueError, match="axis must be given"):
        lnp.cumulative_sum(lnp.ones((2, 2)))


def test_aliases_are_the_same_functions():
    assert lnp.acos is lnp.arccos and lnp.atan2 is lnp.arctan2 and lnp.pow is lnp.power
    assert lnp.concat is lnp.concatenate and lnp.bitwise_invert is lnp.invert
    v = lnp.array([1.0 + 2.0j, 3.0 - 1.0j])
    w = lnp.array([2.0 - 1.0j, 1.0 + 1.0j])
    np.testing.assert_allclose(complex(lnp.vecdot(v, w)), np.vecdot(np.asarray(v), np.asarray(w)))
    g = lepton.grad(lambda x: lnp.sum(lnp.cumulative_prod(x, include_initial=True)))(
        lnp.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(np.asarray(g), [1 + 2 + 6, 1 + 3, 2.0])


def test_numpy_random_is_numpys_for_autograd_programs():
    assert lnp.random.RandomState is np.random.RandomState
    a = lnp.random.RandomState(3).randn(4)
    np.testing.assert_array_equal(a, np.random.RandomState(3).randn(4))
    import lepton.numpy.random as npr
    assert npr is lnp.random


def test_elementwise_grad_matches_autograd_semantics():
    x = lnp.array([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(np.asarray(lepton.elementwise_grad(lnp.sin)(x)),
                               np.cos(np.asarray(x)), rtol=1e-6)
    # second argument, non-elementwise function: gradient of the sum of the outputs
    g = lepton.elementwise_grad(lambda a, m: m @ a, 1)(x, lnp.eye(3))
    np.testing.assert_allclose(np.asarray(g), np.tile(np.asarray(x), (3, 1)), rtol=1e-6)
    d2 = lepton.elementwise_grad(lepton.elementwise_grad(lambda v: v ** 3))(x)
    np.testing.assert_allclose(np.asarray(d2), 6 * np.asarray(x), rtol=1e-6)
    with pytest.raises(TypeError, match="argnum=2"):
        lepton.elementwise_grad(lnp.sin, 2)(x)


def test_predicates_and_spaces_match_numpy():
    z = np.array([1 + 1j, 2 + 0j, -0.5j])
    np.testing.assert_array_equal(np.asarray(lnp.iscomplex(z)), np.iscomplex(z))
    np.testing.assert_array_equal(np.asarray(lnp.isreal(z)), np.isreal(z))
    assert bool(lnp.array_equiv([1, 2], [[1, 2], [1, 2]]))
    assert not bool(lnp.array_equiv([1, 2], [[1, 2], [1, 3]]))
    assert not bool(lnp.array_equiv([1, 2], [1, 2, 3]))  # no broadcast: False, no error
    with lepton.enable_x64():
        np.testing.assert_allclose(np.asarray(lnp.logspace(0, 3, 7, base=2.0)),
                                   np.logspace(0, 3, 7, base=2.0), rtol=1e-12)
        for a, b in [(1, 1000), (-2, -32), (5, 0.5)]:
            np.testing.assert_allclose(np.asarray(lnp.geomspace(a, b, 6)),
                                       np.geomspace(a, b, 6), rtol=1e-12)
            np.testing.assert_allclose(np.asarray(lnp.geomspace(a, b, 4, endpoint=False)),
                                       np.geomspace(a, b, 4, endpoint=False), rtol=1e-12)
        assert np.isnan(np.asarray(lnp.geomspace(-1, 10, 3))).all()
    g = lepton.grad(lambda s: lnp.sum(lnp.logspace(0.0, s, 4)))(1.0)
    np.testing.assert_allclose(float(g), sum(k / 3 * np.log(10) * 10 ** (k / 3)
                                             for k in range(4)), rtol=1e-5)


def test_astype_isdtype_and_printing():
    assert lnp.astype(lnp.ones(2), lnp.int32).dtype == np.int32
    assert lnp.isdtype(lnp.float32, "real floating") and not lnp.isdtype(lnp.int32, "bool")
    x = lnp.array([1.0, 2.5])
    assert lnp.array_repr(x) == np.array_repr(np.asarray(x))
    assert lnp.array_str(x, precision=1) == np.array_str(np.asarray(x), precision=1)
    with lnp.printoptions(precision=2):
        assert lnp.get_printoptions()["precision"] == 2
    assert issubclass(lnp.ComplexWarning, Warning)
