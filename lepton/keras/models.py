"""``Sequential``: Keras's compile / fit / evaluate / predict over a list of stax layers.

The whole train step -- forward, loss, gradient, optimizer update, metrics -- is one
``lepton.jit`` function; per batch, Python only slices the data and updates the progress
bar.  Kernels are shape-generic, so the last, smaller batch retraces but compiles nothing.
Parameters, layer state (BatchNorm statistics) and optimizer state are pytrees held by the
model; ``save`` / ``load_model`` write them with ``lepton.save`` (no pickle).
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from .. import random
from .. import stax
from ..serialization import load as _load, save as _save
from ..transforms.autodiff import value_and_grad
from ..transforms.jit import jit, wait_for_compilation
from ..tree import flatten, leaves, unflatten
from . import callbacks as cbks
from . import layers as klayers
from . import losses as klosses
from . import metrics as kmetrics
from . import optimizers as kopt
from .errors import KerasInputError, layer_error
from .progress import ProgressBar
from .seeding import draw_seed

__all__ = ["Sequential", "load_model"]


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


class Sequential:
    """A linear stack of layers: ``Sequential([Conv2D(...), ..., Dense(10)])`` or ``.add()``."""

    def __init__(self, layers=None, name=None):
        self.name = name or "sequential"
        self._layers: list = []
        self._input_shape = None
        self.built = False
        self.stop_training = False
        self.optimizer = self.loss = None
        self.metrics: list = []
        self.history = None
        self._compiled = False
        for layer in layers or []:
            self.add(layer)

    def __getattr__(self, name):
        # Like Keras, a model that knows its input shape has weights without an explicit
        # build(): they are made on first access.
        d = self.__dict__
        if name in ("params", "state", "_shapes") and d.get("_layers") and \
                d.get("_input_shape") is not None and not d.get("built"):
            self.build()
            return d[name]
        raise AttributeError(f"'Sequential' object has no attribute {name!r}")

    # ------------------------------------------------------------------ structure
    def add(self, layer):
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
        self.built = False

    @property
    def layers(self):
        return list(self._layers)

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        self._require_built("output_shape")
        return _keras_shape(self._shapes[-1])

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
        shape = (-1,) + tuple(int(d) for d in self._input_shape)
        self._shapes, params, state = [], [], []
        for i, layer in enumerate(self._layers):
            try:
                shape, p, s = stax.stateful(layer.to_stax())[0](random.fold_in(key, i), shape)
            except (stax.LayerShapeError, ValueError, TypeError) as e:
                raise layer_error(self, i, shape, e) from None
            self._shapes.append(tuple(shape))
            params.append(p)
            state.append(s)
        self.params, self.state = params, state
        self.built = True
        self._opt_state = None
        self._train_step = self._eval_step = self._predict_step = None
        return self

    def _require_built(self, what):
        if not self.built and self._input_shape is not None and self._layers:
            self.build()
        if not self.built:
            raise ValueError(f"{what}: the model is not built yet; call fit(), build() or "
                             f"give the first layer input_shape=")

    # ------------------------------------------------------------------ forward
    def _forward(self, params, state, x, *, train, rng, logits):
        """Run the layers; with ``logits`` the last layer's output activation is left out
        (the loss takes it in, stably)."""
        new_state = []
        last = len(self._layers) - 1
        for i, layer in enumerate(self._layers):
            k = None if rng is None else random.fold_in(rng, i)
            if logits and i == last and self._absorbed_activation:
                core = stax.stateful(layer.core_stax())
                x, s = core[1](layer.core_params(params[i]), layer.core_state(state[i]), x,
                               train=train, rng=k)
            else:
                x, s = stax.stateful(layer.to_stax())[1](params[i], state[i], x, train=train,
                                                         rng=k)
            new_state.append(s)
        return x, new_state

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        unsupported = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution"}
        if unsupported:
            raise TypeError(f"compile() got unexpected keyword arguments {sorted(unsupported)}")
        if loss is None:
            raise ValueError("compile needs loss=, e.g. loss='categorical_crossentropy'; "
                             f"valid names: {', '.join(sorted(klosses.LOSSES))}")
        self.optimizer = kopt.get(optimizer)
        self.loss = klosses.get(loss)
        if isinstance(metrics, dict):
            raise TypeError("metrics must be a list for a single-output model")
        if isinstance(metrics, str):
            metrics = [metrics]
        self.metrics = [kmetrics.get(m, self.loss) for m in (metrics or [])]
        self._run_eagerly = bool(kwargs.get("run_eagerly", False))
        self._compiled = True
        self._opt_state = None
        self._train_step = self._eval_step = None

    @property
    def _absorbed_activation(self):
        """True when the loss can take the last layer's logits instead of its output."""
        if self.loss is None or self.loss.from_logits or not self._layers:
            return False
        act = getattr(self._layers[-1], "activation", None)
        return isinstance(act, str) and act.lower() == self.loss.probabilistic

    # ------------------------------------------------------------------ steps
    def _loss_and_metrics(self, y, out, from_logits):
        per_example = self.loss.per_example(y, out, from_logits or self.loss.from_logits)
        if per_example.ndim > 1:  # a loss per time step or pixel: average within the example
            per_example = per_example.reshape(per_example.shape[0], -1).mean(axis=1)
        values = [per_example]
        if self.metrics:
            pred = out
            if from_logits and self._absorbed_activation:
                act = klayers.activation_layer(self._layers[-1].activation, "output")
                pred = act[1]((), out)
            values += [m.per_example(y, pred) for m in self.metrics]
        return values

    def _build_steps(self):
        opt_init, opt_update, get_params = self.optimizer.triple()
        self._get_params = get_params
        absorbed = self._absorbed_activation

        def loss_fn(params, state, x, y, rng, inv_n):
            out, new_state = self._forward(params, state, x, train=True, rng=rng,
                                           logits=absorbed)
            sums = [v.sum() for v in self._loss_and_metrics(y, out, absorbed)]
            # 1/batch arrives as an argument: as a literal it would be baked into a kernel,
            # and every new batch size (the last, partial batch) would compile one.
            return sums[0] * inv_n, (new_state, sums)

        def train_step(i, opt_state, state, x, y, rng, inv_n):
            params = get_params(opt_state)
            (_, (new_state, sums)), grads = value_and_grad(loss_fn, has_aux=True)(
                params, state, x, y, random.fold_in(rng, i), inv_n)
            return opt_update(i, grads, opt_state), new_state, sums

        def eval_step(params, state, x, y):
            out, _ = self._forward(params, state, x, train=False, rng=None, logits=absorbed)
            return [v.sum() for v in self._loss_and_metrics(y, out, absorbed)]

        def predict_step(params, state, x):
            return self._forward(params, state, x, train=False, rng=None, logits=False)[0]

        wrap = (lambda f: f) if self._run_eagerly else jit
        self._train_step, self._eval_step = wrap(train_step), wrap(eval_step)
        self._predict_step = wrap(predict_step)
        if self._opt_state is None:
            self._opt_state = opt_init(self.params)

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
        if tuple(x.shape[1:]) != want:
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

    def _check_targets(self, y, who):
        out = self._shapes[-1]
        loss = self.loss
        if loss.target == "onehot":
            if y.dtype.kind in "iub" and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
                raise KerasInputError(
                    f"{who}: {loss.name} expects one-hot targets of shape (n, {out[-1]}), "
                    f"but y holds integer class labels of shape {y.shape}. Either convert "
                    f"them with y = lepton.keras.utils.to_categorical(y, {out[-1]}), or "
                    f"compile with loss='sparse_categorical_crossentropy'.")
            if tuple(y.shape[1:]) != tuple(out[1:]):
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
            if got not in (want, want + (1,)):
                raise KerasInputError(
                    f"{who}: labels of shape {y.shape} do not fit the model's output "
                    f"{_keras_shape(out)}: expected (n{''.join(', ' + str(d) for d in want)})."
                    f"{_flatten_hint(self)}")
            if y.size and (y.min() < 0 or y.max() >= out[-1]):
                raise KerasInputError(f"{who}: labels must be in [0, {out[-1]}) for the "
                                      f"model's {out[-1]} outputs; found [{y.min()}, "
                                      f"{y.max()}]")
            return y.astype(np.int32, copy=False)
        if tuple(y.shape[1:]) != tuple(out[1:]):
            if y.ndim == 1 and tuple(out[1:]) == (1,):
                return y.astype(np.float32)[:, None]
            raise KerasInputError(f"{who}: targets of shape {y.shape} do not match the "
                                  f"model's output shape {_keras_shape(out)}."
                                  f"{_flatten_hint(self)}")
        return y.astype(np.float32, copy=False)

    def _require_compiled(self, who):
        if not self._compiled:
            raise RuntimeError(f"{who}: compile the model first, e.g. model.compile("
                               f"optimizer='adam', loss='categorical_crossentropy', "
                               f"metrics=['accuracy'])")

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
            seed=None):
        self._require_compiled("fit")
        if y is None:
            raise KerasInputError("fit needs targets: fit(x, y, ...)")
        batch_size = 32 if batch_size is None else int(batch_size)
        verbose = _resolve_verbose(verbose)
        x, y = self._prepare(x, y, "fit")
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"validation_split must be in (0, 1); got {validation_split}")
            n_val = int(len(x) * validation_split)
            if n_val == 0:
                raise ValueError(f"validation_split={validation_split} leaves no validation "
                                 f"sample out of {len(x)}")
            x, y, vx, vy = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
        elif validation_data is not None:
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be (x_val, y_val)")
            vx, vy = self._prepare(validation_data[0], validation_data[1], "fit (validation)")
        else:
            vx = vy = None
        if len(x) == 0:
            raise KerasInputError("fit: x holds no samples")
        if self._train_step is None:
            self._build_steps()
        steps = -(-len(x) // batch_size)
        history = cbks.History()
        cb = cbks.CallbackList([history, *(callbacks or [])], self,
                               {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        rng = np.random.default_rng(draw_seed() if seed is None else seed)
        key = random.PRNGKey(int(rng.integers(2 ** 31)))
        state = self.state
        opt_state = self._opt_state
        step = getattr(self, "_step_count", 0)
        compiled = False
        cb.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            cb.on_epoch_begin(epoch)
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            bar = ProgressBar(steps, verbose=verbose)
            totals = np.zeros(1 + len(self.metrics))
            seen = 0
            for b in range(steps):
                idx = order[b * batch_size:(b + 1) * batch_size]
                cb.on_train_batch_begin(b)
                t0 = time.perf_counter()
                opt_state, state, sums = self._train_step(step, opt_state, state, x[idx],
                                                          y[idx], key,
                                                          np.float32(1 / len(idx)))
                if not compiled:
                    wait_for_compilation()
                    totals += [float(s) for s in sums]
                    dt = time.perf_counter() - t0
                    bar.exclude(dt)
                    compiled = True
                    if verbose:
                        print(f"compiling the train step ... {dt:.1f} s", flush=True)
                else:
                    totals += [float(s) for s in sums]
                step += 1
                seen += len(idx)
                logs = self._logs(totals / seen)
                bar.update(b + 1, logs, len(idx))
                cb.on_train_batch_end(b, logs)
            self._opt_state, self.state, self._step_count = opt_state, state, step
            self.params = self._get_params(opt_state)
            logs = self._logs(totals / seen)
            if vx is not None:
                val = self._evaluate_arrays(vx, vy, batch_size)
                logs.update({f"val_{k}": v for k, v in self._logs(val).items()})
            bar.finish(logs)
            cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cb.on_train_end()
        self.history = history
        return history

    def _logs(self, values):
        names = ["loss"] + [m.name for m in self.metrics]
        return {n: float(v) for n, v in zip(names, values)}

    def _evaluate_arrays(self, x, y, batch_size):
        if self._eval_step is None:
            self._build_steps()
        totals = np.zeros(1 + len(self.metrics))
        for k in range(0, len(x), batch_size):
            sums = self._eval_step(self.params, self.state, x[k:k + batch_size],
                                   y[k:k + batch_size])
            totals += [float(s) for s in sums]
        return totals / max(len(x), 1)

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False):
        self._require_compiled("evaluate")
        if y is None:
            raise KerasInputError("evaluate needs targets: evaluate(x, y)")
        x, y = self._prepare(x, y, "evaluate")
        values = self._evaluate_arrays(x, y, 32 if batch_size is None else int(batch_size))
        logs = self._logs(values)
        if _resolve_verbose(verbose):
            print(f"{-(-len(x) // (batch_size or 32))} steps - " +
                  " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()), flush=True)
        if return_dict:
            return logs
        return list(logs.values()) if self.metrics else logs["loss"]

    def predict(self, x, batch_size=None, verbose="auto"):
        x, _ = self._prepare(x, None, "predict")
        if self._predict_step is None:
            self._predict_step = jit(lambda p, s, xb: self._forward(
                p, s, xb, train=False, rng=None, logits=False)[0])
        batch_size = 32 if batch_size is None else int(batch_size)
        outs = [np.asarray(self._predict_step(self.params, self.state, x[k:k + batch_size]))
                for k in range(0, len(x), batch_size)]
        if not outs:
            return np.zeros((0,) + tuple(self._shapes[-1][1:]), np.float32)
        return np.concatenate(outs)

    def __call__(self, x, training=False):
        self._require_built("__call__")
        return self._forward(self.params, self.state, self._cast_inputs(np.asarray(x)),
                             train=training, rng=None, logits=False)[0]

    # ------------------------------------------------------------------ summary
    def count_params(self):
        self._require_built("count_params")
        return sum(int(np.size(a)) for a in leaves(self.params))

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
        trainable = self.count_params()
        frozen = sum(int(np.size(a)) for a in leaves(self.state))
        lines = [f'Model: "{self.name}"', "_" * width,
                 f"{'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>10}", "=" * width]
        for i, r in enumerate(rows):
            lines.append(f"{r[0]:<{w0}}{r[1]:<{w1}}{r[2]:>10}")
            lines.append("=" * width if i == len(rows) - 1 else "")
        lines += [f"Total params: {trainable + frozen:,}",
                  f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {frozen:,}", "_" * width]
        print_fn("\n".join(line for line in lines if line != "" or False))

    # ------------------------------------------------------------------ weights
    def get_weights(self):
        """All weights as a flat list of NumPy arrays in Keras's order and shapes: layer by
        layer, each layer's trainable weights then its state (BatchNorm's moving mean and
        variance); a convolution's bias is ``(filters,)``.  Keras's ``get_weights()`` of
        the same architecture lines up with it, except GRU's, whose gates Keras orders
        (z, r, h) with a (2, 3 * units) bias where lepton follows PyTorch's (r, z, n)."""
        self._require_built("get_weights")
        return [np.array(a).reshape(self._layers[i].keras_shape(j, np.shape(a)))
                for i, j, a in self._weight_leaves(self.params, self.state)]

    def _weight_leaves(self, params, state):
        """``(layer index, index within the layer, array)`` in get_weights's order."""
        out = []
        for i, layer in enumerate(self._layers):
            arrays = leaves(params[i]) + leaves(state[i])
            out += [(i, j, arrays[j]) for j in layer.keras_order(len(arrays))]
        return out

    def set_weights(self, weights):
        """Set the weights from a list in ``get_weights``'s order; an array may also have
        the model's own shape for it (a conv bias as ``(1, 1, 1, filters)``)."""
        self._require_built("set_weights")
        old = self._weight_leaves(self.params, self.state)
        weights = list(weights)
        if len(weights) != len(old):
            raise ValueError(f"set_weights: expected {len(old)} arrays, got {len(weights)}")
        new = {}
        for k, (w, (i, j, o)) in enumerate(zip(weights, old)):
            want = np.shape(o)
            if np.shape(w) not in (want, self._layers[i].keras_shape(j, want)):
                raise ValueError(f"set_weights: array {k} (layer {self._layers[i].name!r}) "
                                 f"has shape {np.shape(w)}, the model needs "
                                 f"{self._layers[i].keras_shape(j, want)}")
            new[i, j] = np.asarray(w, dtype=np.asarray(o).dtype).reshape(want)
        params, state = [], []
        for i, (p, st) in enumerate(zip(self.params, self.state)):
            p_leaves, p_def = flatten(p)
            s_leaves, s_def = flatten(st)
            n = len(p_leaves)
            params.append(unflatten(p_def, [new[i, j] for j in range(n)]))
            state.append(unflatten(s_def, [new[i, n + j] for j in range(len(s_leaves))]))
        self.params, self.state = params, state
        if self._opt_state is not None and self._compiled:
            opt_init = self.optimizer.triple()[0]
            self._opt_state = opt_init(self.params)

    def _set_tree_weights(self, params, state):
        """Weights from a saved ``(params, state)`` tree of this architecture."""
        self.set_weights([a for _, _, a in self._weight_leaves(params, state)])

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

    def get_config(self):
        return {"name": self.name, "input_shape": list(self._input_shape or ()),
                "layers": [{"class_name": type(l).__name__, "config": l.get_config()}
                           for l in self._layers]}

    def save(self, filepath):
        """The whole model: architecture, weights, layer state, optimizer state."""
        self._require_built("save")
        tree = {"format": "lepton.keras.Sequential", "version": 1,
                "config": json.dumps(self.get_config()),
                "weights": {"params": self.params, "state": self.state},
                "compile": json.dumps(self._compile_config()),
                "opt_state": self._opt_state, "step": int(getattr(self, "_step_count", 0))}
        _save(filepath, tree)

    def _compile_config(self):
        if not self._compiled:
            return None
        return {"optimizer": self.optimizer.get_config(), "loss": self.loss.name,
                "from_logits": self.loss.from_logits,
                "metrics": [m.name for m in self.metrics]}


def load_model(filepath):
    """A Sequential saved with ``model.save``, compiled again if it was, with its optimizer
    state, so ``fit`` continues where it stopped."""
    tree = _load(filepath)
    if not isinstance(tree, dict) or tree.get("format") != "lepton.keras.Sequential":
        raise ValueError(f"{filepath} is not a lepton.keras model file (it may hold weights "
                         f"only: use model.load_weights)")
    config = json.loads(tree["config"])
    model = Sequential(name=config["name"])
    for spec in config["layers"]:
        model.add(klayers.from_config(spec))
    model.build((None, *config["input_shape"]))
    model._set_tree_weights(tree["weights"]["params"], tree["weights"]["state"])
    compile_cfg = json.loads(tree["compile"])
    if compile_cfg:
        opt = compile_cfg["optimizer"]
        optimizer = kopt.OPTIMIZERS[opt["class_name"].lower()](**opt["config"]) \
            if opt["class_name"].lower() in kopt.OPTIMIZERS else "adam"
        loss = klosses.get(compile_cfg["loss"])
        loss.from_logits = compile_cfg["from_logits"]
        model.compile(optimizer=optimizer, loss=loss, metrics=compile_cfg["metrics"])
        if tree.get("opt_state") is not None:
            model._build_steps()
            model._opt_state = tree["opt_state"]
            model._step_count = tree["step"]
    return model


def _keras_shape(shape):
    return tuple(None if d == -1 else d for d in shape)


def _flatten_hint(model):
    out = model._shapes[-1]
    if len(out) > 2 and not any(isinstance(l, klayers.Flatten) for l in model._layers):
        return " The model's output is still a feature map: add Flatten() before the final Dense."
    return ""
