"""lepton.lax control flow: scan, fori_loop, while_loop, cond, switch, map.

Values against Python loops, derivatives against finite differences (check_grads,
float64, second order) and against the same function written as a Python loop,
vmap against a loop, compositions with jit, and the error messages.
"""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax, test_util
from lepton.control_flow.while_loop import UnboundedLoopError
from lepton.errors import DTypeError, ShapeError

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 3)) * 0.5
XS = RNG.standard_normal((6, 3))
H0 = RNG.standard_normal(3)


def close(got, want, tol=1e-7):
    got, want = lepton.tree.leaves(got), lepton.tree.leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- reference functions
def rnn_step(w, h, x):
    h = lnp.tanh(w @ h + x)
    return h, lnp.sum(h * h)


def rnn_scan(w, h0, xs, reverse=False):
    h, ys = lax.scan(lambda h, x: rnn_step(w, h, x), h0, xs, reverse=reverse)
    return h, ys


def rnn_loop(w, h0, xs, reverse=False):
    h, ys = h0, []
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    for i in order:
        h, y = rnn_step(w, h, xs[i])
        ys.append(y)
    return h, lnp.stack(ys[::-1] if reverse else ys)


def rnn_loss(impl):
    def loss(w, h0, xs):
        h, ys = impl(w, h0, xs)
        return lnp.sum(h) + lnp.sum(ys ** 2)
    return loss


# ----------------------------------------------------------------------------- scan
@pytest.mark.parametrize("reverse", [False, True])
def test_scan_matches_python_loop(reverse):
    close(rnn_scan(W, H0, XS, reverse), rnn_loop(W, H0, XS, reverse))


def test_scan_pytrees_in_carry_and_xs():
    def step(c, x):
        new = {"s": c["s"] + x["a"] * c["k"][0], "k": (c["k"][0] * 1.5, c["k"][1] + 1)}
        return new, (x["a"].sum(), new["s"])

    init = {"s": lnp.zeros(2, np.float64), "k": (lnp.asarray(1.0), lnp.asarray(0))}
    xs = {"a": lnp.asarray(RNG.standard_normal((4, 2)))}
    carry, (y0, y1) = lax.scan(step, init, xs)
    c, r0, r1 = init, [], []
    for i in range(4):
        c, (a, b) = step(c, {"a": xs["a"][i]})
        r0.append(a)
        r1.append(b)
    close(carry, c)
    close((y0, y1), (lnp.stack(r0), lnp.stack(r1)))
    assert carry["k"][1].dtype == np.int32


def test_scan_length_without_xs_and_none_ys():
    carry, ys = lax.scan(lambda c, _: (c * 2, None), lnp.asarray(1.0), length=5)
    assert float(carry) == 32.0 and ys is None


def test_scan_zero_length():
    carry, ys = lax.scan(lambda c, x: (c + x, c * x), lnp.ones(2), lnp.zeros((0, 2)))
    close(carry, np.ones(2))
    assert ys.shape == (0, 2)


def test_scan_weak_init_takes_body_dtype():
    carry, _ = lax.scan(lambda c, x: (c + x, None), 0, lnp.arange(4.0))
    assert carry.dtype == np.float32 and float(carry) == 6.0


def test_scan_grads_against_finite_differences():
    test_util.check_grads(rnn_loss(rnn_scan), (W, H0, XS), order=2)


def test_scan_reverse_grads():
    loss = lambda w, h0, xs: lnp.sum(rnn_scan(w, h0, xs, reverse=True)[1])  # noqa: E731
    test_util.check_grads(loss, (W, H0, XS), order=2)


def test_scan_grad_matches_python_loop():
    g_scan = lepton.grad(rnn_loss(rnn_scan), argnums=(0, 1, 2))(W, H0, XS)
    g_loop = lepton.grad(rnn_loss(rnn_loop), argnums=(0, 1, 2))(W, H0, XS)
    close(g_scan, g_loop)
    j_scan = lepton.jacfwd(lambda w: rnn_scan(w, H0, XS)[1])(W)
    j_loop = lepton.jacfwd(lambda w: rnn_loop(w, H0, XS)[1])(W)
    close(j_scan, j_loop)


def test_scan_hessian_matches_python_loop():
    f = lambda h0: rnn_loss(rnn_scan)(W, h0, XS)  # noqa: E731
    g = lambda h0: rnn_loss(rnn_loop)(W, h0, XS)  # noqa: E731
    close(lepton.hessian(f)(H0), lepton.hessian(g)(H0))


def test_scan_residuals_hoist_loop_invariants():
    """The closed-over weight is stored once, not once per step."""
    report, _ = lepton.saved_residuals(lambda w: rnn_loss(rnn_scan)(w, H0, XS), W)
    shapes = [s for s, _, _ in report]
    assert shapes.count((3, 3)) == 1 and all(len(s) < 3 for s in shapes)


def _batched_rnn(p, xs, loop):
    wx, wh, b = p
    cell = lambda h, x: (lnp.tanh(x @ wx + h @ wh.T + b),) * 2  # noqa: E731
    h = lnp.zeros((xs.shape[1], wh.shape[0]), xs.dtype)
    if loop:
        ys = []
        for x in xs:
            h, y = cell(h, x)
            ys.append(y)
        ys = lnp.stack(ys)
    else:
        h, ys = lax.scan(cell, h, xs)
    return lnp.sum(ys[:, :, 0] ** 2) + lnp.sum(h)


def test_weight_gradients_are_hoisted_out_of_the_backward_scan():
    """Each weight's cotangent is one product of stacked operands after the loop (a bias's
    one sum), not a carry updated by a small product every step; values are unchanged."""
    rng = np.random.default_rng(1)
    p = (rng.standard_normal((4, 5)), rng.standard_normal((5, 5)) * 0.3, rng.standard_normal(5))
    xs = rng.standard_normal((7, 2, 4))
    want = lepton.grad(lambda p: _batched_rnn(p, xs, loop=True))(p)
    g = lepton.grad(lambda p: _batched_rnn(p, xs, loop=False))
    close(g(p), want)
    for backend in ("reference", "cpu"):
        close(lepton.jit(g, backend=backend)(p), want)
    close(lepton.hessian(lambda b: _batched_rnn((p[0], p[1], b), xs, False))(p[2]),
          lepton.hessian(lambda b: _batched_rnn((p[0], p[1], b), xs, True))(p[2]))
    jaxpr = lepton.make_jaxpr(g)(p).jaxpr
    backward = [e for e in jaxpr.eqns if e.prim.name == "scan" and e.params["reverse"]]
    assert len(backward) == 1 and backward[0].params["num_carry"] == 1  # only dh is carried
    stacked = [e for e in jaxpr.eqns if e.prim.name == "dot_general"
               and e.invars[0].aval.ndim == 3 and e.invars[1].aval.ndim == 3]
    assert len(stacked) == 2, jaxpr


def test_input_products_are_hoisted_before_the_scan():
    """``W @ x_t`` (xs on either side of a product with a loop-invariant operand) becomes
    one product of the stacked xs before the loop; values and gradients are unchanged,
    and a product too large to stack stays in the loop."""
    from lepton.control_flow import hoist
    rng = np.random.default_rng(2)
    w, u = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    xs = rng.standard_normal((5, 4))

    def f(w, u, xs, loop):
        cell = lambda h, x: (lnp.tanh(w @ x + x @ u + h), lnp.sum(h))  # noqa: E731
        if loop:
            h, ys = lnp.zeros(3, xs.dtype), []
            for x in xs:
                h, y = cell(h, x)
                ys.append(y)
            return lnp.sum(h) + lnp.sum(lnp.stack(ys) ** 2)
        h, ys = lax.scan(cell, lnp.zeros(3, xs.dtype), xs)
        return lnp.sum(h) + lnp.sum(ys ** 2)

    want = lepton.grad(f, argnums=(0, 1, 2))(w, u, xs, True)
    close(lepton.grad(f, argnums=(0, 1, 2))(w, u, xs, False), want)
    close(lepton.jit(lepton.grad(f, argnums=(0, 1, 2)), static_argnums=3)(w, u, xs, False), want)
    scan = [e for e in lepton.make_jaxpr(f, static_argnums=3)(w, u, xs, False).jaxpr.eqns
            if e.prim.name == "scan"][0]
    assert not any(e.prim.name == "dot_general" for e in scan.params["jaxpr"].eqns)
    old = hoist.MAX_STACKED_BYTES
    hoist.MAX_STACKED_BYTES = 0
    try:
        scan = [e for e in lepton.make_jaxpr(f, static_argnums=3)(w, u, xs[:4], False).jaxpr.eqns
                if e.prim.name == "scan"][0]
        assert sum(e.prim.name == "dot_general" for e in scan.params["jaxpr"].eqns) == 2
        close(lepton.grad(f, argnums=(0, 1, 2))(w, u, xs, False), want)
    finally:
        hoist.MAX_STACKED_BYTES = old


def test_scan_integer_carry_and_grad():
    def f(x):
        (i, y), _ = lax.scan(lambda c, _: ((c[0] + 1, c[1] * lnp.sin(x) + c[0]), None),
                             (0, x), length=4)
        return y

    def f_loop(x):
        i, y = 0, x
        for _ in range(4):
            i, y = i + 1, y * lnp.sin(x) + i
        return y

    x = np.array([0.3, 1.1])
    close(f(x), f_loop(x))
    test_util.check_grads(f, (x,), order=2)
    close(lepton.jacrev(f)(x), lepton.jacrev(f_loop)(x))


def test_nested_scans():
    def inner(c, row):
        return lax.scan(lambda a, v: (lnp.sin(a * v + c), a), c, row)

    def f(c0, m):
        return lax.scan(lambda c, row: inner(c, row), c0, m)

    def f_loop(c0, m):
        c, outs = c0, []
        for row in m:
            a, ys = c, []
            for v in row:
                ys.append(a)
                a = lnp.sin(a * v + c)
            c = a
            outs.append(lnp.stack(ys))
        return c, lnp.stack(outs)

    m = RNG.standard_normal((3, 4))
    c0 = np.asarray(0.4)
    close(f(c0, m), f_loop(c0, m))
    loss = lambda c0, m: f(c0, m)[0] + lnp.sum(f(c0, m)[1] ** 2)  # noqa: E731
    test_util.check_grads(loss, (c0, m), order=2)
    close(lepton.grad(loss, (0, 1))(c0, m),
          lepton.grad(lambda c0, m: f_loop(c0, m)[0] + lnp.sum(f_loop(c0, m)[1] ** 2),
                      (0, 1))(c0, m))


def test_scan_vmap_against_loop():
    ws = RNG.standard_normal((4, 3, 3)) * 0.5
    h0s = RNG.standard_normal((4, 3))
    xss = RNG.standard_normal((4, 6, 3))
    test_util.check_batching(rnn_scan, (ws, h0s, xss), in_axes=(0, 0, 0))
    test_util.check_batching(rnn_scan, (W, h0s, XS), in_axes=(None, 0, None))  # batched carry
    test_util.check_batching(rnn_scan, (W, H0, xss), in_axes=(None, None, 0))  # batched xs
    test_util.check_batching(rnn_scan, (ws, H0, XS), in_axes=(0, None, None))  # batched consts
    xs_t = np.moveaxis(xss, 0, 2)  # batch axis in the middle of xs
    test_util.check_batching(lambda xs: rnn_scan(W, H0, xs), (xs_t,), in_axes=(2,))


def test_scan_vmap_of_grad_and_grad_of_vmap():
    xss = RNG.standard_normal((3, 6, 3))
    got = lepton.vmap(lepton.grad(rnn_loss(rnn_scan)), in_axes=(None, None, 0))(W, H0, xss)
    want = np.stack([lepton.grad(rnn_loss(rnn_loop))(W, H0, xs) for xs in xss])
    close(got, want)
    g = lepton.grad(lambda w: lnp.sum(lepton.vmap(lambda xs: rnn_scan(w, H0, xs)[1])(xss)))(W)
    g_loop = lepton.grad(lambda w: sum(lnp.sum(rnn_loop(w, H0, xs)[1]) for xs in xss))(W)
    close(g, g_loop)


def test_scan_jit_compositions():
    loss = rnn_loss(rnn_scan)
    want = lepton.grad(rnn_loss(rnn_loop))(W, H0, XS)
    close(lepton.jit(lepton.grad(loss))(W, H0, XS), want)
    close(lepton.grad(lepton.jit(loss))(W, H0, XS), want)
    close(lepton.jit(rnn_scan)(W, H0, XS), rnn_loop(W, H0, XS))


def test_long_scan_is_one_equation():
    f = lambda x: lax.scan(lambda c, _: (lnp.sin(c) + c, c), x, length=1000)  # noqa: E731
    jaxpr = lepton.make_jaxpr(f)(1.0).jaxpr
    assert len(jaxpr.eqns) <= 2 and any(e.prim.name == "scan" for e in jaxpr.eqns)
    body = next(e for e in jaxpr.eqns if e.prim.name == "scan").params["jaxpr"]
    assert len(body.eqns) <= 3
    g = lepton.make_jaxpr(lepton.grad(lambda x: f(x)[0]))(1.0).jaxpr
    assert len(g.eqns) < 20


def test_eager_loops_compile_their_body_once(monkeypatch):
    from lepton.backends import reference
    real, compiled = reference.compile, []

    def counting(jaxpr):
        compiled.append(jaxpr)
        return real(jaxpr)

    monkeypatch.setattr(reference, "compile", counting)
    carry, _ = lax.scan(lambda c, x: (c + x, c), 0.0, lnp.arange(200.0))
    assert float(carry) == 19900.0 and len(compiled) == 1
    assert int(lax.while_loop(lambda c: c < 100, lambda c: c + 1, 0)) == 100
    assert len(compiled) == 3  # its cond and its body


# ----------------------------------------------------------------------------- fori_loop
def test_fori_loop_static_bounds_is_a_differentiable_scan():
    def f(x):
        return lax.fori_loop(1, 5, lambda i, v: lnp.sin(v) * i + v, x)

    def f_loop(x):
        for i in range(1, 5):
            x = lnp.sin(x) * i + x
        return x

    x = np.array([0.2, -0.7])
    close(f(x), f_loop(x))
    assert any(e.prim.name == "scan" for e in lepton.make_jaxpr(f)(x).jaxpr.eqns)
    test_util.check_grads(f, (x,), order=2)
    close(lepton.jacrev(f)(x), lepton.jacrev(f_loop)(x))


def test_fori_loop_traced_bounds():
    f = lepton.jit(lambda n, x: lax.fori_loop(0, n, lambda i, v: v * 2.0 + i, x))
    assert any(e.prim.name == "while" for e in f.make_jaxpr(3, np.ones(2)).jaxpr.eqns)
    close(f(3, np.ones(2)), np.full(2, 12.0))
    close(f(0, np.ones(2)), np.ones(2))
    with pytest.raises(UnboundedLoopError, match="max_steps"):
        lepton.grad(lambda x: f(3, x).sum())(np.ones(2))
    g = lepton.jit(lambda n, x: lax.fori_loop(0, n, lambda i, v: lnp.sin(v) + i, x,
                                              max_steps=8))
    x = np.array([0.5, 1.5])
    test_util.check_grads(lambda x: g(3, x), (x,), order=2)
    close(lepton.grad(lambda x: g(3, x).sum())(x),
          lepton.grad(lambda x: lax.fori_loop(0, 3, lambda i, v: lnp.sin(v) + i, x).sum())(x))


# ----------------------------------------------------------------------------- while_loop
def collatz_like(x, limit):
    """Doubles x until its sum passes ``limit``: a data-dependent trip count."""
    return lax.while_loop(lambda c: lnp.sum(c[1]) < limit,
                          lambda c: (c[0] + 1, c[1] * 1.5 + 0.125), (0, x))


def collatz_loop(x, limit):
    i = 0
    while float(np.sum(x)) < limit:
        i, x = i + 1, x * 1.5 + 0.125
    return i, x


def test_while_loop_matches_python_loop():
    x = np.array([0.3, 0.4])
    close(collatz_like(x, 10.0), collatz_loop(x, 10.0))
    close(collatz_like(x, -1.0), (0, x))


def test_while_loop_forward_mode():
    x = np.array([0.3, 0.4])
    test_util.check_grads(lambda x: collatz_like(x, 10.0)[1], (x,), order=2, modes="fwd")
    close(lepton.jacfwd(lambda x: collatz_like(x, 10.0)[1])(x), np.eye(2) * 1.5 ** 6)


def test_while_loop_reverse_mode_needs_max_steps():
    x = np.array([0.3, 0.4])
    with pytest.raises(UnboundedLoopError, match="max_steps=N"):
        lepton.grad(lambda x: lnp.sum(collatz_like(x, 10.0)[1]))(x)
    with pytest.raises(UnboundedLoopError, match="fori_loop"):
        lepton.jit(lepton.grad(lambda x: lnp.sum(collatz_like(x, 10.0)[1])))(x)


def bounded(x, limit, max_steps=20):
    return lax.while_loop(lambda c: lnp.sum(c[1] ** 2) < limit,
                          lambda c: (c[0] + 1, lnp.sin(c[1]) + c[1] * 1.25), (0, x),
                          max_steps=max_steps)


def fixed_steps(x, n):
    for _ in range(n):
        x = lnp.sin(x) + x * 1.25
    return x


def bounded_loop(x, limit, max_steps=20):
    """Eager reference: (trip count, result)."""
    n = 0
    while n < max_steps and float(np.sum(fixed_steps(x, n) ** 2)) < limit:
        n += 1
    return n, fixed_steps(x, n)


def test_while_loop_max_steps_values_and_cap():
    x = np.array([0.3, -0.2])
    close(bounded(x, 50.0), bounded_loop(x, 50.0))
    n, _ = bounded(x, 1e9, max_steps=7)
    assert int(n) == 7
    close(lepton.jit(lambda x: bounded(x, 50.0))(x), bounded_loop(x, 50.0))


def test_while_loop_max_steps_grads():
    x = np.array([0.3, -0.2])
    f = lambda x: bounded(x, 20.0)[1]  # noqa: E731
    test_util.check_grads(f, (x,), order=2)
    n = bounded_loop(x, 20.0)[0]
    assert 0 < n < 20
    want = lepton.jacrev(lambda x: fixed_steps(x, n))(x)
    close(lepton.jacrev(f)(x), want)
    close(lepton.jit(lepton.jacrev(f))(x), want)
    close(lepton.jacrev(lepton.jit(f))(x), want)


def test_while_loop_vmap_batched_predicate():
    xs = np.array([[0.3, -0.2], [1.0, 2.0], [0.01, 0.02]])
    limits = np.array([50.0, 3.0, 1e3])
    got = lepton.vmap(lambda x, lim: bounded(x, lim, 30))(xs, limits)
    want = [bounded_loop(x, lim, 30) for x, lim in zip(xs, limits)]
    close(got, (np.array([w[0] for w in want]), np.stack([w[1] for w in want])))
    assert len(set(np.asarray(got[0]).tolist())) == 3  # lanes really stop at different steps
    test_util.check_batching(lambda x: collatz_like(x, 10.0), (xs,))


def test_while_loop_vmap_then_grad_with_max_steps():
    xs = np.array([[0.3, -0.2], [1.0, 2.0]])
    limits = np.array([20.0, 3.0])
    f = lambda x, lim: lnp.sum(bounded(x, lim)[1])  # noqa: E731
    got = lepton.vmap(lepton.grad(f))(xs, limits)
    steps = [bounded_loop(x, lim)[0] for x, lim in zip(xs, limits)]
    assert steps[0] != steps[1]
    want = np.stack([lepton.grad(lambda x: lnp.sum(fixed_steps(x, n)))(x)
                     for x, n in zip(xs, steps)])
    close(got, want)
    got2 = lepton.grad(lambda xs: lnp.sum(lepton.vmap(f)(xs, limits)))(xs)
    close(got2, want)


def test_while_loop_batched_closure_and_unbatched_predicate():
    scale = np.array([1.0, 2.0, 3.0])
    f = lambda s: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * s),  # noqa: E731
                                 (0, lnp.asarray(1.0)))[1]
    close(lepton.vmap(f)(scale), scale ** 3)


# ----------------------------------------------------------------------------- cond / switch
def branches2(x, p):
    return lax.cond(p > 0, lambda x, p: lnp.sin(x) * p, lambda x, p: lnp.cos(x).sum() * x, x, p)


@pytest.mark.parametrize("p", [1.5, -1.5])
def test_cond_values_and_grads(p):
    x = np.array([0.1, 0.7, -0.4])
    want = np.sin(x) * p if p > 0 else np.cos(x).sum() * x
    close(branches2(x, p), want)
    test_util.check_grads(lambda x, p: branches2(x, p), (x, np.asarray(p)), order=2)
    py = lambda x, p: lnp.sin(x) * p if p > 0 else lnp.cos(x).sum() * x  # noqa: E731
    close(lepton.jacrev(branches2)(x, p), lepton.jacrev(py)(x, p))


def test_cond_vmap_batched_and_unbatched_predicate():
    xs = RNG.standard_normal((4, 3))
    ps = np.array([1.0, -2.0, 0.5, -0.1])
    test_util.check_batching(branches2, (xs, ps))
    test_util.check_batching(branches2, (xs, np.asarray(2.0)), in_axes=(0, None))
    g = lepton.vmap(lepton.grad(lambda x, p: lnp.sum(branches2(x, p))))(xs, ps)
    want = np.stack([lepton.grad(lambda x: lnp.sum(branches2(x, p)))(x) for x, p in zip(xs, ps)])
    close(g, want)


def test_cond_jit_compositions():
    x = np.array([0.1, 0.7, -0.4])
    f = lambda x, p: lnp.sum(branches2(x, p) ** 2)  # noqa: E731
    for p in (1.0, -1.0):
        want = lepton.grad(f)(x, p)
        close(lepton.jit(lepton.grad(f))(x, p), want)
        close(lepton.grad(lepton.jit(f))(x, p), want)
    assert any(e.prim.name == "cond" for e in lepton.make_jaxpr(branches2)(x, 1.0).jaxpr.eqns)


def test_cond_inside_scan_grads():
    def f(x):
        def step(c, i):
            c = lax.cond(i % 2 == 0, lambda c: lnp.sin(c) * 1.5, lambda c: c * c, c)
            return c, c
        return lax.scan(step, x, lnp.arange(5))

    def f_loop(x):
        ys = []
        for i in range(5):
            x = lnp.sin(x) * 1.5 if i % 2 == 0 else x * x
            ys.append(x)
        return x, lnp.stack(ys)

    x = np.array([0.3, 0.8])
    close(f(x), f_loop(x))
    loss = lambda x: lnp.sum(f(x)[1])  # noqa: E731
    test_util.check_grads(loss, (x,), order=2)
    close(lepton.grad(loss)(x), lepton.grad(lambda x: lnp.sum(f_loop(x)[1]))(x))


def test_cond_branches_with_different_residuals_and_int_outputs():
    def f(x, p):
        return lax.cond(p, lambda x: (lnp.exp(x) * lnp.sin(x), lnp.asarray(1)),
                        lambda x: (x ** 3, lnp.asarray(2)), x)

    x = np.array([0.3, -0.5])
    for p in (True, False):
        test_util.check_grads(lambda x: f(x, p)[0], (x,), order=2)
        assert int(f(x, p)[1]) == (1 if p else 2)


def test_switch_values_grads_and_clamping():
    fs = [lambda x: x * 2.0, lambda x: lnp.sin(x), lambda x: x ** 3]
    x = np.array([0.2, -0.6])
    for i, want in [(0, x * 2), (1, np.sin(x)), (2, x ** 3), (-4, x * 2), (9, x ** 3)]:
        close(lax.switch(i, fs, x), want)
    for i in range(3):
        test_util.check_grads(lambda x: lax.switch(i, fs, x), (x,), order=2)
    idx = np.array([2, 0, 1, 5])
    xs = RNG.standard_normal((4, 2))
    test_util.check_batching(lambda i, x: lax.switch(i, fs, x), (idx, xs))


def test_cond_weak_branch_output_takes_other_dtype():
    out = lax.cond(True, lambda x: x, lambda x: 0.0, lnp.ones(()).astype(np.float64))
    assert out.dtype == np.float64


def test_gradients_flow_into_closed_over_values():
    x = np.array([0.3, -0.4])

    def f(w):
        y = lax.cond(w > 1.0, lambda: lnp.sin(x * w), lambda: x * w * w)
        n, z = lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * w + y), (0, y),
                              max_steps=5)
        return lnp.sum(lax.fori_loop(0, 2, lambda i, v: v * w, z))

    def f_py(w):
        y = lnp.sin(x * w) if w > 1.0 else x * w * w
        z = y
        for _ in range(3):
            z = z * w + y
        return lnp.sum(z * w * w)

    for w in (np.asarray(1.3), np.asarray(0.7)):
        close(f(w), f_py(w))
        test_util.check_grads(f, (w,), order=2)
        close(lepton.grad(f)(w), lepton.grad(f_py)(w))


# ----------------------------------------------------------------------------- select / map
def test_select_is_shape_strict():
    close(lax.select(lnp.asarray([True, False]), lnp.ones(2), lnp.zeros(2)), np.array([1.0, 0.0]))
    with pytest.raises(ShapeError):
        lax.select(lnp.asarray([True, False]), lnp.ones(2), lnp.zeros(3))


@pytest.mark.parametrize("batch_size", [None, 1, 3, 7, 10])
def test_map_matches_vmap(batch_size):
    xs = {"a": RNG.standard_normal((7, 2)), "b": RNG.standard_normal(7)}
    f = lambda d: lnp.sin(d["a"]) * d["b"]  # noqa: E731
    close(lax.map(f, xs, batch_size=batch_size), lepton.vmap(f)(xs))
    test_util.check_grads(lambda a: lax.map(lambda r: lnp.sin(r) * 2.0, a, batch_size=batch_size),
                          (xs["a"],), order=1)


def test_lax_reexports():
    close(lax.iota(np.int32, 4), np.arange(4))
    close(lax.add(lnp.ones(2), lnp.ones(2)), np.full(2, 2.0))
    close(lax.dynamic_slice(lnp.arange(5.0), (1,), (2,)), np.array([1.0, 2.0]))


# ----------------------------------------------------------------------------- errors
def test_scan_carry_type_change_errors():
    with pytest.raises(DTypeError, match=r"(?s)f32\[\].*initial value.*i32\[\].*body output"):
        lax.scan(lambda c, x: (c.astype(np.int32), x), lnp.asarray(1.0), lnp.ones(3))
    with pytest.raises(ShapeError, match=r"f32\[2\]"):
        lax.scan(lambda c, x: (lnp.stack([c, c]), x), lnp.asarray(1.0), lnp.ones(3))
    with pytest.raises(DTypeError, match="structure"):
        lax.scan(lambda c, x: ((c, c), x), lnp.asarray(1.0), lnp.ones(3))
    with pytest.raises(TypeError, match="pair"):
        lax.scan(lambda c, x: c, 0.0, lnp.ones(3))


def test_scan_xs_length_errors():
    with pytest.raises(ShapeError, match=r"same leading length.*\[0\]: f32\[3\].*\[1\]: f32\[4\]"):
        lax.scan(lambda c, x: (c, x), 0.0, (lnp.ones(3), lnp.ones(4)))
    with pytest.raises(ShapeError, match="length=5"):
        lax.scan(lambda c, x: (c, x), 0.0, lnp.ones(3), length=5)
    with pytest.raises(ValueError, match="length="):
        lax.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(ShapeError, match="scalar"):
        lax.scan(lambda c, x: (c, x), 0.0, lnp.asarray(1.0))


def test_predicate_errors():
    with pytest.raises(DTypeError, match="boolean"):
        lax.cond(lnp.asarray(1.5), lambda: 1.0, lambda: 2.0)
    with pytest.raises(ShapeError, match="scalar"):
        lax.cond(lnp.asarray([True, False]), lambda: 1.0, lambda: 2.0)
    with pytest.raises(DTypeError, match="boolean scalar"):
        lax.while_loop(lambda c: c, lambda c: c + 1.0, 0.0)
    with pytest.raises(ShapeError, match="boolean scalar"):
        lax.while_loop(lambda c: c < 1, lambda c: c + 1.0, lnp.zeros(2))
    with pytest.raises(DTypeError, match="integer"):
        lax.switch(1.0, [lambda: 1.0, lambda: 2.0])
    assert float(lax.cond(2, lambda: 1.0, lambda: 2.0)) == 1.0  # integer predicates: != 0


def test_mismatched_branch_outputs_show_both_signatures():
    with pytest.raises(ShapeError, match=r"(?s)false_fun returns \{<value>: f32\[2\]\}.*"
                                         r"true_fun returns \{<value>: f32\[3\]\}"):
        lax.cond(True, lambda: lnp.ones(3), lambda: lnp.ones(2))
    with pytest.raises(DTypeError, match=r"(?s)branch 0 returns.*i32.*branch 1 returns.*f32"):
        lax.switch(0, [lambda: lnp.zeros((), np.int32), lambda: lnp.zeros(())])
    with pytest.raises(DTypeError, match=r"\[0\]: f32\[\]"):
        lax.cond(True, lambda: (lnp.ones(()), lnp.ones(())), lambda: lnp.ones(()))


def test_while_carry_type_change_error():
    with pytest.raises(DTypeError, match=r"(?s)while_loop.*f32\[\].*initial value.*f64\[\]"):
        lax.while_loop(lambda c: c < 3, lambda c: c.astype(np.float64) + 1, lnp.zeros(()))
    with pytest.raises(ValueError, match="max_steps"):
        lax.while_loop(lambda c: c < 3, lambda c: c + 1, 0, max_steps=-1)
