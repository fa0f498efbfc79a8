"""Argument handling shared by the distributions."""
from __future__ import annotations

from ...numpy.util import promote_args_inexact


def promote(name, *args):
    """Promote to a common float dtype and broadcast (as ``jnp`` promotes)."""
    return promote_args_inexact(name, *args)
