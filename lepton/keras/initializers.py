"""Keras's initializer objects (``kernel_initializer=keras.initializers.HeNormal()``), with
Keras 3's arguments and defaults, over ``lepton.nn.initializers``.

An initializer is called by the layer as ``init(key, shape, dtype)`` (stax's convention)
and can also be called as Keras's ``init(shape, dtype=None)``.  With ``seed=`` it ignores
the model's key and draws from its own (every call gives the same values, as Keras 3's
seeded initializers); without one, a direct Keras-style call draws a fresh seed.
"""
from __future__ import annotations

import numpy as np

from .. import numpy as lnp
from .. import random
from ..nn import initializers as inits
from .seeding import draw_seed

__all__ = ["Initializer", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal",
           "HeUniform", "LecunNormal", "LecunUniform", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "Orthogonal", "Zeros", "Ones", "Constant", "Identity", "get"]


class Initializer:
    seed = None

    def _init(self):
        """The ``lepton.nn.initializers`` function ``init(key, shape, dtype)``."""
        raise NotImplementedError

    def __call__(self, key_or_shape, shape=None, dtype=None):
        if shape is None:  # Keras's call: init(shape, dtype=None)
            key_or_shape, shape = None, key_or_shape
        key = key_or_shape
        if self.seed is not None:
            key = random.PRNGKey(self.seed)
        elif key is None:
            key = random.PRNGKey(draw_seed())
        return self._init()(key, tuple(int(d) for d in shape), dtype or "float32")

    def get_config(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"initializer seed must be None or an int; got {seed!r}")
    return None if seed is None else int(seed)


class VarianceScaling(Initializer):
    """Standard deviation ``sqrt(scale / n)`` (n: fan_in, fan_out or their mean);
    ``distribution`` 'truncated_normal' (variance-corrected), 'untruncated_normal' (or
    'normal') or 'uniform'."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be > 0, got {scale}")
        dist = {"normal": "normal", "untruncated_normal": "normal",
                "truncated_normal": "truncated_normal", "uniform": "uniform"}.get(
                    str(distribution).lower())
        if dist is None:
            raise ValueError(f"VarianceScaling: distribution must be 'truncated_normal', "
                             f"'untruncated_normal' or 'uniform', got {distribution!r}")
        inits.variance_scaling(scale, mode, dist)  # checks mode
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self._dist = dist
        self.seed = _check_seed(seed)

    def _init(self):
        return inits.variance_scaling(self.scale, self.mode, self._dist)


def _preset(name, scale, mode, distribution):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": f"VarianceScaling({scale}, {mode!r}, "
                                                      f"{distribution!r})."})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), _check_seed(seed)

    def _init(self):
        base = inits.normal(self.stddev)
        return lambda key, shape, dtype: base(key, shape, dtype) + lnp.asarray(self.mean,
                                                                               dtype)


class RandomUniform(Initializer):
    """Uniform on ``[minval, maxval)`` (Keras: [-0.05, 0.05) by default)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), _check_seed(seed)

    def _init(self):
        base = inits.uniform(self.maxval - self.minval)
        return lambda key, shape, dtype: base(key, shape, dtype) + lnp.asarray(self.minval,
                                                                               dtype)


class TruncatedNormal(Initializer):
    """Normal with ``stddev``, redrawn beyond two standard deviations (no variance
    correction, as Keras)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), _check_seed(seed)

    def _init(self):
        base = inits.truncated_normal(self.stddev)
        return lambda key, shape, dtype: base(key, shape, dtype) + lnp.asarray(self.mean,
                                                                               dtype)


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = float(gain), _check_seed(seed)

    def _init(self):
        return inits.orthogonal(self.gain)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def _init(self):
        return inits.constant(self.value)


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def _init(self):
        def init(key, shape, dtype):
            if len(shape) != 2:
                raise ValueError(f"Identity initializer needs a 2-D shape, got {shape}")
            return lnp.eye(*shape, dtype=dtype) * lnp.asarray(self.gain, dtype)
        return init


# Keras's lower-case aliases (keras.initializers.he_normal is the class)
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
orthogonal, zeros, ones, constant, identity = Orthogonal, Zeros, Ones, Constant, Identity
variance_scaling = VarianceScaling
NAMES = {"glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
         "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform,
         "lecun_normal": LecunNormal, "random_normal": RandomNormal, "normal": RandomNormal,
         "random_uniform": RandomUniform, "uniform": RandomUniform,
         "truncated_normal": TruncatedNormal, "orthogonal": Orthogonal, "zeros": Zeros,
         "ones": Ones, "constant": Constant, "identity": Identity,
         "variance_scaling": VarianceScaling}


def get(identifier):
    """An initializer from a Keras name (with its defaults), an Initializer, or any
    ``init(key, shape, dtype)`` function."""
    if callable(identifier) and not isinstance(identifier, str):
        return identifier() if isinstance(identifier, type) else identifier
    key = str(identifier).lower()
    if key not in NAMES:
        raise ValueError(f"unknown initializer {identifier!r}. Valid names: "
                         f"{', '.join(sorted(NAMES))}, or pass init(key, shape, dtype).")
    return NAMES[key]()
