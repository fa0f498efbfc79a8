"""The closed set of primitives; importing this package defines them all."""
from . import base, elementwise, indexing, random_bits, reductions, slicing, sorting, structural  # noqa: F401
from . import callback, conv, fft, linalg  # noqa: F401
