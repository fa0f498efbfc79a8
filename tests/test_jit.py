"""jit: tracing cache, composition with grad/vmap/jvp in every order, statics, errors."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util
from lepton.errors import ConcretizationError

RNG = np.random.default_rng(1)


def f(x, y):
    return lnp.sum(lnp.tanh(x) * y + lnp.sin(x) ** 2)


X, Y = RNG.standard_normal(4), RNG.standard_normal(4)


def test_jit_equals_eager_and_caches():
    lepton.clear_cache()
    jf = lepton.jit(f)
    np.testing.assert_allclose(jf(X, Y), f(X, Y), rtol=1e-12)
    jf(X + 1, Y)
    info = lepton.cache_info()
    assert info.misses == 1 and info.hits == 1 and info.compiles == 1


@pytest.mark.parametrize("combo", ["jit(grad)", "grad(jit)", "jit(vmap)", "vmap(jit)",
                                   "jit(jvp)", "jvp(jit)", "jit(jit)", "grad(grad(jit))",
                                   "vmap(grad(jit))", "jit(vmap(grad))", "jacfwd(jit)",
                                   "jacrev(jit)", "hessian(jit)"])
def test_compositions(combo):
    jf = lepton.jit(f)
    xs = np.stack([X, X * 0.5, X - 1])
    g = lambda x: lepton.grad(f)(x, Y)  # noqa: E731
    want_grad = np.asarray(g(X))
    if combo == "jit(grad)":
        got, want = lepton.jit(lepton.grad(f))(X, Y), want_grad
    elif combo == "grad(jit)":
        got, want = lepton.grad(jf)(X, Y), want_grad
    elif combo == "jit(vmap)":
        got = lepton.jit(lepton.vmap(f, in_axes=(0, None)))(xs, Y)
        want = [f(x, Y) for x in xs]
    elif combo == "vmap(jit)":
        got = lepton.vmap(jf, in_axes=(0, None))(xs, Y)
        want = [f(x, Y) for x in xs]
    elif combo == "jit(jvp)":
        got = lepton.jit(lambda x, v: lepton.jvp(lambda x: f(x, Y), (x,), (v,))[1])(X, Y)
        want = want_grad @ Y
    elif combo == "jvp(jit)":
        got = lepton.jvp(lambda x: jf(x, Y), (X,), (Y,))[1]
        want = want_grad @ Y
    elif combo == "jit(jit)":
        got, want = lepton.jit(lambda x: jf(x, Y) * 2)(X), 2 * f(X, Y)
    elif combo == "grad(grad(jit))":
        got = lepton.grad(lambda x: lepton.grad(jf)(x, Y)[0])(X)
        want = lepton.grad(lambda x: lepton.grad(f)(x, Y)[0])(X)
    elif combo == "vmap(grad(jit))":
        got = lepton.vmap(lepton.grad(jf), in_axes=(0, None))(xs, Y)
        want = [g(x) for x in xs]
    elif combo == "jit(vmap(grad))":
        got = lepton.jit(lepton.vmap(lepton.grad(f), in_axes=(0, None)))(xs, Y)
        want = [g(x) for x in xs]
    elif combo == "jacfwd(jit)":
        got, want = lepton.jacfwd(jf)(X, Y), want_grad
    elif combo == "jacrev(jit)":
        got, want = lepton.jacrev(jf)(X, Y), want_grad
    else:
        got, want = lepton.hessian(jf)(X, Y), lepton.hessian(f)(X, Y)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-12)


def test_grad_of_jit_matches_finite_differences():
    test_util.check_grads(lepton.jit(f), (X, Y), order=2)


def test_grad_of_jit_stores_residuals_and_compiles_once():
    lepton.clear_cache()
    jf = lepton.jit(f)
    for _ in range(3):
        lepton.grad(jf)(X, Y)
    assert lepton.cache_info().compiles == 2  # the known (forward) and the transposed program
    text = str(lepton.make_jaxpr(lepton.grad(jf))(X, Y))
    assert "known(" in text and "transpose(" in text


def test_static_argnums_and_names():
    def g(x, n, *, mode):
        return x * n if mode == "mul" else x + n

    jg = lepton.jit(g, static_argnums=1, static_argnames="mode")
    np.testing.assert_allclose(jg(X, 3, mode="mul"), X * 3)
    np.testing.assert_allclose(jg(X, 3, mode="add"), X + 3)
    with pytest.raises(TypeError, match="hashable"):
        lepton.jit(g, static_argnums=1)(X, np.ones(2), mode="mul")


def test_python_control_flow_on_traced_value_explains():
    def h(x):
        return x if x.sum() > 0 else -x

    with pytest.raises(ConcretizationError, match="static_argnums"):
        lepton.jit(h)(X)
    with lepton.disable_jit():
        np.testing.assert_allclose(lepton.jit(h)(np.ones(2)), np.ones(2))


def test_retrace_explanations():
    lepton.clear_cache()
    jf = lepton.jit(f)
    jf(X, Y)
    jf(np.ones(5), np.ones(5))
    jf(X.astype(np.float32), Y.astype(np.float32))
    expl = lepton.cache_info().explanations
    assert any("changed shape: f64[4] -> f64[5]" in e for e in expl)
    assert any("argument 0 changed shape and dtype: f64[5] -> f32[4]" in e for e in expl)
    lepton.explain_cache_misses(True)
    try:
        with pytest.warns(UserWarning, match="retracing"):
            jf(np.ones(6), np.ones(6))
    finally:
        lepton.explain_cache_misses(False)


def test_pytrees_kwargs_and_closures():
    c = RNG.standard_normal(4)

    @lepton.jit
    def g(d, scale=1.0):
        return {"out": (d["a"] * c + d["b"]) * scale}

    out = g({"a": X, "b": Y}, scale=2.0)
    np.testing.assert_allclose(out["out"], (X * c + Y) * 2.0)


def test_jit_inside_grad_closing_over_tracer():
    def outer(w):
        inner = lepton.jit(lambda x: lnp.sum(lnp.sin(x * w)))
        return inner(X)

    got = lepton.grad(outer)(0.7)
    np.testing.assert_allclose(got, np.sum(np.cos(X * 0.7) * X), rtol=1e-6)  # w is a weak f32


def test_source_and_jaxpr_are_printable():
    jf = lepton.jit(f)
    assert "tanh" in str(jf.make_jaxpr(X, Y))
    assert jf.source(X, Y)
