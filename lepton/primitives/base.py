"""Helpers that let each primitive declare its whole contract in one place.

``Zero`` is a symbolic zero tangent/cotangent (never materialised for integer
inputs or unused outputs); ``UndefinedPrimal`` marks the linear input of a
primitive during transposition.  ``defjvp``/``deflinear``/``defvectorized`` and the
batching helpers keep rules short.

This module is the bottom of ``lepton/primitives``: it imports no family.  The few ops that
its helpers (and the rules of the lower families) are written in, but that higher families
define, are reached through ``ops``, which each defining family fills as it is imported
(see ``_Ops``).  So the families import each other in one direction only.
"""
from __future__ import annotations

from .. import dtypes
from ..core import Primitive, ShapedArray, get_aval
from ..errors import DTypeError, ShapeError


# ----------------------------------------------------------------------------- ops from above
class _Ops:
    """Ops that rules below their family are written in.  Their rules are mutually recursive
    with those of lower families (a broadcast's transpose is a sum, a sum's transpose is a
    broadcast; materialising a zero tangent needs ``zeros``), so a one-way import order
    needs one place where a lower module reaches up: this one, which names every such op.
    Each is installed by the family that defines it (``provide``) when it is imported, and
    ``lepton.primitives`` imports every family before any rule can run."""

    __slots__ = ("zeros", "broadcast_in_dim", "moveaxis",  # structural
                 "add",  # elementwise
                 "reduce_sum",  # reductions
                 "slice_in_dim")  # slicing


ops = _Ops()


def provide(**fns):
    """Install ops for the lower families (called by the family that defines them)."""
    for name, fn in fns.items():
        setattr(ops, name, fn)


class Zero:
    """A symbolic zero of a given aval (tangent dtype: float0 for ints and bools)."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    @staticmethod
    def like(x):
        return Zero(tangent_aval(get_aval(x)))

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


class UndefinedPrimal:
    """Placeholder for the linear argument of a primitive being transposed."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"UndefinedPrimal({self.aval.str_short()})"


def is_undefined(x) -> bool:
    return type(x) is UndefinedPrimal


def tangent_aval(aval: ShapedArray) -> ShapedArray:
    """Tangent space of a value: same aval for inexact dtypes, float0 otherwise."""
    if dtypes.is_inexact(aval.dtype):
        return ShapedArray(aval.shape, aval.dtype, aval.weak_type)
    return ShapedArray(aval.shape, dtypes.float0, False)


def instantiate(t, aval=None):
    """Materialise a symbolic Zero as an array of zeros."""
    if type(t) is Zero:
        return ops.zeros(t.aval if aval is None else aval)
    return t


def add_tangents(a, b):
    if type(a) is Zero:
        return b
    if type(b) is Zero:
        return a
    return ops.add(a, b)


# ----------------------------------------------------------------------------- shape rules
def fail_shape(prim, msg, *avals, fix=""):
    ops = ", ".join(a.str_short() for a in avals)
    raise ShapeError(f"{prim}: {msg} (operands: {ops}).{' ' + fix if fix else ''}")


def fail_dtype(prim, msg, *avals, fix=""):
    ops = ", ".join(a.str_short() for a in avals)
    raise DTypeError(f"{prim}: {msg} (operands: {ops}).{' ' + fix if fix else ''}")


def same_shape_and_dtype(prim, avals, allow_mixed_dtype=False):
    a0 = avals[0]
    for a in avals[1:]:
        if a.shape != a0.shape:
            fail_shape(prim, "operands must have equal shapes", *avals,
                       fix="Broadcast them first (lepton.numpy does this for you).")
        if not allow_mixed_dtype and a.dtype != a0.dtype:
            fail_dtype(prim, "operands must have equal dtypes", *avals,
                       fix="Convert with .astype(...) (lepton.numpy promotes for you).")


def check_dtype_kind(prim, avals, kinds: str, what: str):
    for a in avals:
        if a.dtype.kind not in kinds:
            fail_dtype(prim, f"requires {what} operands", *avals)


def normalize_axis(axis: int, ndim: int, prim="") -> int:
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ShapeError(f"{prim}: axis {axis} is out of bounds for an array of rank {ndim}")
    return axis % ndim if ndim else 0


# ----------------------------------------------------------------------------- rule helpers
def defjvp(prim: Primitive, *rules, use_ans=False):
    """JVP from one rule per input: ``rule(t, *primals, ans=..., **params)`` (``None`` = zero).

    Contributions of non-Zero input tangents are summed.  Rules are written in lepton
    ops, so they can be differentiated again.
    """

    def jvp(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        out = None
        for rule, t in zip(rules, tangents):
            if rule is None or type(t) is Zero:
                continue
            c = rule(t, *primals, ans=ans, **params)
            out = c if out is None else add_tangents(out, c)
        if out is None:
            out = Zero.like(ans)
        return ans, out

    prim.jvp = jvp


def deflinear(prim: Primitive, transpose):
    """Mark ``prim`` linear in all its inputs: JVP applies it to the tangents.

    ``transpose(ct, *args, **params)`` returns one cotangent (or None/Zero) per input.
    """

    def jvp(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        if all(type(t) is Zero for t in tangents):
            return ans, Zero.like(ans)
        ts = [instantiate(t) for t in tangents]
        return ans, prim.bind(*ts, **params)

    prim.jvp = jvp
    prim.transpose = transpose
    prim.linear = True


def defnondiff(prim: Primitive):
    """Outputs are integer/boolean (or piecewise constant): tangents are zero."""

    def jvp(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        if prim.multiple_results:
            return ans, [Zero.like(a) for a in ans]
        return ans, Zero.like(ans)

    prim.jvp = jvp


def deflinear_in(prim: Primitive, nlinear: int, transpose, tangent_params=None):
    """Mark ``prim`` linear in its first ``nlinear`` operands; the rest are integer indices.

    The JVP applies ``prim`` to the tangents with the same indices (and
    ``tangent_params(params)`` if given, e.g. a zero fill value for out-of-bounds reads).
    """

    def jvp(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        ts = tangents[:nlinear]
        if all(type(t) is Zero for t in ts):
            return ans, Zero.like(ans)
        tparams = params if tangent_params is None else tangent_params(params)
        return ans, prim.bind(*(instantiate(t) for t in ts), *primals[nlinear:], **tparams)

    prim.jvp = jvp
    prim.transpose = transpose
    prim.linear = True


def defvectorized(prim: Primitive):
    """Batching for elementwise primitives: align batch dims, then apply as-is."""

    def batch(axis_size, vals, dims, **params):
        vals, bd = align_batched(axis_size, vals, dims)
        return prim.bind(*vals, **params), bd

    prim.batch = batch


def align_batched(axis_size, vals, dims):
    """Give every operand the same batched shape (batch dim first if they disagree)."""
    first = next(d for d in dims if d is not None)
    if all(d == first for d in dims):
        return list(vals), first
    return [move_to_front(v, d, axis_size) for v, d in zip(vals, dims)], 0


def move_to_front(x, d, axis_size):
    """Batch dim to axis 0; an unbatched value is broadcast to the batch size."""
    if d is None:
        shape = get_aval(x).shape
        return ops.broadcast_in_dim(x, (axis_size,) + shape, tuple(range(1, len(shape) + 1)))
    return ops.moveaxis(x, d, 0)


def index_dtype(avals):
    """int64 if any index is 64-bit, else int32."""
    return dtypes.int64 if any(a.dtype.itemsize == 8 for a in avals) else dtypes.int32
