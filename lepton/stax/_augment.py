"""Preprocessing and augmentation layers: Rescaling, Normalization, RandomFlip,
RandomRotation, RandomTranslation, RandomZoom, RandomContrast.

Inputs are images in NHWC (or a single HWC image).  The random layers act only in
training: ``apply(params, x, rng=key)`` transforms each image with its own random draw,
``apply(params, x, train=False)`` (evaluation) returns ``x`` unchanged.  They are ordinary
lepton code, so they run inside a jitted train step.  Geometric transforms sample the input
at affinely mapped coordinates with bilinear (or nearest) interpolation; ``fill_mode``
('reflect', 'constant', 'nearest', 'wrap') says what lies outside the image, as in Keras.
"""
from __future__ import annotations

import math

import numpy as np

from .. import numpy as lnp
from .. import random
from ._base import Layer, LayerShapeError, shape_of

_FILL_MODES = ("reflect", "constant", "nearest", "wrap")


def _range(name, factor, what="factor"):
    """Keras's factor convention: a float f means (-f, f); a pair is (lower, upper)."""
    if isinstance(factor, (tuple, list)):
        lo, hi = float(factor[0]), float(factor[1])
    else:
        lo, hi = -abs(float(factor)), abs(float(factor))
    if lo > hi:
        raise ValueError(f"{name}: {what} lower bound {lo} exceeds upper bound {hi}")
    return lo, hi


def _image_layer(name, fun, *, random_=True, config=None):
    """A stateless layer over NHWC/HWC images; ``fun(x_nhwc, key)`` does the work."""

    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        _check(name, input_shape)
        return input_shape, ()

    def apply_fun(params, inputs, *, rng=None, train=True, **kwargs):
        x = lnp.asarray(inputs)
        _check(name, shape_of(x))
        if random_ and not train:
            return x
        if random_ and rng is None:
            raise ValueError(f"stax layer {name} draws random transforms in training and "
                             f"needs a PRNG key: call apply_fun(params, x, rng=key); for "
                             f"evaluation pass train=False.")
        single = x.ndim == 3
        if single:
            x = x[None]
        if not lnp.issubdtype(x.dtype, lnp.floating):
            x = x.astype("float32")
        y = fun(x, rng)
        return y[0] if single else y

    return Layer(init_fun, apply_fun, name, config=config)


def _check(name, shape):
    if len(shape) not in (3, 4):
        raise LayerShapeError(name, shape, "images (batch, height, width, channels) [NHWC]",
                              "add a channel axis to grayscale images (x[..., None]).",
                              f"{name} needs rank 3 or 4 input, this one has rank "
                              f"{len(shape)}.")


# ----------------------------------------------------------------------------- value layers
def Rescaling(scale, offset=0.0):
    """``x * scale + offset`` (always, in training and evaluation)."""
    scale, offset = float(scale), float(offset)

    def init_fun(rng, input_shape):
        return tuple(input_shape), ()

    def apply_fun(params, inputs, **kwargs):
        x = lnp.asarray(inputs)
        if not lnp.issubdtype(x.dtype, lnp.floating):
            x = x.astype("float32")
        return x * scale + offset

    return Layer(init_fun, apply_fun, "Rescaling", config=dict(scale=scale, offset=offset))


def Normalization(mean, variance, axis=-1, epsilon=1e-7, invert=False):
    """``(x - mean) / sqrt(variance)`` with per-feature statistics along ``axis`` (computed
    once from data, e.g. by ``lepton.keras.layers.Normalization.adapt``); ``invert=True``
    undoes it, ``x * sqrt(variance) + mean`` (to map predictions back, as Keras)."""
    mean = np.asarray(mean, np.float32)
    std = np.maximum(np.sqrt(np.asarray(variance, np.float32)), epsilon).astype(np.float32)

    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        if mean.size > 1 and input_shape[axis] not in (-1, mean.size):
            raise LayerShapeError("Normalization", input_shape,
                                  f"{mean.size} features along axis {axis}",
                                  "adapt the layer to data of this shape.")
        return input_shape, ()

    def apply_fun(params, inputs, **kwargs):
        x = lnp.asarray(inputs)
        shape = [1] * x.ndim
        if mean.size > 1:
            shape[axis] = mean.size
        if invert:
            return x * std.reshape(shape) + mean.reshape(shape)
        return (x - mean.reshape(shape)) / std.reshape(shape)

    return Layer(init_fun, apply_fun, "Normalization", config=dict(axis=axis,
                                                                     invert=invert))


# ----------------------------------------------------------------------------- random layers
def _per_image(key, n, lo, hi):
    return random.uniform(key, (n,), minval=lo, maxval=hi)


def RandomFlip(mode="horizontal_and_vertical"):
    """Flip each image left-right and/or up-down with probability 1/2."""
    if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
        raise ValueError("RandomFlip: mode must be 'horizontal', 'vertical' or "
                         f"'horizontal_and_vertical', got {mode!r}")

    def fun(x, key):
        kh, kv = random.split(key)
        n = x.shape[0]
        if mode in ("horizontal", "horizontal_and_vertical"):
            flip = random.bernoulli(kh, 0.5, (n, 1, 1, 1))
            x = lnp.where(flip, x[:, :, ::-1, :], x)
        if mode in ("vertical", "horizontal_and_vertical"):
            flip = random.bernoulli(kv, 0.5, (n, 1, 1, 1))
            x = lnp.where(flip, x[:, ::-1, :, :], x)
        return x

    return _image_layer("RandomFlip", fun, config=dict(mode=mode))


def _warp_options(name, fill_mode, interpolation):
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"{name}: fill_mode must be one of {_FILL_MODES}, got {fill_mode!r}")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"{name}: interpolation must be 'bilinear' or 'nearest', got "
                         f"{interpolation!r}")


def RandomRotation(factor, fill_mode="reflect", interpolation="bilinear", fill_value=0.0):
    """Rotate each image by an angle drawn from ``factor * 2 pi`` (a float f: [-f, f])."""
    lo, hi = _range("RandomRotation", factor)
    _warp_options("RandomRotation", fill_mode, interpolation)

    def fun(x, key):
        theta = _per_image(key, x.shape[0], lo * 2 * math.pi, hi * 2 * math.pi)
        c, s = lnp.cos(theta), lnp.sin(theta)
        matrix = lnp.stack([lnp.stack([c, -s], -1), lnp.stack([s, c], -1)], -2)
        return affine_warp(x, matrix, lnp.zeros((x.shape[0], 2), x.dtype), fill_mode,
                           fill_value, interpolation)

    return _image_layer("RandomRotation", fun, config=dict(factor=factor))


def RandomTranslation(height_factor, width_factor, fill_mode="reflect",
                      interpolation="bilinear", fill_value=0.0):
    """Shift each image by up to ``height_factor * H`` rows and ``width_factor * W``
    columns (floats f mean [-f, f])."""
    hlo, hhi = _range("RandomTranslation", height_factor, "height_factor")
    wlo, whi = _range("RandomTranslation", width_factor, "width_factor")
    _warp_options("RandomTranslation", fill_mode, interpolation)

    def fun(x, key):
        kh, kw = random.split(key)
        n, h, w = x.shape[0], x.shape[1], x.shape[2]
        shift = lnp.stack([_per_image(kh, n, hlo * h, hhi * h),
                           _per_image(kw, n, wlo * w, whi * w)], -1)
        eye = lnp.broadcast_to(lnp.eye(2, dtype=x.dtype), (n, 2, 2))
        return affine_warp(x, eye, -shift, fill_mode, fill_value, interpolation)

    return _image_layer("RandomTranslation", fun,
                        config=dict(height_factor=height_factor, width_factor=width_factor))


def RandomZoom(height_factor, width_factor=None, fill_mode="reflect",
               interpolation="bilinear", fill_value=0.0):
    """Zoom each image by ``1 + f`` with f drawn from ``height_factor`` (positive values zoom
    out, as in Keras); ``width_factor=None`` keeps the aspect ratio."""
    hlo, hhi = _range("RandomZoom", height_factor, "height_factor")
    wr = None if width_factor is None else _range("RandomZoom", width_factor, "width_factor")
    _warp_options("RandomZoom", fill_mode, interpolation)

    def fun(x, key):
        kh, kw = random.split(key)
        n = x.shape[0]
        zh = 1 + _per_image(kh, n, hlo, hhi)
        zw = zh if wr is None else 1 + _per_image(kw, n, *wr)
        zero = lnp.zeros_like(zh)
        matrix = lnp.stack([lnp.stack([zh, zero], -1), lnp.stack([zero, zw], -1)], -2)
        return affine_warp(x, matrix, lnp.zeros((n, 2), x.dtype), fill_mode, fill_value,
                           interpolation)

    return _image_layer("RandomZoom", fun,
                        config=dict(height_factor=height_factor, width_factor=width_factor))


def RandomContrast(factor, value_range=(0, 255)):
    """Scale each image's deviation from its per-channel mean by a factor drawn from
    ``[1 - lower, 1 + upper]``, then clip to ``value_range`` (Keras 3's default is
    (0, 255); pass (0, 1) for images already scaled to [0, 1])."""
    lo, hi = _range("RandomContrast", factor)
    vmin, vmax = float(value_range[0]), float(value_range[1])

    def fun(x, key):
        f = 1 + _per_image(key, x.shape[0], lo, hi)[:, None, None, None]
        mean = lnp.mean(x, axis=(1, 2), keepdims=True)
        return lnp.clip((x - mean) * f + mean, vmin, vmax)

    return _image_layer("RandomContrast", fun, config=dict(factor=factor))


# ----------------------------------------------------------------------------- the warp
def _remap(idx, size, fill_mode):
    """Integer pixel indices outside [0, size) mapped back in (constant mode: clipped; the
    caller masks them)."""
    if fill_mode == "reflect":      # d c b a | a b c d | d c b a
        k = lnp.remainder(idx, 2 * size)
        return lnp.where(k >= size, 2 * size - 1 - k, k)
    if fill_mode == "wrap":
        return lnp.remainder(idx, size)
    return lnp.clip(idx, 0, size - 1)


def affine_warp(x, matrix, offset, fill_mode="reflect", fill_value=0.0,
                interpolation="bilinear"):
    """Sample each NHWC image at ``matrix[n] @ (p - centre) + centre + offset[n]`` for every
    output pixel ``p = (row, col)``."""
    n, h, w, c = x.shape
    rows = lnp.arange(h, dtype=x.dtype) - (h - 1) / 2
    cols = lnp.arange(w, dtype=x.dtype) - (w - 1) / 2
    pr = lnp.broadcast_to(rows[:, None], (h, w)).reshape(-1)
    pc = lnp.broadcast_to(cols[None, :], (h, w)).reshape(-1)
    src_r = matrix[:, 0, 0, None] * pr + matrix[:, 0, 1, None] * pc + (h - 1) / 2 \
        + offset[:, 0, None]
    src_c = matrix[:, 1, 0, None] * pr + matrix[:, 1, 1, None] * pc + (w - 1) / 2 \
        + offset[:, 1, None]
    flat = x.reshape(n, h * w, c)

    def sample(r, col):
        r_in, c_in = _remap(r, h, fill_mode), _remap(col, w, fill_mode)
        vals = lnp.take_along_axis(flat, (r_in * w + c_in)[..., None], axis=1)
        if fill_mode == "constant":
            inside = (r >= 0) & (r < h) & (col >= 0) & (col < w)
            vals = lnp.where(inside[..., None], vals, lnp.asarray(fill_value, x.dtype))
        return vals

    if interpolation == "nearest":
        out = sample(lnp.round(src_r).astype("int32"), lnp.round(src_c).astype("int32"))
    else:
        r0f, c0f = lnp.floor(src_r), lnp.floor(src_c)
        fr, fc = (src_r - r0f)[..., None], (src_c - c0f)[..., None]
        r0, c0 = r0f.astype("int32"), c0f.astype("int32")
        out = (sample(r0, c0) * (1 - fr) * (1 - fc) + sample(r0, c0 + 1) * (1 - fr) * fc
               + sample(r0 + 1, c0) * fr * (1 - fc) + sample(r0 + 1, c0 + 1) * fr * fc)
    return out.reshape(n, h, w, c)
