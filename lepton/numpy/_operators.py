"""Python operators and NumPy-style methods on arrays and tracers.

Installed here, late, on ``core.ArrayBase`` so the core never imports this layer.
"""
from __future__ import annotations

from ..core import ArrayBase


def _swap(f):
    return lambda self, other: f(other, self)


def install(ns):
    """Attach operators/methods that name functions of the ``lepton.numpy`` namespace ``ns``."""
    binary = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
              "floordiv": "floor_divide", "mod": "remainder", "pow": "power",
              "matmul": "matmul", "and": "bitwise_and", "or": "bitwise_or",
              "xor": "bitwise_xor", "lshift": "left_shift", "rshift": "right_shift",
              "divmod": "divmod"}
    for op, name in binary.items():
        f = getattr(ns, name, None)
        if f is None:
            continue
        setattr(ArrayBase, f"__{op}__", lambda self, other, f=f: f(self, other))
        setattr(ArrayBase, f"__r{op}__", _swap(f))
    compare = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
               "gt": "greater", "ge": "greater_equal"}
    for op, name in compare.items():
        setattr(ArrayBase, f"__{op}__", lambda self, other, f=getattr(ns, name): f(self, other))
    ArrayBase.__neg__ = lambda self: ns.negative(self)
    ArrayBase.__pos__ = lambda self: self
    ArrayBase.__abs__ = lambda self: ns.abs(self)
    ArrayBase.__invert__ = lambda self: ns.invert(self)
    ArrayBase.__round__ = lambda self, ndigits=None: ns.round(self, ndigits or 0)

    methods = ["all", "any", "argmax", "argmin", "argsort", "clip", "conj", "conjugate",
               "cumprod", "cumsum", "diagonal", "dot", "max", "mean", "min", "nonzero",
               "prod", "ravel", "repeat", "reshape", "round", "searchsorted", "sort",
               "squeeze", "std", "sum", "swapaxes", "take", "trace", "transpose", "var"]
    for name in methods:
        f = getattr(ns, name, None)
        if f is not None:
            setattr(ArrayBase, name, _method(f))
    if hasattr(ns, "reshape"):
        ArrayBase.reshape = lambda self, *shape, order="C": ns.reshape(
            self, shape[0] if len(shape) == 1 else shape, order=order)
    if hasattr(ns, "transpose"):
        ArrayBase.transpose = lambda self, *axes: ns.transpose(
            self, axes[0] if len(axes) == 1 else (axes or None))
        ArrayBase.T = property(lambda self: ns.transpose(self))
        ArrayBase.mT = property(lambda self: ns.swapaxes(self, -1, -2))
    ArrayBase.flatten = lambda self: ns.ravel(self)
    ArrayBase.astype = lambda self, dtype: ns.asarray(self, dtype=dtype)
    ArrayBase.real = property(lambda self: ns.real(self))
    ArrayBase.imag = property(lambda self: ns.imag(self))
    ArrayBase.copy = lambda self: self
    if hasattr(ns, "_getitem"):
        ArrayBase.__getitem__ = lambda self, idx: ns._getitem(self, idx)
    if hasattr(ns, "_IndexUpdateHelper"):
        ArrayBase.at = property(lambda self: ns._IndexUpdateHelper(self))


def _method(f):
    return lambda self, *args, **kwargs: f(self, *args, **kwargs)
