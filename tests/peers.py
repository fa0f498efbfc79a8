"""The peer libraries some tests compare against, skipping cleanly where absent."""
import os
import sys

import pytest


def keras3():
    """Keras 3 on its JAX backend, or a skip (no Keras, or Keras 2)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    k = pytest.importorskip("keras")
    if not k.__version__.startswith("3."):
        pytest.skip(f"needs Keras 3, found {k.__version__}")
    return k


@pytest.fixture(autouse=True)
def jax_x64_restored():
    """Give JAX's x64 flag back after each test of a module that imports this fixture
    (tests comparing with JAX turn it on or off; later files expect their own setting)."""
    jax = sys.modules.get("jax")
    before = jax.config.jax_enable_x64 if jax is not None else False
    yield
    jax = sys.modules.get("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", bool(before))
