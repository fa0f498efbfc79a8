"""The layer record, the stateful protocol adapters, and shape-error reporting.

A layer is an ``(init_fun, apply_fun)`` pair.  lepton's layers are ``Layer`` objects: a
tuple subclass (so ``init, apply = Dense(10)`` and ``layer[0]`` work as with JAX) that also
carries the layer's type name (for error messages) and whether it is stateful.  Plain
tuples written by users are accepted everywhere and treated as stateless.
"""
from __future__ import annotations

import numpy as np

from ..errors import ShapeError


class Layer(tuple):
    """``(init_fun, apply_fun)`` plus metadata: ``name`` (the layer type, for messages),
    ``stateful`` (init returns ``(shape, params, state)``, apply takes and returns state)
    and ``config`` (constructor arguments, used by combinators such as Bidirectional)."""

    def __new__(cls, init_fun, apply_fun, name, *, stateful=False, config=None,
                rebuild=None):
        self = super().__new__(cls, (init_fun, apply_fun))
        self.name = name
        self.stateful = bool(stateful)
        self.config = dict(config or {})
        self._rebuild = rebuild
        for f in (init_fun, apply_fun):  # survives ``init, apply = layer; (init, apply)``
            try:
                f._stax_layer = (name, self.stateful)
            except (AttributeError, TypeError):
                pass
        return self

    def rebuild(self, **overrides):
        """A new layer of the same type with some constructor arguments replaced."""
        if self._rebuild is None:
            raise TypeError(f"{self.name} cannot be rebuilt with new arguments")
        return self._rebuild(**{**self.config, **overrides})

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config.items()
                         if not callable(v))
        return f"<stax.{self.name}({args}){' stateful' if self.stateful else ''}>"


class ConfigurableLayer(Layer):
    """A parameterless layer that is also its own constructor: ``Flatten`` and
    ``Flatten()`` are both the layer (JAX spells it without the call, Keras with)."""

    def __call__(self, *args, **kwargs):
        return self._rebuild(*args, **kwargs)


def _meta(layer):
    try:
        return getattr(layer[0], "_stax_layer", None)
    except (TypeError, IndexError, KeyError):
        return None


def is_stateful(layer) -> bool:
    """Whether ``layer`` uses the stateful protocol (known before init).  Works on the
    Layer object and on a plain ``(init_fun, apply_fun)`` tuple rebuilt from it."""
    if isinstance(layer, Layer):
        return layer.stateful
    meta = _meta(layer)
    return bool(meta and meta[1])


def layer_name(layer) -> str:
    if isinstance(layer, Layer):
        return layer.name
    meta = _meta(layer)
    return meta[0] if meta else "layer"


def as_layer(layer, where):
    """Check that ``layer`` is an (init, apply) pair of callables."""
    if isinstance(layer, tuple) and len(layer) == 2 and all(callable(f) for f in layer):
        return layer
    hint = ""
    if callable(layer):
        hint = (" It looks like a layer constructor: call it (e.g. Dense(10), Conv(32, (3, 3)))"
                " or, for jax-style parameterless layers, pass it without calling.")
    raise TypeError(f"{where}: expected a layer, i.e. an (init_fun, apply_fun) pair, got "
                    f"{type(layer).__name__} {layer!r}.{hint}")


# ----------------------------------------------------------------------------- shapes
def shape_of(x):
    s = getattr(x, "shape", None)
    return tuple(s) if s is not None else tuple(np.shape(x))


def fmt_shape(shape):
    return "(" + ", ".join("batch" if d == -1 else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


class LayerShapeError(ShapeError):
    """A layer got an input of the wrong shape.

    Attributes: ``layer`` (type name), ``got`` (shape), ``expected`` (description),
    ``fix`` (what to change) and ``path`` (the layer's indices in the enclosing serial /
    parallel combinators, outermost first)."""

    def __init__(self, layer, got, expected, fix="", detail="", path=()):
        self.layer, self.got, self.expected = layer, tuple(got), expected
        self.fix, self.detail, self.path = fix, detail, tuple(path)
        where = (f"stax layer {'.'.join(str(i) for i in self.path)} ({layer})"
                 if self.path else f"stax layer {layer}")
        msg = f"{where}: got input shape {fmt_shape(self.got)}, expected {expected}."
        if detail:
            msg += f" {detail}"
        if fix:
            msg += f" Fix: {fix}"
        super().__init__(msg)

    def at(self, index):
        """The same error, seen from a combinator where the layer sits at ``index``."""
        err = LayerShapeError(self.layer, self.got, self.expected, self.fix, self.detail,
                              (index,) + self.path)
        return err.with_traceback(self.__traceback__)


def check_rank(name, shape, ranks, expected, fix=""):
    if len(shape) not in ranks:
        raise LayerShapeError(name, shape, expected, fix,
                              f"It has rank {len(shape)}, the layer needs rank "
                              f"{' or '.join(str(r) for r in sorted(ranks))}.")


def known(name, shape, axis, what):
    d = shape[axis]
    if d is None or d < 0:
        raise LayerShapeError(name, shape, f"a known {what} size at axis {axis}",
                              "pass the real size in input_shape (only the batch axis "
                              "may be -1).")
    return int(d)


# ----------------------------------------------------------------------------- protocol
def init_any(layer, rng, input_shape):
    """``init`` of either protocol as ``(shape, params, state)`` (state () if stateless)."""
    out = layer[0](rng, input_shape)
    if is_stateful(layer):
        return out
    shape, params = out
    return shape, params, ()


def apply_any(layer, params, state, x, rng, train, kwargs):
    """``apply`` of either protocol as ``(y, new_state)``; stateless layers see ``train``
    as a keyword argument (Dropout uses it) and keep their state ()."""
    if is_stateful(layer):
        return layer[1](params, state, x, train=train, rng=rng, **kwargs)
    return layer[1](params, x, rng=rng, train=train, **kwargs), state


def call_at(index, fn, *args, **kwargs):
    """Call ``fn``; a LayerShapeError it raises gets ``index`` prepended to its path."""
    try:
        return fn(*args, **kwargs)
    except LayerShapeError as e:
        raise e.at(index) from None


def check_count(where, what, values, n):
    if not isinstance(values, (list, tuple)) or len(values) != n:
        got = f"{len(values)} entries" if isinstance(values, (list, tuple)) else \
            type(values).__name__
        raise ValueError(f"{where}: {what} must be a list/tuple with one entry per layer "
                         f"({n}), got {got}; pass the {what} that this model's init "
                         "returned")
