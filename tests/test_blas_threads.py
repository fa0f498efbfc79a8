"""Compiled programs run BLAS with one thread and give the caller its own setting back."""
import numpy as np
import pytest

import lepton
from lepton.backends.cpu import blas_threads


def test_compiled_program_restores_the_callers_blas_threads(monkeypatch):
    controls = blas_threads.blas_controls()
    if controls is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    set_threads, get_threads, _ = controls

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
    controls = blas_threads.blas_controls()
    if controls is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    set_threads, get_threads, _ = controls
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
        monkeypatch.setenv("LEPTON_BLAS_THREADS", "2")
        inside.clear()
        assert blas_threads.limited(run)() == "result" and inside == [2]
        monkeypatch.setenv("LEPTON_BLAS_THREADS", "0")
        assert blas_threads.limited(run) is run
    finally:
        set_threads(before)


def _multithreaded_blas(monkeypatch):
    """OpenBLAS's (set, get, most threads), the adaptive policy on; skips without them."""
    controls = blas_threads.blas_controls()
    if controls is None or controls[2] < 2:
        pytest.skip("needs a multi-threaded OpenBLAS")
    monkeypatch.delenv("LEPTON_BLAS_THREADS", raising=False)
    return controls


def test_large_products_widen_only_when_the_machine_is_free(monkeypatch):
    set_threads, get_threads, most = _multithreaded_blas(monkeypatch)
    seen = []
    monkeypatch.setattr(blas_threads.np, "matmul",
                        lambda a, b: seen.append(get_threads()) or a @ b)
    product = blas_threads.matmul()
    big = np.ones((512, 256), np.float32), np.ones((256, 512), np.float32)
    small = np.ones((8, 8), np.float32), np.ones((8, 8), np.float32)
    before = get_threads()
    set_threads(1)  # as inside a compiled program
    try:
        for busy in (False, True):
            monkeypatch.setattr(blas_threads.neighbours, "contended", lambda: busy)
            seen.clear()
            product(*big)
            product(*small)
            assert seen == [1 if busy else most, 1]
            assert get_threads() == 1
    finally:
        set_threads(before)


def _scripted_neighbours(monkeypatch, clock, samples):
    """A ``_Neighbours`` reading (busy CPU seconds of the machine, CPU seconds of this
    process) from ``samples`` at the times in ``clock``; its first sample is taken at birth."""
    samples, clock = iter(samples), iter(clock)
    monkeypatch.setattr(blas_threads._Neighbours, "_sample",
                        staticmethod(lambda now: (now,) + next(samples)))
    monkeypatch.setattr(blas_threads.time, "monotonic", lambda: next(clock))
    return blas_threads._Neighbours()


def test_neighbours_count_other_processes_only(monkeypatch):
    n = _scripted_neighbours(monkeypatch, [10.0, 10.05, 11.0, 12.0, 12.1],
                             [(100.0, 5.0), (101.9, 6.0), (102.5, 6.5)])
    assert n.contended() is True    # the first window is still open: assume the worst
    assert n.contended() is True    # 1.9 cores busy, 1.0 ours: 0.9 elsewhere
    assert n.contended() is False   # 0.6 busy, 0.5 ours: 0.1 elsewhere
    assert n.contended() is False   # within the window: no new sample


def test_neighbours_decide_after_a_short_first_window(monkeypatch):
    """A warm process decides 0.1 s after the backend loads, not after half a second of
    single-threaded products; later windows are half a second again."""
    n = _scripted_neighbours(monkeypatch, [10.0, 10.15, 10.3, 10.7],
                             [(100.0, 5.0), (100.2, 5.15), (100.3, 5.2)])
    assert n.contended() is False   # 0.2 busy, 0.15 ours over 0.15 s: 0.33 elsewhere
    assert n.contended() is False   # 0.15 s later: inside the half-second window
    assert n.contended() is False   # 0.55 s later: 0.1 busy, 0.05 ours: 0.09 elsewhere


def test_a_program_without_prange_kernels_gives_blas_every_thread_when_free(monkeypatch):
    """No OpenMP threads to share the cores with: BLAS gets them all for the whole call
    (while no other process keeps them busy); a program with a prange kernel, or a loop
    body big enough to get one, keeps BLAS at one thread."""
    from lepton.backends.cpu import backend
    _, get_threads, most = _multithreaded_blas(monkeypatch)
    inside = []

    def spy(x):
        inside.append(get_threads())
        return x

    def f(a, b):
        return lepton.pure_callback(spy, a, a @ b) * 2

    a = np.ones((16, 16), np.float32)
    big = np.ones(1 << 22, np.float32)

    def g(a, b, v):
        return lepton.pure_callback(spy, a, a @ b), lepton.numpy.tanh(v) * 3

    def body(c, v):
        return c + lepton.numpy.tanh(v).sum(), None

    def h(a, b, vs):
        return lepton.pure_callback(spy, a, a @ b), lepton.lax.scan(body, 0.0, vs)[0]

    monkeypatch.setattr(backend, "PARALLEL_WORK", 1 << 21)
    cases = [(f, (a, a), most), (g, (a, a, big), 1),
             (h, (a, a, np.ones((3, 1 << 17), np.float32)), 1)]
    for busy in (False, True):
        monkeypatch.setattr(blas_threads.neighbours, "contended", lambda: busy)
        for fn, args, free in cases:
            inside.clear()
            lepton.jit(fn, backend="cpu")(*args)
            assert inside == [1 if busy else free], (fn.__name__, busy)


def test_neighbours_measure_afresh_after_a_stale_window(monkeypatch):
    """A first compiled call seconds after the backend loaded (a cold program's compile,
    its children busy all along) measures over a new short window, not the old one."""
    n = _scripted_neighbours(monkeypatch, [10.0, 13.0, 13.15],
                             [(100.0, 5.0), (105.8, 5.1), (105.9, 5.2)])
    assert n.contended() is True    # a new window opens at 13.0: assume the worst
    assert n.contended() is False   # 0.1 busy, 0.1 ours over 0.15 s: nothing elsewhere


def test_neighbours_measure_afresh_when_our_compile_children_end(monkeypatch):
    children = [1]
    monkeypatch.setattr(blas_threads.forked, "alive", lambda: children[0])
    n = _scripted_neighbours(monkeypatch, [10.0, 10.2, 10.4, 10.45, 10.6],
                             [(100.0, 5.0), (100.38, 5.2), (100.42, 5.22), (100.5, 5.3)])
    assert n.contended() is True    # a child compiling: 0.38 busy, 0.2 ours, 0.9 elsewhere
    children[0] = 0                 # the compile ends
    assert n.contended() is True    # new window at 10.4 (not the half second from 10.2)
    assert n.contended() is True    # inside it
    assert n.contended() is False   # 0.08 busy, 0.08 ours since 10.4
