"""The no-alias compiler pipeline of serial cpu kernels."""
from __future__ import annotations

from numba.core.compiler import Compiler


class NoAliasCompiler(Compiler):
    """Numba's compiler with array arguments marked ``noalias``.

    A generated kernel's outputs are fresh arrays that never overlap its inputs.  Saying
    so lets LLVM vectorise loops that write several outputs: without it, LLVM needs a
    run-time overlap check per pair of arrays and gives up beyond a handful (an LSTM
    cell's 15-output kernel ran scalar, 6x slower).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.flags.noalias = True
