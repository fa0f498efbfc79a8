"""The cpu lowering table: one row per primitive that runs as more than its NumPy impl.

Rows are ``lepton.backends.lowering`` rows: ``fused`` (a template of
``lepton/backends/templates.py``, with the cpu's facts: transcendental ops cost ~1000
adds when choosing a parallel kernel; float32 exp/tanh/logistic/sin/cos use the
vectorisable helpers of ``helpers.py`` (``K``), sin/cos only where ``|x| < 2**20``,
else the kernel redoes its loop with libm), ``view`` (index arithmetic: ``index.Leaf``),
``direct`` (window and conv kernels), ``library`` (BLAS products) and ``host``.  A
primitive without a row runs its NumPy impl from the driver (``tests/test_numba_cpu.py``
pins which do).
"""
from __future__ import annotations

import numpy as np

from ..lowering import VIEW, Table, direct, fused, library, reduction
from . import blas_threads, conv, window


_f = fused


def _transcendental(name, fast_f32=None, guard=None):
    return fused(name, transcendental=True, fast_f32=fast_f32, guard=guard)


_SINCOS_GUARD = "abs({0}) >= np.float32(K.SINCOS_LIMIT)"


# ----------------------------------------------------------------------------- BLAS
def _plain_product(eqn) -> bool:
    """A matrix (or matrix-vector) product that ``np.matmul`` computes as it stands."""
    x, y = (v.aval for v in eqn.invars)
    (xc, yc), batch = eqn.params["dimension_numbers"]
    return (batch == ((), ()) and len(xc) == 1 and 1 <= x.ndim <= 2 and 1 <= y.ndim <= 2
            and x.ndim + y.ndim > 2 and x.dtype == y.dtype == eqn.outvars[0].aval.dtype)


def _product(eqn, slot, drive) -> bool:
    """``dot_general`` of matrices as one BLAS call on (transposed) views, without the impl's
    per-call dimension bookkeeping (loop bodies run it at every step); False for any other
    product (the impl runs it, with wider BLAS threads)."""
    if not _plain_product(eqn):
        return False
    (xc, yc), _ = eqn.params["dimension_numbers"]
    x, y = eqn.invars
    a, b = f"s{slot(x)}", f"s{slot(y)}"
    if x.aval.ndim == 2 and xc[0] == 0:
        a += ".T"
    if y.aval.ndim == 2 and yc[0] == 1:
        b += ".T"
    m = x.aval.shape[1 - xc[0]] if x.aval.ndim == 2 else 1
    n = y.aval.shape[1 - yc[0]] if y.aval.ndim == 2 else 1
    small = not blas_threads.widens(m, x.aval.shape[xc[0]], n)  # never widened: NumPy's
    drive.product(a, b, slot(eqn.outvars[0]), np.matmul if small else None)
    return True


LOWERINGS = Table({
    # elementwise arithmetic, comparisons, bits
    "add": _f("add"), "sub": _f("sub"), "mul": _f("mul"), "neg": _f("neg"),
    "div": _f("div"), "rem": _f("rem"), "integer_pow": _f("integer_pow"),
    "max": _f("max"), "min": _f("min"), "abs": _f("abs"), "sign": _f("sign"),
    "sqrt": _f("sqrt"), "rsqrt": _f("rsqrt"), "floor": _f("floor"), "ceil": _f("ceil"),
    "round": _f("round"), "nextafter": _f("nextafter"), "is_finite": _f("is_finite"),
    "eq": _f("eq"), "ne": _f("ne"), "lt": _f("lt"), "le": _f("le"), "gt": _f("gt"),
    "ge": _f("ge"),
    "not": _f("not"), "and": _f("and"), "or": _f("or"), "xor": _f("xor"),
    "shift_left": _f("shift_left"), "shift_right_arithmetic": _f("shift_right_arithmetic"),
    "shift_right_logical": _f("shift_right_logical"),
    "select_n": _f("select_n"), "convert_element_type": _f("convert_element_type"),
    "real": _f("real"), "imag": _f("imag"), "conj": _f("conj"), "complex": _f("complex"),
    # transcendental: cost 1000; float32 fast versions from helpers.py
    "exp": _transcendental("exp", "K.exp_f32({0})"),
    "tanh": _transcendental("tanh", "K.tanh_f32({0})"),
    "logistic": _transcendental("logistic", "K.logistic_f32({0})"),
    "sin": _transcendental("sin", "K.sin_f32({0})", _SINCOS_GUARD),
    "cos": _transcendental("cos", "K.cos_f32({0})", _SINCOS_GUARD),
    "expm1": _transcendental("expm1"), "log": _transcendental("log"),
    "log1p": _transcendental("log1p"), "tan": _transcendental("tan"),
    "asin": _transcendental("asin"), "acos": _transcendental("acos"),
    "atan": _transcendental("atan"), "sinh": _transcendental("sinh"),
    "cosh": _transcendental("cosh"), "asinh": _transcendental("asinh"),
    "acosh": _transcendental("acosh"), "atanh": _transcendental("atanh"),
    "cbrt": _transcendental("cbrt"), "pow": _transcendental("pow"),
    "atan2": _transcendental("atan2"),
    "erf": _transcendental("erf"), "erfc": _transcendental("erfc"),          # libm, as the
    "lgamma": _transcendental("lgamma"),                                      # reference
    # reductions end a fused loop nest
    "reduce_sum": reduction("reduce_sum"), "reduce_prod": reduction("reduce_prod"),
    "reduce_max": reduction("reduce_max"), "reduce_min": reduction("reduce_min"),
    "reduce_and": reduction("reduce_and"), "reduce_or": reduction("reduce_or"),
    # index arithmetic (``slice`` as an offset and stride, ``pad`` as a bounds check)
    "broadcast_in_dim": VIEW, "transpose": VIEW, "reshape": VIEW, "iota": VIEW,
    "slice": VIEW, "pad": VIEW, "stop_gradient": VIEW,
    # direct kernels (the NumPy impl where they decline)
    "reduce_window_sum": direct(window.emit), "reduce_window_max": direct(window.emit),
    "reduce_window_min": direct(window.emit), "select_and_gather_add": direct(window.emit),
    "select_and_scatter_add": direct(window.emit),
    "conv_general_dilated": direct(conv.emit, blas=True),  # declined: im2col + BLAS
    # library calls
    "dot_general": library(_product),  # others: the impl's batched BLAS
})
