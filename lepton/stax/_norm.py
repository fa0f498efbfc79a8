"""BatchNorm (stateful: running statistics), LayerNorm and Dropout."""
from __future__ import annotations

from .. import nn
from .. import numpy as lnp
from .. import random
from ..nn.initializers import ones, zeros
from ..transforms.custom import stop_gradient
from ._base import Layer, LayerShapeError, fmt_shape, shape_of


def _norm_axes(name, shape, axis):
    nd = len(shape)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if any(not -nd <= a < nd for a in axes):
        fix = (f"use {name}(axis=(0,)) for (batch, features) data" if nd == 2 and
               name == "BatchNorm" else f"choose axes < {nd} for rank-{nd} data")
        raise LayerShapeError(name, shape, f"rank > {max(a if a >= 0 else -a - 1 for a in axes)}"
                              f" for axis={axis}", fix,
                              f"axis={axis} does not fit a rank-{nd} input.")
    return tuple(sorted(a % nd for a in axes))


def BatchNorm(axis=(0, 1, 2), epsilon=1e-5, center=True, scale=True, beta_init=zeros,
              gamma_init=ones, *, momentum=0.99, track_running_stats=True):
    """Batch normalisation over ``axis`` (the batch and spatial axes: (0, 1, 2) for NHWC;
    use ``axis=(0,)`` after a Dense layer).

    With ``track_running_stats=True`` (the default) the layer is **stateful**: ``init``
    returns ``(output_shape, (beta, gamma), (running_mean, running_var))`` and ``apply``
    is ``apply(params, state, x, *, train=True, rng=None) -> (y, new_state)``.  In training
    the batch statistics normalise ``x`` and the running ones move towards them:
    ``running = momentum * running + (1 - momentum) * batch`` (Keras/Flax convention; the
    biased batch variance is used).  ``train=False`` normalises with the running statistics
    and returns the state unchanged.

    ``track_running_stats=False`` is exactly ``jax.example_libraries.stax.BatchNorm``:
    stateless, always normalising with the batch statistics.
    """
    def param_shape(input_shape):
        axes = _norm_axes("BatchNorm", input_shape, axis)
        return axes, tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def init_params(rng, input_shape):
        input_shape = tuple(input_shape)
        axes, shape = param_shape(input_shape)
        if any(d < 0 for d in shape):
            raise LayerShapeError("BatchNorm", input_shape, "known sizes on the non-"
                                  f"normalised axes (axis={axis})",
                                  "include the batch axis (and only unknown axes) in axis.")
        k1, k2 = random.split(rng)
        beta = beta_init(k1, shape) if center else ()
        gamma = gamma_init(k2, shape) if scale else ()
        return input_shape, (beta, gamma), shape

    def expand(v, axes, nd):
        return lnp.expand_dims(v, axes) if axes else v

    def check(params_shape, x):
        xs = shape_of(x)
        axes, shape = param_shape(xs)
        if shape != params_shape:
            raise LayerShapeError("BatchNorm", xs, f"non-normalised axes of sizes "
                                  f"{params_shape} (axis={axis})",
                                  "re-run init with the real input shape, or check the layer "
                                  "before this one.")
        return axes, len(xs)

    def affine(params, z, axes, nd):
        beta, gamma = params
        if scale:
            z = z * expand(gamma, axes, nd)
        if center:
            z = z + expand(beta, axes, nd)
        return z

    def pshape(params, state):
        beta, gamma = params
        for p in (beta, gamma) + tuple(state):
            if not isinstance(p, tuple):
                return shape_of(p)
        return None

    if not track_running_stats:
        def init_fun(rng, input_shape):
            out, params, _ = init_params(rng, input_shape)
            return out, params

        def apply_fun(params, x, **kwargs):
            shape = pshape(params, ())
            axes, nd = check(shape, x) if shape is not None else \
                (_norm_axes("BatchNorm", shape_of(x), axis), len(shape_of(x)))
            return affine(params, nn.standardize(x, axes, epsilon=epsilon), axes, nd)

        return Layer(init_fun, apply_fun, "BatchNorm", config=dict(axis=axis))

    def init_fun(rng, input_shape):
        out, params, shape = init_params(rng, input_shape)
        return out, params, (lnp.zeros(shape), lnp.ones(shape))

    def apply_fun(params, state, x, *, train=True, rng=None, **kwargs):
        mean_r, var_r = state
        axes, nd = check(shape_of(mean_r), x)
        if train:
            mean = lnp.mean(x, axis=axes, keepdims=True)
            centered = x - mean
            var = lnp.mean(centered * centered, axis=axes, keepdims=True)
            z = centered * lnp.reciprocal(lnp.sqrt(var + epsilon))
            m = momentum
            new_state = (m * mean_r + (1 - m) * stop_gradient(lnp.squeeze(mean, axes)),
                         m * var_r + (1 - m) * stop_gradient(lnp.squeeze(var, axes)))
        else:
            z = (x - expand(mean_r, axes, nd)) * expand(
                lnp.reciprocal(lnp.sqrt(var_r + epsilon)), axes, nd)
            new_state = state
        return affine(params, z, axes, nd), new_state

    return Layer(init_fun, apply_fun, "BatchNorm", stateful=True,
                 config=dict(axis=axis, momentum=momentum))


def LayerNorm(axis=-1, epsilon=1e-5, center=True, scale=True, beta_init=zeros,
              gamma_init=ones):
    """Normalise each example over ``axis`` (the features by default), then scale by
    ``gamma`` and shift by ``beta`` (shaped like the normalised axes)."""
    def axes_of(shape):
        return _norm_axes("LayerNorm", shape, axis)

    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        axes = axes_of(input_shape)
        shape = tuple(input_shape[a] for a in axes)
        if any(d < 0 for d in shape):
            raise LayerShapeError("LayerNorm", input_shape, f"known sizes on axis={axis}",
                                  "pass the real feature sizes in input_shape.")
        k1, k2 = random.split(rng)
        return input_shape, (beta_init(k1, shape) if center else (),
                             gamma_init(k2, shape) if scale else ())

    def apply_fun(params, x, **kwargs):
        beta, gamma = params
        xs = shape_of(x)
        axes = axes_of(xs)
        want = tuple(xs[a] for a in axes)
        for p in (beta, gamma):
            if not isinstance(p, tuple) and shape_of(p) != want:
                raise LayerShapeError("LayerNorm", xs, f"sizes {shape_of(p)} on axis={axis}",
                                      "re-run init with the real input shape.")
        z = nn.standardize(x, axes, epsilon=epsilon)
        bshape = tuple(d if i in axes else 1 for i, d in enumerate(xs))
        if scale:
            z = z * lnp.reshape(gamma, bshape)
        if center:
            z = z + lnp.reshape(beta, bshape)
        return z

    return Layer(init_fun, apply_fun, "LayerNorm", config=dict(axis=axis))


def Dropout(rate=None, mode="train", *, keep_prob=None):
    """Zero each element with probability ``rate`` in training and scale the kept ones by
    ``1 / (1 - rate)``, so the expected output equals the input.

    PORTING NOTE: ``rate`` is the probability of DROPPING (Keras, PyTorch).
    ``jax.example_libraries.stax.Dropout(rate)`` takes the probability of KEEPING: JAX's
    ``Dropout(0.9)`` is lepton's ``Dropout(0.1)`` or ``Dropout(keep_prob=0.9)``.

    ``mode='test'`` never drops.  In ``mode='train'`` the apply function needs ``rng=``
    (a PRNG key) and drops unless called with ``train=False`` (stateful models pass
    ``train`` through; stateless ones can pass it as a keyword too).
    """
    if (rate is None) == (keep_prob is None):
        raise TypeError("Dropout: give exactly one of rate (probability of dropping) or "
                        "keep_prob (probability of keeping)")
    rate = 1.0 - float(keep_prob) if keep_prob is not None else float(rate)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"Dropout: rate must be in [0, 1] (the probability of dropping), "
                         f"got {rate}")
    if mode not in ("train", "test"):
        raise ValueError(f"Dropout: mode must be 'train' or 'test', got {mode!r}")

    def init_fun(rng, input_shape):
        return input_shape, ()

    def apply_fun(params, inputs, **kwargs):
        if mode == "test" or not kwargs.get("train", True) or rate == 0.0:
            return inputs
        rng = kwargs.get("rng")
        if rng is None:
            raise ValueError(
                "Dropout in training mode needs a PRNG key: call apply_fun(params, inputs, "
                "rng=key) with key = lepton.random.PRNGKey(seed) (split a fresh key each "
                "step: key, sub = lepton.random.split(key)); for evaluation call it with "
                "train=False, or build the layer with Dropout(rate, mode='test').")
        x = lnp.asarray(inputs)
        if rate == 1.0:
            return lnp.zeros_like(x)
        keep = random.bernoulli(rng, 1.0 - rate, x.shape)
        return lnp.where(keep, x * (1.0 / (1.0 - rate)), lnp.zeros((), x.dtype))

    return Layer(init_fun, apply_fun, "Dropout", config=dict(rate=rate, mode=mode))
