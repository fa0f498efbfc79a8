"""``Sequential``: a linear stack of stax layers under Keras's training API
(``lepton.keras.trainer``: one jitted train step, save / load_model).
"""
from __future__ import annotations

import copy
import sys
import weakref

import numpy as np

from .. import random
from .. import stax
from ..tree import leaves
from . import layers as klayers
from . import losses as klosses
from . import metrics as kmetrics
from . import optimizers as kopt
from .errors import KerasInputError, layer_error
from .seeding import draw_seed
from .trainer import (Trainer, _BUILDERS, _as_numpy, _fits, _keras_shape,  # noqa: F401
                      load_model, masked_per_example)

__all__ = ["Sequential", "load_model"]


class Sequential(Trainer):
    """A linear stack of layers: ``Sequential([Conv2D(...), ..., Dense(10)])`` or ``.add()``."""
    _FORMAT = "lepton.keras.Sequential"  # save's format tag: load_model's key in _BUILDERS

    def __init__(self, layers=None, name=None):
        super().__init__(name or "sequential")
        for layer in layers or []:
            self.add(layer)

    def __getattr__(self, name):
        # Like Keras, a model that knows its input shape has weights without an explicit
        # build(): they are made on first access.
        d = self.__dict__
        if name == "_shapes" and d.get("_layers") and \
                d.get("_input_shape") is not None and not d.get("built"):
            self.build()
            return d[name]
        raise AttributeError(f"'Sequential' object has no attribute {name!r}")

    # ------------------------------------------------------------------ structure
    def add(self, layer):
        if isinstance(layer, klayers.KerasTensor) and layer._node.is_input:
            layer = layer._node.layer  # keras.Input(shape=...)
        if isinstance(layer, klayers.InputLayer):
            if self._layers:
                raise ValueError("Input(...) must come before the first layer")
            self._input_shape = layer.shape
            return
        if not isinstance(layer, klayers.Layer):
            raise TypeError(f"Sequential.add expects a lepton.keras layer (e.g. Dense(10)); "
                            f"got {type(layer).__name__}. Did you forget the parentheses, as "
                            f"in Flatten()?" if isinstance(layer, type) else
                            f"Sequential.add expects a lepton.keras layer; got "
                            f"{type(layer).__name__}")
        if not self._layers and layer.input_shape is not None and self._input_shape is None:
            self._input_shape = layer.input_shape
        self._layers.append(layer)
        layer._owner = weakref.ref(self)  # layer.get_weights() reads the model's
        if self.built:
            # As Keras: the layers already built keep their weights; only the new one is
            # initialised (the way to swap a model's head after pop()).
            i = len(self._layers) - 1
            try:
                shape, p, st = self._init_layer(i, random.PRNGKey(draw_seed()),
                                                self._shapes[-1])
            except Exception:
                self._layers.pop()
                raise
            self._shapes.append(shape)
            layer._params, layer._state = p, st
            self._forget_steps()

    def pop(self):
        """Remove the last layer (Keras's ``Sequential.pop``); the others keep their
        weights."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        if self.built:
            if self._layers:  # the weights live on the layers: the others keep theirs
                self._shapes = self._shapes[:-1]
            else:
                self.built = False
            self._forget_steps()
        return layer

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        self._require_built("output_shape")
        return _keras_shape(self._shapes[-1])

    def _symbolic(self):
        """The model as symbolic tensors, made on first use (``inputs``, ``outputs``,
        ``layer.output``), so that ``keras.Model(seq.inputs, seq.layers[k].output)`` cuts
        out a sub-model with the same weights, as in Keras."""
        graph = self.__dict__.get("_graph")
        if graph is None or graph[2] != [id(layer) for layer in self._layers]:
            self._require_built("inputs")
            first = self._layers[0]
            x = t = klayers.Input(shape=self._input_shape, dtype="int32" if isinstance(
                first, klayers.Embedding) else None)
            for layer in self._layers:
                t = layer(t)
            graph = self._graph = (x, t, [id(layer) for layer in self._layers])
        return graph

    @property
    def inputs(self):
        return [self._symbolic()[0]]

    @property
    def outputs(self):
        return [self._symbolic()[1]]

    @property
    def input(self):
        return self._symbolic()[0]

    @property
    def output(self):
        return self._symbolic()[1]

    def build(self, input_shape=None, seed=None):
        """Initialise the weights for examples of ``input_shape`` (batch axis first, as in
        Keras: ``(None, 28, 28, 1)``; the batch entry is ignored).  Without ``seed`` the
        initial weights are a fresh draw, as in Keras (fixed by ``utils.set_random_seed``)."""
        if input_shape is not None:
            self._input_shape = tuple(input_shape)[1:]
        if self._input_shape is None:
            raise ValueError("the model does not know its input shape: pass input_shape= to "
                             "the first layer, start with Input(shape=...), or call fit/build "
                             "with data")
        if not self._layers:
            raise ValueError("the model has no layers: add some with model.add(...)")
        key = random.PRNGKey(draw_seed() if seed is None else seed)
        shape = (-1,) + tuple(-1 if d is None else int(d) for d in self._input_shape)
        self._shapes, params, state = [], [], []
        for i, layer in enumerate(self._layers):
            shape, p, s = self._init_layer(i, key, shape)
            self._shapes.append(shape)
            params.append(p)
            state.append(s)
        self.params, self.state = params, state
        self.built = True
        self._opt_state = None
        self._train_step = self._eval_step = self._predict_step = None
        return self

    def _init_layer(self, i, key, shape):
        """``(output shape, params, state)`` of layer ``i`` for inputs of ``shape``."""
        try:
            out, p, s = stax.stateful(self._layers[i].to_stax())[0](random.fold_in(key, i),
                                                                     shape)
        except (stax.LayerShapeError, ValueError, TypeError) as e:
            raise layer_error(self, i, shape, e) from None
        return tuple(out), p, s

    # ------------------------------------------------------------------ forward
    def _forward(self, params, state, x, *, train, rng, logits, step=None, with_masks=False):
        """Run the layers; with ``logits`` the last layer's output activation is left out
        (the loss takes it in, stably).  A layer with its own ``seed`` draws from
        ``fold_in(PRNGKey(seed), step)`` instead of ``rng``, so its stream does not depend
        on the model it sits in or on fit's seed.  ``with_masks``: also the output's mask
        (in a list; None without one), which the loss applies as Keras does."""
        new_state, mask = [], None
        last = len(self._layers) - 1
        for i, layer in enumerate(self._layers):
            if rng is None:
                k = None
            elif layer.seed is not None:
                k = random.fold_in(random.PRNGKey(layer.seed), step)
            else:
                k = random.fold_in(rng, i)
            if isinstance(layer, klayers.BatchNormalization) and not layer.trainable:
                train_i = False  # Keras 3: a frozen BatchNormalization runs in inference mode
            else:
                train_i = train
            core = bool(logits and i == last and self._absorbed_activation)
            x_in = x
            x, s = layer.apply(params[i], state[i], x, train=train_i, rng=k, mask=mask,
                               core=core)
            mask = layer.compute_mask(x_in, mask)  # Embedding(mask_zero=True) -> RNNs
            new_state.append(s)
        return (x, new_state, [mask]) if with_masks else (x, new_state)

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, weighted_metrics=None,
                **kwargs):
        """Keras's ``compile``.  ``metrics`` are plain means over the examples;
        ``weighted_metrics`` are weighted by fit's/evaluate's ``sample_weight`` (or
        ``class_weight``), named ``weighted_<name>`` where a plain metric has the name."""
        self._check_compile_args(loss, kwargs)
        self.optimizer = kopt.get(optimizer)
        self.loss = klosses.get(loss)
        if isinstance(metrics, dict):
            raise TypeError("metrics must be a list for a single-output model")
        if isinstance(metrics, str):
            metrics = [metrics]
        self.metrics = [kmetrics.get(m, self.loss) for m in (metrics or [])]
        if isinstance(weighted_metrics, str):
            weighted_metrics = [weighted_metrics]
        if isinstance(weighted_metrics, dict):
            raise TypeError("weighted_metrics must be a list for a single-output model")
        taken = {m.name for m in self.metrics}
        for identifier in weighted_metrics or []:
            m = copy.copy(kmetrics.get(identifier, self.loss))
            m.source = identifier if isinstance(identifier, str) else m.name
            m.weighted = True
            if m.name in taken:
                m.name = f"weighted_{m.name}"
            taken.add(m.name)
            self.metrics.append(m)
        self._compiled_afresh(kwargs)

    @property
    def _absorbed_activation(self):
        """True when the loss can take the last layer's logits instead of its output."""
        if self.loss is None or self.loss.from_logits or not self._layers:
            return False
        act = getattr(self._layers[-1], "activation", None)
        act = getattr(act, "keras_activation", act)  # keras.activations.softmax
        return isinstance(act, str) and act.lower() == self.loss.probabilistic

    # ------------------------------------------------------------------ steps
    def _loss_and_metrics(self, y, out, from_logits, mask=None):
        fl = from_logits or self.loss.from_logits
        per_example = masked_per_example(lambda a, b: self.loss.per_example(a, b, fl),
                                         y, out, mask)
        if per_example is None:
            per_example = self.loss.per_example(y, out, fl)
        if per_example.ndim > 1:  # a loss per time step or pixel: average within the example
            per_example = per_example.reshape(per_example.shape[0], -1).mean(axis=1)
        values = [per_example]
        if self.metrics:
            pred = out
            if from_logits and self._absorbed_activation:
                act = klayers.activation_layer(self._layers[-1].activation, "output")
                pred = act[1]((), out)
            for m in self.metrics:
                v = masked_per_example(m.per_example, y, pred, mask)
                values.append(m.per_example(y, pred) if v is None else v)
        return values

    def _weighted_sums(self, y, out, w, absorbed, masks=None):
        """Batch sums: the loss weighted by ``w`` (Keras's sample weights: the batch loss
        is ``sum(w * loss) / batch``), the metrics unweighted (as Keras's ``metrics=``)."""
        values = self._loss_and_metrics(y, out, absorbed, masks[0] if masks else None)
        sums = [(values[0] * w).sum()]
        sums += [(v * w).sum() if m.weighted else v.sum()
                 for m, v in zip(self.metrics, values[1:])]
        if self._has_weighted_metrics:
            sums.append(w.sum())  # the denominator of the weighted means
        return sums

    # ------------------------------------------------------------------ data checks
    def _prepare(self, x, y, who):
        x = _as_numpy(x, f"{who}: x")
        if x is None:
            raise KerasInputError(f"{who}: x is required")
        if y is not None:
            y = _as_numpy(y, f"{who}: y")
            if len(x) != len(y):
                raise KerasInputError(
                    f"{who}: x and y have different numbers of samples: x has {len(x)} "
                    f"(shape {x.shape}), y has {len(y)} (shape {y.shape}). They must hold one "
                    f"label per example.")
        if not self.built:
            if self._input_shape is None:
                self._input_shape = x.shape[1:]
            self.build()
        want = tuple(self._input_shape)
        if not _fits(x.shape[1:], want):
            fix = ""
            if x.shape[1:] == want[:-1] and want[-1] == 1:
                fix = " Add the channel axis: x = x[..., None] (or x.reshape(-1, " + \
                    ", ".join(map(str, want)) + ")."
            elif x.ndim - 1 != len(want):
                fix = f" Reshape the data to (n, {', '.join(map(str, want))})."
            raise KerasInputError(
                f"{who}: the model expects inputs of shape (None, "
                f"{', '.join(map(str, want))}) but x has shape {x.shape} (examples of shape "
                f"{tuple(x.shape[1:])}).{fix}")
        x = self._cast_inputs(x)
        if y is not None:
            y = self._check_targets(y, who)
        return x, y

    def _cast_inputs(self, x):
        if isinstance(self._layers[0], klayers.Embedding):
            return x.astype(np.int32, copy=False)
        return x.astype(np.float32, copy=False)

    def __call__(self, x, training=None):
        """The model's output for ``x``; ``training=True`` applies dropout and the random
        augmentations with a fresh draw per call (seeded layers: their own stream).  On
        symbolic tensors the model acts as a layer of a functional model (its layers,
        and so its weights, are shared)."""
        if klayers.symbolic.is_symbolic(x):
            return klayers.symbolic.call_model(self, x, training)
        self._require_built("__call__")
        rng = step = None
        if training:
            rng = random.PRNGKey(draw_seed())
            step = self.__dict__.get("_training_calls", 0)
            self._training_calls = step + 1
        return self._forward(self.params, self.state, self._cast_inputs(np.asarray(x)),
                             train=training, rng=rng, logits=False, step=step)[0]

    def summary(self, print_fn=None):
        self._require_built("summary")
        print_fn = print_fn or (lambda s: print(s, file=sys.stdout))
        rows = []
        for layer, shape, p, s in zip(self._layers, self._shapes, self.params, self.state):
            n = sum(int(np.size(a)) for a in leaves(p)) + \
                sum(int(np.size(a)) for a in leaves(s))
            rows.append((f"{layer.name} ({type(layer).__name__})", str(_keras_shape(shape)),
                         f"{n:,}"))
        w0 = max(28, max(len(r[0]) for r in rows) + 2)
        w1 = max(26, max(len(r[1]) for r in rows) + 2)
        width = w0 + w1 + 12
        trainable = sum(int(np.size(a)) for layer, p in zip(self._layers, self.params)
                        if getattr(layer, "trainable", True) for a in leaves(p))
        frozen = self.count_params() - trainable
        lines = [f'Model: "{self.name}"', "_" * width,
                 f"{'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>10}", "=" * width]
        for i, r in enumerate(rows):
            lines.append(f"{r[0]:<{w0}}{r[1]:<{w1}}{r[2]:>10}")
            lines.append("=" * width if i == len(rows) - 1 else "")
        lines += [f"Total params: {trainable + frozen:,}",
                  f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {frozen:,}", "_" * width]
        print_fn("\n".join(line for line in lines if line != "" or False))

    def get_config(self):
        return {"name": self.name, "input_shape": list(self._input_shape or ()),
                "layers": [{"class_name": type(l).__name__, "config": l.get_config()}
                           for l in self._layers]}

    def _compile_from_config(self, cfg, optimizer, custom_objects):
        """``compile`` again from what ``_compile_config`` wrote (load_model)."""
        loss = klosses.deserialize(cfg["loss"], custom_objects)
        loss.from_logits = cfg["from_logits"]
        self.compile(optimizer=optimizer, loss=loss,
                     metrics=[kmetrics.deserialize(m, loss, custom_objects)
                              for m in cfg["metrics"]],
                     weighted_metrics=[kmetrics.deserialize(m, loss, custom_objects)
                                       for m in cfg.get("weighted_metrics") or []])

    def _compile_config(self):
        if not self._compiled:
            return None
        return {"optimizer": self.optimizer.get_config(),
                "loss": klosses.serialize(self.loss),
                "from_logits": self.loss.from_logits,
                "metrics": [kmetrics.serialize(m) for m in self.metrics if not m.weighted],
                "weighted_metrics": [kmetrics.serialize(m) for m in self.metrics
                                     if m.weighted]}


def _sequential_from_config(config, custom_objects):
    model = Sequential(name=config["name"])
    for spec in config["layers"]:
        model.add(klayers.from_config(spec, custom_objects))
    return model.build((None, *config["input_shape"]))


_BUILDERS[Sequential._FORMAT] = _sequential_from_config
