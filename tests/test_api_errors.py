"""Clear errors (or JAX's behaviour) for misused transform arguments, scalar types, empty
reductions (issue 10, defect 10)."""
import warnings

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.errors import LeptonError, ShapeError

THIS_FILE = __file__.rstrip("c")


def _points_here(err):
    assert f"{THIS_FILE}:" in str(err.value), str(err.value)


# ----------------------------------------------------------------------------- vmap
@pytest.mark.parametrize("out_axes", [5, 2, -3])
def test_vmap_out_axes_out_of_range(out_axes):
    f = lepton.vmap(lambda x: x * 2, out_axes=out_axes)
    with pytest.raises(ShapeError, match=rf"out_axes={out_axes} .*rank 1 per example") as e:
        f(np.ones((3, 4)))
    assert "[-2, 1]" in str(e.value)
    _points_here(e)


def test_vmap_out_axes_in_range_and_per_output():
    x = np.arange(12.0).reshape(3, 4)
    out = lepton.vmap(lambda v: (v, v.sum()), out_axes=(1, 0))(x)
    np.testing.assert_array_equal(out[0], x.T)
    np.testing.assert_array_equal(lepton.vmap(lambda v: v, out_axes=-1)(x), x.T)
    with pytest.raises(ShapeError, match=r"output\['s'\].*rank 0 per example"):
        lepton.vmap(lambda v: {"v": v, "s": v.sum()}, out_axes={"v": 0, "s": 1})(x)


@pytest.mark.parametrize("in_axes", ["a", 1.0, True, {"x": 0}, (0, "b"), [[0.5]],
                                     (np.array(0),)])
def test_vmap_in_axes_bad_forms(in_axes):
    with pytest.raises(TypeError, match=r"vmap in_axes must be an int, None, or a tuple") as e:
        lepton.vmap(lambda x, y=None: x, in_axes=in_axes)
    assert "in_axes=(0, None)" in str(e.value)  # lists the valid forms


@pytest.mark.parametrize("out_axes", ["a", (0, 1.5), True])
def test_vmap_out_axes_bad_forms(out_axes):
    with pytest.raises(TypeError, match="vmap out_axes must be an int, None"):
        lepton.vmap(lambda x: x, out_axes=out_axes)


def test_vmap_valid_axis_specs_still_work():
    x = np.arange(6.0).reshape(2, 3)
    f = lepton.vmap(lambda p, y: p["w"] * y, in_axes=({"w": 0}, None))
    np.testing.assert_array_equal(f({"w": x}, 2.0), x * 2)
    np.testing.assert_array_equal(lepton.vmap(lambda a: a, in_axes=[1])(x), x.T)
    np.testing.assert_array_equal(lepton.vmap(lambda a: a, in_axes=None, axis_size=2)(x),
                                  np.stack([x, x]))


# ----------------------------------------------------------------------------- grad
@pytest.mark.parametrize("argnums", [(0, 0), (1, 0, 1), (0, -2)])
def test_grad_duplicate_argnums_raise(argnums):
    f = lambda x, y: x * y  # noqa: E731
    with pytest.raises(ValueError, match="more than once"):
        lepton.grad(f, argnums=argnums)(2.0, 3.0)
    with pytest.raises(ValueError, match="more than once"):
        lepton.value_and_grad(f, argnums=argnums)(2.0, 3.0)
    with pytest.raises(ValueError, match="more than once"):
        lepton.jacrev(f, argnums=argnums)(2.0, 3.0)


@pytest.mark.parametrize("argnums", ["x", 1.0, (0, None)])
def test_grad_argnums_must_be_ints(argnums):
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        lepton.grad(lambda x, y: x * y, argnums=argnums)(2.0, 3.0)


def test_grad_distinct_argnums_in_any_order():
    g = lepton.grad(lambda x, y: x * y ** 2, argnums=(1, 0))(2.0, 3.0)
    assert (float(g[0]), float(g[1])) == (12.0, 9.0)
    g = lepton.grad(lambda x, y: x * y ** 2, argnums=[-1])(2.0, 3.0)
    assert isinstance(g, tuple) and float(g[0]) == 12.0


# ----------------------------------------------------------------------------- jit
def test_jit_static_argnums_out_of_range_names_the_range():
    with pytest.raises(ValueError, match=r"static_argnums=\(3,\) is out of range.*1 positional "
                                         r"argument\(s\) \(x\)"):
        lepton.jit(lambda x: x * 2, static_argnums=3)
    with pytest.raises(ValueError, match="out of range"):
        lepton.jit(lambda x, y: x, static_argnums=-3)


def test_jit_static_argnums_beyond_the_call_are_ignored_as_in_jax():
    def f(x, n=2, *rest):
        return x * n

    jf = lepton.jit(f, static_argnums=(1, 4))
    np.testing.assert_array_equal(jf(np.ones(2)), [2.0, 2.0])  # n left to its default
    np.testing.assert_array_equal(jf(np.ones(2), 3), [3.0, 3.0])
    g = lepton.jit(lambda *a: a[0] * a[-1], static_argnums=-1)
    np.testing.assert_array_equal(g(np.ones(2), 5), [5.0, 5.0])


def test_jit_misspelled_static_argnames_warn_with_parameter_names():
    def f(x, scale=1.0, *, mode="mul"):
        return x * scale if mode == "mul" else x + scale

    with pytest.warns(UserWarning, match=r"\['mdoe'\].*\(x, scale, mode\)") as rec:
        jf = lepton.jit(f, static_argnames="mdoe")
    assert rec[0].filename == THIS_FILE  # points at the user's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lepton.jit(lambda x, **kw: x, static_argnames="anything")  # **kwargs: no warning
    np.testing.assert_array_equal(jf(np.ones(2), 2.0), [2.0, 2.0])


def test_jit_static_argnames_positional_only_raise():
    def f(x, n, /):
        return x * n

    with pytest.raises(ValueError, match=r"\['n'\] are positional-only.*static_argnums"):
        lepton.jit(f, static_argnames="n")
    np.testing.assert_array_equal(lepton.jit(f, static_argnums=1)(np.ones(2), 3), [3.0, 3.0])


def test_jit_static_argnames_and_argnums_complete_each_other():
    calls = []

    def f(x, n, mode="mul"):
        calls.append(1)
        return x * n if mode == "mul" else x + n

    jf = lepton.jit(f, static_argnames=("n", "mode"))
    np.testing.assert_array_equal(jf(np.ones(2), 3, "add"), [4.0, 4.0])  # static by position
    np.testing.assert_array_equal(jf(np.ones(2), n=3, mode="mul"), [3.0, 3.0])
    jg = lepton.jit(f, static_argnums=1)
    np.testing.assert_array_equal(jg(np.ones(2), n=4), [4.0, 4.0])  # static by keyword


def test_jit_unhashable_static_argument_still_explained():
    with pytest.raises(TypeError, match="hashable"):
        lepton.jit(lambda x, n: x, static_argnums=1)(np.ones(2), np.ones(2))


# ----------------------------------------------------------------------------- scalar types
SCALAR_TYPES = ["bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "float32", "float64", "complex64", "complex128"]


@pytest.mark.parametrize("name", SCALAR_TYPES)
def test_scalar_types_are_callable_and_dtypes(name):
    t = getattr(lnp, name)
    dt = np.dtype(getattr(np, name))
    x = t(1)
    assert isinstance(x, lnp.ndarray) and x.shape == () and x.dtype == dt
    assert not x.weak_type
    assert x.dtype == t and t == dt.type and np.dtype(t) == dt and hash(t) == hash(dt.type)
    assert lnp.zeros(2, dtype=t).dtype == dt and lnp.ones(2).astype(t).dtype == dt
    assert lnp.dtype(t) == dt and lnp.result_type(t) == dt
    assert isinstance(dt.type(1), t)
    assert repr(t) == f"<class 'lepton.numpy.{name}'>"


def test_scalar_types_convert_arrays_and_trace():
    x = lnp.float32(np.array([1.5, 2.5]))
    assert x.dtype == np.float32 and x.shape == (2,)
    assert float(lnp.float64(0.1)) == 0.1
    assert lnp.float32 != lnp.float64 and lnp.float32 != np.dtype("float64")
    assert lnp.issubdtype(lnp.float32, lnp.floating) and lnp.finfo(lnp.float16).bits == 16
    out = lepton.jit(lambda v: lnp.float16(v) * 2)(np.float32(3))
    assert out.dtype == np.float16 and float(out) == 6.0
    g = lepton.grad(lambda v: lnp.float64(v) ** 2)(np.float64(3.0))
    assert g.dtype == np.float64 and float(g) == 6.0


# ----------------------------------------------------------------------------- empty reductions
@pytest.mark.parametrize("fn,shape,axis", [
    (lnp.max, (0,), None), (lnp.min, (2, 0), 1), (lnp.amax, (0, 3), 0),
    (lnp.nanmax, (0, 2), None), (lnp.ptp, (0,), None)])
def test_empty_max_min_say_empty_and_suggest_initial(fn, shape, axis):
    with pytest.raises(ShapeError, match=r"is empty along the reduced axis.*initial=") as e:
        fn(np.zeros(shape, np.float32), axis=axis)
    _points_here(e)
    assert isinstance(e.value, ValueError) and isinstance(e.value, LeptonError)
    np.testing.assert_array_equal(lnp.max(np.zeros((2, 0)), axis=0), np.zeros(0))
    assert float(lnp.max(np.zeros(0), initial=-np.inf)) == -np.inf


@pytest.mark.parametrize("fn", [lnp.argmax, lnp.argmin, lnp.nanargmax])
def test_empty_argmax_argmin_say_empty(fn):
    with pytest.raises(ShapeError, match=r"empty sequence.*f32\[0\] is empty") as e:
        fn(np.zeros(0, np.float32))
    _points_here(e)
    with pytest.raises(ShapeError, match=r"f32\[3,0\] is empty along axis 1"):
        fn(np.zeros((3, 0), np.float32), axis=1)
    with pytest.raises(ShapeError, match="empty"):
        lepton.jit(fn)(np.zeros((0, 2), np.float32))
    assert fn(np.zeros((0, 2), np.float32), axis=1).shape == (0,)  # non-empty reduced axis


def test_empty_max_integer_suggests_iinfo():
    with pytest.raises(ShapeError, match=r"initial=lnp.iinfo\(x.dtype\).min"):
        lnp.max(np.zeros(0, np.int32))
