"""Keras layers as thin descriptions of lepton.stax layers.

A keras layer holds Keras's constructor arguments (names and defaults: glorot_uniform
kernels, zero biases, channels-last, ``activation=`` strings) and builds one stax layer
from them (``to_stax()``).  The model is a ``stax.serial`` of those, so everything
numerical -- shapes, checks, gradients, jit -- is stax's.

One module per family: ``options`` (argument checks shared by all), ``base`` (``Layer``),
``core``, ``activation``, ``convolutional``, ``pooling``, ``reshaping``, ``regularization``,
``normalization``, ``recurrent``, ``wrappers``, ``merging``, ``symbolic`` (the
functional API's tensors), and ``saving`` (``from_config``).  The preprocessing layers
live in ``lepton.keras.preprocessing``; ``lepton.keras`` also sets them here.
"""
from __future__ import annotations

from .options import (ACTIVATIONS, activation_layer, initializer, check_seed,  # noqa: F401
                      _channels_last)
from .base import Layer
from .core import InputLayer, Dense, Lambda, Embedding, Masking
from .symbolic import Input, KerasTensor
from .merging import (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
                      add, subtract, multiply, average, maximum, minimum, concatenate, dot)
from .activation import Activation, ReLU, LeakyReLU, ELU, Softmax
from .convolutional import Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose
from .pooling import (MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
                      GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                      GlobalMaxPooling2D)
from .reshaping import Flatten, Reshape, ZeroPadding1D, ZeroPadding2D, UpSampling1D, UpSampling2D
from .regularization import Dropout, SpatialDropout1D, SpatialDropout2D, GaussianNoise
from .normalization import BatchNormalization, LayerNormalization
from .recurrent import SimpleRNN, LSTM, GRU, Bidirectional
from .wrappers import TimeDistributed
from .saving import from_config  # noqa: F401

__all__ = ["Layer", "InputLayer", "Input", "Dense", "Conv1D", "Conv2D", "MaxPooling1D",
           "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Flatten",
           "Dropout", "BatchNormalization", "LayerNormalization", "Activation", "Reshape",
           "Embedding", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "ACTIVATIONS", "ReLU",
           "LeakyReLU", "ELU", "Softmax", "ZeroPadding1D", "ZeroPadding2D", "UpSampling1D",
           "UpSampling2D", "Conv1DTranspose", "Conv2DTranspose", "SpatialDropout1D",
           "SpatialDropout2D", "GaussianNoise", "Lambda", "KerasTensor", "Add", "Subtract",
           "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "Masking",
           "TimeDistributed"]
