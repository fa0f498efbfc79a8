"""Tiered execution (the default outside the test suite): reference now, compiled later."""
import numpy as np

import lepton
import lepton.numpy as lnp
from lepton.backends import tiered
from lepton.transforms import jit as jit_module


def test_first_calls_use_the_reference_then_switch_to_compiled(monkeypatch, tmp_path):
    monkeypatch.setenv("LEPTON_TIERED", "1")
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tiered, "QUICK_SECONDS", 0.0)  # never wait for the compile here
    scale = float(np.random.default_rng().uniform(1, 2))  # a fresh kernel source: a real compile
    f = lepton.jit(lambda x: lnp.sum(lnp.exp(x) * scale), backend="cpu")
    ref = lepton.jit(lambda x: lnp.sum(lnp.exp(x) * scale), backend="reference")
    x = np.linspace(-1, 1, 101).astype(np.float32)

    first = f(x)
    tiers = [e for _, e in jit_module._executables.values() if isinstance(e, tiered.Tiered)]
    assert tiers, "the cpu backend was not tiered"
    tier = tiers[-1]
    # A cold Numba compile takes >= 0.1 s and nothing waited for it: the reference answered.
    assert tier.reference_calls == 1
    np.testing.assert_array_equal(np.asarray(first), np.asarray(ref(x)))
    lepton.wait_for_compilation()
    np.testing.assert_allclose(np.asarray(f(x)), np.asarray(ref(x)), rtol=1e-6)
    assert tier.reference_calls == 1  # the second call ran compiled code
    assert "kernel" in tier.source


def test_synchronous_when_disabled(monkeypatch):
    monkeypatch.setenv("LEPTON_TIERED", "0")
    f = lepton.jit(lambda x: x * 2.5 + 1.0, backend="cpu")
    x = np.ones(3, np.float32)
    exe = jit_module._executable(jit_module._flat_jaxpr(f.make_jaxpr(x)), "cpu")
    assert not isinstance(exe, tiered.Tiered) and hasattr(exe, "source")
