"""Keras's weight regularizers (``kernel_regularizer=keras.regularizers.L2(1e-4)``).

A regularizer maps a weight to a scalar penalty; the model adds the penalties of its
trainable layers' weights to the loss it minimises and reports (``loss`` in the History and
in ``evaluate``), as Keras 3 does.  The formulas are Keras's: ``L1: l1 * sum(|w|)``,
``L2: l2 * sum(w**2)`` (no 1/2).
"""
from __future__ import annotations

from .. import numpy as lnp

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize"]


class Regularizer:
    def __call__(self, x):
        raise NotImplementedError

    def get_config(self):
        return dict(vars(self))


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _factor("l1", l1), _factor("l2", l2)

    def __call__(self, x):
        out = lnp.zeros((), lnp.asarray(x).dtype)
        if self.l1:
            # |x| written as where(x >= 0, x, -x): its derivative at 0 is +1, as JAX's abs
            # (Keras on JAX); lepton's abs has sign(0) = 0 there
            out = out + self.l1 * lnp.sum(lnp.where(x >= 0, x, -x))
        if self.l2:
            out = out + self.l2 * lnp.sum(lnp.square(x))
        return out


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def _factor(name, value):
    value = float(value)
    if not value >= 0:
        raise ValueError(f"{name} regularization factor must be >= 0, got {value}")
    return value


def l1_l2(l1=0.01, l2=0.01):
    """Keras's ``l1_l2`` (both factors 0.01 by default, unlike ``L1L2``)."""
    return L1L2(l1=l1, l2=l2)


l1, l2 = L1, L2
_NAMES = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "l1l2": L1L2}


def get(identifier):
    """A regularizer from None, a name ('l1', 'l2', 'l1_l2'), a Regularizer, a
    ``{'class_name', 'config'}`` dict (as ``serialize`` writes) or a function
    ``w -> penalty``."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        cls = {"L1": L1, "L2": L2, "L1L2": L1L2}.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"unknown regularizer {identifier!r} in a saved model")
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, str):
        make = _NAMES.get(identifier.lower())
        if make is None:
            raise ValueError(f"unknown regularizer {identifier!r}. Valid names: l1, l2, "
                             f"l1_l2; or pass keras.regularizers.L2(0.01) or a function "
                             f"weight -> penalty")
        return make()
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"a regularizer must be None, a name, a Regularizer or a function; got "
                    f"{type(identifier).__name__}")


def serialize(reg):
    """A config for ``get`` (None for none; a user function is stored by name only)."""
    if reg is None:
        return None
    if type(reg) in (L1, L2, L1L2):
        return {"class_name": type(reg).__name__, "config": reg.get_config()}
    return getattr(reg, "__name__", "custom")
