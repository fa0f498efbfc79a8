"""Layers rebuilt from the ``{'class_name': ..., 'config': ...}`` dicts that
``Sequential.get_config`` writes (``load_model`` reads them).
"""
from __future__ import annotations

from .. import regularizers as kregs
from .options import ACTIVATIONS
from .base import Layer


def from_config(spec, custom_objects=None):
    """A layer from ``{'class_name': ..., 'config': ...}`` as ``Sequential.get_config``
    writes it; only lepton.keras layer classes and ``custom_objects`` (a user's layer
    classes, activation and regularizer functions, by the names saved) are looked up
    (nothing is imported)."""
    from .. import layers, preprocessing  # the package namespace: every layer class
    custom_objects = custom_objects or {}
    name = spec["class_name"]
    cls = custom_objects.get(name) or getattr(layers, name, None) or \
        getattr(preprocessing, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"unknown layer class {name!r} in a saved model; pass it in "
                         f"load_model(..., custom_objects={{{name!r}: {name}}})")
    config = dict(spec["config"])
    for key, value in config.items():
        if not isinstance(value, str) or \
                not key.endswith(("activation", "_regularizer", "function")):
            continue
        if value in custom_objects:
            config[key] = custom_objects[value]
        elif key == "function" or \
                key.endswith("activation") and value.lower() not in ACTIVATIONS or \
                key.endswith("_regularizer") and value.lower() not in kregs._NAMES:
            raise ValueError(f"layer {config.get('name', name)!r} was saved with the "
                             f"function {value!r} as its {key}, which a file cannot hold: "
                             f"load it with load_model(path, custom_objects={{{value!r}: "
                             f"{value}}})")
    if name in ("Bidirectional", "TimeDistributed"):
        config["layer"] = from_config(config["layer"], custom_objects)
    return cls(**config)
