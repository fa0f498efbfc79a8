"""Where lepton.keras's randomness comes from when no seed is given.

As in Keras, weight initialisation (``build``), ``fit``'s shuffling and its training-time
randomness (dropout, augmentation) draw fresh seeds in every process, so each run of a
script is a new sample of the training outcome; ``set_random_seed(seed)`` fixes them all
(and Python's and NumPy's global generators, as Keras's does) for a reproducible run.
``build(seed=...)`` and ``fit(seed=...)`` still pin one model's draws explicitly.
"""
from __future__ import annotations

import random as _pyrandom

import numpy as np

__all__ = ["set_random_seed", "draw_seed"]

_generator = np.random.default_rng()


def set_random_seed(seed):
    """Seed every draw lepton.keras makes without an explicit seed, plus ``random`` and
    ``np.random`` (Keras's ``keras.utils.set_random_seed``)."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"set_random_seed expects an integer seed; got "
                        f"{type(seed).__name__} {seed!r}")
    if not 0 <= seed < 2 ** 32:
        raise ValueError(f"set_random_seed: the seed must be in [0, 2**32); got {seed}")
    _pyrandom.seed(int(seed))
    np.random.seed(int(seed))
    _generator = np.random.default_rng(int(seed))


def draw_seed():
    """The next seed for a draw made without one (a fresh one per process unless seeded)."""
    return int(_generator.integers(2 ** 31))
