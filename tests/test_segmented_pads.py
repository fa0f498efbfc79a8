"""Pads read along the innermost loop axis run as segments (``render.segment``), and a scan
writes a carry that it also stacks straight into the stack's next row
(``scan._threads``).  Both change only where values go, so every answer must equal the
reference backend exactly (pads and copies do no arithmetic), at every size and in every
dtype, and the segmented loop must really be in the kernel's source."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import lepton
import lepton.numpy as lnp
from lepton import lax
from lepton.control_flow import scan as scan_module

DTYPES = [np.float32, np.float64, np.int32, np.int8]


def _pad_sum(pieces, configs, fill=0):
    """sum_k pad(piece_k * 1, config_k) along the last axis (a concatenate's transpose
    and its generalisations: overlaps, gaps, crops and strides)."""
    def f(*xs):
        total = None
        for x, (lo, hi, stride) in zip(xs, configs):
            if stride > 1:
                x = x[..., ::stride]
            p = lax.pad(x + x, lnp.asarray(fill, x.dtype),
                        [(0, 0, 0)] * (x.ndim - 1) + [(lo, hi, 0)])
            total = p if total is None else total + p
        return total
    return f


def _check(f, xs, rtol=0):
    got = np.asarray(lepton.jit(f, backend="cpu")(*xs))
    want = np.asarray(lepton.jit(f, backend="reference")(*xs))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
    return lepton.jit(f, backend="cpu").source(*xs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows", [1, 3, 1 << 12])
def test_concatenate_transpose_is_segmented(dtype, rows):
    """Four gate gradients of width 128 padded into one 512 row (an LSTM's backward), at
    a size past the parallel threshold too (4096 x 512 = 2M elements)."""
    rng = np.random.default_rng(1)
    xs = [(rng.standard_normal((rows, 128)) * 50).astype(dtype) for _ in range(4)]
    configs = [(128 * k, 128 * (3 - k), 1) for k in range(4)]
    source = _check(_pad_sum(xs, configs), xs)
    assert "while jb < n[" in source


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_pads_and_strides(data):
    """Overlapping, gapped, cropped (negative padding) and strided pieces, in 2-D and
    3-D, with a nonzero fill: every segment boundary lands somewhere new."""
    ndim = data.draw(st.integers(2, 3))
    lead = data.draw(st.lists(st.integers(1, 4), min_size=ndim - 1, max_size=ndim - 1))
    width = data.draw(st.integers(1, 12))
    k = data.draw(st.integers(1, 4))
    dtype = data.draw(st.sampled_from([np.float32, np.float64, np.int16]))
    fill = data.draw(st.sampled_from([0, 3]))
    xs, configs = [], []
    for _ in range(k):
        stride = data.draw(st.integers(1, 3))
        n = data.draw(st.integers(1, 9))
        kept = -(-n // stride)
        lo = data.draw(st.integers(-kept + 1, width))
        hi = width - kept - lo  # every piece pads to the same width
        if kept + lo + hi < 0 or hi < -kept:
            continue
        xs.append(np.arange(np.prod(lead) * n).reshape(*lead, n).astype(dtype) - 7)
        configs.append((lo, hi, stride))
    if not xs:
        return
    _check(_pad_sum(xs, configs, fill), xs)


def test_reduction_over_a_segmented_axis():
    """Segments inside a reduction's loop (the pad-sum's row sums) and in a reduction
    over the leading axis (the scatter-reduce nest, whose init loops are not split)."""
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((6, 5)) for _ in range(3)]
    configs = [(0, 10, 1), (5, 5, 1), (8, 0, 2)]
    xs[2] = rng.standard_normal((6, 14))
    pad_sum = _pad_sum(xs, configs)
    for axis in (0, 1, None):
        _check(lambda *a, axis=axis: lnp.sum(pad_sum(*a), axis=axis), xs, rtol=1e-14)


# ------------------------------------------------------------------ carries threaded into stacks
def _cell(carry, x):
    h, c = carry
    c2 = lnp.tanh(c * 0.5 + x)
    h2 = h * c2 + 1.0
    return (h2, c2), (h, c, h2 * 2.0)  # ys: both carry inputs, and a computed value


@pytest.mark.parametrize("length", [0, 1, 2, 7, 300])  # 300 crosses a ROW_BLOCK
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_stacked_carries_equal_a_python_loop(length, reverse, backend, monkeypatch):
    rng = np.random.default_rng(3)
    h0, c0 = rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    h0_before = h0.copy()
    xs = rng.standard_normal((length, 2, 5))

    def run(h0, c0, xs):
        return lax.scan(_cell, (h0, c0), xs, reverse=reverse)

    got = lepton.jit(run, backend=backend)(h0, c0, xs)
    (h, c), (hs, cs, zs) = got
    carry, want = (h0, c0), []
    for t in (reversed(range(length)) if reverse else range(length)):
        carry, y = _cell(carry, xs[t])
        want.append((t, [np.asarray(v) for v in y]))
    close = dict(rtol=1e-10, atol=1e-12)  # the loop's libm tanh, 300 steps deep
    for t, (wh, wc, wz) in want:
        np.testing.assert_allclose(np.asarray(hs)[t], wh, **close)
        np.testing.assert_allclose(np.asarray(cs)[t], wc, **close)
        np.testing.assert_allclose(np.asarray(zs)[t], wz, **close)
    np.testing.assert_allclose(np.asarray(h), np.asarray(carry[0]), **close)
    np.testing.assert_allclose(np.asarray(c), np.asarray(carry[1]), **close)
    np.testing.assert_array_equal(h0, h0_before)  # the initial carry was copied, not used
    # and bit for bit what the same backend computes with every carry copied
    monkeypatch.setattr(scan_module, "_threads", lambda carry_in, youts: [None] * len(carry_in))
    copied = lepton.jit(run, backend=backend)(h0, c0, xs)
    for a, b in zip(lepton.tree_util.tree_leaves(got), lepton.tree_util.tree_leaves(copied)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_scalar_carry_and_a_carry_stacked_twice():
    """A 0-d carry (1-D stack rows are views, not scalars) and a carry returned as two
    ys; the second is the first's stack (``owner``), so only one is threaded."""
    def body(s, x):
        return s * 0.5 + x, (s, s)

    xs = np.linspace(-1, 1, 9)
    got = lepton.jit(lambda xs: lax.scan(body, 2.0, xs))(xs)
    s, want = 2.0, []
    for x in xs:
        want.append(s)
        s = s * 0.5 + x
    np.testing.assert_allclose(np.asarray(got[0]), s, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(got[1][0]), want, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(got[1][1]), want, rtol=1e-15)


def test_threads_pair_each_carry_with_its_first_stack():
    from lepton.ir import Var
    from lepton.core import ShapedArray
    a, b, c = (Var(ShapedArray((), np.float32)) for _ in range(3))
    assert scan_module._threads([a, b], [c, b, a, b]) == [2, 1]
    assert scan_module._threads([a], [c]) == [None]
