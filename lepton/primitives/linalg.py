"""Contractions and host linear algebra: dot_general, cholesky, triangular_solve, qr, svd,
eigh and lu.

``dot_general`` is the one contraction primitive (matmul, einsum, tensordot and every
dense layer reduce to it); it follows XLA: the output holds the batch dimensions, then
the lhs free dimensions, then the rhs free dimensions.  The decompositions run on the
host (NumPy/LAPACK) over any leading batch dimensions; their JVP rules are the standard
matrix-calculus results written in lepton ops, so they transpose and differentiate again.
A matrix that LAPACK rejects (not positive definite, singular, no convergence) gives NaNs
rather than an exception, as in JAX.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import dtypes
from ..core import Array, Primitive, ShapedArray, get_aval
from . import elementwise as ew
from .base import Zero, defjvp, fail_dtype, fail_shape, is_undefined, move_to_front
from .slicing import pad, slice
from .structural import broadcast_in_dim, full, iota, reshape, transpose

# ----------------------------------------------------------------------------- dot_general
dot_general_p = Primitive("dot_general")


def _free(ndim, contract, batch):
    used = set(contract) | set(batch)
    return tuple(i for i in range(ndim) if i not in used)


def _prod(xs):
    return int(np.prod(xs, dtype=np.int64))


def _dot_impl(x, y, *, dimension_numbers, preferred_element_type):
    """inf * 0 inside a product gives NaN silently, as in JAX (np.matmul warns)."""
    with np.errstate(all="ignore"):
        return _dot_numpy(x, y, dimension_numbers, preferred_element_type)


def _dot_numpy(x, y, dimension_numbers, preferred_element_type):
    (xc, yc), (xb, yb) = dimension_numbers
    if preferred_element_type is not None and preferred_element_type != x.dtype:
        x, y = x.astype(preferred_element_type), y.astype(preferred_element_type)
    if not xc:  # an outer product: each element one IEEE multiply (BLAS adds it to +0,
        return _outer(x, y, xb, yb)  # turning 0 * -1 into +0), as compiled kernels do
    if not xb:
        if len(xc) == 1 and x.ndim <= 2 and y.ndim <= 2:  # BLAS straight on the views
            xm = x if x.ndim == 1 or xc[0] == 1 else x.T
            ym = y if y.ndim == 1 or yc[0] == 0 else y.T
            return np.matmul(xm, ym) if x.ndim == 2 or y.ndim == 2 else np.dot(xm, ym)
        return np.tensordot(x, y, (xc, yc))
    xf, yf = _free(x.ndim, xc, xb), _free(y.ndim, yc, yb)
    bs, ms, ns = ([x.shape[i] for i in xb], [x.shape[i] for i in xf], [y.shape[i] for i in yf])
    k = _prod([x.shape[i] for i in xc])
    a = x.transpose(xb + xf + xc).reshape(_prod(bs), _prod(ms), k)
    b = y.transpose(yb + yc + yf).reshape(_prod(bs), k, _prod(ns))
    return np.matmul(a, b).reshape(bs + ms + ns)


def _outer(x, y, xb, yb):
    """dot_general without contracting dimensions: batch, x's free, then y's free axes."""
    xf, yf = _free(x.ndim, (), xb), _free(y.ndim, (), yb)
    a = x.transpose(xb + xf).reshape(tuple(x.shape[i] for i in xb + xf)
                                     + (1,) * len(yf))
    b = y.transpose(yb + yf).reshape(tuple(y.shape[i] for i in yb) + (1,) * len(xf)
                                     + tuple(y.shape[i] for i in yf))
    return np.multiply(a, b, order="C")


@functools.lru_cache(maxsize=4096)
def _dot_rule(x, y, *, dimension_numbers, preferred_element_type):
    name = "dot_general"
    (xc, yc), (xb, yb) = dimension_numbers
    if len(xc) != len(yc) or len(xb) != len(yb):
        fail_shape(name, f"dimension_numbers {dimension_numbers} must pair each lhs "
                   "contracting/batch dimension with one of the rhs", x, y)
    for what, dims, a in (("lhs", xc + xb, x), ("rhs", yc + yb, y)):
        if len(set(dims)) != len(dims) or any(not 0 <= d < a.ndim for d in dims):
            fail_shape(name, f"{what} contracting and batch dimensions {dims} must be distinct "
                       f"axes in range({a.ndim})", x, y)
    for kind, ld, rd in (("contracting", xc, yc), ("batch", xb, yb)):
        for i, j in zip(ld, rd):
            if x.shape[i] != y.shape[j]:
                fail_shape(name, f"{kind} dimension {i} of the lhs has size {x.shape[i]} but "
                           f"dimension {j} of the rhs has size {y.shape[j]}", x, y,
                           fix="Paired dimensions must have equal sizes: check the operands' "
                           "orientation (transpose one?).")
    if x.dtype != y.dtype:
        fail_dtype(name, "operands must have equal dtypes", x, y,
                   fix="Convert with .astype(...) (lepton.numpy promotes for you).")
    if x.dtype.kind not in "biufc":
        fail_dtype(name, "operands must be numeric or boolean", x, y)
    shape = ([x.shape[i] for i in xb] + [x.shape[i] for i in _free(x.ndim, xc, xb)]
             + [y.shape[i] for i in _free(y.ndim, yc, yb)])
    dt = x.dtype if preferred_element_type is None else preferred_element_type
    return ShapedArray(shape, dt, x.weak_type and y.weak_type)


def _dot_transpose_lhs(ct, x_aval, y, dimension_numbers, swap_ans=False):
    """Cotangent of the lhs: contract ct with y over y's free dims, then undo the order."""
    (xc, yc), (xb, yb) = dimension_numbers
    y_aval = get_aval(y)
    x_kept, y_kept = _free(x_aval.ndim, xc, xb), _free(y_aval.ndim, yc, yb)
    nb = len(xb)
    start = nb if swap_ans else nb + len(x_kept)
    ans_y = tuple(range(start, start + len(y_kept)))
    dims = ((ans_y, y_kept), (tuple(range(nb)), yb))
    ct = ew.convert_element_type(ct, y_aval.dtype)
    xc_by_y = [xc[i] for i in np.argsort(yc)]
    out_axes = tuple(np.argsort(list(xb) + list(x_kept) + xc_by_y))
    return transpose(dot_general(ct, y, dims), out_axes)


def _dot_transpose(ct, x, y, *, dimension_numbers, preferred_element_type):
    if type(ct) is Zero:
        return [None, None]
    if is_undefined(x):
        return [_dot_transpose_lhs(ct, x.aval, y, dimension_numbers), None]
    (xc, yc), (xb, yb) = dimension_numbers
    swapped = ((yc, xc), (yb, xb))
    return [None, _dot_transpose_lhs(ct, y.aval, x, swapped, swap_ans=True)]


def _dot_batch(axis_size, vals, dims, *, dimension_numbers, preferred_element_type):
    """The vmapped axis becomes a batch dimension (both batched) or a free one (one batched)."""
    (x, y), (bx, by) = vals, dims
    (xc, yc), (xb, yb) = dimension_numbers

    def bump(ds, b):
        return tuple(d + (d >= b) for d in ds)

    if bx is not None and by is not None:
        dn = ((bump(xc, bx), bump(yc, by)), ((bx,) + bump(xb, bx), (by,) + bump(yb, by)))
        out_dim = 0
    elif bx is not None:
        x_free = _free(get_aval(x).ndim - 1, xc, xb)
        out_dim = len(xb) + sum(d < bx for d in x_free)
        dn = ((bump(xc, bx), yc), (bump(xb, bx), yb))
    else:
        y_free = _free(get_aval(y).ndim - 1, yc, yb)
        x_nfree = get_aval(x).ndim - len(xc) - len(xb)
        out_dim = len(xb) + x_nfree + sum(d < by for d in y_free)
        dn = ((xc, bump(yc, by)), (xb, bump(yb, by)))
    return dot_general(x, y, dn, preferred_element_type), out_dim


dot_general_p.impl = _dot_impl
dot_general_p.abstract_eval = _dot_rule
dot_general_p.batch = _dot_batch
defjvp(dot_general_p,
       lambda t, x, y, *, ans, dimension_numbers, preferred_element_type:
       dot_general(t, y, dimension_numbers, preferred_element_type),
       lambda t, x, y, *, ans, dimension_numbers, preferred_element_type:
       dot_general(x, t, dimension_numbers, preferred_element_type))
dot_general_p.transpose = _dot_transpose


def dot_general(x, y, dimension_numbers, preferred_element_type=None):
    """XLA's DotGeneral: ``((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))``."""
    (xc, yc), (xb, yb) = dimension_numbers
    dn = ((tuple(map(int, xc)), tuple(map(int, yc))), (tuple(map(int, xb)), tuple(map(int, yb))))
    if preferred_element_type is not None:
        preferred_element_type = dtypes.canonicalize(preferred_element_type)
        if preferred_element_type == get_aval(x).dtype:
            preferred_element_type = None
    return dot_general_p.bind(x, y, dimension_numbers=dn,
                              preferred_element_type=preferred_element_type)


# ----------------------------------------------------------------------------- matrix helpers
def _const(value):
    """A NumPy constant as an array (a constvar under staging)."""
    return Array(np.asarray(value))


def _last2(c, shape):
    """A constant matrix broadcast over the leading (batch) axes of ``shape``."""
    nd = len(shape)
    return broadcast_in_dim(_const(c), shape, (nd - 2, nd - 1))


def matmul(a, b):
    """Batched matrix product over equal leading dimensions."""
    nd = get_aval(a).ndim
    batch = tuple(range(nd - 2))
    return dot_general(a, b, (((nd - 1,), (nd - 2,)), (batch, batch)))


def _T(x):
    nd = get_aval(x).ndim
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def adjoint(x):
    """Conjugate transpose of the last two axes."""
    return ew.conj(_T(x)) if get_aval(x).dtype.kind == "c" else _T(x)


def tril(x, k=0):
    """Lower triangle (on and below the k-th diagonal) of the last two axes; zeros elsewhere."""
    shape = get_aval(x).shape
    mask = _last2(np.tri(shape[-2], shape[-1], k, dtype=bool), shape)
    return ew.select(mask, x, full(shape, 0, get_aval(x).dtype))


def triu(x, k=0):
    shape = get_aval(x).shape
    mask = _last2(np.tri(shape[-2], shape[-1], k - 1, dtype=bool), shape)
    return ew.select(mask, full(shape, 0, get_aval(x).dtype), x)


def eye_like(x, dtype=None):
    """The identity of x's last two axes, broadcast over its batch axes (x's dtype default)."""
    aval = get_aval(x)
    return _last2(np.eye(*aval.shape[-2:], dtype=aval.dtype if dtype is None else dtype),
                  aval.shape)


def diagonal(x, offset=0):
    """The ``offset`` diagonal of the last two axes, as a new last axis.

    Element (i, i + offset) of an (n, m) matrix sits at flat index i * (m + 1) + offset, so
    this is a reshape and a strided slice: linear, cheap, and differentiable to any order.
    """
    shape = get_aval(x).shape
    n, m = shape[-2:]
    count = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    start = min(offset if offset >= 0 else -offset * m, n * m)
    flat = reshape(x, shape[:-2] + (n * m,))
    nb = len(shape) - 2
    stop = start + (count - 1) * (m + 1) + 1 if count else start
    return slice(flat, (0,) * nb + (start,), shape[:-2] + (stop,), (1,) * nb + (m + 1,))


def broadcast_vector(v, shape, axis):
    """``v`` (..., k) as matrices of ``shape`` with entry (i, j) = v[j] (axis=-2: the vector
    repeated down the rows) or v[i] (axis=-1: repeated across the columns)."""
    nd = len(shape)
    keep = nd - 1 if axis == -2 else nd - 2
    return broadcast_in_dim(v, shape, tuple(range(nd - 2)) + (keep,))


def _convert_like(x, ref):
    return ew.convert_element_type(x, get_aval(ref).dtype)


# ----------------------------------------------------------------------------- shared rules
def _matrix(name, a, square=False):
    if a.ndim < 2 or (square and a.shape[-1] != a.shape[-2]):
        fail_shape(name, f"expects {'a square matrix' if square else 'a matrix'} (or a stack "
                   "of them) in the last two axes", a)
    if a.dtype.kind not in "fc":
        fail_dtype(name, "needs floating-point or complex operands", a,
                   fix="Convert with .astype(float32) (lepton.numpy.linalg does this for you).")


def batch_front(p):
    """Batching for host linear algebra: the impls handle leading batch dimensions."""

    def batch(axis_size, vals, dims, **params):
        out = p.bind(*[move_to_front(v, d, axis_size) for v, d in zip(vals, dims)], **params)
        return out, ([0] * len(out) if p.multiple_results else 0)

    p.batch = batch


def nan_on_failure(fn, a, *rest):
    """``fn`` over a stack of matrices; matrices LAPACK rejects give NaN outputs."""
    try:
        return fn(a, *rest)
    except np.linalg.LinAlgError:
        pass
    batch = a.shape[:-2]
    bad = np.zeros(batch, bool)
    for idx in np.ndindex(batch):
        try:
            fn(a[idx], *(r[idx] for r in rest))
        except np.linalg.LinAlgError:
            bad[idx] = True
    safe = np.where(bad[..., None, None], np.eye(*a.shape[-2:], dtype=a.dtype), a)
    outs = fn(safe, *rest)
    single = isinstance(outs, np.ndarray)
    outs = [np.where(bad.reshape(bad.shape + (1,) * (o.ndim - bad.ndim)), np.nan, o)
            for o in ([outs] if single else outs)]
    return outs[0] if single else outs


def _zeros_like_outs(outs):
    return [Zero.like(o) for o in outs]


# ----------------------------------------------------------------------------- cholesky
cholesky_p = Primitive("cholesky")


def _cholesky_rule(a):
    _matrix("cholesky", a, square=True)
    return a.strip_weak()


def _cholesky_jvp(t, x, *, ans):
    # dL = L Phi(L^-1 dA L^-H), Phi = lower triangle with the diagonal halved.
    tmp = triangular_solve(ans, t, left_side=False, lower=True, transpose_a=True,
                           conjugate_a=True)
    inner = triangular_solve(ans, tmp, left_side=True, lower=True)
    n = get_aval(x).shape[-1]
    phi = ew.mul(inner, _last2((np.tri(n) - 0.5 * np.eye(n)).astype(get_aval(x).dtype),
                               get_aval(x).shape))
    return matmul(ans, phi)


cholesky_p.impl = lambda a: nan_on_failure(np.linalg.cholesky, a)
cholesky_p.abstract_eval = _cholesky_rule
defjvp(cholesky_p, _cholesky_jvp)
batch_front(cholesky_p)


def cholesky(a):
    """Lower Cholesky factor, reading only the lower triangle of ``a``."""
    return cholesky_p.bind(a)


# ----------------------------------------------------------------------------- triangular_solve
triangular_solve_p = Primitive("triangular_solve")


def _swap_last2(x):
    return np.swapaxes(x, -1, -2)


def _trisolve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    a = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        n = a.shape[-1]
        a[..., np.arange(n), np.arange(n)] = 1
    if conjugate_a:
        a = a.conj()
    if transpose_a:
        a = _swap_last2(a)
    if left_side:
        return nan_on_failure(np.linalg.solve, a, b)
    return _swap_last2(nan_on_failure(np.linalg.solve, _swap_last2(a), _swap_last2(b)))


def _trisolve_rule(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    name = "triangular_solve"
    _matrix(name, a, square=True)
    _matrix(name, b)
    k = a.shape[-1]
    if a.shape[:-2] != b.shape[:-2] or b.shape[-2 if left_side else -1] != k:
        side = "rows" if left_side else "columns"
        fail_shape(name, f"b must have the batch dimensions of a and {k} {side} "
                   f"(left_side={left_side})", a, b)
    if a.dtype != b.dtype:
        fail_dtype(name, "operands must have equal dtypes", a, b)
    return b.strip_weak()


def _trisolve_jvp_a(g, a, b, *, ans, left_side, lower, transpose_a, conjugate_a,
                    unit_diagonal):
    # d(op(A)^-1 B) = -op(A)^-1 op(dA) op(A)^-1 B, reading dA's triangle as the impl reads A.
    k = 1 if unit_diagonal else 0
    g = ew.neg(tril(g, -k) if lower else triu(g, k))
    g = _T(g) if transpose_a else g
    g = ew.conj(g) if conjugate_a else g
    params = dict(left_side=left_side, lower=lower, transpose_a=transpose_a,
                  conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    m, n = get_aval(b).shape[-2:]
    if left_side:  # cheaper order first: solves cost as much as products
        return triangular_solve(a, matmul(g, ans), **params) if m > n else \
            matmul(triangular_solve(a, g, **params), ans)
    return triangular_solve(a, matmul(ans, g), **params) if m < n else \
        matmul(ans, triangular_solve(a, g, **params))


def _trisolve_transpose(ct, a, b, *, left_side, lower, transpose_a, conjugate_a,
                        unit_diagonal):
    if is_undefined(a):
        raise TypeError("triangular_solve is not linear in its matrix argument")
    if type(ct) is Zero:
        return [None, None]
    return [None, triangular_solve(a, ct, left_side=left_side, lower=lower,
                                   transpose_a=not transpose_a, conjugate_a=conjugate_a,
                                   unit_diagonal=unit_diagonal)]


triangular_solve_p.impl = _trisolve_impl
triangular_solve_p.abstract_eval = _trisolve_rule
defjvp(triangular_solve_p, _trisolve_jvp_a,
       lambda t, a, b, *, ans, **params: triangular_solve_p.bind(a, t, **params))
triangular_solve_p.transpose = _trisolve_transpose
batch_front(triangular_solve_p)


def triangular_solve(a, b, *, left_side=False, lower=False, transpose_a=False,
                     conjugate_a=False, unit_diagonal=False):
    """Solve ``op(a) x = b`` (left_side) or ``x op(a) = b``; ``a`` triangular (lax semantics)."""
    return triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                   transpose_a=bool(transpose_a),
                                   conjugate_a=bool(conjugate_a),
                                   unit_diagonal=bool(unit_diagonal))


# ----------------------------------------------------------------------------- qr
qr_p = Primitive("qr", multiple_results=True)


def _qr_rule(a, *, full_matrices):
    _matrix("qr", a)
    *batch, m, n = a.shape
    k = m if full_matrices else min(m, n)
    return [ShapedArray(batch + [m, k], a.dtype), ShapedArray(batch + [k, n], a.dtype)]


def _qr_jvp(primals, tangents, *, full_matrices):
    # See j-towns.github.io/papers/qr-derivative.pdf.
    (x,), (dx,) = primals, tangents
    q, r = qr_p.bind(x, full_matrices=full_matrices)
    if type(dx) is Zero:
        return [q, r], _zeros_like_outs([q, r])
    m, n = get_aval(x).shape[-2:]
    if m < n or (full_matrices and m != n):
        raise NotImplementedError(
            f"qr: derivatives need a tall or square matrix (got {m}x{n}) and, with "
            "full_matrices=True (mode='complete'), a square one; use mode='reduced'")
    dx_rinv = triangular_solve(r, dx)  # dx r^-1
    qt_dx_rinv = matmul(adjoint(q), dx_rinv)
    low = tril(qt_dx_rinv, -1)
    do = ew.sub(low, adjoint(low))  # skew-Hermitian
    if get_aval(x).dtype.kind == "c":
        do = ew.add(do, ew.mul(eye_like(do), ew.sub(qt_dx_rinv, _convert_like(
            ew.real(qt_dx_rinv), qt_dx_rinv))))
    dq = ew.add(matmul(q, ew.sub(do, qt_dx_rinv)), dx_rinv)
    dr = matmul(ew.sub(qt_dx_rinv, do), r)
    return [q, r], [dq, dr]


qr_p.impl = lambda a, *, full_matrices: list(
    np.linalg.qr(a, mode="complete" if full_matrices else "reduced"))
qr_p.abstract_eval = _qr_rule
qr_p.jvp = _qr_jvp
batch_front(qr_p)


def qr(a, full_matrices=False):
    """``[q, r]`` with ``a = q @ r`` (Householder signs, as LAPACK)."""
    return qr_p.bind(a, full_matrices=bool(full_matrices))


# ----------------------------------------------------------------------------- eigh
eigh_p = Primitive("eigh", multiple_results=True)


def _eigh_rule(a, *, lower):
    _matrix("eigh", a, square=True)
    return [ShapedArray(a.shape[:-1], dtypes.real_dtype(a.dtype)), a.strip_weak()]


def _eigh_jvp(primals, tangents, *, lower):
    # dw = diag(V^H dA V);  dV = V (F * V^H dA V),  F_ij = 1 / (w_j - w_i) off the diagonal.
    (a,), (da,) = primals, tangents
    w, v = eigh_p.bind(a, lower=lower)
    if type(da) is Zero:
        return [w, v], _zeros_like_outs([w, v])
    shape = get_aval(a).shape
    wc = _convert_like(w, a)
    eye = eye_like(a)
    f = ew.sub(ew.integer_pow(ew.add(eye, ew.sub(broadcast_vector(wc, shape, -2),
                                                 broadcast_vector(wc, shape, -1))), -1), eye)
    vh_da_v = matmul(matmul(adjoint(v), da), v)
    dv = matmul(v, ew.mul(f, vh_da_v))
    dw = diagonal(vh_da_v)
    dw = ew.real(dw) if get_aval(dw).dtype.kind == "c" else dw
    return [w, v], [dw, dv]


eigh_p.impl = lambda a, *, lower: list(nan_on_failure(
    lambda m: np.linalg.eigh(m, UPLO="L" if lower else "U"), a))
eigh_p.abstract_eval = _eigh_rule
eigh_p.jvp = _eigh_jvp
batch_front(eigh_p)


def eigh(a, lower=True):
    """``[w, v]``: ascending eigenvalues and eigenvectors, reading one triangle of ``a``."""
    return eigh_p.bind(a, lower=bool(lower))


# ----------------------------------------------------------------------------- svd
svd_p = Primitive("svd", multiple_results=True)


def _svd_impl(a, *, full_matrices, compute_uv):
    if not compute_uv:
        return [nan_on_failure(lambda m: np.linalg.svd(m, compute_uv=False), a)]
    u, s, vt = nan_on_failure(lambda m: np.linalg.svd(m, full_matrices=full_matrices), a)
    return [s, u, vt]


def _svd_rule(a, *, full_matrices, compute_uv):
    _matrix("svd", a)
    *batch, m, n = a.shape
    k = min(m, n)
    s = ShapedArray(batch + [k], dtypes.real_dtype(a.dtype))
    if not compute_uv:
        return [s]
    ku, kv = (m, n) if full_matrices else (k, k)
    return [s, ShapedArray(batch + [m, ku], a.dtype), ShapedArray(batch + [kv, n], a.dtype)]


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    # ds = diag(U^H dA V); dU, dV from the off-diagonal part scaled by 1 / (s_j^2 - s_i^2),
    # plus the projections onto the complement for non-square inputs.
    (a,), (da,) = primals, tangents
    dt = get_aval(a).dtype
    m, n = get_aval(a).shape[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(
            f"svd: derivatives of U and Vh with full_matrices=True need a square matrix (got "
            f"{m}x{n}); use full_matrices=False")
    s, u, vt = svd_p.bind(a, full_matrices=False, compute_uv=True)
    outs = [s, u, vt] if compute_uv else [s]
    if type(da) is Zero:
        return outs, _zeros_like_outs(outs)
    ut, v = adjoint(u), adjoint(vt)
    ds_mat = matmul(matmul(ut, da), v)
    ds = diagonal(ds_mat)
    ds = ew.real(ds) if dt.kind == "c" else ds
    if not compute_uv:
        return outs, [ds]
    k = s.aval.shape[-1]
    kk = s.aval.shape[:-1] + (k, k)
    s_j, s_i = broadcast_vector(s, kk, -2), broadcast_vector(s, kk, -1)  # at (i, j)
    eye = _last2(np.eye(k, dtype=s.aval.dtype), kk)
    f = ew.sub(ew.div(full(kk, 1, s.aval.dtype),
                      ew.add(ew.mul(ew.add(s_j, s_i), ew.sub(s_j, s_i)), eye)), eye)
    f, s_j, s_i = (ew.convert_element_type(z, dt) for z in (f, s_j, s_i))
    dss, sds = ew.mul(s_j, ds_mat), ew.mul(s_i, ds_mat)
    du_inner = ew.mul(f, ew.add(dss, adjoint(dss)))
    if dt.kind == "c":  # the imaginary diagonal of U^H dU: (dS - dS^H) / 2 diag(1 / s)
        half_inv = ew.div(eye_like(ds_mat), ew.mul(full(kk, 2, dt), s_j))
        du_inner = ew.add(du_inner, ew.mul(ew.sub(ds_mat, adjoint(ds_mat)), half_inv))
    du = matmul(u, du_inner)
    dv = matmul(v, ew.mul(f, ew.add(sds, adjoint(sds))))
    if m > n:
        dav = matmul(da, v)
        du = ew.add(du, ew.div(ew.sub(dav, matmul(u, matmul(ut, dav))),
                               ew.convert_element_type(broadcast_vector(s, dav.aval.shape, -2),
                                                       dt)))
    if n > m:
        dahu = matmul(adjoint(da), u)
        dv = ew.add(dv, ew.div(ew.sub(dahu, matmul(v, matmul(vt, dahu))),
                               ew.convert_element_type(broadcast_vector(s, dahu.aval.shape, -2),
                                                       dt)))
    return outs, [ds, du, adjoint(dv)]


svd_p.impl = _svd_impl
svd_p.abstract_eval = _svd_rule
svd_p.jvp = _svd_jvp
batch_front(svd_p)


def svd(a, full_matrices=True, compute_uv=True):
    """``[s, u, vt]`` (or ``[s]``): singular values descending, ``a = u @ diag(s) @ vt``."""
    return svd_p.bind(a, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))


# ----------------------------------------------------------------------------- lu
lu_p = Primitive("lu", multiple_results=True)


def _lu_impl(a):
    """LU with partial pivoting (LAPACK getrf's convention), vectorised over the batch."""
    *batch, m, n = a.shape
    k = min(m, n)
    lu = a.reshape((_prod(batch), m, n)).copy()
    nb = lu.shape[0]
    rows = np.arange(nb)
    pivots = np.zeros((nb, k), np.int32)
    perm = np.tile(np.arange(m, dtype=np.int32), (nb, 1))
    with np.errstate(all="ignore"):
        for j in range(k):
            p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
            pivots[:, j] = p
            lu[rows, j], lu[rows, p] = lu[rows, p], lu[rows, j].copy()
            perm[rows, j], perm[rows, p] = perm[rows, p], perm[rows, j].copy()
            piv = lu[:, j, j]
            lu[:, j + 1:, j] /= np.where(piv == 0, 1, piv)[:, None]  # a zero pivot: column is 0
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
    return [lu.reshape(a.shape), pivots.reshape(batch + [k]), perm.reshape(batch + [m])]


def _lu_rule(a):
    _matrix("lu", a)
    *batch, m, n = a.shape
    return [a.strip_weak(), ShapedArray(batch + [min(m, n)], dtypes.int32),
            ShapedArray(batch + [m], dtypes.int32)]


def permutation_matrix(perm, dtype):
    """P with P[i, perm[i]] = 1, so ``P @ x`` is ``x[perm]`` (a constant: perm is integer)."""
    shape = get_aval(perm).shape + get_aval(perm).shape[-1:]
    nd = len(shape)
    rows = broadcast_in_dim(perm, shape, tuple(range(nd - 1)))
    return ew.convert_element_type(ew.eq(rows, iota(dtypes.int32, shape, nd - 1)), dtype)


def _pad_last2(x, rows, cols):
    cfg = [(0, 0, 0)] * (get_aval(x).ndim - 2) + [(0, rows, 0), (0, cols, 0)]
    return pad(x, full((), 0, get_aval(x).dtype), cfg)


def _lu_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    lu, pivots, perm = lu_p.bind(a)
    outs = [lu, pivots, perm]
    if type(da) is Zero:
        return outs, _zeros_like_outs(outs)
    *batch, m, n = get_aval(a).shape
    k = min(m, n)
    nb = len(batch)
    x = matmul(permutation_matrix(perm, get_aval(a).dtype), da)
    lcols = slice(lu, (0,) * (nb + 2), tuple(batch) + (m, k))
    urows = slice(lu, (0,) * (nb + 2), tuple(batch) + (k, n))
    eye_m = _last2(np.eye(m, dtype=get_aval(a).dtype), tuple(batch) + (m, m))
    l_ = ew.add(_pad_last2(tril(lcols, -1), 0, m - k), eye_m)
    u_eye = np.zeros((n, n), get_aval(a).dtype)
    u_eye[k:, k:] = np.eye(n - k)
    u_ = ew.add(_pad_last2(triu(urows), n - k, 0), _last2(u_eye, tuple(batch) + (n, n)))
    la = triangular_solve(l_, x, left_side=True, lower=True, unit_diagonal=True)
    lau = triangular_solve(u_, la, left_side=False, lower=False)
    lu_dot = ew.add(matmul(l_, tril(lau, -1)), matmul(triu(lau), u_))
    return outs, [lu_dot, Zero.like(pivots), Zero.like(perm)]


lu_p.impl = _lu_impl
lu_p.abstract_eval = _lu_rule
lu_p.jvp = _lu_jvp
batch_front(lu_p)


def lu(a):
    """``[lu, pivots, permutation]``: unit-lower L and U packed in ``lu``; ``a[perm] = L @ U``."""
    return lu_p.bind(a)
