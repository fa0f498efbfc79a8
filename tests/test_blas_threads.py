"""Compiled programs run BLAS with one thread and give the caller its own setting back."""
import numpy as np
import pytest

import lepton
from lepton.backends import blas_threads


def test_compiled_program_restores_the_callers_blas_threads(monkeypatch):
    controls = blas_threads._controls()
    if controls is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    set_threads, get_threads = controls

    before = get_threads()
    set_threads(2)
    if get_threads() != 2:
        set_threads(before)
        pytest.skip("OpenBLAS here runs one thread at most")
    try:
        x = np.ones((64, 64), np.float32)
        f = lepton.jit(lambda a: (a @ a).sum(), backend="cpu")
        assert float(f(x)) == 64 * 64 * 64
        assert get_threads() == 2
    finally:
        set_threads(before)


def test_threads_inside_a_compiled_program(monkeypatch):
    controls = blas_threads._controls()
    if controls is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    set_threads, get_threads = controls
    inside = []

    def run(*args, out=None):
        inside.append(get_threads())
        return "result"

    before = get_threads()
    set_threads(2)
    if get_threads() != 2:
        set_threads(before)
        pytest.skip("OpenBLAS here runs one thread at most")
    try:
        assert blas_threads.limited(run)() == "result"
        assert inside == [1] and get_threads() == 2
        monkeypatch.setenv("LEPTON_BLAS_THREADS", "0")
        assert blas_threads.limited(run) is run
    finally:
        set_threads(before)
