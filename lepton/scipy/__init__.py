"""``lepton.scipy``: the ``jax.scipy`` subset (special functions, distributions, linalg).

Written in lepton ops over the special-function primitives, so everything
differentiates, batches and compiles.  Sits at the level of ``lepton.nn``: it may use
transforms (``custom_jvp``) and control flow; nothing below imports it.
"""
from __future__ import annotations

from . import linalg, special, stats  # noqa: F401
