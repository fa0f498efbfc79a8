"""gcd and lcm of integer arrays (NumPy's promotion and broadcasting; results as NumPy's,
also at each width's edge values such as ``gcd(int8(-128), 0) == -128``)."""
from __future__ import annotations

from ..primitives import elementwise as ew
from .util import promote_args

__all__ = ["gcd", "lcm"]


def _integer_args(name, x1, x2):
    x1, x2 = promote_args(name, x1, x2)
    if x1.dtype.kind not in "iu":
        raise ValueError(f"{name}: arguments must be integers, got {x1.dtype} (after "
                         f"promotion); convert with .astype(int) (as JAX, floats and bools "
                         f"are rejected)")
    return x1, x2


def gcd(x1, x2, /):
    """Greatest common divisor of ``|x1|`` and ``|x2|`` (0 where both are 0)."""
    return ew.gcd(*_integer_args("gcd", x1, x2))


def lcm(x1, x2, /):
    """Least common multiple of ``|x1|`` and ``|x2|`` (0 where either is 0)."""
    return ew.lcm(*_integer_args("lcm", x1, x2))
