"""Tests for lepton.tree (pytrees) and lepton.dataclasses."""

import dataclasses
import sys
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lepton
from lepton import tree
from lepton.dataclasses import dataclass, field
from lepton.tree import (
    DictKey,
    FlattenedIndexKey,
    GetAttrKey,
    PyTreeDef,
    SequenceKey,
    keystr,
    register_pytree_node,
    register_pytree_node_class,
)

Point = namedtuple("Point", "x y")


@register_pytree_node_class
class Box:
    """Custom node: items are children, label is aux data."""

    def __init__(self, items, label):
        self.items = list(items)
        self.label = label

    def tree_flatten(self):
        return self.items, self.label

    @classmethod
    def tree_unflatten(cls, label, items):
        return cls(items, label)

    def __eq__(self, other):
        return type(other) is Box and (self.items, self.label) == (other.items, other.label)


@dataclass
class Pair:
    a: object
    b: object
    tag: int = field(static=True, default=0)


def follow(t, path):
    """Walk a key path down from `t`, independently of lepton.tree."""
    for key in path:
        if isinstance(key, SequenceKey):
            t = t[key.idx]
        elif isinstance(key, DictKey):
            t = t[key.key]
        elif isinstance(key, GetAttrKey):
            t = getattr(t, key.name)
        else:
            t = t.items[key.key]
    return t


# ------------------------------------------------------------------ random trees

keys = st.text(alphabet="abc", max_size=2)
trees = st.recursive(
    st.integers() | st.none(),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(keys, children, max_size=3),
        st.builds(Point, children, children),
        st.dictionaries(keys, children, max_size=3).map(OrderedDict),
        st.dictionaries(keys, children, max_size=3).map(lambda d: defaultdict(list, d)),
        st.builds(Box, st.lists(children, max_size=2), st.sampled_from(["p", "q"])),
        st.builds(Pair, children, children, st.sampled_from([0, 1])),
    ),
    max_leaves=12,
)


@given(trees)
def test_flatten_unflatten_round_trip(t):
    leaves, treedef = tree.flatten(t)
    rebuilt = tree.unflatten(treedef, leaves)
    assert rebuilt == t
    assert tree.structure(rebuilt) == treedef  # also catches e.g. defaultdict -> dict
    assert treedef.num_leaves == len(leaves)
    assert repr(treedef).count("*") == len(leaves)


@given(trees)
def test_paths_lead_to_their_leaves(t):
    keyed, treedef = tree.flatten_with_path(t)
    assert treedef == tree.structure(t)
    assert [x for _, x in keyed] == tree.leaves(t)
    for path, leaf in keyed:
        assert follow(t, path) is leaf


@given(trees)
def test_map_over_two_trees_pairs_matching_leaves(t):
    leaves, treedef = tree.flatten(t)
    negated = treedef.unflatten([-x for x in leaves])
    out = tree.map(lambda x, y: np.array([x, y], dtype=object), t, negated)  # arrays are leaves
    assert [list(a) for a in tree.leaves(out)] == [[x, -x] for x in leaves]
    assert tree.structure(tree.map(str, t)) == treedef
    assert hash(tree.structure(tree.map(str, t))) == hash(treedef)


# ----------------------------------------------------------------- node kinds


def test_none_is_an_empty_node_not_a_leaf():
    leaves, treedef = tree.flatten(None)
    assert leaves == []
    assert treedef.num_leaves == 0 and treedef.num_nodes == 1
    assert repr(treedef) == "PyTreeDef(None)"
    assert tree.leaves([None, 1]) == [1]
    assert tree.map(lambda x: x + 1, [None, 1]) == [None, 2]


def test_non_nodes_are_leaves():
    arr = np.arange(3)
    leaves, treedef = tree.flatten(arr)
    assert leaves == [arr] and repr(treedef) == "PyTreeDef(*)"
    assert treedef.is_leaf() and treedef.num_nodes == 1
    assert tree.leaves({"x": arr, "y": "text"}) == [arr, "text"]


def test_dict_keys_are_sorted():
    leaves, treedef = tree.flatten({"b": 1, "a": 2})
    assert leaves == [2, 1]
    assert list(treedef.unflatten([1, 2])) == ["a", "b"]
    assert treedef == tree.structure({"a": 0, "b": 0})


def test_unsortable_dict_keys_raise_clear_error():
    with pytest.raises(TypeError, match="not mutually sortable"):
        tree.flatten({1: "x", "a": "y"})


def test_ordered_dict_keeps_insertion_order():
    t = OrderedDict([("b", 1), ("a", 2)])
    leaves, treedef = tree.flatten(t)
    assert leaves == [1, 2]
    rebuilt = treedef.unflatten(leaves)
    assert type(rebuilt) is OrderedDict and list(rebuilt) == ["b", "a"]
    assert treedef != tree.structure(OrderedDict([("a", 1), ("b", 2)]))
    assert treedef != tree.structure(dict(t))


def test_defaultdict_keeps_default_factory():
    t = defaultdict(list, {"b": 1, "a": 2})
    leaves, treedef = tree.flatten(t)
    assert leaves == [2, 1]
    rebuilt = treedef.unflatten([3, 4])
    assert type(rebuilt) is defaultdict and rebuilt.default_factory is list
    assert rebuilt == {"a": 3, "b": 4}
    assert treedef != tree.structure(defaultdict(int, t))


def test_namedtuple_is_its_own_node_type():
    leaves, treedef = tree.flatten(Point(1, [2]))
    assert leaves == [1, 2]
    assert repr(treedef) == "PyTreeDef(Point(x=*, y=[*]))"
    assert treedef.unflatten([5, 6]) == Point(5, [6])
    assert type(treedef.unflatten([5, 6])) is Point
    assert treedef != tree.structure((1, [2]))
    assert [keystr(p) for p, _ in tree.leaves_with_path(Point(1, [2]))] == [".x", ".y[0]"]


def test_treedef_repr():
    treedef = tree.structure((1, {"a": 2, "b": [3, 4]}))
    assert repr(treedef) == "PyTreeDef((*, {'a': *, 'b': [*, *]}))"
    assert repr(tree.structure((1,))) == "PyTreeDef((*,))"
    assert repr(tree.structure(OrderedDict(z=1))) == "PyTreeDef(OrderedDict({'z': *}))"
    assert repr(tree.structure(Box([1], "p"))) == "PyTreeDef(CustomNode(Box['p'], [*]))"


# -------------------------------------------------------------------- treedef


def test_treedef_equality_and_hash():
    a = tree.structure((1, {"k": [2, 3]}))
    b = tree.structure(("x", {"k": ["y", "z"]}))
    assert isinstance(a, PyTreeDef)
    assert a == b and hash(a) == hash(b)
    assert {a: "cached"}[b] == "cached"
    assert a != tree.structure([1, {"k": [2, 3]}])
    assert a != tree.structure((1, {"j": [2, 3]}))
    assert a != tree.structure((1, {"k": [2, 3, 4]}))
    assert a != tree.structure((None, {"k": [2, 3]}))
    assert a != "not a treedef"


def test_treedef_children_and_counts():
    treedef = tree.structure((1, None, [2, 3]))
    assert treedef.num_leaves == 3
    assert treedef.num_nodes == 6
    assert treedef.children() == [tree.structure(0), tree.structure(None), tree.structure([0, 0])]
    assert treedef.node_data == (tuple, None)
    assert tree.structure(0).node_data is None


def test_unflatten_wrong_leaf_count():
    treedef = tree.structure([1, 2, 3])
    with pytest.raises(ValueError, match="expects 3 leaves, got 2"):
        treedef.unflatten([1, 2])
    with pytest.raises(ValueError, match="expects 3 leaves, got 4"):
        tree.unflatten(treedef, [1, 2, 3, 4])


def test_compose():
    outer = tree.structure([0, 0])
    inner = tree.structure({"a": 0, "b": None})
    composed = outer.compose(inner)
    assert composed == tree.structure([{"a": 0, "b": None}, {"a": 0, "b": None}])
    assert composed.num_leaves == 2


# ------------------------------------------------------------------- is_leaf


def test_is_leaf_stops_descent():
    t = [[1, 2], [3], None]
    is_pair = lambda x: isinstance(x, list) and len(x) == 2  # noqa: E731
    assert tree.leaves(t, is_leaf=is_pair) == [[1, 2], 3]
    assert tree.leaves(t, is_leaf=lambda x: x is None) == [1, 2, 3, None]
    assert tree.map(lambda x: -x if isinstance(x, int) else len(x), t, is_leaf=is_pair) == [2, [-3], None]
    assert tree.map(lambda x: x is None, t, is_leaf=lambda x: x is None) == [[False, False], [False], True]


def test_is_leaf_applies_to_root():
    assert tree.leaves({"a": 1}, is_leaf=lambda x: isinstance(x, dict)) == [{"a": 1}]


def test_with_path_respects_is_leaf():
    keyed = tree.leaves_with_path({"a": [1, 2], "b": [3]}, is_leaf=lambda x: x == [3])
    assert [(keystr(p), x) for p, x in keyed] == [("['a'][0]", 1), ("['a'][1]", 2), ("['b']", [3])]
    out = tree.map_with_path(lambda p, x: keystr(p), {"b": [3]}, is_leaf=lambda x: x == [3])
    assert out == {"b": "['b']"}


# ------------------------------------------------------------------------ map


def test_map_multiple_trees():
    out = tree.map(lambda a, b, c: a + b + c, {"a": 1, "b": [2, 3]}, {"a": 10, "b": [20, 30]}, {"b": [200, 300], "a": 100})
    assert out == {"a": 111, "b": [222, 333]}


def test_map_rest_trees_may_hold_subtrees_at_leaves():
    out = tree.map(lambda x, y: (x, y), [1, 2], [(3, 4), {"k": None}])
    assert out == [(1, (3, 4)), (2, {"k": None})]


def test_map_mismatch_names_path_and_both_structures():
    with pytest.raises(ValueError) as info:
        tree.map(lambda x, y: x, {"a": [1, {"b": 2}]}, {"a": [1, {"c": 2}]})
    message = str(info.value)
    assert "['a'][1]" in message
    assert "{'b': *}" in message and "{'c': *}" in message
    assert "PyTreeDef({'a': [*, {'b': *}]})" in message
    assert "PyTreeDef({'a': [*, {'c': *}]})" in message


def test_map_mismatch_leaf_where_node_expected():
    with pytest.raises(ValueError, match=r"at \[0\]\.y: expected \[\*\], got a leaf of type int"):
        tree.map(lambda x, y: x, [Point(1, [2])], [Point(1, 2)])


def test_map_mismatch_node_type_at_root():
    with pytest.raises(ValueError, match=r"at the root: expected \[\*, \*\], got \(\*, \*\)"):
        tree.map(lambda x, y: x, [1, 2], (1, 2))


def test_map_mismatch_custom_aux_data():
    with pytest.raises(ValueError, match=r"\['k'\]: expected CustomNode\(Box\['p'\], \[\*\]\), got CustomNode\(Box\['q'\]"):
        tree.map(lambda x, y: x, {"k": Box([1], "p")}, {"k": Box([1], "q")})


def test_map_mismatch_none_vs_leaf():
    with pytest.raises(ValueError, match=r"at \[0\]: expected None"):
        tree.map(lambda x, y: x, [None, 1], [2, 3])


def test_map_with_path():
    out = tree.map_with_path(lambda p, x, y: (keystr(p), x + y), {"a": [1, Point(2, 3)]}, {"a": [10, Point(20, 30)]})
    assert out == {"a": [("['a'][0]", 11), Point(("['a'][1].x", 22), ("['a'][1].y", 33))]}


def test_map_with_path_mismatch():
    with pytest.raises(ValueError, match=r"\['a'\]"):
        tree.map_with_path(lambda p, x, y: x, {"a": [1]}, {"a": [1, 2]})


# ------------------------------------------------------------- reductions etc


def test_all():
    assert tree.all({"a": [1, True], "b": None})
    assert not tree.all({"a": [1, 0]})
    assert tree.all([])


def test_reduce():
    assert tree.reduce(lambda a, b: a + b, {"a": [1, 2], "b": 3}) == 6
    assert tree.reduce(lambda a, b: a + [b], [1, (2,)], initializer=[]) == [1, 2]
    assert tree.reduce(lambda a, b: a + b, None, initializer=7) == 7
    with pytest.raises(TypeError):
        tree.reduce(lambda a, b: a + b, None)


def test_transpose():
    outer = tree.structure([0, 0, 0])
    inner = tree.structure({"a": 0, "b": (0, 0)})
    t = [{"a": i, "b": (10 * i, 100 * i)} for i in range(3)]
    assert tree.transpose(outer, inner, t) == {"a": [0, 1, 2], "b": ([0, 10, 20], [0, 100, 200])}


def test_transpose_mismatch():
    outer = tree.structure([0, 0])
    inner = tree.structure({"a": 0})
    with pytest.raises(ValueError, match=r"\[1\]"):
        tree.transpose(outer, inner, [{"a": 1}, {"b": 2}])


def test_keystr():
    assert keystr((DictKey("a"), SequenceKey(0), GetAttrKey("b"))) == "['a'][0].b"
    assert keystr((DictKey(1), FlattenedIndexKey(2))) == "[1][2]"
    assert keystr(()) == ""
    assert str(SequenceKey(0)) == "[0]" and str(DictKey("a")) == "['a']" and str(GetAttrKey("n")) == ".n"


# ---------------------------------------------------------------- registration


class Unkeyed:
    def __init__(self, a, b):
        self.a, self.b = a, b


register_pytree_node(Unkeyed, lambda u: ((u.a, u.b), None), lambda _, ch: Unkeyed(*ch))


class Keyed:
    def __init__(self, a, b):
        self.a, self.b = a, b


register_pytree_node(
    Keyed,
    lambda k: ((k.a, k.b), "aux"),
    lambda aux, ch: Keyed(*ch),
    lambda k: (((GetAttrKey("a"), k.a), (GetAttrKey("b"), k.b)), "aux"),
)


def test_registered_class_round_trips():
    leaves, treedef = tree.flatten(Unkeyed(1, [2, 3]))
    assert leaves == [1, 2, 3]
    rebuilt = treedef.unflatten([4, 5, 6])
    assert type(rebuilt) is Unkeyed and (rebuilt.a, rebuilt.b) == (4, [5, 6])


def test_registered_class_keys():
    assert [keystr(p) for p, _ in tree.leaves_with_path(Unkeyed(1, 2))] == ["[0]", "[1]"]
    assert [p for p, _ in tree.leaves_with_path(Unkeyed(1, 2))][1] == (FlattenedIndexKey(1),)
    assert [keystr(p) for p, _ in tree.leaves_with_path([Keyed(1, 2)])] == ["[0].a", "[0].b"]
    assert tree.structure(Keyed(1, 2)) == tree.flatten_with_path(Keyed(1, 2))[1]


def test_mismatch_path_uses_custom_keys():
    with pytest.raises(ValueError, match=r"at \[0\]\.b: "):
        tree.map(lambda x, y: x, [Keyed(1, [2])], [Keyed(1, [2, 3])])


def test_reregistering_raises():
    with pytest.raises(ValueError, match="already registered"):
        register_pytree_node(Unkeyed, lambda u: ((), None), lambda _, ch: Unkeyed(0, 0))
    with pytest.raises(ValueError, match="already registered"):
        register_pytree_node(dict, lambda d: ((), None), lambda _, ch: {})


def test_subclass_of_registered_class_is_a_leaf():
    class Sub(Unkeyed):
        pass

    sub = Sub(1, 2)
    assert tree.leaves(sub) == [sub]


def test_registration_after_use_as_leaf():
    class Late:
        def __init__(self, x):
            self.x = x

    late = Late(1)
    assert tree.leaves(late) == [late]
    register_pytree_node(Late, lambda l: ((l.x,), None), lambda _, ch: Late(*ch))
    assert tree.leaves(late) == [1]


def test_decorator_registers_class():
    leaves, treedef = tree.flatten(Box([1, (2, 3)], "p"))
    assert leaves == [1, 2, 3]
    assert treedef.unflatten([4, 5, 6]) == Box([4, (5, 6)], "p")
    assert treedef != tree.structure(Box([1, (2, 3)], "q"))


# ------------------------------------------------------------------ dataclass


@dataclass
class Linear:
    w: object
    b: object
    activation: str = field(static=True, default="relu")
    sizes: tuple = field(static=True, default=())


def test_dataclass_fields_are_leaves_static_fields_are_structure():
    layer = Linear(np.ones(2), 3.0)
    leaves, treedef = tree.flatten(layer)
    assert len(leaves) == 2 and leaves[1] == 3.0
    assert tree.structure(Linear(np.zeros(2), 1.0)) == treedef
    assert tree.structure(Linear(np.ones(2), 3.0, activation="tanh")) != treedef
    rebuilt = treedef.unflatten([1, 2])
    assert type(rebuilt) is Linear and (rebuilt.w, rebuilt.b, rebuilt.activation) == (1, 2, "relu")


def test_dataclass_key_paths():
    assert [keystr(p) for p, _ in tree.leaves_with_path({"l": Linear(1, 2)})] == ["['l'].w", "['l'].b"]


def test_dataclass_unhashable_static_field():
    with pytest.raises(TypeError, match=r"Linear\.sizes must be hashable"):
        tree.flatten(Linear(1, 2, sizes=[1, 2]))


def test_dataclass_is_frozen_and_has_replace():
    layer = Linear(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.w = 5
    assert layer.replace(w=5) == Linear(5, 2)
    assert layer.w == 1


def test_dataclass_unflatten_skips_post_init():
    @dataclass
    class Checked:
        x: int

        def __post_init__(self):
            if not isinstance(self.x, int):
                raise TypeError("x must be an int")

    placeholder = object()
    rebuilt = tree.structure(Checked(1)).unflatten([placeholder])
    assert rebuilt.x is placeholder


def test_dataclass_with_arguments():
    @dataclass(eq=False)
    class Thing:
        x: int

    assert Thing(1) != Thing(1)
    assert tree.leaves(Thing(1)) == [1]


def test_field_keeps_user_metadata():
    @dataclass
    class Meta:
        x: int = field(static=True, default=0, metadata={"doc": "hi"})

    (f,) = dataclasses.fields(Meta)
    assert dict(f.metadata) == {"doc": "hi", "static": True}
    assert tree.leaves(Meta()) == []


# --------------------------------------------------------------------- ravel


@pytest.fixture
def lnp(monkeypatch):
    """lepton.numpy once it exists; until then numpy stands in so ravel_pytree's logic is tested."""
    try:
        import lepton.numpy as real

        if hasattr(real, "concatenate"):
            return real
    except ImportError:
        pass
    monkeypatch.setitem(sys.modules, "lepton.numpy", np)
    monkeypatch.setattr(lepton, "numpy", np, raising=False)
    return np


def test_ravel_pytree_round_trip(lnp):
    t = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": (np.int8(7), None), "b": np.ones(2, np.float32)}
    flat, unravel = tree.ravel_pytree(t)
    assert np.asarray(flat).shape == (9,)
    assert np.asarray(flat).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(flat), [1, 1, 7, 0, 1, 2, 3, 4, 5])
    back = unravel(flat)
    assert tree.structure(back) == tree.structure(t)
    for got, want in zip(tree.leaves(back), tree.leaves(t)):
        got = np.asarray(got)
        assert got.dtype == np.asarray(want).dtype and got.shape == np.shape(want)
        np.testing.assert_array_equal(got, want)


def test_ravel_pytree_promotes_dtypes(lnp):
    flat, unravel = tree.ravel_pytree([np.array([1, 2], np.int8), np.array([0.5], np.float32)])
    assert np.asarray(flat).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(flat), [1, 2, 0.5])
    ints, floats = unravel(flat)
    assert np.asarray(ints).dtype == np.int8 and np.asarray(floats).dtype == np.float32


def test_ravel_pytree_empty(lnp):
    flat, unravel = tree.ravel_pytree({"a": None})
    assert np.asarray(flat).shape == (0,) and np.asarray(flat).dtype == np.float32
    assert unravel(flat) == {"a": None}


def test_unravel_checks_length(lnp):
    flat, unravel = tree.ravel_pytree([np.zeros(3, np.float32)])
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        unravel(lnp.zeros(4, dtype=np.float32))
