"""Keras-quality errors: raised at compile, fit or the first batch, naming the layer, the
shapes involved and the fix, instead of a traceback from inside the math."""
from __future__ import annotations

from ..errors import ShapeError


class KerasInputError(ValueError):
    """The data given to fit / evaluate / predict does not fit the model."""


class KerasLayerError(ShapeError):
    """A layer cannot take the output of the layer before it."""


def _shape(shape):
    return "(" + ", ".join("None" if d in (-1, None) else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def layer_error(model, index, input_shape, err):
    """Wrap a stax error raised while building layer ``index`` of ``model``."""
    layer = model._layers[index]
    fix = getattr(err, "fix", "")
    detail = getattr(err, "detail", "")
    msg = (f"layer {index} of the model, {layer.name!r} ({type(layer).__name__}), cannot "
           f"take input of shape {_shape(input_shape)}")
    prev = model._layers[index - 1] if index else None
    if prev is not None:
        msg += f" (the output of {prev.name!r}, {type(prev).__name__})"
    expected = getattr(err, "expected", None)
    if expected:
        msg += f": it expects {expected}."
    else:
        msg += f": {err}"
    if detail:
        msg += f" {detail}"
    if fix:
        if "Flatten()" in fix:
            fix = (f"add Flatten() before {layer.name!r} (model.add(Flatten())), so that it "
                   f"gets (batch, features) and its output can match targets of shape "
                   f"(batch, classes).")
        msg += f" Fix: {fix.strip()}"
    return KerasLayerError(msg)
