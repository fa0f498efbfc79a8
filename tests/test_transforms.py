"""Composition of transforms over reference functions, custom rules, and error messages."""
from __future__ import annotations

import collections
import itertools

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util, tree
from lepton.errors import ConcretizationError, DTypeError, LeakedTracerError, ShapeError

RNG = np.random.default_rng(0)


def _r(*shape):
    return RNG.standard_normal(shape)


# ----------------------------------------------------------------------------- reference functions
def mlp_loss(params, x, y):
    h = lnp.tanh(x @ params["w1"] + params["b1"])
    out = h @ params["w2"] + params["b2"]
    return lnp.mean((out - y) ** 2)


MLP_PARAMS = {"w1": _r(3, 4), "b1": _r(4), "w2": _r(4, 2), "b2": _r(2)}
MLP_X, MLP_Y = _r(5, 3), _r(5, 2)


def aux_loss(w, x):
    pred = lnp.sin(x * w)
    return lnp.sum(pred ** 2), {"pred": pred}


@lepton.dataclass
class Affine:
    w: object
    b: object
    name: str = lepton.field(static=True, default="affine")


def dataclass_loss(p: Affine, x):
    return lnp.sum(lnp.exp(p.w * x + p.b))


Point = collections.namedtuple("Point", "x y")


def namedtuple_loss(p: Point, scale: int):
    return lnp.sum(p.x * p.y) * scale


# ----------------------------------------------------------------------------- basic correctness
def test_grad_matches_finite_differences_mlp():
    test_util.check_grads(lambda p: mlp_loss(p, MLP_X, MLP_Y), (MLP_PARAMS,), order=2)


def test_grad_dataclass_and_static_field():
    p = Affine(_r(3), _r(3))
    g = lepton.grad(dataclass_loss)(p, _r(3))
    assert isinstance(g, Affine) and g.name == "affine"
    test_util.check_grads(lambda w, b: dataclass_loss(Affine(w, b), np.ones(3)), (p.w, p.b))


def test_grad_with_integer_argument_and_namedtuple():
    p = Point(_r(4), _r(4))
    g = lepton.grad(namedtuple_loss)(p, 3)
    np.testing.assert_allclose(g.x, 3 * p.y)
    np.testing.assert_allclose(g.y, 3 * p.x)


def test_has_aux_and_argnums_tuple():
    w, x = 0.7, _r(4)
    (val, aux), g = lepton.value_and_grad(aux_loss, has_aux=True)(w, x)
    np.testing.assert_allclose(val, np.sum(np.sin(x * w) ** 2), rtol=1e-6)
    np.testing.assert_allclose(aux["pred"], np.sin(x * w), rtol=1e-6)
    np.testing.assert_allclose(g, np.sum(2 * np.sin(x * w) * np.cos(x * w) * x), rtol=1e-5)
    gw, gx = lepton.grad(lambda w, x: lnp.sum(w * x ** 2), argnums=(0, 1))(_r(3), _r(3))
    assert gw.shape == (3,) and gx.shape == (3,)


def test_closure_over_arrays():
    c = _r(3)
    f = lambda x: lnp.sum(lnp.sin(c * x))  # noqa: E731
    x = _r(3)
    np.testing.assert_allclose(lepton.grad(f)(x), c * np.cos(c * x), rtol=1e-10)


def test_python_control_flow_on_values_under_grad():
    def f(x):
        return lnp.sin(x) if x > 0 else lnp.cos(x)

    assert float(lepton.grad(f)(0.5)) == pytest.approx(np.cos(0.5))
    assert float(lepton.grad(f)(-0.5)) == pytest.approx(-np.sin(-0.5))


def test_nested_grad_no_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = 1  (a classic perturbation-confusion check)
    def f(x):
        return x * lepton.grad(lambda y: x + y)(1.0)

    assert float(lepton.grad(f)(2.0)) == pytest.approx(1.0)


def test_high_order_derivatives():
    f = lnp.sin
    d = f
    for k in range(5):
        d = lepton.grad(d)
    assert float(d(0.3)) == pytest.approx(np.cos(0.3))


# ----------------------------------------------------------------------------- compositions
def _scalar_fns():
    return {
        "mlp": (lambda w: mlp_loss({**MLP_PARAMS, "w1": w}, MLP_X, MLP_Y), MLP_PARAMS["w1"]),
        "trig": (lambda x: lnp.sum(lnp.sin(x) * lnp.cos(x[::-1]) + x ** 3), _r(4)),
        "logsumexp": (lambda x: lnp.log(lnp.sum(lnp.exp(x))), _r(5)),
    }


@pytest.mark.parametrize("name", list(_scalar_fns()))
def test_hessian_three_ways(name):
    f, x = _scalar_fns()[name]
    h1 = lepton.hessian(f)(x)
    h2 = lepton.jacrev(lepton.jacfwd(f))(x)
    h3 = lepton.jacfwd(lepton.jacfwd(f))(x)
    h4 = lepton.jacrev(lepton.jacrev(f))(x)
    for h in (h2, h3, h4):
        np.testing.assert_allclose(h, h1, rtol=1e-8, atol=1e-10)
    n = x.size
    v = _r(*x.shape)
    _, hv = lepton.hvp(f, (x,), (v,))
    np.testing.assert_allclose(np.asarray(h1).reshape(n, n) @ v.reshape(n),
                               np.asarray(hv).reshape(n), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", list(_scalar_fns()))
@pytest.mark.parametrize("order", list(itertools.permutations(["grad", "vmap", "jacfwd"], 2)))
def test_pairs_against_loops(name, order):
    """vmap(grad f) == loop of grad f; grad(sum vmap f) == ...; jacfwd(grad) == hessian."""
    f, x = _scalar_fns()[name]
    xs = np.stack([x, x * 0.5, x + 0.1])
    if order == ("grad", "vmap"):
        got = lepton.grad(lambda xs: lnp.sum(lepton.vmap(f)(xs)))(xs)
        want = np.stack([np.asarray(lepton.grad(f)(xi)) for xi in xs])
    elif order == ("vmap", "grad"):
        got = lepton.vmap(lepton.grad(f))(xs)
        want = np.stack([np.asarray(lepton.grad(f)(xi)) for xi in xs])
    elif order == ("jacfwd", "grad"):
        got, want = lepton.jacfwd(lepton.grad(f))(x), lepton.hessian(f)(x)
    elif order == ("grad", "jacfwd"):
        got = lepton.grad(lambda x: lnp.sum(lepton.jacfwd(f)(x)))(x)
        want = np.asarray(lepton.hessian(f)(x)).reshape(x.size, x.size).sum(0).reshape(x.shape)
    elif order == ("vmap", "jacfwd"):
        got = lepton.vmap(lepton.jacfwd(f))(xs)
        want = np.stack([np.asarray(lepton.jacfwd(f)(xi)) for xi in xs])
    else:  # ("jacfwd", "vmap")
        got = lepton.jacfwd(lambda xs: lepton.vmap(f)(xs))(xs)
        want = np.zeros((3,) + xs.shape)
        for i, xi in enumerate(xs):
            want[i, i] = np.asarray(lepton.grad(f)(xi))
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_triple_vmap_grad_jacrev():
    f = lambda x: lnp.sum(lnp.tanh(x) ** 2)  # noqa: E731
    xs = _r(3, 4)
    got = lepton.vmap(lepton.jacrev(lepton.grad(f)))(xs)
    want = np.stack([np.asarray(lepton.hessian(f)(xi)) for xi in xs])
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_per_example_grads_in_axes_none():
    def loss(w, x, y):
        return lnp.sum((lnp.tanh(x @ w) - y) ** 2)

    w, xs, ys = _r(3, 2), _r(6, 3), _r(6, 2)
    got = lepton.vmap(lepton.grad(loss), in_axes=(None, 0, 0))(w, xs, ys)
    want = np.stack([np.asarray(lepton.grad(loss)(w, x, y)) for x, y in zip(xs, ys)])
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_vmap_axes_pytrees_and_chunking():
    f = lambda d, s: {"out": d["a"] * s + d["b"]}  # noqa: E731
    d = {"a": _r(4, 3), "b": _r(4)}
    out = lepton.vmap(f, in_axes=({"a": 1, "b": None}, None), out_axes={"out": -1})(d, 2.0)
    np.testing.assert_allclose(out["out"], d["a"] * 2.0 + d["b"][:, None], rtol=1e-12)
    g = lambda x: lnp.sin(x) * 2  # noqa: E731
    x = _r(10, 3)
    np.testing.assert_allclose(lepton.vmap(g, chunk_size=3)(x), np.sin(x) * 2, rtol=1e-12)
    np.testing.assert_allclose(lepton.vmap(g, in_axes=1, out_axes=1, chunk_size=2)(x),
                               np.sin(x) * 2, rtol=1e-12)


def test_linearize_matches_jvp():
    f = lambda x: lnp.sin(x) * lnp.exp(x)  # noqa: E731
    x, v = _r(4), _r(4)
    y, f_jvp = lepton.linearize(f, x)
    np.testing.assert_allclose(f_jvp(v), lepton.jvp(f, (x,), (v,))[1], rtol=1e-12)


# ----------------------------------------------------------------------------- custom rules
def test_custom_jvp_used_by_grad_and_vmap():
    @lepton.custom_jvp
    def safe_log1pexp(x):
        return lnp.log1p(lnp.exp(x))

    @safe_log1pexp.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return safe_log1pexp(x), t * (1 - 1 / (1 + lnp.exp(x)))

    x = np.array([-3.0, 0.0, 50.0, 800.0])
    g = lepton.vmap(lepton.grad(safe_log1pexp))(x)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-np.minimum(x, 700))), rtol=1e-12)
    test_util.check_grads(lambda x: lnp.sum(safe_log1pexp(x)), (x[:2],), order=2)


def test_custom_vjp_forward_mode_and_hessian():
    @lepton.custom_vjp
    def cube(x):
        return x ** 3

    def fwd(x):
        return x ** 3, x

    def bwd(x, ct):
        return (3 * x ** 2 * ct,)

    cube.defvjp(fwd, bwd)
    x = _r(3)
    np.testing.assert_allclose(lepton.jvp(cube, (x,), (np.ones(3),))[1], 3 * x ** 2, rtol=1e-12)
    h = lepton.hessian(lambda x: lnp.sum(cube(x)))(x)
    np.testing.assert_allclose(h, np.diag(6 * x), rtol=1e-10, atol=1e-12)
    xs = _r(2, 3)
    np.testing.assert_allclose(lepton.vmap(lepton.grad(lambda x: lnp.sum(cube(x))))(xs),
                               3 * xs ** 2, rtol=1e-10)
    np.testing.assert_allclose(lepton.jacfwd(lambda x: lnp.sum(cube(x)))(x), 3 * x ** 2,
                               rtol=1e-10)


def test_custom_vjp_bwd_is_what_reverse_mode_uses():
    @lepton.custom_vjp
    def clip_grad(x):
        return x

    clip_grad.defvjp(lambda x: (x, None), lambda _, ct: (lnp.clip(ct, -1.0, 1.0),))
    g = lepton.grad(lambda x: lnp.sum(clip_grad(x) * 10.0))(_r(3))
    np.testing.assert_allclose(g, np.ones(3))


def test_checkpoint_saves_only_inputs():
    def f(x):
        for _ in range(4):
            x = lnp.sin(x) * 2.0
        return lnp.sum(x)

    x = _r(100)
    _, plain = lepton.saved_residuals(f, x)
    _, remat = lepton.saved_residuals(lepton.checkpoint(f), x)
    assert remat == x.nbytes < plain
    np.testing.assert_allclose(lepton.grad(lepton.checkpoint(f))(x), lepton.grad(f)(x),
                               rtol=1e-12)
    test_util.check_grads(lepton.checkpoint(f), (x[:3],), order=2)


def test_stop_gradient():
    f = lambda x: lnp.sum(x * lepton.stop_gradient(x))  # noqa: E731
    x = _r(3)
    np.testing.assert_allclose(lepton.grad(f)(x), x)


# ----------------------------------------------------------------------------- IR
def test_make_jaxpr_and_eval_shape():
    jaxpr = lepton.make_jaxpr(lambda x, y: lnp.sin(x) * y + 1.0)(np.ones(3, np.float32),
                                                                   np.ones(3, np.float32))
    text = str(jaxpr)
    assert "sin" in text and "mul" in text and "f32[3]" in text
    out = lepton.eval_shape(lambda x: {"y": x @ x.T}, np.ones((4, 2), np.float32))
    assert out["y"].shape == (4, 4) and out["y"].dtype == np.float32
    from lepton.ir import typecheck
    typecheck(jaxpr.jaxpr)


# ----------------------------------------------------------------------------- errors
def test_grad_of_nonscalar_output_explains():
    with pytest.raises(ShapeError, match=r"scalar output.*f(32|64)\[3\].*jacrev"):
        lepton.grad(lnp.sin)(np.ones(3))


def test_grad_wrt_integer_input_explains():
    with pytest.raises(DTypeError, match="argument 0.*int32.*astype"):
        lepton.grad(lambda x: lnp.sum(x * 1.0))(lnp.arange(3))
    with pytest.raises(DTypeError, match=r"argument 0\['b'\]"):
        lepton.grad(lambda d: lnp.sum(d["a"]) * 1.0)({"a": np.ones(2), "b": 3})


def test_vmap_mismatched_axes_explains():
    with pytest.raises(ShapeError, match="inconsistent sizes.*3.*4"):
        lepton.vmap(lnp.add)(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        lepton.vmap(lnp.add, in_axes=(0,))(np.ones(3), np.ones(3))
    with pytest.raises(ShapeError, match="no axis 2"):
        lepton.vmap(lnp.sin, in_axes=2)(np.ones((3, 2)))


def test_leaked_tracer_explains():
    leaked = []

    def f(x):
        leaked.append(x)
        return lnp.sum(x)

    lepton.grad(f)(np.ones(2))
    with pytest.raises(LeakedTracerError, match="already finished"):
        lnp.sin(leaked[0])


def test_python_bool_of_traced_value_explains():
    with pytest.raises(ConcretizationError, match=r"(?s)lnp\.where.*test_transforms\.py"):
        lepton.vmap(lambda x: x if x > 0 else -x)(np.ones(3))
    with pytest.raises(ConcretizationError, match="float()"):
        lepton.grad(lambda x: float(x) * x)(1.0)
    with pytest.raises(ConcretizationError, match="NumPy functions need concrete values"):
        lepton.vmap(lambda x: np.sin(x))(np.ones(3))


def test_mutation_points_to_at():
    x = lnp.ones(3)
    with pytest.raises(TypeError, match=r"\.at\[idx\]\.set"):
        x[0] = 2.0
    arr = np.asarray(x)
    with pytest.raises(ValueError):
        arr[0] = 2.0  # the buffer is read-only, so lepton arrays never change underneath


def test_pytree_structure_errors_name_paths():
    _, pullback = lepton.vjp(lambda d: {"a": d["a"] * 2}, {"a": np.ones(2)})
    with pytest.raises(ShapeError, match="structure"):
        pullback({"b": np.ones(2)})
    with pytest.raises(ShapeError, match="shape"):
        pullback({"a": np.ones(3)})
    assert tree.structure({"a": 1}) != tree.structure({"b": 1})


def conv_net_loss(p, x, y):
    """Conv(2 filters 3x3 SAME) + ReLU + MaxPool 2x2 + Dense: the CNN of the product, small."""
    h = lepton.lax.conv_general_dilated(x, p["k"], (1, 1), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))
    h = lnp.maximum(h + p["kb"], 0.0)
    h = lepton.lax.reduce_window(h, -np.inf, "max", (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    logits = h.reshape((h.shape[0], -1)) @ p["w"]
    return lnp.mean((logits - y) ** 2)


CONV_P = {"k": _r(3, 3, 1, 2), "kb": _r(2) * 0.1, "w": _r(2 * 2 * 2, 3)}
CONV_X, CONV_Y = _r(3, 4, 4, 1), _r(3, 3)


def test_conv_net_grads_and_compositions():
    test_util.check_grads(lambda p: conv_net_loss(p, CONV_X, CONV_Y), (CONV_P,), order=1)
    g = lepton.grad(conv_net_loss)(CONV_P, CONV_X, CONV_Y)
    gj = lepton.jit(lepton.grad(conv_net_loss))(CONV_P, CONV_X, CONV_Y)
    tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12), g, gj)
    per_ex = lepton.vmap(lepton.grad(conv_net_loss), in_axes=(None, 0, 0))(
        CONV_P, CONV_X[:, None], CONV_Y[:, None])
    for i in range(3):
        gi = lepton.grad(conv_net_loss)(CONV_P, CONV_X[i:i + 1], CONV_Y[i:i + 1])
        tree.map(lambda a, b: np.testing.assert_allclose(a[i], b, rtol=1e-10, atol=1e-12),
                 per_ex, gi)
