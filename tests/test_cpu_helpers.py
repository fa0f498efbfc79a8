"""The float32 helpers of the cpu backend (``lepton/backends/cpu/helpers.py``) one by one:
rounding accuracy over a dense sample of every float32 exponent, and their special values
bit for bit.  Kernels inline these helpers; tests/test_numba_cpu.py checks them through
jitted programs (within 1 ulp), this file pins the tighter bound the helpers document."""
from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from lepton.backends.cpu import helpers as K


def _vectorised(helper):
    @njit(error_model="numpy")
    def run(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = helper(x[i])
        return out
    return run


_HELPERS = {  # helper, float64 reference, arguments it serves
    "exp": (K.exp_f32, np.exp, np.inf),
    "tanh": (K.tanh_f32, np.tanh, np.inf),
    "logistic": (K.logistic_f32, lambda v: 1 / (1 + np.exp(-v)), np.inf),
    "sin": (K.sin_f32, np.sin, K.SINCOS_LIMIT),  # beyond: the kernel reruns with libm
    "cos": (K.cos_f32, np.cos, K.SINCOS_LIMIT),
}


def _sample():
    """Every 1009th float32 bit pattern (all exponents, both signs) and the hard spots:
    exp's overflow and underflow edges, the float32 closest to a multiple of pi/2 below
    2**20, and tanh's and exp's arguments near 0, where most float32 values are."""
    bits = np.arange(0, 1 << 32, 1009, dtype=np.uint64).astype(np.uint32)
    edges = np.array([88.72, 88.7228, 88.73, -87.33, -103.27, -103.97, -103.98, -104.5,
                      252.89821, 1.5707964, 3.1415927, 1e-8, -3e-5, 0.0625, 0.12476244,
                      9.01, 19.99, 20.0], np.float32)
    near = [np.nextafter(edges, np.float32(np.inf)), np.nextafter(edges, np.float32(-np.inf))]
    small = np.random.default_rng(3).uniform(-1, 1, 1 << 16).astype(np.float32)
    return np.concatenate([bits.view(np.float32), edges, *near, small, small * 1e-3])


def _ulps(got, exact):
    """Distance from the exact value in ulps of the float32 it rounds to (0 where got is
    that float32); ``inf`` where got is the wrong non-finite value."""
    with np.errstate(all="ignore"):
        want = exact.astype(np.float32)
        d = np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(want)).astype(np.float64)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    return np.where(same, 0.0, np.where(np.isfinite(d), d, np.inf))


@pytest.mark.parametrize("name", sorted(_HELPERS))
def test_helpers_round_within_half_an_ulp_and_a_little(name):
    """0.5 ulp is correct rounding; the helpers evaluate in float64 to ~1e-11, so that
    only results within that of a rounding midpoint can round the wrong way."""
    helper, exact_fn, limit = _HELPERS[name]
    x = _sample()
    x = x[np.abs(x) < limit]
    got = _vectorised(helper)(x)
    with np.errstate(all="ignore"):
        exact = exact_fn(x.astype(np.float64))
    err = _ulps(got, exact)
    worst = int(np.argmax(err))
    assert err[worst] <= 0.501, f"{name}({x[worst]!r}) = {got[worst]!r}, exact {exact[worst]!r}"
    assert np.count_nonzero(err > 0) <= x.size * 1e-5  # nearly all correctly rounded


_SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3.4028235e38,
                     -3.4028235e38], np.float32)
_EXPECTED = {  # bit for bit (NaN as float32 NaN of either sign)
    "exp": [1.0, 1.0, np.inf, 0.0, np.nan, 1.0, 1.0, np.inf, 0.0],
    "tanh": [0.0, -0.0, 1.0, -1.0, np.nan, 1e-45, -1e-45, 1.0, -1.0],
    "logistic": [0.5, 0.5, 1.0, 0.0, np.nan, 0.5, 0.5, 1.0, 0.0],
    "sin": [0.0, -0.0, np.nan, np.nan, np.nan, 1e-45, -1e-45],  # huge: libm (kernel guard)
    "cos": [1.0, 1.0, np.nan, np.nan, np.nan, 1.0, 1.0],
}


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_helpers_special_values(name):
    want = np.array(_EXPECTED[name], np.float32)
    got = _vectorised(_HELPERS[name][0])(_SPECIAL[:want.size])
    np.testing.assert_array_equal(np.signbit(got[~np.isnan(want)]),
                                  np.signbit(want[~np.isnan(want)]))
    np.testing.assert_array_equal(got, want)


def test_exp_underflows_to_subnormals_and_zero_and_overflows_to_inf():
    x = np.array([-87.0, -100.0, -103.2, -103.9, -104.0, 88.72, 88.73], np.float32)
    got = _vectorised(K.exp_f32)(x)
    with np.errstate(over="ignore"):  # 88.73: exp overflows float32
        want = np.exp(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(got, want)
    assert got[2] > 0 and got[2] < np.finfo(np.float32).tiny  # a subnormal result
    assert np.isinf(got[-1])
