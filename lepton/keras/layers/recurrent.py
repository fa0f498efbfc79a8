"""SimpleRNN, LSTM, GRU and Bidirectional over stax's gated recurrences, with
Keras's weight layout.
"""
from __future__ import annotations

import copy

import numpy as np

from ... import nn
from ... import numpy as lnp
from ... import random
from ... import stax
from ...stax import gated_recurrent
from ...tree import leaves
from .. import regularizers as kregs
from ..errors import KerasLayerError, _shape
from .options import _act_fn, _act_name, _defaults_only, check_seed, initializer
from .base import Layer


class _Recurrent(Layer):
    """Keras's recurrent layers.  The weights Keras lists (kernel ``(in, G*units)``,
    recurrent_kernel ``(units, G*units)``, bias) line up with Keras's; LSTM's gate order
    (i, f, c, o) is stax's, GRU translates its own (see ``GRU``).

    A mask (``Embedding(mask_zero=True)`` upstream) holds the state at masked steps and
    repeats the previous output there, as Keras.  ``return_state=True`` makes the layer
    return ``[output, *final states]`` (h, and c for LSTM); ``initial_state=`` (a call
    argument in the functional API) starts from given states (a mask still applies;
    Keras 3.15 drops the mask of a call given initial_state).  ``dropout`` drops input
    features in training with one mask per sequence (all steps, all gates; Keras 3's
    LSTM with ``recurrent_dropout`` draws one per gate), from the layer's step key;
    ``recurrent_dropout`` likewise drops units of ``h`` where it enters the recurrent
    products (the carried state itself is not dropped, as Keras)."""
    cell = "LSTM"
    gated = True
    n_states = 1
    takes_initial_state = True
    uses_mask = True
    supports_masking = True

    def __init__(self, units, activation="tanh", return_sequences=False, go_backwards=False,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_state=False, stateful=False, unroll=False, use_bias=True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, seed=None, use_cudnn="auto", **kwargs):
        super().__init__(**kwargs)
        where = f"{type(self).__name__} {self.name!r}"
        self.use_bias = bool(use_bias)
        _defaults_only(self, activity_regularizer=(activity_regularizer, None),
                       kernel_constraint=(kernel_constraint, None),
                       recurrent_constraint=(recurrent_constraint, None),
                       bias_constraint=(bias_constraint, None))
        self.kernel_regularizer = kregs.get(kernel_regularizer)
        self.recurrent_regularizer = kregs.get(recurrent_regularizer)
        self.bias_regularizer = kregs.get(bias_regularizer)
        del use_cudnn  # no cuDNN here
        # the cell's activation (the layer has no output activation of its own)
        self.units, self.cell_activation = int(units), activation
        self.return_sequences, self.go_backwards = bool(return_sequences), bool(go_backwards)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        for arg, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= float(value) < 1:
                raise ValueError(f"{where}: {arg} must be in [0, 1); got {value}")
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_state = bool(return_state)
        self.seed = check_seed(seed, where)
        if stateful:
            raise NotImplementedError(f"{where}: stateful=True is not supported; pass the "
                                      f"state on with return_state=True and initial_state=")
        del unroll  # scan compiles the step once; unrolling changes nothing here

    def penalties(self, params):
        """kernel (W), recurrent kernel (U) and the bias leaves (GRU: input and recurrent
        biases, each penalised on its own: the same sum for L1/L2)."""
        w = leaves(params)
        out = [(self.kernel_regularizer, w[0]), (self.recurrent_regularizer, w[1])]
        out += [(self.bias_regularizer, b) for b in w[2:]]
        return [(r, a) for r, a in out if r is not None]

    def _inits(self):
        where = f"{type(self).__name__} {self.name!r}"
        return dict(W_init=initializer(self.kernel_initializer, where),
                    U_init=initializer(self.recurrent_initializer, where),
                    b_init=initializer(self.bias_initializer, where))

    def build_stax(self):
        init, apply = self.rnn_stax()
        units, n_states, layer = self.units, self.n_states, self

        def init_fun(rng, input_shape):
            out, params = init(rng, input_shape)
            if layer.return_state:
                return [out] + [(input_shape[0], units)] * n_states, params
            return out, params

        def apply_fun(params, inputs, *, rng=None, train=False, mask=None,
                      initial_state=None, **kwargs):
            x = lnp.asarray(inputs)
            if train and rng is not None and (layer.dropout or layer.recurrent_dropout):
                k_in, k_rec = random.split(rng)
                if layer.dropout:  # one mask per sequence and feature, for every step
                    x = x * _dropout_mask(k_in, layer.dropout, (x.shape[0], 1, x.shape[2]),
                                          x.dtype)
                if layer.recurrent_dropout:  # one per sequence and unit, for every step
                    kwargs["recurrent_mask"] = _dropout_mask(
                        k_rec, layer.recurrent_dropout, (x.shape[0], units), x.dtype)
            if initial_state is not None:
                initial_state = initial_state[0] if n_states == 1 else tuple(initial_state)
            # Keras repeats the previous output at a masked step (zero_output_for_mask
            # False), except inside Bidirectional with return_sequences
            zero = kwargs.pop("zero_masked", False)
            y = apply(params, x, mask=mask, initial_state=initial_state,
                      return_state=layer.return_state, zero_masked=zero, **kwargs)
            y, states = y if layer.return_state else (y, ())
            if layer.go_backwards and layer.return_sequences:
                # Keras returns the outputs in the order it read them (last step first);
                # stax aligns them with the input positions.
                y = lnp.flip(y, axis=1)
            return [y, *states] if layer.return_state else y

        return stax.Layer(init_fun, apply_fun, type(self).__name__)

    def compute_mask(self, inputs, mask):
        """The mask goes on with the sequence (``return_sequences``), not past the last
        step."""
        if mask is None or not self.return_sequences:
            return None
        return lnp.flip(mask, axis=1) if self.go_backwards else mask

    def check_initial_state(self, input_shape, state_shapes):
        """``initial_state`` tensors: one per state, each ``(batch, units)``."""
        want = [(-1, self.units)] * self.n_states
        if len(state_shapes) != self.n_states or \
                any(tuple(s)[1:] != w[1:] for s, w in zip(state_shapes, want)):
            raise KerasLayerError(
                f"{type(self).__name__} {self.name!r}: initial_state must be "
                f"{self.n_states} tensor(s) of shape (None, {self.units})"
                f"{' (h and c)' if self.n_states == 2 else ''}; got "
                f"{', '.join(_shape(s) for s in state_shapes)}")

    def rnn_stax(self):
        """The stax recurrent layer (outputs aligned with the input positions); with
        ``use_bias=False`` its params are ``(W, U)`` and the biases are constant zeros."""
        rnn = self._rnn_core()
        if self.use_bias:
            return rnn
        n_bias = 2 if isinstance(self, GRU) and self.reset_after else 1

        def without_bias(core):
            init, apply = core

            def init_fun(rng, input_shape):
                out, params = init(rng, input_shape)
                return out, tuple(params[:2])

            def apply_fun(params, inputs, **kwargs):
                W, U = params
                zero = lnp.zeros((U.shape[1],), U.dtype)
                return apply((W, U) + (zero,) * n_bias, inputs, **kwargs)

            return stax.Layer(init_fun, apply_fun, core.name, config=core.config,
                              rebuild=lambda **cfg: without_bias(core.rebuild(**cfg)))
        return without_bias(rnn)

    def _rnn_core(self):
        """The stax recurrent layer with its biases."""
        make = getattr(stax, self.cell)
        kwargs = dict(return_sequences=self.return_sequences, reverse=self.go_backwards,
                      **self._inits())
        if self.cell == "SimpleRNN":
            kwargs["activation"] = _act_fn(self.cell_activation, f"SimpleRNN {self.name!r}")
        elif self.cell_activation not in ("tanh", None):
            raise ValueError(f"{self.cell} {self.name!r}: only activation='tanh' is "
                             f"supported (the cell's standard equations)")
        return make(self.units, **kwargs)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": _act_name(self.cell_activation),
                "return_sequences": self.return_sequences,
                "go_backwards": self.go_backwards, "use_bias": self.use_bias,
                "return_state": self.return_state, "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed,
                **{k: kregs.serialize(getattr(self, k)) for k in
                   ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer")
                   if getattr(self, k) is not None},
                **{k: getattr(self, k) for k in ("kernel_initializer", "recurrent_initializer",
                                                 "bias_initializer")
                   if isinstance(getattr(self, k), str)}}


def _dropout_mask(key, rate, shape, dtype):
    """Kept entries ``1 / (1 - rate)``, dropped ones 0."""
    keep = random.bernoulli(key, 1.0 - rate, shape)
    return lnp.where(keep, lnp.asarray(1.0 / (1.0 - rate), dtype), lnp.zeros((), dtype))


def _check_recurrent_activation(layer, recurrent_activation):
    if str(recurrent_activation).lower() != "sigmoid":
        raise NotImplementedError(f"{type(layer).__name__} {layer.name!r}: only "
                                  f"recurrent_activation='sigmoid' (Keras's default) is "
                                  f"supported; got {recurrent_activation!r}")


class SimpleRNN(_Recurrent):
    cell = "SimpleRNN"


class LSTM(_Recurrent):
    """Keras's LSTM: gates (i, f, c, o), as stax's; ``unit_forget_bias`` adds 1 to the
    forget gate's initial bias."""
    cell = "LSTM"
    n_states = 2

    def __init__(self, units, recurrent_activation="sigmoid", unit_forget_bias=True,
                 **kwargs):
        super().__init__(units, **kwargs)
        _check_recurrent_activation(self, recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _rnn_core(self):
        if self.cell_activation not in ("tanh", None):
            raise ValueError(f"LSTM {self.name!r}: only activation='tanh' is supported "
                             f"(the cell's standard equations)")
        return stax.LSTM(self.units, return_sequences=self.return_sequences,
                         reverse=self.go_backwards, forget_bias=float(self.unit_forget_bias),
                         **self._inits())

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


def _swap_zr(a):
    """Swap the first two gate blocks of the last axis: Keras's (z, r, h) <-> stax's
    (r, z, n) (its own inverse)."""
    a = np.asarray(a)
    u = a.shape[-1] // 3
    return np.concatenate([a[..., u:2 * u], a[..., :u], a[..., 2 * u:]], axis=-1)


class GRU(_Recurrent):
    """Keras's GRU.  ``reset_after=True`` (Keras's default, cuDNN's and PyTorch's
    equations) runs stax's GRU; ``get_weights``/``set_weights`` use Keras's layout: gate
    order (z, r, h), kernel ``(in, 3u)``, recurrent_kernel ``(u, 3u)`` and bias ``(2, 3u)``
    (input bias, recurrent bias), so Keras's weights give Keras's outputs.
    ``reset_after=False`` (Keras 2's original GRU: the reset gate applies to ``h`` before
    its matrix product, one bias ``(3u,)``) runs its own cell with Keras's layout."""
    cell = "GRU"

    def __init__(self, units, recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        _check_recurrent_activation(self, recurrent_activation)
        self.reset_after = bool(reset_after)

    def _rnn_core(self):
        if self.cell_activation not in ("tanh", None):
            raise ValueError(f"GRU {self.name!r}: only activation='tanh' is supported "
                             f"(the cell's standard equations)")
        make = stax.GRU if self.reset_after else _gru_reset_before
        return make(self.units, return_sequences=self.return_sequences,
                    reverse=self.go_backwards, **self._inits())

    def keras_weight_count(self, n):
        return 3 if self.use_bias else 2

    def to_keras_weights(self, arrays):
        if not self.reset_after:
            return super().to_keras_weights(arrays)
        if not self.use_bias:
            return [_swap_zr(a) for a in arrays]
        W, U, b_x, b_h = (np.asarray(a) for a in arrays)
        return [_swap_zr(W), _swap_zr(U), np.stack([_swap_zr(b_x), _swap_zr(b_h)])]

    def from_keras_weights(self, weights, arrays, offset):
        if not self.reset_after:
            return super().from_keras_weights(weights, arrays, offset)
        if not self.use_bias:
            return [_swap_zr(a) for a in super().from_keras_weights(weights, arrays,
                                                                     offset)]
        W, U, b_x = (np.shape(a) for a in arrays[:3])
        wants = [W, U, (2,) + b_x]
        for pos, (w, want) in enumerate(zip(weights, wants)):
            if np.shape(w) != want:
                raise ValueError(f"set_weights: array {offset + pos} (layer {self.name!r}) "
                                 f"has shape {np.shape(w)}, the model needs {want} (Keras's "
                                 f"GRU layout, reset_after=True)")
        dt = np.asarray(arrays[0]).dtype
        kernel, recurrent, bias = (np.asarray(w, dt) for w in weights)
        return [_swap_zr(kernel), _swap_zr(recurrent), _swap_zr(bias[0]), _swap_zr(bias[1])]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


def _gru_reset_before(units, return_sequences=False, reverse=False, W_init=None,
                      U_init=None, b_init=None):
    """Keras's ``reset_after=False`` GRU as a stax layer; gates (z, r, h), params
    ``(W, U, b)``: ``hh = tanh(x W_h + b_h + (r h) U_h)``, ``h' = z h + (1 - z) hh``."""
    units = int(units)

    def cell(z_x, state, U, b_h, drop=None):
        (h,) = state
        H = units
        hd = h if drop is None else h * drop  # recurrent dropout: the products only
        zr = z_x[:, :2 * H] + lnp.matmul(hd, U[:, :2 * H])
        z, r = nn.sigmoid(zr[:, :H]), nn.sigmoid(zr[:, H:])
        hh = lnp.tanh(z_x[:, 2 * H:] + lnp.matmul(r * hd, U[:, 2 * H:]))
        return (z * h + (1 - z) * hh,)

    config = dict(units=units, return_sequences=return_sequences, reverse=reverse,
                  W_init=W_init, U_init=U_init, b_init=b_init)
    return gated_recurrent("GRU", 3, cell, 1, units, return_sequences, reverse, W_init, U_init,
                           b_init, False, config, _gru_reset_before)


class Bidirectional(Layer):
    """Keras's Bidirectional: the wrapped layer forwards and a copy of it reading the
    sequence backwards (its own weights; listed after the forward layer's), merged by
    ``merge_mode`` ('concat', 'sum', 'mul', 'ave', or None: both outputs, as a list).
    With ``return_state`` the outputs are ``[merged, *forward states, *backward
    states]``; ``initial_state`` takes the forward states then the backward ones;
    ``dropout`` / ``recurrent_dropout`` draw separate masks per direction.  A mask
    reaches both directions, and masked steps output zeros (Keras's Bidirectional forces
    ``zero_output_for_mask``)."""
    takes_initial_state = True
    uses_mask = supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, _Recurrent):
            raise TypeError("Bidirectional wraps a SimpleRNN, LSTM or GRU layer")
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError(f"Bidirectional {self.name!r}: merge_mode must be 'concat', "
                             f"'sum', 'mul', 'ave' or None; got {merge_mode!r}")
        if weights is not None:
            raise NotImplementedError("Bidirectional(weights=...): set them with "
                                      "set_weights after building the model")
        if backward_layer is None:
            backward_layer = copy.copy(layer)
            backward_layer.go_backwards = not layer.go_backwards
            backward_layer.name = f"backward_{layer.name}"
            backward_layer._stax = backward_layer._core = None
        elif type(backward_layer) is not type(layer) or \
                backward_layer.units != layer.units or \
                backward_layer.return_sequences != layer.return_sequences or \
                backward_layer.return_state != layer.return_state or \
                backward_layer.go_backwards == layer.go_backwards:
            raise ValueError(f"Bidirectional {self.name!r}: backward_layer must be a "
                             f"{type(layer).__name__} with the same units, "
                             f"return_sequences and return_state, reading the other way "
                             f"(go_backwards={not layer.go_backwards})")
        self.layer, self.backward_layer, self.merge_mode = layer, backward_layer, merge_mode
        self.n_states = 2 * layer.n_states

    def compute_mask(self, inputs, mask):
        return mask if self.layer.return_sequences else None

    def check_initial_state(self, input_shape, state_shapes):
        want = [(-1, self.layer.units)] * self.n_states
        if len(state_shapes) != self.n_states or \
                any(tuple(s)[1:] != w[1:] for s, w in zip(state_shapes, want)):
            raise KerasLayerError(
                f"Bidirectional {self.name!r}: initial_state must be {self.n_states} "
                f"tensor(s) of shape (None, {self.layer.units}), the forward layer's states "
                f"then the backward layer's; got "
                f"{', '.join(_shape(s) for s in state_shapes)}")

    def _merge(self, yf, yb):
        mode = self.merge_mode
        if mode == "concat":
            return lnp.concatenate([yf, yb], axis=-1)
        if mode == "sum":
            return yf + yb
        if mode == "mul":
            return yf * yb
        return (yf + yb) * 0.5

    def build_stax(self):
        f_init, f_apply = self.layer.to_stax()
        b_init, b_apply = self.backward_layer.to_stax()
        bi, n = self, self.layer.n_states
        seq, with_state = self.layer.return_sequences, self.layer.return_state

        def init_fun(rng, input_shape):
            k1, k2 = random.split(rng)
            of, pf = f_init(k1, input_shape)
            ob, pb = b_init(k2, input_shape)
            sf, sb = (of[1:], ob[1:]) if with_state else ([], [])
            of, ob = (of[0], ob[0]) if with_state else (of, ob)
            if bi.merge_mode is None:
                return [tuple(of), tuple(ob)] + list(sf) + list(sb), (pf, pb)
            out = tuple(of[:-1]) + (of[-1] + ob[-1],) if bi.merge_mode == "concat" else of
            return ([tuple(out)] + list(sf) + list(sb) if with_state else tuple(out)), \
                (pf, pb)

        def apply_fun(params, inputs, *, rng=None, train=False, mask=None,
                      initial_state=None, **kwargs):
            pf, pb = params
            rf, rb = random.split(rng) if rng is not None else (None, None)
            init_f = init_b = None
            if initial_state is not None:
                init_f, init_b = list(initial_state[:n]), list(initial_state[n:])
            yf = f_apply(pf, inputs, rng=rf, train=train, mask=mask, initial_state=init_f,
                         zero_masked=seq)
            yb = b_apply(pb, inputs, rng=rb, train=train, mask=mask, initial_state=init_b,
                         zero_masked=seq)
            sf, sb = (yf[1:], yb[1:]) if with_state else ([], [])
            yf, yb = (yf[0], yb[0]) if with_state else (yf, yb)
            if seq:  # Keras gives the backward outputs in input order
                yb = lnp.flip(yb, axis=1)
            if bi.merge_mode is None:
                return [yf, yb] + list(sf) + list(sb)
            y = bi._merge(yf, yb)
            return [y] + list(sf) + list(sb) if with_state else y

        return stax.Layer(init_fun, apply_fun, "Bidirectional")

    def penalties(self, params):
        forward, backward = params
        return self.layer.penalties(forward) + self.layer.penalties(backward)

    def keras_weight_count(self, n):
        return 2 * self.layer.keras_weight_count(n // 2)

    def to_keras_weights(self, arrays):
        half = len(arrays) // 2
        return (self.layer.to_keras_weights(arrays[:half]) +
                self.layer.to_keras_weights(arrays[half:]))

    def from_keras_weights(self, weights, arrays, offset):
        half, k = len(arrays) // 2, len(weights) // 2
        return (self.layer.from_keras_weights(weights[:k], arrays[:half], offset) +
                self.layer.from_keras_weights(weights[k:], arrays[half:], offset + k))

    @property
    def seed(self):  # the wrapped layer's own dropout stream, if it has one
        return self.layer.seed

    def get_config(self):
        return {**super().get_config(), "layer": {"class_name": type(self.layer).__name__,
                                                  "config": self.layer.get_config()},
                "merge_mode": self.merge_mode}
