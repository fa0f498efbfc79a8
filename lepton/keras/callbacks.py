"""Keras callbacks: hooks that ``fit`` calls at the start and end of training, of each epoch
and of each batch.  ``History`` is always attached; ``EarlyStopping``, ``ModelCheckpoint``
and ``CSVLogger`` cover what a training script usually needs."""
from __future__ import annotations

import csv
import math
import os
import warnings

import numpy as np


class Callback:
    """Base class: override the hooks you need.  ``self.model`` is the model being fit and
    ``self.params`` holds fit's settings (epochs, steps, verbose)."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params)

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Fans each hook out to a list of callbacks."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be lepton.keras.callbacks.Callback instances; "
                                f"got {type(cb).__name__}. Subclass Callback and override its "
                                f"on_epoch_end/on_train_batch_end hooks.")
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)
        return call


class History(Callback):
    """Records every epoch's logs: ``history.history['loss']`` is the per-epoch loss."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))

    def plot(self, path, *, metrics=None):
        """Save loss and metric curves (train and validation) as an image at ``path``.
        Needs matplotlib: ``pip install 'lepton[plot]'``."""
        from .utils import plot_history
        return plot_history(self, path, metrics=metrics)


def _monitor_mode(monitor: str, mode: str):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
    if mode == "auto":
        name = monitor[4:] if monitor.startswith("val_") else monitor
        mode = "max" if name.startswith(("acc", "accuracy", "auc", "precision", "recall")) \
            or name.endswith("accuracy") else "min"
    return mode


class _Monitor(Callback):
    """Shared 'is this epoch better?' logic of EarlyStopping and ModelCheckpoint."""

    def __init__(self, monitor, mode, min_delta=0.0):
        super().__init__()
        self.monitor = monitor
        self.mode = _monitor_mode(monitor, mode)
        self.min_delta = abs(min_delta)
        self.best = math.inf if self.mode == "min" else -math.inf
        self._warned = False

    def _current(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None and not self._warned:
            self._warned = True
            warnings.warn(f"{type(self).__name__}: metric {self.monitor!r} is not in the epoch "
                          f"logs (available: {sorted(logs or {})}). Pass validation data to fit "
                          f"for 'val_' metrics, or choose another monitor=.", stacklevel=3)
        return value

    def _improved(self, value, reference=None):
        reference = self.best if reference is None else reference
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta


class EarlyStopping(_Monitor):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs; with
    ``restore_best_weights=True`` the model ends with the best epoch's weights (those of
    the first monitored epoch when none improved).  With a ``baseline``, as in Keras 3,
    the patience count restarts only at an epoch that beats both the best so far and the
    baseline: training stops ``patience`` epochs after the last such epoch (after the first
    ``max(patience, 2)`` epochs if none beats the baseline)."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights = None
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = self._current(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improved(value):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Saves the model (or only its weights) after every epoch, or only when ``monitor``
    improves (``save_best_only``).  ``filepath`` may hold ``{epoch:02d}`` and any log key,
    e.g. ``'ckpt-{epoch:02d}-{val_loss:.3f}.lepton'``."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch"):
        super().__init__(monitor, mode)
        if save_freq != "epoch":
            raise ValueError("ModelCheckpoint supports save_freq='epoch' only")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = self._current(logs)
            if value is None or not self._improved(value):
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                      f"{value:.5f}, saving model to {path}")
            self.best = value
        elif self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class CSVLogger(Callback):
    """Writes one CSV row per epoch (``epoch`` then the sorted log keys) to ``filename``."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._has_header = bool(exists)
        self._keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.writer(self._file, delimiter=self.separator)
            if not self._has_header:
                self._writer.writerow(["epoch", *self._keys])
        row = [epoch] + [_csv_value(logs.get(k, "NA")) for k in self._keys]
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_value(v):
    if isinstance(v, (float, np.floating, np.ndarray)):
        return repr(float(v))
    return v


def _learning_rate(model, who):
    lr = model.optimizer.learning_rate
    if callable(lr):
        raise TypeError(f"{who} sets the optimizer's learning rate, but it is a schedule "
                        f"({type(lr).__name__}); give the optimizer a number "
                        f"(e.g. Adam(learning_rate=1e-3)) to use {who}")
    return float(np.asarray(lr))


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``), as Keras; the epoch logs get ``learning_rate``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler needs a function schedule(epoch, lr) -> "
                            f"new lr; got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = _learning_rate(self.model, "LearningRateScheduler")
        try:
            new = self.schedule(epoch, lr)
        except TypeError:  # Keras also accepts the one-argument form
            new = self.schedule(epoch)
        if isinstance(new, np.ndarray) and new.ndim == 0:
            new = new.item()
        if isinstance(new, bool) or not isinstance(new, (int, float, np.floating,
                                                         np.integer)):
            raise ValueError(f"LearningRateScheduler: the schedule must return a number; "
                             f"it returned {new!r} for epoch {epoch}")
        self.model.optimizer.learning_rate = float(new)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(new)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _learning_rate(self.model, "LearningRateScheduler")


class ReduceLROnPlateau(_Monitor):
    """Multiplies the learning rate by ``factor`` (not below ``min_lr``) when ``monitor``
    has not improved by ``min_delta`` for ``patience`` epochs, then waits ``cooldown``
    epochs; Keras's rule, and the epoch logs get ``learning_rate``."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau() got unexpected keyword arguments "
                            f"{sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0; got "
                             f"{factor}")
        super().__init__(monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)

    def on_train_begin(self, logs=None):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _learning_rate(self.model, "ReduceLROnPlateau")
        value = self._current(logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = logs["learning_rate"]
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                              f"rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class TerminateOnNaN(Callback):
    """Stops training when a batch's loss is NaN or infinite, as Keras."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions, as Keras: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_batch_begin(batch, logs)``,
    ``on_train_batch_end(batch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``."""

    _HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
              "on_train_batch_end", "on_train_begin", "on_train_end")

    def __init__(self, **hooks):
        super().__init__()
        unknown = set(hooks) - set(self._HOOKS)
        if unknown:
            raise TypeError(f"LambdaCallback() got unknown hooks {sorted(unknown)}; valid: "
                            f"{', '.join(self._HOOKS)}")
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
