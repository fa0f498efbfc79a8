"""Convolutions (GeneralConv, Conv, Conv1D, GeneralConvTranspose, ConvTranspose,
Conv1DTranspose) and pooling (MaxPool, AvgPool, SumPool, GlobalAvgPool, GlobalMaxPool).

Layouts are ``dimension_numbers`` strings as in ``jax.example_libraries.stax``:
``('NHWC', 'HWIO', 'NHWC')`` by default (``Conv``), ``('NHC', 'HIO', 'NHC')`` for the 1-D
forms.  ``strides`` and ``filter_shape`` list the spatial axes in the kernel spec's order.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .. import lax
from .. import numpy as lnp
from .. import random
from ..nn.initializers import glorot_normal, normal
from ..primitives.conv import conv_dimension_numbers, padtype_to_pads
from ._base import ConfigurableLayer, Layer, LayerShapeError, known, shape_of


def _expected(lhs_spec, in_ch=None):
    dims = ", ".join("batch" if c == "N" else (str(in_ch) if c == "C" and in_ch is not None
                                                else c) for c in lhs_spec)
    return f"({dims}) [{lhs_spec}]"


def _check_conv_input(name, shape, lhs_spec, in_ch=None):
    nd = len(lhs_spec)
    if len(shape) != nd:
        fix = (f"add the missing axis: a channel axis (x[..., None] for {lhs_spec}) for "
               "single-channel data, or a batch axis (x[None]) for one example (under vmap, "
               "apply the model to a batch of one)" if len(shape) == nd - 1 else
               f"reshape the data to {nd} dims in {lhs_spec} layout")
        raise LayerShapeError(name, shape, _expected(lhs_spec, in_ch), fix,
                              f"{name} needs rank-{nd} input, this one has rank "
                              f"{len(shape)}.")
    c_ax = lhs_spec.index("C")
    if in_ch is not None and shape[c_ax] != in_ch:
        others = [i for i, d in enumerate(shape) if d == in_ch and i not in
                  (c_ax, lhs_spec.index("N"))]
        if others:
            i = others[0]
            spec = [c for c in lhs_spec if c != "C"]
            spec.insert(i, "C")
            data_layout = "".join(spec)
            perm = tuple(data_layout.index(c) for c in lhs_spec)
            fix = (f"the data looks like {data_layout} (channels at axis {i}); transpose "
                   f"it with x.transpose{perm}, or build the layer for that layout, e.g. "
                   f"GeneralConv(('{data_layout}', ...), ...)")
        else:
            fix = ("check the channel count: re-run init with the real input shape, or "
                   "check the layer before this one")
        raise LayerShapeError(name, shape, _expected(lhs_spec, in_ch), fix,
                              f"Axis {c_ax} ('C') must hold the {in_ch} input channels the "
                              f"kernel was built for.")


def _same_dtype(x, w):
    """Promote input and kernel to one dtype (lax.conv is strict; float64 NumPy data fed
    to a float32 model computes in float64, as Dense's dot does)."""
    x, w = lnp.asarray(x), lnp.asarray(w)
    if x.dtype == w.dtype:
        return x, w
    dt = lnp.result_type(x, w)
    return x.astype(dt), w.astype(dt)


def _spatial_out(in_sp, k_sp, strides, padding, dilation=None):
    dilation = dilation or (1,) * len(k_sp)
    eff = [(k - 1) * d + 1 for k, d in zip(k_sp, dilation)]
    if any(n < 0 for n in in_sp):  # unknown spatial size
        return [-1] * len(in_sp)
    pads = padtype_to_pads(in_sp, eff, strides, padding)
    return [max(0, (n + lo + hi - e) // s + 1) if n + lo + hi >= e else 0
            for n, e, s, (lo, hi) in zip(in_sp, eff, strides, pads)]


def _normalize_padding(padding):
    if isinstance(padding, str):
        return padding.upper()
    return tuple((int(lo), int(hi)) for lo, hi in padding)


def GeneralConv(dimension_numbers, out_chan, filter_shape, strides=None, padding="VALID",
                W_init=None, b_init=normal(1e-6), *, dilation=None):
    """Convolution layer in any layout, as ``jax.example_libraries.stax.GeneralConv``.

    ``padding`` is 'SAME', 'VALID' or explicit ``(lo, hi)`` pairs; ``dilation`` (lepton
    addition) dilates the kernel (atrous convolution)."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    filter_shape = tuple(int(k) for k in filter_shape)
    one = (1,) * len(filter_shape)
    strides = tuple(strides) if strides else one
    dilation = tuple(dilation) if dilation else one
    padding = _normalize_padding(padding)
    W_init = W_init or glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))
    dn = conv_dimension_numbers(lhs_spec, rhs_spec, out_spec)
    name = "Conv" if tuple(dimension_numbers) == ("NHWC", "HWIO", "NHWC") else \
        "Conv1D" if tuple(dimension_numbers) == ("NHC", "HIO", "NHC") else "GeneralConv"

    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        _check_conv_input(name, input_shape, lhs_spec)
        in_ch = known(name, input_shape, lhs_spec.index("C"), "channel")
        it = iter(filter_shape)
        kernel_shape = tuple(out_chan if c == "O" else in_ch if c == "I" else next(it)
                             for c in rhs_spec)
        in_sp = [input_shape[d] for d in dn[0][2:]]
        k_sp = [kernel_shape[d] for d in dn[1][2:]]
        out_sp = _spatial_out(in_sp, k_sp, strides, padding, dilation)
        out = [0] * len(out_spec)
        out[dn[2][0]], out[dn[2][1]] = input_shape[dn[0][0]], out_chan
        for d, n in zip(dn[2][2:], out_sp):
            out[d] = n
        bias_shape = tuple(out_chan if c == "C" else 1 for c in out_spec)
        k1, k2 = random.split(rng)
        return tuple(out), (W_init(k1, kernel_shape), b_init(k2, bias_shape))

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        _check_conv_input(name, shape_of(inputs), lhs_spec, shape_of(W)[rhs_spec.index("I")])
        inputs, W = _same_dtype(inputs, W)
        return lax.conv_general_dilated(inputs, W, strides, padding, one, dilation,
                                        dimension_numbers=dimension_numbers) + b

    return Layer(init_fun, apply_fun, name, config=dict(
        dimension_numbers=tuple(dimension_numbers), out_chan=out_chan,
        filter_shape=filter_shape, strides=strides, padding=padding))


Conv = functools.partial(GeneralConv, ("NHWC", "HWIO", "NHWC"))
Conv.__doc__ = "2-D convolution on NHWC data with an HWIO kernel (GeneralConv's default)."
Conv1D = functools.partial(GeneralConv, ("NHC", "HIO", "NHC"))
Conv1D.__doc__ = "1-D convolution on NHC (batch, time, channels) data with an HIO kernel."


def _transpose_pads(k, s, padding):
    """(lo, hi) padding of the dilated-input convolution that transposes a conv with
    kernel ``k`` and stride ``s`` (JAX's conv_transpose convention): 'SAME' and 'VALID'
    are translated; an explicit ``(lo, hi)`` pair IS that padding, as in
    ``jax.lax.conv_transpose`` (not the forward conv's padding, as PyTorch's
    ``ConvTranspose2d(padding=p)``, which is ``(k - 1 - p, k - 1 - p)`` here)."""
    if padding == "SAME":
        pad_len = k + s - 2
        lo = k - 1 if s > k - 1 else int(math.ceil(pad_len / 2))
    elif padding == "VALID":
        pad_len = k + s - 2 + max(k - s, 0)
        lo = k - 1
    else:
        lo, pad_len = int(padding[0]), int(padding[0]) + int(padding[1])
    return lo, pad_len - lo


def conv_transpose(lhs, rhs, strides, padding, dimension_numbers):
    """``jax.lax.conv_transpose`` (kernel not flipped): a stride-1 convolution of the
    input dilated by ``strides``; the output grows by the strides."""
    dn = conv_dimension_numbers(*dimension_numbers)
    k_sp = [shape_of(rhs)[d] for d in dn[1][2:]]
    if isinstance(padding, str):
        pads = [_transpose_pads(k, s, padding) for k, s in zip(k_sp, strides)]
    else:
        pads = [_transpose_pads(k, s, p) for k, s, p in zip(k_sp, strides, padding)]
    return lax.conv_general_dilated(lhs, rhs, (1,) * len(k_sp), pads, lhs_dilation=strides,
                                    dimension_numbers=dimension_numbers)


def GeneralConvTranspose(dimension_numbers, out_chan, filter_shape, strides=None,
                         padding="VALID", W_init=None, b_init=normal(1e-6)):
    """Transposed convolution, as ``jax.example_libraries.stax.GeneralConvTranspose``:
    'SAME' multiplies each spatial size by its stride, 'VALID' gives
    ``n * s + max(k - s, 0)``; explicit ``(lo, hi)`` pairs pad the stride-dilated input
    (``jax.lax.conv_transpose``'s meaning): ``(n - 1) * s + 1 + lo + hi - k + 1``."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    filter_shape = tuple(int(k) for k in filter_shape)
    one = (1,) * len(filter_shape)
    strides = tuple(strides) if strides else one
    padding = _normalize_padding(padding)
    W_init = W_init or glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))
    dn = conv_dimension_numbers(lhs_spec, rhs_spec, out_spec)
    name = "ConvTranspose" if tuple(dimension_numbers) == ("NHWC", "HWIO", "NHWC") else \
        "Conv1DTranspose" if tuple(dimension_numbers) == ("NHC", "HIO", "NHC") else \
        "GeneralConvTranspose"

    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        _check_conv_input(name, input_shape, lhs_spec)
        in_ch = known(name, input_shape, lhs_spec.index("C"), "channel")
        it = iter(filter_shape)
        kernel_shape = tuple(out_chan if c == "O" else in_ch if c == "I" else next(it)
                             for c in rhs_spec)
        in_sp = [input_shape[d] for d in dn[0][2:]]
        k_sp = [kernel_shape[d] for d in dn[1][2:]]
        out = [0] * len(out_spec)
        out[dn[2][0]], out[dn[2][1]] = input_shape[dn[0][0]], out_chan
        for i, (d, n, k, s) in enumerate(zip(dn[2][2:], in_sp, k_sp, strides)):
            if n < 0:
                out[d] = -1
                continue
            lo, hi = _transpose_pads(k, s, padding if isinstance(padding, str)
                                     else padding[i])
            out[d] = max(0, (n - 1) * s + 1 + lo + hi - k + 1) if n else 0
        bias_shape = tuple(out_chan if c == "C" else 1 for c in out_spec)
        k1, k2 = random.split(rng)
        return tuple(out), (W_init(k1, kernel_shape), b_init(k2, bias_shape))

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        _check_conv_input(name, shape_of(inputs), lhs_spec, shape_of(W)[rhs_spec.index("I")])
        inputs, W = _same_dtype(inputs, W)
        return conv_transpose(inputs, W, strides, padding, dimension_numbers) + b

    return Layer(init_fun, apply_fun, name, config=dict(
        dimension_numbers=tuple(dimension_numbers), out_chan=out_chan,
        filter_shape=filter_shape, strides=strides, padding=padding))


ConvTranspose = functools.partial(GeneralConvTranspose, ("NHWC", "HWIO", "NHWC"))
Conv1DTranspose = functools.partial(GeneralConvTranspose, ("NHC", "HIO", "NHC"))


# ----------------------------------------------------------------------------- pooling
def _pool_layout(nsp, spec):
    """(batch axis, channel axis, spec string) of a pooling input."""
    if spec is None:
        letters = "HW" if nsp == 2 else "DHW" if nsp == 3 else "".join(f"S{i}" for i in
                                                                        range(nsp))
        return 0, nsp + 1, "N" + letters + "C"
    return spec.index("N"), spec.index("C"), spec


def _pooling_layer(name, computation, average):
    def PoolingLayer(window_shape, strides=None, padding="VALID", spec=None):
        window_shape = tuple(int(w) for w in window_shape)
        nsp = len(window_shape)
        strides_sp = tuple(int(s) for s in strides) if strides else (1,) * nsp
        padding = _normalize_padding(padding)
        n_ax, c_ax, layout = _pool_layout(nsp, spec)
        dims, strd = list(window_shape), list(strides_sp)
        for i in sorted((n_ax, c_ax)):
            dims.insert(i, 1)
            strd.insert(i, 1)
        dims, strd = tuple(dims), tuple(strd)
        spatial_axes = [i for i in range(nsp + 2) if i not in (n_ax, c_ax)]
        if isinstance(padding, str) or len(padding) == nsp + 2:  # JAX: one pair per axis
            pads_full = None if isinstance(padding, str) else padding
        elif len(padding) == nsp:  # lepton also takes one pair per spatial axis
            pads_full = tuple(padding[spatial_axes.index(i)] if i in spatial_axes else (0, 0)
                              for i in range(nsp + 2))
        else:
            raise ValueError(f"{name}: explicit padding needs one (lo, hi) pair per spatial "
                             f"axis ({nsp}) or per input axis ({nsp + 2}), got {padding}")
        expected = f"({', '.join('batch' if c == 'N' else c for c in layout)}) [{layout}]"

        def check(shape):
            if len(shape) != nsp + 2:
                fix = ("add the missing axis: a channel axis (x[..., None]) for single-channel "
                       "data or a batch axis (x[None]) for one example"
                       if len(shape) == nsp + 1 else
                       f"give {nsp + 2}-d data or a {len(shape) - 2}-d window_shape")
                raise LayerShapeError(name, shape, expected, fix,
                                      f"A {nsp}-d window needs rank-{nsp + 2} input, this "
                                      f"one has rank {len(shape)}.")

        def pads_for(shape):
            return pads_full if pads_full is not None else \
                padtype_to_pads(shape, dims, strd, padding)

        def init_fun(rng, input_shape):
            input_shape = tuple(input_shape)
            check(input_shape)
            known_shape = tuple(1 if d < 0 else d for d in input_shape)
            out = _spatial_out(list(known_shape), list(dims), list(strd),
                               pads_for(known_shape))
            return tuple(-1 if d < 0 else o for d, o in zip(input_shape, out)), ()

        def apply_fun(params, inputs, **kwargs):
            shape = shape_of(inputs)
            check(shape)
            pads = pads_for(shape)
            init = -np.inf if computation == "max" else 0.
            out = lax.reduce_window(inputs, init, computation, dims, strd, pads)
            if not average:
                return out
            if all(lo == hi == 0 for lo, hi in pads):
                return out / math.prod(window_shape)
            # Divide by the number of real (unpadded) elements in each window: a static
            # constant, computed with NumPy at trace time.
            ones = np.ones(tuple(d if i in spatial_axes else 1 for i, d in enumerate(shape)))
            padded = np.pad(ones, pads)
            count = np.lib.stride_tricks.sliding_window_view(padded, dims)
            count = count[tuple(slice(None, None, s) for s in strd)].sum(
                axis=tuple(range(-len(dims), 0)))
            return out / lnp.asarray(count.astype(np.dtype(inputs.dtype)))

        return Layer(init_fun, apply_fun, name, config=dict(
            window_shape=window_shape, strides=strides_sp, padding=padding, spec=spec))

    PoolingLayer.__name__ = name
    PoolingLayer.__doc__ = (f"{name}(window_shape, strides=None, padding='VALID', spec=None):"
                            f" {computation} over windows of the spatial axes (channels last "
                            "unless ``spec``, e.g. 'NCHW', says otherwise).")
    return PoolingLayer


MaxPool = _pooling_layer("MaxPool", "max", False)
SumPool = _pooling_layer("SumPool", "sum", False)
AvgPool = _pooling_layer("AvgPool", "sum", True)


def _global_pool(name, reduce):
    def make(spec=None):
        def axes(shape):
            if len(shape) < 3:
                raise LayerShapeError(name, shape, "(batch, spatial..., channels)",
                                      "global pooling needs at least one spatial axis; for "
                                      "(batch, features) data drop this layer.")
            if spec is None:
                return 0, len(shape) - 1
            if len(spec) != len(shape):
                raise LayerShapeError(name, shape, f"rank {len(spec)} [{spec}]",
                                      "pass data in the layout named by spec.")
            return spec.index("N"), spec.index("C")

        def init_fun(rng, input_shape):
            n_ax, c_ax = axes(tuple(input_shape))
            return (input_shape[n_ax], input_shape[c_ax]), ()

        def apply_fun(params, inputs, **kwargs):
            shape = shape_of(inputs)
            n_ax, c_ax = axes(shape)
            red = tuple(i for i in range(len(shape)) if i not in (n_ax, c_ax))
            out = reduce(inputs, axis=red)
            return out if n_ax < c_ax else lnp.transpose(out)

        return ConfigurableLayer(init_fun, apply_fun, name, config=dict(spec=spec),
                                 rebuild=make)
    return make()


GlobalAvgPool = _global_pool("GlobalAvgPool", lnp.mean)
GlobalMaxPool = _global_pool("GlobalMaxPool", lnp.max)
