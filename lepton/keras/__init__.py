"""lepton.keras: a Keras-style facade over lepton.stax.

A Keras program runs after ``import lepton.keras as keras`` (or ``import leptonic as l``)::

    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(6, 5, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=10)

The functional API works as in Keras: ``inputs = keras.Input(shape=...)``, call layers on
tensors (merge them with ``layers.Concatenate()`` / ``layers.add``, share a layer by
calling it twice), then ``keras.Model(inputs, outputs)`` -- several inputs and outputs
included (``lepton.keras.functional``).

Layers, losses, metrics and optimizers keep Keras's names and defaults; the layers are
also importable from the top level (``keras.Dense``).  The model is a stax model, and the
whole train step is one jitted function (``lepton.keras.trainer``).
"""
from __future__ import annotations

from .. import datasets  # noqa: F401
from . import (activations, callbacks, initializers, layers, losses, metrics,  # noqa: F401
               optimizers, regularizers, utils)
from .layers import *  # noqa: F401,F403
from .preprocessing import *  # noqa: F401,F403
from .models import Sequential, load_model  # noqa: F401
from .functional import Model, Functional  # noqa: F401
from .errors import KerasInputError, KerasLayerError  # noqa: F401
from .utils import to_categorical  # noqa: F401
from . import preprocessing as _pre
from . import models  # noqa: F401
models.Model = Model  # keras.models.Model, as Keras spells it

for _name in _pre.__all__:
    setattr(layers, _name, getattr(_pre, _name))
del _name
