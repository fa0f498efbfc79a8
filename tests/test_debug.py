"""lepton.debug.print / debug.callback and lepton.pure_callback, eagerly and under jit (cpu and
reference backends), vmap, grad, loops and nested jit."""
from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.errors import ShapeError

BACKENDS = ["cpu", "reference"]


def lines(capsys):
    return capsys.readouterr().out.splitlines()


# ----------------------------------------------------------------------------- debug.print
def f_print(x):
    y = x * 2.0
    lepton.debug.print("y={} s={s}", y, s=lnp.sum(y))
    return y + 1.0


def test_print_eager(capsys):
    out = f_print(lnp.arange(3.0))
    assert lines(capsys) == ["y=[0. 2. 4.] s=6.0"]
    np.testing.assert_array_equal(out, [1.0, 3.0, 5.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_print_jit_runs_every_call(capsys, backend):
    f = lepton.jit(f_print, backend=backend)
    x = lnp.arange(3.0)
    for _ in range(3):
        np.testing.assert_array_equal(f(x), [1.0, 3.0, 5.0])
    assert lines(capsys) == ["y=[0. 2. 4.] s=6.0"] * 3
    f(x + 1.0)
    assert lines(capsys) == ["y=[2. 4. 6.] s=12.0"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_print_without_outputs_survives_dead_code_elimination(capsys, backend):
    def f(x):
        lepton.debug.print("only {}", lnp.sin(x))  # its value feeds nothing
        lepton.debug.print("constant")
        return x

    np.testing.assert_array_equal(lepton.jit(f, backend=backend)(lnp.zeros(2)), [0.0, 0.0])
    assert lines(capsys) == ["only [0. 0.]", "constant"]
    assert "debug_callback" in str(lepton.make_jaxpr(f)(lnp.zeros(2)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_prints_keep_program_order_between_kernels(capsys, backend):
    def f(x):
        a = x + 1.0
        lepton.debug.print("a {}", a)
        b = a * 3.0
        lepton.debug.print("b {}", b)
        c = lnp.sum(b * b)
        lepton.debug.print("c {}", c)
        return c

    x = lnp.array([0.0, 1.0])
    want = f(x)
    expected = lines(capsys)
    assert [s.split()[0] for s in expected] == ["a", "b", "c"]
    got = lepton.jit(f, backend=backend)(x)
    assert lines(capsys) == expected
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_print_formats_scalars_pytrees_and_static_values(capsys):
    @lepton.jit
    def f(x, n):
        lepton.debug.print("{x:.3f} {t[0]} {label} {n}", x=x, t=(x + 1.0,), label="lbl", n=n)
        return x

    f(lnp.float32(0.5), 7)
    assert lines(capsys) == ["0.500 1.5 lbl 7"]


def test_print_int_and_bool_values(capsys):
    lepton.jit(lambda i: lepton.debug.print("{} {}", i, i > 2))(lnp.int32(3))
    assert lines(capsys) == ["3 True"]


def test_print_bad_format_raises_when_traced():
    with pytest.raises(ValueError, match="format string"):
        lepton.jit(lambda x: lepton.debug.print("{} {}", x))(1.0)
    with pytest.raises(ValueError, match="format string"):
        lepton.debug.print("{missing}", 1.0)


def test_nested_jit(capsys):
    inner = lepton.jit(lambda x: (lepton.debug.print("inner {}", x), x * 2.0)[1])

    @lepton.jit
    def outer(x):
        lepton.debug.print("outer {}", x)
        inner(x + 1.0)  # result unused: the inner program still prints
        return inner(x)

    np.testing.assert_array_equal(outer(lnp.float32(1.0)), 2.0)
    assert lines(capsys) == ["outer 1.0", "inner 2.0", "inner 1.0"]


# ----------------------------------------------------------------------------- vmap
def test_print_vmap_prints_each_element_in_order(capsys):
    def f(x, c):
        lepton.debug.print("x={} c={}", x, c)
        return x * c

    xs = lnp.arange(6.0).reshape(3, 2)
    out = lepton.vmap(f, in_axes=(0, None))(xs, lnp.float32(2.0))
    np.testing.assert_array_equal(out, np.arange(6.0).reshape(3, 2) * 2)
    assert lines(capsys) == ["x=[0. 1.] c=2.0", "x=[2. 3.] c=2.0", "x=[4. 5.] c=2.0"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_print_nested_vmap_under_jit(capsys, backend):
    def f(x):
        lepton.debug.print("{}", x)
        return x

    xs = lnp.arange(6).reshape(2, 3)
    lepton.jit(lepton.vmap(lepton.vmap(f)), backend=backend)(xs)
    assert lines(capsys) == [str(i) for i in range(6)]
    lepton.vmap(lepton.vmap(f), in_axes=1)(xs)  # batch axis not first
    assert lines(capsys) == ["0", "3", "1", "4", "2", "5"]


def test_print_vmap_of_empty_batch_prints_nothing(capsys):
    lepton.vmap(lambda x: lepton.debug.print("{}", x))(lnp.zeros((0, 2)))
    assert lines(capsys) == []


# ----------------------------------------------------------------------------- grad
def loss(x):
    y = x * x  # exact in float32, so every backend prints the same digits
    lepton.debug.print("y={}", y)
    return lnp.sum(y * y)


def test_print_under_grad_prints_primals_once_and_keeps_derivatives(capsys):
    x = lnp.array([0.5, 1.0])
    g = lepton.grad(loss)(x)
    assert lines(capsys) == ["y=[0.25 1.  ]"]
    np.testing.assert_allclose(g, [0.5, 4.0], rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_print_under_jit_of_grad_and_grad_of_jit(capsys, backend):
    x = lnp.array([0.5, 1.0])
    want = lepton.grad(loss)(x)
    expected = lines(capsys)
    for fn in (lepton.jit(lepton.grad(loss), backend=backend),
               lepton.grad(lepton.jit(loss, backend=backend))):
        np.testing.assert_allclose(fn(x), want, rtol=1e-6)
        assert lines(capsys) == expected


def test_print_under_jvp_and_hessian(capsys):
    x = lnp.array([0.5, 1.0])
    _, t = lepton.jvp(loss, (x,), (lnp.ones(2),))
    assert len(lines(capsys)) == 1
    h = lepton.hessian(loss)(x)
    assert len(lines(capsys)) >= 1  # printed in the forward pass; derivatives unaffected
    xs = np.array([0.5, 1.0])
    np.testing.assert_allclose(h, np.diag(12 * xs ** 2), rtol=1e-5)
    np.testing.assert_allclose(t, np.sum(4 * xs ** 3), rtol=1e-6)


def test_debug_callback_under_grad_sees_primal_values():
    seen = []

    def f(x):
        lepton.debug.callback(lambda v: seen.append(np.asarray(v)), x * 3.0)
        return lnp.sum(x * x)

    g = lepton.grad(f)(lnp.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 4.0])
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3.0, 6.0])


# ----------------------------------------------------------------------------- loops
@pytest.mark.parametrize("backend", BACKENDS)
def test_print_in_scan_body_each_iteration(capsys, backend):
    def step(c, x):
        lepton.debug.print("c={} x={}", c, x)
        return c + x, c

    f = lepton.jit(lambda xs: lax.scan(step, lnp.float32(0.0), xs), backend=backend)
    c, ys = f(lnp.arange(3.0))
    assert c == 3.0
    assert lines(capsys) == ["c=0.0 x=0.0", "c=0.0 x=1.0", "c=1.0 x=2.0"]
    lax.scan(step, lnp.float32(0.0), lnp.arange(3.0))  # eager
    assert lines(capsys) == ["c=0.0 x=0.0", "c=0.0 x=1.0", "c=1.0 x=2.0"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_print_in_while_and_fori_bodies(capsys, backend):
    def body(i, acc):
        lepton.debug.print("i={}", i)
        return acc + i

    f = lepton.jit(lambda n: lax.fori_loop(0, n, body, 0), backend=backend)
    assert f(3) == 3
    assert lines(capsys) == ["i=0", "i=1", "i=2"]

    def cond(c):
        lepton.debug.print("cond {}", c)
        return c < 2

    lepton.jit(lambda c: lax.while_loop(cond, lambda c: c + 1, c), backend=backend)(0)
    assert lines(capsys) == ["cond 0", "cond 1", "cond 2"]


def test_print_in_scan_under_grad(capsys):
    def f(xs):
        def step(c, x):
            lepton.debug.print("x={}", x)
            return c * x, None
        return lax.scan(step, lnp.float32(1.0), xs)[0]

    g = lepton.grad(f)(lnp.array([2.0, 3.0]))
    np.testing.assert_allclose(g, [3.0, 2.0])
    assert lines(capsys) == ["x=2.0", "x=3.0"]


def test_print_in_cond_branch(capsys):
    f = lepton.jit(lambda p, x: lax.cond(p, lambda x: (lepton.debug.print("yes {}", x), x)[1],
                                         lambda x: x, x))
    f(True, 1.0)
    f(False, 2.0)
    assert lines(capsys) == ["yes 1.0"]


# ----------------------------------------------------------------------------- debug.callback
def test_debug_callback_receives_lepton_arrays_and_pytrees():
    got = []

    def cb(d, scale, *, tag):
        got.append((type(d["a"]).__name__, np.asarray(d["a"]).tolist(), scale, tag))

    @lepton.jit
    def f(x):
        lepton.debug.callback(cb, {"a": x + 1}, 2, tag="t")
        return x

    f(lnp.arange(2))
    assert got == [("Array", [1, 2], 2, "t")]


def test_debug_callback_values_outlive_the_call():
    kept = []
    f = lepton.jit(lambda x: (lepton.debug.callback(kept.append, x * 2.0), x)[1])
    f(lnp.ones(3))
    f(lnp.zeros(3))
    np.testing.assert_array_equal(kept[0], [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(kept[1], [0.0, 0.0, 0.0])


# ----------------------------------------------------------------------------- pure_callback
def host_sin(x):
    return np.sin(np.asarray(x))


def call_sin(x, **kw):
    return lepton.pure_callback(host_sin, lepton.ShapeDtypeStruct(x.shape, x.dtype), x, **kw)


@pytest.mark.parametrize("backend", [None] + BACKENDS)
def test_pure_callback_values(backend):
    x = lnp.linspace(0.0, 1.0, 5)
    f = call_sin if backend is None else lepton.jit(call_sin, backend=backend)
    out = f(x)
    assert out.shape == (5,) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.sin(np.linspace(0.0, 1.0, 5, dtype=np.float32)), rtol=1e-6)


def test_pure_callback_pytree_results_and_kwargs():
    def host(x, *, k):
        x = np.asarray(x)
        return {"sum": np.sum(x) * k, "shape": np.array(x.shape, np.int32)}

    spec = {"sum": lepton.ShapeDtypeStruct((), np.float32),
            "shape": lepton.ShapeDtypeStruct((2,), np.int32)}
    out = lepton.jit(lambda x: lepton.pure_callback(host, spec, x, k=2.0))(lnp.ones((2, 3)))
    assert float(out["sum"]) == 12.0
    assert out["shape"].tolist() == [2, 3] and out["shape"].dtype == np.int32


def test_pure_callback_unused_result_is_dropped():
    calls = []

    def host(x):
        calls.append(1)
        return np.asarray(x)

    @lepton.jit
    def f(x):
        lepton.pure_callback(host, lepton.ShapeDtypeStruct((), np.float32), x)
        return x

    f(1.0)
    assert calls == []  # pure: JAX may skip it too


def test_pure_callback_wrong_shape_and_dtype_errors():
    bad_shape = lambda x: np.zeros(4, np.float32)  # noqa: E731
    with pytest.raises(ShapeError, match=r"shape \(4,\).*f32\[3\]"):
        lepton.pure_callback(bad_shape, lepton.ShapeDtypeStruct((3,), np.float32), lnp.ones(3))
    bad_kind = lambda x: np.zeros(3, np.complex64)  # noqa: E731
    with pytest.raises(lepton.errors.DTypeError, match="complex64"):
        lepton.jit(lambda x: lepton.pure_callback(
            bad_kind, lepton.ShapeDtypeStruct((3,), np.float32), x),
            backend="reference")(lnp.ones(3))
    with pytest.raises(TypeError, match=r"\.shape and \.dtype"):
        lepton.pure_callback(host_sin, (3,), lnp.ones(3))
    # a float64 result where float32 is declared converts (see the docstring)
    out = lepton.pure_callback(lambda x: np.ones(3), lepton.ShapeDtypeStruct((3,), np.float32),
                               lnp.ones(3))
    assert out.dtype == np.float32


@pytest.mark.parametrize("method", ["sequential", "sequential_unrolled", "expand_dims",
                                    "broadcast_all"])
def test_pure_callback_vmap_methods(method):
    seen = []

    def host(x, c):
        x, c = np.asarray(x), np.asarray(c)
        seen.append((x.shape, c.shape))
        return x * c

    def f(x, c):
        return lepton.pure_callback(host, lepton.ShapeDtypeStruct(x.shape, x.dtype), x, c,
                                    vmap_method=method)

    xs = lnp.arange(6.0).reshape(3, 2)
    c = lnp.array([1.0, 10.0])
    out = lepton.jit(lepton.vmap(f, in_axes=(0, None)))(xs, c)
    np.testing.assert_array_equal(out, np.arange(6.0).reshape(3, 2) * [1.0, 10.0])
    want = {"sequential": [((2,), (2,))] * 3, "sequential_unrolled": [((2,), (2,))] * 3,
            "expand_dims": [((3, 2), (1, 2))], "broadcast_all": [((3, 2), (3, 2))]}[method]
    assert seen == want
    # batch axis not first, output axis moved by out_axes
    seen.clear()
    out = lepton.vmap(f, in_axes=(1, None), out_axes=1)(xs.T, c)
    np.testing.assert_array_equal(out, (np.arange(6.0).reshape(3, 2) * [1.0, 10.0]).T)


def test_pure_callback_sequential_empty_batch_and_nested_vmap():
    f = lambda x: call_sin(x, vmap_method="sequential")  # noqa: E731
    out = lepton.vmap(f)(lnp.zeros((0, 3)))
    assert out.shape == (0, 3) and out.dtype == np.float32
    xs = lnp.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_allclose(lepton.vmap(lepton.vmap(f))(xs), np.sin(np.asarray(xs)), rtol=1e-6)


def test_pure_callback_vmap_without_method_raises():
    with pytest.raises(NotImplementedError, match="vmap_method"):
        lepton.vmap(call_sin)(lnp.ones((2, 3)))
    with pytest.raises(ValueError, match="vmap_method must be one of"):
        call_sin(lnp.ones(2), vmap_method="loop")


def test_pure_callback_grad_raises_clearly():
    with pytest.raises(ValueError, match="custom_jvp"):
        lepton.grad(lambda x: lnp.sum(call_sin(x)))(lnp.ones(3))
    with pytest.raises(ValueError, match="custom_jvp"):
        lepton.jit(lepton.grad(lambda x: lnp.sum(call_sin(x))))(lnp.ones(3))


def test_pure_callback_differentiable_through_custom_jvp():
    @lepton.custom_jvp
    def sin(x):
        return call_sin(x)

    @sin.defjvp
    def sin_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return sin(x), lepton.pure_callback(
            lambda v: np.cos(np.asarray(v)), lepton.ShapeDtypeStruct(x.shape, x.dtype), x) * t

    x = lnp.array([0.1, 0.7])
    g = lepton.jit(lepton.grad(lambda x: lnp.sum(sin(x))))(x)
    np.testing.assert_allclose(g, np.cos(np.float32([0.1, 0.7])), rtol=1e-6)


def test_pure_callback_non_array_arguments_and_no_inputs():
    out = lepton.jit(lambda: lepton.pure_callback(
        lambda n, s: np.full(3, n * len(s), np.int32),
        lepton.ShapeDtypeStruct((3,), np.int32), 2, "abc"))()
    assert out.tolist() == [6, 6, 6]


def test_pure_callback_integer_input_under_grad_is_fine():
    def f(x, i):
        k = lepton.pure_callback(lambda i: np.asarray(i) * 2,
                                 lepton.ShapeDtypeStruct((), np.int32), i)
        return x * k

    assert float(lepton.grad(f)(1.0, lnp.int32(3))) == 6.0


def test_print_of_loop_invariants_in_scan_under_grad_runs_every_step(capsys):
    """Reverse mode hoists a scan body's loop-invariant work out of the loop; not its prints."""
    def f(w, xs):
        def step(c, x):
            lepton.debug.print("step")
            lepton.debug.print("w={}", w)
            return c * x * w, None
        return lax.scan(step, lnp.float32(1.0), xs)[0]

    xs = lnp.array([2.0, 3.0, 4.0])
    for fn in (lepton.grad(f), lepton.jit(lepton.grad(f))):
        np.testing.assert_allclose(fn(lnp.float32(1.0), xs), 72.0, rtol=1e-6)
        assert lines(capsys) == ["step", "w=1.0"] * 3


def test_compiled_source_lists_the_callback_step():
    src = lepton.jit(f_print, backend="cpu").source(lnp.arange(3.0))
    assert "debug_callback(" in src and "= debug_callback" not in src


# ----------------------------------------------------------------------------- tiered mode
def test_tiered_calls_each_callback_once_and_passes_its_error_through(monkeypatch, capsys):
    monkeypatch.setenv("LEPTON_TIERED", "1")
    calls = []

    def check(x):
        calls.append(float(x))
        if float(x) < 0:
            raise FloatingPointError(f"negative: {float(x)}")

    @lepton.jit
    def f(x):
        lepton.debug.print("x={}", x)
        lepton.debug.callback(check, x)
        return x * 2.0

    f(lnp.float32(1.0))  # the reference or the compiled program: one of them
    lepton.wait_for_compilation()
    f(lnp.float32(2.0))  # compiled
    assert lines(capsys) == ["x=1.0", "x=2.0"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the user's error, not a CompileFallbackWarning
        with pytest.raises(FloatingPointError, match="negative"):
            f(lnp.float32(-1.0))
    assert calls == [1.0, 2.0, -1.0]  # not re-run on the reference after the error
    assert lines(capsys) == ["x=-1.0"]



@pytest.mark.parametrize("backend", BACKENDS)
def test_effects_keep_program_order_when_later_work_could_fuse_earlier(capsys, backend):
    """``b`` could join ``a``'s kernel, which the first print reads; that kernel would then
    need the inner jit (and its print) to run before the first print."""
    inner = lepton.jit(lambda x: (lepton.debug.print("inner {}", x), x + 1.0)[1],
                       backend=backend)

    def f(x):
        a = x * 2.0
        lepton.debug.print("a {}", a)
        j = inner(x)
        return a + j

    x = lnp.arange(3.0)
    want = f(x)
    expected = lines(capsys)
    assert expected == ["a [0. 2. 4.]", "inner [0. 1. 2.]"]
    np.testing.assert_array_equal(lepton.jit(f, backend=backend)(x), want)
    assert lines(capsys) == expected


# ----------------------------------------------------------------------------- properties
SHAPES = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)
DTYPES = st.sampled_from([np.float32, np.int32, np.bool_, np.complex64])


@settings(max_examples=25, deadline=None)
@given(shape=SHAPES, dtype=DTYPES, batch=st.integers(0, 3))
def test_pure_callback_round_trips_any_shape_and_dtype(shape, dtype, batch):
    x = np.arange(int(np.prod(shape)) if shape else 1).reshape(shape).astype(dtype)
    spec = lepton.ShapeDtypeStruct(shape, dtype)

    def f(v):
        return lepton.pure_callback(lambda a: np.asarray(a).copy(), spec, v,
                                    vmap_method="sequential")

    for fn in (f, lepton.jit(f, backend="reference")):
        out = fn(x)
        assert out.shape == shape and out.dtype == dtype
        np.testing.assert_array_equal(out, x)
    xs = np.stack([x] * batch) if batch else np.zeros((0,) + shape, dtype)
    out = lepton.vmap(f)(xs)
    assert out.shape == (batch,) + shape and out.dtype == dtype
    np.testing.assert_array_equal(out, xs)


@settings(max_examples=25, deadline=None)
@given(shape=SHAPES, dtype=DTYPES)
def test_debug_print_matches_str_of_the_numpy_value(shape, dtype):
    x = (np.arange(int(np.prod(shape)) if shape else 1) % 3).reshape(shape).astype(dtype)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        lepton.jit(lambda v: lepton.debug.print("{}", v), backend="reference")(x)
    assert buf.getvalue() == f"{x}\n"


@pytest.mark.parametrize("backend", BACKENDS)
def test_callbacks_run_under_the_users_numpy_error_state(backend):
    def host(x):
        return np.log(np.asarray(x) - 1.0)  # log(0): NumPy warns

    spec = lepton.ShapeDtypeStruct((), np.float32)
    f = lepton.jit(lambda x: lepton.pure_callback(host, spec, x),
                   backend=backend)
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert float(f(1.0)) == -np.inf
    with np.errstate(divide="raise"):
        g = lepton.jit(lambda x: lepton.debug.callback(host, x), backend=backend)
        with pytest.raises(FloatingPointError):
            g(1.0)
