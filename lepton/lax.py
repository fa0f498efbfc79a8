"""``lepton.lax``: the low-level, shape-strict API (as ``jax.lax``) and control flow.

Unlike ``lepton.numpy`` these functions do not broadcast or promote: operands must
already have the shapes and dtypes the operation requires.  Indexing (``gather`` /
``scatter*``) and ``reduce_window`` use lepton's simpler forms, documented on each
function; ``round`` rounds half to even (as NumPy).
"""
from __future__ import annotations

from .control_flow.cond import cond, switch  # noqa: F401
from .control_flow.scan import map, scan  # noqa: F401
from .control_flow.while_loop import fori_loop, while_loop  # noqa: F401
from .primitives.conv import (conv_dimension_numbers, conv_general_dilated,  # noqa: F401
                              reduce_window)
from .primitives.fft import FftType, fft  # noqa: F401
from .primitives.elementwise import (  # noqa: F401
    abs, acos, acosh, add, asin, asinh, atan, atan2, atanh, bitwise_and, bitwise_not,
    bitwise_or, bitwise_xor, cbrt, ceil, complex, conj, convert_element_type, cos, cosh, div,
    eq, exp, expm1, floor, ge, gt, imag, integer_pow, is_finite, le, log, log1p, logistic, lt,
    max, min, mul, ne, neg, nextafter, pow, real, reciprocal, rem, round, rsqrt, select,
    select_n, shift_left, shift_right_arithmetic, shift_right_logical, sign, sin, sinh, sqrt,
    square, sub, tan, tanh)
from .primitives.indexing import (gather, scatter, scatter_add, scatter_max,  # noqa: F401
                                  scatter_min, scatter_mul)
from .primitives.linalg import dot_general  # noqa: F401
from .primitives.reductions import (argmax, argmin, cummax, cummin, cumprod,  # noqa: F401
                                    cumsum, reduce_and, reduce_max, reduce_min, reduce_or,
                                    reduce_prod, reduce_sum)
from .primitives.slicing import (bitcast_convert_type, dynamic_slice,  # noqa: F401
                                 dynamic_update_slice, pad, rev, slice, slice_in_dim)
from .primitives.sorting import sort  # noqa: F401
from .primitives.special import (digamma, erf, erf_inv, erfc, lgamma,  # noqa: F401
                                 polygamma)
from .primitives.igamma import igamma, igamma_grad_a, igammac  # noqa: F401
from .primitives.structural import (broadcast_in_dim, concatenate, expand_dims,  # noqa: F401
                                    full, reshape, squeeze, transpose)
from .primitives.structural import iota as broadcasted_iota  # noqa: F401
from .transforms.custom import stop_gradient  # noqa: F401


def iota(dtype, size):
    """``[0, 1, ..., size - 1]`` as a 1-d array of ``dtype``."""
    return broadcasted_iota(dtype, (size,), 0)
from ._lax_misc import (ConvDimensionNumbers, Precision, conv, conv_dimension_numbers,  # noqa: F401,E402
                        conv_general_dilated, conv_general_shape_tuple, dot, dot_general,
                        dynamic_index_in_dim, dynamic_slice_in_dim, dynamic_update_index_in_dim,
                        dynamic_update_slice_in_dim, index_in_dim, slice_in_dim, top_k)
from ._lax_solves import custom_linear_solve, custom_root  # noqa: F401,E402
from ._lax_scan import associative_scan  # noqa: F401,E402
from ._lax_misc import (batch_matmul, broadcast, broadcast_shapes,  # noqa: F401,E402
                        broadcast_to_rank, clamp, collapse, exp2, full_like, sort_key_val,
                        split, tile)
from ._lax_misc import conv_transpose, reduce  # noqa: F401,E402
