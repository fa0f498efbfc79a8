"""``lepton.misc``: autograd's ``autograd.misc`` helpers (``flatten`` and the optimizers
``sgd``, ``rmsprop``, ``adam`` with autograd's call signature), so autograd programs
that import them run with only the import lines changed.  JAX-style code should use
``lepton.optimizers`` instead."""
from . import flatten as _flatten_module  # noqa: F401
from . import optimizers  # noqa: F401
from .flatten import flatten, flatten_func  # noqa: F401

__all__ = ["flatten", "flatten_func", "optimizers"]
