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
    if tier._compiled is None:  # still compiling: the answer came from the reference tier
        np.testing.assert_array_equal(np.asarray(first), np.asarray(ref(x)))
    lepton.wait_for_compilation()
    assert tier._compiled is not None and tier(np.asarray(x))[0].dtype == np.float32
    np.testing.assert_allclose(np.asarray(f(x)), np.asarray(ref(x)), rtol=1e-6)
    assert "kernel" in tier.source


def test_synchronous_when_disabled(monkeypatch):
    monkeypatch.setenv("LEPTON_TIERED", "0")
    assert not tiered.enabled()
