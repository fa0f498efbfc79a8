"""Eager reverse mode on a tape (transforms/tape.py): the same answers as linearizing.

Each check runs a gradient with the tape (the default outside transforms) and with
``tape.ENABLED = False`` (``linearize`` + transpose, the path every transform uses) and
compares; closed forms and finite differences pin the values themselves.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import test_util
from lepton.core import Primitive
from lepton.errors import ConcretizationError, LeakedTracerError
from lepton.primitives.base import defjvp
from lepton.transforms import tape

RNG = np.random.default_rng(7)


def _r(*shape):
    return RNG.standard_normal(shape)


def _both(fn):
    """``fn()`` with the tape and without it."""
    assert tape.ENABLED
    on = fn()
    tape.ENABLED = False
    try:
        off = fn()
    finally:
        tape.ENABLED = True
    return on, off


def _assert_same(on, off, rtol=1e-12, atol=1e-12):
    a, b = lepton.tree.leaves(on), lepton.tree.leaves(off)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- many ops
FUNCTIONS = {
    "elementwise": lambda x: lnp.sum(lnp.tanh(lnp.sin(x) * x) + lnp.exp(-x * x) / (1.0 + x ** 2)),
    "scalars_both_sides": lambda x: lnp.sum(2.0 - x * 3 + 1 / (x * x + 1.5) - (x - 0.5) ** 3),
    "broadcast": lambda x: lnp.sum((x[:, None] * x[None, :] + x) ** 2),
    "reductions": lambda x: (lnp.max(x.reshape(2, 3), axis=1).sum()
                             + lnp.mean(x.reshape(3, 2), axis=0, keepdims=True).sum()
                             + lnp.prod(x[:3]) + lnp.min(x)),
    "indexing": lambda x: lnp.sum(x[1:4] * x[::-1][:3]) + x[lnp.array([0, 0, 5])].sum(),
    "where_max_ties": lambda x: lnp.sum(lnp.where(x > 0, x, 0.1 * x) + lnp.maximum(x, x)),
    "structure": lambda x: lnp.sum(lnp.concatenate([x, x[::2]]) ** 2)
    + lnp.stack([x, 2 * x]).T.reshape(-1)[3],
    "matmul": lambda x: lnp.sum(lnp.tanh(x.reshape(2, 3) @ x.reshape(3, 2))),
    "linalg": lambda x: lnp.linalg.slogdet(
        x.reshape(2, 3) @ x.reshape(2, 3).T + 3 * lnp.eye(2))[1]
    + lnp.sum(lnp.linalg.eigh(lnp.outer(x, x) + lnp.eye(6))[0] ** 2),
    "cumsum_sort": lambda x: lnp.sum(lnp.cumsum(x) * lnp.sort(x)),
    "softmax_logsumexp": lambda x: lepton.nn.softmax(x)[2]
    + lepton.scipy.special.logsumexp(x * 2),
    "scalar_ops_2d_and_0d": lambda x: lnp.sum(1.0 / (1.0 + lnp.exp(-x.reshape(2, 3))) * 2 - 1)
    + lnp.maximum(x[0], 0.0) * 3.0 + (x[1] + 1.0) / 2.0,
    "integer_pow_abs": lambda x: lnp.sum(lnp.abs(x) ** 3 + x ** 2 + lnp.sqrt(x * x + 1)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_grad_matches_linearize_and_finite_differences(name):
    f = FUNCTIONS[name]
    x = lnp.asarray(_r(6))
    on, off = _both(lambda: lepton.grad(f)(x))
    _assert_same(on, off, rtol=1e-10, atol=1e-10)
    test_util.check_grads(f, (x,), order=1, modes=("rev",))


def test_repeated_calls_reuse_rules_with_fresh_values():
    f = FUNCTIONS["elementwise"]
    g = lepton.grad(f)
    for _ in range(3):
        x = lnp.asarray(_r(6))
        on, off = _both(lambda: g(x))
        _assert_same(on, off)


def test_rules_depend_on_parameters_shapes_and_dtypes():
    x = lnp.asarray(_r(2, 3))
    for axis in (0, 1, None):
        on, off = _both(lambda: lepton.grad(lambda x: lnp.sum(lnp.sum(x, axis=axis) ** 2))(x))
        _assert_same(on, off)
    for shape in ((3, 2), (6,), (1, 6)):
        on, off = _both(lambda: lepton.grad(lambda x: lnp.sum(x.reshape(shape)[0] ** 2))(x))
        _assert_same(on, off)
    for dt in (np.float32, np.float16):
        xd = lnp.asarray(_r(4).astype(dt))
        on, off = _both(lambda: lepton.grad(lambda x: lnp.sum(lnp.sin(x) * 1.5 + x))(xd))
        assert on.dtype == dt
        _assert_same(on, off, rtol=1e-3, atol=1e-3)


# ----------------------------------------------------------------------------- control flow
def test_python_control_flow_on_values_each_call():
    def f(x):
        s = lnp.sum(x)
        if s > 0:
            return s * s
        y = x
        while lnp.max(lnp.abs(y)) > 0.1:  # a value-dependent number of steps
            y = y * 0.5
        return lnp.sum(y ** 3)

    g = lepton.grad(f)
    xp = lnp.asarray([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g(xp), 2 * 6.0 * np.ones(3))
    xn = lnp.asarray([-1.0, -2.0, -4.0])
    steps = 6  # 4 * 0.5**k <= 0.1 first at k = 6
    want = 3 * (np.asarray(xn) * 0.5 ** steps) ** 2 * 0.5 ** steps
    np.testing.assert_allclose(g(xn), want, rtol=1e-6)
    np.testing.assert_allclose(g(xp), 2 * 6.0 * np.ones(3))


def test_concretizing_a_differentiated_value_still_raises():
    with pytest.raises(ConcretizationError):
        lepton.grad(lambda x: float(x) * x)(1.0)


def test_leaked_tape_value_is_reported():
    box = []

    def f(x):
        box.append(x * 2)
        return x * x

    lepton.grad(f)(1.0)
    with pytest.raises(LeakedTracerError):
        lnp.sin(box[0]) + 1


# ----------------------------------------------------------------------------- dtypes, pytrees
def test_weak_scalars_ints_and_dtypes():
    assert lepton.grad(lambda x: x * x)(3.0) == 6.0
    g = lepton.grad(lambda x: lnp.sum(x * 2 + 1))(lnp.ones(3, dtype=np.float32))
    assert g.dtype == np.float32 and not g.weak_type
    np.testing.assert_array_equal(g, 2.0)
    with lepton.enable_x64():
        g = lepton.grad(lambda x: lnp.sum(x / 3.0))(lnp.ones(2))
        assert g.dtype == np.float64
        np.testing.assert_array_equal(g, 1 / 3.0)  # 1/3 from the Python float, no f32 detour
    out, pull = lepton.vjp(lambda x, n: x * n, lnp.ones(2), lnp.asarray([2, 3]))
    gx, gn = pull(lnp.ones(2))
    np.testing.assert_array_equal(gx, [2.0, 3.0])
    assert gn.dtype == lepton.dtypes.float0


def test_pytrees_aux_and_value_and_grad():
    params = {"w": lnp.asarray(_r(3)), "b": (lnp.asarray(0.5), [lnp.asarray(_r(2))])}

    def loss(p, k):
        v = lnp.sum(p["w"] ** 2) * p["b"][0] + lnp.sum(lnp.sin(p["b"][1][0])) * k
        return v, {"v": v, "w": p["w"]}

    on, off = _both(lambda: lepton.value_and_grad(loss, has_aux=True)(params, 2.0))
    _assert_same(on, off)
    (v, aux), g = on
    assert type(aux["w"]) is lepton.core.Array and type(v) is lepton.core.Array
    np.testing.assert_allclose(g["b"][0], np.sum(np.asarray(params["w"]) ** 2))


def test_vjp_outputs_unused_duplicated_and_identity():
    def f(x, y):
        return x, x * y, lnp.sin(y), x

    x, y = lnp.asarray(_r(3)), lnp.asarray(_r(3))
    ct = tuple(lnp.asarray(np.full(3, v)) for v in (1.0, 2.0, 0.0, 3.0))  # float64, as x, y
    on, off = _both(lambda: lepton.vjp(f, x, y)[1](ct))
    _assert_same(on, off)
    np.testing.assert_allclose(on[0], 1 + 2 * np.asarray(y) + 3)
    # a multiple-output primitive with one output unused
    a = lnp.asarray(_r(3, 3))
    on, off = _both(lambda: lepton.grad(lambda a: lnp.sum(lnp.linalg.qr(a)[1]))(a))
    _assert_same(on, off, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- composition
def test_pullback_reused_and_under_transforms():
    f = FUNCTIONS["broadcast"]
    x = lnp.asarray(_r(4))
    out, pull = lepton.vjp(lambda x: lnp.sin(x) * x[::-1], x)
    cts = lnp.asarray(_r(5, 4))
    batched = lepton.vmap(pull)(cts)[0]
    for i in range(5):
        np.testing.assert_allclose(batched[i], pull(cts[i])[0], rtol=1e-12)
    np.testing.assert_allclose(lepton.jit(pull)(cts[0])[0], pull(cts[0])[0], rtol=1e-12)
    np.testing.assert_allclose(lepton.jacrev(lambda x: lnp.sin(x) * x[::-1])(x),
                               lepton.jacfwd(lambda x: lnp.sin(x) * x[::-1])(x), rtol=1e-12)
    on, off = _both(lambda: lepton.grad(lepton.grad(lambda s: lnp.sum(f(x * s) * s)))(
        lnp.asarray(1.3)))
    _assert_same(on, off, rtol=1e-10, atol=1e-10)
    h = lepton.hessian(FUNCTIONS["elementwise"])(x)
    hr = lepton.jacrev(lepton.grad(FUNCTIONS["elementwise"]))(x)
    np.testing.assert_allclose(h, hr, rtol=1e-10, atol=1e-10)


def test_nested_grad_at_top_level_closed_form():
    d2 = lepton.grad(lepton.grad(lambda x: x ** 3 * lnp.sin(x)))
    x = 0.7
    want = 6 * x * np.sin(x) + 6 * x ** 2 * np.cos(x) - x ** 3 * np.sin(x)
    np.testing.assert_allclose(d2(lnp.asarray(x, dtype=np.float64)), want, rtol=1e-12)


def test_custom_rules_jit_and_control_flow_inside():
    @lepton.custom_vjp
    def clip_grad(x):
        return x

    clip_grad.defvjp(lambda x: (x, None), lambda _, g: (lnp.clip(g, -1.0, 1.0),))

    @lepton.custom_jvp
    def softplus(x):
        return lnp.log1p(lnp.exp(x))

    softplus.defjvp(lambda p, t: (softplus(p[0]), t[0] * lepton.nn.sigmoid(p[0])))

    @lepton.jit
    def jitted(x):
        return lnp.cos(x) * x

    def body(c, x):
        c = c * lnp.tanh(x) + x
        return c, c * 2

    def f(x):
        y = clip_grad(x * 10.0)
        c, ys = lepton.lax.scan(body, x[0], x)
        z = lepton.lax.cond(x[0] > 0, lambda v: v * 2, lambda v: v ** 2, x)
        return lnp.sum(y) + lnp.sum(softplus(x)) + lnp.sum(jitted(x)) + c + lnp.sum(ys) + \
            lnp.sum(z)

    x = lnp.asarray([0.3, -0.2, 0.5])
    on, off = _both(lambda: lepton.grad(f)(x))
    _assert_same(on, off, rtol=1e-10, atol=1e-10)
    # the custom_vjp's bwd clipped 10 to 1 (its forward is the identity)
    g_clip = lepton.grad(lambda x: lnp.sum(clip_grad(x * 10.0)))(x)
    np.testing.assert_array_equal(g_clip, [10.0, 10.0, 10.0])


def test_no_numpy_warnings_at_singular_points():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = lepton.grad(lambda x: lnp.sum(lnp.log(x) + lnp.sqrt(x)))(lnp.asarray([0.0, 1.0]))
    assert np.isinf(np.asarray(g)[0])


# ----------------------------------------------------------------------------- fallbacks
def test_rule_that_reads_values_is_linearized_per_call():
    from lepton.core import PRIMITIVES
    p = Primitive("test_tape_value_dependent_rule")
    try:
        p.impl = lambda x: x * x
        p.abstract_eval = lambda a: a
        # A JVP rule that looks at the primal's value: it cannot be staged once for all
        # values, so the tape linearizes each application instead.
        defjvp(p, lambda t, x, ans: t * (2 * x if float(lnp.sum(x)) > 0 else 0 * x))
        f = lambda x: lnp.sum(p.bind(x))  # noqa: E731
        np.testing.assert_allclose(lepton.grad(f)(lnp.asarray([1.0, 2.0])), [2.0, 4.0])
        np.testing.assert_allclose(lepton.grad(f)(lnp.asarray([-1.0, -2.0])), [0.0, 0.0])
    finally:
        del PRIMITIVES["test_tape_value_dependent_rule"]


def test_plain_ops_take_the_staged_rules(monkeypatch):
    """No whole-function linearize, and no per-application one for ordinary primitives."""
    from lepton.transforms import autodiff

    def fail(*a, **k):
        raise AssertionError("linearized")

    monkeypatch.setattr(autodiff, "linearize_flat", fail)
    monkeypatch.setattr(tape.TapeTrace, "_linearize_call", fail)
    x = lnp.asarray(_r(6))
    for name in ("elementwise", "scalars_both_sides", "broadcast", "reductions", "matmul"):
        lepton.grad(FUNCTIONS[name])(x)
    lepton.value_and_grad(lambda p: lnp.sum(p["a"] * p["b"]))({"a": x, "b": x})


def test_large_products_restore_the_callers_blas_threads():
    from lepton.backends.cpu import blas_threads

    controls = blas_threads.blas_controls()
    if controls is None:
        pytest.skip("no OpenBLAS loaded")
    _, get_threads, _ = controls
    before = get_threads()
    a = lnp.asarray(_r(128, 512).astype(np.float32))
    b = lnp.asarray(_r(512, 600).astype(np.float32))  # 39M multiply-adds: >= BIG
    on, off = _both(lambda: lepton.grad(lambda a, b: lnp.sum(lnp.tanh(a @ b)), (0, 1))(a, b))
    _assert_same(on, off, rtol=1e-4, atol=1e-4)
    assert get_threads() == before


def test_pullback_in_several_threads():
    from concurrent.futures import ThreadPoolExecutor

    x = lnp.asarray(_r(6))
    _, pull = lepton.vjp(lambda x: lnp.tanh(lnp.sin(x) * x) * 2.0, x)
    cts = [lnp.asarray(_r(6)) for _ in range(16)]
    want = [pull(c)[0] for c in cts]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda c: pull(c)[0], cts * 4))
    for g, w in zip(got, want * 4):
        np.testing.assert_array_equal(g, w)
