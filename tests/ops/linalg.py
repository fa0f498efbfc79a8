"""Op rows: lepton.numpy.linalg.

Inputs are well conditioned so values, gradients and finite differences are stable:
diagonally dominant matrices for inverses and determinants, ``B B^T + n I`` for Cholesky,
and ``U diag(s) V^T`` with well separated ``s`` for eigh, svd, pinv and the spectral norms
(their derivatives need distinct eigen/singular values).  Decompositions are compared with
NumPy directly: both run the same LAPACK routines, so the sign conventions agree.
"""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import Op, array, shape

_LA = lnp.linalg


def _rng(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _batch(draw, for_grad):
    return shape(draw, max_dims=1 if for_grad else 2, min_side=1, max_side=2)


def _dominant(draw, dtype, for_grad, square_side=None, batch=None):
    """A random matrix plus n I: far from singular."""
    n = draw(st.integers(0 if not for_grad else 1, 4)) if square_side is None else square_side
    batch = _batch(draw, for_grad) if batch is None else batch
    a = array(draw, batch + (n, n), dtype, "unit", for_grad=True)
    return (a + n * np.eye(n, dtype=dtype)).astype(dtype)


def _spd(draw, dtype, for_grad):
    n = draw(st.integers(0 if not for_grad else 1, 4))
    b = array(draw, _batch(draw, for_grad) + (n, n), dtype, "unit", for_grad=True)
    return (b @ np.conj(np.swapaxes(b, -1, -2)) + n * np.eye(n)).astype(dtype)  # Hermitian


def _spectral(draw, dtype, m, n, batch=(), symmetric=False):
    """``U diag(s) V^T`` with s spaced at least 0.5 apart (eigen/singular gaps)."""
    rng = _rng(draw)
    k = min(m, n)
    s = 1.0 + 0.5 * np.arange(k) + 0.3 * rng.random(k)
    cplx = np.dtype(dtype).kind == "c"

    def unitary(side):  # orthogonal, or unitary for complex dtypes
        g = rng.standard_normal(batch + (side, side))
        return np.linalg.qr(g + 1j * rng.standard_normal(g.shape) if cplx else g)[0]

    def adjoint(x):
        return np.conj(np.swapaxes(x, -1, -2))

    u = unitary(m)
    if symmetric:  # Hermitian for complex dtypes
        return ((u * s) @ adjoint(u)).astype(dtype)
    v = unitary(n)
    return ((u[..., :, :k] * s) @ adjoint(v[..., :, :k])).astype(dtype)


def _matrix_shape(draw, for_grad, tall=False):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if not for_grad and draw(st.booleans()):
        m, n = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    return (max(m, n), min(m, n)) if tall else (m, n)


def _square_gen(draw, dtype, for_grad):
    return (_dominant(draw, dtype, for_grad),), {}


def _solve_gen(draw, dtype, for_grad):
    a = _dominant(draw, dtype, for_grad)
    n, batch = a.shape[-1], a.shape[:-2]
    if draw(st.booleans()):
        b = array(draw, (n,), dtype, "real", for_grad=True)
    else:  # a stack of matrices: its batch broadcasts against a's
        bb = batch[draw(st.integers(0, len(batch))):]
        b = array(draw, bb + (n, draw(st.integers(1, 3))), dtype, "real", for_grad=True)
    return (a, b), {}


def _cholesky_gen(draw, dtype, for_grad):
    return (_spd(draw, dtype, for_grad),), {"upper": draw(st.booleans())}


def _eigh_gen(draw, dtype, for_grad):
    n = draw(st.integers(1, 4))
    return (_spectral(draw, dtype, n, n, _batch(draw, for_grad), symmetric=True),), \
        {"UPLO": draw(st.sampled_from(["L", "U"]))}


def _qr_gen(draw, dtype, for_grad):
    m, n = _matrix_shape(draw, for_grad, tall=for_grad)
    modes = ["reduced", "r"] + (["complete"] if not for_grad or m == n else [])
    batch = _batch(draw, for_grad)
    return (array(draw, batch + (m, n), dtype, "real", for_grad=True),), \
        {"mode": draw(st.sampled_from(modes))}


def _svd_gen(draw, dtype, for_grad):
    m, n = _matrix_shape(draw, for_grad)
    kw = {"full_matrices": draw(st.booleans()), "compute_uv": draw(st.booleans())}
    if for_grad and m != n:
        kw["full_matrices"] = False
    return (_spectral(draw, dtype, m, n, _batch(draw, for_grad)),), kw


def _pinv_gen(draw, dtype, for_grad):
    m, n = _matrix_shape(draw, for_grad)
    return (_spectral(draw, dtype, m, n, _batch(draw, for_grad)),), {}


def _norm_gen(draw, dtype, for_grad):
    kind = draw(st.sampled_from(["flat", "vector", "matrix"]))
    if kind == "flat":
        s = shape(draw, min_side=1 if for_grad else 0)
        return (array(draw, s, dtype, "nonzero", for_grad),), {}
    if kind == "vector":
        s = shape(draw, min_dims=1, min_side=1 if for_grad else 0)
        nd = len(s)
        ords = [None, 2, np.inf, -np.inf, 1, 3, 0.5] + ([0, -1] if not for_grad else [])
        axis = draw(st.sampled_from([None] if nd == 1 else [draw(st.integers(-nd, nd - 1))]))
        return (array(draw, s, dtype, "nonzero", for_grad),), {
            "ord": draw(st.sampled_from(ords)), "axis": axis,
            "keepdims": draw(st.booleans())}
    m, n = _matrix_shape(draw, for_grad)
    x = _spectral(draw, dtype, m, n, _batch(draw, for_grad))
    nd = x.ndim
    a1 = draw(st.integers(-nd, nd - 1))
    a2 = draw(st.integers(-nd, nd - 1).filter(lambda a: a % nd != a1 % nd))
    ords = [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]
    if min(m, n) == 0:  # NumPy can't take the max of an empty set of sums or values
        ords = [None, "fro"]
    return (x,), {"ord": draw(st.sampled_from(ords)), "axis": (a1, a2),
                  "keepdims": draw(st.booleans())}


def _power_gen(draw, dtype, for_grad):
    return (_dominant(draw, dtype, for_grad),), {"n": draw(st.integers(-3, 4))}


def _rank_gen(draw, dtype, for_grad):
    m, n = _matrix_shape(draw, for_grad)
    x = _spectral(draw, dtype, m, n, _batch(draw, for_grad))
    k = draw(st.integers(0, min(m, n)))
    return ((x[..., :, :k] @ np.swapaxes(x[..., :, :k], -1, -2)).astype(dtype),), {}


#: float32 LAPACK results differ from NumPy's float64-rounded ones at 1e-4 relative (the
#: condition numbers reach ~10); float64 ones must agree to 1e-10.
_T = {"rtol": {"float32": 1e-4, "float64": 1e-10}}
_TA = dict(_T, atol={"float32": 1e-5, "float64": 1e-10})
_HOST = {"scalable": False}  # LAPACK host calls on small matrices: no sized variants

OPS = [
    Op("linalg.norm", _LA.norm, np.linalg.norm, _norm_gen, **_T),
    Op("linalg.inv", _LA.inv, np.linalg.inv, _square_gen, **_T, **_HOST),
    Op("linalg.det", _LA.det, np.linalg.det, _square_gen, **_T, **_HOST),
    Op("linalg.slogdet", _LA.slogdet, np.linalg.slogdet, _square_gen, **_T, **_HOST),
    Op("linalg.solve", _LA.solve, np.linalg.solve, _solve_gen, **_T, **_HOST),
    Op("linalg.cholesky", _LA.cholesky, np.linalg.cholesky, _cholesky_gen, **_T, **_HOST),
    Op("linalg.qr", _LA.qr, np.linalg.qr, _qr_gen, **_TA, **_HOST),
    Op("linalg.svd", _LA.svd, np.linalg.svd, _svd_gen, **_TA, **_HOST),
    Op("linalg.eigh", _LA.eigh, np.linalg.eigh, _eigh_gen, **_TA, **_HOST),
    Op("linalg.eigvalsh", _LA.eigvalsh, np.linalg.eigvalsh, _eigh_gen, **_T, **_HOST),
    Op("linalg.pinv", _LA.pinv, np.linalg.pinv, _pinv_gen, **_TA, **_HOST),
    Op("linalg.matrix_power", _LA.matrix_power, np.linalg.matrix_power, _power_gen, **_T,
       **_HOST),
    Op("linalg.matrix_rank", _LA.matrix_rank, np.linalg.matrix_rank, _rank_gen, grad=False,
       out_dtype=lambda d: np.dtype(np.int32), **_HOST),
]
