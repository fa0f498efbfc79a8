"""The op table on complex inputs: values against NumPy, jit against eager, the cpu backend
against the reference, vmap against a loop, and gradients against finite differences.

Which rows take complex inputs is decided in ``tests/complex_inputs.py``: every row with
a float dtype is either listed there as taking complex numbers or as real-only, with why.
Gradients follow JAX's convention: for a real-valued ``f`` of a complex ``z = x + iy``,
``grad(f)(z) = df/dx - i df/dy`` (the conjugate of the Wirtinger gradient, times 2), and
``check_grads`` verifies JVPs by complex finite differences and VJPs by the adjoint identity
``Re<ct, J t> = Re<J^T ct, t>``.  Fewer examples than the real suites: the complex kernels
share their code paths with the real ones, so the point is each op's complex rule.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lepton
from lepton import test_util
from tests import xfails
from tests.ops import all_ops, as_numpy_warns, diff_positions, numpy_reference, partial_fn
from tests.complex_inputs import COMPLEX_DTYPES, REAL_ONLY, TAKES_COMPLEX
from tests.test_op_table_cpu import _compare as _compare_cpu
from tests.test_ops import _Counter, _settings, check_matches_numpy

ALL = all_ops()
OPS = [op for op in ALL if op.id in TAKES_COMPLEX]


def test_every_float_row_says_whether_it_takes_complex():
    """A new row must be classified: listed as taking complex inputs, or real-only with a
    reason (so complex coverage cannot silently fall behind the table)."""
    float_rows = {op.id for op in ALL if any(d.startswith("float") for d in op.dtypes)}
    unclassified = float_rows - set(TAKES_COMPLEX) - set(REAL_ONLY)
    assert not unclassified, f"classify these rows in tests/complex_inputs.py: " \
                             f"{sorted(unclassified)}"
    assert not set(TAKES_COMPLEX) & set(REAL_ONLY)
    stale = (set(TAKES_COMPLEX) | set(REAL_ONLY)) - float_rows
    if importlib.util.find_spec("scipy") is None:  # rows whose reference is scipy are absent
        stale = {r for r in stale if not r.startswith("scipy.")}
    assert not stale, f"rows no longer in the table: {sorted(stale)}"


def _cases(test, dtypes=COMPLEX_DTYPES, attr=None):
    return [pytest.param(op, dt, id=f"{op.id}-{dt}", marks=xfails.marks(op.id, dt, test))
            for op in OPS for dt in dtypes if attr is None or getattr(op, attr)]


@pytest.mark.parametrize("op,dtype", _cases("complex-eager"))
def test_complex_matches_numpy(op, dtype):
    check_matches_numpy(op, dtype, examples=5)


@pytest.mark.slow  # cold, each row compiles its complex kernels: CI's slow step runs them
@pytest.mark.parametrize("op,dtype", _cases("complex-cpu", ("complex64",), "jit"))
def test_complex_cpu_matches_reference(op, dtype):
    """The compiled cpu backend (fused kernels or host steps) equals the reference."""
    compared = [0]

    @settings(max_examples=4, **_settings)
    @given(data=st.data())
    def run(data):
        args, kwargs = op.gen(data.draw, dtype, False)
        compared[0] += _compare_cpu(op, dtype, args, kwargs, f"{op.id}-{dtype}") is not None
    run()
    assert compared[0] > 0, f"{op.id}-{dtype}: every drawn input was rejected"


#: Rows whose outputs include eigen- or singular vectors: for complex inputs each vector is
#: defined up to a phase, which LAPACK fixes one way and the derivative rule another (it
#: takes the phase change to be zero, as JAX does), so their grads are checked through the
#: phase-free |v|**2 of every complex output.  Real inputs check the vectors themselves.
GAUGE_DEPENDENT = {"linalg.svd", "linalg.eigh"}


def _phase_free(f):
    import lepton.numpy as lnp

    def g(*xs):
        return lepton.tree.map(lambda o: lnp.abs(o) ** 2 if np.iscomplexobj(o) else o, f(*xs))
    return g


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id,
                                             marks=xfails.marks(op.id, "complex128",
                                                                "complex-grad"))
                                for op in OPS if op.grad])
def test_complex_grads(op):
    """Forward and reverse derivatives of complex inputs, to second order, in complex128."""
    with _Counter(f"complex grad {op}") as count:
        @settings(max_examples=2, **_settings)
        @given(data=st.data())
        def run(data):
            args, kwargs = op.gen(data.draw, "complex128", True)
            diff = diff_positions(op, args, kinds="fc")
            if not diff:
                return
            f = partial_fn(op, args, kwargs, diff)
            if op.id in GAUGE_DEPENDENT:
                f = _phase_free(f)
            test_util.check_grads(f, [args[i] for i in diff], order=op.grad_order,
                                  modes=("fwd", "rev"), atol=1e-5, rtol=1e-5)
            count.n += 1
        run()


@pytest.mark.parametrize("op", [pytest.param(op, id=op.id,
                                             marks=xfails.marks(op.id, "complex64",
                                                                "complex-vmap"))
                                for op in OPS if op.vmap])
def test_complex_vmap_matches_loop(op):
    with _Counter(f"complex vmap {op}") as count:
        @settings(max_examples=2, **_settings)
        @given(data=st.data())
        def run(data):
            args, kwargs = op.gen(data.draw, "complex64", False)
            _, err, _ = numpy_reference(op, args, kwargs)
            if err is not None:
                return
            positions = op.vmap_args if op.vmap_args is not None else tuple(
                i for i, a in enumerate(args) if isinstance(a, np.ndarray))
            in_axes = [None] * len(args)
            batched = list(args)
            for i in positions:
                if data.draw(st.booleans()) or i == positions[-1]:
                    ax = data.draw(st.integers(0, np.ndim(args[i])))
                    other = np.conj(args[i]) if np.iscomplexobj(args[i]) else args[i]
                    batched[i] = np.stack([args[i], other], axis=ax)
                    in_axes[i] = ax
            with as_numpy_warns(True):
                test_util.check_batching(lambda *xs: op.fn(*xs, **kwargs), batched,
                                         tuple(in_axes), atol=1e-4, rtol=1e-4)
            count.n += 1
        run()


# ----------------------------------------------------------------------------- conventions
def test_grad_of_real_functions_of_complex_inputs_follows_jax():
    """Values recorded from JAX 0.10 (jax.grad of each function at 3+4j)."""
    import lepton.numpy as lnp
    z = lnp.asarray(np.complex128(3 + 4j))
    cases = [(lambda z: lnp.abs(z) ** 2, 6 - 8j), (lambda z: lnp.real(z * z), 6 + 8j),
             (lambda z: lnp.abs(z), 0.6 - 0.8j), (lambda z: lnp.angle(z), -0.16 - 0.12j),
             (lambda z: lnp.imag(lnp.exp(z)), -15.200784463067954 + 13.128783081462158j)]
    for f, want in cases:
        np.testing.assert_allclose(complex(lepton.grad(f)(z)), want, rtol=1e-12)
        np.testing.assert_allclose(complex(lepton.grad(lepton.jit(f))(z)), want, rtol=1e-12)


def test_grad_of_norms_and_decompositions_of_complex_matrices_follows_jax():
    """Recorded from JAX 0.10 in complex64: a norm, the singular values, and eigh of a
    Hermitian product (the eigenvector phase gauge must not leak into the gradient)."""
    import lepton.numpy as lnp
    a = lnp.asarray(np.array([[1 + 2j, 3 - 1j], [0.5j, 2]], np.complex128))
    norm = lepton.grad(lambda a: lnp.linalg.norm(a))(a)
    np.testing.assert_allclose(np.asarray(norm), [[0.22792115 - 0.45584231j,
                                                   0.68376346 + 0.22792115j],
                                                  [-0.11396058j, 0.45584231]], atol=1e-6)
    sv = lepton.grad(lambda a: lnp.sum(lnp.linalg.svd(a, compute_uv=False)))(a)
    np.testing.assert_allclose(np.asarray(sv), [[0.4051429 - 0.741797j,
                                                 0.51342016 + 0.14831051j],
                                                [-0.13697729 + 0.5165593j,
                                                 0.84453 + 0.0342443j]], atol=1e-5)
    ev = lepton.grad(lambda a: lnp.sum(lnp.linalg.eigh(a @ a.conj().T)[0]))(a)
    np.testing.assert_allclose(np.asarray(ev), 2 * np.conj(np.asarray(a)), atol=1e-6)


def test_abs_of_complex_zero_has_a_zero_derivative():
    """As JAX: |z| at z = 0 differentiates to 0, not NaN, so norms of vectors with zero
    entries (and Cholesky factors, whose upper triangle is 0) have finite gradients."""
    import lepton.numpy as lnp
    z = lnp.asarray(np.complex128(0))
    assert complex(lepton.grad(lnp.abs)(z)) == 0
    assert complex(lepton.grad(lambda z: lnp.abs(z) ** 2)(z)) == 0
    assert float(lepton.jvp(lnp.abs, (z,), (lnp.asarray(np.complex128(1 + 1j)),))[1]) == 0
    v = lnp.asarray(np.array([3 + 4j, 0, 1j]))
    np.testing.assert_allclose(np.asarray(lepton.grad(lambda v: lnp.sum(lnp.abs(v) ** 2))(v)),
                               2 * np.conj(np.asarray(v)))
    a = np.array([[4, 1 - 1j], [1 + 1j, 3]], np.complex128)
    g = lepton.grad(lambda a: lnp.sum(lnp.abs(lnp.linalg.cholesky(a)) ** 2))(lnp.asarray(a))
    assert np.all(np.isfinite(np.asarray(g)))
