"""Programs a Keras / jax.example_libraries user writes, checked against what those libraries
do (issue #11, #12).  Each test pins a discrepancy found by running the same program in both;
the Keras/JAX comparisons skip cleanly when those are not installed."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

import lepton
import lepton.keras as lk


def _keras3():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    k = pytest.importorskip("keras")
    if not k.__version__.startswith("3."):
        pytest.skip(f"needs Keras 3, found {k.__version__}")
    return k


def _act(name, x):
    layer = lk.layers.activation_layer(name, "test")
    return np.asarray(layer[1]((), lepton.numpy.asarray(x)))


X = np.linspace(-4, 4, 33).astype(np.float32)
_erf = np.vectorize(math.erf)

# Keras's definitions (keras/src/activations/activations.py), written out in NumPy
KERAS_ACTIVATIONS = {
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),          # exact, not tanh
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),            # slope 0.2, not 0.01
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "celu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
}


@pytest.mark.parametrize("name", sorted(KERAS_ACTIVATIONS))
def test_activation_strings_follow_keras_definitions(name):
    np.testing.assert_allclose(_act(name, X), KERAS_ACTIVATIONS[name](X.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)


def test_activation_strings_match_keras3():
    k3 = _keras3()
    for name in sorted(lk.layers.ACTIVATIONS):
        if name == "linear":
            continue
        want = np.asarray(k3.activations.get(name)(X))
        np.testing.assert_allclose(_act(name, X), want, rtol=2e-5, atol=2e-6, err_msg=name)


def test_unknown_activation_lists_the_new_names():
    with pytest.raises(ValueError, match="unknown activation 'swishy'.*hard_sigmoid.*mish"):
        lk.layers.Dense(3, activation="swishy").to_stax()


# ----------------------------------------------------------------------------- layers
def _model(layers, shape):
    return lk.Sequential([lk.Input(shape=shape)] + layers)


@pytest.mark.parametrize("cls, shape, want", [
    (lk.layers.GlobalAveragePooling2D, (5, 4, 3), (None, 1, 1, 3)),
    (lk.layers.GlobalMaxPooling2D, (5, 4, 3), (None, 1, 1, 3)),
    (lk.layers.GlobalAveragePooling1D, (5, 3), (None, 1, 3)),
    (lk.layers.GlobalMaxPooling1D, (5, 3), (None, 1, 3)),
])
def test_global_pooling_keepdims(cls, shape, want):
    m = _model([cls(keepdims=True)], shape)
    assert m.output_shape == want
    x = np.random.RandomState(0).randn(2, *shape).astype(np.float32)
    y = m.predict(x, verbose=0)
    axes = tuple(range(1, len(shape)))
    ref = x.mean(axes, keepdims=True) if "Average" in cls.__name__ else x.max(axes,
                                                                              keepdims=True)
    np.testing.assert_allclose(y, ref, rtol=1e-6)
    assert _model([cls()], shape).output_shape == (None, shape[-1])


@pytest.mark.parametrize("strides, dilation", [(1, 1), (1, 2), (2, 1)])
def test_conv1d_causal_padding(strides, dilation):
    rs = np.random.RandomState(1)
    m = _model([lk.layers.Conv1D(2, 3, strides=strides, dilation_rate=dilation,
                                 padding="causal")], (9, 2))
    x = rs.randn(2, 9, 2).astype(np.float32)
    W, b = m.get_weights()
    pad = 2 * dilation
    xp = np.concatenate([np.zeros((2, pad, 2), np.float32), x], axis=1)
    ref = np.stack([sum(xp[:, t + k * dilation] @ W[k] for k in range(3)) + b
                    for t in range(0, 9, strides)], axis=1)
    y = m.predict(x, verbose=0)
    assert m.output_shape == (None, ref.shape[1], 2)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    # causal: the output at t does not see inputs after t
    x2 = x.copy()
    x2[:, 5:] += 1.0
    y2 = m.predict(x2, verbose=0)
    keep = [i for i, t in enumerate(range(0, 9, strides)) if t < 5]
    np.testing.assert_allclose(y2[:, keep], y[:, keep], rtol=1e-6)
    with pytest.raises(ValueError, match="padding must be 'valid', 'same', got 'causal'"):
        lk.layers.Conv2D(2, 3, padding="causal")


@pytest.mark.parametrize("cls", [lk.layers.MaxPooling2D, lk.layers.AveragePooling2D,
                                 lk.layers.GlobalAveragePooling2D])
def test_pooling_refuses_channels_first(cls):
    with pytest.raises(ValueError, match="only data_format='channels_last'"):
        cls(data_format="channels_first")
