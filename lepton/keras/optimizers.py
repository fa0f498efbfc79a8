"""Keras optimizer objects over ``lepton.optimizers``.

Each class keeps Keras's argument names and defaults (``Adam(learning_rate=0.001,
beta_1=0.9, beta_2=0.999, epsilon=1e-7)``) and hands the math to the matching
``lepton.optimizers`` triple.  ``learning_rate`` may be a float or a schedule ``step -> lr``
(for example ``lepton.optimizers.cosine_decay``).  ``compile(optimizer='adam')`` looks the
name up here with the defaults.
"""
from __future__ import annotations

from .. import optimizers as _opt

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adamax", "Adagrad", "get",
           "OPTIMIZERS"]


class Optimizer:
    """Holds the configuration; ``triple()`` gives ``(opt_init, opt_update, get_params)``."""

    def __init__(self, learning_rate, clipnorm=None, global_clipnorm=None):
        self.learning_rate = learning_rate
        self.clipnorm = clipnorm if clipnorm is not None else global_clipnorm

    def _make(self):
        raise NotImplementedError

    def triple(self):
        init, update, get_params = self._make()
        if self.clipnorm is None:
            return init, update, get_params
        max_norm = float(self.clipnorm)

        def clipped_update(i, grads, state):
            return update(i, _opt.clip_by_global_norm(grads, max_norm), state)
        return init, clipped_update, get_params

    def get_config(self):
        cfg = {k: v for k, v in vars(self).items() if not callable(v)}
        return {"class_name": type(self).__name__, "config": cfg}


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _make(self):
        if self.nesterov:
            return _opt.nesterov(self.learning_rate, self.momentum)
        if self.momentum:
            return _opt.momentum(self.learning_rate, self.momentum)
        return _opt.sgd(self.learning_rate)


class RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)

    def _make(self):
        if self.momentum:
            return _opt.rmsprop_momentum(self.learning_rate, gamma=self.rho, eps=self.epsilon,
                                         momentum=self.momentum)
        return _opt.rmsprop(self.learning_rate, gamma=self.rho, eps=self.epsilon)


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _make(self):
        return _opt.adam(self.learning_rate, b1=self.beta_1, b2=self.beta_2, eps=self.epsilon)


class AdamW(Adam):
    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.weight_decay = float(weight_decay)

    def _make(self):
        return _opt.adamw(self.learning_rate, b1=self.beta_1, b2=self.beta_2,
                          eps=self.epsilon, weight_decay=self.weight_decay)


class Adamax(Adam):
    def _make(self):
        return _opt.adamax(self.learning_rate, b1=self.beta_1, b2=self.beta_2,
                           eps=self.epsilon)


class Adagrad(Optimizer):
    """Keras's Adagrad (no momentum; ``initial_accumulator_value`` is not supported)."""

    def __init__(self, learning_rate=0.001, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.epsilon = float(epsilon)

    def _make(self):
        return _opt.adagrad(self.learning_rate, momentum=0.0)


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
              "adamax": Adamax, "adagrad": Adagrad}


def get(identifier):
    """An Optimizer from a name, an Optimizer, or a ``(init, update, get_params)`` triple."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {identifier!r}. Valid names: "
                             f"{', '.join(sorted(OPTIMIZERS))}; or pass an object such as "
                             f"lepton.keras.optimizers.Adam(learning_rate=1e-3).")
        return OPTIMIZERS[key]()
    if isinstance(identifier, tuple) and len(identifier) == 3 and all(map(callable,
                                                                           identifier)):
        return _Triple(identifier)
    raise TypeError(f"optimizer must be a name ({', '.join(sorted(OPTIMIZERS))}), a "
                    f"lepton.keras.optimizers.Optimizer, or a lepton.optimizers triple; got "
                    f"{type(identifier).__name__}")


class _Triple(Optimizer):
    """A ``lepton.optimizers`` triple passed straight to compile."""

    def __init__(self, triple):
        super().__init__(None)
        self._triple = triple

    def _make(self):
        return self._triple

    def get_config(self):
        return {"class_name": "custom", "config": {}}
