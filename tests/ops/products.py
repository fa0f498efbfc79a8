"""Op rows: dot, vdot, matmul, inner, outer, tensordot, einsum, kron, trace.

Shapes are drawn so the contracted sizes agree (0-size axes and scalars included where
NumPy allows them); values are drawn in (-0.9, 0.9) so float32 sums stay within the
harness's tolerances.
"""
import numpy as np
from hypothesis import strategies as st

import lepton.numpy as lnp
from tests.ops import ALL, NUMERIC, Op, array, bshape, shape, side, sizing


def _side(draw, lo=0, hi=3):
    return draw(st.integers(lo, hi))


def _arr(draw, s, dtype, for_grad):
    return array(draw, s, dtype, "unit", for_grad)


def _dot_gen(draw, dtype, for_grad):
    na, nb, k = draw(st.integers(0, 3)), draw(st.integers(0, 3)), side(draw, hi=4)
    if sizing() and not na:
        na = 1
    sa = tuple(_side(draw) for _ in range(na - 1)) + (k,) if na else ()
    sb = () if nb == 0 else (k,) if nb == 1 else \
        tuple(_side(draw) for _ in range(nb - 2)) + (k, _side(draw))
    return (_arr(draw, sa, dtype, for_grad), _arr(draw, sb, dtype, for_grad)), {}


def _matmul_gen(draw, dtype, for_grad):
    k = side(draw, hi=4)
    batch = shape(draw, max_dims=2, max_side=3)

    def operand(core):  # a vector, a matrix or a stack of matrices (batch broadcasting)
        kind = draw(st.sampled_from(["vector", "matrix", "stack"]))
        if kind == "vector":
            return (k,)
        return (bshape(draw, batch) if kind == "stack" else ()) + core

    sa, sb = operand((_side(draw), k)), operand((k, _side(draw)))
    return (_arr(draw, sa, dtype, for_grad), _arr(draw, sb, dtype, for_grad)), {}


def _inner_gen(draw, dtype, for_grad):
    k = side(draw, hi=4)
    sa = shape(draw, max_dims=2, max_side=3)
    sb = shape(draw, max_dims=2, max_side=3)
    if draw(st.booleans()) or sizing():
        sa, sb = sa + (k,), sb + (k,)
    else:  # a scalar operand: a plain product
        sa = ()
    return (_arr(draw, sa, dtype, for_grad), _arr(draw, sb, dtype, for_grad)), {}


def _two_gen(draw, dtype, for_grad):
    return tuple(_arr(draw, shape(draw, max_dims=3, max_side=3), dtype, for_grad)
                 for _ in range(2)), {}


def _vdot_gen(draw, dtype, for_grad):
    s = shape(draw, max_dims=3, max_side=3)
    return (_arr(draw, s, dtype, for_grad), _arr(draw, s[::-1], dtype, for_grad)), {}


def _tensordot_gen(draw, dtype, for_grad):
    n = draw(st.integers(0, 2))
    shared = tuple(_side(draw) for _ in range(n))
    ra = tuple(_side(draw) for _ in range(draw(st.integers(0, 2))))
    rb = tuple(_side(draw) for _ in range(draw(st.integers(0, 2))))
    if draw(st.booleans()):  # integer axes: a's last n against b's first n
        return (_arr(draw, ra + shared, dtype, for_grad),
                _arr(draw, shared + rb, dtype, for_grad)), {"axes": n}
    pa = list(np.random.default_rng(draw(st.integers(0, 99))).permutation(len(ra) + n))
    pb = list(np.random.default_rng(draw(st.integers(0, 99))).permutation(len(rb) + n))
    sa, sb = [0] * (len(ra) + n), [0] * (len(rb) + n)
    for i, s in enumerate(shared + ra):
        sa[pa[i]] = s
    for i, s in enumerate(shared + rb):
        sb[pb[i]] = s
    axes = ([int(pa[i]) - (len(sa) if draw(st.booleans()) else 0) for i in range(n)],
            [int(pb[i]) for i in range(n)])
    return (_arr(draw, tuple(sa), dtype, for_grad), _arr(draw, tuple(sb), dtype, for_grad)), \
        {"axes": axes}


_EINSUM = ["ij,jk->ik", "ij,jk", "ii->i", "ii", "ij->", "ij->ji", "ba", "bij,bjk->bik",
           "i,i", "i,i->i", "i,j->ij", "ij,ij->ij", "ijk,kl,lm->im", "iij->j", "iji->ij",
           "Ba,bA", "abc,cd->dba", "ijk,jkl->il", "ij,jk,kl,li->", "...ij,...jk->...ik",
           "...i,...i->...", "i...->...", "...ii->...i", "j...,...->...j", "...", "a...b"]


def _einsum_gen(draw, dtype, for_grad):
    sub = draw(st.sampled_from(_EINSUM))
    sizes = {c: _side(draw) for c in sub if c.isalpha()}
    ell = shape(draw, max_dims=2, max_side=3)
    ops = []
    for term in sub.split("->")[0].split(","):
        if "..." in term:
            pre, post = term.split("...")
            s = tuple(sizes[c] for c in pre) + bshape(draw, ell) + tuple(sizes[c] for c in post)
        else:
            s = tuple(sizes[c] for c in term)
        ops.append(_arr(draw, s, dtype, for_grad))
    return (sub, *ops), {}


def _trace_gen(draw, dtype, for_grad):
    s = shape(draw, min_dims=2, max_dims=4, max_side=4)
    nd = len(s)
    a1 = draw(st.integers(-nd, nd - 1))
    a2 = draw(st.integers(-nd, nd - 1).filter(lambda a: a % nd != a1 % nd))
    return (_arr(draw, s, dtype, for_grad),), {"offset": draw(st.integers(-3, 3)),
                                               "axis1": a1, "axis2": a2}


OPS = [
    Op("dot", lnp.dot, np.dot, _dot_gen, dtypes=ALL),
    Op("vdot", lnp.vdot, np.vdot, _vdot_gen, dtypes=ALL),
    Op("matmul", lnp.matmul, np.matmul, _matmul_gen, dtypes=ALL),
    Op("inner", lnp.inner, np.inner, _inner_gen, dtypes=ALL),
    Op("outer", lnp.outer, np.outer, _two_gen, dtypes=ALL),
    Op("tensordot", lnp.tensordot, np.tensordot, _tensordot_gen, dtypes=ALL, scalable=False),
    Op("einsum", lnp.einsum, np.einsum, _einsum_gen, dtypes=NUMERIC, atol={"float32": 1e-5},
       scalable=False),
    Op("kron", lnp.kron, np.kron, _two_gen, dtypes=ALL),
    Op("trace", lnp.trace, np.trace, _trace_gen, dtypes=ALL),
]
