"""serial, parallel, FanOut, FanInSum, FanInConcat, shape_dependent, and ``stateful``.

A combinator is stateless (JAX's exact protocol) when all its layers are, and stateful
(``init -> (shape, params, state)``, ``apply(params, state, x, *, train=True, rng=None,
**kw) -> (y, state)``) as soon as one of them is; its state is then a list with one
entry per layer (``()`` for stateless layers, which are adapted automatically).
"""
from __future__ import annotations

from .. import numpy as lnp
from .. import random
from ._base import (ConfigurableLayer, Layer, LayerShapeError, apply_any, as_layer,
                    call_at, check_count, fmt_shape, init_any, is_stateful, layer_name,
                    shape_of)


def _split(rng, n):
    return random.split(rng, n) if rng is not None else (None,) * n


def serial(*layers):
    """Compose layers in sequence.  ``apply`` splits ``rng`` into one key per layer (as
    JAX) and passes other keyword arguments to every layer.  Shape errors name the
    layer's position (0-based) in the serial."""
    layers = tuple(as_layer(l, f"serial: argument {i}") for i, l in enumerate(layers))
    n = len(layers)
    names = [layer_name(l) for l in layers]

    if not any(is_stateful(l) for l in layers):
        def init_fun(rng, input_shape):
            params = []
            for i, (init, _) in enumerate(layers):
                rng, layer_rng = random.split(rng)
                input_shape, param = call_at(i, init, layer_rng, input_shape)
                params.append(param)
            return input_shape, params

        def apply_fun(params, inputs, **kwargs):
            check_count("serial apply", "params", params, n)
            rng = kwargs.pop("rng", None)
            for i, ((_, fun), param, r) in enumerate(zip(layers, params, _split(rng, n))):
                inputs = call_at(i, fun, param, inputs, rng=r, **kwargs)
            return inputs

        return Layer(init_fun, apply_fun, "serial", config=dict(layers=names))

    def init_fun(rng, input_shape):
        params, states = [], []
        for i, layer in enumerate(layers):
            rng, layer_rng = random.split(rng)
            input_shape, param, state = call_at(i, init_any, layer, layer_rng, input_shape)
            params.append(param)
            states.append(state)
        return input_shape, params, states

    def apply_fun(params, state, inputs, *, train=True, rng=None, **kwargs):
        check_count("serial apply", "params", params, n)
        check_count("serial apply", "state", state, n)
        new_state = []
        for i, (layer, p, s, r) in enumerate(zip(layers, params, state, _split(rng, n))):
            inputs, s = call_at(i, apply_any, layer, p, s, inputs, r, train, kwargs)
            new_state.append(s)
        return inputs, new_state

    return Layer(init_fun, apply_fun, "serial", stateful=True, config=dict(layers=names))


def parallel(*layers):
    """Apply layer i to input i of a sequence of inputs; outputs are a list."""
    layers = tuple(as_layer(l, f"parallel: argument {i}") for i, l in enumerate(layers))
    n = len(layers)
    names = [layer_name(l) for l in layers]

    def check_inputs(what, xs):
        if not isinstance(xs, (list, tuple)) or len(xs) != n:
            got = f"{len(xs)} items" if isinstance(xs, (list, tuple)) else \
                f"a single {fmt_shape(shape_of(xs)) if what == 'inputs' else xs}"
            raise ValueError(f"parallel: {what} must be a list of {n} (one per branch), got "
                             f"{got}; put FanOut({n}) before parallel to copy one input")

    if not any(is_stateful(l) for l in layers):
        def init_fun(rng, input_shape):
            check_inputs("input shapes", input_shape)
            outs = [call_at(i, l[0], r, s)
                    for i, (l, r, s) in enumerate(zip(layers, random.split(rng, n),
                                                      input_shape))]
            return tuple(o[0] for o in outs), tuple(o[1] for o in outs)

        def apply_fun(params, inputs, **kwargs):
            check_inputs("inputs", inputs)
            check_count("parallel apply", "params", params, n)
            rng = kwargs.pop("rng", None)
            return [call_at(i, l[1], p, x, rng=r, **kwargs) for i, (l, p, x, r) in
                    enumerate(zip(layers, params, inputs, _split(rng, n)))]

        return Layer(init_fun, apply_fun, "parallel", config=dict(layers=names))

    def init_fun(rng, input_shape):
        check_inputs("input shapes", input_shape)
        outs = [call_at(i, init_any, l, r, s)
                for i, (l, r, s) in enumerate(zip(layers, random.split(rng, n), input_shape))]
        return tuple(o[0] for o in outs), tuple(o[1] for o in outs), [o[2] for o in outs]

    def apply_fun(params, state, inputs, *, train=True, rng=None, **kwargs):
        check_inputs("inputs", inputs)
        check_count("parallel apply", "params", params, n)
        check_count("parallel apply", "state", state, n)
        outs = [call_at(i, apply_any, l, p, s, x, r, train, kwargs) for i, (l, p, s, x, r) in
                enumerate(zip(layers, params, state, inputs, _split(rng, n)))]
        return [o[0] for o in outs], [o[1] for o in outs]

    return Layer(init_fun, apply_fun, "parallel", stateful=True, config=dict(layers=names))


def FanOut(num):
    """Copy the input into a list of ``num`` inputs (for parallel)."""
    num = int(num)
    return Layer(lambda rng, input_shape: ([input_shape] * num, ()),
                 lambda params, inputs, **kwargs: [inputs] * num, "FanOut",
                 config=dict(num=num))


def _fan_in_shapes(name, input_shape):
    if not isinstance(input_shape, (list, tuple)) or not input_shape or \
            not all(isinstance(s, (list, tuple)) for s in input_shape):
        raise ValueError(f"{name}: expects a list of input shapes (from parallel), got "
                         f"{input_shape!r}")
    return [tuple(s) for s in input_shape]


def _fan_in_sum():
    def init_fun(rng, input_shape):
        shapes = _fan_in_shapes("FanInSum", input_shape)
        for s in shapes[1:]:
            if s != shapes[0]:
                raise LayerShapeError("FanInSum", s, f"{fmt_shape(shapes[0])} like the first "
                                      "branch", "make every branch produce the same shape.",
                                      f"Branch shapes: {', '.join(map(fmt_shape, shapes))}.")
        return shapes[0], ()

    def apply_fun(params, inputs, **kwargs):
        return sum(inputs[1:], inputs[0])

    return ConfigurableLayer(init_fun, apply_fun, "FanInSum", rebuild=_fan_in_sum)


FanInSum = _fan_in_sum()


def FanInConcat(axis=-1):
    """Concatenate a list of inputs along ``axis``."""
    def init_fun(rng, input_shape):
        shapes = _fan_in_shapes("FanInConcat", input_shape)
        nd = len(shapes[0])
        ax = axis % nd
        for s in shapes[1:]:
            if len(s) != nd or s[:ax] + s[ax + 1:] != shapes[0][:ax] + shapes[0][ax + 1:]:
                raise LayerShapeError("FanInConcat", s, f"{fmt_shape(shapes[0])} except on "
                                      f"axis {axis}", "make the branches agree on the other "
                                      f"axes. Branch shapes: {', '.join(map(fmt_shape, shapes))}.")
        size = -1 if any(s[ax] < 0 for s in shapes) else sum(s[ax] for s in shapes)
        return shapes[0][:ax] + (size,) + shapes[0][ax + 1:], ()

    def apply_fun(params, inputs, **kwargs):
        return lnp.concatenate(inputs, axis)

    return Layer(init_fun, apply_fun, "FanInConcat", config=dict(axis=axis))


def shape_dependent(make_layer):
    """Delay building a layer until the input shape is known: ``make_layer(shape)``
    returns a stateless (init, apply) pair."""
    def build(shape):
        layer = as_layer(make_layer(tuple(shape)), "shape_dependent: make_layer's result")
        if is_stateful(layer):
            raise TypeError("shape_dependent: make_layer returned a stateful layer; build "
                            "stateful layers directly (their state must be visible to the "
                            "enclosing model at construction time)")
        return layer

    def init_fun(rng, input_shape):
        return build(input_shape)[0](rng, input_shape)

    def apply_fun(params, inputs, **kwargs):
        return build(shape_of(inputs))[1](params, inputs, **kwargs)

    return Layer(init_fun, apply_fun, "shape_dependent")


def stateful(layer):
    """``layer`` under the stateful protocol whether or not it has state: ``init ->
    (shape, params, state)``, ``apply(params, state, x, *, train=True, rng=None, **kw) ->
    (y, state)``.  Lets one training loop serve every model."""
    layer = as_layer(layer, "stateful")
    if is_stateful(layer):
        return layer

    def init_fun(rng, input_shape):
        return init_any(layer, rng, input_shape)

    def apply_fun(params, state, inputs, *, train=True, rng=None, **kwargs):
        return apply_any(layer, params, state, inputs, rng, train, kwargs)

    return Layer(init_fun, apply_fun, layer_name(layer), stateful=True)
