"""Keras optimizer objects, with Keras 3's update formulas.

Each class keeps Keras's argument names and defaults (``Adam(learning_rate=0.001,
beta_1=0.9, beta_2=0.999, epsilon=1e-7)``) and Keras's arithmetic, which differs from
``lepton.optimizers`` (JAX's ``example_libraries`` forms) in ways that change training:

- Adam/AdamW put ``epsilon`` on the uncorrected ``sqrt(v)`` and fold both bias corrections
  into the step, ``x -= lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + epsilon)``;
  JAX adds ``eps`` to ``sqrt(v_hat)``.  Early on Keras's effective epsilon is
  ``epsilon / sqrt(1 - b2**t)`` (30x larger at step 1), which damps tiny gradients.
- Adagrad starts its accumulator at ``initial_accumulator_value=0.1`` and divides by
  ``sqrt(acc + epsilon)``; JAX starts at 0 (first step ``lr * sign(g)``) with momentum 0.9.
- SGD momentum keeps ``lr`` inside the velocity (``m = momentum * m - lr * g``), which only
  matters with a learning-rate schedule.
- ``clipnorm`` clips each gradient by its own norm, ``global_clipnorm`` all of them
  together, ``clipvalue`` elementwise; ``weight_decay`` (every optimizer) shrinks
  ``x -= lr * weight_decay * x`` before the update, as Keras does.

``learning_rate`` is a float or a schedule ``step -> lr`` (for example
``lepton.optimizers.cosine_decay``), called with the 0-based step as Keras calls its
schedules with ``optimizer.iterations``.  ``compile(optimizer='adam')`` looks the name up
here with the defaults.  ``triple()`` gives a ``lepton.optimizers`` triple.
"""
from __future__ import annotations

import numpy as np

from .. import numpy as lnp
from .. import optimizers as _opt
from . import schedules  # noqa: F401  (keras.optimizers.schedules.ExponentialDecay, ...)

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adamax", "Adagrad", "Nadam",
           "get", "OPTIMIZERS"]


def _f32(value, like):
    """A Python constant as a 0-d array of ``like``'s dtype (Keras casts them likewise)."""
    return lnp.asarray(np.asarray(value, dtype=like.dtype))


def _clip_by_norm(g, clipnorm):
    """Keras's ``clip_by_norm``: ``g * clipnorm / max(||g||, clipnorm)``."""
    l2sum = lnp.sum(lnp.square(g))
    positive = l2sum > 0
    norm = lnp.where(positive, lnp.sqrt(lnp.where(positive, l2sum, 1)), l2sum)
    return g * clipnorm / lnp.maximum(norm, clipnorm)


class Optimizer:
    """Holds the configuration; ``triple()`` gives ``(opt_init, opt_update, get_params)``.

    Subclasses define ``_slots(x)``, the per-parameter state after ``x`` (a tuple), and
    ``_step(lr, t, g, x, slots) -> (x, slots)`` for one array, ``t`` the 1-based step.
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):
        self.learning_rate = learning_rate
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: give at most one of clipnorm, clipvalue "
                             f"and global_clipnorm (got clipnorm={clipnorm}, clipvalue="
                             f"{clipvalue}, global_clipnorm={global_clipnorm})")
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)

    def _slots(self, x):
        raise NotImplementedError

    def _step(self, lr, t, g, x, slots):
        raise NotImplementedError

    def _make(self, lr=None):
        """The per-array rule, lifted to pytrees by ``lepton.optimizers.optimizer``; a
        given ``lr`` (a traced value) replaces ``learning_rate``."""
        lr_of = _opt.make_schedule(self.learning_rate) if lr is None else (lambda i: lr)
        wd, clipnorm, clipvalue = self.weight_decay, self.clipnorm, self.clipvalue

        def init(x0):
            return (x0,) + tuple(self._slots(x0))

        def update(i, g, state):
            x, slots = state[0], state[1:]
            if clipnorm is not None:
                g = _clip_by_norm(g, clipnorm)
            elif clipvalue is not None:
                g = lnp.clip(g, -clipvalue, clipvalue)
            lr = lr_of(i)
            if wd is not None:
                x = x - x * wd * lr
            x, slots = self._step(lr, i + 1, g, x, slots)
            return (x,) + tuple(slots)

        return _opt.optimizer(lambda: (init, update, lambda state: state[0]))()

    def triple(self, lr_input=False):
        """``(opt_init, opt_update, get_params)``.  With ``lr_input`` the update is
        ``opt_update(i, grads, state, lr)``: the learning rate is an argument, so a callback
        that changes ``optimizer.learning_rate`` between steps (ReduceLROnPlateau,
        LearningRateScheduler) needs no new compile."""
        init, update, get_params = self._make()
        max_norm = self.global_clipnorm

        def clip(grads):
            return grads if max_norm is None else _opt.clip_by_global_norm(grads, max_norm)

        if lr_input:
            def update_lr(i, grads, state, lr):
                return self._make(lr)[1](i, clip(grads), state)
            return init, update_lr, get_params
        if max_norm is None:
            return init, update, get_params

        def clipped_update(i, grads, state):
            return update(i, clip(grads), state)
        return init, clipped_update, get_params

    def current_learning_rate(self, step):
        """The learning rate as a number (a schedule's value at ``step``)."""
        lr = self.learning_rate
        return float(np.asarray(lr(step) if callable(lr) else lr))

    def get_config(self):
        """``{'class_name', 'config'}``; a Keras schedule (``schedules.*``) as learning
        rate is kept as its own config.  Any other function cannot be stored (a file never
        names code): ``learning_rate_function`` then records its name and ``learning_rate``
        is left out."""
        cfg = {k: v for k, v in vars(self).items() if not callable(v) and
               not k.startswith("_")}
        lr = self.learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            cfg["learning_rate"] = {"class_name": type(lr).__name__, "config": lr.get_config()}
        elif callable(lr):
            cfg["learning_rate_function"] = getattr(lr, "__name__", type(lr).__name__)
        return {"class_name": type(self).__name__, "config": cfg}


def from_config(spec):
    """The optimizer ``get_config`` described, or ``None`` for a custom one (a file cannot
    hold it).  A learning-rate function that was not saved (``learning_rate_function`` in
    the config) leaves the class's default rate: the caller warns."""
    name = spec["class_name"].lower()
    if name not in OPTIMIZERS:
        return None
    cfg = dict(spec["config"])
    lr = cfg.get("learning_rate")
    if isinstance(lr, dict):
        cls = getattr(schedules, lr["class_name"], None)
        if not (isinstance(cls, type) and issubclass(cls, schedules.LearningRateSchedule)):
            raise ValueError(f"unknown learning-rate schedule {lr['class_name']!r} in a "
                             f"saved model")
        cfg["learning_rate"] = cls(**lr["config"])
    cfg.pop("learning_rate_function", None)
    return OPTIMIZERS[name](**cfg)


class SGD(Optimizer):
    """``m = momentum * m - lr * g``; ``x += m`` (Nesterov: ``x += momentum * m - lr * g``)."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _slots(self, x):
        return (lnp.zeros_like(x),) if self.momentum else ()

    def _step(self, lr, t, g, x, slots):
        if not self.momentum:
            return x - g * lr, ()
        mu = _f32(self.momentum, x)
        m = slots[0] * mu - g * lr
        if self.nesterov:
            return x + (m * mu - g * lr), (m,)
        return x + m, (m,)


class RMSprop(Optimizer):
    """``v = rho * v + (1 - rho) * g**2``; ``x -= lr * g / sqrt(v + epsilon)`` (optionally
    centered, and with momentum ``m = momentum * m + increment``)."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    def _slots(self, x):
        n = 1 + bool(self.momentum) + self.centered
        return tuple(lnp.zeros_like(x) for _ in range(n))

    def _step(self, lr, t, g, x, slots):
        v, rest = slots[0], list(slots[1:])
        v = self.rho * v + (1 - self.rho) * lnp.square(g)
        out = [v]
        if self.centered:
            avg = self.rho * rest.pop() + (1 - self.rho) * g
            denominator = v - lnp.square(avg) + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = lr * g / lnp.sqrt(denominator)
        if self.momentum:
            m = self.momentum * rest.pop(0) + increment
            out.append(m)
            x = x - m
        else:
            x = x - increment
        if self.centered:
            out.append(avg)
        return x, tuple(out)


class Adam(Optimizer):
    """Keras's Adam: ``alpha = lr * sqrt(1 - b2**t) / (1 - b1**t)``;
    ``m += (g - m) * (1 - b1)``; ``v += (g**2 - v) * (1 - b2)``;
    ``x -= alpha * m / (sqrt(v) + epsilon)`` (``max`` of all ``v`` so far with amsgrad)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _slots(self, x):
        return tuple(lnp.zeros_like(x) for _ in range(3 if self.amsgrad else 2))

    def _step(self, lr, t, g, x, slots):
        m, v = slots[0], slots[1]
        t = lnp.asarray(t).astype(x.dtype)
        b1_power = _f32(self.beta_1, x) ** t
        b2_power = _f32(self.beta_2, x) ** t
        alpha = lr * lnp.sqrt(1 - b2_power) / (1 - b1_power)
        m = m + (g - m) * (1 - self.beta_1)
        v = v + (lnp.square(g) - v) * (1 - self.beta_2)
        out = (m, v)
        if self.amsgrad:
            v = lnp.maximum(slots[2], v)
            out = (m, out[1], v)
        return x - (m * alpha) / (lnp.sqrt(v) + self.epsilon), out


class AdamW(Adam):
    """Adam with Keras's decoupled weight decay (default 0.004): ``x -= lr * wd * x``, then
    the Adam step."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Adamax(Optimizer):
    """``m += (g - m) * (1 - b1)``; ``u = max(b2 * u, |g|)``;
    ``x -= lr * m / ((1 - b1**t) * (u + epsilon))``."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _slots(self, x):
        return lnp.zeros_like(x), lnp.zeros_like(x)

    def _step(self, lr, t, g, x, slots):
        m, u = slots
        t = lnp.asarray(t).astype(x.dtype)
        b1_power = _f32(self.beta_1, x) ** t
        m = m + (g - m) * (1 - self.beta_1)
        u = lnp.maximum(self.beta_2 * u, lnp.abs(g))
        return x - (lr * m) / ((1 - b1_power) * (u + self.epsilon)), (m, u)


class Adagrad(Optimizer):
    """``acc += g**2`` (from ``initial_accumulator_value``); ``x -= lr * g / sqrt(acc +
    epsilon)``."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _slots(self, x):
        return (lnp.full_like(x, self.initial_accumulator_value),)

    def _step(self, lr, t, g, x, slots):
        acc = slots[0] + lnp.square(g)
        return x - (lr * g) / lnp.sqrt(acc + self.epsilon), (acc,)


class Nadam(Optimizer):
    """Keras's Nadam (Adam with Nesterov momentum and the momentum schedule
    ``u_t = beta_1 * (1 - 0.5 * 0.96**t)``):
    ``m_hat = u_{t+1} m / (1 - prod u_1..u_{t+1}) + (1 - u_t) g / (1 - prod u_1..u_t)``,
    ``x -= lr * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)``."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _slots(self, x):
        # the running product of the u_t (one scalar per array, as Keras's one variable)
        return lnp.zeros_like(x), lnp.zeros_like(x), lnp.ones((), x.dtype)

    def _step(self, lr, t, g, x, slots):
        m, v, u_product = slots
        t = lnp.asarray(t).astype(x.dtype)
        b1, decay = _f32(self.beta_1, x), _f32(0.96, x)
        u_t = b1 * (1.0 - 0.5 * decay ** t)
        u_next = b1 * (1.0 - 0.5 * decay ** (t + 1))
        u_product = u_product * u_t
        m = m + (g - m) * (1 - self.beta_1)
        v = v + (lnp.square(g) - v) * (1 - self.beta_2)
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - _f32(self.beta_2, x) ** t)
        return x - (m_hat * lr) / (lnp.sqrt(v_hat) + self.epsilon), (m, v, u_product)


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
              "adamax": Adamax, "adagrad": Adagrad, "nadam": Nadam}


def get(identifier):
    """An Optimizer from a name, an Optimizer, or a ``(init, update, get_params)`` triple."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {identifier!r}. Valid names: "
                             f"{', '.join(sorted(OPTIMIZERS))}; or pass an object such as "
                             f"lepton.keras.optimizers.Adam(learning_rate=1e-3).")
        return OPTIMIZERS[key]()
    if isinstance(identifier, tuple) and len(identifier) == 3 and all(map(callable,
                                                                           identifier)):
        return _Triple(identifier)
    raise TypeError(f"optimizer must be a name ({', '.join(sorted(OPTIMIZERS))}), a "
                    f"lepton.keras.optimizers.Optimizer, or a lepton.optimizers triple; got "
                    f"{type(identifier).__name__}")


class _Triple(Optimizer):
    """A ``lepton.optimizers`` triple passed straight to compile."""

    def __init__(self, triple):
        super().__init__(None)
        self._triple = triple

    def _make(self):
        return self._triple

    def get_config(self):
        return {"class_name": "custom", "config": {}}

