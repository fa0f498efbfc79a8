"""Gradient norms and clipping over whole pytrees."""
from __future__ import annotations

from .. import numpy as lnp
from .. import tree

__all__ = ["l2_norm", "clip_grads", "clip_by_global_norm"]


def l2_norm(tree_):
    """The l2 norm of all leaves together, ``sqrt(sum of squares)`` (0.0 for an empty tree)."""
    leaves = tree.leaves(tree_)
    total = sum(lnp.real(lnp.vdot(x, x)) for x in leaves)
    return lnp.sqrt(total)


def clip_grads(grad_tree, max_norm):
    """Scale all gradients by ``max_norm / l2_norm(grads)`` when that norm exceeds ``max_norm``."""
    norm = l2_norm(grad_tree)
    safe = lnp.where(norm < max_norm, 1, norm)  # no 0/0 in the branch that is not taken
    return tree.map(lambda g: lnp.where(norm < max_norm, g, g * (max_norm / safe)), grad_tree)


def clip_by_global_norm(grad_tree, max_norm):
    """Same as ``clip_grads`` (optax's name for it): rescale so the global l2 norm is at most
    ``max_norm``; gradients already within the bound are returned unchanged."""
    return clip_grads(grad_tree, max_norm)
