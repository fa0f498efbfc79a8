"""The Numba CPU device: its dialect, lowering table, helper kernels and the backend entry.

``backend`` is what ``lepton.backends.get_backend("cpu")`` returns (``compile`` and
``statistics``); the rest are its parts: ``dialect`` (how a kernel is spelled and cached),
``lowering`` (the lowering table), ``helpers`` (scalar functions kernels call as ``K``),
``noalias`` (the serial kernels' compiler pipeline), ``window`` and ``conv`` (direct
kernels), ``allocator`` and ``blas_threads`` (host tuning).  Importing this package alone
imports nothing: the modules load Numba.
"""
