"""JAX compatibility (issue 14): any callable under every transform, static args by position or
name, pytree custom derivatives, ``lepton.numpy.__all__``, ties in max/min gradients,
``lepton.tree_util``, devices, and ``test_util.check_grads`` with JAX's signature."""
from __future__ import annotations

import collections
import dataclasses
import functools
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import test_util, tree_util


def close(a, b, tol=1e-6):
    """Leafwise allclose; ``b`` may hold plain lists where ``a`` has arrays."""
    leaves, treedef = lepton.tree.flatten(a)
    for x, y in zip(leaves, treedef.flatten_up_to(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- any callable
def _scaled_sin(a, x):
    return a * lnp.sin(x)


class _Model:
    def __init__(self, k):
        self.k = k

    def apply(self, x):
        return self.k * x * x

    def __call__(self, x):
        return self.k * lnp.sum(x ** 3)


@dataclasses.dataclass  # eq=True makes instances unhashable
class _Unhashable:
    k: float

    def __call__(self, x):
        return self.k * x


CALLABLES = {
    "partial": (functools.partial(_scaled_sin, 2.0), lambda x: 2.0 * np.cos(x)),
    "bound_method": (_Model(3.0).apply, lambda x: 6.0 * x),
    "callable_object": (_Model(0.5), lambda x: 1.5 * x ** 2),
    "unhashable_object": (_Unhashable(4.0), lambda x: 4.0 + 0 * x),
    "nested_partial": (functools.partial(functools.partial(_scaled_sin), 2.0),
                       lambda x: 2.0 * np.cos(x)),
}


@pytest.mark.parametrize("name", sorted(CALLABLES))
def test_any_callable_under_every_transform(name):
    fun, dfun = CALLABLES[name]
    x = 0.7
    want = fun(x)
    close(lepton.jit(fun)(x), want)
    close(lepton.grad(fun)(x), dfun(x))
    close(lepton.grad(lepton.jit(fun))(x), dfun(x))
    close(lepton.jit(lepton.grad(fun))(x), dfun(x))
    xs = np.linspace(-1.0, 1.0, 4)
    close(lepton.vmap(lepton.jit(fun))(xs), np.stack([np.asarray(fun(v)) for v in xs]))
    assert "jaxpr" in type(lepton.make_jaxpr(fun)(x)).__name__.lower() or \
        str(lepton.make_jaxpr(fun)(x))
    assert lepton.jit(fun).make_jaxpr(x) is not None
    # custom derivative wrappers accept them too
    cj = lepton.custom_jvp(fun)
    cj.defjvp(lambda p, t: (fun(*p), 10.0 * t[0]))
    close(lepton.grad(cj)(x), 10.0)
    cv = lepton.custom_vjp(fun)
    cv.defvjp(lambda v: (fun(v), None), lambda _, ct: (20.0 * ct,))
    close(lepton.grad(cv)(x), 20.0)
    close(lepton.grad(lepton.jit(cv))(x), 20.0)


def test_jit_partial_of_arrays_retraces_only_on_shape():
    f = lepton.jit(functools.partial(_scaled_sin, lnp.ones(3)))
    close(f(lnp.zeros(3)), np.zeros(3))
    close(f(lnp.full(3, np.pi / 2)), np.ones(3))


def test_messages_name_partials():
    cj = lepton.custom_jvp(functools.partial(_scaled_sin, 2.0))
    with pytest.raises(AttributeError, match=r"partial\(_scaled_sin\) has no JVP rule"):
        cj(1.0)
    cv = lepton.custom_vjp(_Model(1.0))
    with pytest.raises(AttributeError, match="_Model has no VJP"):
        cv(1.0)
    with pytest.raises(TypeError, match=r"jit\(partial\(_scaled_sin\)\).*hashable"):
        lepton.jit(functools.partial(_scaled_sin), static_argnums=0)(np.ones(2), 1.0)


# ----------------------------------------------------------------------------- static args
def test_static_argnames_given_by_position_and_argnums_by_name():
    f = lepton.jit(lambda x, n: lnp.ones((n,)) * x, static_argnames="n")
    close(f(2.0, 3), 2.0 * np.ones(3))
    close(f(2.0, n=4), 2.0 * np.ones(4))
    g = lepton.jit(lambda x, n: lnp.ones((n,)) * x, static_argnums=1)
    close(g(2.0, n=2), 2.0 * np.ones(2))
    close(g(1.0, 5), np.ones(5))


# ----------------------------------------------------------------------------- custom_vjp pytrees
Params = collections.namedtuple("Params", "w b")


@lepton.custom_vjp
def _affine(p, x):
    return p.w * x + p.b


def _affine_fwd(p, x):
    return _affine(p, x), (p, x)


def _affine_bwd(res, ct):
    p, x = res
    # deliberately scaled by 2 so the custom rule (not autodiff) is what we observe
    return Params(w=2.0 * lnp.sum(ct * x), b=2.0 * lnp.sum(ct)), 2.0 * ct * p.w


_affine.defvjp(_affine_fwd, _affine_bwd)


def test_custom_vjp_namedtuple_argument_under_grad_jit_vmap_jvp():
    p = Params(lnp.asarray(1.5), lnp.asarray(-0.5))
    x = lnp.asarray([1.0, 2.0, 3.0])
    loss = lambda p, x: lnp.sum(_affine(p, x))  # noqa: E731
    gp, gx = lepton.grad(loss, argnums=(0, 1))(p, x)
    assert isinstance(gp, Params)
    close(gp, Params(2.0 * 6.0, 2.0 * 3.0))
    close(gx, 2.0 * 1.5 * np.ones(3))
    close(lepton.grad(lepton.jit(loss))(p, x), gp)
    close(lepton.jit(lepton.grad(loss))(p, x), gp)
    # per-example gradients: vmap over x, p shared
    per = lepton.vmap(lepton.grad(loss), in_axes=(None, 0))(p, x[:, None])
    close(per.w, 2.0 * x)
    # forward mode through the transposed bwd
    _, t = lepton.jvp(lambda p: _affine(p, x), (p,), (Params(1.0, 0.0),))
    close(t, 2.0 * x)


def test_custom_vjp_dict_and_tuple_arguments_outputs_nondiff_and_none():
    @functools.partial(lepton.custom_vjp, nondiff_argnums=(0,))
    def f(scale, d, pair):
        return {"out": scale * d["a"] * pair[0]}, pair[1]

    def fwd(scale, d, pair):
        return f(scale, d, pair), (d, pair)

    def bwd(scale, res, ct):
        d, pair = res
        g_out, g_second = ct
        return ({"a": scale * g_out["out"] * pair[0]},
                (scale * g_out["out"] * d["a"], None))  # None: zero cotangent

    f.defvjp(fwd, bwd)
    d, pair = {"a": lnp.asarray(2.0)}, (lnp.asarray(3.0), lnp.asarray(5.0))
    loss = lambda d, pair: f(4.0, d, pair)[0]["out"] + f(4.0, d, pair)[1]  # noqa: E731
    gd, gpair = lepton.grad(loss, argnums=(0, 1))(d, pair)
    close(gd["a"], 12.0)
    close(gpair, (8.0, 0.0))
    close(lepton.grad(lepton.jit(loss), argnums=(0, 1))(d, pair), (gd, gpair))
    # keyword arguments map onto positions
    close(f(4.0, d=d, pair=pair)[0]["out"], 24.0)


def test_custom_vjp_bwd_structure_errors_are_clear():
    @lepton.custom_vjp
    def f(pair):
        return pair[0] * pair[1]

    f.defvjp(lambda pair: (f(pair), pair), lambda res, ct: ([ct, ct, ct],))
    with pytest.raises((TypeError, ValueError), match="structure"):
        lepton.grad(f)((1.0, 2.0))
    g = lepton.custom_vjp(lambda a, b: a * b)
    g.defvjp(lambda a, b: (a * b, None), lambda res, ct: (ct,))
    with pytest.raises(TypeError, match=r"one cotangent per differentiable argument \(2\)"):
        lepton.grad(g)(1.0, 2.0)


def test_checkpoint_of_pytree_arguments():
    loss = lepton.checkpoint(lambda p, x: lnp.sum(lnp.tanh(p.w * x + p.b)))
    p = Params(lnp.asarray(0.3), lnp.asarray(0.1))
    x = lnp.linspace(-1.0, 1.0, 5)
    want = lepton.grad(lambda p: lnp.sum(lnp.tanh(p.w * x + p.b)))(p)
    close(lepton.grad(loss)(p, x), want)


# ----------------------------------------------------------------------------- custom_jvp pytrees
def test_custom_jvp_pytrees_nondiff_vmap_jit():
    @functools.partial(lepton.custom_jvp, nondiff_argnums=(1,))
    def f(d, power):
        return {"y": d["x"] ** power, "z": (d["x"] * 0.0,)}

    @f.defjvp
    def f_jvp(power, primals, tangents):
        (d,), (t,) = primals, tangents
        out = f(d, power)
        # 3x the true derivative, so the rule is observable
        return out, {"y": 3.0 * power * d["x"] ** (power - 1) * t["x"], "z": (t["x"] * 0.0,)}

    loss = lambda x: f({"x": x}, 2)["y"]  # noqa: E731
    close(lepton.grad(loss)(1.5), 9.0)
    close(lepton.jit(lepton.grad(loss))(1.5), 9.0)
    xs = lnp.asarray([1.0, 2.0])
    close(lepton.vmap(lepton.grad(loss))(xs), 6.0 * np.asarray(xs))
    close(lepton.grad(lambda x: lnp.sum(lepton.vmap(loss)(x)))(xs), 6.0 * np.asarray(xs))
    out, t = lepton.jvp(lambda d: f(d, 3), ({"x": 2.0},), ({"x": 1.0},))
    close(out["y"], 8.0)
    close(t["y"], 36.0)


# ----------------------------------------------------------------------------- star import
def test_star_import_exports_public_names_only():
    ns: dict = {}
    exec("from lepton.numpy import *", ns)
    ns.pop("__builtins__")
    for leaked in ("np", "math", "operator", "builtins", "annotations", "dtypes", "ew",
                   "functools", "re", "Tracer", "ArrayBase"):
        assert leaked not in ns, leaked
    assert set(ns) == set(lnp.__all__)
    for name in ("array", "sum", "max", "linalg", "pi", "float32", "ndarray", "where", "abs"):
        assert name in ns
    # every public attribute is exported unless it is a foreign module or an internal helper
    for name in dir(lnp):
        if name.startswith("_") or name in lnp.__all__:
            continue
        v = getattr(lnp, name)
        assert isinstance(v, types.ModuleType) or name in lnp._INTERNAL, name
        if isinstance(v, types.ModuleType):
            assert not v.__name__.startswith("lepton.numpy."), name
    assert lnp.__all__ == sorted(set(lnp.__all__))


# ----------------------------------------------------------------------------- ties in max/min
TIE_CASES = [
    ("max", lambda x: lnp.max(x), [1.0, 3.0, 3.0, 0.0], [0.0, 0.5, 0.5, 0.0]),
    ("min", lambda x: lnp.min(x), [1.0, -2.0, 4.0, -2.0], [0.0, 0.5, 0.0, 0.5]),
    ("max_three_way", lambda x: lnp.max(x), [2.0, 2.0, 2.0], [1 / 3, 1 / 3, 1 / 3]),
    ("amax_axis", lambda x: lnp.sum(lnp.max(lnp.reshape(x, (2, 2)), axis=1)),
     [5.0, 5.0, 1.0, 2.0], [0.5, 0.5, 0.0, 1.0]),
    ("maximum_self", lambda x: lnp.sum(lnp.maximum(x, x[::-1])), [1.0, 2.0, 1.0],
     [1.0, 1.0, 1.0]),
    ("relu_at_zero", lambda x: lnp.sum(lnp.maximum(x, 0.0)), [0.0, 1.0, -1.0],
     [0.5, 1.0, 0.0]),
    ("minimum_at_tie", lambda x: lnp.sum(lnp.minimum(x, 1.0)), [1.0, 0.0, 2.0],
     [0.5, 1.0, 0.0]),
]


@pytest.mark.parametrize("name", [c[0] for c in TIE_CASES])
def test_tie_gradients_follow_jax(name):
    """JAX: maximum/minimum split the gradient 0.5/0.5 at x == y (lax's _balanced_eq);
    max/min reductions share it equally among all tied extrema (reduce_max's JVP divides
    by the count of locations equal to the result)."""
    _, f, x, want = next(c for c in TIE_CASES if c[0] == name)
    x = np.asarray(x)
    close(lepton.grad(f)(x), want)
    close(lepton.grad(lepton.jit(f))(x), want)
    close(lepton.jacfwd(f)(x), want)
    close(lepton.vmap(lepton.grad(f))(np.stack([x, x])), [want, want])


def test_maximum_tie_two_arguments():
    gx, gy = lepton.grad(lambda a, b: lnp.maximum(a, b), argnums=(0, 1))(2.0, 2.0)
    close((gx, gy), (0.5, 0.5))
    gx, gy = lepton.grad(lambda a, b: lnp.minimum(a, b), argnums=(0, 1))(2.0, 3.0)
    close((gx, gy), (1.0, 0.0))


# ----------------------------------------------------------------------------- tree_util
def test_tree_util_names_are_lepton_tree():
    t = {"a": (1.0, [2.0, 3.0]), "b": None}
    assert tree_util.tree_leaves(t) == [1.0, 2.0, 3.0]
    leaves, td = tree_util.tree_flatten(t)
    assert tree_util.tree_unflatten(td, leaves) == t
    assert tree_util.tree_structure(t) == td
    assert tree_util.tree_map(lambda x: 2 * x, t) == {"a": (2.0, [4.0, 6.0]), "b": None}
    assert tree_util.tree_reduce(lambda a, b: a + b, t) == 6.0
    assert tree_util.tree_all(t) and not tree_util.tree_all([1, 0])
    paths = [tree_util.keystr(p) for p, _ in tree_util.tree_leaves_with_path(t)]
    assert paths == ["['a'][0]", "['a'][1][0]", "['a'][1][1]"]
    assert tree_util.tree_map_with_path(lambda p, x: len(p), t)["a"] == (2, [3, 3])
    kp = tree_util.tree_flatten_with_path(t)[0][0][0]
    assert kp == (tree_util.DictKey("a"), tree_util.SequenceKey(0))
    outer = tree_util.tree_structure([0, 0])
    inner = tree_util.tree_structure({"x": 0, "y": 0})
    assert tree_util.tree_transpose(outer, inner, [{"x": 1, "y": 2}, {"x": 3, "y": 4}]) == \
        {"x": [1, 3], "y": [2, 4]}
    assert tree_util.treedef_children(tree_util.tree_structure((1, (2, 3))))[1] == \
        tree_util.tree_structure((0, 0))
    assert tree_util.treedef_is_leaf(tree_util.tree_structure(1.0))
    assert tree_util.treedef_tuple([outer, inner]) == tree_util.tree_structure(
        ([0, 0], {"x": 0, "y": 0}))
    assert tree_util.all_leaves([1.0, lnp.ones(2)]) and not tree_util.all_leaves([(1.0,)])
    # jax.tree names on lepton.tree
    for name in ("map", "leaves", "flatten", "unflatten", "structure", "reduce", "all",
                 "transpose", "map_with_path", "leaves_with_path", "flatten_with_path"):
        assert callable(getattr(lepton.tree, name))
    assert lepton.jacobian is lepton.jacrev


def test_register_pytree_with_keys_and_static():
    class Box:
        def __init__(self, lo, hi):
            self.lo, self.hi = lo, hi

    tree_util.register_pytree_with_keys(
        Box, lambda b: (((tree_util.GetAttrKey("lo"), b.lo), (tree_util.GetAttrKey("hi"),
                                                               b.hi)), None),
        lambda _, ch: Box(*ch))
    b = Box(lnp.asarray(1.0), lnp.asarray(3.0))
    paths = [tree_util.keystr(p) for p, _ in tree_util.tree_leaves_with_path(b)]
    assert paths == [".lo", ".hi"]
    g = lepton.grad(lambda b: b.lo * b.hi)(b)
    assert isinstance(g, Box)
    close((g.lo, g.hi), (3.0, 1.0))

    @tree_util.register_static
    class Config:
        def __init__(self, n):
            self.n = n

        def __hash__(self):
            return hash(self.n)

        def __eq__(self, other):
            return isinstance(other, Config) and other.n == self.n

    assert tree_util.tree_leaves((Config(3), 1.0)) == [1.0]
    f = lepton.jit(lambda c, x: lnp.ones((c.n,)) * x)
    close(f(Config(3), 2.0), 2.0 * np.ones(3))


def test_partial_is_a_pytree_through_jit_and_grad():
    p = tree_util.Partial(lambda w, x: lnp.sum(w * x), lnp.asarray([1.0, 2.0]))
    assert len(tree_util.tree_leaves(p)) == 1
    apply = lepton.jit(lambda fn, x: fn(x))
    close(apply(p, lnp.asarray([3.0, 4.0])), 11.0)
    g = lepton.grad(lambda fn: fn(lnp.asarray([3.0, 4.0])))(p)
    assert isinstance(g, tree_util.Partial)
    close(g.args[0], [3.0, 4.0])
    q = tree_util.Partial(functools.partial(_scaled_sin, 2.0))
    close(q(0.0), 0.0)
    assert tree_util.tree_leaves(q) == [2.0]


# ----------------------------------------------------------------------------- devices
def test_devices_and_device_put():
    (dev,) = lepton.devices()
    assert dev.platform == "cpu" and dev.id == 0 and repr(dev) == "CpuDevice(id=0)"
    assert lepton.local_devices() == [dev] and lepton.devices("cpu") == [dev]
    assert lepton.default_backend() == "cpu" and lepton.device_count() == 1
    with pytest.raises(RuntimeError, match="'gpu' is not available"):
        lepton.devices("gpu")
    host = np.arange(3.0)
    x = lepton.device_put(host, dev)
    assert isinstance(x, lepton.Array) and x.devices() == {dev} and x.device == dev
    host[0] = 9.0  # the device copy does not alias the host buffer
    close(x, [0.0, 1.0, 2.0])
    assert lepton.device_put(x) is x
    tree = lepton.device_put({"a": 1.0, "b": [np.ones(2, np.int32)], "c": None})
    assert tree["c"] is None and tree["a"].weak_type and tree["b"][0].dtype == np.int32
    per_leaf = lepton.device_put((1.0, 2.0), (dev, dev))
    assert all(isinstance(v, lepton.Array) for v in per_leaf)
    with pytest.raises(TypeError, match="device must be a lepton Device"):
        lepton.device_put(1.0, "cpu")
    with pytest.raises(TypeError, match="device_put: str is not an array type"):
        lepton.device_put("text")
    # under transforms it is the identity
    close(lepton.grad(lambda v: lepton.device_put(v) ** 2)(3.0), 6.0)
    close(lepton.jit(lambda v: lepton.device_put(v) * 2)(x), [0.0, 2.0, 4.0])


def test_block_until_ready():
    x = lnp.ones(3)
    assert x.block_until_ready() is x
    t = (x, {"k": lnp.zeros(2)}, 3, None)
    assert lepton.block_until_ready(t) is t
    out = lepton.jit(lambda v: v + 1)(x).block_until_ready()
    close(out, 2 * np.ones(3))

    def traced(v):
        assert v.block_until_ready() is v
        with pytest.raises(lepton.errors.ConcretizationError, match="devices"):
            v.devices()
        return v

    lepton.jit(traced)(x)


# ----------------------------------------------------------------------------- check_grads
def test_check_grads_passes_on_correct_derivatives_all_modes():
    f = lambda x, y: (lnp.sin(x) * y, {"p": lnp.exp(x * y)})  # noqa: E731
    args = (np.linspace(0.1, 0.9, 4), np.asarray(0.7))
    test_util.check_grads(f, args, order=2)
    test_util.check_grads(f, args, 3, modes=["fwd", "rev", "lin"])
    test_util.check_grads(f, args, 1, modes="rev", atol={np.float64: 1e-6}, rtol=1e-6,
                          eps=1e-5)


@pytest.mark.parametrize("modes", [("fwd",), ("rev",), ("lin",)])
def test_check_grads_detects_wrong_first_derivative(modes):
    @lepton.custom_jvp
    def f(x):
        return lnp.sin(x)

    f.defjvp(lambda p, t: (lnp.sin(p[0]), 1.01 * lnp.cos(p[0]) * t[0]))
    with pytest.raises(AssertionError, match="differs|inconsistent"):
        test_util.check_grads(f, (np.asarray([0.3, 0.5]),), 1, modes=modes)


def test_check_grads_order_reaches_higher_derivatives():
    @lepton.custom_jvp
    def f(x):
        return lnp.sin(x)

    @f.defjvp
    def rule(p, t):  # value cos(x) is right, but its derivative is -sin(x) - 0.1
        (x,), (tx,) = p, t
        return lnp.sin(x), (lnp.cos(x) + lepton.stop_gradient(0.1 * x) - 0.1 * x) * tx

    x = (np.asarray([0.3, 0.5]),)
    test_util.check_grads(f, x, 1)  # values and first derivatives are right
    with pytest.raises(AssertionError, match="JVP of JVP|VJP of VJP"):
        test_util.check_grads(f, x, 2)


def test_check_jvp_and_check_vjp_jax_forms():
    f = lambda x: lnp.tanh(x) ** 2  # noqa: E731
    x = (np.asarray([0.1, -0.4]),)
    test_util.check_jvp(f, functools.partial(lepton.jvp, f), x)
    test_util.check_vjp(f, functools.partial(lepton.vjp, f), x, 1e-6, 1e-6)
    test_util.check_jvp(f, x)
    bad_jvp = lambda p, t: (f(*p), 2.0 * lepton.jvp(f, p, t)[1])  # noqa: E731
    with pytest.raises(AssertionError, match="mine: jvp vs finite"):
        test_util.check_jvp(f, bad_jvp, x, err_msg="mine")
    bad_primal = lambda p, t: (f(*p) + 1.0, lepton.jvp(f, p, t)[1])  # noqa: E731
    with pytest.raises(AssertionError, match="primal"):
        test_util.check_jvp(f, bad_primal, x)
    with pytest.raises(ValueError, match="unknown modes"):
        test_util.check_grads(f, x, 1, modes=("forward",))


# ----------------------------------------------------------------------------- staged custom rules
@lepton.custom_vjp
def _clip_gradient(x):
    return x


_clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (lnp.clip(g, -1.0, 1.0),))


def test_custom_rules_survive_jit_scan_and_vmap():
    """The rules stay in the staged program: grad(jit(f)), vmap(grad(jit(f))) and scan bodies
    apply them, including a bwd that is not linear in the cotangent (gradient clipping)."""
    xs = lnp.asarray([0.1, 0.2, 0.3])
    f = lambda x: lnp.sum(_clip_gradient(5.0 * x) ** 2)  # noqa: E731
    want = [5.0, 5.0, 5.0]  # 5 * clip(2 * 5x) with 2 * 5x >= 1
    close(lepton.grad(f)(xs), want)
    close(lepton.grad(lepton.jit(f))(xs), want)
    close(lepton.jit(lepton.grad(lepton.jit(f)))(xs), want)
    close(lepton.vmap(lepton.grad(lepton.jit(lambda x: _clip_gradient(5 * x) ** 2)))(xs), want)

    def body(c, x):
        return c + _clip_gradient(x * c), None

    scan_loss = lambda c: lepton.lax.scan(body, c, xs)[0]  # noqa: E731
    # reverse: g3 = 1; g_k = g_{k+1} + clip(g_{k+1}) * x_k -> 1.3, 1.5, 1.6
    close(lepton.grad(scan_loss)(2.0), 1.6)
    close(lepton.grad(lepton.jit(scan_loss))(2.0), 1.6)

    @lepton.custom_jvp
    def h(x):
        return lnp.sin(x)

    h.defjvp(lambda p, t: (lnp.sin(p[0]), 10.0 * t[0]))
    close(lepton.grad(lepton.jit(h))(0.3), 10.0)
    close(lepton.vmap(lepton.grad(lepton.jit(h)))(xs), [10.0] * 3)
    close(lepton.jvp(lepton.jit(h), (0.3,), (2.0,))[1], 20.0)
    assert "custom_jvp_call" in str(lepton.make_jaxpr(h)(0.3))
    close(lepton.jit(lambda x: h(x) + _clip_gradient(x))(xs), np.sin(xs) + np.asarray(xs))
    close(lepton.grad(lepton.jit(lepton.checkpoint(lambda x: lnp.sin(x) * 2)))(0.5),
          2 * np.cos(0.5))


_small_ints = st.lists(st.integers(-2, 2), min_size=1, max_size=7)


@settings(max_examples=40, deadline=None)
@given(xs=_small_ints, ys_seed=st.integers(0, 2 ** 16))
def test_tie_gradients_property(xs, ys_seed):
    """On arrays full of ties: max/min share the gradient equally among tied extrema and
    maximum/minimum split it 0.5/0.5 where x == y, eagerly and under jit."""
    x = np.asarray(xs, np.float64)
    y = np.random.default_rng(ys_seed).integers(-2, 3, size=x.shape).astype(np.float64)
    for red, ext in ((lnp.max, x.max()), (lnp.min, x.min())):
        want = (x == ext) / np.sum(x == ext)
        close(lepton.grad(red)(x), want)
        close(lepton.grad(lepton.jit(red))(x), want)
    for op, wins in ((lnp.maximum, x > y), (lnp.minimum, x < y)):
        gx, gy = lepton.grad(lambda a, b: lnp.sum(op(a, b)), argnums=(0, 1))(x, y)
        close(gx, wins + 0.5 * (x == y))
        close(gy, (~wins & (x != y)) + 0.5 * (x == y))
