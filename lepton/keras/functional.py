"""Keras's functional API: ``Model(inputs, outputs)`` over the graph that calling layers
on ``keras.Input`` tensors recorded (``layers.symbolic``).

The graph becomes one forward function over the same stax layers Sequential uses: each
layer's weights are one entry of ``params`` / ``state`` (a layer called twice -- a
shared layer -- has one entry), and every call of it in the graph reads that entry.  So
compile / fit / evaluate / predict / save are the ones Sequential has (``trainer``: one
jitted train step); the graph itself is ``graph``'s.  This module adds several inputs
(a list, or a dict keyed by the Input names), several outputs (a loss per output,
summed with ``loss_weights``; the logs carry ``<output>_loss`` and
``<output>_<metric>`` as Keras 3's do), the graph's summary and its save format.

As in Keras, the weights live on the layers: a model built from layers another model
already built (``keras.Model(x, encoded)`` next to the autoencoder) shares their
weights, and training either moves both.  A model called on tensors (a siamese
network's shared base) calls its layers on them, so the outer model lists those layers
itself where Keras shows the sub-model as one layer (``summary``, ``layers`` and the
order of ``get_weights`` differ; the weights are shared as in Keras).  Subclassed models
are not supported.  Masks (``Embedding(mask_zero=True)``) reach the recurrent layers and
``GlobalAveragePooling1D``, and a sequence output's loss and metrics skip its masked
steps (Keras averages a masked metric over the epoch's unmasked steps; here over each
batch's, then over the batches by size: the same for one batch).
"""
from __future__ import annotations

import abc
import copy
import sys
import weakref

import numpy as np

from .. import random
from ..tree import leaves, register_pytree_node
from . import layers as klayers
from . import losses as klosses
from . import metrics as kmetrics
from . import graph as kgraph
from . import models as kmodels
from . import trainer as ktrainer
from . import optimizers as kopt
from .errors import KerasInputError, KerasLayerError, _shape
from .layers.symbolic import KerasTensor
from .seeding import draw_seed

__all__ = ["Model", "Functional"]


class _Columns:
    """Several arrays batched together (a multi-input model's ``x``, a multi-output
    model's ``y``): ``len`` and indexing act on every array at once, so the batching of
    ``lepton.keras.data`` works unchanged; a pytree node, so the jitted steps take it."""

    def __init__(self, arrays):
        self.arrays = tuple(arrays)

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return _Columns(a[index] for a in self.arrays)

    @property
    def shape(self):
        return tuple(np.shape(a) for a in self.arrays)


register_pytree_node(_Columns, lambda c: (c.arrays, None), lambda _, ch: _Columns(ch))


class _OutputLoss(kmetrics.Metric):
    """The log entry ``<output>_loss`` of a multi-output model (its weighted batch sums
    are computed with the total loss)."""

    def __init__(self, name, index):
        super().__init__(name, None)
        self.output = index


def _flatten_struct(value, what):
    if isinstance(value, KerasTensor):
        return [value], None
    if isinstance(value, dict):
        return list(value.values()), list(value.keys())
    if isinstance(value, (list, tuple)) and value:
        return list(value), None
    raise TypeError(f"Model: {what} must be a KerasTensor (from keras.Input or a layer "
                    f"call), a list of them or a dict; got {type(value).__name__}")


def _unique(names):
    """Output names for the logs: a layer giving several outputs (return_state) gets
    ``name``, ``name_1``, ..."""
    out, seen = [], {}
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n}_{k}")
    return out


class Model(ktrainer.Trainer, metaclass=abc.ABCMeta):
    """``keras.Model(inputs, outputs, name=None)``: the layers between ``inputs`` (tensors
    from ``keras.Input``) and ``outputs`` as one model, trained as a Sequential is.  As in
    Keras, a Sequential model is also a ``keras.Model`` (``isinstance`` holds)."""
    _FORMAT = "lepton.keras.Model"

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if kwargs:
            raise TypeError(f"Model() got unexpected keyword arguments {sorted(kwargs)}")
        if inputs is None or outputs is None:
            raise TypeError("Model needs inputs= and outputs=: x = keras.Input(shape=...); "
                            "y = layers.Dense(10)(x); keras.Model(inputs=x, outputs=y). "
                            "(Subclassing keras.Model with call() is not supported; use the "
                            "functional API or Sequential.)")
        super().__init__(name or "functional")
        self.inputs, in_keys = _flatten_struct(inputs, "inputs")
        self.outputs, out_keys = _flatten_struct(outputs, "outputs")
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: inputs and outputs must be KerasTensors (from "
                                f"keras.Input or a layer call); got {type(t).__name__}")
        for t in self.inputs:
            if not t._node.is_input:
                raise ValueError(f"Model: every input must come from keras.Input(...); "
                                 f"{t.name} is the output of layer {t._node.layer.name!r}")
        self._single_input = isinstance(inputs, KerasTensor)
        self._single_output = isinstance(outputs, KerasTensor)
        self._dict_output = isinstance(outputs, dict)  # predict answers with a dict too
        self._input_keys = in_keys or [t._node.layer.name for t in self.inputs]
        self.output_names = out_keys or _unique([t._node.layer.name for t in self.outputs])
        dag = kgraph.map_graph(self.name, self.inputs, self.outputs)
        self._all_layers, self._layers, self._nodes = dag.all_layers, dag.layers, dag.nodes
        self._index, self._node_pos, self._consumed = dag.index, dag.node_pos, dag.consumed
        self._int_inputs = dag.int_inputs
        self._input_shape = tuple(self.inputs[0].shape[1:])
        if not trainable:
            self.trainable = False
        self.build()

    @property
    def layers(self):
        return list(self._all_layers)

    def add(self, layer):
        raise TypeError("a functional Model has a fixed graph: call the layer on a tensor "
                        "and build a new keras.Model(inputs, outputs) instead of add()")

    def pop(self):
        raise TypeError("a functional Model has a fixed graph; pop() is Sequential's")

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if self._single_input else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if self._single_output else shapes

    @property
    def input(self):
        return self.inputs[0] if self._single_input else list(self.inputs)

    @property
    def output(self):
        return self.outputs[0] if self._single_output else list(self.outputs)

    @property
    def input_names(self):
        return list(self._input_keys)

    # ------------------------------------------------------------------ build
    def build(self, input_shape=None, seed=None):
        """Initialise the weights (a functional model is built when it is made); a layer
        already built in another model keeps its weights, shared by both models."""
        key = random.PRNGKey(draw_seed() if seed is None else seed)
        first = {}
        for n in self._nodes:
            first.setdefault(id(n.layer), n)
        params, state, shapes = [], [], []
        for i, layer in enumerate(self._layers):
            node = first[id(layer)]
            arg = [t._stax_shape for t in node.inputs] if node.as_list else \
                node.inputs[0]._stax_shape
            out, p, s = klayers.symbolic._init(layer, arg, random.fold_in(key, i))
            if "_params" in layer.__dict__:  # built in another model: shared weights
                p, s = self._shared_weights(layer, p, s)
            params.append(p)
            state.append(s)
            shapes.append(tuple(out[0] if isinstance(out, list) else out))
        for layer in self._layers:
            layer._owner = weakref.ref(self)
        self.params, self.state, self._shapes = params, state, shapes
        self._out_shapes = [t._stax_shape for t in self.outputs]
        self.built = True
        self._opt_state = None
        self._train_step = self._eval_step = self._predict_step = None
        return self

    @staticmethod
    def _shared_weights(layer, p, s):
        held = (layer._params, layer._state)
        if [np.shape(a) for a in leaves(held)] != [np.shape(a) for a in leaves((p, s))]:
            raise KerasLayerError(
                f"{type(layer).__name__} {layer.name!r} already has weights of shapes "
                f"{[np.shape(a) for a in leaves(held)]} from another model, which do not "
                f"fit its input here ({[np.shape(a) for a in leaves((p, s))]} needed); use "
                f"a new layer")
        return held

    # ------------------------------------------------------------------ forward
    def _forward(self, params, state, x, *, train, rng, logits, step=None, with_masks=False):
        xs = x.arrays if isinstance(x, _Columns) else (x,)
        env = {id(t): (a, None) for t, a in zip(self.inputs, xs)}
        absorb = self._absorb_nodes(logits)
        new_state = list(state)
        for k, node in enumerate(self._nodes):
            layer = node.layer
            li = self._index[id(layer)]
            vals = [env[id(t)] for t in node.inputs]
            if node.as_list:
                xin, mask = [v[0] for v in vals], [v[1] for v in vals]
            else:
                xin, mask = vals[0]
            kwargs = {}
            if node.states:
                kwargs["initial_state"] = [env[id(t)][0] for t in node.states]
            if rng is None:
                key = None
            elif layer.seed is not None:
                key = random.fold_in(random.PRNGKey(layer.seed), step)
            else:
                key = random.fold_in(rng, k)
            train_k = train if node.training is None else bool(node.training)
            if isinstance(layer, klayers.BatchNormalization) and not layer.trainable:
                train_k = False  # Keras 3: a frozen BatchNormalization runs in inference
            y, s = layer.apply(params[li], new_state[li], xin, train=train_k, rng=key,
                               mask=mask, core=id(node) in absorb, **kwargs)
            new_state[li] = s
            out_mask = layer.compute_mask(xin, mask)
            ys = y if len(node.outputs) > 1 else [y]
            for j, t in enumerate(node.outputs):
                env[id(t)] = (ys[j], out_mask if j == 0 else None)
        outs = [env[id(t)][0] for t in self.outputs]
        out = outs[0] if self._single_output else tuple(outs)
        if with_masks:
            return out, new_state, [env[id(t)][1] for t in self.outputs]
        return out, new_state

    def _absorb_nodes(self, logits):
        """The nodes run without their output activation: those making an output whose
        loss takes logits, when nothing else in the graph reads that output."""
        if not logits:
            return set()
        return {id(t._node) for t, a in zip(self.outputs, logits)
                if a and len(t._node.outputs) == 1 and not self._consumed.get(id(t))}

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, **kwargs):
        """Keras's ``compile``; with several outputs ``loss`` is one loss for all, a list
        (one per output) or a dict keyed by output name, ``metrics`` / ``weighted_metrics``
        a list of lists or a dict, ``loss_weights`` a list or dict (the reported ``loss``
        is the weighted sum, with ``<output>_loss`` for each)."""
        self._check_compile_args(loss, kwargs)
        n = len(self.outputs)
        losses = self._per_output(loss, "loss", broadcast=True)
        if any(entry is None for entry in losses):
            missing = [o for o, entry in zip(self.output_names, losses) if entry is None]
            raise ValueError(f"compile: no loss for the output(s) {missing}; give one per "
                             f"output {self.output_names}")
        weights = self._per_output(loss_weights, "loss_weights", broadcast=False) \
            if loss_weights is not None else [1.0] * n
        self.optimizer = kopt.get(optimizer)
        self._losses = [klosses.get(entry) for entry in losses]
        self._loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.loss = self._losses[0]
        multi = n > 1
        self.metrics = [_OutputLoss(f"{o}_loss", i) for i, o in enumerate(self.output_names)] \
            if multi else []
        taken = {m.name for m in self.metrics}
        for group, weighted in ((metrics, False), (weighted_metrics, True)):
            per = self._per_output(group, "weighted_metrics" if weighted else "metrics",
                                   broadcast=False, nested=True) if group is not None \
                else [[]] * n
            for i, entries in enumerate(per):
                for identifier in entries or []:
                    m = copy.copy(kmetrics.get(identifier, self._losses[i]))
                    m.source = identifier if isinstance(identifier, str) else m.name
                    m.output, m.weighted = i, weighted
                    if multi:
                        m.name = f"{self.output_names[i]}_{m.name}"
                    if m.name in taken and weighted:
                        m.name = f"weighted_{m.name}"
                    taken.add(m.name)
                    self.metrics.append(m)
        self._compiled_afresh(kwargs)

    def _per_output(self, value, what, broadcast, nested=False):
        """One entry per output from a value, a list or a dict keyed by output name."""
        n, names = len(self.outputs), self.output_names
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(names))
            if unknown:
                raise ValueError(f"compile: {what} has keys {unknown} that are not output "
                                 f"names; the outputs are {names}")
            out = [value.get(o) for o in names]
            return [[e] if nested and e is not None and not isinstance(e, (list, tuple))
                    else e for e in out]
        if isinstance(value, (list, tuple)):
            if nested and n == 1 and not any(isinstance(e, (list, tuple)) for e in value):
                return [list(value)]
            if len(value) != n:
                raise ValueError(f"compile: {what} is a list of {len(value)} entries but the "
                                 f"model has {n} outputs {names}; give one entry per output "
                                 f"(or a dict keyed by output name)")
            if nested and not all(isinstance(e, (list, tuple)) or e is None for e in value):
                raise ValueError(f"compile: for a model with {n} outputs, {what} must be a "
                                 f"list of lists (one list per output) or a dict keyed by "
                                 f"output name {names}; got {value!r}")
            return list(value)
        if nested:
            value = [value]
            if n > 1:
                raise ValueError(f"compile: for a model with {n} outputs, {what} must be a "
                                 f"list of lists or a dict keyed by output name {names}")
            return [value]
        if n > 1 and not broadcast:
            raise ValueError(f"compile: {what} must be a list or a dict keyed by output "
                             f"name {names} for a model with {n} outputs")
        return [value] * n

    @property
    def _absorbed_activation(self):
        """Per output: whether its loss can take the logits of its last layer."""
        if not getattr(self, "_losses", None):
            return ()
        out = []
        for t, loss in zip(self.outputs, self._losses):
            act = getattr(t._node.layer, "activation", None)
            act = getattr(act, "keras_activation", act)
            out.append(bool(not loss.from_logits and isinstance(act, str) and
                            act.lower() == loss.probabilistic and
                            len(t._node.outputs) == 1 and not self._consumed.get(id(t))))
        return tuple(out)

    # ------------------------------------------------------------------ loss
    def _weighted_sums(self, y, out, w, absorbed, masks=None):
        ys = y.arrays if isinstance(y, _Columns) else (y,)
        outs = out if isinstance(out, tuple) else (out,)
        absorbed = tuple(absorbed) or (False,) * len(outs)
        masks = masks or [None] * len(outs)
        per_output, preds = [], []
        for i, (yi, oi, loss) in enumerate(zip(ys, outs, self._losses)):
            fl = absorbed[i] or loss.from_logits
            e = ktrainer.masked_per_example(lambda a, b: loss.per_example(a, b, fl), yi, oi,
                                            masks[i])
            if e is None:
                e = loss.per_example(yi, oi, fl)
            if e.ndim > 1:  # a loss per time step or pixel: averaged within the example
                e = e.reshape(e.shape[0], -1).mean(axis=1)
            per_output.append((e * w).sum())
            if absorbed[i]:
                act = klayers.activation_layer(self.outputs[i]._node.layer.activation,
                                               "output")
                oi = act[1]((), oi)
            preds.append(oi)
        total = sum(s * lw for s, lw in zip(per_output, self._loss_weights))
        sums = [total]
        for m in self.metrics:
            if isinstance(m, _OutputLoss):
                sums.append(per_output[m.output])
                continue
            v = ktrainer.masked_per_example(m.per_example, ys[m.output], preds[m.output],
                                            masks[m.output])
            if v is None:
                v = m.per_example(ys[m.output], preds[m.output])
            sums.append((v * w).sum() if m.weighted else v.sum())
        if self._has_weighted_metrics:
            sums.append(w.sum())
        return sums

    # ------------------------------------------------------------------ data
    def _split(self, value, tensors, keys, what, who):
        """``value`` as one array per tensor: a single array (one tensor), a list/tuple
        in order, or a dict keyed by ``keys``."""
        n = len(tensors)
        if isinstance(value, dict):
            missing = [k for k in keys if k not in value]
            if missing:
                raise KerasInputError(f"{who}: the {what} dict lacks the key(s) {missing}; "
                                      f"the model's {what}s are {keys}")
            extra = sorted(set(value) - set(keys))
            if extra:
                raise KerasInputError(f"{who}: the {what} dict has key(s) {extra} that the "
                                      f"model does not know; its {what}s are {keys}")
            parts = [value[k] for k in keys]
        elif isinstance(value, (list, tuple)) and n > 1:
            if len(value) != n:
                raise KerasInputError(f"{who}: the model has {n} {what}s {keys}; got a "
                                      f"{type(value).__name__} of {len(value)}. Pass one "
                                      f"array per {what}, in that order (or a dict).")
            parts = list(value)
        elif isinstance(value, (list, tuple)) and n == 1 and len(value) == 1 and \
                not np.isscalar(value[0]) and np.ndim(value[0]) > 0:
            parts = [value[0]]
        else:
            if n > 1:
                raise KerasInputError(f"{who}: the model has {n} {what}s {keys}; pass a list "
                                      f"of {n} arrays or a dict keyed by those names")
            parts = [value]
        return [ktrainer._as_numpy(p, f"{who}: {what} {k!r}") for p, k in zip(parts, keys)]

    def _prepare(self, x, y, who):
        if x is None:
            raise KerasInputError(f"{who}: x is required")
        xs = self._split(x, self.inputs, self._input_keys, "input", who)
        for t, a, k, as_int in zip(self.inputs, xs, self._input_keys, self._int_inputs):
            want = tuple(t.shape[1:])
            if a.ndim != len(want) + 1 or any(d is not None and d != g
                                              for d, g in zip(want, a.shape[1:])):
                fix = ""
                if a.shape[1:] == want[:-1] and want[-1] == 1:
                    fix = " Add the channel axis: x = x[..., None]."
                raise KerasInputError(f"{who}: input {k!r} expects arrays of shape "
                                      f"{_shape(t.shape)} but got shape {a.shape}.{fix}")
        counts = {len(a) for a in xs}
        if len(counts) > 1:
            raise KerasInputError(f"{who}: the inputs hold different numbers of samples: " +
                                  ", ".join(f"{k!r} {len(a)}" for k, a in
                                            zip(self._input_keys, xs)))
        xs = [a.astype(np.int32 if as_int else np.float32, copy=False)
              for a, as_int in zip(xs, self._int_inputs)]
        xb = xs[0] if len(xs) == 1 else _Columns(xs)
        if y is None:
            return xb, None
        ys = self._split(y, self.outputs, self.output_names, "output", who)
        for a, k in zip(ys, self.output_names):
            if len(a) != len(xs[0]):
                raise KerasInputError(
                    f"{who}: x and y have different numbers of samples: x has {len(xs[0])}, "
                    f"y for output {k!r} has {len(a)} (shape {a.shape}). They must hold one "
                    f"target per example.")
        ys = [self._check_targets(a, f"{who} (output {k!r})" if len(ys) > 1 else who,
                                  out=s, loss=loss)
              for a, k, s, loss in zip(ys, self.output_names, self._out_shapes, self._losses)]
        return xb, (ys[0] if len(ys) == 1 else _Columns(ys))

    def _sample_weights(self, y, n, sample_weight, class_weight, who):
        if isinstance(y, _Columns) and class_weight is not None:
            raise ValueError(f"{who}: class_weight is not supported for a model with "
                             f"several outputs (as Keras); pass sample_weight instead")
        return super()._sample_weights(y, n, sample_weight, class_weight, who)

    def __call__(self, x, training=None):
        """The outputs for arrays ``x``; on symbolic tensors the model acts as a layer of
        another functional model (its layers, and so its weights, are shared)."""
        if klayers.symbolic.is_symbolic(x):
            return klayers.symbolic.call_model(self, x, training)
        xb, _ = self._prepare(x, None, "model(x)")
        rng = step = None
        if training:
            rng = random.PRNGKey(draw_seed())
            step = self.__dict__.get("_training_calls", 0)
            self._training_calls = step + 1
        out = self._forward(self.params, self.state, xb, train=training, rng=rng,
                            logits=False, step=step)[0]
        return self._structure(out)

    def _empty_prediction(self):
        outs = tuple(np.zeros((0,) + tuple(max(d, 0) for d in s[1:]), np.float32)
                     for s in self._out_shapes)
        return outs[0] if self._single_output else outs

    def _structure(self, out):
        """Several outputs as Keras returns them: a list, or a dict for dict outputs."""
        if not isinstance(out, tuple):
            return out
        return dict(zip(self.output_names, out)) if self._dict_output else list(out)

    def predict(self, x, batch_size=None, verbose="auto", steps=None):
        out = super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps)
        return self._structure(out)

    # ------------------------------------------------------------------ summary
    def summary(self, print_fn=None, line_length=None, positions=None):
        """Keras's table: each layer with its output shape, weight count and the layers
        it reads ("Connected to", as ``layer[node][tensor]``)."""
        print_fn = print_fn or (lambda s: print(s, file=sys.stdout))
        rows = []
        for layer in self._all_layers:
            if isinstance(layer, klayers.InputLayer):
                node = layer._inbound_nodes[0]
                rows.append((f"{layer.name} (InputLayer)", str(node.outputs[0].shape), "0",
                             "-"))
                continue
            i = self._index[id(layer)]
            n = sum(int(np.size(a)) for a in leaves(self.params[i])) + \
                sum(int(np.size(a)) for a in leaves(self.state[i]))
            nodes = [nd for nd in self._nodes if nd.layer is layer]
            outs = nodes[0].outputs
            shape = str(outs[0].shape) if len(outs) == 1 else \
                "[" + ", ".join(str(t.shape) for t in outs) + "]"
            links = [self._ref(t) for nd in nodes for t in nd.parents]
            rows.append((f"{layer.name} ({type(layer).__name__})", shape, f"{n:,}",
                         ", ".join(links) or "-"))
        w = [max(len(h) + 2, max(len(r[c]) for r in rows) + 2) for c, h in
             enumerate(("Layer (type)", "Output Shape", "Param #", "Connected to"))]
        w[0], w[1] = max(w[0], 28), max(w[1], 26)
        width = sum(w) + 2
        trainable = sum(int(np.size(a)) for layer, p in zip(self._layers, self.params)
                        if getattr(layer, "trainable", True) for a in leaves(p))
        frozen = self.count_params() - trainable
        lines = [f'Model: "{self.name}"', "_" * width,
                 f"{'Layer (type)':<{w[0]}}{'Output Shape':<{w[1]}}{'Param #':>{w[2]}}  "
                 f"{'Connected to'}", "=" * width]
        for r in rows:
            lines.append(f"{r[0]:<{w[0]}}{r[1]:<{w[1]}}{r[2]:>{w[2]}}  {r[3]}")
        lines += ["=" * width, f"Total params: {trainable + frozen:,}",
                  f"Trainable params: {trainable:,}", f"Non-trainable params: {frozen:,}",
                  "_" * width]
        print_fn("\n".join(lines))

    def _ref(self, t):
        node = t._node
        return f"{node.layer.name}[{self._node_pos[id(node)]}][{t._index}]"

    # ------------------------------------------------------------------ save
    def get_config(self):
        return {"name": self.name,
                **kgraph.graph_config(self._all_layers, self._nodes, self._node_pos,
                                      self.inputs, self.outputs),
                "input_keys": self._input_keys, "output_names": self.output_names,
                "single_input": self._single_input, "single_output": self._single_output,
                "dict_output": self._dict_output}

    def _compile_config(self):
        if not self._compiled:
            return None
        per = lambda weighted: [[kmetrics.serialize(m) for m in self.metrics  # noqa: E731
                                 if not isinstance(m, _OutputLoss) and m.output == i and
                                 m.weighted == weighted] for i in range(len(self.outputs))]
        return {"optimizer": self.optimizer.get_config(),
                "losses": [klosses.serialize(loss) for loss in self._losses],
                "from_logits": [loss.from_logits for loss in self._losses],
                "loss_weights": self._loss_weights,
                "metrics": per(False), "weighted_metrics": per(True)}

    def _compile_from_config(self, cfg, optimizer, custom_objects):
        losses = []
        for spec, fl in zip(cfg["losses"], cfg["from_logits"]):
            loss = klosses.deserialize(spec, custom_objects)
            loss.from_logits = fl
            losses.append(loss)
        metrics = [[kmetrics.deserialize(m, loss, custom_objects) for m in group]
                   for group, loss in zip(cfg["metrics"], losses)]
        weighted = [[kmetrics.deserialize(m, loss, custom_objects) for m in group]
                    for group, loss in zip(cfg["weighted_metrics"], losses)]
        self.compile(optimizer=optimizer, loss=losses, metrics=metrics,
                     weighted_metrics=weighted, loss_weights=cfg["loss_weights"])


Functional = Model


def _model_from_config(config, custom_objects):
    """Rebuild a functional model saved by ``save`` (``graph.replay``)."""
    ins, outs = kgraph.replay(config, custom_objects)
    keys = config["input_keys"]
    inputs = ins[0] if config["single_input"] else \
        (dict(zip(keys, ins)) if keys != [t._node.layer.name for t in ins] else ins)
    outputs = outs[0] if config["single_output"] else \
        (dict(zip(config["output_names"], outs)) if config.get("dict_output") else outs)
    return Model(inputs, outputs, name=config["name"])


ktrainer._BUILDERS[Model._FORMAT] = _model_from_config
Model.register(kmodels.Sequential)
