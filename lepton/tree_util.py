"""``jax.tree_util``'s names over ``lepton.tree``, so JAX programs run with the import changed.

The functions are the ones in ``lepton.tree`` under their ``tree_``-prefixed JAX names
(``tree_map is lepton.tree.map``); this module adds only what ``jax.tree_util`` has beyond
them: ``Partial`` (a ``functools.partial`` that is a pytree), keyed registration
(``register_pytree_with_keys``), ``register_static`` and the ``treedef_*`` helpers.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from . import tree as _tree
from .tree import (DictKey, FlattenedIndexKey, GetAttrKey, PyTreeDef,  # noqa: F401
                   SequenceKey, keystr, register_pytree_node, register_pytree_node_class)

tree_map = _tree.map
tree_map_with_path = _tree.map_with_path
tree_leaves = _tree.leaves
tree_leaves_with_path = _tree.leaves_with_path
tree_flatten = _tree.flatten
tree_flatten_with_path = _tree.flatten_with_path
tree_unflatten = _tree.unflatten
tree_structure = _tree.structure
tree_reduce = _tree.reduce
tree_all = _tree.all
tree_transpose = _tree.transpose

KeyEntry = Any
KeyPath = tuple


def register_pytree_with_keys(nodetype: type, flatten_with_keys: Callable,
                              unflatten_func: Callable, flatten_func: Callable | None = None):
    """Register ``nodetype`` with named children: ``flatten_with_keys(x) -> ([(key, child),
    ...], aux)``; ``flatten_func`` (the same without keys) defaults to dropping the keys."""
    if flatten_func is None:
        def flatten_func(x):
            keyed, aux = flatten_with_keys(x)
            return [c for _, c in keyed], aux
    register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys)


def register_pytree_with_keys_class(cls: type) -> type:
    """Class decorator: ``tree_flatten_with_keys()`` method, ``tree_unflatten`` classmethod
    and, if defined, ``tree_flatten()``."""
    flat = getattr(cls, "tree_flatten", None)
    register_pytree_with_keys(cls, lambda x: x.tree_flatten_with_keys(), cls.tree_unflatten,
                              None if flat is None else (lambda x: x.tree_flatten()))
    return cls


def register_static(cls: type) -> type:
    """Make instances of ``cls`` pytree nodes with no children: they are carried in the
    structure (so must be hashable), never traced."""
    register_pytree_node(cls, lambda x: ((), x), lambda aux, _: aux)
    return cls


def all_leaves(iterable, is_leaf=None) -> bool:
    """Whether every element of ``iterable`` is a leaf (as ``tree_leaves`` would see it)."""
    return all(tree_structure(x, is_leaf).is_leaf() for x in iterable)


def treedef_children(treedef: PyTreeDef) -> list:
    """The structures of the root node's children."""
    return treedef.children()


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    return treedef.is_leaf()


def treedef_tuple(treedefs) -> PyTreeDef:
    """The structure of a tuple whose children have the given structures."""
    treedefs = tuple(treedefs)
    return tree_structure(tuple(t.unflatten([0] * t.num_leaves) for t in treedefs))


class Partial(functools.partial):
    """``functools.partial`` that is a pytree: its bound arguments are children (so arrays in
    them are traced, and a Partial can be passed through ``jit``), the function is static.

    The function must therefore be hashable; the arguments may be arrays or pytrees."""

    def __new__(cls, func, *args, **kw):
        if isinstance(func, functools.partial) and not isinstance(func, Partial):
            # A plain partial as the function would hide its bound arrays from transforms.
            args, kw = func.args + args, {**func.keywords, **kw}
            func = func.func
        return super().__new__(cls, func, *args, **kw)


register_pytree_node(
    Partial,
    lambda p: ((p.args, p.keywords), p.func),
    lambda func, children: Partial(func, *children[0], **children[1]))


__all__ = [
    "DictKey", "FlattenedIndexKey", "GetAttrKey", "KeyEntry", "KeyPath", "Partial",
    "PyTreeDef", "SequenceKey", "all_leaves", "keystr", "register_pytree_node",
    "register_pytree_node_class", "register_pytree_with_keys", "register_pytree_with_keys_class",
    "register_static", "tree_all", "tree_flatten", "tree_flatten_with_path", "tree_leaves",
    "tree_leaves_with_path", "tree_map", "tree_map_with_path", "tree_reduce", "tree_structure",
    "tree_transpose", "tree_unflatten", "treedef_children", "treedef_is_leaf", "treedef_tuple",
]
