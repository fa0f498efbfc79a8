"""The eager fast path and the primitives agree on floating-point warnings (there are none).

``lepton.numpy._eager`` calls NumPy directly; whether it silences NumPy's warnings comes
from the primitive's ``quiet`` flag, set where the primitive is defined.  These tests run
with warnings as errors, so a warning from either route fails them.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton.core import PRIMITIVES
from lepton.primitives import elementwise as ew

BIG32 = np.float32(3e38)

# (lepton function, arguments that overflow / divide by zero / are invalid in NumPy)
CASES = [
    ("add", lnp.add, (BIG32, BIG32)),
    ("subtract", lnp.subtract, (BIG32, -BIG32)),
    ("multiply", lnp.multiply, (BIG32, BIG32)),
    ("operator *", lambda x, y: x * y, (BIG32, BIG32)),
    ("operator + weak", lambda x: x + 3e38, (BIG32,)),
    ("divide by zero", lnp.divide, (np.float32(1), np.float32(0))),
    ("0 / 0", lnp.divide, (np.float32(0), np.float32(0))),
    ("exp", lnp.exp, (np.float32(1000),)),
    ("sinh", lnp.sinh, (np.float32(1000),)),
    ("cosh", lnp.cosh, (np.float64(1000),)),
    ("log(-1)", lnp.log, (np.float32(-1),)),
    ("sqrt(-1)", lnp.sqrt, (np.float64(-1),)),
    ("arcsin(2)", lnp.arcsin, (np.float32(2),)),
    ("maximum nan", lnp.maximum, (np.float32(np.nan), np.float32(1))),
]


@pytest.mark.parametrize("name, fn, args", CASES, ids=[c[0] for c in CASES])
def test_eager_and_traced_routes_agree_without_warnings(name, fn, args):
    xs = [lnp.asarray(a) for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eager = fn(*xs)
        traced = lepton.jit(fn, backend="reference")(*xs)
    want = np.asarray(traced)
    np.testing.assert_array_equal(np.asarray(eager), want)
    assert np.asarray(eager).dtype == want.dtype


def test_eager_silencing_restores_the_callers_error_state():
    x = lnp.asarray(BIG32)
    with np.errstate(over="raise"):
        assert np.isinf(np.asarray(x * x))  # lepton: inf, silently
        with pytest.raises(FloatingPointError):
            np.multiply(BIG32, BIG32)  # the caller's own state is back
        assert np.geterr()["over"] == "raise"
    assert np.geterr()["over"] == "warn"


def test_eager_silencing_restores_the_state_when_numpy_raises():
    before = np.geterr()
    with pytest.raises(ValueError):  # shapes that do not broadcast: the primitive's error
        lnp.add(lnp.ones(3), lnp.ones(4))
    assert np.geterr() == before


EXTREMES = {"f": [np.inf, -np.inf, np.nan, 0.0, -0.0, 3e38, -3e38, 1e-45],
            "c": [complex(np.inf, 0), complex(np.nan, 1), complex(1000, 1000), 0j]}


def _quiet_false_elementwise():
    return sorted((p for p in PRIMITIVES.values() if getattr(p, "quiet", None) is False),
                  key=lambda p: p.name)


# Known exception, reported: NumPy warns ("invalid value") on an ordered comparison of
# complex values holding NaN; lt/le/gt/ge stay unsilenced so that real comparisons keep
# the fast path (both routes warn alike there).
ORDERED = {"lt", "le", "gt", "ge"}


@pytest.mark.parametrize("prim", _quiet_false_elementwise(), ids=lambda p: p.name)
def test_primitives_marked_not_quiet_never_warn(prim):
    """``quiet=False`` promises NumPy cannot warn: check the impl on IEEE extremes."""
    nin = 1 if prim in (ew.neg_p, ew.sign_p, ew.floor_p, ew.ceil_p, ew.round_p, ew.is_finite_p,
                        ew.not_p, ew.real_p, ew.imag_p, ew.conj_p, ew.abs_p, ew.tanh_p,
                        ew.atan_p, ew.cbrt_p) else 2
    ran = False
    for dtype in (np.float32, np.float64, np.complex64, np.int32, np.bool_):
        dt = np.dtype(dtype)
        if dt.kind == "c" and prim.name in ORDERED:
            continue
        vals = EXTREMES.get(dt.kind)
        if vals is None:
            vals = [np.iinfo(dt).min, np.iinfo(dt).max, 0, -1] if dt.kind == "i" else [True, False]
        v = np.array(vals).astype(dt)
        args = (v,) * nin if nin == 1 else np.broadcast_arrays(v[:, None], v[None, :])
        try:
            prim.abstract_eval(*[lepton.ShapedArray(a.shape, a.dtype) for a in args])
        except (TypeError, lepton.errors.DTypeError):
            continue  # not defined for this dtype
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            prim.impl(*args)
        ran = True
    assert ran


def test_quiet_flags_come_from_the_definitions():
    """One source: the flag the eager path reads is the one the impl was built with."""
    assert ew.sinh_p.quiet and ew.cosh_p.quiet and ew.add_p.quiet and ew.div_p.quiet
    assert not ew.tanh_p.quiet and not ew.neg_p.quiet and not ew.eq_p.quiet
