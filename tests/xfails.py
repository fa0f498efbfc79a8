"""Known failures of the compiled backend, as xfail marks for op-table cases.

OTHER_XFAILS lists failures found by the three-size op table that are not fixed yet, each
with its reason (the issue-10 defects it found first are fixed and have no entries).

Keys are (op id, dtype, test) with ``"*"`` matching anything; test is the cpu op table's
size (``small``, ``medium``, ``large``), ``grad`` (its jitted gradients), or test_ops.py's
``eager`` (test_matches_numpy), ``jit-eager``, ``eager-grad`` and ``vmap``.
"""
import fnmatch

import pytest

OTHER_XFAILS = {
    ("mod", "*", "eager-grad"):
        "finite differences of mod step across its jumps for a drawn example (test gen: draw "
        "x/y away from integers)",
    ("linalg.eigh", "*", "eager-grad"):
        "eigh jvp vs float64 finite differences off by 3e-5 (> 1e-5) for a drawn example",
    ("einsum", "*", "vmap-empty-broadcast"):
        "vmap of einsum '...ij,...jk->...ik' where a size-1 batch axis broadcasts against a "
        "size-0 one: dot_general ShapeError (batch dims 1 vs 0) -- a lepton bug, not fixed",
}


def marks(op_id, dtype, size):
    out = []
    for table in (OTHER_XFAILS,):
        for (o, d, s), reason in table.items():
            if all(fnmatch.fnmatchcase(v, p) for v, p in ((op_id, o), (dtype, d), (size, s))):
                out.append(pytest.mark.xfail(strict=False, reason=reason))
                break
    return out
