"""``jax.lax`` conveniences built from lepton's primitives: ``Precision``, the ``*_in_dim``
slicing helpers, convolution shape helpers, ``top_k``, and small names such as
``clamp``, ``collapse``, ``split`` and ``sort_key_val``.

``precision=`` is accepted (and validated) wherever JAX accepts it but has no effect: the
CPU backends always compute in the operands' own precision, which is JAX's ``HIGHEST``.
"""
from __future__ import annotations

import builtins
import collections
import enum
import operator

import numpy as np

from . import dtypes
from . import tree
from . import numpy as lnp
from .core import Tracer, get_aval
from .primitives import conv as _conv
from .primitives import elementwise as ew
from .primitives import linalg as _linalg
from .primitives import reductions as _red
from .primitives import slicing as _slicing
from .errors import ShapeError
from .primitives.sorting import argsort as _argsort
from .primitives.sorting import sort as _sort


class Precision(enum.Enum):
    """Matmul/convolution precision hint, as ``jax.lax.Precision``.

    Accepted for compatibility and ignored: lepton's CPU kernels always compute in the
    operands' dtype (what JAX calls ``HIGHEST``).  Strings such as ``'highest'`` or
    ``'float32'`` convert as in JAX.
    """
    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2

    @classmethod
    def _missing_(cls, value):
        names = {"default": cls.DEFAULT, "bfloat16": cls.DEFAULT, "fastest": cls.DEFAULT,
                 "high": cls.HIGH, "bfloat16_3x": cls.HIGH, "tensorfloat32": cls.HIGH,
                 "highest": cls.HIGHEST, "float32": cls.HIGHEST}
        if isinstance(value, str) and value.lower() in names:
            return names[value.lower()]
        return None

    def __str__(self):
        return self.name


def canonicalize_precision(precision, name="dot_general"):
    """``None``, a ``Precision`` (or its string), or a pair of them; else a clear error."""
    if precision is None:
        return None
    try:
        if isinstance(precision, (tuple, list)):
            if len(precision) != 2:
                raise ValueError
            return tuple(Precision(p) if p is not None else None for p in precision)
        return Precision(precision)
    except ValueError:
        raise ValueError(f"lax.{name}: precision must be None, a lax.Precision (DEFAULT, HIGH, "
                         f"HIGHEST), one of its strings, or a pair of them; got "
                         f"{precision!r}") from None


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """XLA's DotGeneral: ``((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))``.
    ``precision`` is validated and ignored (see ``Precision``)."""
    canonicalize_precision(precision, "dot_general")
    return _linalg.dot_general(lhs, rhs, dimension_numbers, preferred_element_type)


def dot(lhs, rhs, precision=None, preferred_element_type=None):
    """Vector/matrix products of 1-d and 2-d operands without broadcasting (``lax.dot``)."""
    canonicalize_precision(precision, "dot")
    a, b = get_aval(lhs), get_aval(rhs)
    if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2) or a.shape[-1] != b.shape[0]:
        raise TypeError(f"lax.dot: needs 1-d or 2-d operands with lhs.shape[-1] == "
                        f"rhs.shape[0], got {a.str_short()} and {b.str_short()}; use "
                        f"lax.dot_general or lepton.numpy.matmul for batched products")
    return _linalg.dot_general(lhs, rhs, (((a.ndim - 1,), (0,)), ((), ())),
                               preferred_element_type)


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                         batch_group_count=1, precision=None, preferred_element_type=None):
    """N-d convolution (``jax.lax.conv_general_dilated``).  ``precision`` is validated and
    ignored; ``preferred_element_type`` converts the result; ``batch_group_count`` must be 1."""
    canonicalize_precision(precision, "conv_general_dilated")
    if batch_group_count != 1:
        raise NotImplementedError("lax.conv_general_dilated: batch_group_count > 1 is not "
                                  "supported; fold the groups into the feature axis instead")
    out = _conv.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation,
                                     rhs_dilation, dimension_numbers, feature_group_count)
    if preferred_element_type is not None:
        out = ew.convert_element_type(out, dtypes.canonicalize(preferred_element_type))
    return out


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """NCHW/OIHW convolution without dilation (``lax.conv``)."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


# ----------------------------------------------------------------------------- conv shapes
ConvDimensionNumbers = collections.namedtuple("ConvDimensionNumbers",
                                              ["lhs_spec", "rhs_spec", "out_spec"])


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers=None):
    """``ConvDimensionNumbers`` (axis positions of batch/feature/spatial dims).

    JAX's form is ``conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers)`` with
    ``dimension_numbers`` None (NCHW/OIHW/NCHW), layout strings or a
    ``ConvDimensionNumbers``.  lepton's older form ``conv_dimension_numbers('NHWC', 'HWIO',
    'NHWC')`` (three layout strings) is still accepted.
    """
    if isinstance(lhs_shape, str):
        return ConvDimensionNumbers(*_conv.conv_dimension_numbers(lhs_shape, rhs_shape,
                                                                   dimension_numbers))
    nd = len(lhs_shape)
    if len(rhs_shape) != nd:
        raise TypeError(f"lax.conv_dimension_numbers: lhs and rhs must have the same rank, "
                        f"got shapes {tuple(lhs_shape)} and {tuple(rhs_shape)}")
    if dimension_numbers is None:
        return ConvDimensionNumbers(*(tuple(range(nd)),) * 3)
    if isinstance(dimension_numbers[0], str):
        if any(len(s) != nd for s in dimension_numbers):
            raise TypeError(f"lax.conv_dimension_numbers: layouts {tuple(dimension_numbers)} "
                            f"must have {nd} letters to match shapes {tuple(lhs_shape)}")
        return ConvDimensionNumbers(*_conv.conv_dimension_numbers(*dimension_numbers))
    return ConvDimensionNumbers(*(tuple(int(d) for d in s) for s in dimension_numbers))


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                             dimension_numbers):
    """The output shape of ``conv_general_dilated`` without dilation (as JAX)."""
    lhs_perm, rhs_perm, out_perm = conv_dimension_numbers(lhs_shape, rhs_shape,
                                                          dimension_numbers)
    lhs_t = [int(lhs_shape[i]) for i in lhs_perm]
    rhs_t = [int(rhs_shape[i]) for i in rhs_perm]
    strides = tuple(int(s) for s in window_strides)
    if len(strides) != len(lhs_t) - 2:
        raise TypeError(f"lax.conv_general_shape_tuple: window_strides {strides} needs "
                        f"{len(lhs_t) - 2} entries")
    pads = _conv.padtype_to_pads(lhs_t[2:], rhs_t[2:], strides, padding)
    spatial = [max(0, (n + lo + hi - k) // s + 1) if n + lo + hi >= k else 0
               for n, k, s, (lo, hi) in zip(lhs_t[2:], rhs_t[2:], strides, pads)]
    out_t = [lhs_t[0], rhs_t[0]] + spatial
    out = [0] * len(out_t)
    for pos, size in zip(out_perm, out_t):
        out[pos] = size
    return tuple(out)


# ----------------------------------------------------------------------------- *_in_dim
def _axis(name, axis, ndim):
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"lax.{name}: axis {axis} is out of range for a {ndim}-d operand")
    return axis % ndim


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """``operand[start:limit:stride]`` along ``axis``; None and negative indices as Python."""
    shape = get_aval(operand).shape
    axis = _axis("slice_in_dim", axis, len(shape))
    start, limit, _ = builtins.slice(start_index, limit_index).indices(shape[axis])
    limit = max(start, limit)
    return _slicing.slice_in_dim(operand, start, limit, int(stride), axis)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """The ``index``-th slice along ``axis`` (negative indices count from the end)."""
    shape = get_aval(operand).shape
    axis = _axis("index_in_dim", axis, len(shape))
    index = operator.index(index)
    if not -shape[axis] <= index < shape[axis]:
        raise IndexError(f"lax.index_in_dim: index {index} is out of bounds for axis {axis} "
                         f"of size {shape[axis]}")
    index %= shape[axis]
    out = _slicing.slice_in_dim(operand, index, index + 1, 1, axis)
    return out if keepdims else lnp.squeeze(out, axis)


def _start_indices(operand, start_index, axis):
    ndim = get_aval(operand).ndim
    return [start_index if d == axis else 0 for d in range(ndim)]


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *,
                         allow_negative_indices=True):
    """``slice_size`` elements from the (traced) ``start_index`` along ``axis`` (clamped)."""
    shape = get_aval(operand).shape
    axis = _axis("dynamic_slice_in_dim", axis, len(shape))
    sizes = list(shape)
    sizes[axis] = int(slice_size)
    return _slicing.dynamic_slice(operand, _start_indices(operand, start_index, axis), sizes,
                                  allow_negative_indices=allow_negative_indices)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *, allow_negative_indices=True):
    """The slice at the (traced) ``index`` along ``axis``."""
    axis = _axis("dynamic_index_in_dim", axis, get_aval(operand).ndim)
    out = dynamic_slice_in_dim(operand, index, 1, axis,
                               allow_negative_indices=allow_negative_indices)
    return out if keepdims else lnp.squeeze(out, axis)


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *,
                                allow_negative_indices=True):
    """``operand`` with ``update`` written from the (traced) ``start_index`` along ``axis``."""
    axis = _axis("dynamic_update_slice_in_dim", axis, get_aval(operand).ndim)
    return _slicing.dynamic_update_slice(operand, update,
                                         _start_indices(operand, start_index, axis),
                                         allow_negative_indices=allow_negative_indices)


def dynamic_update_index_in_dim(operand, update, index, axis, *, allow_negative_indices=True):
    """``operand`` with the slice at ``index`` along ``axis`` replaced by ``update``."""
    axis = _axis("dynamic_update_index_in_dim", axis, get_aval(operand).ndim)
    if get_aval(update).ndim == get_aval(operand).ndim - 1:
        update = lnp.expand_dims(update, axis)
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)


# ----------------------------------------------------------------------------- top_k
def top_k(operand, k):
    """The ``k`` largest entries along the last axis, descending, and their int32 indices.

    Ties keep the lower index first (as XLA's TopK); NaN counts as largest.  Differentiable
    through the values (the gradient flows to the selected entries).
    """
    aval = get_aval(operand)
    k = operator.index(k)
    if aval.ndim == 0:
        raise TypeError(f"lax.top_k: operand must have at least one axis, got "
                        f"{aval.str_short()}")
    n = aval.shape[-1]
    if not 0 <= k <= n:
        raise ValueError(f"lax.top_k: k={k} must be between 0 and the last axis size {n} of "
                         f"{aval.str_short()}")
    last = aval.ndim - 1
    # A stable ascending sort of the reversed row, read backwards, is a descending order in
    # which equal keys keep increasing original indices.
    order = _argsort(_slicing.rev(operand, (last,)), last)
    order = _slicing.slice_in_dim(_slicing.rev(order, (last,)), 0, k, 1, last)
    idx = ew.sub(lnp.full(order.shape, n - 1, dtypes.int32), order)
    return lnp.take_along_axis(operand, idx, axis=-1), idx


# ----------------------------------------------------------------------------- small lax names
# broadcast, broadcast_to_rank, clamp, collapse, full_like, exp2, batch_matmul,
# broadcast_shapes, tile, split, sort_key_val: compositions of lepton.numpy / primitives.
# Shapes are checked as lax does (no NumPy broadcasting where lax has none), with errors
# that name the shapes.
def broadcast(operand, sizes):
    """``operand`` with new leading axes of ``sizes`` (``lax.broadcast``)."""
    x = lnp.asarray(operand)
    return lnp.broadcast_to(x, tuple(sizes) + x.shape)


def broadcast_to_rank(x, rank):
    """``x`` with leading size-1 axes added up to ``rank`` dimensions."""
    x = lnp.asarray(x)
    if rank < x.ndim:
        raise ShapeError(f"lax.broadcast_to_rank: rank {rank} is below x's {x.ndim} "
                         f"dimensions (shape {x.shape})")
    return x.reshape((1,) * (rank - x.ndim) + x.shape)


def broadcast_shapes(*shapes):
    """The NumPy broadcast of shapes, as a tuple."""
    return tuple(lnp.broadcast_shapes(*shapes))


def clamp(min, x, max):
    """``min <= x <= max`` elementwise: min and max are scalars or have x's shape; all
    three share one dtype (as lax)."""
    x = lnp.asarray(x)
    lo, hi = lnp.asarray(min, x.dtype), lnp.asarray(max, x.dtype)
    for name, b in (("min", lo), ("max", hi)):
        if b.shape not in ((), x.shape):
            raise ShapeError(f"lax.clamp: {name} must be a scalar or have x's shape {x.shape}, "
                             f"got shape {b.shape}")
    return lnp.minimum(lnp.maximum(x, lo), hi)


def collapse(operand, start_dimension, stop_dimension=None):
    """Axes ``start_dimension:stop_dimension`` (negative values count from the end)
    merged into one."""
    x = lnp.asarray(operand)
    start = start_dimension + x.ndim if start_dimension < 0 else start_dimension
    stop = x.ndim if stop_dimension is None else (
        stop_dimension + x.ndim if stop_dimension < 0 else stop_dimension)
    if not 0 <= start <= stop <= x.ndim:
        raise ShapeError(f"lax.collapse: bad dimensions {start_dimension}:{stop_dimension} "
                         f"for shape {x.shape}")
    size = 1
    for s in x.shape[start:stop]:
        size *= s
    return x.reshape(x.shape[:start] + (size,) + x.shape[stop:])


def full_like(x, fill_value, dtype=None, shape=None, sharding=None):
    """An array of ``fill_value`` with x's shape and dtype (or the given ones)."""
    a = get_aval(lnp.asarray(x))
    return lnp.full(a.shape if shape is None else tuple(shape), fill_value,
                    dtype=a.dtype if dtype is None else dtype)


def exp2(x, *, accuracy=None):
    """2 ** x."""
    return lnp.exp2(x)


def batch_matmul(lhs, rhs, precision=None):
    """Batched matrix product of operands of equal rank >= 2 and equal batch axes."""
    a, b = lnp.asarray(lhs), lnp.asarray(rhs)
    if a.ndim < 2 or a.ndim != b.ndim or a.shape[:-2] != b.shape[:-2]:
        raise ShapeError(f"lax.batch_matmul: operands need equal rank >= 2 and equal batch "
                         f"axes, got shapes {a.shape} and {b.shape}")
    return lnp.matmul(a, b)


def tile(operand, reps):
    x = lnp.asarray(operand)
    reps = tuple(reps)
    if len(reps) != x.ndim:
        raise ShapeError(f"lax.tile: reps {reps} must have one entry per axis of shape "
                         f"{x.shape}")
    return lnp.tile(x, reps)


def split(operand, sizes, axis=0):
    """``operand`` cut along ``axis`` into pieces of ``sizes`` (which must add up)."""
    x = lnp.asarray(operand)
    sizes = [int(s) for s in sizes]
    if builtins.sum(sizes) != x.shape[axis]:
        raise ShapeError(f"lax.split: sizes {sizes} add up to {builtins.sum(sizes)}, not to "
                         f"axis {axis}'s length {x.shape[axis]} (shape {x.shape})")
    out, start = [], 0
    for s in sizes:
        out.append(_slicing.slice_in_dim(x, start, start + s, 1, axis % x.ndim))
        start += s
    return out


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """``keys`` sorted along ``dimension`` and ``values`` permuted alike."""
    k, v = lnp.asarray(keys), lnp.asarray(values)
    if k.shape != v.shape:
        raise ShapeError(f"lax.sort_key_val: keys and values need one shape, got {k.shape} "
                         f"and {v.shape}")
    return tuple(_sort((k, v), dimension=dimension, is_stable=is_stable, num_keys=1))


# ----------------------------------------------------------------------------- reduce
def _monoid_reducers():
    """computation -> (primitive reduction, identity test) for the common monoids."""
    table = {}
    for fns, r, ident in (
            ((ew.add, lnp.add, operator.add), _red.reduce_sum, lambda v: v == 0),
            ((ew.mul, lnp.multiply, operator.mul), _red.reduce_prod, lambda v: v == 1),
            ((ew.max, lnp.maximum), _red.reduce_max, lambda v: v == _lowest(v)),
            ((ew.min, lnp.minimum), _red.reduce_min, lambda v: v == _highest(v))):
        for f in fns:
            table[f] = (r, ident)
    return table


def _lowest(v):
    v = np.asarray(v)
    return -np.inf if v.dtype.kind == "f" else (False if v.dtype.kind == "b" else
                                                 np.iinfo(v.dtype).min)


def _highest(v):
    v = np.asarray(v)
    return np.inf if v.dtype.kind == "f" else (True if v.dtype.kind == "b" else
                                                np.iinfo(v.dtype).max)


def reduce(operands, init_values, computation, dimensions):
    """``jax.lax.reduce``: fold ``dimensions`` of ``operands`` with ``computation``.

    ``operands``/``init_values`` are one array each or matching pytrees (variadic
    reductions: ``computation`` then maps pairs of such pytrees to one).  add/mul/max/min
    with their identity as init lower to one reduction primitive; any other (associative,
    commutative) computation is applied as a log-depth tree of elementwise calls, so it
    works under jit, grad and vmap.  ``init_values`` is combined once per output element
    (exact when it is the computation's identity, as XLA requires)."""
    ops, treedef = tree.flatten(operands)
    inits, init_tree = tree.flatten(init_values)
    if treedef != init_tree:
        raise TypeError(f"lax.reduce: operands and init_values must have the same structure, "
                        f"got {treedef} and {init_tree}")
    ops = [lnp.asarray(o) for o in ops]
    shape = ops[0].shape
    if any(o.shape != shape for o in ops):
        raise ShapeError(f"lax.reduce: operands need one shape, got "
                         f"{[tuple(o.shape) for o in ops]}")
    dims = tuple(sorted({_axis("reduce", d, len(shape)) for d in dimensions}))
    inits = [lnp.asarray(i, dtype=o.dtype) for i, o in zip(inits, ops)]
    if any(i.ndim != 0 for i in inits):
        raise ShapeError(f"lax.reduce: init_values must be scalars, got shapes "
                         f"{[tuple(i.shape) for i in inits]}")
    if len(ops) == 1:
        hit = _monoid_reducers().get(computation) if _hashable(computation) else None
        init = _concrete(inits[0])
        if hit is not None and init is not None and hit[1](init):
            return tree.unflatten(treedef, [hit[0](ops[0], dims)])
    keep = [d for d in range(len(shape)) if d not in dims]
    n = int(np.prod([shape[d] for d in dims], dtype=np.int64))
    rest = tuple(shape[d] for d in keep)
    xs = [lnp.reshape(lnp.transpose(o, dims + tuple(keep)), (n,) + rest) for o in ops]

    def combine(a, b):
        out = computation(tree.unflatten(treedef, a), tree.unflatten(treedef, b))
        return [lnp.asarray(v, dtype=o.dtype) for v, o in zip(tree.flatten(out)[0], ops)]

    full = [lnp.broadcast_to(i, rest) for i in inits]
    while n > 1:
        if n % 2:
            xs = [lnp.concatenate([x, f[None]]) for x, f in zip(xs, full)]
            n += 1
        half = n // 2
        xs = combine([x[:half] for x in xs], [x[half:] for x in xs])
        n = half
    res = full if n == 0 else combine(full, [x[0] for x in xs])
    return tree.unflatten(treedef, res)


def _hashable(f):
    try:
        hash(f)
        return True
    except TypeError:
        return False


def _concrete(x):
    return None if isinstance(x, Tracer) else np.asarray(x)


# ----------------------------------------------------------------------------- conv_transpose
def _conv_transpose_padding(k, s, padding):
    """(lo, hi) padding of the dilated input that makes conv_transpose match JAX."""
    if padding == "SAME":
        pad_len = k + s - 2
        pad_a = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
    elif padding == "VALID":
        pad_len = k + s - 2 + builtins.max(k - s, 0)
        pad_a = k - 1
    else:
        raise ValueError(f"lax.conv_transpose: padding must be 'SAME', 'VALID' or a sequence "
                         f"of (lo, hi) pairs, got {padding!r}")
    return pad_a, pad_len - pad_a


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, precision=None, preferred_element_type=None):
    """``jax.lax.conv_transpose``: the gradient-of-conv style upsampling convolution.

    As JAX: the input is dilated by ``strides`` and convolved with unit strides; the
    default layouts are channels-last (NC, NHC, NHWC, NHWDC with IO, HIO, HWIO, HWDIO);
    ``transpose_kernel=True`` flips the spatial axes and swaps the kernel's I/O axes."""
    lhs, rhs = lnp.asarray(lhs), lnp.asarray(rhs)
    nd = lhs.ndim
    if rhs.ndim != nd or nd < 2:
        raise ShapeError(f"lax.conv_transpose: lhs and rhs need the same rank >= 2, got "
                         f"shapes {lhs.shape} and {rhs.shape}")
    if dimension_numbers is None:
        dimension_numbers = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"),
                             4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}[nd]
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    k_sdims = [rhs.shape[i] for i in dn.rhs_spec[2:]]
    strides = tuple(int(s) for s in strides)
    if len(strides) != nd - 2:
        raise ShapeError(f"lax.conv_transpose: strides {strides} needs {nd - 2} entries for "
                         f"shapes {lhs.shape} and {rhs.shape}")
    rhs_dilation = (1,) * (nd - 2) if rhs_dilation is None else tuple(rhs_dilation)
    eff = [(k - 1) * r + 1 if k else 0 for k, r in zip(k_sdims, rhs_dilation)]
    if isinstance(padding, str):
        pads = [_conv_transpose_padding(k, s, padding.upper()) for k, s in zip(eff, strides)]
    else:
        pads = [tuple(p) for p in padding]
    if transpose_kernel:
        rhs = lnp.flip(rhs, tuple(dn.rhs_spec[2:]))
        rhs = lnp.swapaxes(rhs, dn.rhs_spec[0], dn.rhs_spec[1])
    return conv_general_dilated(lhs, rhs, (1,) * (nd - 2), pads, strides, rhs_dilation, dn,
                                precision=precision,
                                preferred_element_type=preferred_element_type)
