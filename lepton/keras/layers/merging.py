"""Keras's merge layers -- ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Concatenate``, ``Dot`` -- and their functional forms (``add([a, b])``).

Each is a weightless stax layer over a list of inputs.  The elementwise merges accept
inputs of one rank whose axes agree or are 1 (broadcast, as Keras); anything else is
refused at the call with every input's shape.
"""
from __future__ import annotations

from functools import reduce

from ... import numpy as lnp
from ... import stax
from ..errors import _shape
from .base import Layer


def _shapes_text(shapes):
    return ", ".join(_shape(s) for s in shapes)


class _Merge(Layer):
    """An elementwise merge of two or more tensors of one shape (or broadcastable)."""
    takes_list = True
    supports_masking = True
    n_inputs = None  # Subtract: exactly 2

    def _check(self, shapes):
        where = f"{type(self).__name__} {self.name!r}"
        if not isinstance(shapes, list) or len(shapes) < 2:
            raise ValueError(f"{where} merges a list of at least 2 tensors")
        if self.n_inputs is not None and len(shapes) != self.n_inputs:
            raise ValueError(f"{where} takes exactly {self.n_inputs} inputs; got "
                             f"{len(shapes)}: {_shapes_text(shapes)}")
        return where

    def out_shape(self, shapes):
        where = self._check(shapes)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ValueError(f"{where} needs inputs of one rank; got shapes "
                             f"{_shapes_text(shapes)}. Reshape the branches (Reshape, "
                             f"Flatten) so that they agree.")
        out = []
        for axis, dims in enumerate(zip(*shapes)):
            known = {d for d in dims if d >= 0 and d != 1}
            if len(known) > 1:
                raise ValueError(f"{where} needs inputs of the same shape (or 1 on an axis, "
                                 f"to broadcast); got shapes {_shapes_text(shapes)}, which "
                                 f"differ on axis {axis}. Make the branches agree, e.g. "
                                 f"with Dense layers of the same size.")
            out.append(known.pop() if known else (-1 if -1 in dims else 1))
        return tuple(out)

    def combine(self, xs):
        raise NotImplementedError

    def build_stax(self):
        def init_fun(rng, input_shape):
            return self.out_shape([tuple(s) for s in input_shape]), ()

        def apply_fun(params, inputs, **kwargs):
            return self.combine([lnp.asarray(x) for x in inputs])

        return stax.Layer(init_fun, apply_fun, type(self).__name__)

    def compute_mask(self, inputs, mask):
        if not isinstance(mask, list):
            return mask
        masks = [m for m in mask if m is not None]
        return reduce(lnp.logical_and, masks) if masks else None


class Add(_Merge):
    def combine(self, xs):
        return reduce(lnp.add, xs)


class Subtract(_Merge):
    n_inputs = 2

    def combine(self, xs):
        return xs[0] - xs[1]


class Multiply(_Merge):
    def combine(self, xs):
        return reduce(lnp.multiply, xs)


class Average(_Merge):
    def combine(self, xs):
        return reduce(lnp.add, xs) / len(xs)


class Maximum(_Merge):
    def combine(self, xs):
        return reduce(lnp.maximum, xs)


class Minimum(_Merge):
    def combine(self, xs):
        return reduce(lnp.minimum, xs)


class Concatenate(_Merge):
    """Joins the inputs along ``axis`` (the last by default); the other axes must agree."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def out_shape(self, shapes):
        where = self._check(shapes)
        rank = len(shapes[0])
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"{where}: axis={self.axis} is not a feature axis of inputs of "
                             f"rank {rank} (the batch axis 0 cannot be joined)")
        ax = self.axis % rank
        for s in shapes:
            if len(s) != rank or any(a != b and a >= 0 and b >= 0 for i, (a, b) in
                                     enumerate(zip(s, shapes[0])) if i != ax):
                raise ValueError(
                    f"{where} needs inputs that agree on every axis but the one joined "
                    f"(axis={self.axis}); got shapes {_shapes_text(shapes)}. Make them agree "
                    f"(Reshape, Flatten, or another axis=).")
        size = -1 if any(s[ax] < 0 for s in shapes) else sum(s[ax] for s in shapes)
        return shapes[0][:ax] + (size,) + shapes[0][ax + 1:]

    def combine(self, xs):
        return lnp.concatenate(xs, axis=self.axis)

    def compute_mask(self, inputs, mask):
        if not isinstance(mask, list) or all(m is None for m in mask):
            return None
        rank = len(lnp.shape(inputs[0]))
        if self.axis % rank == rank - 1:  # the feature axis: the time masks must all hold
            return super().compute_mask(inputs, mask)
        return None

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """The dot product of two tensors along ``axes`` (an int, or one per input; batch
    axis 0 excluded), as Keras's ``batch_dot``; ``normalize`` L2-normalises both along
    those axes first (the cosine similarity).  A rank-1 result is ``(batch, 1)``."""
    n_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = [int(a) for a in axes] if isinstance(axes, (list, tuple)) else int(axes)
        self.normalize = bool(normalize)

    def _axes(self, shapes):
        where = self._check(shapes)
        axes = self.axes if isinstance(self.axes, list) else [self.axes] * 2
        out = []
        for a, s in zip(axes, shapes):
            if len(s) < 2 or not -len(s) <= a < len(s) or a % len(s) == 0:
                raise ValueError(f"{where}: axes={self.axes} does not name a feature axis of "
                                 f"inputs of shapes {_shapes_text(shapes)}")
            out.append(a % len(s))
        return where, out

    def out_shape(self, shapes):
        where, (a, b) = self._axes(shapes)
        x, y = shapes
        if x[a] >= 0 and y[b] >= 0 and x[a] != y[b]:
            raise ValueError(f"{where}: the axes summed over differ in size: {x[a]} (axis {a} "
                             f"of {_shape(x)}) vs {y[b]} (axis {b} of {_shape(y)})")
        out = x[:a] + x[a + 1:] + y[1:b] + y[b + 1:]
        return out if len(out) > 1 else out + (1,)

    def combine(self, xs):
        x, y = xs
        _, (a, b) = self._axes([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x = x / lnp.sqrt(lnp.maximum(lnp.sum(x * x, axis=a, keepdims=True), 1e-12))
            y = y / lnp.sqrt(lnp.maximum(lnp.sum(y * y, axis=b, keepdims=True), 1e-12))
        letters = "bcdefghijklmnopqrstuvwxyz"
        xs_ = "a" + letters[:x.ndim - 1]
        ys_ = "a" + letters[x.ndim - 1:x.ndim - 1 + y.ndim - 1]
        ys_ = ys_[:b] + xs_[a] + ys_[b + 1:]
        out = xs_[:a] + xs_[a + 1:] + ys_[1:b] + ys_[b + 1:]
        r = lnp.einsum(f"{xs_},{ys_}->{out}", x, y)
        return r[:, None] if r.ndim == 1 else r

    def compute_mask(self, inputs, mask):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


_MERGES = {c.__name__: c for c in (Add, Subtract, Multiply, Average, Maximum, Minimum,
                                   Concatenate, Dot)}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
