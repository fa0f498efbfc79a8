"""Indexing: ``x[idx]``, ``x.at[idx]`` updates, take, take_along_axis, nonzero, diagonal, ...

``x[idx]`` follows NumPy: ints (negative too), slices (any step), None, Ellipsis,
integer arrays with NumPy's advanced-indexing rules (a group of advanced indices
separated by a slice, None or Ellipsis moves to the front), concrete boolean masks,
and tuples of these.  Basic indices lower to ``slice``/``rev``/``reshape``; integer
arrays to ``gather``.  A read at a concrete index out of bounds raises IndexError, as
NumPy (JAX clamps it: a read of another element would be a silent wrong answer); traced
indices are clamped by reads, since their values are unknown while tracing.  ``.at``
updates drop out-of-bounds indices, concrete or traced, as JAX does (NumPy raises): an
update then means the same eagerly and under jit, and JAX code that marks unused slots
with an out-of-range index (``x.at[ids].add(v)`` with ``ids == n``) runs unchanged.

``x.at[idx].set(v)`` (and add, subtract, multiply, divide, power, min, max) returns
an updated copy built on the scatter primitives.  With repeated indices, ``add`` and
``multiply`` accumulate every update, ``set`` keeps the last one.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from .. import dtypes
from ..core import Array, Tracer, trace_context as _ctx
from ..errors import ConcretizationError, DTypeError, ShapeError
from ..primitives import elementwise as ew
from ..primitives import indexing as ix
from ..primitives import slicing as sl
from ..primitives import structural as st
from ..primitives.reductions import cumsum, reduce_sum
from ._shape import atleast_1d, gather_axis, moveaxis, ravel, stack
from .util import (_contains_traced, asarray, broadcast_shapes, broadcast_to, normalize_axis,
                    to_dtype)

__all__ = ["take", "take_along_axis", "nonzero", "argwhere", "flatnonzero", "diagonal", "diag",
           "tril", "triu", "searchsorted", "indices"]

_BAD_INDEX = ("only integers, slices (`:`), ellipsis (`...`), None (`lnp.newaxis`) and integer "
              "or boolean arrays are valid indices")


# ----------------------------------------------------------------------------- parsing
def _static_slice(s, n):
    """(start, limit, stride, reversed, length) reading ``s`` on an axis of size ``n``."""
    start, stop, step = builtins.slice(*(None if c is None else operator.index(c)
                                         for c in (s.start, s.stop, s.step))).indices(n)
    m = len(range(start, stop, step))
    if m == 0:
        return 0, 0, 1, False, 0
    if step > 0:
        return start, start + (m - 1) * step + 1, step, False, m
    lo = start + (m - 1) * step
    return lo, start + 1, -step, True, m


def _classify(it):
    """One index item as (kind, value): new, ellipsis, slice, bool, int, mask or array."""
    if it is None:
        return "new", None
    if it is Ellipsis:
        return "ellipsis", None
    if isinstance(it, builtins.slice):
        return "slice", it
    if isinstance(it, (bool, np.bool_)):
        return "bool", bool(it)
    if isinstance(it, (int, np.integer)):
        return "int", int(it)
    if isinstance(it, Tracer):
        if it.aval.dtype == dtypes.bool_:
            raise ConcretizationError(
                f"boolean mask indexing with a traced {it.aval.str_short()} mask has a "
                "data-dependent shape. Use lnp.where(mask, x, other), or "
                "lnp.nonzero(mask, size=...) to get fixed-size integer indices.")
        if it.aval.dtype.kind not in "iu":
            raise IndexError(f"{_BAD_INDEX}; got a {it.aval.str_short()} array")
        return "array", it
    if isinstance(it, (list, tuple)) and _contains_traced(it):
        return _classify(asarray(it))
    v = np.asarray(it._value if type(it) is Array else it)
    if v.size == 0 and isinstance(it, (list, tuple)):
        v = v.astype(np.intp)  # `[]` selects nothing
    if v.dtype == np.bool_:
        return ("bool", bool(v)) if v.ndim == 0 else ("mask", v)
    if v.dtype.kind not in "iu":
        raise IndexError(f"{_BAD_INDEX}; got {it!r}")
    return ("int", int(v)) if v.ndim == 0 else ("array", v)


def _parse(shape, idx, strict):
    """Expand ``idx`` to one entry per output/operand axis.

    Entries: ("new", None, None), ("ellipsis", None, None) (it separates advanced indices
    even when it covers no axis), ("slice", axis, _static_slice), ("int", axis, int) and
    ("array", axis, index array).  Scalar booleans insert an axis into the operand, so the
    shape to index is returned too.  Unless ``strict``, ints become 0-d arrays (no bounds
    check: the mode decides).
    """
    items = [_classify(it) for it in (idx if isinstance(idx, tuple) else (idx,))]
    consumed = sum(v.ndim if k == "mask" else 1 for k, v in items
                   if k in ("slice", "int", "array", "mask"))
    if sum(k == "ellipsis" for k, _ in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, "
                         f"but {consumed} were indexed")
    if not any(k == "ellipsis" for k, _ in items):
        items.append(("ellipsis", None))
    n_ellipsis = len(shape) - consumed
    shape, entries, ax = list(shape), [], 0
    for kind, v in items:
        if kind == "new":
            entries.append(("new", None, None))
        elif kind == "ellipsis":
            entries.append(("ellipsis", None, None))  # separates advanced indices
            for _ in range(n_ellipsis):
                entries.append(("slice", ax, _static_slice(builtins.slice(None), shape[ax])))
                ax += 1
        elif kind == "slice":
            entries.append(("slice", ax, _static_slice(v, shape[ax])))
            ax += 1
        elif kind == "int":
            if strict and not -shape[ax] <= v < shape[ax]:
                raise IndexError(f"index {v} is out of bounds for axis {ax} with size "
                                 f"{shape[ax]}")
            entries.append(("int", ax, v % shape[ax]) if strict else
                           ("array", ax, np.asarray(v)))
            ax += 1
        elif kind == "bool":
            shape.insert(ax, 1)
            entries.append(("array", ax, np.arange(int(v))))
            ax += 1
        elif kind == "mask":
            if v.shape != tuple(shape[ax:ax + v.ndim]):
                raise IndexError(f"boolean index of shape {v.shape} does not match the indexed "
                                 f"axes {tuple(shape[ax:ax + v.ndim])} (from axis {ax})")
            entries.extend(("array", ax + k, nz) for k, nz in enumerate(np.nonzero(v)))
            ax += v.ndim
        else:
            entries.append(("array", ax, v))
            ax += 1
    return entries, tuple(shape)


def _index_array(i, n, strict, axis):
    """Integer index array with negative entries counted from the end."""
    if isinstance(i, Tracer):
        if i.aval.dtype.kind == "u":
            return i
        if i.aval.dtype.itemsize < 4:
            i = to_dtype(i, dtypes.int32)
        return ew.select(ew.lt(i, _const(i, 0)), ew.add(i, _const(i, n)), i)
    i = np.asarray(i)
    if strict and i.size and ((i < -n) | (i >= n)).any():
        bad = i[(i < -n) | (i >= n)].flat[0]
        raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")
    i = np.where(i < 0, i + n, i) if i.dtype.kind == "i" else i
    fits = i.size == 0 or (i.min() >= -2**31 and i.max() < 2**31)
    return asarray(i.astype(dtypes.int32 if fits else dtypes.int64))


def _const(x, value):
    return st.full(x.aval.shape, value, x.aval.dtype)


def _broadcast_indices(arrays):
    try:
        b = broadcast_shapes(*(a.aval.shape for a in arrays))
    except ValueError:
        raise IndexError("shape mismatch: indexing arrays could not be broadcast together "
                         f"with shapes {' '.join(str(a.aval.shape) for a in arrays)}") from None
    return [broadcast_to(a, b) for a in arrays], b


class _Plan:
    """An index expression as a gather: indexed axes, index arrays, and how the gather's
    result (index shape, then the other axes) is arranged into NumPy's result layout."""

    def __init__(self, shape, idx, strict, slices_as_arrays):
        entries, self.shape = _parse(shape, idx, strict)
        self.entries = entries
        has_array = any(k == "array" for k, _, _ in entries)
        adv = [p for p, (k, _, _) in enumerate(entries) if k == "array" or
               (k == "int" and (has_array or slices_as_arrays))]
        self.adjacent = adv == list(range(adv[0], adv[0] + len(adv))) if adv else True
        arrays = [_index_array(entries[p][2], self.shape[entries[p][1]], strict, entries[p][1])
                  for p in adv]
        arrays, self.b = _broadcast_indices(arrays) if arrays else ([], ())
        # partial slices become index arrays of their own axes (for scatters)
        parts = [p for p, (k, _, s) in enumerate(entries) if k == "slice" and slices_as_arrays
                 and s[:4] != (0, self.shape[entries[p][1]], 1, False)]
        grid = self.b + tuple(entries[p][2][4] for p in parts)
        nb = len(self.b)
        self.arrays = [st.broadcast_in_dim(a, grid, tuple(range(nb))) for a in arrays]
        for k, p in enumerate(parts):
            start, limit, stride, flip, m = entries[p][2]
            vals = np.arange(start, limit, stride)[::-1 if flip else 1]
            self.arrays.append(st.broadcast_in_dim(asarray(vals.astype(np.int32)), grid,
                                                   (nb + k,)))
        self.axes = tuple(entries[p][1] for p in adv + parts)
        # labels of the gather output: index dims, partial slices, untouched axes
        rest = [p for p, (k, _, _) in enumerate(entries) if k in ("slice", "int")
                and p not in adv and p not in parts]
        gathered = [("b", d) for d in range(nb)] + [("e", p) for p in parts + rest]
        layout = [("e", p) for p, (k, _, _) in enumerate(entries)
                  if k in ("slice", "int") and p not in adv]
        at = sum(1 for lab in layout if lab[1] < adv[0]) if adv and self.adjacent else 0
        layout[at:at] = [("b", d) for d in range(nb)]
        self.perm = tuple(gathered.index(lab) for lab in layout)
        self.layout_shape = tuple(self._size(lab) for lab in layout)
        self.out_shape = self._out_shape(adv)

    def _size(self, lab):
        kind, p = lab
        if kind == "b":
            return self.b[p]
        k, ax, s = self.entries[p]
        return s[4] if k == "slice" else 1

    def _out_shape(self, adv):
        out = [] if self.adjacent else list(self.b)
        for p, (k, ax, s) in enumerate(self.entries):
            if p in adv:
                if self.adjacent and p == adv[0]:
                    out.extend(self.b)
            elif k == "new":
                out.append(1)
            elif k == "slice":
                out.append(s[4])
        return tuple(out)


def _gather_mode(mode):
    if mode in (None, "clip", "promise_in_bounds"):
        return "clip"
    if mode in ("fill", "drop"):
        return "fill"
    raise ValueError(f"indexing mode must be one of None, 'clip', 'fill', 'drop' or "
                     f"'promise_in_bounds', got {mode!r}")


def _has_tracer(x):
    if isinstance(x, Tracer):
        return True
    return isinstance(x, (list, tuple)) and builtins.any(_has_tracer(e) for e in x)


_NOT_EAGER = object()


def _eager_index(x, idx):
    """``idx`` in NumPy terms when ``x`` and ``idx`` are concrete outside any transform.

    Then NumPy's own indexing is the spec (and fast); otherwise ``_NOT_EAGER``.
    """
    if _ctx.trace.parent is not None or type(x) is not Array or _has_tracer(idx):
        return _NOT_EAGER
    if type(idx) is tuple:
        return tuple(i._value if type(i) is Array else i for i in idx)
    return idx._value if type(idx) is Array else idx


def _getitem(x, idx, mode=None, fill_value=None):
    """``x[idx]`` with NumPy semantics (see the module docstring)."""
    eager = _eager_index(x, idx) if mode is None else _NOT_EAGER
    if eager is not _NOT_EAGER:
        v = np.asarray(x._value[eager])
        return Array(v, x.aval.update(shape=v.shape))
    x = asarray(x)
    plan = _Plan(x.aval.shape, idx, mode is None, slices_as_arrays=False)
    x = st.reshape(x, plan.shape)
    starts, limits, strides, flips = [0] * len(plan.shape), list(plan.shape), [1] * len(
        plan.shape), []
    for kind, ax, s in plan.entries:
        if kind == "slice":
            starts[ax], limits[ax], strides[ax] = s[:3]
            flips += [ax] if s[3] else []
        elif kind == "int" and ax not in plan.axes:
            starts[ax], limits[ax] = s, s + 1
    x = sl.rev(sl.slice(x, starts, limits, strides), flips)
    if plan.arrays:
        gmode = _gather_mode(mode)
        x = ix.gather(x, plan.arrays, plan.axes, gmode, fill_value if gmode == "fill" else None)
        x = st.transpose(x, plan.perm)
    return st.reshape(x, plan.out_shape)


# ----------------------------------------------------------------------------- .at[...]
class _IndexUpdateHelper:
    """``x.at[idx]``: functional updates, ``x.at[idx].set(v)`` instead of ``x[idx] = v``."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, idx):
        return _IndexUpdateRef(self.array, idx)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


def _scatter_mode(mode):
    if mode in (None, "drop", "fill"):
        return "drop"
    if mode in ("clip", "promise_in_bounds"):
        return "clip"
    raise ValueError(f"update mode must be one of None, 'drop', 'fill', 'clip' or "
                     f"'promise_in_bounds', got {mode!r}")


_UFUNC_AT = {ix.scatter_add: np.add, ix.scatter_mul: np.multiply, ix.scatter_min: np.minimum,
             ix.scatter_max: np.maximum}


def _index_text(index) -> str:
    """``index`` as the user wrote it between brackets (``1:3, ::2``), for messages."""
    if isinstance(index, tuple):
        return ", ".join(_index_text(i) for i in index)
    if isinstance(index, slice):
        parts = ["" if v is None else str(v) for v in (index.start, index.stop, index.step)]
        return ":".join(parts if parts[2] else parts[:2])
    return "..." if index is Ellipsis else repr(index)


_METHODS = {ix.scatter_add: "add", ix.scatter_mul: "multiply", ix.scatter_min: "min",
            ix.scatter_max: "max"}


class _IndexUpdateRef:
    """``x.at[idx]``; each method returns a new array (``x`` itself is never changed)."""

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, mode=None, fill_value=None):
        return _getitem(self.array, self.index, mode, fill_value)

    def _scatter(self, prim, values, mode, base=None):
        x = asarray(self.array if base is None else base)
        eager = _eager_index(x, self.index) if mode is None and not _has_tracer(values) \
            else _NOT_EAGER
        if eager is not _NOT_EAGER:  # NumPy's indexed assignment / ufunc.at is the spec here
            v = np.asarray(to_dtype(values, x.aval.dtype))
            out = x._value.copy()
            try:
                with np.errstate(all="ignore"):
                    if prim is ix.scatter:
                        out[eager] = v
                    else:
                        _UFUNC_AT[prim].at(out, eager, v)
                return Array(out, x.aval)
            except IndexError:  # out of bounds: dropped below, as under jit
                pass
            except ValueError:
                try:
                    shape = np.shape(out[eager])
                except IndexError:  # and out of bounds
                    shape = _Plan(x.aval.shape, self.index, False, True).out_shape
                raise ShapeError(
                    f".at[{_index_text(self.index)}].{_METHODS.get(prim, 'set')}: values of "
                    f"shape {v.shape} do not broadcast to shape {shape}, the part of "
                    f"{x.aval.str_short()} that the index selects; give values of shape "
                    f"{shape} (or one that broadcasts to it)") from None
        plan = _Plan(x.aval.shape, self.index, False, slices_as_arrays=True)
        v = to_dtype(values, x.aval.dtype, x.aval.weak_type)
        while v.ndim > len(plan.out_shape) and v.shape[0] == 1:  # as NumPy: drop leading 1s
            v = st.reshape(v, v.shape[1:])
        v = broadcast_to(v, plan.out_shape)
        v = st.transpose(st.reshape(v, plan.layout_shape), tuple(np.argsort(plan.perm)))
        out = prim(st.reshape(x, plan.shape), v, plan.arrays, plan.axes, _scatter_mode(mode))
        return st.reshape(out, x.aval.shape)

    def set(self, values, *, mode=None):
        return self._scatter(ix.scatter, values, mode)

    def add(self, values, *, mode=None):
        return self._scatter(ix.scatter_add, values, mode)

    def subtract(self, values, *, mode=None):
        return self._scatter(ix.scatter_add, ew.neg(to_dtype(values, asarray(self.array).dtype)),
                             mode)

    def multiply(self, values, *, mode=None):
        return self._scatter(ix.scatter_mul, values, mode)

    mul = multiply  # JAX's alias

    def apply(self, func, *, mode=None):
        """``func`` (a unary function) applied to the indexed elements.

        Deviation from JAX: an element indexed several times gets ``func`` applied once."""
        return self.set(func(self.get(mode="clip" if mode is None else mode)), mode=mode)

    def divide(self, values, *, mode=None):
        x = asarray(self.array)
        if not dtypes.is_inexact(x.aval.dtype):
            raise DTypeError(f".at[].divide needs a floating-point array, got "
                             f"{x.aval.str_short()}; use .at[idx].set(x[idx] // v) for ints")
        return ew.div(x, self._scatter(ix.scatter_mul, values, mode, base=_const(x, 1)))

    def power(self, values, *, mode=None):
        from ._ufuncs import power
        x = asarray(self.array)
        return power(x, self._scatter(ix.scatter, values, mode, base=_const(x, 1)))

    def min(self, values, *, mode=None):
        return self._scatter(ix.scatter_min, values, mode)

    def max(self, values, *, mode=None):
        return self._scatter(ix.scatter_max, values, mode)


# ----------------------------------------------------------------------------- take & co
def _int_array(indices):
    i = asarray(indices)
    if i.aval.dtype.kind not in "iu":
        raise IndexError(f"indices must be integers, got {i.aval.str_short()}")
    return i


def take(a, indices, axis=None, mode=None, fill_value=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (flattened if None).

    mode: None/'raise' (NumPy: concrete out-of-bounds raise; traced clamp), 'wrap',
    'clip' (NumPy: clamps, so negative indices read element 0) or 'fill' (JAX: reads
    ``fill_value``).
    """
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    n = a.aval.shape[axis]
    i = _int_array(indices)
    if mode != "fill" and _eager_index(a, i) is not _NOT_EAGER:  # NumPy's take is the spec
        v = np.asarray(np.take(a._value, i._value, axis, mode="raise" if mode is None else mode))
        return Array(v, a.aval.update(shape=v.shape))
    gmode = "clip"
    if mode in (None, "raise", "fill"):
        i = _index_array(i if isinstance(i, Tracer) else i._value, n, mode != "fill", axis)
        gmode = "clip" if mode != "fill" else "fill"
    elif mode == "wrap":
        from ._ufuncs import remainder
        i = remainder(i, n) if n else i
    elif mode != "clip":
        raise ValueError(f"take: mode must be 'raise', 'wrap', 'clip' or 'fill', got {mode!r}")
    return gather_axis(a, i, axis, gmode, fill_value if gmode == "fill" else None)


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
    """``arr`` read at ``indices`` along ``axis``, other axes broadcast (NumPy semantics)."""
    a, i = asarray(arr), _int_array(indices)
    if axis is None:
        a, axis = ravel(a), 0
    if i.ndim != a.ndim:
        raise ValueError(f"take_along_axis: indices (rank {i.ndim}) and arr (rank {a.ndim}) "
                         "must have the same number of dimensions")
    axis = normalize_axis(axis, a.ndim)
    n = a.aval.shape[axis]
    other = broadcast_shapes(tuple(1 if d == axis else s for d, s in enumerate(a.shape)),
                             tuple(1 if d == axis else s for d, s in enumerate(i.shape)),
                             name="take_along_axis")
    out_shape = other[:axis] + (i.shape[axis],) + other[axis + 1:]
    a = broadcast_to(a, other[:axis] + (n,) + other[axis + 1:])
    i = _index_array(i if isinstance(i, Tracer) else i._value, n, mode is None, axis)
    arrays = [broadcast_to(i, out_shape) if d == axis else
              st.iota(dtypes.int32, out_shape, d) for d in range(a.ndim)]
    return ix.gather(a, arrays, tuple(range(a.ndim)), _gather_mode(mode), fill_value)


# ----------------------------------------------------------------------------- nonzero & co
def _fill_pad(values, size, fill):
    out = np.full(size, fill, np.int64)
    out[:builtins.min(size, values.size)] = values[:size]
    return out


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements, one array per axis.

    The count is data dependent: under a transform pass ``size=`` (the result length);
    unused slots hold ``fill_value`` (default 0; a scalar or one value per axis).
    """
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("nonzero of a 0-d array is not allowed; use "
                         "lnp.atleast_1d(x).nonzero()")
    fills = np.broadcast_to(np.asarray(0 if fill_value is None else fill_value), (a.ndim,))
    if not isinstance(a, Tracer):
        nz = np.nonzero(a._value)
        if size is not None:
            nz = [_fill_pad(v, operator.index(size), f) for v, f in zip(nz, fills)]
        return tuple(asarray(v.astype(dtypes.default_int())) for v in nz)
    if size is None:
        raise ConcretizationError(
            f"nonzero of a traced {a.aval.str_short()} array has a data-dependent length. "
            "Pass size= (a static int: the number of results to return) and optionally "
            "fill_value= (default 0) for the unused slots.")
    size = operator.index(size)
    flat = ravel(a)
    hit = ew.ne(flat, _const(flat, 0))
    count = cumsum(to_dtype(hit, dtypes.int32), 0)
    slot = ew.select(hit, ew.sub(count, _const(count, 1)), _const(count, size))
    pos = ix.scatter(st.full((size,), 0, dtypes.int32), st.iota(dtypes.int32, (flat.size,)),
                     [slot], (0,), mode="drop")
    used = ew.lt(st.iota(dtypes.int32, (size,)), st.broadcast_in_dim(
        reduce_sum(to_dtype(hit, dtypes.int32), (0,)), (size,), ()))
    out, stride = [], flat.size
    for n, f in zip(a.shape, fills):
        stride //= builtins.max(n, 1)
        coord = ew.rem(ew.div(pos, _const(pos, builtins.max(stride, 1))), _const(pos, n or 1))
        out.append(to_dtype(ew.select(used, coord, _const(coord, int(f))), dtypes.default_int()))
    return tuple(out)


def flatnonzero(a, *, size=None, fill_value=None):
    return nonzero(ravel(a), size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements as rows of a (count, ndim) array."""
    a = asarray(a)
    if a.ndim == 0:
        count = nonzero(atleast_1d(a), size=size)[0].shape[0]
        return st.full((count, 0), 0, dtypes.default_int())
    return stack(nonzero(a, size=size, fill_value=fill_value), axis=1)


# ----------------------------------------------------------------------------- diagonals
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of the (axis1, axis2) planes, as the last axis."""
    a = asarray(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal requires an array of at least two dimensions, got "
                         f"{a.aval.str_short()}")
    ax1, ax2 = normalize_axis(axis1, a.ndim, "axis1"), normalize_axis(axis2, a.ndim, "axis2")
    if ax1 == ax2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    offset = operator.index(offset)
    a = moveaxis(a, (ax1, ax2), (-2, -1))
    *lead, n, m = a.shape
    r0, c0 = builtins.max(-offset, 0), builtins.max(offset, 0)
    k = builtins.max(0, builtins.min(n - r0, m - c0))
    r0, c0 = (r0, c0) if k else (0, 0)
    # the k x k block holding the diagonal, flattened: the diagonal is every (k+1)-th element
    block = sl.slice(a, [0] * len(lead) + [r0, c0], lead + [r0 + k, c0 + k])
    flat = st.reshape(block, lead + [k * k])
    return sl.slice(flat, [0] * (len(lead) + 1), lead + [k * k], [1] * len(lead) + [k + 1])


def diag(v, k=0):
    """A 1-D ``v`` as the ``k``-th diagonal of a square matrix; a 2-D ``v``'s ``k``-th diagonal."""
    v = asarray(v)
    k = operator.index(k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-d or 2-d, got {v.aval.str_short()}")
    n = v.shape[0] + abs(k)
    vv = sl.pad(v, 0, [(0, abs(k), 0)])
    rows, cols = st.iota(dtypes.int32, (n, n), 0), st.iota(dtypes.int32, (n, n), 1)
    on = ew.eq(ew.sub(cols, rows), st.full((n, n), k, dtypes.int32))
    spread = st.broadcast_in_dim(vv, (n, n), (0,) if k >= 0 else (1,))
    return ew.select(on, spread, _const(spread, 0))


def _tri_mask(a, k, upper):
    *_, n, m = a.shape
    rows, cols = st.iota(dtypes.int32, (n, m), 0), st.iota(dtypes.int32, (n, m), 1)
    shifted = ew.add(rows, st.full((n, m), operator.index(k), dtypes.int32))
    keep = ew.ge(cols, shifted) if upper else ew.le(cols, shifted)
    return st.broadcast_in_dim(keep, a.shape, (a.ndim - 2, a.ndim - 1))


def _tri(m, k, upper):
    a = asarray(m)
    if a.ndim == 0:
        raise ValueError("tril/triu need an array of at least one dimension")
    if a.ndim == 1:
        a = st.broadcast_in_dim(a, a.shape * 2, (1,))
    return ew.select(_tri_mask(a, k, upper), a, _const(a, 0))


def tril(m, k=0):
    """Zero the elements above the ``k``-th diagonal of the last two axes."""
    return _tri(m, k, upper=False)


def triu(m, k=0):
    """Zero the elements below the ``k``-th diagonal of the last two axes."""
    return _tri(m, k, upper=True)


# ----------------------------------------------------------------------------- searching
def _nan_aware_lt(x, y):
    """x < y with NaN ordered last, as NumPy's sort."""
    lt = ew.lt(x, y)
    if x.aval.dtype.kind not in "fc":
        return lt
    return ew.bitwise_or(lt, ew.bitwise_and(ew.ne(y, y), ew.eq(x, x)))


def searchsorted(a, v, side="left", sorter=None):
    """Insertion points of ``v`` into sorted 1-D ``a``: a branch-free binary search
    (ceil(log2(n+1)) rounds of gather and compare), so it traces and transforms."""
    a = asarray(a)
    if a.ndim != 1:
        raise ValueError(f"searchsorted: a must be 1-d, got {a.aval.str_short()}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if sorter is not None:
        a = take(a, sorter)
    a, v = _promote_no_broadcast(a, v)
    n = a.shape[0]
    lo, hi = st.full(v.shape, 0, dtypes.int32), st.full(v.shape, n, dtypes.int32)
    one, two = st.full(v.shape, 1, dtypes.int32), st.full(v.shape, 2, dtypes.int32)
    for _ in range(int(n).bit_length()):
        mid = ew.div(ew.add(lo, hi), two)
        am = ix.gather(a, [mid], (0,), "clip")
        right = _nan_aware_lt(am, v) if side == "left" else ew.bitwise_not(_nan_aware_lt(v, am))
        right = ew.bitwise_and(right, ew.lt(mid, hi))
        lo, hi = ew.select(right, ew.add(mid, one), lo), ew.select(right, hi, mid)
    return lo


def _promote_no_broadcast(a, v):
    v = asarray(v)
    dt, weak = dtypes.promote((a.aval.dtype, a.aval.weak_type), (v.aval.dtype, v.aval.weak_type))
    return to_dtype(a, dt, weak), to_dtype(v, dt, weak)


def indices(dimensions, dtype=None, sparse=False):
    """Index grids of a given shape: ``out[k][i0, i1, ...] == ik`` (int32; int64 in x64)."""
    dims = tuple(operator.index(d) for d in dimensions)
    dt = dtypes.default_int() if dtype is None else dtypes.canonicalize(dtype)
    if sparse:
        return tuple(st.reshape(st.iota(dt, (n,)), tuple(n if j == k else 1 for j in
                                                          range(len(dims))))
                     for k, n in enumerate(dims))
    grids = [st.iota(dt, dims, k) for k in range(len(dims))]
    return stack(grids) if grids else st.full((0,), 0, dt)
