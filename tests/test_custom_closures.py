"""Custom derivative rules under jit whose function closes over a value traced in the same
jit, and grad(grad(...)) through lax.custom_root with a while_loop solver (issue 14).

Rules here deliberately differ from the function's true derivative (scaled, clipped), so a
test fails if the rule is dropped and the function is differentiated instead."""
import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax


@pytest.fixture(autouse=True)
def _x64():
    with lepton.enable_x64():
        yield


def _newton(f, x0):
    """Newton's method in a while_loop (not differentiable in reverse: unbounded)."""
    def cond(s):
        x, i = s
        return (lnp.abs(f(x)) > 1e-14) & (i < 60)

    def body(s):
        x, i = s
        return x - f(x) / lepton.grad(f)(x), i + 1
    return lax.while_loop(cond, body, (x0, 0))[0]


def _scalar_tangent_solve(g, y):
    return y / g(1.0)


def _sqrt(theta):
    return lax.custom_root(lambda x: x * x - theta, 1.0, _newton, _scalar_tangent_solve)


@pytest.mark.parametrize("wrap", ["eager", "jit_outside", "jit_inside", "jit_both"])
def test_second_derivative_through_custom_root_with_while_loop(wrap):
    t = 2.0
    if wrap == "eager":
        d2 = lepton.grad(lepton.grad(_sqrt))
    elif wrap == "jit_outside":
        d2 = lepton.jit(lepton.grad(lepton.grad(_sqrt)))
    elif wrap == "jit_inside":
        d2 = lepton.grad(lepton.grad(lepton.jit(_sqrt)))
    else:
        d2 = lepton.jit(lepton.grad(lepton.jit(lepton.grad(_sqrt))))
    np.testing.assert_allclose(float(d2(t)), -0.25 * t ** -1.5, rtol=1e-10)


def test_third_derivative_and_hessian_through_custom_root():
    np.testing.assert_allclose(float(lepton.grad(lepton.grad(lepton.grad(_sqrt)))(2.0)),
                               0.375 * 2.0 ** -2.5, rtol=1e-9)
    # a vector root: x_i^3 = theta_i * s (s closed over), Hessian of sum(x) in theta
    def cube_roots(theta, s):
        def f(x):
            return x ** 3 - theta * s
        return lax.custom_root(f, lnp.ones_like(theta), _vec_newton,
                               lambda g, y: y / g(lnp.ones_like(y)))

    theta = lnp.array([1.5, 2.0, 8.0])
    h = lepton.jit(lepton.hessian(lambda th: lnp.sum(cube_roots(th, 2.0))))(theta)
    want = np.diag(-2.0 / 9.0 * 2.0 ** (1 / 3) * np.asarray(theta) ** (-5 / 3))
    np.testing.assert_allclose(np.asarray(h), want, rtol=1e-9, atol=1e-12)


def _vec_newton(f, x0):
    def cond(s):
        x, i = s
        return (lnp.max(lnp.abs(f(x))) > 1e-13) & (i < 60)

    def body(s):
        x, i = s
        d = lepton.jvp(f, (x,), (lnp.ones_like(x),))[1]  # elementwise f: diagonal Jacobian
        return x - f(x) / d, i + 1
    return lax.while_loop(cond, body, (x0, 0))[0]


# ----------------------------------------------------------------------------- closures in jit
def _scaled_sin(c, x):
    """sin(c x) with a rule that reports 3x the true derivative in x."""
    @lepton.custom_jvp
    def f(x):
        return lnp.sin(c * x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        return f(x), 3 * c * lnp.cos(c * x) * dx
    return f(x)


@pytest.mark.parametrize("how", ["grad_of_jit", "jit_of_grad", "eager"])
def test_custom_jvp_closing_over_a_jit_traced_value_keeps_its_rule(how):
    c, x = 2.0, 0.3
    g = lepton.grad(_scaled_sin, argnums=1)
    g = {"grad_of_jit": lepton.grad(lepton.jit(_scaled_sin), argnums=1),
         "jit_of_grad": lepton.jit(g), "eager": g}[how]
    np.testing.assert_allclose(float(g(c, x)), 3 * c * np.cos(c * x), rtol=1e-12)


def test_custom_jvp_closure_forward_mode_vmap_and_closed_over_derivative():
    c, x = 2.0, lnp.array([0.1, 0.3, -0.4])
    f = lepton.jit(_scaled_sin)
    _, t = lepton.jvp(lambda x: f(c, x), (x,), (lnp.ones(3),))
    np.testing.assert_allclose(np.asarray(t), 3 * c * np.cos(c * np.asarray(x)), rtol=1e-12)
    gs = lepton.vmap(lepton.grad(f, argnums=1), in_axes=(None, 0))(c, x)
    np.testing.assert_allclose(np.asarray(gs), 3 * c * np.cos(c * np.asarray(x)), rtol=1e-12)
    # the closed-over c has no rule: its derivative is the function's, x cos(c x)
    np.testing.assert_allclose(float(lepton.grad(f, argnums=0)(c, 0.3)), 0.3 * np.cos(0.6),
                               rtol=1e-12)


def _clipped_scale(c, x):
    """c * x whose gradient in x is clipped to [-1, 1] (a custom_vjp closing over c)."""
    @lepton.custom_vjp
    def f(x):
        return c * x

    def fwd(x):
        return c * x, None

    def bwd(_, g):
        return (lnp.clip(g * c, -1.0, 1.0),)
    f.defvjp(fwd, bwd)
    return f(x)


@pytest.mark.parametrize("how", ["grad_of_jit", "jit_of_grad", "eager", "jit_grad_jit"])
def test_custom_vjp_closing_over_a_jit_traced_value_keeps_its_rule(how):
    g = lepton.grad(_clipped_scale, argnums=1)
    g = {"grad_of_jit": lepton.grad(lepton.jit(_clipped_scale), argnums=1),
         "jit_of_grad": lepton.jit(g), "eager": g,
         "jit_grad_jit": lepton.jit(lepton.grad(lepton.jit(_clipped_scale), argnums=1))}[how]
    assert float(g(3.0, 0.3)) == 1.0      # clipped (the true derivative is 3)
    assert float(g(0.5, 0.3)) == 0.5


def test_custom_vjp_closure_both_arguments_and_vmap():
    gc, gx = lepton.grad(lepton.jit(_clipped_scale), argnums=(0, 1))(3.0, 0.3)
    assert float(gx) == 1.0
    np.testing.assert_allclose(float(gc), 0.3, rtol=1e-12)  # d(c x)/dc through the function
    cs = lnp.array([0.5, 2.0, -4.0])
    gs = lepton.jit(lepton.vmap(lepton.grad(_clipped_scale, argnums=1), in_axes=(0, None)))(
        cs, 0.3)
    np.testing.assert_allclose(np.asarray(gs), [0.5, 1.0, -1.0])


def test_custom_root_closing_over_a_traced_value_in_jit():
    def f(theta):
        th = theta * 2.0  # a value traced inside the jit, captured by custom_root's f
        return lax.custom_root(lambda x: x * x - th, 1.0, _newton, _scalar_tangent_solve)

    t = 3.0
    np.testing.assert_allclose(float(lepton.jit(lepton.grad(f))(t)), (2 * t) ** -0.5, rtol=1e-10)
    np.testing.assert_allclose(float(lepton.grad(lepton.jit(f))(t)), (2 * t) ** -0.5, rtol=1e-10)
    np.testing.assert_allclose(float(lepton.jit(lepton.grad(lepton.grad(f)))(t)),
                               -(2 * t) ** -1.5, rtol=1e-9)


def _cg(matvec, b, iters=50):
    """Conjugate gradients in a while_loop (never differentiated: custom_linear_solve)."""
    def cond(s):
        x, r, p, rs, i = s
        return (rs > 1e-26) & (i < iters)

    def body(s):
        x, r, p, rs, i = s
        ap = matvec(p)
        alpha = rs / lnp.dot(p, ap)
        x, r = x + alpha * p, r - alpha * ap
        rs2 = lnp.dot(r, r)
        return x, r, r + rs2 / rs * p, rs2, i + 1
    return lax.while_loop(cond, body, (lnp.zeros_like(b), b, b, lnp.dot(b, b), 0))[0]


def test_custom_linear_solve_closing_over_traced_matrix_in_jit():
    def loss(a, b):
        m = lnp.array([[a, 1.0], [1.0, 3.0]])
        x = lax.custom_linear_solve(lambda v: m @ v, b, lambda mv, r: _cg(mv, r),
                                    symmetric=True)
        return lnp.sum(x)

    def ref(a):
        return np.linalg.solve(np.array([[a, 1.0], [1.0, 3.0]]), [1.0, 2.0]).sum()
    b = lnp.array([1.0, 2.0])
    # d/da sum(M^-1 b) = -1^T M^-1 E11 M^-1 b; closed form for M = [[a, 1], [1, 3]]
    det = 3 * 2.0 - 1
    minv = np.array([[3.0, -1.0], [-1.0, 2.0]]) / det
    xs = minv @ [1.0, 2.0]
    want = -(np.ones(2) @ minv)[0] * xs[0]
    for g in (lepton.jit(lepton.grad(loss)), lepton.grad(lepton.jit(loss))):
        np.testing.assert_allclose(float(g(2.0, b)), want, rtol=1e-10)
    np.testing.assert_allclose(float(lepton.jit(loss)(2.0, b)), ref(2.0), rtol=1e-12)
    gb = lepton.jit(lepton.grad(loss, argnums=1))(2.0, b)
    np.testing.assert_allclose(np.asarray(gb), minv.T @ np.ones(2), rtol=1e-10)


def test_custom_vjp_and_checkpoint_with_an_unbatched_int_argument_under_vmap_and_grad():
    """The int argument's cotangent (float0) is not summed over the batch (reduce_sum
    refused it: a DTypeError from vmap of a custom_vjp or checkpoint inside grad)."""
    @lepton.custom_vjp
    def f(w, k):
        return lnp.cos(w) * k
    f.defvjp(lambda w, k: (f(w, k), (w, k)), lambda r, g: (-lnp.sin(r[0]) * r[1] * g, None))
    g = lepton.checkpoint(lambda w, k: lnp.cos(w) * k)
    w = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    want = -2 * np.sin(w)
    for fn in (f, g):
        loss = lambda w: lnp.sum(lepton.vmap(fn, in_axes=(0, None))(w, 2))  # noqa: E731
        np.testing.assert_allclose(lepton.grad(loss)(w), want, rtol=1e-12)
        np.testing.assert_allclose(lepton.jit(lepton.grad(loss))(w), want, rtol=1e-12)


def test_checkpoint_of_a_function_closing_over_the_differentiated_value():
    """checkpoint stages its function first, so a closed-over weight is an input of the
    rematerialised call (was a LeakedTracerError, or a TypeError inside a scan body)."""
    w = np.linspace(0.1, 1.0, 3)
    direct = lepton.grad(lambda w: lnp.sum(lnp.tanh(w * w)))(w)
    closing = lepton.grad(lambda w: lnp.sum(lepton.checkpoint(lambda h: lnp.tanh(h * w))(w)))
    np.testing.assert_allclose(closing(w), direct, rtol=1e-13)
    np.testing.assert_allclose(lepton.jit(closing)(w), direct, rtol=1e-13)

    def loss(w, remat):
        cell = lambda h, x: (lnp.tanh(h * w + x), None)  # noqa: E731
        body = lepton.checkpoint(cell) if remat else cell
        return lnp.sum(lax.scan(body, np.ones(3), np.ones((2, 3)))[0])
    np.testing.assert_allclose(lepton.grad(loss)(w, True), lepton.grad(loss)(w, False),
                               rtol=1e-13)
    lepton.test_util.check_grads(lambda w: loss(w, True), (w,), order=2, modes=("rev",))
