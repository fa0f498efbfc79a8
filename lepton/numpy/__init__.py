"""lepton.numpy: NumPy's API over lepton's primitives, so every transform applies to it.

Semantics follow NumPy, with JAX's dtype rules (float32/int32 defaults, weak Python
scalars; see ``lepton.dtypes``).  Arrays are immutable: use ``x.at[idx].set(v)``.
"""
from __future__ import annotations

import numpy as _np

from .. import dtypes as _dtypes
from ..core import ArrayBase as ndarray  # noqa: F401  (isinstance checks)
from ._creation import *  # noqa: F401,F403
from ._creation import array, asarray  # noqa: F401
from ._shape import *  # noqa: F401,F403
from ._pad import pad  # noqa: F401
from ._ufuncs import *  # noqa: F401,F403
from ._ufuncs import abs, round  # noqa: F401
from .util import broadcast_shapes, broadcast_to  # noqa: F401
from ._reductions import *  # noqa: F401,F403
from ._sorting import *  # noqa: F401,F403
from ._misc import *  # noqa: F401,F403
from ._products import *  # noqa: F401,F403
from . import linalg  # noqa: F401
from . import fft  # noqa: F401  (numpy.fft, as jax.numpy.fft)
from . import random  # noqa: F401  (numpy.random, as autograd.numpy.random)
from ._indexing import *  # noqa: F401,F403
from ._indexing import _getitem, _IndexUpdateHelper  # noqa: F401
from ._math_extra import *  # noqa: F401,F403
from ._shape_extra import *  # noqa: F401,F403
from ._numeric_extra import *  # noqa: F401,F403
from ._index_tricks import *  # noqa: F401,F403
from ._errstate import *  # noqa: F401,F403
from ._compat import *  # noqa: F401,F403
from ._nanquantile import *  # noqa: F401,F403
from ._lookup import *  # noqa: F401,F403
from ._histogram import *  # noqa: F401,F403
from ._insert_delete import *  # noqa: F401,F403
from ._gcd import *  # noqa: F401,F403
from ._grids import *  # noqa: F401,F403
from ._setops import *  # noqa: F401,F403
from ._selection import *  # noqa: F401,F403
from ._float_bits import *  # noqa: F401,F403
from ._polynomial import *  # noqa: F401,F403
from ._windows import *  # noqa: F401,F403

# ----------------------------------------------------------------------------- types
# Scalar types as in jax.numpy: lnp.float32(1.0) is a 0-d float32 array, and lnp.float32
# is accepted as a dtype everywhere (dtype=..., np.dtype(...), x.dtype == lnp.float32).
from ._creation import _scalar_type  # noqa: E402

bool_ = _scalar_type(_dtypes.bool_)
int8, int16, int32, int64 = (_scalar_type(d) for d in (
    _dtypes.int8, _dtypes.int16, _dtypes.int32, _dtypes.int64))
uint8, uint16, uint32, uint64 = (_scalar_type(d) for d in (
    _dtypes.uint8, _dtypes.uint16, _dtypes.uint32, _dtypes.uint64))
float16, float32, float64 = (_scalar_type(d) for d in (
    _dtypes.float16, _dtypes.float32, _dtypes.float64))
complex64, complex128 = _scalar_type(_dtypes.complex64), _scalar_type(_dtypes.complex128)
dtype = _np.dtype
finfo = _np.finfo
iinfo = _np.iinfo
newaxis = None
pi = _np.pi
e = _np.e
inf = _np.inf
nan = _np.nan
euler_gamma = _np.euler_gamma
integer, floating, complexfloating, inexact, number, signedinteger, unsignedinteger = (
    _np.integer, _np.floating, _np.complexfloating, _np.inexact, _np.number,
    _np.signedinteger, _np.unsignedinteger)
generic = _np.generic


def result_type(*args):
    """Promoted dtype of arrays, scalars and dtypes (JAX's lattice; see lepton.dtypes)."""
    from .util import result_type_of
    return result_type_of(*args)[0]


def promote_types(type1, type2):
    return _dtypes.promote((_dtypes.canonicalize(type1), False),
                           (_dtypes.canonicalize(type2), False))[0]


def issubdtype(arg1, arg2):
    return _np.issubdtype(arg1, arg2)


def can_cast(from_, to, casting="safe"):
    if isinstance(from_, ndarray):
        from_ = from_.dtype
    return _np.can_cast(from_, to, casting)


def shape(a):
    return asarray(a).shape


def ndim(a):
    return asarray(a).ndim


def size(a, axis=None):
    s = asarray(a).shape
    return int(_np.prod(s)) if axis is None else s[axis]


from . import _operators  # noqa: E402

_operators.install(__import__(__name__, fromlist=["*"]))

# ----------------------------------------------------------------------------- __all__
# What ``from lepton.numpy import *`` exports: every public function, type and constant
# defined or re-exported above, and this package's submodules (linalg, ...); not the helper
# modules (np, math, operator, builtins, ...) or internals the submodules import.  Computed
# here, at the end, so names added to the submodules are exported without a second list.
_INTERNAL = frozenset({"annotations", "Array", "ArrayBase", "ConcretizationError",
                       "ShapedArray", "Tracer", "broadcast_in_dim", "iota"})
__all__ = sorted(
    _n for _n, _v in list(globals().items())
    if not _n.startswith("_") and _n not in _INTERNAL
    and (type(_v).__name__ != "module" or _v.__name__.startswith(__name__ + ".")))
