"""Known failures of the compiled backend, as xfail marks for op-table cases.

ISSUE10_KERN_XFAILS lists cases that fail because of issue 10 defects 1, 3, 4, 5 and 6,
which are being fixed on branch ``kern``: delete the whole list (and nothing else) when that
branch is merged; a case still failing then is a regression.  OTHER_XFAILS lists failures
found by the three-size op table that are not fixed yet, each with its reason.

Keys are (op id, dtype, test) with ``"*"`` matching anything; test is the cpu op table's
size (``small``, ``medium``, ``large``), ``grad`` (its jitted gradients), or test_ops.py's
``eager`` (test_matches_numpy), ``jit-eager``, ``eager-grad`` and ``vmap``.
"""
import fnmatch

import pytest

ISSUE10_KERN_XFAILS = {
    ("sign", "float*", "medium"): "issue10 defect 6 (sign of zero), fixed on branch kern",
    ("sign", "float*", "large"): "issue10 defect 6 (sign of zero), fixed on branch kern",
    ("maximum", "float*", "large"): "issue10 defect 6 (sign of zero in the parallel kernel), "
                                    "fixed on branch kern",
    ("minimum", "float*", "large"): "issue10 defect 6 (sign of zero in the parallel kernel), "
                                    "fixed on branch kern",
    # eager lepton warns (inf - inf inside a primitive) where NumPy does not: the silent
    # elementwise and reduction impls of branch kern remove these warnings
    ("isclose", "float*", "eager"): "RuntimeWarning from sub inside isclose; silent "
                                    "elementwise impls on branch kern",
    ("allclose", "float*", "jit-eager"): "RuntimeWarning from sub inside allclose; silent "
                                         "elementwise impls on branch kern",
    ("sum", "float*", "jit-eager"): "RuntimeWarning from an eager reduce where NumPy's order "
                                    "does not warn; silent reduction impls on branch kern",
}

OTHER_XFAILS = {
    ("linalg.eigh", "*", "eager-grad"):
        "eigh jvp vs float64 finite differences off by 3e-5 (> 1e-5) for a drawn example",
    ("einsum", "*", "vmap-empty-broadcast"):
        "vmap of einsum '...ij,...jk->...ik' where a size-1 batch axis broadcasts against a "
        "size-0 one: dot_general ShapeError (batch dims 1 vs 0) -- a lepton bug, not fixed",
}


def marks(op_id, dtype, size):
    out = []
    for table in (ISSUE10_KERN_XFAILS, OTHER_XFAILS):
        for (o, d, s), reason in table.items():
            if all(fnmatch.fnmatchcase(v, p) for v, p in ((op_id, o), (dtype, d), (size, s))):
                out.append(pytest.mark.xfail(strict=False, reason=reason))
                break
    return out
