"""Where fit / evaluate / predict get their batches: arrays, Python generators or iterators,
and ``PyDataset`` objects, with Keras 3's rules for ``steps_per_epoch`` over them.

Keras 3's rules (checked against Keras 3.15 on its JAX backend):

- With ``steps_per_epoch`` the data is *not* restarted at each epoch: epoch 2 goes on from
  where epoch 1 stopped.  When a finite source (arrays, a ``PyDataset`` with a length) runs
  out before the epoch's steps, Keras warns ("Your input ran out of data ..."), ends that
  epoch early and starts the next epoch on a fresh pass (reshuffled).
- Without ``steps_per_epoch`` an epoch is one pass: all the batches of arrays or of a
  ``PyDataset``, or a generator up to its end (Keras warns when a generator ends in fit).
- Arrays with ``steps`` and no ``batch_size`` use ``batch_size = ceil(n / steps)``.
- A ``PyDataset`` gets ``on_epoch_begin()`` / ``on_epoch_end()`` around every epoch, and
  ``shuffle=True`` shuffles the order of its batch indices on every pass.

Where lepton deviates, it is because the Keras behaviour is an artefact of how Keras peeks
at a generator (it keeps its first two batches and replays them on later epochs):

- a generator cannot be restarted, so once it has ended fit warns and stops training
  (no History entry for an epoch that would get no batch);
- ``evaluate`` / ``predict`` warn only when ``steps`` was given and the data ended first
  (a finite generator without ``steps`` simply ends the evaluation);
- a validation generator is read onwards epoch after epoch (``validation_steps`` batches
  each time), not replayed.

Smaller differences: ``shuffle`` (True by default) leaves a generator as it is without
Keras's warning on every such fit; ``class_weight`` and plain iterators (``iter(batches)``)
are accepted where Keras takes generators only and refuses ``class_weight``; a
``PyDataset``'s ``on_epoch_end`` runs once per epoch (Keras 3.15 also calls it once before
training); an epoch that ran out early ends its progress line with the steps that ran
(``3/5``; Keras prints ``5/5``).
"""
from __future__ import annotations

import collections.abc
import itertools
import math
import numbers
import warnings

import numpy as np

__all__ = ["PyDataset", "Sequence", "check_steps", "is_generator", "is_pydataset",
           "ArraySource", "GeneratorSource", "PyDatasetSource", "EpochIterator",
           "unpack_batch"]

RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset "
           "or generator can generate at least `steps_per_epoch * epochs` batches.")


class PyDataset:
    """Keras's ``keras.utils.PyDataset`` (alias ``Sequence``): a dataset written in Python.

    Subclass it and define ``__len__`` (the number of batches; or a ``num_batches``
    property that returns ``None`` for an endless dataset) and ``__getitem__(i)``, which
    returns batch ``i`` as ``(x, y)`` or ``(x, y, sample_weight)`` (or ``x`` alone, for
    ``predict``).  ``on_epoch_begin`` / ``on_epoch_end`` run around every epoch (shuffle
    or augment there).  ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are
    accepted for Keras compatibility; lepton reads the batches in the training thread (the
    train step is one compiled call, the batch is the only per-step Python)."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), "
                                  f"returning batch `index` as (x, y)")

    @property
    def num_batches(self):
        """The number of batches, or ``None`` for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number "
                                  f"of batches) or a num_batches property (None: endless)")

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""

    def __iter__(self):
        n = self.num_batches
        for i in (range(n) if n is not None else itertools.count()):
            yield self[i]


Sequence = PyDataset


def check_steps(value, name):
    """``None`` or a positive int; anything else is refused with the fix."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be a positive integer (a number of batches) or "
                            f"None; got {value!r} ({type(value).__name__})")
    value = int(value)
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer (a number of batches) or None; "
                         f"got {value}. Leave it out to use all the data once per epoch.")
    return value


def is_pydataset(x) -> bool:
    """A ``PyDataset`` (lepton's or Keras's, or any object with ``__getitem__`` and
    ``on_epoch_end``: Keras 2's ``Sequence`` protocol)."""
    if isinstance(x, PyDataset):
        return True
    t = type(x)
    return hasattr(t, "__getitem__") and hasattr(t, "on_epoch_end") and \
        (hasattr(t, "__len__") or hasattr(t, "num_batches"))


def is_generator(x) -> bool:
    """A Python generator or any other one-shot iterator (Keras 3 takes generators only;
    lepton also takes ``iter(...)`` of batches)."""
    return isinstance(x, collections.abc.Iterator) and not is_pydataset(x)


def describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} ({x.dtype})"
    if isinstance(x, (tuple, list)):
        inner = ", ".join(describe(e) if isinstance(e, np.ndarray) else type(e).__name__
                          for e in x)
        return f"a {type(x).__name__} of {len(x)} ({inner})"
    shape = getattr(x, "shape", None)
    return f"a {type(x).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


def unpack_batch(batch, *, origin, index, who, need_y):
    """``(x, y, sample_weight)`` from one batch a generator / PyDataset gave (``y`` and
    ``sample_weight`` may be ``None``); a wrong structure is refused with what was given
    and what is expected."""
    if origin == "PyDataset" and not isinstance(batch, (tuple, list, dict)):
        batch = (batch,)  # Keras: a PyDataset may return the inputs alone
    expected = ("(x, y) or (x, y, sample_weight)" if need_y else
                "(x,), (x, y) or (x, y, sample_weight)")
    where = f"{who}: batch {index} of the {origin}"
    if isinstance(batch, dict):
        raise ValueError(f"{where} is a dict (keys {sorted(batch)}); a Sequential model takes "
                         f"one input: yield a tuple {expected}")
    if not isinstance(batch, (tuple, list)) or not 1 <= len(batch) <= 3:
        raise ValueError(f"{where} must be a tuple {expected}; got {describe(batch)}. "
                         f"Yield the inputs and targets together, e.g. `yield x, y`.")
    x, y, w = (tuple(batch) + (None, None))[:3]
    if need_y and y is None:
        raise ValueError(f"{where} holds no targets ({describe(batch)}); {who} needs a tuple "
                         f"(x, y) or (x, y, sample_weight)")
    return x, y, w


class ArraySource:
    """Batches of arrays already checked and cast: ``ceil(n / batch_size)`` per pass,
    reshuffled on every pass when ``shuffle``."""
    origin = "arrays"
    one_shot = False
    prepared = True

    def __init__(self, arrays, batch_size, shuffle=False, rng=None):
        self.arrays = tuple(arrays)
        self.n = len(self.arrays[0])
        self.batch_size = int(batch_size)
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size}")
        self.shuffle = shuffle
        self.rng = rng
        self.num_batches = -(-self.n // self.batch_size)

    def new_pass(self):
        bs = self.batch_size
        if self.shuffle:
            order = self.rng.permutation(self.n)
            for b in range(self.num_batches):
                idx = order[b * bs:(b + 1) * bs]
                yield tuple(a[idx] for a in self.arrays)
        else:
            for k in range(0, self.n, bs):
                yield tuple(a[k:k + bs] for a in self.arrays)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


def default_batch_size(n, batch_size, steps):
    """Keras: ``batch_size``, else ``ceil(n / steps)`` when steps are given, else 32."""
    if batch_size is not None:
        return int(batch_size)
    return max(int(math.ceil(n / steps)), 1) if steps else 32


class GeneratorSource:
    """A Python generator or iterator: read once, batch after batch (it cannot restart)."""
    origin = "generator"
    one_shot = True
    prepared = False
    num_batches = None

    def __init__(self, iterator, who):
        self._it = iter(iterator)
        try:
            self.first = next(self._it)
        except StopIteration:
            raise ValueError(f"{who}: the generator yielded no batch. It must yield at least "
                             f"one (x, y) batch (is it already used up by an earlier call? A "
                             f"generator can be read only once: make a new one).") from None
        self._pending = [self.first]

    def new_pass(self):
        while self._pending:
            yield self._pending.pop(0)
        # not `yield from`: closing an abandoned pass must not close the user's generator
        for batch in self._it:
            yield batch

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class PyDatasetSource:
    """A ``PyDataset``: ``ds[i]`` for ``i`` in one pass (shuffled order with ``shuffle``),
    endless when its ``num_batches`` is ``None``."""
    origin = "PyDataset"
    one_shot = False
    prepared = False

    def __init__(self, ds, who, shuffle=False, rng=None):
        self.ds = ds
        self.shuffle = shuffle
        self.rng = rng
        n = ds.num_batches if hasattr(type(ds), "num_batches") else len(ds)
        if n is not None:
            n = int(n)
            if n <= 0:
                raise ValueError(f"{who}: the {type(ds).__name__} has no batches "
                                 f"(num_batches={n}); it must hold at least one")
        self.num_batches = n
        self.first = ds[0]

    def new_pass(self):
        if self.num_batches is None:
            indices = itertools.count()
        elif self.shuffle:
            indices = self.rng.permutation(self.num_batches)
        else:
            indices = range(self.num_batches)
        for i in indices:
            yield self.ds[int(i)]

    def on_epoch_begin(self):
        hook = getattr(self.ds, "on_epoch_begin", None)
        if hook is not None:
            hook()

    def on_epoch_end(self):
        hook = getattr(self.ds, "on_epoch_end", None)
        if hook is not None:
            hook()


class EpochIterator:
    """One epoch's batches at a time from a source, with ``steps`` (``steps_per_epoch``,
    ``validation_steps``, evaluate's ``steps``) as Keras 3 applies them (module docstring).

    ``training``: warn whenever the data runs out, as Keras's fit does; otherwise only
    when ``steps`` were asked for and not reached."""

    def __init__(self, source, steps=None, *, training=True, who="fit"):
        self.source, self.steps, self.training, self.who = source, steps, training, who
        self._it = None
        self._seen = 0          # batches taken from the current pass
        self.exhausted = False  # a one-shot source has ended: no further epoch
        self.last_count = 0     # batches in the last epoch
        self._began = False

    @property
    def num_batches(self):
        """Batches per epoch as far as known ahead (``None``: unknown, Keras's
        ``params['steps']`` for a generator without steps)."""
        return self.steps or self.source.num_batches

    def restart(self):
        """The next epoch starts a fresh pass (evaluate resets its data, as Keras's does;
        a generator goes on where it was)."""
        self._it, self._seen = None, 0

    def _ran_out(self, k):
        if self.training:
            warnings.warn(RAN_OUT, UserWarning, stacklevel=4)
        elif self.steps:
            warnings.warn(f"{self.who}: the {self.source.origin} ran out of data after {k} "
                          f"of steps={self.steps} batches; the result is over those {k}. "
                          f"Make sure it can give at least `steps` batches.", UserWarning,
                          stacklevel=4)

    def epoch(self):
        """Yield this epoch's batches (``source.on_epoch_begin`` first; the caller calls
        ``end_epoch`` after, also when it stopped early)."""
        src, limit = self.source, self.steps
        nb = src.num_batches
        self.last_count = 0
        if self.exhausted:
            return
        src.on_epoch_begin()
        self._began = True
        if self._it is None or (not limit and not src.one_shot):
            self._it, self._seen = iter(src.new_pass()), 0
        k = 0
        while limit is None or k < limit:
            if nb is not None and self._seen >= nb:
                if limit:
                    self._ran_out(k)
                break
            try:
                batch = next(self._it)
            except StopIteration:
                self._it = None
                if src.one_shot:
                    self.exhausted = True
                if nb is None:
                    self._ran_out(k)
                break
            self._seen += 1
            k += 1
            self.last_count = k
            yield batch
        if nb is not None and self._seen >= nb:
            self._it = None

    def end_epoch(self):
        if self._began:
            self._began = False
            self.source.on_epoch_end()
