"""Coverage of the issue's 150 lepton.numpy names by the namespace and by the op table.

Prints the coverage numbers (values / grad / vmap axes); fails if a name is missing from
the namespace or has no op-table row.
"""
from __future__ import annotations

import lepton.numpy as lnp
from lepton.core import PRIMITIVES
from tests.ops import all_ops

NAMES = """
array asarray zeros ones full zeros_like ones_like full_like arange linspace eye meshgrid copy
reshape ravel transpose swapaxes moveaxis expand_dims squeeze broadcast_to concatenate stack
hstack vstack split tile repeat flip roll pad atleast_1d shape diag ndim
take take_along_axis where nonzero diagonal tril triu clip searchsorted
add subtract multiply divide floor_divide mod power negative abs sign reciprocal maximum minimum
exp expm1 log log2 log10 log1p logaddexp sqrt square sin cos tan arcsin arccos arctan arctan2
sinh cosh tanh
floor ceil round trunc nan_to_num isnan isinf isfinite
real imag conj angle
equal not_equal less less_equal greater greater_equal logical_and logical_or logical_not
logical_xor isclose allclose array_equal all any
sum prod mean std var max min argmax argmin cumsum cumprod median percentile quantile
count_nonzero nansum nanmean nanmax nanmin cov
dot vdot matmul inner outer tensordot einsum kron trace
sort argsort unique isin bincount
diff convolve vectorize
""".split()
LINALG = "norm inv det slogdet solve cholesky qr svd eigh pinv".split()
CONSTANTS = ("float16 float32 float64 int8 int16 int32 int64 uint8 uint32 bool_ complex64 "
             "complex128 dtype result_type promote_types finfo iinfo issubdtype can_cast "
             "newaxis pi e inf nan").split()


# Names with no differentiable input: creation from shapes/ranges, metadata, integer counts.
NO_DIFFERENTIABLE_INPUT = {"zeros", "ones", "full", "arange", "linspace", "eye", "shape",
                           "ndim"}


def _rows():
    rows = {}
    for op in all_ops():
        rows.setdefault(op.name, []).append(op)
    return rows


def test_namespace_has_every_name():
    assert len(NAMES) + len(LINALG) == 150
    missing = [n for n in NAMES if not hasattr(lnp, n)]
    missing += [f"linalg.{n}" for n in LINALG if not hasattr(getattr(lnp, "linalg", None), n)]
    missing += [n for n in CONSTANTS if not hasattr(lnp, n)]
    assert not missing, f"missing from lepton.numpy: {missing}"


def test_op_table_coverage():
    rows = _rows()
    names = NAMES + [f"linalg.{n}" for n in LINALG]
    covered = [n for n in names if n in rows]
    grad = [n for n in covered if any(r.grad for r in rows[n])]
    zero = [n for n in covered if n not in grad and any(r.nondiff for r in rows[n])]
    vmap = [n for n in covered if any(r.vmap for r in rows[n])]
    unchecked = sorted(set(covered) - set(grad) - set(zero) - NO_DIFFERENTIABLE_INPUT)
    print(f"\nconformance coverage: values {len(covered)}/150; grad axis "
          f"{len(grad) + len(zero)}/150 ({len(grad)} checked against finite differences to "
          f"2nd order, {len(zero)} verified zero, {len(NO_DIFFERENTIABLE_INPUT)} without a "
          f"differentiable input; unchecked: {unchecked}); vmap axis {len(vmap)}/150 "
          f"(not mapped: {sorted(set(covered) - set(vmap))})")
    missing = sorted(set(names) - set(covered))
    assert not missing, f"names without an op-table row: {missing}"


def test_every_primitive_has_its_rules():
    missing = []
    for name, p in PRIMITIVES.items():
        for rule in ("impl", "abstract_eval", "jvp", "batch"):
            if getattr(p, rule) is None:
                missing.append(f"{name}.{rule}")
        if p.linear and p.transpose is None:
            missing.append(f"{name}.transpose")
    assert not missing, f"primitives lacking rules: {missing}"
