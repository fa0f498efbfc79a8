"""BatchNormalization and LayerNormalization, with Keras's gamma-before-beta
weight order.
"""
from __future__ import annotations

from ... import stax
from .. import regularizers as kregs
from .options import _defaults_only, initializer
from .base import Layer


def _gamma_first(self, n):
    """Keras lists a normalisation's gamma before beta; stax's params are (beta, gamma)."""
    order = list(range(n))
    if self.center and self.scale:
        order[0], order[1] = 1, 0
    return order


class _BetaGamma:
    """beta/gamma initializers and regularizers of the normalisation layers (stax params
    ``(beta, gamma)``, ``()`` for an absent one)."""
    supports_masking = True  # passes a mask on (Keras)

    def _set_beta_gamma(self, beta_initializer, gamma_initializer, beta_regularizer,
                        gamma_regularizer, beta_constraint, gamma_constraint):
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.beta_regularizer = kregs.get(beta_regularizer)
        self.gamma_regularizer = kregs.get(gamma_regularizer)
        _defaults_only(self, beta_constraint=(beta_constraint, None),
                       gamma_constraint=(gamma_constraint, None))

    def _beta_gamma_inits(self):
        where = f"{type(self).__name__} {self.name!r}"
        return dict(beta_init=initializer(self.beta_initializer, where),
                    gamma_init=initializer(self.gamma_initializer, where))

    def penalties(self, params):
        beta, gamma = params
        return [(r, w) for r, w in ((self.beta_regularizer, beta),
                                    (self.gamma_regularizer, gamma))
                if r is not None and not isinstance(w, tuple)]

    def _regularizer_config(self):
        return {k: kregs.serialize(getattr(self, k)) for k in
                ("beta_regularizer", "gamma_regularizer") if getattr(self, k) is not None}


class BatchNormalization(_BetaGamma, Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self._set_beta_gamma(beta_initializer, gamma_initializer, beta_regularizer,
                             gamma_regularizer, beta_constraint, gamma_constraint)
        # synchronized only matters across devices; lepton runs on one
        _defaults_only(self, moving_mean_initializer=(moving_mean_initializer, "zeros"),
                       moving_variance_initializer=(moving_variance_initializer, "ones"),
                       renorm=(renorm, False), renorm_clipping=(renorm_clipping, None))

    def build_stax(self):
        # Keras names the feature axis; stax's BatchNorm takes the axes it averages over.
        def make(rank):
            feature = self.axis % rank
            return stax.BatchNorm(axis=tuple(i for i in range(rank) if i != feature),
                                  epsilon=self.epsilon, center=self.center, scale=self.scale,
                                  momentum=self.momentum, **self._beta_gamma_inits())

        def init_fun(rng, input_shape):
            return make(len(input_shape))[0](rng, input_shape)

        def apply_fun(params, state, inputs, *, train=True, rng=None, **kwargs):
            return make(len(inputs.shape))[1](params, state, inputs, train=train, rng=rng,
                                              **kwargs)

        return stax.Layer(init_fun, apply_fun, "BatchNorm", stateful=True)

    keras_order = _gamma_first

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **self._regularizer_config()}


class LayerNormalization(_BetaGamma, Layer):
    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        self._set_beta_gamma(beta_initializer, gamma_initializer, beta_regularizer,
                             gamma_regularizer, beta_constraint, gamma_constraint)

    def build_stax(self):
        return stax.LayerNorm(axis=self.axis, epsilon=self.epsilon, center=self.center,
                              scale=self.scale, **self._beta_gamma_inits())

    keras_order = _gamma_first

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, **self._regularizer_config()}
