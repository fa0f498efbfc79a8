"""The peer libraries some tests compare against, skipping cleanly where absent."""
import os

import pytest


def keras3():
    """Keras 3 on its JAX backend, or a skip (no Keras, or Keras 2)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    k = pytest.importorskip("keras")
    if not k.__version__.startswith("3."):
        pytest.skip(f"needs Keras 3, found {k.__version__}")
    return k
