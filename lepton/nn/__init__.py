"""lepton.nn: activation functions, ``initializers`` and ``losses`` (as ``jax.nn``).

Layers built from these live in ``lepton.stax``.
"""
from __future__ import annotations

from . import initializers, losses  # noqa: F401
from ._activations import *  # noqa: F401,F403
from ._activations import __all__ as _act_all
from ._attention import dot_product_attention  # noqa: F401

__all__ = list(_act_all) + ["initializers", "losses", "dot_product_attention"]
