"""Recurrent layers on ``lax.scan``: SimpleRNN, LSTM, GRU, and the Bidirectional combinator.

Inputs are batch-major ``(batch, time, features)``; the layer transposes the (small) input
to time-major and runs one ``lax.scan`` whose step is the cell as one writes it by hand:
``z = x_t W + h U + b`` for all gates at once (PyTorch's gate layout), then the gates'
elementwise work.  ``scan`` itself moves ``x_t W`` out of the loop, as one product over the
whole sequence, while the stacked projection is small (``control_flow.hoist``; at long
sequences it stays per step rather than materialise ``(time, batch, gates*units)``), and
the bias add fuses into the cell's kernel.  So a stax RNN compiles to the same program as
the same cell written with ``lax.scan`` (issue #11), traced and compiled once whatever the
sequence length.

Gate equations (PyTorch's; ``z = x W + h U + b`` split into equal blocks):

* LSTM, blocks (i, f, g, o): ``c' = s(f) c + s(i) tanh(g)``, ``h' = s(o) tanh(c')``.
* GRU, blocks (r, z, n), with a separate recurrent bias ``b_h`` as PyTorch:
  ``n = tanh(xW_n + b_n + s(r) (h U_n + b_hn))``, ``h' = (1 - s(z)) n + s(z) h``.
* SimpleRNN: ``h' = activation(x W + h U + b)``.

apply keywords: ``lengths`` (int array (batch,), valid steps per sequence, the rest being
right padding) or ``mask`` ((batch, time) bool); padded steps leave the state unchanged and
output zeros, so the final state is the one after each sequence's last valid step (also
with ``reverse=True``, which reads each sequence from its last valid step backwards).
``initial_state``: the starting ``h`` (``(h, c)`` for LSTM), zeros by default.
Parameters: LSTM and SimpleRNN ``(W (features, G*units), U (units, G*units), b)``, GRU
``(W, U, b_x, b_h)``.  From PyTorch's ``weight_ih, weight_hh, bias_ih, bias_hh``:
``W = weight_ih.T``, ``U = weight_hh.T``, ``b = bias_ih + bias_hh`` (GRU: ``b_x = bias_ih``,
``b_h = bias_hh``); the gate blocks are already in PyTorch's order.
Outputs: ``(batch, time, units)`` with ``return_sequences=True`` (aligned with the input
positions, also when ``reverse=True``), else the final ``h`` ``(batch, units)``.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes
from .. import lax
from .. import nn
from .. import numpy as lnp
from .. import random
from ..core import Tracer
from ..errors import ShapeError
from ..nn.initializers import glorot_uniform, orthogonal, zeros
from ._base import Layer, LayerShapeError, fmt_shape, known, shape_of


def _check_seq(name, shape, in_dim=None):
    if len(shape) != 3:
        fix = ("keep the time axis: drop a Flatten before this layer, reshape the data to "
               "(batch, time, features), or add a time axis x[:, None, :] for one step"
               if len(shape) == 2 else
               "reshape images to sequences, e.g. x.reshape(batch, rows, cols * channels)"
               if len(shape) == 4 else "give (batch, time, features) data")
        raise LayerShapeError(name, shape, f"(batch, time, "
                              f"{in_dim if in_dim is not None else 'features'})", fix,
                              f"{name} needs rank-3 input, this one has rank {len(shape)}.")
    if in_dim is not None and shape[-1] != in_dim:
        raise LayerShapeError(name, shape, f"(batch, time, {in_dim})",
                              "re-run init with the real input shape, or check the layer "
                              "before this one.",
                              f"The last axis must hold the {in_dim} input features the layer "
                              "was initialised with.")


def _step_mask(name, lengths, mask, batch, time):
    """(time, batch, 1) bool mask of valid steps, or None."""
    if lengths is not None and mask is not None:
        raise TypeError(f"{name}: pass lengths or mask, not both")
    if lengths is not None:
        lengths = lnp.asarray(lengths)
        if lengths.shape != (batch,) or not dtypes.is_integer(lengths.dtype):
            raise ShapeError(f"stax layer {name}: lengths must be an int array of shape "
                             f"({batch},) (one length per sequence), got {lengths.dtype} "
                             f"{fmt_shape(lengths.shape)}")
        if not isinstance(lengths, Tracer) and lengths.size:
            v = np.asarray(lengths)
            if v.min() < 0 or v.max() > time:
                raise ValueError(f"stax layer {name}: lengths must be in [0, {time}], got "
                                 f"values in [{v.min()}, {v.max()}]")
        return (lnp.arange(time)[:, None] < lengths[None, :])[:, :, None]
    if mask is not None:
        mask = lnp.asarray(mask)
        if mask.shape != (batch, time):
            raise ShapeError(f"stax layer {name}: mask must have shape ({batch}, {time}) "
                             f"(batch, time), got {fmt_shape(mask.shape)}")
        return lnp.swapaxes(mask.astype(bool), 0, 1)[:, :, None]
    return None


def gated_recurrent(name, n_gates, cell, n_state, units, return_sequences, reverse, W_init,
                    U_init, b_init, extra_bias, config, rebuild, bias_fix=None):
    """Shared init/apply of a gated RNN: ``cell(z_x, h_state, U, b_h) -> new state`` with
    ``z_x = x_t W + b`` the step's input projection (written per step: ``scan`` hoists the
    product, the bias add fuses with the cell's elementwise work).  A cell also takes
    ``drop``, a (batch, units) mask for h in its recurrent products only (apply's
    ``recurrent_mask``: recurrent dropout)."""
    units = int(units)
    width = n_gates * units

    def init_fun(rng, input_shape):
        input_shape = tuple(input_shape)
        _check_seq(name, input_shape)
        in_dim = known(name, input_shape, -1, "feature")
        k1, k2, k3, k4 = random.split(rng, 4)
        W = W_init(k1, (in_dim, width))
        # One orthogonal block per gate (as Keras): U is (units, n_gates * units).
        U = lnp.concatenate([U_init(k, (units, units)) for k in random.split(k2, n_gates)],
                            axis=1)
        b = b_init(k3, (width,))
        if bias_fix is not None:
            b = bias_fix(b)
        params = (W, U, b) + ((b_init(k4, (width,)),) if extra_bias else ())
        out = (input_shape[0], input_shape[1], units) if return_sequences else \
            (input_shape[0], units)
        return out, params

    def apply_fun(params, inputs, *, lengths=None, mask=None, initial_state=None,
                  return_state=False, zero_masked=True, recurrent_mask=None, **kwargs):
        # return_state: also the final state tuple; zero_masked=False: a masked step
        # outputs the previous output (Keras) instead of zeros; recurrent_mask (batch,
        # units) multiplies h where it enters the recurrent product (recurrent dropout)
        W, U, b = params[:3]
        b_h = params[3] if extra_bias else None
        x = lnp.asarray(inputs)
        _check_seq(name, x.shape, shape_of(W)[0])
        batch, time, _ = x.shape
        xs = lnp.swapaxes(x, 0, 1)  # (time, batch, features)
        dtype = lnp.result_type(x, W, b)  # the state's: as x W + b
        m = _step_mask(name, lengths, mask, batch, time)
        if initial_state is None:
            h0 = (lnp.zeros((batch, units), dtype),) * n_state  # one zeros for h and c
        else:
            h0 = tuple(initial_state) if n_state > 1 else (initial_state,)
            for h in h0:
                if shape_of(h) != (batch, units):
                    raise ShapeError(f"stax layer {name}: initial_state entries must have "
                                     f"shape ({batch}, {units}), got {fmt_shape(shape_of(h))}")
            h0 = tuple(lnp.asarray(h).astype(dtype) for h in h0)

        def step(state, inp):
            x_t, m_t = inp if m is not None else (inp, None)
            z_x = lnp.matmul(x_t, W) + b  # scan hoists x_t W
            new = cell(z_x, state, U, b_h) if recurrent_mask is None else \
                cell(z_x, state, U, b_h, recurrent_mask)
            if m_t is not None:
                new = tuple(lnp.where(m_t, a, b_) for a, b_ in zip(new, state))
                y = lnp.where(m_t, new[0], lnp.zeros((), dtype)) if zero_masked else new[0]
            else:
                y = new[0]
            return new, (y if return_sequences else None)

        final, ys = lax.scan(step, h0, xs if m is None else (xs, m), reverse=reverse)
        out = lnp.swapaxes(ys, 0, 1) if return_sequences else final[0]
        return (out, final) if return_state else out

    return Layer(init_fun, apply_fun, name, config=config, rebuild=rebuild)


def SimpleRNN(units, activation=lnp.tanh, return_sequences=False, reverse=False,
              W_init=glorot_uniform(), U_init=orthogonal(), b_init=zeros):
    """Elman RNN: ``h' = activation(x W + h U + b)``."""
    def cell(z_x, state, U, b_h, drop=None):
        (h,) = state
        return (activation(z_x + lnp.matmul(h if drop is None else h * drop, U)),)

    config = dict(units=units, activation=activation, return_sequences=return_sequences,
                  reverse=reverse, W_init=W_init, U_init=U_init, b_init=b_init)
    return gated_recurrent("SimpleRNN", 1, cell, 1, units, return_sequences, reverse, W_init,
                           U_init, b_init, False, config, SimpleRNN)


def LSTM(units, return_sequences=False, reverse=False, W_init=glorot_uniform(),
         U_init=orthogonal(), b_init=zeros, forget_bias=1.0):
    """Long short-term memory, PyTorch's gate order (i, f, g, o).  ``forget_bias`` is added
    to the forget gate's initial bias (Keras's unit_forget_bias)."""
    units = int(units)

    def cell(z_x, state, U, b_h, drop=None):
        h, c = state
        z = z_x + lnp.matmul(h if drop is None else h * drop, U)
        H = units
        i = nn.sigmoid(z[:, :H])
        f = nn.sigmoid(z[:, H:2 * H])
        g = lnp.tanh(z[:, 2 * H:3 * H])
        o = nn.sigmoid(z[:, 3 * H:])
        c2 = f * c + i * g
        return o * lnp.tanh(c2), c2

    def bias_fix(b):
        return b.at[units:2 * units].add(forget_bias) if forget_bias else b

    config = dict(units=units, return_sequences=return_sequences, reverse=reverse,
                  W_init=W_init, U_init=U_init, b_init=b_init, forget_bias=forget_bias)
    return gated_recurrent("LSTM", 4, cell, 2, units, return_sequences, reverse, W_init, U_init,
                           b_init, False, config, LSTM, bias_fix)


def GRU(units, return_sequences=False, reverse=False, W_init=glorot_uniform(),
        U_init=orthogonal(), b_init=zeros):
    """Gated recurrent unit, PyTorch's equations and gate order (r, z, n); params are
    ``(W, U, b_x, b_h)``."""
    units = int(units)

    def cell(z_x, state, U, b_h, drop=None):
        (h,) = state
        H = units
        zh = lnp.matmul(h if drop is None else h * drop, U) + b_h
        r = nn.sigmoid(z_x[:, :H] + zh[:, :H])
        z = nn.sigmoid(z_x[:, H:2 * H] + zh[:, H:2 * H])
        n = lnp.tanh(z_x[:, 2 * H:] + r * zh[:, 2 * H:])
        return ((1 - z) * n + z * h,)

    config = dict(units=units, return_sequences=return_sequences, reverse=reverse,
                  W_init=W_init, U_init=U_init, b_init=b_init)
    return gated_recurrent("GRU", 3, cell, 1, units, return_sequences, reverse, W_init, U_init,
                           b_init, True, config, GRU)


def Bidirectional(layer, merge_mode="concat", backward_layer=None):
    """Run a recurrent layer forwards and a copy of it backwards (``reverse`` flipped, own
    parameters) over the same input and merge the outputs: 'concat' (on the last axis),
    'sum', 'mul' or 'ave'.  Params are ``(forward_params, backward_params)``; apply
    keywords (lengths, mask) go to both."""
    if merge_mode not in ("concat", "sum", "mul", "ave"):
        raise ValueError(f"Bidirectional: merge_mode must be 'concat', 'sum', 'mul' or "
                         f"'ave', got {merge_mode!r}")
    if backward_layer is None:
        if "reverse" not in getattr(layer, "config", {}):
            raise TypeError("Bidirectional: give a lepton recurrent layer (SimpleRNN, LSTM, "
                            "GRU) or pass backward_layer= explicitly")
        backward_layer = layer.rebuild(reverse=not layer.config["reverse"])
    f_init, f_apply = layer
    b_init, b_apply = backward_layer

    def init_fun(rng, input_shape):
        k1, k2 = random.split(rng)
        out_f, pf = f_init(k1, input_shape)
        out_b, pb = b_init(k2, input_shape)
        if merge_mode == "concat":
            out = tuple(out_f[:-1]) + (out_f[-1] + out_b[-1],)
        else:
            out = tuple(out_f)
        return out, (pf, pb)

    def apply_fun(params, inputs, **kwargs):
        pf, pb = params
        kwargs.pop("rng", None)
        yf, yb = f_apply(pf, inputs, **kwargs), b_apply(pb, inputs, **kwargs)
        if merge_mode == "concat":
            return lnp.concatenate([yf, yb], axis=-1)
        if merge_mode == "sum":
            return yf + yb
        if merge_mode == "mul":
            return yf * yb
        return (yf + yb) * 0.5

    return Layer(init_fun, apply_fun, f"Bidirectional({getattr(layer, 'name', 'layer')})",
                 config=dict(merge_mode=merge_mode))
