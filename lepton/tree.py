"""Pytrees: nested containers flattened into a list of leaves plus a hashable structure.

An object is a *node* when its exact type is registered (tuple, list, dict, None,
OrderedDict, defaultdict, namedtuples, and whatever `register_pytree_node` adds);
every other object, lepton arrays included, is a *leaf*. Transforms flatten their
inputs, work on the leaves, and rebuild outputs from a `PyTreeDef`, which is also
part of jit cache keys, so flattening and hashing are kept cheap.

This is the lowest layer of lepton: it imports nothing else from the package.
`ravel_pytree`, which needs lepton.numpy, lives in `lepton.flatten_util` (as in JAX) and
is installed here as `lepton.tree.ravel_pytree` when that module is imported (`import
lepton` does it).
"""

from __future__ import annotations

import builtins
import collections
import dataclasses
import functools
import operator
from typing import Any, Callable

__all__ = [
    "PyTreeDef",
    "SequenceKey",
    "DictKey",
    "GetAttrKey",
    "FlattenedIndexKey",
    "flatten",
    "flatten_with_path",
    "unflatten",
    "leaves",
    "leaves_with_path",
    "structure",
    "map",
    "map_with_path",
    "all",
    "reduce",
    "transpose",
    "keystr",
    "register_pytree_node",
    "register_pytree_node_class",
    "is_node_type",
    "unflatten_node",
]


# ----------------------------------------------------------------------------- keys


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """Position of a child in a tuple or list."""

    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"


@dataclasses.dataclass(frozen=True)
class DictKey:
    """Key of a child in a dict-like node."""

    key: Any

    def __str__(self):
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """Attribute name of a child in a namedtuple or dataclass."""

    name: str

    def __str__(self):
        return f".{self.name}"


@dataclasses.dataclass(frozen=True)
class FlattenedIndexKey:
    """Position of a child of a custom node that did not name its children."""

    key: int

    def __str__(self):
        return f"[{self.key!r}]"


def keystr(path) -> str:
    """Render a key path the way it would be written in Python, e.g. `['a'][0].b`."""
    return "".join(builtins.map(str, path))


# ---------------------------------------------------------------------- node types


class _Node:
    """How one node type splits into (children, aux data) and is rebuilt from them.

    `fmt(aux, child_reprs)` renders the node inside a PyTreeDef repr.
    """

    __slots__ = ("type", "flatten", "unflatten", "flatten_with_keys", "fmt")

    def __init__(self, type_, flatten, unflatten, flatten_with_keys, fmt):
        self.type = type_
        self.flatten = flatten
        self.unflatten = unflatten
        self.flatten_with_keys = flatten_with_keys
        self.fmt = fmt


def _sorted_keys(d) -> tuple:
    """Dict keys in sorted order, so equal dicts flatten identically whatever their insertion order."""
    try:
        return tuple(sorted(d))
    except TypeError:
        raise TypeError(
            f"cannot flatten a {type(d).__name__} whose keys are not mutually sortable: "
            f"{list(d)!r}; pytree dict keys are sorted to make the leaf order deterministic"
        ) from None


def _fmt_items(keys, children) -> str:
    return ", ".join(f"{k!r}: {c}" for k, c in zip(keys, children))


def _seq_with_keys(x):
    return [(SequenceKey(i), c) for i, c in enumerate(x)], None


def _mapping_with_keys(flatten, keys_of=lambda aux: aux):
    """Keyed flatten for a dict-like node whose keys `keys_of(aux)` recovers from its aux data."""

    def flatten_with_keys(x):
        children, aux = flatten(x)
        return [(DictKey(k), c) for k, c in zip(keys_of(aux), children)], aux

    return flatten_with_keys


def _dict_flatten(d):
    keys = _sorted_keys(d)
    return [d[k] for k in keys], keys


def _ordered_dict_flatten(d):
    keys = tuple(d)
    return [d[k] for k in keys], keys


def _defaultdict_flatten(d):
    keys = _sorted_keys(d)
    return [d[k] for k in keys], (d.default_factory, keys)


def _namedtuple_node(cls) -> _Node:
    fields = cls._fields
    return _Node(
        cls,
        lambda x: (x, None),
        lambda _, children: cls(*children),
        lambda x: ([(GetAttrKey(f), c) for f, c in zip(fields, x)], None),
        lambda _, cs: f"{cls.__name__}({', '.join(f'{f}={c}' for f, c in zip(fields, cs))})",
    )


def _custom_node(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn) -> _Node:
    if flatten_with_keys_fn is None:

        def flatten_with_keys_fn(x):
            children, aux = flatten_fn(x)
            return [(FlattenedIndexKey(i), c) for i, c in enumerate(children)], aux

    return _Node(
        cls,
        flatten_fn,
        unflatten_fn,
        flatten_with_keys_fn,
        lambda aux, cs: f"CustomNode({cls.__name__}[{aux!r}], [{', '.join(cs)}])",
    )


_BUILTIN_NODES = [
    _Node(
        tuple,
        lambda x: (x, None),
        lambda _, children: tuple(children),
        _seq_with_keys,
        lambda _, cs: f"({cs[0]},)" if len(cs) == 1 else f"({', '.join(cs)})",
    ),
    _Node(
        list,
        lambda x: (x, None),
        lambda _, children: list(children),
        _seq_with_keys,
        lambda _, cs: f"[{', '.join(cs)}]",
    ),
    _Node(
        dict,
        _dict_flatten,
        lambda keys, children: dict(zip(keys, children)),
        _mapping_with_keys(_dict_flatten),
        lambda keys, cs: f"{{{_fmt_items(keys, cs)}}}",
    ),
    _Node(
        type(None),
        lambda _: ((), None),
        lambda _, children: None,
        lambda _: ((), None),
        lambda _, cs: "None",
    ),
    _Node(
        collections.OrderedDict,
        _ordered_dict_flatten,
        lambda keys, children: collections.OrderedDict(zip(keys, children)),
        _mapping_with_keys(_ordered_dict_flatten),
        lambda keys, cs: f"OrderedDict({{{_fmt_items(keys, cs)}}})",
    ),
    _Node(
        collections.defaultdict,
        _defaultdict_flatten,
        lambda aux, children: collections.defaultdict(aux[0], zip(aux[1], children)),
        _mapping_with_keys(_defaultdict_flatten, operator.itemgetter(1)),
        lambda aux, cs: f"defaultdict({aux[0]!r}, {{{_fmt_items(aux[1], cs)}}})",
    ),
]


class _NodeCache(dict):
    """type -> _Node, or None for leaf types; namedtuple types are discovered on first sight."""

    def __missing__(self, cls):
        is_namedtuple = issubclass(cls, tuple) and hasattr(cls, "_fields")
        node = self[cls] = _namedtuple_node(cls) if is_namedtuple else None
        return node


_registered: dict[type, _Node] = {node.type: node for node in _BUILTIN_NODES}
_nodes = _NodeCache(_registered)


def register_pytree_node(
    cls: type,
    flatten_fn: Callable[[Any], tuple[Any, Any]],
    unflatten_fn: Callable[[Any, Any], Any],
    flatten_with_keys_fn: Callable[[Any], tuple[Any, Any]] | None = None,
) -> None:
    """Make instances of exactly `cls` (not subclasses) pytree nodes.

    `flatten_fn(obj) -> (children, aux_data)`, `unflatten_fn(aux_data, children) -> obj`;
    aux_data must be hashable and comparable since it is part of the PyTreeDef.
    `flatten_with_keys_fn(obj) -> ([(key, child), ...], aux_data)` names the children
    in key paths; without it they are named by `FlattenedIndexKey`.
    """
    if cls in _registered:
        raise ValueError(f"{cls.__module__}.{cls.__qualname__} is already registered as a pytree node")
    node = _registered[cls] = _custom_node(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)
    _nodes[cls] = node


def is_node_type(cls: type) -> bool:
    """Whether instances of exactly `cls` are pytree nodes (builtin, registered or namedtuple)."""
    return _nodes[cls] is not None


def unflatten_node(cls: type, aux_data, children):
    """Build one node of type `cls` from its aux data and children, as flattening split it.

    For code that stored a structure by type name (lepton.save) and rebuilds it later with
    no instance, and so no PyTreeDef, at hand. Raises TypeError if `cls` is a leaf type.
    """
    node = _nodes[cls]
    if node is None:
        raise TypeError(f"{cls.__module__}.{cls.__qualname__} is not a pytree node type")
    return node.unflatten(aux_data, tuple(children))


def register_pytree_node_class(cls: type) -> type:
    """Class decorator: register `cls` via its `tree_flatten()` method and `tree_unflatten` classmethod."""
    register_pytree_node(cls, operator.methodcaller("tree_flatten"), cls.tree_unflatten)
    return cls


# ------------------------------------------------------------------------- treedef


class PyTreeDef:
    """The structure of a pytree: its nodes and aux data, with leaves left as holes.

    Hashable and comparable, so it can be part of a cache key. Leaves are the
    shared `_LEAF` instance, so a flat container of arrays costs one object.
    """

    __slots__ = ("_node", "_aux", "_children", "num_leaves", "_hash")

    def __init__(self, node: _Node | None, aux, children: tuple, num_leaves: int):
        self._node = node
        self._aux = aux
        self._children = children
        self.num_leaves = num_leaves
        self._hash = None

    @property
    def num_nodes(self) -> int:
        """Number of nodes, counting leaves and childless nodes such as None."""
        return 1 + sum(c.num_nodes for c in self._children)

    @property
    def node_data(self):
        """(node type, aux data) of the root; None for a leaf."""
        return None if self._node is None else (self._node.type, self._aux)

    def children(self) -> list[PyTreeDef]:
        return list(self._children)

    def is_leaf(self) -> bool:
        return self._node is None

    def unflatten(self, leaves):
        """Rebuild a pytree of this structure from `leaves` in flatten order."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"{self} expects {self.num_leaves} leaves, got {len(leaves)}")
        return self._build(iter(leaves))

    def _build(self, leaves):
        if self._node is None:
            return next(leaves)
        children = [next(leaves) if c._node is None else c._build(leaves) for c in self._children]
        return self._node.unflatten(self._aux, tuple(children))

    def flatten_up_to(self, tree) -> list:
        """Leaves of `tree` cut at this structure's leaves (which may hold whole subtrees there).

        Raises a ValueError naming the key path where `tree` stops matching.
        """
        out = []
        try:
            _flatten_up_to(self, tree, out)
        except _Mismatch as e:
            path = keystr(_keys_along(tree, reversed(e.path)))
            raise ValueError(
                f"tree structure mismatch at {path or 'the root'}: expected {e.expected}, got {e.got}\n"
                f"  expected structure: {self}\n"
                f"  got structure:      {structure(tree)}"
            ) from None
        return out

    def compose(self, inner: PyTreeDef) -> PyTreeDef:
        """This structure with every leaf replaced by `inner`."""
        if self._node is None:
            return inner
        children = tuple([c.compose(inner) for c in self._children])
        return PyTreeDef(self._node, self._aux, children, self.num_leaves * inner.num_leaves)

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return (
            self._node is other._node
            and self.num_leaves == other.num_leaves
            and self._aux == other._aux
            and self._children == other._children
        )

    def __hash__(self):
        if self._hash is None:
            self._hash = hash((self._node, self._aux, self._children))
        return self._hash

    def __repr__(self):
        return f"PyTreeDef({self._fmt()})"

    def _fmt(self) -> str:
        if self._node is None:
            return "*"
        return self._node.fmt(self._aux, [c._fmt() for c in self._children])


_LEAF = PyTreeDef(None, None, (), 1)


class _Mismatch(Exception):
    """Raised deep in `_flatten_up_to`; child indices are collected in `path` while unwinding."""

    def __init__(self, expected: PyTreeDef, got):
        self.expected = expected._node.fmt(expected._aux, ["*"] * len(expected._children))
        node = _nodes[type(got)]
        if node is None:
            self.got = f"a leaf of type {type(got).__name__}"
        else:
            children, aux = node.flatten(got)
            self.got = node.fmt(aux, ["*"] * len(tuple(children)))
        self.path = []


def _flatten_up_to(treedef: PyTreeDef, x, out: list) -> None:
    node = treedef._node
    if node is None:
        out.append(x)
        return
    if _nodes[type(x)] is not node:
        raise _Mismatch(treedef, x)
    children, aux = node.flatten(x)
    children = tuple(children)
    if aux != treedef._aux or len(children) != len(treedef._children):
        raise _Mismatch(treedef, x)
    for i, (child_def, child) in enumerate(zip(treedef._children, children)):
        try:
            _flatten_up_to(child_def, child, out)
        except _Mismatch as e:
            e.path.append(i)
            raise


def _keys_along(tree, indices) -> list:
    """Key entries naming the path that follows child `indices` down from `tree`."""
    keys = []
    for i in indices:
        key, tree = _nodes[type(tree)].flatten_with_keys(tree)[0][i]
        keys.append(key)
    return keys


# ----------------------------------------------------------------------- flattening


def _flatten(x, leaves: list, is_leaf) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    node = _nodes[type(x)]
    if node is None:
        leaves.append(x)
        return _LEAF
    start = len(leaves)
    children, aux = node.flatten(x)
    defs = []
    for c in children:
        if _nodes[type(c)] is None:  # a leaf whatever is_leaf says: inlined to save a call per leaf
            leaves.append(c)
            defs.append(_LEAF)
        else:
            defs.append(_flatten(c, leaves, is_leaf))
    return PyTreeDef(node, aux, tuple(defs), len(leaves) - start)


def _flatten_with_path(x, path: tuple, out: list, is_leaf) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        out.append((path, x))
        return _LEAF
    node = _nodes[type(x)]
    if node is None:
        out.append((path, x))
        return _LEAF
    start = len(out)
    keyed, aux = node.flatten_with_keys(x)
    defs = tuple([_flatten_with_path(c, path + (k,), out, is_leaf) for k, c in keyed])
    return PyTreeDef(node, aux, defs, len(out) - start)


def flatten(tree, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, PyTreeDef]:
    """Split `tree` into its leaves (depth first, dict keys sorted) and its structure.

    `is_leaf(subtree) -> True` stops the descent there and treats the subtree as a leaf.
    """
    leaves = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


def flatten_with_path(tree, is_leaf=None) -> tuple[list[tuple[tuple, Any]], PyTreeDef]:
    """Like `flatten`, but each leaf comes as (key path, leaf)."""
    out = []
    treedef = _flatten_with_path(tree, (), out, is_leaf)
    return out, treedef


def unflatten(treedef: PyTreeDef, leaves):
    """Inverse of `flatten`."""
    return treedef.unflatten(leaves)


def leaves(tree, is_leaf=None) -> list:
    return flatten(tree, is_leaf)[0]


def leaves_with_path(tree, is_leaf=None) -> list[tuple[tuple, Any]]:
    return flatten_with_path(tree, is_leaf)[0]


def structure(tree, is_leaf=None) -> PyTreeDef:
    return flatten(tree, is_leaf)[1]


def map(f: Callable, tree, *rest, is_leaf=None):
    """Apply `f` leafwise; each of `rest` must match `tree` down to `tree`'s leaves."""
    leaves, treedef = flatten(tree, is_leaf)
    columns = [leaves] + [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten([f(*xs) for xs in zip(*columns)])


def map_with_path(f: Callable, tree, *rest, is_leaf=None):
    """Like `map`, but `f(key_path, leaf, *rest_leaves)`."""
    keyed, treedef = flatten_with_path(tree, is_leaf)
    columns = [treedef.flatten_up_to(r) for r in rest]
    return treedef.unflatten([f(path, x, *xs) for (path, x), *xs in zip(keyed, *columns)])


def all(tree, is_leaf=None) -> bool:
    """Whether every leaf is truthy."""
    return builtins.all(leaves(tree, is_leaf))


_NO_INITIALIZER = object()


def reduce(f: Callable, tree, initializer=_NO_INITIALIZER, is_leaf=None):
    """`functools.reduce` over the leaves."""
    if initializer is _NO_INITIALIZER:
        return functools.reduce(f, leaves(tree, is_leaf))
    return functools.reduce(f, leaves(tree, is_leaf), initializer)


def transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef, tree):
    """Turn an outer-of-inner pytree into an inner-of-outer one (e.g. list of dicts -> dict of lists)."""
    flat = outer_treedef.compose(inner_treedef).flatten_up_to(tree)
    n = inner_treedef.num_leaves
    return inner_treedef.unflatten([outer_treedef.unflatten(flat[j::n]) for j in range(n)])
