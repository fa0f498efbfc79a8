"""lepton.stax: neural-network layers as ``(init_fun, apply_fun)`` pairs.

A drop-in for ``jax.example_libraries.stax`` (same names, signatures and defaults; code
written for it runs after changing the imports), plus GlobalAvgPool, GlobalMaxPool,
Reshape, LayerNorm, Embedding, SimpleRNN/LSTM/GRU, Bidirectional, stateful BatchNorm and
shape checks.

Protocols
---------
*Stateless* layers and models (every model with no stateful layer) keep JAX's protocol::

    init_fun(rng, input_shape) -> (output_shape, params)
    apply_fun(params, inputs, **kwargs) -> outputs      # rng=key for randomness

``input_shape`` may use -1 for an unknown batch size.

*Stateful* layers (BatchNorm, whose running mean and variance are explicit state) and any
``serial``/``parallel`` containing one use one convention::

    init_fun(rng, input_shape) -> (output_shape, params, state)
    apply_fun(params, state, inputs, *, train=True, rng=None, **kwargs) -> (outputs, new_state)

``train=False`` is evaluation: BatchNorm uses its running statistics and Dropout keeps
everything.  The state of a combinator is a list with one entry per layer (``()`` for
stateless ones).  ``is_stateful(layer)`` tells which protocol a layer uses (visible before
``init``), and ``stateful(layer)`` wraps any layer in the stateful protocol so that one
training loop serves every model.  A typical step::

    def loss(params, state, x, y, key):
        logits, state = apply_fun(params, state, x, train=True, rng=key)
        return lepton.nn.losses.sparse_categorical_crossentropy(y, logits,
                                                                from_logits=True), state
    (l, state), grads = lepton.value_and_grad(loss, has_aux=True)(params, state, x, y, k)

Porting from ``jax.example_libraries.stax``
-------------------------------------------
* ``Dropout(rate)``: lepton's ``rate`` is the probability of DROPPING (Keras, PyTorch);
  JAX's is the probability of keeping.  JAX's ``Dropout(0.9)`` is ``Dropout(0.1)`` or
  ``Dropout(keep_prob=0.9)`` here.
* ``BatchNorm`` is stateful (running statistics, see above).  JAX's stateless layer,
  which always uses batch statistics, is ``BatchNorm(..., track_running_stats=False)``.
* ``Dense`` rejects inputs of rank 4 or more (a missing ``Flatten`` is the usual cause).

Shape checks
------------
Every layer checks its input shape in ``init`` and in ``apply``.  A mismatch raises
``LayerShapeError`` (a ``ShapeError``/``ValueError``) naming the layer's position in the
enclosing serial/parallel combinators (0-based, dotted for nesting: ``layer 2.1``), its
type, the shape it got, the shape it expects and a fix.  Under ``jit`` the checks run once,
at trace time, and add nothing to the compiled code.
"""
from __future__ import annotations

from ..nn import (elu, gelu, leaky_relu, log_softmax, relu, selu, sigmoid,  # noqa: F401
                  softmax, softplus, standardize)
from ..nn.initializers import glorot_normal, normal, ones, zeros  # noqa: F401
from ._base import Layer, LayerShapeError, is_stateful  # noqa: F401
from ._combinators import (FanInConcat, FanInSum, FanOut, parallel, serial,  # noqa: F401
                           shape_dependent, stateful)
from ._conv import (AvgPool, Conv, Conv1D, Conv1DTranspose, ConvTranspose,  # noqa: F401
                    GeneralConv, GeneralConvTranspose, GlobalAvgPool, GlobalMaxPool,
                    MaxPool, SumPool, conv_transpose)
from ._core import (Dense, Elu, Embedding, Exp, Flatten, Gelu, Identity,  # noqa: F401
                    LeakyRelu, LogSoftmax, Relu, Relu6, Reshape, Selu, Sigmoid, Silu,
                    Softmax, Softplus, Tanh, elementwise)
from ._norm import BatchNorm, Dropout, LayerNorm  # noqa: F401
from ._recurrent import GRU, LSTM, Bidirectional, SimpleRNN, gated_recurrent  # noqa: F401

# aliases kept by jax.example_libraries.stax
glorot = glorot_normal
randn = normal
logsoftmax = log_softmax
from ._augment import (Normalization, RandomContrast, RandomFlip, RandomRotation,  # noqa: F401
                       RandomTranslation, RandomZoom, Rescaling, affine_warp)
