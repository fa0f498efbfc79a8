"""The op table that drives the conformance, gradient and batching suites.

Each family module (``tests/ops/<family>.py``) defines ``OPS``: a list of ``Op`` rows.
A row names the lepton function, the NumPy reference, and how to draw arguments:
``gen(draw, dtype, for_grad) -> (args, kwargs)``.  ``args`` are NumPy arrays or
Python values; ``kwargs`` are static keyword arguments.  When ``for_grad`` is true,
draw float64 values away from kinks and singularities (no inf/nan edges).

``grad=False`` skips the finite-difference check; ``nondiff=True`` instead asserts that
forward and reverse derivatives are zero (comparisons, rounding, argmax...).
``diff_args`` lists the positions of the differentiable arguments (default: every
float array argument).  ``vmap_args`` likewise for batching (default: every array arg).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from typing import Callable

import numpy as np
from hypothesis import strategies as st

FLOATS = ("float32", "float64")
INTS = ("int32",)
NUMERIC = ("float32", "float64", "int32")
ALL = ("float32", "float64", "int32", "bool")


@dataclasses.dataclass
class Op:
    name: str
    fn: Callable
    ref: Callable
    gen: Callable
    dtypes: tuple = FLOATS
    grad: bool = True
    nondiff: bool = False  # piecewise constant / integer valued: derivatives checked to be 0
    vmap: bool = True
    jit: bool = True
    diff_args: tuple | None = None
    vmap_args: tuple | None = None
    rtol: float | dict | None = None  # a dict maps a dtype name to its tolerance
    atol: float | dict | None = None
    grad_order: int = 2
    out_dtype: Callable | None = None  # (input dtype) -> expected output dtype
    check_dtype: bool = True
    id: str | None = None
    #: whether ``gen`` draws its main array with ``shape`` (so ``sized`` can scale it up to
    #: the compiled backend's parallel thresholds); rows that build their own small shapes
    #: (creation ranges, linalg matrices) say False and run at the hypothesis sizes only.
    scalable: bool = True

    def __post_init__(self):
        if self.id is None:
            self.id = self.name
        if self.nondiff:
            self.grad = False

    def __repr__(self):
        return self.id

    def tols(self, dtype):
        """(rtol, atol) set by the row for ``dtype``; None where the row sets none."""
        def pick(t):
            return t.get(np.dtype(dtype).name) if isinstance(t, dict) else t
        return pick(self.rtol), pick(self.atol)


# ----------------------------------------------------------------------------- drawing helpers
class _Sized:
    """State of ``sized``: the element count of the next example's first shape."""
    target: int | None = None
    edges: bool | None = None
    used: bool = False


@contextlib.contextmanager
def sized(n: int, edges: bool):
    """Within this block the first ``shape`` drawn by each example (call ``new_example``
    before each ``gen``) has at least ``n`` elements and no empty axis (the other shapes keep
    their small hypothesis sizes), and float arrays get NaN/inf edge values iff ``edges``."""
    _Sized.target, _Sized.edges, _Sized.used = n, edges, False
    try:
        yield
    finally:
        _Sized.target, _Sized.edges, _Sized.used = None, None, False


def sizing() -> bool:
    """Whether examples are being drawn under ``sized`` (rows may then avoid draws that
    leave the big axis out, e.g. scalar operands of dot)."""
    return _Sized.target is not None


def new_example():
    _Sized.used = False


def sized_shape_used() -> bool:
    """Whether the current example drew its sized shape (a row that never calls ``shape``
    cannot be scaled: it should say ``scalable=False``)."""
    return _Sized.used


def shape(draw, min_dims=0, max_dims=3, min_side=0, max_side=4):
    if _Sized.target is not None and not _Sized.used:
        _Sized.used = True
        nd = draw(st.integers(max(min_dims, 1), max(max_dims, 1)))
        lo, hi = max(min_side, 1), max(max_side, min_side, 1)
        sides = [draw(st.integers(lo, hi)) for _ in range(nd - 1)]
        big = max(lo, math.ceil(_Sized.target / math.prod(sides)))
        sides.insert(draw(st.integers(0, nd - 1)), big)
        return tuple(sides)
    if _Sized.target is not None:  # the other shapes stay tiny: products and outer
        max_dims, max_side = min(max_dims, max(min_dims, 2)), min(max_side, max(min_side, 2))
    nd = draw(st.integers(min_dims, max_dims))
    return tuple(draw(st.integers(min_side, max_side)) for _ in range(nd))


def side(draw, lo=0, hi=3):
    """One axis length; under ``sized`` the example's first side (or shape) is the big one."""
    if _Sized.target is not None and not _Sized.used:
        _Sized.used = True
        return max(lo, 1, _Sized.target)
    return draw(st.integers(lo, hi))


def bshape(draw, s):
    """A shape that broadcasts against ``s`` (some leading axes dropped, some sizes 1)."""
    drop = draw(st.integers(0, len(s)))
    out = list(s[drop:])
    for i in range(len(out)):
        if draw(st.booleans()) and draw(st.booleans()):
            out[i] = 1
    return tuple(out)


EDGES = {"real": [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan],
         "positive": [np.inf, 1.0], "unit": [0.0, 1.0, -1.0]}


def array(draw, shape, dtype, kind="real", for_grad=False, low=None, high=None, salt=0):
    """A NumPy array (never a NumPy scalar, also for shape ``()``) of ``dtype``: see ``_array``."""
    return np.asarray(_array(draw, shape, dtype, kind, for_grad, low, high, salt))


def _array(draw, shape, dtype, kind="real", for_grad=False, low=None, high=None, salt=0):
    """A NumPy array of ``dtype``.

    kinds: real ([-3, 3]), positive ([0.1, 3]), unit ((-0.9, 0.9)), int (low..high),
    bool, nonzero (|x| in [0.5, 3]).  Without ``for_grad``, float arrays may get edge
    values (0, +-1, +-inf, nan) for kinds that list them in ``EDGES``.
    """
    dtype = np.dtype(dtype)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng([seed, salt])
    if dtype == np.bool_ or kind == "bool":
        return np.asarray(rng.random(shape) < 0.5) if dtype == np.bool_ else \
            (rng.random(shape) < 0.5).astype(dtype)
    if dtype.kind in "iu" or kind == "int":
        lo = -5 if low is None else low
        hi = 5 if high is None else high
        if dtype.kind == "u":
            lo = max(lo, 0)
        return rng.integers(lo, hi + 1, size=shape).astype(dtype)
    if kind == "positive":
        x = rng.uniform(0.1 if low is None else low, 3 if high is None else high, shape)
    elif kind == "unit":
        x = rng.uniform(-0.9, 0.9, shape)
    elif kind == "nonzero":
        x = rng.uniform(0.5, 3, shape) * rng.choice([-1, 1], shape)
    else:
        x = rng.uniform(-3 if low is None else low, 3 if high is None else high, shape)
    if dtype.kind == "c":
        x = x + 1j * rng.uniform(-3, 3, shape)
    x = x.astype(dtype)
    if _Sized.edges is not None:
        with_edges = _Sized.edges
    else:
        with_edges = (not for_grad and x.size and kind in EDGES and dtype.kind == "f"
                      and draw(st.booleans()))
    if not for_grad and x.size and kind in EDGES and dtype.kind == "f" and with_edges:
        edges = np.array(EDGES[kind], dtype=dtype)
        mask = rng.random(shape) < (0.3 if x.size < 100 else 0.02)
        x = np.where(mask, rng.choice(edges, shape), x).astype(dtype)
    return x


def unary(name, fn, ref, kind="real", dtypes=FLOATS, **kw):
    """Row for ``fn(x)`` with x of any shape (incl. scalars and 0-size)."""

    def gen(draw, dtype, for_grad):
        return (array(draw, shape(draw), dtype, kind, for_grad),), {}

    return Op(name, fn, ref, gen, dtypes=dtypes, **kw)


def binary(name, fn, ref, kind="real", kind2=None, dtypes=FLOATS, broadcast=True, **kw):
    """Row for ``fn(x, y)`` with broadcast-compatible shapes."""

    def gen(draw, dtype, for_grad):
        s = shape(draw)
        s2 = bshape(draw, s) if broadcast else s
        if draw(st.booleans()):
            s, s2 = s2, s
        return (array(draw, s, dtype, kind, for_grad),
                array(draw, s2, dtype, kind2 or kind, for_grad, salt=1)), {}

    return Op(name, fn, ref, gen, dtypes=dtypes, **kw)


def diff_positions(op, args, kinds="f"):
    """The positions of ``op``'s differentiable arguments: ``diff_args``, else every array
    whose dtype kind is in ``kinds`` (float; "fc" to include complex)."""
    if op.diff_args is not None:
        return op.diff_args
    return tuple(i for i, a in enumerate(args) if isinstance(a, np.ndarray)
                 and a.dtype.kind in kinds)


def partial_fn(op, args, kwargs, positions):
    """``op.fn`` as a function of the arguments at ``positions`` (the others fixed)."""
    fixed = list(args)

    def f(*xs):
        full = list(fixed)
        for i, x in zip(positions, xs):
            full[i] = x
        return op.fn(*full, **kwargs)

    return f


# ----------------------------------------------------------------------------- warnings
def numpy_reference(op, args, kwargs):
    """NumPy's answer (or the exception it raises) and whether it warned (RuntimeWarning:
    overflow, invalid value...).  Any other warning from the reference fails the test."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out, err = op.ref(*args, **kwargs), None
        except Exception as e:
            out, err = None, e
    others = [w for w in caught if not issubclass(w.category, RuntimeWarning)]
    assert not others, f"{op}: the NumPy reference warned: {others[0].message}"
    return out, err, len(caught) > len(others)


@contextlib.contextmanager
def as_numpy_warns(warned):
    """Lepton may warn where NumPy warned for the same call, and nowhere else (warnings are
    errors in the test run)."""
    with warnings.catch_warnings():
        if warned:
            warnings.simplefilter("ignore", RuntimeWarning)
        yield


def all_ops() -> list[Op]:
    import importlib
    import pkgutil
    import tests.ops as pkg
    helpers = {k: v for k, v in globals().items() if callable(v) and not k.startswith("_")}
    ops = []
    for m in pkgutil.iter_modules(pkg.__path__):
        ops.extend(importlib.import_module(f"tests.ops.{m.name}").OPS)
        # Importing tests/ops/shape.py binds the package attribute `shape` to that module;
        # put the drawing helper back so later row modules import the function.
        globals().update(helpers)
    return ops
