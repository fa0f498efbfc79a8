"""Products: dot, vdot, matmul (the @ operator), inner, outer, tensordot, einsum, kron, trace.

Every contraction becomes one ``dot_general`` (plus transposes, sums and diagonal
extractions for einsum), so the transforms see a single bilinear primitive.  Operands
are promoted to a common dtype (JAX's lattice) but never broadcast unless NumPy says so.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from ..errors import ShapeError
from ..primitives import elementwise as ew
from ..primitives import linalg as la
from ..primitives.reductions import reduce_sum
from ..primitives.structural import broadcast_in_dim, reshape, transpose
from ._reductions import sum as _sum
from ._shape import moveaxis, ravel
from . import _eager
from ._ufuncs import multiply
from .util import asarray, broadcast_shapes, normalize_axis, result_type_of, to_dtype

__all__ = ["dot", "vdot", "matmul", "inner", "outer", "tensordot", "einsum", "kron", "trace"]


def _promote(*xs):
    """Arrays of the promoted dtype (no broadcasting)."""
    arrs = [asarray(x) for x in xs]
    a0 = arrs[0].aval
    for a in arrs:
        if a.aval.dtype != a0.dtype or a.aval.weak_type != a0.weak_type:
            dt, weak = result_type_of(*arrs)
            return [to_dtype(a, dt, weak) for a in arrs]
    return arrs


def _contract(a, b, a_axes, b_axes, preferred_element_type=None):
    return la.dot_general(a, b, ((tuple(a_axes), tuple(b_axes)), ((), ())),
                          preferred_element_type)


def _size_error(name, a, b, ka, kb, what):
    raise ShapeError(f"{name}: contraction sizes differ: {a.aval.str_short()} contributes "
                     f"{ka} ({what[0]}) but {b.aval.str_short()} contributes {kb} "
                     f"({what[1]}). Transpose an operand so the contracted axes match.")


def matmul(a, b, *, precision=None, preferred_element_type=None):
    """Matrix product with NumPy's rules: 1-D operands are promoted to matrices and the
    promoted axis dropped; leading (batch) axes broadcast."""
    if preferred_element_type is None:
        # concrete operands: BLAS directly
        r = _eager.binary(la.dot_general_p, a, b, kinds="iufc", np_fn=np.matmul)
        if r is not None:
            return r
    a, b = _promote(a, b)
    sa, sb = a.aval.shape, b.aval.shape
    na, nb = len(sa), len(sb)
    if na == 0 or nb == 0:
        raise ValueError("matmul: operands must be at least 1-d; use * (multiply) for "
                         "scalars")
    if sa[-1] != sb[0 if nb == 1 else -2]:
        _size_error("matmul", a, b, sa[-1], sb[0 if nb == 1 else -2],
                    ("last axis", "first axis" if nb == 1 else "second-to-last axis"))
    pet = preferred_element_type
    if nb <= 2:  # no batch on the right: one contraction, the output order is right
        return _contract(a, b, (na - 1,), (0,), pet)
    if na == 1:
        return _contract(a, b, (0,), (nb - 2,), pet)
    if na == 2:  # (m, k) @ (..., k, n) -> (m, ..., n) -> (..., m, n)
        return moveaxis(_contract(a, b, (1,), (nb - 2,), pet), 0, -2)
    batch = broadcast_shapes(sa[:-2], sb[:-2], name="matmul")
    a = _broadcast_batch(a, batch)
    b = _broadcast_batch(b, batch)
    nb = len(batch)
    bd = tuple(range(nb))
    return la.dot_general(a, b, (((nb + 1,), (nb,)), (bd, bd)), pet)


def _broadcast_batch(x, batch):
    shape = batch + x.shape[-2:]
    nd = len(shape)
    return broadcast_in_dim(x, shape, tuple(range(nd - x.ndim, nd)))


def dot(a, b, *, precision=None, preferred_element_type=None):
    """NumPy's dot: sum over a's last axis and b's second-to-last (last if b is 1-d)."""
    a, b = _promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    kb_axis = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[kb_axis]:
        _size_error("dot", a, b, a.shape[-1], b.shape[kb_axis],
                    ("last axis", "first axis" if b.ndim == 1 else "second-to-last axis"))
    return _contract(a, b, (a.ndim - 1,), (kb_axis,), preferred_element_type)


def vdot(a, b, *, precision=None, preferred_element_type=None):
    """Dot product of the flattened arrays, conjugating the first."""
    a, b = _promote(a, b)
    a = ravel(a)
    if a.dtype.kind == "c":
        a = ew.conj(a)
    return dot(a, ravel(b), preferred_element_type=preferred_element_type)


def inner(a, b, *, precision=None, preferred_element_type=None):
    """Sum over the last axes of both."""
    a, b = _promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        _size_error("inner", a, b, a.shape[-1], b.shape[-1], ("last axis", "last axis"))
    return _contract(a, b, (a.ndim - 1,), (b.ndim - 1,), preferred_element_type)


def outer(a, b, out=None):
    """``a.ravel()[:, None] * b.ravel()[None, :]``."""
    if out is not None:
        raise NotImplementedError("outer: out= is not supported (arrays are immutable)")
    a, b = _promote(a, b)
    return multiply(reshape(ravel(a), (a.size, 1)), reshape(ravel(b), (1, b.size)))


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """Sum over ``axes``: an int N (a's last N with b's first N) or a pair of axis lists."""
    a, b = _promote(a, b)
    if isinstance(axes, int) or not isinstance(axes, (tuple, list)):
        n = operator.index(axes)
        if n < 0 or n > builtins.min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={n} is out of range for operands of rank "
                             f"{a.ndim} and {b.ndim}")
        a_axes, b_axes = tuple(range(a.ndim - n, a.ndim)), tuple(range(n))
    else:
        if len(axes) != 2:
            raise ValueError("tensordot: axes must be an int or a pair of axis sequences")
        a_axes, b_axes = ((ax,) if isinstance(ax, int) else tuple(ax) for ax in axes)
        if len(a_axes) != len(b_axes):
            raise ValueError(f"tensordot: axes {axes} must name as many axes of a as of b")
        a_axes = tuple(normalize_axis(x, a.ndim) for x in a_axes)
        b_axes = tuple(normalize_axis(x, b.ndim) for x in b_axes)
    for i, j in zip(a_axes, b_axes):
        if a.shape[i] != b.shape[j]:
            _size_error("tensordot", a, b, a.shape[i], b.shape[j], (f"axis {i}", f"axis {j}"))
    return _contract(a, b, a_axes, b_axes, preferred_element_type)


def kron(a, b):
    """Kronecker product: blocks ``a[i, j] * b`` (ranks aligned by leading ones)."""
    a, b = _promote(a, b)
    nd = builtins.max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    inter = tuple(s for pair in zip(sa, sb) for s in pair)
    aa = broadcast_in_dim(reshape(a, sa), inter, tuple(range(0, 2 * nd, 2)))
    bb = broadcast_in_dim(reshape(b, sb), inter, tuple(range(1, 2 * nd, 2)))
    return reshape(multiply(aa, bb), tuple(x * y for x, y in zip(sa, sb)))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum of the ``offset`` diagonal of the (axis1, axis2) planes."""
    if out is not None:
        raise NotImplementedError("trace: out= is not supported (arrays are immutable)")
    a = asarray(a)
    if a.ndim < 2:
        raise ValueError(f"trace: the array must be at least 2-d, got {a.aval.str_short()}")
    ax1, ax2 = normalize_axis(axis1, a.ndim, "axis1"), normalize_axis(axis2, a.ndim, "axis2")
    if ax1 == ax2:
        raise ValueError("trace: axis1 and axis2 cannot be the same")
    d = la.diagonal(moveaxis(a, (ax1, ax2), (-2, -1)), operator.index(offset))
    return _sum(d, axis=-1, dtype=dtype)


# ----------------------------------------------------------------------------- einsum
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _interleaved(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [sublist_out]) -> (subscripts, operands)."""
    def term(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[operator.index(s)] for s in sub)

    out = None
    if len(args) % 2:
        *args, out = args
    subscripts = ",".join(term(s) for s in args[1::2])
    return subscripts + ("" if out is None else "->" + term(out)), args[0::2]


def _parse_einsum(subscripts, ndims):
    """Input label strings (one char per axis, '...' expanded) and the output labels."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, rhs = subscripts.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum: {len(terms)} operand subscripts in {subscripts!r} but "
                         f"{len(ndims)} operands")
    n_ell = 0
    for t, nd in zip(terms, ndims):
        named = t.replace("...", "")
        if t.count("...") > 1 or "." in named or not builtins.all(c in _LETTERS for c in named):
            raise ValueError(f"einsum: invalid subscript {t!r} (letters and at most one '...')")
        if "..." in t:
            n_ell = builtins.max(n_ell, nd - len(named))
        elif len(named) != nd:
            raise ValueError(f"einsum: subscript {t!r} names {len(named)} axes but its operand "
                             f"has {nd}")
    ell = "".join(chr(0x100 + i) for i in range(n_ell))  # labels no user can write
    inputs = []
    for t, nd in zip(terms, ndims):
        k = nd - len(t.replace("...", ""))
        if k < 0:
            raise ValueError(f"einsum: subscript {t!r} names more axes than its operand's {nd}")
        inputs.append(t.replace("...", ell[n_ell - k:]))
    if arrow:
        if rhs.count("...") > 1 or not builtins.all(c in _LETTERS for c in rhs.replace("...", "")):
            raise ValueError(f"einsum: invalid output subscript {rhs!r}")
        output = rhs.replace("...", ell)
        seen = set("".join(inputs))
        for c in output:
            if c not in seen:
                raise ValueError(f"einsum: output label {c!r} does not appear in the inputs")
        if len(set(output)) != len(output):
            raise ValueError(f"einsum: output subscript {rhs!r} repeats a label")
    else:
        counts = {}
        for c in "".join(inputs):
            counts[c] = counts.get(c, 0) + 1
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return inputs, output


def _take_diagonals(x, labels):
    """Collapse repeated labels of one operand to their diagonal."""
    while True:
        dup = next((c for c in labels if labels.count(c) > 1), None)
        if dup is None:
            return x, labels
        i = labels.index(dup)
        j = labels.index(dup, i + 1)
        x = la.diagonal(moveaxis(x, (i, j), (-2, -1)))
        labels = "".join(c for k, c in enumerate(labels) if k not in (i, j)) + dup


def _sum_out(x, labels, keep):
    axes = tuple(i for i, c in enumerate(labels) if c not in keep)
    if not axes:
        return x, labels
    return reduce_sum(x, axes), "".join(c for c in labels if c in keep)


def _contract_pair(a, la_, b, lb, keep):
    """One dot_general: shared labels still needed are batch, other shared ones contract."""
    a, la_ = _sum_out(a, la_, keep | set(lb))
    b, lb = _sum_out(b, lb, keep | set(la_))
    shared = [c for c in la_ if c in lb]
    batch = [c for c in shared if c in keep]
    contract = [c for c in shared if c not in keep]
    dn = ((tuple(la_.index(c) for c in contract), tuple(lb.index(c) for c in contract)),
          (tuple(la_.index(c) for c in batch), tuple(lb.index(c) for c in batch)))
    out = la.dot_general(a, b, dn)
    labels = "".join(batch) + "".join(c for c in la_ if c not in shared) + \
        "".join(c for c in lb if c not in shared)
    return out, labels


def einsum(subscripts, *operands, out=None, optimize="greedy", precision=None):
    """Einstein summation (NumPy's grammar, incl. '...', implicit output, repeated labels
    and the interleaved operand/sublist form).  Operands contract pairwise, greedily
    choosing the pair with the smallest result; ``optimize`` is accepted and ignored."""
    if out is not None:
        raise NotImplementedError("einsum: out= is not supported (arrays are immutable)")
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved((subscripts,) + operands)
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    ops = _promote(*operands)
    inputs, output = _parse_einsum(subscripts, [o.ndim for o in ops])
    sizes = {}
    for x, labels in zip(ops, inputs):
        for c, n in zip(labels, x.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ShapeError(f"einsum: label {c!r} has size {sizes[c]} in one operand but "
                                 f"{n} in another ({subscripts!r} with shapes "
                                 f"{[o.shape for o in ops]})")
            sizes[c] = builtins.max(sizes.get(c, 1), n)
    terms = []
    for x, labels in zip(ops, inputs):
        x, labels = _take_diagonals(x, labels)
        # a size-1 axis broadcast against a longer one: drop it (the other operand has it)
        squeeze = [i for i, c in enumerate(labels) if x.shape[i] == 1 and sizes[c] != 1]
        if squeeze:
            x = reshape(x, [s for i, s in enumerate(x.shape) if i not in squeeze])
            labels = "".join(c for i, c in enumerate(labels) if i not in squeeze)
        terms.append((x, labels))
    out_set = set(output)
    while len(terms) > 1:
        i, j = _greedy_pair(terms, sizes, out_set)
        (a, la_), (b, lb) = terms[i], terms[j]
        rest = [t for k, t in enumerate(terms) if k not in (i, j)]
        keep = out_set.union(*(set(lbl) for _, lbl in rest))
        terms = rest + [_contract_pair(a, la_, b, lb, keep)]
    x, labels = _sum_out(*terms[0], out_set)
    return transpose(x, tuple(labels.index(c) for c in output))


def _greedy_pair(terms, sizes, out_set):
    """The pair whose contraction result is smallest (ties: leftmost)."""
    best = None
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            keep = out_set.union(*(set(t[1]) for k, t in enumerate(terms) if k not in (i, j)))
            result = set(terms[i][1] + terms[j][1]) & keep
            cost = 1
            for c in result:
                cost *= sizes[c]
            if best is None or cost < best[0]:
                best = (cost, i, j)
    return best[1], best[2]
