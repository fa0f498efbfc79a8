"""NumPy's ``numpy.random`` under ``lepton.numpy.random``, as autograd exposes it as
``autograd.numpy.random``: host-side sampling that returns NumPy arrays (never traced or
differentiated).  For functional, jit-able sampling use ``lepton.random``."""
from numpy.random import *  # noqa: F401,F403
from numpy.random import __all__  # noqa: F401
