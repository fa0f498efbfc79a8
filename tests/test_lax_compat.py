"""lax names of lepton/_lax_compat.py not covered by op rows (tests/ops/compat2.py):
shape helpers and thin wrappers, with their shape errors."""
import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.errors import ShapeError


def test_batch_matmul_and_its_shape_checks():
    a = np.random.default_rng(0).normal(size=(2, 3, 4))
    b = np.random.default_rng(1).normal(size=(2, 4, 5))
    np.testing.assert_allclose(np.asarray(lax.batch_matmul(a, b)), a @ b, rtol=1e-6)
    g = lepton.grad(lambda x: lnp.sum(lax.batch_matmul(x, b)))(a)
    np.testing.assert_allclose(np.asarray(g), np.broadcast_to(b.sum(-1)[:, None, :], a.shape),
                               rtol=1e-6)
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\) and \(4, 5\)"):
        lax.batch_matmul(a, b[0])


def test_full_like_exp2_tile_and_ranks():
    x = lnp.ones((2, 3), lnp.int32)
    y = lax.full_like(x, 7)
    assert y.dtype == np.int32 and y.shape == (2, 3) and int(y[1, 2]) == 7
    assert lax.full_like(x, 0.5, dtype=lnp.float32, shape=(4,)).shape == (4,)
    np.testing.assert_allclose(np.asarray(lax.exp2(lnp.array([0.0, 3.0, -1.0]))), [1, 8, 0.5])
    assert lax.tile(x, (2, 2)).shape == (4, 6)
    with pytest.raises(ShapeError, match="one entry per axis"):
        lax.tile(x, (2,))
    assert lax.broadcast_to_rank(lnp.ones(3), 3).shape == (1, 1, 3)
    with pytest.raises(ShapeError, match="rank 1"):
        lax.broadcast_to_rank(x, 1)
    assert lax.broadcast_shapes((2, 1), (1, 3), (3,)) == (2, 3)


def test_clamp_collapse_split_errors_name_the_shapes():
    with pytest.raises(ShapeError, match=r"\(2,\)"):
        lax.clamp(lnp.zeros(2), lnp.ones(3), 1.0)
    with pytest.raises(ShapeError, match=r"\(2, 3\)"):
        lax.collapse(lnp.ones((2, 3)), 2, 1)
    with pytest.raises(ShapeError, match="add up to 4"):
        lax.split(lnp.ones(3), (1, 3))
    with pytest.raises(ShapeError, match="one shape"):
        lax.sort_key_val(lnp.ones(3), lnp.ones(4))
