"""Core objects: abstract values, immutable arrays, tracers, traces and ``bind``.

A transform is an interpreter over primitives.  ``bind(prim, *args, **params)``
hands each primitive application to the *current trace*.  Traces nest through a
``parent`` link: a trace processes the arguments that are its own tracers and
treats everything else as a constant of its parent, then evaluates on the parent.
Because each tracer knows its trace, nested transforms (``grad(grad(f))``) never
confuse their perturbations.  The root is the eager ``EvalTrace``, which runs the
primitive's NumPy ``impl``.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager

import numpy as np

from . import dtypes
from .errors import ConcretizationError, LeakedTracerError, MutationError


# ----------------------------------------------------------------------------- avals
class ShapedArray:
    """The abstract value of an array: shape, dtype and whether the dtype is weak."""

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, weak_type=False):
        self.shape = shape if type(shape) is tuple else tuple(shape)
        self.dtype = dtype if isinstance(dtype, np.dtype) else np.dtype(dtype)
        self.weak_type = weak_type

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def update(self, shape=None, dtype=None, weak_type=None):
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type)

    def strip_weak(self):
        return self if not self.weak_type else ShapedArray(self.shape, self.dtype, False)

    def __eq__(self, other):
        return (type(other) is ShapedArray and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.weak_type))

    def str_short(self):
        return f"{dtypes.short_name(self.dtype)}[{','.join(map(str, self.shape))}]"

    def __repr__(self):
        return f"ShapedArray({self.str_short()}{', weak' if self.weak_type else ''})"


# ----------------------------------------------------------------------------- values
class Device:
    """A device arrays live on, as JAX's (``platform``, ``id``, ``device_kind``).

    lepton computes on the host CPU today, so there is one: ``CPU_DEVICE``.  The class is
    the place a CUDA backend adds its GPUs (platform ``'gpu'``)."""

    __slots__ = ("platform", "id", "device_kind", "process_index")

    def __init__(self, platform: str, id: int, device_kind: str | None = None):
        self.platform, self.id = platform, id
        self.device_kind = device_kind or platform
        self.process_index = 0

    host_id = property(lambda self: self.process_index)

    def __repr__(self):
        return f"{self.platform.capitalize()}Device(id={self.id})"

    def __eq__(self, other):
        return isinstance(other, Device) and (self.platform, self.id) == (other.platform,
                                                                           other.id)

    def __hash__(self):
        return hash((self.platform, self.id))


CPU_DEVICE = Device("cpu", 0)


class ArrayBase:
    """Common base of concrete ``Array`` and ``Tracer``.

    Operators and NumPy-style methods are installed later by ``lepton.numpy`` so that
    this low layer never imports upward.
    """

    __slots__ = ()
    __array_priority__ = 100

    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: len(self.aval.shape))
    size = property(lambda self: self.aval.size)
    weak_type = property(lambda self: self.aval.weak_type)

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of unsized object (a 0-d array)")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.aval.shape[0]))

    def __setitem__(self, idx, value):
        raise MutationError(
            f"lepton arrays are immutable: cannot assign to x[{idx!r}] of a "
            f"{self.aval.str_short()} array. Use the functional form "
            "`x = x.at[idx].set(value)` (also .add, .multiply, .divide, .min, .max).")


class Array(ArrayBase):
    """An immutable n-dimensional array holding a read-only NumPy buffer."""

    __slots__ = ("_value", "_aval", "_weak")

    def __init__(self, value: np.ndarray, aval: ShapedArray | None = None):
        # Callers hand over ownership of `value`; it is frozen here.
        value.setflags(write=False)
        self._value = value
        self._aval = aval
        self._weak = aval is not None and aval.weak_type

    @property
    def aval(self) -> ShapedArray:
        a = self._aval
        if a is None:  # built on first use: the eager fast path never needs it
            v = self._value
            a = self._aval = ShapedArray(v.shape, v.dtype, self._weak)
        return a

    weak_type = property(lambda self: self._weak)

    # NumPy interop -----------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        v = self._value
        if dtype is not None and np.dtype(dtype) != v.dtype:
            return v.astype(dtype)
        if copy:
            return v.copy()
        return v

    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    def __bool__(self):
        return bool(self._value)

    def __int__(self):
        return int(self._value)

    def __float__(self):
        return float(self._value)

    def __complex__(self):
        return complex(self._value)

    def __index__(self):
        if self._value.dtype.kind not in "iub":
            raise TypeError(f"only integer arrays can be used as an index, got {self._value.dtype}")
        return int(self._value)

    def __hash__(self):
        raise TypeError("lepton arrays are unhashable (like NumPy arrays); "
                        "use x.item() or tuple(x.tolist()) as a key")

    def __repr__(self):
        body = np.array2string(self._value, separator=", ", prefix="Array(")
        weak = ", weak_type=True" if self._weak else ""
        return f"Array({body}, dtype={self._value.dtype}{weak})"

    def __str__(self):
        return str(self._value)

    def __format__(self, spec):
        if self._value.ndim == 0:
            return format(self._value.item(), spec)
        return format(str(self), spec)

    def __reduce__(self):
        return (_rebuild_array, (np.array(self._value), self._weak))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def block_until_ready(self):
        """Wait until the value is computed (lepton's CPU arrays always are) and return it."""
        return self

    def devices(self) -> set:
        """The set of devices holding this array (as JAX's ``Array.devices()``)."""
        return {CPU_DEVICE}

    @property
    def device(self) -> Device:
        """The device holding this array (JAX's ``Array.device`` for single-device arrays)."""
        return CPU_DEVICE


def _rebuild_array(value, weak):
    return new_array(value, weak)


def new_array(value: np.ndarray, weak: bool = False) -> Array:
    """Wrap (and freeze) a fresh NumPy array; the aval is derived lazily."""
    a = Array.__new__(Array)
    value.setflags(write=False)
    a._value = value
    a._aval = None
    a._weak = weak
    return a


def get_aval(x) -> ShapedArray:
    """Abstract value of an Array, Tracer, NumPy array or Python scalar."""
    if isinstance(x, ArrayBase):
        return x.aval
    if isinstance(x, (np.ndarray, np.generic)):  # first: np.float64 is also a Python float
        return ShapedArray(np.shape(x), dtypes.canonicalize(x.dtype), False)
    if isinstance(x, (bool, int, float, complex)):
        return ShapedArray((), dtypes.python_scalar_dtype(x), True)
    raise TypeError(f"{type(x).__name__} is not a valid lepton value; expected an array or scalar")


def concrete(x) -> Array:
    """Wrap a NumPy value or Python scalar as an Array (Arrays and tracers pass through)."""
    if isinstance(x, ArrayBase):
        return x
    aval = get_aval(x)
    return Array(np.array(x, dtype=aval.dtype), aval)


# ----------------------------------------------------------------------------- primitives
PRIMITIVES: dict[str, "Primitive"] = {}


class Primitive:
    """A named operation with its math rules.

    Rules (set by the defining module): ``impl`` (NumPy), ``abstract_eval`` (shape/dtype
    check returning the output aval(s)), ``jvp``, ``transpose`` (linear primitives only),
    ``batch``.  Arrays are positional; parameters keyword-only and hashable.
    """

    __slots__ = ("name", "multiple_results", "impl", "abstract_eval", "jvp", "transpose",
                 "batch", "linear", "partial_eval", "__weakref__", "__dict__")

    def __init__(self, name: str, multiple_results: bool = False):
        if name in PRIMITIVES:
            raise ValueError(f"primitive {name!r} defined twice")
        self.name = name
        self.multiple_results = multiple_results
        self.impl = self.abstract_eval = self.jvp = self.transpose = self.batch = None
        self.partial_eval = None  # higher-order primitives: rule for partial evaluation
        self.linear = False
        PRIMITIVES[name] = self

    def bind(self, *args, **params):
        return _ctx.trace.process(self, args, params)

    def __repr__(self):
        return self.name


def bind(prim: Primitive, *args, **params):
    return _ctx.trace.process(prim, args, params)


# ----------------------------------------------------------------------------- traces
class Trace:
    """A transform's interpreter.  Subclasses implement ``process``."""

    __slots__ = ("parent", "alive", "__weakref__")

    def __init__(self, parent: "Trace | None"):
        self.parent = parent
        self.alive = True

    def process(self, prim, args, params):  # pragma: no cover - abstract
        raise NotImplementedError

    def owns(self, x) -> bool:
        return isinstance(x, Tracer) and x._trace is self

    def delegate(self, prim, args, params):
        """Evaluate on the parent trace (used when no argument belongs to this trace)."""
        prev = _ctx.trace
        _ctx.trace = self.parent
        try:
            return self.parent.process(prim, args, params)
        finally:
            _ctx.trace = prev

    def __repr__(self):
        return f"{type(self).__name__}"


class EvalTrace(Trace):
    """The root trace: runs primitives eagerly with their NumPy ``impl``."""

    def process(self, prim, args, params):
        vals = []
        avals = []
        for a in args:
            if type(a) is Array:
                vals.append(a._value)
                avals.append(a.aval)
            elif isinstance(a, Tracer):
                raise _leak_error(a, prim)
            else:
                a = concrete(a)
                vals.append(a._value)
                avals.append(a.aval)
        out_aval = prim.abstract_eval(*avals, **params)
        out = prim.impl(*vals, **params)
        if prim.multiple_results:
            return [_wrap(o, av) for o, av in zip(out, out_aval)]
        return _wrap(out, out_aval)


def wrap_value(value, aval: ShapedArray) -> Array:
    """An Array of ``aval`` around a NumPy result (cast to the aval's dtype if needed)."""
    return _wrap(value, aval)


def _wrap(value, aval: ShapedArray) -> Array:
    if type(value) is not np.ndarray or value.dtype != aval.dtype:
        value = np.asarray(value, dtype=aval.dtype)
    elif not value.flags.owndata and value.flags.writeable:
        value = value.view()  # freeze a view, never a caller's array object
    return Array(value, aval)


def _leak_error(t, prim):
    state = "whose transform has already finished" if not t._trace.alive else "from an unrelated trace"
    return LeakedTracerError(
        f"a traced value ({t.aval.str_short()}, traced by {t._trace!r}) {state} reached "
        f"`{prim.name}`. This happens when a function under grad/vmap/jit stores a traced "
        "value outside (a global, a list, self.x) and it is used later. Return it as an "
        "output instead.")


class _Context(threading.local):
    def __init__(self):
        self.trace = EvalTrace(None)


_ctx = _Context()
#: The (thread-local) current trace: ``trace_context.trace`` is the innermost active
#: transform, an ``EvalTrace`` with no parent when none is.  Public for the layers that
#: test it on their fast paths (``numpy``'s eager route, ``jit``, the tape).
trace_context = _ctx


def current_trace() -> Trace:
    return _ctx.trace


@contextmanager
def set_trace(trace: Trace):
    prev = _ctx.trace
    _ctx.trace = trace
    try:
        yield trace
    finally:
        _ctx.trace = prev


# ----------------------------------------------------------------------------- tracers
class Tracer(ArrayBase):
    """A stand-in for an array while a trace records or transforms a computation."""

    __slots__ = ("_trace",)

    def __array__(self, dtype=None, copy=None):
        raise ConcretizationError(
            f"cannot convert a traced {self.aval.str_short()} value to a NumPy array inside "
            f"{self._trace!r}. NumPy functions need concrete values: use lepton.numpy "
            "(import lepton.numpy as lnp) for computations on traced values.")

    def _concretization(self, what: str, instead: str):
        return ConcretizationError(
            f"{what} of a traced {self.aval.str_short()} value inside {self._trace!r}: its "
            f"value is not known while tracing. {instead}")

    def __bool__(self):
        raise self._concretization(
            "Python `if`/`while`/`and`/`or`/bool() used the truth value",
            "Use lnp.where(cond, a, b) or lepton.lax.cond / lepton.lax.while_loop for "
            "value-dependent control flow, or mark the argument static "
            "(jit(f, static_argnums=...)).")

    def __int__(self):
        raise self._concretization("int()", "Keep the value as an array, or mark it static.")

    def __float__(self):
        raise self._concretization("float()", "Keep the value as an array, or mark it static.")

    def __complex__(self):
        raise self._concretization("complex()", "Keep the value as an array.")

    def __index__(self):
        raise self._concretization(
            "use as a Python index (range(), list index, shape)",
            "Use lnp.take / lax.dynamic_slice for traced indices, or mark the argument static.")

    def item(self, *args):
        raise self._concretization(".item()", "Keep the value as an array.")

    def tolist(self):
        raise self._concretization(".tolist()", "Keep the value as an array.")

    def __hash__(self):
        raise TypeError("traced arrays are unhashable")

    def __repr__(self):
        return f"Traced<{self.aval.str_short()}>with<{self._trace!r}>"

    def block_until_ready(self):
        return self

    def devices(self):
        raise self._concretization(".devices()", "Ask the concrete array outside the "
                                   "transformation; under jit every value is on one device.")
