"""Constants a traced function passes straight to primitives (NumPy arrays, Python
scalars made on the fly) are captured by identity while tracing; each must stay its own
constant even after the function drops it, when Python hands its id to the next one."""
import numpy as np
import pytest

import lepton
from lepton import lax


def _many_temporaries(x, s):
    outs = []
    for k in range(8):
        outs.append(lax.add(x, np.full(3, float(k), np.float32)))  # freed after the add
        outs.append(lax.mul(s, float(k) + 0.5))  # a fresh Python float, freed too
    return outs


def _expected(x, s):
    return [v for k in range(8) for v in (x + np.float32(k), s * np.float32(k + 0.5))]


@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_temporary_constants_are_not_confused_when_their_ids_are_reused(backend):
    x, s = np.linspace(-1, 1, 3).astype(np.float32), np.float32(1.25)
    closed = lepton.make_jaxpr(_many_temporaries)(x, s)
    assert len(closed.consts) == 16  # one per temporary
    outs = lepton.jit(_many_temporaries, backend=backend)(x, s)
    for got, want in zip(outs, _expected(x, s)):
        np.testing.assert_array_equal(np.asarray(got), want)


def test_a_constant_read_twice_is_captured_once():
    c = np.arange(3, dtype=np.float32)
    closed = lepton.make_jaxpr(lambda x: lax.add(lax.mul(x, c), c))(np.ones(3, np.float32))
    assert len(closed.consts) == 1
