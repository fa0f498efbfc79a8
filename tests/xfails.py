"""Known failures of the compiled backend, as xfail marks for op-table cases.

ISSUE10_KERN_XFAILS lists cases that fail because of issue 10 defects 1, 3, 4, 5 and 6,
which are being fixed on branch ``kern``: delete the whole list (and nothing else) when that
branch is merged; a case still failing then is a regression.  OTHER_XFAILS lists failures
found by the three-size op table that are not fixed yet, each with its reason.

Keys are (op id, dtype, size) with ``"*"`` matching anything; size is ``small``, ``medium``,
``large`` or ``grad``.
"""
import fnmatch

import pytest

ISSUE10_KERN_XFAILS = {
}

OTHER_XFAILS = {
}


def marks(op_id, dtype, size):
    out = []
    for table in (ISSUE10_KERN_XFAILS, OTHER_XFAILS):
        for (o, d, s), reason in table.items():
            if all(fnmatch.fnmatchcase(v, p) for v, p in ((op_id, o), (dtype, d), (size, s))):
                out.append(pytest.mark.xfail(strict=False, reason=reason))
                break
    return out
