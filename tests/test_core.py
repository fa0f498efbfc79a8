"""Arrays, avals, dtypes and promotion, weak types, errors of the core layer."""
from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import dtypes
from lepton.core import ShapedArray
from lepton.errors import DTypeError, ShapeError


def test_import_does_not_import_numba():
    code = "import sys, lepton, lepton.numpy; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_array_is_immutable_and_interoperates():
    x = lnp.array([1.0, 2.0, 3.0])
    assert x.dtype == np.float32 and x.shape == (3,) and x.ndim == 1 and x.size == 3
    assert repr(x) == "Array([1., 2., 3.], dtype=float32)"
    np.testing.assert_array_equal(np.asarray(x), [1, 2, 3])
    with pytest.raises(ValueError):
        np.asarray(x)[0] = 5
    src = np.ones(3)
    y = lnp.asarray(src)
    src[0] = 7  # lepton copied: later mutation of the source does not leak in
    assert np.asarray(y).sum() == 3.0
    assert pickle.loads(pickle.dumps(x)).tolist() == [1.0, 2.0, 3.0]


def test_defaults_and_64_bit_stays():
    assert lnp.array([1.0]).dtype == np.float32
    assert lnp.array([1]).dtype == np.int32
    assert lnp.zeros(2).dtype == np.float32
    assert lnp.arange(3).dtype == np.int32
    assert lnp.asarray(np.ones(2)).dtype == np.float64
    assert lnp.asarray(np.float64(1.0)).dtype == np.float64
    assert (lnp.asarray(np.ones(2)) * 2.0).dtype == np.float64


def test_weak_scalars_keep_array_dtype():
    x16 = lnp.ones(2, dtype=np.float16)
    assert (x16 * 2.0).dtype == np.float16
    assert (lnp.ones(2, dtype=np.uint8) + 1).dtype == np.uint8
    assert (lnp.ones(2, dtype=np.int32) * 1.5).dtype == np.float32
    w = lnp.asarray(2.0)
    assert w.weak_type and (w * np.float64(1)).dtype == np.float64


@pytest.mark.parametrize("a,b,want", [
    ("int8", "uint8", "int16"), ("int32", "float16", "float16"), ("uint32", "int32", "int64"),
    ("float32", "complex64", "complex64"), ("float64", "complex64", "complex128"),
    ("bool", "int8", "int8"), ("uint64", "int64", "float32"), ("int16", "float32", "float32"),
    ("float16", "float32", "float32"), ("bool", "bool", "bool"),
])
def test_promotion_table(a, b, want):
    assert lnp.promote_types(a, b) == np.dtype(want)
    assert (lnp.zeros(1, a) + lnp.zeros(1, b)).dtype == np.dtype(want)


def test_promotion_is_symmetric_and_associative():
    names = [d for d in dtypes.SUPPORTED]
    for a in names:
        for b in names:
            ab = dtypes.promote((a, False), (b, False))
            assert ab == dtypes.promote((b, False), (a, False))
            for c in names[::3]:
                left = dtypes.promote(dtypes.promote((a, False), (b, False)), (c, False))
                right = dtypes.promote((a, False), dtypes.promote((b, False), (c, False)))
                assert left[0] == right[0]


def test_shaped_array_is_hashable_and_prints():
    a = ShapedArray((2, 3), np.float32)
    assert a == ShapedArray((2, 3), "float32") and hash(a) == hash(ShapedArray((2, 3), np.float32))
    assert a.str_short() == "f32[2,3]"


def test_primitive_shape_errors_are_clear():
    from lepton.primitives import elementwise as ew
    with pytest.raises(ShapeError, match=r"add: operands must have equal shapes.*f32\[2\].*f32\[3\]"):
        ew.add(lnp.ones(2), lnp.ones(3))
    with pytest.raises(DTypeError, match="equal dtypes.*astype"):
        ew.add(lnp.ones(2), lnp.ones(2, dtype=np.float64))
    with pytest.raises(ShapeError, match="(?s)cannot be broadcast.*test_core.py"):
        lnp.add(lnp.ones(2), lnp.ones(3))


def test_unsupported_dtype_is_rejected():
    with pytest.raises(TypeError, match="not supported"):
        lnp.asarray(np.array(["a"]))
    with pytest.raises(TypeError, match="ragged"):
        lnp.array([[1, 2], [3]])


def test_array_of_traced_values_stacks():
    f = lambda x: lnp.array([x, 2 * x])  # noqa: E731
    np.testing.assert_allclose(lepton.jacfwd(f)(3.0), [1.0, 2.0])
