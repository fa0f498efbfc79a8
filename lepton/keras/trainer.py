"""The training machinery Keras models share: compile / fit / evaluate / predict, the
single-batch methods, weights in Keras's layout, save / load_model.

The whole train step -- forward, loss, gradient, optimizer update, metrics -- is one
``lepton.jit`` function; per batch, Python only takes the next batch (arrays, a generator
or a ``PyDataset``: ``lepton.keras.data``) and updates the progress bar.  Kernels are
shape-generic, so the last, smaller batch retraces but compiles nothing.  Parameters,
layer state (BatchNorm statistics) and optimizer state are pytrees held by the model
(one entry per layer in ``_layers``); ``save`` / ``load_model`` write them with
``lepton.save`` (no pickle).

A model class (``Sequential``, the functional ``Model``) supplies the structure:
``_layers``, ``params`` / ``state``, ``build``, ``_forward``, ``_prepare`` (checks and
casts ``x`` / ``y``), ``compile`` with ``_weighted_sums`` and ``_absorbed_activation``,
``_compile_config`` / ``_compile_from_config``, ``get_config`` and a ``_FORMAT`` tag with
its builder in ``_BUILDERS`` (what ``load_model`` calls).
"""
from __future__ import annotations

import contextlib
import itertools
import json
import time
import warnings

import numpy as np

from .. import numpy as lnp
from .. import random
from ..optimizers import OptimizerState
from ..serialization import load as _load, save as _save
from ..transforms.autodiff import value_and_grad
from ..transforms.jit import jit, wait_for_compilation, waiting
from ..tree import flatten, leaves, unflatten
from ..tree import map as tree_map
from . import callbacks as cbks
from . import data as kdata
from . import layers as klayers
from . import losses as klosses
from . import optimizers as kopt
from .errors import KerasInputError
from .progress import ProgressBar
from .seeding import draw_seed

__all__ = ["Trainer", "load_model"]



def _resolve_verbose(verbose):
    if verbose == "auto":
        return 1
    return int(verbose)


def _as_numpy(a, what):
    if a is None:
        return None
    try:
        return np.asarray(a)
    except Exception as e:  # noqa: BLE001
        raise KerasInputError(f"{what} must be an array; got {type(a).__name__}: {e}") from None


class Trainer:
    """Keras's training API over a model's layers (see the module docstring)."""
    _FORMAT = None

    def __init__(self, name):
        self.name = name
        self._layers: list = []
        self._input_shape = None
        self.built = False
        self.stop_training = False
        self.optimizer = self.loss = None
        self.metrics: list = []
        self.history = None
        self._compiled = False
        self._frozen = ()  # the layers frozen (trainable=False) when the steps were built

    @property
    def layers(self):
        return list(self._layers)

    @property
    def trainable(self):
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value):
        """``model.trainable = False`` freezes every layer of the model (Keras), also where
        the layers sit in another model (a GAN's discriminator inside the combined
        model); read at each fit."""
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = bool(value)

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by position ``index`` in ``layers`` (Keras's
        ``get_layer``)."""
        layers = self.layers
        if (name is None) == (index is None):
            raise ValueError("get_layer: give exactly one of name= or index=")
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"get_layer: index {index} is out of range; the model has "
                                 f"{len(layers)} layers")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in layers]}")


    @staticmethod
    def _check_compile_args(loss, kwargs):
        """``compile``'s checks for every model: known keyword arguments, and a loss."""
        unsupported = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution"}
        if unsupported:
            raise TypeError(f"compile() got unexpected keyword arguments {sorted(unsupported)}")
        if loss is None:
            raise ValueError("compile needs loss=, e.g. loss='categorical_crossentropy'; "
                             f"valid names: {', '.join(sorted(klosses.LOSSES))}")

    def _compiled_afresh(self, kwargs):
        """``compile``'s last step: the train and eval steps and the optimizer state are
        built again at the next fit."""
        self._run_eagerly = bool(kwargs.get("run_eagerly", False))
        self._compiled = True
        self._opt_state = None
        self._train_step = self._eval_step = None

    def _forget_steps(self):
        """The architecture changed: the steps and optimizer state start again."""
        self._opt_state = None
        self._train_step = self._eval_step = self._predict_step = None
        self._step_count = 0

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in self.metrics]

    # The weights live on the layers (``layer._params`` / ``layer._state``), as Keras's
    # variables do: models that share layers (a sub-model cut from a model, a model
    # built from another's layers) share their weights, and training one moves the others.
    @property
    def params(self):
        """Each layer's stax parameters, in ``_layers`` order."""
        self._weights_ready("params")
        return [layer._params for layer in self._layers]

    @params.setter
    def params(self, value):
        value = list(value)
        for layer, p in zip(self._layers, value):
            layer._params = p
        self._written = leaves(value)

    @property
    def state(self):
        """Each layer's stax state (BatchNormalization's moving statistics)."""
        self._weights_ready("state")
        return [layer._state for layer in self._layers]

    @state.setter
    def state(self, value):
        for layer, s in zip(self._layers, value):
            layer._state = s

    def _weights_ready(self, what):
        if not self.__dict__.get("built"):
            if self._input_shape is None or not self._layers:
                raise AttributeError(f"{type(self).__name__} {self.name!r} has no {what} "
                                     f"yet: it is not built (call fit(), build() or give "
                                     f"the first layer input_shape=)")
            self.build()

    def _adopt_shared_weights(self):
        """Another model sharing layers may have moved their weights since this one last
        wrote them: training goes on from the layers' current weights (the optimizer
        keeps its slots)."""
        if self._opt_state is None:
            return
        current, written = leaves(self.params), self.__dict__.get("_written") or []
        if len(current) != len(written) or any(a is not b for a, b in zip(current, written)):
            self._replace_weights(self.params, self.state)

    def _require_built(self, what):
        if not self.built and self._input_shape is not None and self._layers:
            self.build()
        if not self.built:
            raise ValueError(f"{what}: the model is not built yet; call fit(), build() or "
                             f"give the first layer input_shape=")

    @property
    def _has_weighted_metrics(self):
        return any(m.weighted for m in self.metrics)

    def _n_sums(self):
        return 1 + len(self.metrics) + int(self._has_weighted_metrics)

    def _means(self, totals, n):
        """Epoch values from summed batch values: the loss and plain metrics per example,
        weighted metrics per unit of weight (0 when all weights are 0, as Keras)."""
        n = max(n, 1)
        out = [totals[0] / n]
        for m, t in zip(self.metrics, totals[1:]):
            if m.weighted:
                out.append(t / totals[-1] if totals[-1] else 0.0)
            else:
                out.append(t / n)
        return out

    def _penalty(self, params):
        """The sum of the trainable layers' weight regularizers (None without any)."""
        total = None
        for layer, p in zip(self._layers, params):
            if not getattr(layer, "trainable", True):
                continue  # Keras regularises trainable weights only
            for reg, weight in layer.penalties(p):
                value = reg(weight)
                total = value if total is None else total + value
        return total

    def _frozen_layers(self):
        """Which layers have ``trainable = False`` (read at each fit, as Keras 3 does)."""
        return tuple(not getattr(layer, "trainable", True) for layer in self._layers)

    def _keep_frozen(self, frozen):
        """``(grads, new_opt, old_opt) -> new_opt`` that leaves the frozen layers' weights
        and optimizer slots as they were (no update, no weight decay, no momentum)."""
        if not any(frozen):
            return lambda new_opt, old_opt: new_opt
        leaf_frozen = [f for f, p in zip(frozen, self.params) for _ in leaves(p)]

        def keep(new_opt, old_opt):
            if isinstance(new_opt, OptimizerState) and \
                    len(new_opt.packed_state) == len(leaf_frozen):
                packed = tuple(o if f else n for n, o, f in zip(
                    new_opt.packed_state, old_opt.packed_state, leaf_frozen))
                return new_opt._replace(packed_state=packed)
            return new_opt  # a custom optimizer's state: the zero gradients must do
        return keep

    def _build_steps(self):
        # A constant learning rate is an argument of the step (callbacks may change it);
        # a schedule is part of the optimizer's update.
        dynamic_lr = not callable(self.optimizer.learning_rate)
        opt_init, opt_update, get_params = self.optimizer.triple(lr_input=dynamic_lr)
        self._get_params, self._dynamic_lr = get_params, dynamic_lr
        absorbed = self._absorbed_activation
        self._frozen = frozen = self._frozen_layers()
        keep_frozen = self._keep_frozen(frozen)

        def loss_fn(params, state, x, y, w, rng, inv_n, step):
            out, new_state, masks = self._forward(params, state, x, train=True, rng=rng,
                                                  logits=absorbed, step=step, with_masks=True)
            sums = self._weighted_sums(y, out, w, absorbed, masks)
            # 1/batch arrives as an argument: as a literal it would be baked into a kernel,
            # and every new batch size (the last, partial batch) would compile one.
            loss = sums[0] * inv_n
            penalty = self._penalty(params)
            if penalty is not None:  # Keras reports the regularised loss
                loss = loss + penalty
                sums = [sums[0] + penalty / inv_n] + list(sums[1:])
            return loss, (new_state, sums)

        def train_step(i, opt_state, state, x, y, w, rng, inv_n, lr):
            params = get_params(opt_state)
            (_, (new_state, sums)), grads = value_and_grad(loss_fn, has_aux=True)(
                params, state, x, y, w, random.fold_in(rng, i), inv_n, i)
            grads = [tree_map(lnp.zeros_like, g) if f else g
                     for g, f in zip(grads, frozen)]
            new_opt = opt_update(i, grads, opt_state, lr) if dynamic_lr else \
                opt_update(i, grads, opt_state)
            return keep_frozen(new_opt, opt_state), new_state, sums

        def eval_step(params, state, x, y, w):
            out, _, masks = self._forward(params, state, x, train=False, rng=None,
                                          logits=absorbed, with_masks=True)
            sums = self._weighted_sums(y, out, w, absorbed, masks)
            penalty = self._penalty(params)
            if penalty is not None:  # per example, as in training (n from the data)
                sums = [sums[0] + penalty * lnp.sum(lnp.ones_like(w))] + list(sums[1:])
            return sums

        def predict_step(params, state, x):
            return self._forward(params, state, x, train=False, rng=None, logits=False)[0]

        wrap = (lambda f: f) if self._run_eagerly else jit
        self._train_step, self._eval_step = wrap(train_step), wrap(eval_step)
        self._predict_step = wrap(predict_step)
        if self._opt_state is None:
            self._opt_state = opt_init(self.params)

    def _check_targets(self, y, who, out=None, loss=None):
        out = self._shapes[-1] if out is None else out
        loss = self.loss if loss is None else loss
        if loss.target == "onehot":
            if y.dtype.kind in "iub" and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
                raise KerasInputError(
                    f"{who}: {loss.name} expects one-hot targets of shape (n, {out[-1]}), "
                    f"but y holds integer class labels of shape {y.shape}. Either convert "
                    f"them with y = lepton.keras.utils.to_categorical(y, {out[-1]}), or "
                    f"compile with loss='sparse_categorical_crossentropy'.")
            if not _fits(y.shape[1:], out[1:]):
                raise KerasInputError(
                    f"{who}: targets of shape {y.shape} do not match the model's output "
                    f"shape {_keras_shape(out)}.{_flatten_hint(self)}")
            return y.astype(np.float32, copy=False)
        if loss.target == "index":
            if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and
                                                 np.all(y == np.round(y))):
                raise KerasInputError(f"{who}: {loss.name} expects integer class labels; "
                                      f"y has dtype {y.dtype}")
            if y.ndim > 1 and y.shape[-1] == out[-1] and y.shape[-1] > 1:
                raise KerasInputError(
                    f"{who}: {loss.name} expects integer class labels of shape (n,), but y "
                    f"has shape {y.shape} (one-hot?). Use loss='categorical_crossentropy' "
                    f"or y.argmax(-1).")
            want = tuple(out[1:-1])
            got = tuple(y.shape[1:])
            if not (_fits(got, want) or _fits(got, want + (1,))):
                raise KerasInputError(
                    f"{who}: labels of shape {y.shape} do not fit the model's output "
                    f"{_keras_shape(out)}: expected (n{''.join(', ' + str(d) for d in want)})."
                    f"{_flatten_hint(self)}")
            if y.size and (y.min() < 0 or y.max() >= out[-1]):
                raise KerasInputError(f"{who}: labels must be in [0, {out[-1]}) for the "
                                      f"model's {out[-1]} outputs; found [{y.min()}, "
                                      f"{y.max()}]")
            return y.astype(np.int32, copy=False)
        if not _fits(y.shape[1:], out[1:]):
            if y.ndim == 1 and tuple(out[1:]) == (1,):
                return y.astype(np.float32)[:, None]
            raise KerasInputError(f"{who}: targets of shape {y.shape} do not match the "
                                  f"model's output shape {_keras_shape(out)}."
                                  f"{_flatten_hint(self)}")
        return y.astype(np.float32, copy=False)

    def _sample_weights(self, y, n, sample_weight, class_weight, who):
        """Per-example loss weights, float32 ``(n,)``: ``sample_weight``, or
        ``class_weight[label]`` (Keras: labels from ``argmax`` of one-hot targets, classes
        missing from the dict weigh 1), or ones."""
        if sample_weight is not None and class_weight is not None:
            raise ValueError(f"{who}: give sample_weight or class_weight, not both (fold the "
                             f"class weights into sample_weight)")
        if sample_weight is not None:
            w = _as_numpy(sample_weight, f"{who}: sample_weight")
            if w.ndim == 2 and w.shape[1] == 1:
                w = w[:, 0]
            if w.shape != (n,):
                raise KerasInputError(f"{who}: sample_weight must hold one weight per "
                                      f"example, shape ({n},); got shape {w.shape}")
            if w.dtype.kind not in "biuf":
                raise KerasInputError(f"{who}: sample_weight must be numbers; got {w.dtype}")
            return w.astype(np.float32)
        if class_weight is not None:
            if not isinstance(class_weight, dict):
                raise TypeError(f"{who}: class_weight must be a dict {{class index: "
                                f"weight}}; got {type(class_weight).__name__}")
            labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else \
                np.round(y.reshape(len(y), -1)[:, 0]).astype(np.int64)
            if labels.ndim != 1:
                raise KerasInputError(f"{who}: class_weight needs one class per example; "
                                      f"targets of shape {y.shape} hold several (use "
                                      f"sample_weight)")
            table = np.ones(max([int(labels.max(initial=0))] + [int(k) for k in class_weight])
                            + 1, np.float32)
            for k, v in class_weight.items():
                table[int(k)] = float(v)
            return table[labels]
        return np.ones(n, np.float32)

    def _lr_argument(self):
        if not self._dynamic_lr:
            return np.float32(0)
        lr = self.optimizer.learning_rate
        if callable(lr):
            raise TypeError("the optimizer's learning_rate changed from a number to a "
                            "schedule during training; recompile the model to use a schedule")
        return np.float32(lr)

    def _require_compiled(self, who):
        if not self._compiled:
            raise RuntimeError(f"{who}: compile the model first, e.g. model.compile("
                               f"optimizer='adam', loss='categorical_crossentropy', "
                               f"metrics=['accuracy'])")

    # ------------------------------------------------------------------ data sources
    def _stream_source(self, data, who, *, need_y, shuffle=False, class_weight=None):
        """A generator / PyDataset source; its first batch is checked now (structure,
        shapes, targets) and builds the model, so mistakes surface at the call."""
        if kdata.is_pydataset(data):
            src = kdata.PyDatasetSource(data, who, shuffle=shuffle)
        else:
            src = kdata.GeneratorSource(data, who)
        src.class_weight = class_weight
        self._stream_batch(src, src.first, 0, who, need_y)
        return src

    def _stream_batch(self, src, batch, index, who, need_y):
        """One batch from a generator / PyDataset, checked and cast as arrays are:
        ``(x, y, w)``, or ``x`` alone without ``need_y``."""
        x, y, w = kdata.unpack_batch(batch, origin=src.origin, index=index, who=who,
                                     need_y=need_y)
        where = f"{who} (batch {index} of the {src.origin})"
        x, y = self._prepare(x, y if need_y else None, where)
        if len(x) == 0:
            raise KerasInputError(f"{where}: the batch holds no samples (x has shape "
                                  f"{x.shape}); every batch needs at least one example")
        if not need_y:
            return x
        return x, y, self._sample_weights(y, len(x), w, src.class_weight, where)

    @staticmethod
    def _refuse_with_stream(x, who, **given):
        """Keras: with a generator / PyDataset the targets and weights come from its
        batches, not from fit's arguments."""
        origin = "PyDataset" if kdata.is_pydataset(x) else "generator"
        for name, value in given.items():
            if value is not None:
                raise ValueError(f"{who}: x is a {origin}, so `{name}` must not be passed: "
                                 f"the {origin} gives it with each batch, as (x, y) or "
                                 f"(x, y, sample_weight).")

    def _validation_source(self, data, batch_size, validation_batch_size, steps):
        if kdata.is_generator(data) or kdata.is_pydataset(data):
            return self._stream_source(data, "fit (validation)", need_y=True)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val), (x_val, y_val, "
                             "sample_weight_val), a generator of such batches or a "
                             f"PyDataset; got {kdata.describe(data)}")
        vx, vy = self._prepare(data[0], data[1], "fit (validation)")
        vw = self._sample_weights(vy, len(vx), data[2] if len(data) == 3 else None, None,
                                  "fit (validation)")
        bs = validation_batch_size or batch_size
        return kdata.ArraySource((vx, vy, vw), kdata.default_batch_size(len(vx), bs, steps))

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, seed=None):
        """Keras's ``fit``.  ``sample_weight`` (one weight per example) or ``class_weight``
        (``{class: weight}``) weight each example's loss, as Keras: the batch loss is
        ``sum(w * loss) / batch``; ``metrics`` stay unweighted.  ``validation_split`` holds
        out the last ``n - floor(n * (1 - split))`` examples before shuffling, and is
        evaluated every ``validation_freq`` epochs (an int, or a list of 1-based epochs).

        ``x`` may also be a generator (or iterator) of ``(x, y)`` / ``(x, y,
        sample_weight)`` batches or a ``utils.PyDataset``; ``steps_per_epoch`` then bounds
        an epoch, and ``validation_data`` may be one too, read ``validation_steps``
        batches at a time.  Keras 3's rules for steps over finite data (an epoch goes on
        where the last stopped; data that runs out ends the epoch with a warning) are in
        ``lepton.keras.data``.  ``shuffle`` shuffles arrays and a PyDataset's batch
        order, and leaves a generator as it is."""
        self._require_compiled("fit")
        steps_per_epoch = kdata.check_steps(steps_per_epoch, "fit: steps_per_epoch")
        validation_steps = kdata.check_steps(validation_steps, "fit: validation_steps")
        epochs, initial_epoch = int(epochs), int(initial_epoch)
        if initial_epoch < 0:
            raise ValueError(f"fit: initial_epoch must be >= 0; got {initial_epoch}")
        verbose = _resolve_verbose(verbose)
        val = None
        if kdata.is_generator(x) or kdata.is_pydataset(x):
            self._refuse_with_stream(x, "fit", y=y, sample_weight=sample_weight)
            if validation_split and validation_data is None:
                raise ValueError(
                    f"fit: validation_split is only supported when x is an array (it holds "
                    f"out the last samples); x is a "
                    f"{'PyDataset' if kdata.is_pydataset(x) else 'generator'}. Pass "
                    f"validation_data= instead (arrays, a generator or a PyDataset).")
            source = self._stream_source(x, "fit", need_y=True, shuffle=shuffle,
                                         class_weight=class_weight)
        else:
            if y is None:
                raise KerasInputError("fit needs targets: fit(x, y, ...)")
            x, y = self._prepare(x, y, "fit")
            w = self._sample_weights(y, len(x), sample_weight, class_weight, "fit")
            if validation_data is None and validation_split:
                if not 0 < validation_split < 1:
                    raise ValueError(f"validation_split must be in (0, 1); got "
                                     f"{validation_split}")
                n_val = len(x) - int(np.floor(len(x) * (1.0 - validation_split)))
                if n_val == 0:
                    raise ValueError(f"validation_split={validation_split} leaves no "
                                     f"validation sample out of {len(x)}")
                x, y, vx, vy = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
                w, vw = w[:-n_val], w[-n_val:]
                vbs = validation_batch_size or batch_size
                val = kdata.ArraySource((vx, vy, vw), kdata.default_batch_size(
                    len(vx), vbs, validation_steps))
            if len(x) == 0:
                raise KerasInputError("fit: x holds no samples")
            source = kdata.ArraySource((x, y, w), kdata.default_batch_size(
                len(x), batch_size, steps_per_epoch), shuffle=shuffle)
        if validation_data is not None:
            val = self._validation_source(validation_data, batch_size, validation_batch_size,
                                          validation_steps)
        if isinstance(validation_freq, int) and not isinstance(validation_freq, bool):
            if validation_freq < 1:
                raise ValueError(f"validation_freq must be >= 1; got {validation_freq}")
            validate_at = lambda e: (e + 1) % validation_freq == 0  # noqa: E731
        elif isinstance(validation_freq, (list, tuple, set, range)):
            epochs_listed = {int(e) for e in validation_freq}
            validate_at = lambda e: (e + 1) in epochs_listed  # noqa: E731
        else:
            raise TypeError(f"validation_freq must be an int or a list of epochs; got "
                            f"{type(validation_freq).__name__}")
        if self._train_step is None or self._frozen != self._frozen_layers():
            self._build_steps()
        self._adopt_shared_weights()
        train = kdata.EpochIterator(source, steps_per_epoch, training=True, who="fit")
        val_iter = None if val is None else kdata.EpochIterator(
            val, validation_steps, training=False, who="fit (validation)")
        history = cbks.History()
        # History last, as in Keras: it records what the other callbacks add to the logs
        # (the learning rate of ReduceLROnPlateau and LearningRateScheduler).
        cb = cbks.CallbackList([*(callbacks or []), history], self,
                               {"epochs": epochs, "steps": train.num_batches,
                                "verbose": verbose})
        self.stop_training = False
        rng = np.random.default_rng(draw_seed() if seed is None else seed)
        key = random.PRNGKey(int(rng.integers(2 ** 31)))
        source.rng = rng
        state = self.state
        opt_state = self._opt_state
        step = getattr(self, "_step_count", 0)
        compiled = False
        cb.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            batches = train.epoch()
            if source.one_shot:  # a generator that has ended (fit warned) has no epoch left
                first = next(batches, None)
                if first is None:
                    train.end_epoch()
                    break
                batches = itertools.chain([first], batches)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            cb.on_epoch_begin(epoch)
            bar = ProgressBar(train.num_batches, verbose=verbose)
            totals = np.zeros(self._n_sums())
            seen = 0
            for b, batch in enumerate(batches):
                xb, yb, wb = batch if source.prepared else \
                    self._stream_batch(source, batch, b, "fit", True)
                cb.on_train_batch_begin(b)
                t0 = time.perf_counter()
                with waiting() if not compiled else contextlib.nullcontext():
                    opt_state, state, sums = self._train_step(
                        step, opt_state, state, xb, yb, wb, key, np.float32(1 / len(xb)),
                        self._lr_argument())
                    if not compiled:
                        wait_for_compilation(upgrades=False)  # the rest upgrades meanwhile
                if not compiled:
                    totals += [float(s) for s in sums]
                    dt = time.perf_counter() - t0
                    bar.exclude(dt)
                    compiled = True
                    if verbose:
                        print(f"compiling the train step ... {dt:.1f} s", flush=True)
                else:
                    totals += [float(s) for s in sums]
                step += 1
                seen += len(xb)
                logs = self._logs(self._means(totals, seen))
                bar.update(b + 1, logs, len(xb))
                cb.on_train_batch_end(b, logs)
                if self.stop_training:  # a batch callback stopped training (Keras)
                    break
            train.end_epoch()
            self._opt_state, self.state, self._step_count = opt_state, state, step
            self.params = self._get_params(opt_state)
            logs = self._logs(self._means(totals, seen))
            if val_iter is not None and validate_at(epoch):
                val_iter.restart()
                values, count = self._evaluate_iter(val_iter, "fit (validation)")
                if count:
                    logs.update({f"val_{k}": v for k, v in self._logs(values).items()})
                else:
                    warnings.warn(f"fit: the validation {val.origin} has no more batches, so "
                                  f"epoch {epoch + 1} has no validation metrics. Give "
                                  f"validation_steps and a generator that does not end, or "
                                  f"validation arrays or a PyDataset (read afresh each "
                                  f"epoch).", UserWarning, stacklevel=2)
            bar.finish(logs)
            cb.on_epoch_end(epoch, logs)
            # a callback may have set new weights (model.set_weights): go on from them
            opt_state, state = self._opt_state, self.state
            if self.stop_training:
                break
        cb.on_train_end()
        self.history = history
        return history

    def _logs(self, values):
        names = ["loss"] + [m.name for m in self.metrics]
        return {n: float(v) for n, v in zip(names, values)}

    def _evaluate_iter(self, it, who):
        """``(epoch values, batches)`` over one epoch of ``it``."""
        if self._eval_step is None or self._frozen != self._frozen_layers():
            self._build_steps()
        totals = np.zeros(self._n_sums())
        n = count = 0
        src = it.source
        try:
            for b, batch in enumerate(it.epoch()):
                xb, yb, wb = batch if src.prepared else \
                    self._stream_batch(src, batch, b, who, True)
                sums = self._eval_step(self.params, self.state, xb, yb, wb)
                totals += [float(s) for s in sums]
                n += len(xb)
                count = b + 1
        finally:
            it.end_epoch()
        return self._means(totals, n), count

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, return_dict=False):
        """``[loss, *metrics]`` (the loss alone without metrics; a dict with
        ``return_dict``); ``sample_weight`` weights the loss as in ``fit``.  ``x`` may be a
        generator or a ``PyDataset`` of ``(x, y[, sample_weight])`` batches; ``steps``
        evaluates that many batches (arrays: the first ``steps``)."""
        self._require_compiled("evaluate")
        steps = kdata.check_steps(steps, "evaluate: steps")
        if kdata.is_generator(x) or kdata.is_pydataset(x):
            self._refuse_with_stream(x, "evaluate", y=y, sample_weight=sample_weight)
            source = self._stream_source(x, "evaluate", need_y=True)
        else:
            if y is None:
                raise KerasInputError("evaluate needs targets: evaluate(x, y)")
            x, y = self._prepare(x, y, "evaluate")
            w = self._sample_weights(y, len(x), sample_weight, None, "evaluate")
            source = kdata.ArraySource((x, y, w), kdata.default_batch_size(len(x), batch_size,
                                                                            steps))
        it = kdata.EpochIterator(source, steps, training=False, who="evaluate")
        values, count = self._evaluate_iter(it, "evaluate")
        logs = self._logs(values)
        if _resolve_verbose(verbose):
            print(f"{count} steps - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()),
                  flush=True)
        if return_dict:
            return logs
        return list(logs.values()) if self.metrics else logs["loss"]

    def predict(self, x, batch_size=None, verbose="auto", steps=None):
        """The model's outputs, batch by batch.  ``x`` may be a generator or a
        ``PyDataset`` (batches ``(x,)``, ``(x, y)`` or ``(x, y, w)``: the targets are not
        used); ``steps`` predicts that many batches."""
        steps = kdata.check_steps(steps, "predict: steps")
        if kdata.is_generator(x) or kdata.is_pydataset(x):
            source = self._stream_source(x, "predict", need_y=False)
        else:
            x, _ = self._prepare(x, None, "predict")
            source = kdata.ArraySource((x,), kdata.default_batch_size(len(x), batch_size,
                                                                       steps))
        if self._predict_step is None:
            self._predict_step = jit(lambda p, s, xb: self._forward(
                p, s, xb, train=False, rng=None, logits=False)[0])
        it = kdata.EpochIterator(source, steps, training=False, who="predict")
        outs = []
        try:
            for b, batch in enumerate(it.epoch()):
                xb = batch[0] if source.prepared else \
                    self._stream_batch(source, batch, b, "predict", False)
                outs.append(tree_map(np.asarray, self._predict_step(self.params, self.state,
                                                                     xb)))
        finally:
            it.end_epoch()
        if not outs:
            return self._empty_prediction()
        return tree_map(lambda *parts: np.concatenate(parts), *outs)

    # ------------------------------------------------------------------ single batches
    def _empty_prediction(self):
        """``predict``'s result for no examples (an unknown axis has size 0)."""
        return np.zeros((0,) + tuple(max(d, 0) for d in self._shapes[-1][1:]), np.float32)

    def _batch_logs(self, sums, n, return_dict):
        logs = self._logs(self._means([float(v) for v in sums], n))
        if return_dict:
            return logs
        return list(logs.values()) if self.metrics else logs["loss"]

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on the batch ``(x, y)`` (the same jitted step as ``fit``);
        returns that batch's loss, or ``[loss, *metrics]`` with metrics (a dict with
        ``return_dict``), as Keras 3 (metrics restart at every call)."""
        self._require_compiled("train_on_batch")
        if y is None:
            raise KerasInputError("train_on_batch needs targets: train_on_batch(x, y)")
        x, y = self._prepare(x, y, "train_on_batch")
        if len(x) == 0:
            raise KerasInputError("train_on_batch: x holds no samples")
        w = self._sample_weights(y, len(x), sample_weight, class_weight, "train_on_batch")
        if self._train_step is None or self._frozen != self._frozen_layers():
            self._build_steps()
        self._adopt_shared_weights()
        step = getattr(self, "_step_count", 0)
        key = random.PRNGKey(draw_seed())
        opt_state, state, sums = self._train_step(
            step, self._opt_state, self.state, x, y, w, key, np.float32(1 / len(x)),
            self._lr_argument())
        self._opt_state, self.state, self._step_count = opt_state, state, step + 1
        self.params = self._get_params(opt_state)
        return self._batch_logs(sums, len(x), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without training; as ``train_on_batch``."""
        self._require_compiled("test_on_batch")
        if y is None:
            raise KerasInputError("test_on_batch needs targets: test_on_batch(x, y)")
        x, y = self._prepare(x, y, "test_on_batch")
        if len(x) == 0:
            raise KerasInputError("test_on_batch: x holds no samples")
        w = self._sample_weights(y, len(x), sample_weight, None, "test_on_batch")
        if self._eval_step is None or self._frozen != self._frozen_layers():
            self._build_steps()
        return self._batch_logs(self._eval_step(self.params, self.state, x, y, w), len(x),
                                return_dict)

    def predict_on_batch(self, x):
        """The model's output for one batch (``predict`` with the whole of ``x`` as one
        batch)."""
        n = len(self._prepare(x, None, "predict_on_batch")[0])
        return self.predict(x, batch_size=max(n, 1), verbose=0)

    # ------------------------------------------------------------------ summary
    def count_params(self):
        """All the model's weights, as Keras counts them: the trainable ones and the
        non-trainable state (BatchNormalization's moving mean and variance)."""
        self._require_built("count_params")
        return sum(int(np.size(a)) for a in leaves(self.params)) + \
            sum(int(np.size(a)) for a in leaves(self.state))

    # ------------------------------------------------------------------ weights
    def get_weights(self):
        """All weights as a flat list of NumPy arrays in Keras's order and shapes: layer by
        layer, each layer's trainable weights then its state (BatchNorm's moving mean and
        variance); a convolution's bias is ``(filters,)``, a GRU's weights are in Keras's
        gate order with a ``(2, 3 * units)`` bias.  Keras's ``get_weights()`` of the same
        architecture lines up with it, array for array."""
        self._require_built("get_weights")
        return self._keras_weights(self.params, self.state)

    def _keras_weights(self, params, state):
        out = []
        for layer, p, s in zip(self._layers, params, state):
            out += layer.to_keras_weights(leaves(p) + leaves(s))
        return out

    def set_weights(self, weights):
        """Set the weights from a list in ``get_weights``'s order (Keras's); an array may
        also have the model's own shape for it (a conv bias as ``(1, 1, 1, filters)``)."""
        self._require_built("set_weights")
        weights = list(weights)
        counts = [layer.keras_weight_count(len(leaves(p)) + len(leaves(s)))
                  for layer, p, s in zip(self._layers, self.params, self.state)]
        if len(weights) != sum(counts):
            raise ValueError(f"set_weights: expected {sum(counts)} arrays, got {len(weights)}")
        params, state, k = [], [], 0
        for layer, p, st, n in zip(self._layers, self.params, self.state, counts):
            p, st = self._layer_from_keras(layer, p, st, weights[k:k + n], k)
            k += n
            params.append(p)
            state.append(st)
        self._replace_weights(params, state)

    @staticmethod
    def _layer_from_keras(layer, p, st, weights, offset):
        p_leaves, p_def = flatten(p)
        s_leaves, s_def = flatten(st)
        new = layer.from_keras_weights(weights, p_leaves + s_leaves, offset)
        return unflatten(p_def, new[:len(p_leaves)]), unflatten(s_def, new[len(p_leaves):])

    def _layer_index(self, layer, who):
        self._require_built(who)
        for i, own in enumerate(self._layers):
            if own is layer:
                return i
        raise ValueError(f"{who}: layer {layer.name!r} is not in model {self.name!r}")

    def layer_weights(self, layer):
        """``layer.get_weights()``: one layer's weights in Keras's order and shapes."""
        i = self._layer_index(layer, "get_weights")
        return layer.to_keras_weights(leaves(self.params[i]) + leaves(self.state[i]))

    def set_layer_weights(self, layer, weights):
        """``layer.set_weights(weights)``: one layer's weights, as ``set_weights``."""
        i = self._layer_index(layer, "set_weights")
        weights = list(weights)
        n = layer.keras_weight_count(len(leaves(self.params[i])) + len(leaves(self.state[i])))
        if len(weights) != n:
            raise ValueError(f"set_weights: layer {layer.name!r} has {n} weight arrays, got "
                             f"{len(weights)}")
        params, state = list(self.params), list(self.state)
        params[i], state[i] = self._layer_from_keras(layer, params[i], state[i], weights, 0)
        self._replace_weights(params, state)

    def _replace_weights(self, params, state):
        """New weights; the optimizer keeps its slots (Adam's moments), as Keras's does."""
        self.params, self.state = params, state
        if self._opt_state is not None and self._compiled:
            opt_init = self.optimizer.triple()[0]
            fresh = opt_init(self.params)
            old = self._opt_state
            try:  # each parameter's packed state is (x, *slots): swap in the new x
                packed = tuple((f[0],) + tuple(o[1:]) for f, o in
                               zip(fresh.packed_state, old.packed_state))
                same = all(len(f) == len(o) for f, o in zip(fresh.packed_state,
                                                            old.packed_state))
            except (AttributeError, TypeError, IndexError):
                same = False
            self._opt_state = fresh._replace(packed_state=packed) if same else fresh

    def _set_tree_weights(self, params, state):
        """Weights from a saved ``(params, state)`` tree of this architecture."""
        self.set_weights(self._keras_weights(params, state))

    def save_weights(self, filepath):
        self._require_built("save_weights")
        _save(filepath, {"params": self.params, "state": self.state})

    def load_weights(self, filepath):
        self._require_built("load_weights")
        tree = _load(filepath)
        if not isinstance(tree, dict) or "params" not in tree:
            raise ValueError(f"{filepath} does not hold model weights (saved by save_weights "
                             f"or save)")
        weights = tree.get("weights", tree)
        self._set_tree_weights(weights["params"], weights["state"])

    def save(self, filepath):
        """The whole model: architecture, weights, layer state, optimizer state."""
        self._require_built("save")
        tree = {"format": self._FORMAT, "version": 1,
                "config": json.dumps(self.get_config()),
                "weights": {"params": self.params, "state": self.state},
                "compile": json.dumps(self._compile_config()),
                "opt_state": self._opt_state, "step": int(getattr(self, "_step_count", 0))}
        _save(filepath, tree)




def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A Sequential saved with ``model.save``, compiled again if it was (``compile=True``),
    with its optimizer state, so ``fit`` continues where it stopped.

    The file holds the optimizer's and the loss's arguments, Keras learning-rate schedules
    and Keras metric objects.  User functions (a loss, a metric, an activation, a
    regularizer) and layer classes are stored by name only; ``custom_objects={'name': fn}``
    gives them back, as in Keras.  A custom optimizer or a
    learning-rate function (not a ``keras.optimizers.schedules`` object) cannot be stored:
    the model comes back with the class's default (a warning says so); compile it again to
    go on with your own.  ``safe_mode`` is accepted for Keras compatibility: a lepton file
    never holds code."""
    tree = _load(filepath)
    if not isinstance(tree, dict) or tree.get("format") not in _BUILDERS:
        raise ValueError(f"{filepath} is not a lepton.keras model file (it may hold weights "
                         f"only: use model.load_weights)")
    model = _BUILDERS[tree["format"]](json.loads(tree["config"]), custom_objects)
    model._set_tree_weights(tree["weights"]["params"], tree["weights"]["state"])
    compile_cfg = json.loads(tree["compile"])
    if compile_cfg and compile:
        opt = compile_cfg["optimizer"]
        optimizer = kopt.from_config(opt)
        lost = "learning_rate_function" in opt.get("config", {})
        if optimizer is None or lost:
            what = (f"the learning-rate function "
                    f"{opt['config']['learning_rate_function']!r}" if lost else
                    "a custom optimizer")
            warnings.warn(f"load_model({str(filepath)!r}): the model was compiled with "
                          f"{what}, which a file cannot hold; it is compiled with "
                          f"{type(optimizer).__name__ if optimizer else 'Adam'}'s default "
                          f"instead. Compile it again with your own to go on training "
                          f"(use a keras.optimizers.schedules object to have it saved).",
                          UserWarning, stacklevel=2)
        custom = optimizer is None
        model._compile_from_config(compile_cfg, optimizer or kopt.Adam(), custom_objects)
        if tree.get("opt_state") is not None and not custom:
            model._build_steps()
            model._opt_state = tree["opt_state"]
            model._step_count = tree["step"]
    return model


# save's format tag -> a function (config, custom_objects) -> the built model; each model
# module adds its own
_BUILDERS = {}


def masked_per_example(per_example, y, out, mask):
    """Per-example values of ``per_example(y, out)`` over a sequence output whose steps
    carry ``mask`` (batch, time), as Keras reduces a masked loss: the batch value is the
    mean over the unmasked steps of the whole batch, so example ``i`` gets
    ``sum_t(v_it m_it) * batch / sum(m)``.  ``None`` where ``y`` / ``out`` are not
    (batch, time, ...)."""
    if mask is None or mask.ndim != 2 or out.ndim < 2 or y.ndim < 2 or \
            tuple(out.shape[:2]) != tuple(mask.shape) or tuple(y.shape[:2]) != tuple(mask.shape):
        return None
    b, t = mask.shape
    v = per_example(y.reshape((b * t,) + tuple(y.shape[2:])),
                    out.reshape((b * t,) + tuple(out.shape[2:]))).reshape(b, t)
    m = mask.astype(v.dtype)
    batch = lnp.sum(lnp.ones_like(m[:, 0]))  # not a literal: kernels stay batch-generic
    return lnp.sum(v * m, axis=1) * (batch / lnp.maximum(lnp.sum(m), 1))


def _fits(got, want):
    """``got`` matches ``want``, whose ``-1`` / ``None`` entries take any size (a
    variable-length time axis)."""
    return len(got) == len(want) and all(w in (-1, None) or g == w
                                         for g, w in zip(got, want))


def _keras_shape(shape):
    return tuple(None if d == -1 else d for d in shape)


def _flatten_hint(model):
    out = model._shapes[-1]
    if len(out) > 2 and not any(isinstance(l, klayers.Flatten) for l in model._layers):
        return " The model's output is still a feature map: add Flatten() before the final Dense."
    return ""
