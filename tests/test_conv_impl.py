"""The NumPy impl of conv_general_dilated (``_conv_impl``: im2col "taps", "positions" and
col2im "scatter", blocked) against a direct loop over output positions and against the
first im2col impl (``_conv_impl_generic``): every formulation, on random convs of rank
1-3 with strides, dilations, padding (negative too), groups, layouts, dtypes and empty
axes; and the gradients' convs (the transpose rules' shapes)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.ir import eval_jaxpr
from lepton.primitives import conv as C

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- reference
def loop_conv(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
              dimension_numbers, feature_group_count):
    """The definition: for each output position and feature group, the window of the
    dilated, padded input contracted with the kernel (in float64 / int64)."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    wide = np.float64 if lhs.dtype.kind == "f" else np.int64
    x = np.transpose(lhs, lhs_spec).astype(wide)  # N, C, S...
    w = np.transpose(rhs, rhs_spec).astype(wide)  # O, I, K...
    sp = x.shape[2:]
    dil = [(n - 1) * d + 1 if n else 0 for n, d in zip(sp, lhs_dilation)]
    big = np.zeros(x.shape[:2] + tuple(max(lo, 0) + max(hi, 0) + n
                                       for n, (lo, hi) in zip(dil, padding)), wide)
    big[(slice(None),) * 2 + tuple(slice(max(lo, 0), max(lo, 0) + n, d)
                                   for n, (lo, _), d in zip(dil, padding, lhs_dilation))] = x
    x = big[(slice(None),) * 2 + tuple(slice(-min(lo, 0), big.shape[2 + i] + min(hi, 0))
                                       for i, (lo, hi) in enumerate(padding))]
    g, ksz = feature_group_count, w.shape[2:]
    eff = [(k - 1) * d + 1 if k else 0 for k, d in zip(ksz, rhs_dilation)]
    out_sp = [max(0, (p - e) // s + 1) if p >= e else 0
              for p, e, s in zip(x.shape[2:], eff, window_strides)]
    out = np.zeros((x.shape[0], w.shape[0]) + tuple(out_sp), wide)
    cg, og = w.shape[1], w.shape[0] // g
    for q in itertools.product(*map(range, out_sp)):
        win = x[(slice(None),) * 2 + tuple(slice(i * s, i * s + e, d) for i, s, e, d in
                                           zip(q, window_strides, eff, rhs_dilation))]
        for j in range(g):
            out[(slice(None), slice(j * og, (j + 1) * og)) + q] = np.tensordot(
                win[:, j * cg:(j + 1) * cg], w[j * og:(j + 1) * og],
                axes=(list(range(1, win.ndim)), list(range(1, w.ndim))))
    return np.transpose(out, np.argsort(out_spec)).astype(lhs.dtype)


# ----------------------------------------------------------------------------- strategy
LAYOUTS = [("NCHW", "OIHW", "NCHW"), ("NHWC", "HWIO", "NHWC"), ("NCHW", "HWIO", "NHWC"),
           ("NHWC", "OIHW", "NCHW"), ("CHWN", "IOHW", "HWNC")]


@st.composite
def convs(draw, max_size=5):
    """``(lhs, rhs, params)`` of a valid conv, and a tolerance."""
    nsp = draw(st.integers(1, 3))
    g = draw(st.sampled_from([1, 1, 2, 3]))
    n, cg, og = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    sp = draw(st.lists(st.integers(0, max_size), min_size=nsp, max_size=nsp))
    ksz = draw(st.lists(st.integers(1, 3), min_size=nsp, max_size=nsp))
    if draw(st.integers(0, 9)) == 0:  # an empty kernel window: zeros
        ksz[0] = 0
    ints = st.lists(st.integers(1, 3), min_size=nsp, max_size=nsp)
    strides, lhs_dil, rhs_dil = draw(ints), draw(ints), draw(ints)
    if nsp == 2 and draw(st.booleans()):
        dn = C.conv_dimension_numbers(*draw(st.sampled_from(LAYOUTS)))
    else:
        perm = st.permutations(range(nsp + 2))
        dn = tuple(tuple(draw(perm)) for _ in range(3))
    in_sp = [(s - 1) * d + 1 if s else 0 for s, d in zip(sp, lhs_dil)]
    eff = [(k - 1) * d + 1 if k else 0 for k, d in zip(ksz, rhs_dil)]
    kind = draw(st.sampled_from(["SAME", "VALID", "explicit"]))
    if kind == "explicit":
        pads = tuple((draw(st.integers(-2, 3)), draw(st.integers(-2, 3))) for _ in sp)
        pads = tuple((lo, max(hi, -m - lo)) for (lo, hi), m in zip(pads, in_sp))
    else:
        pads = C.padtype_to_pads(in_sp, eff, strides, kind)
    dtype = np.dtype(draw(st.sampled_from([np.float32, np.float64, np.int32])))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    lshape, rshape = [0] * (nsp + 2), [0] * (nsp + 2)
    for i, size in enumerate([n, g * cg] + sp):
        lshape[dn[0][i]] = size
    for i, size in enumerate([g * og, cg] + ksz):
        rshape[dn[1][i]] = size
    lhs, rhs = (rng.integers(-4, 5, s).astype(dtype) if dtype.kind == "i"
                else rng.standard_normal(s).astype(dtype) for s in (lshape, rshape))
    if draw(st.booleans()):  # strided operands: a reversed view, Fortran order
        rhs = np.flip(rhs)
        lhs = np.asfortranarray(lhs)
    params = dict(window_strides=tuple(strides), padding=tuple(pads),
                  lhs_dilation=tuple(lhs_dil), rhs_dilation=tuple(rhs_dil),
                  dimension_numbers=dn, feature_group_count=g)
    tol = {"f": 1e-4 if dtype == np.float32 else 1e-11, "i": 0}[dtype.kind]
    return lhs, rhs, params, tol


def assert_close(got, want, tol):
    assert got.shape == want.shape and got.dtype == want.dtype
    if tol:
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------- tests
@SETTINGS
@given(convs())
def test_impl_matches_loops_and_the_generic_impl(case):
    lhs, rhs, params, tol = case
    got = C._conv_impl(lhs, rhs, **params)
    assert_close(got, loop_conv(lhs, rhs, **params), tol)
    if rhs.shape[params["dimension_numbers"][1][1]]:  # the generic impl fails without
        assert_close(got, C._conv_impl_generic(lhs, rhs, **params), tol)  # in-features


@SETTINGS
@given(convs(), st.sampled_from([64, 1 << 10, C._BLOCK_BYTES]))
def test_every_formulation_and_blocking_agrees(case, block):
    lhs, rhs, params, tol = case
    want = loop_conv(lhs, rhs, **params)
    conv = C._Im2col(lhs, rhs, **params)
    plans = list(conv.plans())
    assert {f for f, _ in plans} == {"taps", "positions", "scatter"}
    old = C._BLOCK_BYTES
    C._BLOCK_BYTES = block  # tiny blocks: many row / feature blocks and partial sums
    try:
        for plan in plans:
            assert_close(conv.run(*plan), want, tol)
    finally:
        C._BLOCK_BYTES = old


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("padding", ["SAME", "VALID", ((2, -1), (-1, 0))])
def test_public_conv_in_every_layout(layout, padding):
    rng = np.random.default_rng(1)
    dn = C.conv_dimension_numbers(*layout)
    lshape, rshape = [0] * 4, [0] * 4
    for i, size in enumerate([3, 4, 9, 7]):
        lshape[dn[0][i]] = size
    for i, size in enumerate([6, 2, 3, 2]):
        rshape[dn[1][i]] = size
    lhs = rng.standard_normal(lshape).astype(np.float32)
    rhs = rng.standard_normal(rshape).astype(np.float32)
    got = np.asarray(lax.conv_general_dilated(lhs, rhs, (2, 1), padding, (1, 2), (2, 1),
                                              layout, feature_group_count=2))
    pads = C.padtype_to_pads([9, 13], [5, 2], (2, 1), padding) \
        if isinstance(padding, str) else padding
    want = loop_conv(lhs, rhs, window_strides=(2, 1), padding=pads, lhs_dilation=(1, 2),
                     rhs_dilation=(2, 1), dimension_numbers=dn, feature_group_count=2)
    assert_close(got, want, 1e-4)


def _net_grad(dtype, layout, strides, groups):
    """The traced gradient of a conv net (its program and arguments): the forward conv
    and the transpose rules' two (input gradient: flipped kernel with swapped features
    and lhs dilation; kernel gradient: the batch and feature axes swapped)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 10, 9, 6) if layout[0] == "NHWC" else (4, 6, 10, 9))
    k = rng.standard_normal((3, 3, 6 // groups, 8) if layout[1] == "HWIO"
                            else (8, 6 // groups, 3, 3))
    x, k = x.astype(dtype), k.astype(dtype)

    def loss(x, k):
        y = lax.conv_general_dilated(x, k, strides, "SAME", None, (1, 2), layout,
                                     feature_group_count=groups)
        return lnp.sum(lnp.tanh(y) * y)

    return lepton.make_jaxpr(lepton.grad(loss, argnums=(0, 1)))(x, k), (x, k)


@pytest.mark.parametrize("layout", LAYOUTS[:3])
@pytest.mark.parametrize("strides,groups", [((1, 1), 1), ((2, 1), 1), ((2, 2), 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_convs_match_the_generic_impl(layout, strides, groups, dtype,
                                               monkeypatch):
    closed, args = _net_grad(dtype, layout, strides, groups)
    convs = [e for e in closed.jaxpr.eqns if e.prim.name == "conv_general_dilated"]
    assert len(convs) == 3
    rng = np.random.default_rng(4)
    tol = 2e-4 if dtype == np.float32 else 1e-11
    for eqn in convs:  # each conv on random operands of its shapes
        lhs, rhs = (rng.standard_normal(v.aval.shape).astype(dtype) for v in eqn.invars)
        got = C._conv_impl(lhs, rhs, **eqn.params)
        assert_close(got, C._conv_impl_generic(lhs, rhs, **eqn.params), tol)
        assert_close(got, loop_conv(lhs, rhs, **eqn.params), tol)
    got = eval_jaxpr(closed.jaxpr, closed.consts, *args)  # the whole gradient
    monkeypatch.setattr(C.conv_general_dilated_p, "impl", C._conv_impl_generic)
    want = eval_jaxpr(closed.jaxpr, closed.consts, *args)
    for a, b in zip(got, want):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _stax_convs():
    """stax_train's second conv (NHWC/HWIO, 64x14x14x32 -> 64 features) and the convs of
    its gradient, as the transpose rules bind them."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 14, 14, 32)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 64)).astype(np.float32)
    ct = rng.standard_normal((64, 14, 14, 64)).astype(np.float32)
    same = dict(window_strides=(1, 1), padding=((1, 1), (1, 1)), lhs_dilation=(1, 1),
                rhs_dilation=(1, 1), feature_group_count=1)
    return {"forward": (x, w, dict(same, dimension_numbers=(
                (0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2)))),
            "kernel_grad": (x, ct, dict(same, dimension_numbers=(
                (3, 0, 1, 2), (3, 0, 1, 2), (2, 3, 0, 1)))),
            "input_grad": (ct, np.flip(w, (0, 1)), dict(same, dimension_numbers=(
                (0, 3, 1, 2), (2, 3, 0, 1), (0, 3, 1, 2))))}


@pytest.mark.parametrize("name,form", [("forward", "taps"), ("kernel_grad", "positions"),
                                       ("input_grad", "scatter")])
def test_cost_model_picks_the_fast_formulation(name, form):
    """Measured on the 2-core machine (ms, one BLAS thread / two) for taps, positions,
    scatter: forward 4.6/3.3, 5.6/4.1, 6.4/4.1; kernel gradient 6.0/4.5, 4.3/2.8,
    99/61; input gradient 5.3/3.8, 8.2/5.7, 5.6/3.4."""
    lhs, rhs, params = _stax_convs()[name]
    conv = C._Im2col(lhs, rhs, **params)
    assert conv.plan()[0] == form
    want = C._conv_impl_generic(lhs, rhs, **params)
    np.testing.assert_allclose(C._conv_impl(lhs, rhs, **params), want, rtol=1e-4,
                               atol=1e-3)


def test_scatter_wins_for_many_input_features():
    """An input-gradient-like conv from 256 features to 8: col2im writes 8 x 9 products
    per input position where im2col would copy 256 x 9 patch elements."""
    lhs = np.ones((8, 12, 12, 256), np.float32)
    rhs = np.ones((3, 3, 256, 8), np.float32)
    params = dict(window_strides=(1, 1), padding=((1, 1), (1, 1)), lhs_dilation=(1, 1),
                  rhs_dilation=(1, 1), dimension_numbers=((0, 3, 1, 2), (3, 2, 0, 1),
                                                          (0, 3, 1, 2)),
                  feature_group_count=1)
    assert C._Im2col(lhs, rhs, **params).plan() == ("scatter", False)
    np.testing.assert_array_equal(C._conv_impl(lhs, rhs, **params),
                                  C._conv_impl_generic(lhs, rhs, **params))


def test_empty_and_degenerate_shapes():
    params = dict(window_strides=(1,), padding=((1, 1),), lhs_dilation=(1,),
                  rhs_dilation=(1,), dimension_numbers=((0, 1, 2),) * 3,
                  feature_group_count=1)
    for ls, rs in [((0, 2, 5), (3, 2, 2)), ((2, 0, 5), (3, 0, 2)), ((2, 2, 5), (0, 2, 2)),
                   ((2, 2, 0), (3, 2, 2)), ((2, 2, 5), (3, 2, 0))]:
        lhs, rhs = np.ones(ls, np.float32), np.ones(rs, np.float32)
        want = loop_conv(lhs, rhs, **params)
        conv = C._Im2col(lhs, rhs, **params)
        for plan in conv.plans():
            assert_close(conv.run(*plan), want, 0)
        assert_close(C._conv_impl(lhs, rhs, **params), want, 0)


@pytest.mark.parametrize("lhs_shape,rhs_shape,groups", [
    ((64, 28, 28, 1), (3, 3, 1, 32), 1),     # one input feature: GEMMs of rank 1
    ((32, 16, 16, 64), (3, 3, 16, 64), 4)])  # groups: adds along 16 features
def test_scatter_is_not_chosen_where_it_is_slow(lhs_shape, rhs_shape, groups):
    """Measured (1 thread): 41 ms vs taps 1.0 ms; 11 ms vs taps 3.6 ms."""
    rng = np.random.default_rng(5)
    lhs = rng.standard_normal(lhs_shape).astype(np.float32)
    rhs = rng.standard_normal(rhs_shape).astype(np.float32)
    params = dict(window_strides=(1, 1), padding=((1, 1), (1, 1)), lhs_dilation=(1, 1),
                  rhs_dilation=(1, 1), dimension_numbers=((0, 3, 1, 2), (3, 2, 0, 1),
                                                          (0, 3, 1, 2)),
                  feature_group_count=groups)
    conv = C._Im2col(lhs, rhs, **params)
    assert conv.plan()[0] != "scatter"
    assert conv.cost("scatter", False) == float("inf")
